"""Hostile protocol input against the real server over stdio, written as raw JSON-RPC frames
(a client library would refuse to send most of these): every request gets exactly one reply and
the server keeps serving."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import SERVER_COMMAND, write_script


class RawClient:
    def __init__(self, tmp_path: Path):
        script = write_script(tmp_path, {"rules": [{"endsWith": "x = ", "text": "42"}]})
        self.process = subprocess.Popen(
            SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.options = {"backend": {"kind": "scripted", "script": str(script)}}

    def send(self, message: dict | bytes) -> None:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def read(self) -> dict:
        stream = self.process.stdout
        assert stream is not None
        length = 0
        while (line := stream.readline().strip()) != b"":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(stream.read(length))

    def reply_to(self, ident: object, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.read()
            if message.get("id") == ident and "method" not in message:
                return message
        raise AssertionError(f"no reply to {ident}")

    def request(self, ident: object, method: str, params: object) -> dict:
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        return self.reply_to(ident)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def raw(tmp_path):
    client = RawClient(tmp_path)
    result = client.request(
        1,
        "initialize",
        {
            "processId": None,
            "rootUri": tmp_path.as_uri(),
            "capabilities": {},
            "initializationOptions": client.options,
        },
    )
    assert "inlineCompletionProvider" in result["result"]["capabilities"]
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    client.uri = (tmp_path / "a.py").as_uri()
    client.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": client.uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "x = ",
                }
            },
        }
    )
    yield client
    client.close()


def completion_params(uri: str, position: object) -> dict:
    return {"textDocument": {"uri": uri}, "position": position, "context": {"triggerKind": 1}}


def assert_still_serving(raw: RawClient, ident: object) -> None:
    reply = raw.request(
        ident,
        "textDocument/inlineCompletion",
        completion_params(raw.uri, {"line": 0, "character": 4}),
    )
    assert reply["result"]["items"][0]["insertText"] == "42"


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(completion_params("file:///a.py", "line five"), id="position-a-string"),
        pytest.param({"textDocument": {"uri": "file:///a.py"}}, id="missing-fields"),
        pytest.param(
            completion_params("file:///a.py", {"line": -1, "character": "x"}), id="wrong-types"
        ),
        pytest.param([1, 2, 3], id="params-a-list"),
    ],
)
def test_unparsable_params_get_invalid_params(raw, params):
    reply = raw.request("bad", "textDocument/inlineCompletion", params)
    assert reply["error"]["code"] == -32602
    assert_still_serving(raw, "good")


def test_garbage_frames_are_survived(raw):
    raw.send(b"{not json at all")
    raw.send(b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": 7}')
    raw.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": "file:///never-opened.py", "version": 2},
                "contentChanges": [{"text": "boo"}],
            },
        }
    )
    assert_still_serving(raw, "after-garbage")


def test_unknown_method_gets_method_not_found(raw):
    reply = raw.request("unknown", "ghosttype/noSuchThing", {})
    assert reply["error"]["code"] == -32601
    assert_still_serving(raw, "after-unknown")


def test_stats_command_with_empty_arguments(raw):
    reply = raw.request(
        "stats", "workspace/executeCommand", {"command": "ghosttype.stats", "arguments": []}
    )
    counters = reply["result"]
    assert isinstance(counters["requests"], int) and isinstance(counters["modelCalls"], int)
    assert set(counters["latencyMs"]) == {"p50", "p95", "p99"}

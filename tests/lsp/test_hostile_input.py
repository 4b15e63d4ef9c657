"""Hostile protocol input (issue 28) against the real `ghosttype serve` over stdio, written as raw
bytes: broken framing, wrong types in every parameter of every method the server handles, unknown
methods, requests before `initialize` and after `shutdown`. Every request gets exactly one reply,
no notification gets one, the process lives on (but for `exit`) and every wait is bounded.

The behaviour these tests define:

Framing. A frame is a header block, a blank line and a body of Content-Length bytes. Header names
are case-insensitive; `\\n` line ends, spaces around the value and unknown headers are accepted.
A header block without a usable Content-Length (missing, not a number, negative, over 64 MiB) is
skipped together with what follows it up to the next Content-Length header: that message gets no
reply, the next one is served. A body ends at its Content-Length or where the next frame's
Content-Length header begins, whichever comes first (JSON never holds a raw line break after
`Content-Length: N`, so a header inside a body means the length was wrong). So a Content-Length
too large costs nothing once the next frame arrives; until then the server waits for the bytes,
as it must for a slow client, and the end of the input ends the process. A body that is no JSON
object (cut short, not JSON, an array, nested too deep) is dropped: it names no request to answer.
Text that is no Unicode (bytes that are not UTF-8, lone surrogate escapes) reads as U+FFFD.

Messages. A request (a method and an integer or string id) gets exactly one reply: a result or an
error: InvalidRequest (-32600) when it is not JSON-RPC 2.0, is a second `initialize` or comes
after `shutdown`; ServerNotInitialized (-32002) before `initialize`; MethodNotFound (-32601) for a
method the server does not have; InvalidParams (-32602) when its params do not fit the method. A
message whose id is no integer or string is dropped: no reply could name it. A notification never
gets a reply; one whose params do not fit is dropped, and so are all but `exit` before
`initialize`; unknown `$/` ones are ignored. `exit` ends the process: 0 after `shutdown`, 1
without. None of this writes a traceback to stderr or shows the user an error, and the server
serves the next request.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SERVER_COMMAND, write_script

TIMEOUT = 10  # seconds for any one reply: the scripted backend answers in milliseconds
INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32600, -32601, -32602
SERVER_NOT_INITIALIZED = -32002


def frame(body: bytes | dict[str, Any], header: bytes | None = None) -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    if header is None:
        header = b"Content-Length: %d\r\n" % len(data)
    return header + b"\r\n" + data


class Peer:
    """The server as a subprocess, written to in raw bytes. A thread reads every frame the server
    writes and counts the replies per id, so a second reply to anything is seen whenever it
    comes; every wait is bounded."""

    def __init__(self, folder: Path):
        rules = [
            {"endsWith": "x = ", "text": "42"},
            {"endsWith": "slow = ", "text": "a" * 100, "tokenDelayMs": 20},
        ]
        script = write_script(folder, {"rules": rules})
        self.options = {
            "backend": {"kind": "scripted", "script": str(script)},
            "completion": {"debounceMs": 0},
        }
        self.folder = folder
        self.uri = (folder / "a.py").as_uri()
        self.process = subprocess.Popen(
            SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.replies: dict[str, list[dict[str, Any]]] = defaultdict(list)  # by json.dumps(id)
        self.requests: set[str] = set()  # ids sent as requests, json.dumps'd
        self.unanswerable: set[str] = set()  # ids in messages that must get no reply
        self.from_server: list[dict[str, Any]] = []  # notifications and requests
        self.stderr = bytearray()
        self.stdout_closed = False
        self.changed = threading.Condition()
        self._ids = 0
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # --- reading ------------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        try:
            while True:
                length = None
                while (line := stream.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                if not line or length is None:
                    return
                message = json.loads(stream.read(length))
                with self.changed:
                    if "method" in message:
                        self.from_server.append(message)
                    else:
                        self.replies[json.dumps(message.get("id"))].append(message)
                    self.changed.notify_all()
        finally:
            with self.changed:
                self.stdout_closed = True
                self.changed.notify_all()

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        while chunk := stream.read1(65536):
            self.stderr += chunk

    def reply_to(self, ident: object, timeout: float = TIMEOUT) -> dict[str, Any]:
        key = json.dumps(ident)
        with self.changed:
            self.changed.wait_for(lambda: key in self.replies or self.stdout_closed, timeout)
            if key not in self.replies:
                raise AssertionError(f"no reply to {ident!r} within {timeout} s")
            return self.replies[key][0]

    # --- writing ------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def new_id(self) -> str:
        self._ids += 1
        return f"r{self._ids}"

    def expect_reply(self, ident: object) -> None:
        self.requests.add(json.dumps(ident))

    def expect_no_reply(self, ident: object) -> None:
        self.unanswerable.add(json.dumps(ident))

    def request(self, method: str, params: Any = None, ident: object = None) -> dict[str, Any]:
        ident = self.new_id() if ident is None else ident
        self.send_request(ident, method, params)
        return self.reply_to(ident)

    def send_request(self, ident: object, method: str, params: Any) -> None:
        self.expect_reply(ident)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
        if params is not None:
            message["params"] = params
        self.write(frame(message))

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.write(frame(message))

    # --- the session --------------------------------------------------------------------------

    def initialize(self, **extra: Any) -> dict[str, Any]:
        params = {
            "processId": None,
            "rootUri": self.folder.as_uri(),
            "capabilities": {},
            "initializationOptions": self.options,
            **extra,
        }
        reply = self.request("initialize", params)
        assert "inlineCompletionProvider" in reply["result"]["capabilities"], reply
        self.notify("initialized", {})
        return reply

    def open(self, uri: str | None = None, text: str = "x = ") -> None:
        document = {"uri": uri or self.uri, "languageId": "python", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": document})

    def completion_request(self, ident: object) -> bytes:
        self.expect_reply(ident)
        return frame(
            {
                "jsonrpc": "2.0",
                "id": ident,
                "method": "textDocument/inlineCompletion",
                "params": completion_params(self.uri),
            }
        )

    def assert_serving(self) -> None:
        """The next request is answered normally: the scripted completion of `x = `."""
        reply = self.request("textDocument/inlineCompletion", completion_params(self.uri))
        assert first_text(reply) == "42", reply
        self.assert_sound()

    def assert_sound(self) -> None:
        """So far: no id answered twice, no reply to what was not a request, alive, no traceback."""
        with self.changed:
            twice = {key: len(got) for key, got in self.replies.items() if len(got) > 1}
            unasked = sorted(set(self.replies) - self.requests)
        assert not twice, f"answered more than once: {twice}"
        assert not unasked, f"replies to no request: {unasked}: {self.replies[unasked[0]]}"
        assert self.process.poll() is None, f"the server died: {self.stderr_text()}"
        assert b"Traceback" not in self.stderr, self.stderr_text()
        assert self.shows_error() == [], "the user was shown an error"

    def stderr_text(self) -> str:
        return self.stderr.decode(errors="replace")[-4000:]

    def shows_error(self) -> list[dict[str, Any]]:
        with self.changed:
            return [
                message
                for message in self.from_server
                if message["method"] == "window/showMessage" and message["params"]["type"] == 1
            ]

    def wait_exit(self, timeout: float = TIMEOUT) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the server did not exit within {timeout} s") from None
        for thread in self._threads:
            thread.join(timeout)
        return code

    def finish(self) -> None:
        """shutdown and exit, then the whole session's count: every request answered once."""
        try:
            if self.process.poll() is None:
                assert "error" not in self.request("shutdown"), "shutdown failed"
                self.notify("exit")
                assert self.wait_exit() == 0
            with self.changed:
                missing = sorted(self.requests - set(self.replies))
                answered = sorted(self.unanswerable & set(self.replies))
                twice = {key: len(got) for key, got in self.replies.items() if len(got) > 1}
            assert not missing, f"requests never answered: {missing}"
            assert not answered, f"answered, though they were no request: {answered}"
            assert not twice, f"answered more than once: {twice}"
            assert b"Traceback" not in self.stderr, self.stderr_text()
            assert self.shows_error() == [], "the user was shown an error"
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def first_text(reply: dict[str, Any]) -> object:
    """The first item's text of a completion reply, or the reply when it has none."""
    items = (reply.get("result") or {}).get("items") or [{}]
    return items[0].get("insertText", reply)


def completion_params(uri: str, line: int = 0, character: int = 4) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 1},
    }


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """One initialized server for every case that leaves no state behind."""
    server = Peer(tmp_path_factory.mktemp("hostile"))
    server.initialize()
    server.open()
    server.assert_serving()
    yield server
    server.finish()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Peer]:
    """A server of its own, not initialized: for cases about the session's state."""
    server = Peer(tmp_path)
    yield server
    server.kill()


# --- framing ----------------------------------------------------------------------------------


def request_body(peer: Peer, ident: str) -> bytes:
    """A completion request's body, whose reply is expected or not by the caller."""
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": ident,
            "method": "textDocument/inlineCompletion",
            "params": completion_params(peer.uri),
        }
    ).encode()


SERVED = [
    # (name, header block before the blank line, with {n} for the body's length)
    ("lower-case-name", b"content-length: {n}\r\n"),
    ("no-space", b"Content-Length:{n}\r\n"),
    ("spaces-around-the-value", b"Content-Length:   {n}  \r\n"),
    ("newline-line-ends", b"Content-Length: {n}\n"),
    (
        "content-type-first",
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: {n}\r\n",
    ),
    (
        "content-type-after",
        b"Content-Length: {n}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n",
    ),
    ("unknown-headers", b"X-Foo: bar\r\nContent-Length: {n}\r\nX-Empty:\r\nno colon at all\r\n"),
    ("non-utf8-header", b"X-Bytes: \xff\xfe\x00\r\nContent-Length: {n}\r\n"),
    ("huge-header-first", b"X-Huge: " + b"a" * 1_000_000 + b"\r\nContent-Length: {n}\r\n"),
    ("huge-header-after", b"Content-Length: {n}\r\nX-Huge: " + b"a" * 1_000_000 + b"\r\n"),
    ("length-given-twice", b"Content-Length: 3\r\nContent-Length: {n}\r\n"),
]


@pytest.mark.parametrize("header", [header for _, header in SERVED], ids=[n for n, _ in SERVED])
def test_lenient_headers_are_served(peer: Peer, header: bytes) -> None:
    ident = peer.new_id()
    body = request_body(peer, ident)
    peer.expect_reply(ident)
    peer.write(frame(body, header.replace(b"{n}", b"%d" % len(body))))
    assert first_text(peer.reply_to(ident)) == "42"
    peer.assert_serving()


UNUSABLE = [
    ("missing", b""),
    ("only-other-headers", b"Content-Type: application/vscode-jsonrpc\r\n"),
    ("not-a-number", b"Content-Length: abc\r\n"),
    ("negative", b"Content-Length: -{n}\r\n"),
    ("empty", b"Content-Length: \r\n"),
    ("a-fraction", b"Content-Length: {n}.0\r\n"),
    ("two-numbers", b"Content-Length: {n} {n}\r\n"),
    ("over-64-mib", b"Content-Length: 1000000000000\r\n"),
    ("5000-digits", b"Content-Length: " + b"9" * 5000 + b"\r\n"),
    ("a-million-digits", b"Content-Length: " + b"1" * 1_000_000 + b"\r\n"),
]


@pytest.mark.parametrize("header", [header for _, header in UNUSABLE], ids=[n for n, _ in UNUSABLE])
def test_a_frame_without_a_usable_length_is_skipped(peer: Peer, header: bytes) -> None:
    ident = peer.new_id()
    body = request_body(peer, ident)
    peer.expect_no_reply(ident)
    # The next frame follows at once, glued to the skipped body as a careless client would.
    after = peer.new_id()
    peer.write(
        frame(body, header.replace(b"{n}", b"%d" % len(body))) + peer.completion_request(after)
    )
    assert first_text(peer.reply_to(after)) == "42"
    peer.assert_serving()


@pytest.mark.parametrize("shortfall", [1, 10, 100])
def test_a_length_too_small_drops_the_message(peer: Peer, shortfall: int) -> None:
    ident = peer.new_id()
    body = request_body(peer, ident)
    peer.expect_no_reply(ident)
    after = peer.new_id()
    peer.write(frame(body, b"Content-Length: %d\r\n" % (len(body) - shortfall)))
    peer.write(peer.completion_request(after))
    assert first_text(peer.reply_to(after)) == "42"
    peer.assert_serving()


@pytest.mark.parametrize("excess", [1, 100, 100_000])
def test_a_length_too_large_ends_at_the_next_frame(peer: Peer, excess: int) -> None:
    # The body is whole and the next frame's header shows where it ends: both are served. The
    # server cannot know the length was wrong before the next frame comes: it waits for it.
    ident, after = peer.new_id(), peer.new_id()
    body = request_body(peer, ident)
    peer.expect_reply(ident)
    peer.write(frame(body, b"Content-Length: %d\r\n" % (len(body) + excess)))
    peer.write(peer.completion_request(after))
    assert first_text(peer.reply_to(ident)) == "42"
    assert first_text(peer.reply_to(after)) == "42"
    peer.assert_serving()


@pytest.mark.parametrize("kept", [0.1, 0.5, 0.99])
def test_a_truncated_body_then_a_valid_frame(peer: Peer, kept: float) -> None:
    ident, after = peer.new_id(), peer.new_id()
    body = request_body(peer, ident)
    peer.expect_no_reply(ident)
    truncated = b"Content-Length: %d\r\n\r\n" % len(body) + body[: int(len(body) * kept)]
    peer.write(truncated + peer.completion_request(after))
    assert first_text(peer.reply_to(after)) == "42"
    peer.assert_serving()


BROKEN_BODIES = [
    ("empty", b""),
    ("not-json", b"{not json at all"),
    ("cut-short", b'{"jsonrpc": "2.0", "id": "cut", "method": "shutdown"'),
    ("invalid-utf8-outside-strings", b'{"jsonrpc": "2.0", \xff\xfe "method": "initialized"}'),
    ("a-number", b"7"),
    ("a-string", b'"textDocument/inlineCompletion"'),
    ("null", b"null"),
    ("a-batch", b'[{"jsonrpc": "2.0", "id": "batched", "method": "shutdown"}]'),
    ("nested-too-deep", b"[" * 100_000 + b"]" * 100_000),
    (
        "request-nested-too-deep",
        b'{"jsonrpc": "2.0", "id": "deep", "method": "shutdown", "params": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
    ),
    ("nul-bytes", b"\x00" * 64),
    ("binary-noise", bytes(range(256)) * 4),
]


@pytest.mark.parametrize(
    "body", [body for _, body in BROKEN_BODIES], ids=[n for n, _ in BROKEN_BODIES]
)
def test_a_body_that_is_no_json_object_is_dropped(peer: Peer, body: bytes) -> None:
    for ident in ("cut", "batched", "deep"):
        peer.expect_no_reply(ident)
    peer.write(frame(body))
    peer.assert_serving()


def test_invalid_utf8_in_strings_reads_as_replacement_characters(peer: Peer) -> None:
    uri = peer.folder.as_uri().encode() + b"/b\xff.py"
    # A cut-off euro sign and an overlong "/" in the text, a stray byte in the file name.
    text = b'x = \\"\xe2\x82\\"\\n\xc0\xafx = '
    peer.write(
        frame(
            b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": '
            b'{"uri": "%s", "languageId": "python", "version": 1, "text": "%s"}}}' % (uri, text)
        )
    )
    ident = peer.new_id()
    peer.expect_reply(ident)
    peer.write(
        frame(
            b'{"jsonrpc": "2.0", "id": "%s", "method": "textDocument/inlineCompletion", "params": '
            b'{"textDocument": {"uri": "%s"}, "position": {"line": 1, "character": 6}, '
            b'"context": {"triggerKind": 1}}}' % (ident.encode(), uri)
        )
    )
    # The document was opened under the U+FFFD spelling of its name and is completed there.
    assert first_text(peer.reply_to(ident)) == "42"
    peer.assert_serving()


def test_lone_surrogates_in_strings(peer: Peer) -> None:
    uri = peer.folder.as_uri() + "/surrogate.py"
    peer.open(uri, "s = '\ud800'\nx = ")
    reply = peer.request("textDocument/inlineCompletion", completion_params(uri, 1, 4))
    assert first_text(reply) == "42"
    reply = peer.request("textDocument/inlineCompletion", completion_params("file:///\udc00", 0, 0))
    assert reply["result"]["items"] == [], reply
    peer.assert_serving()


def test_large_messages(peer: Peer) -> None:
    # A document too large to complete in (8M characters) is still read...
    uri = peer.folder.as_uri() + "/large.py"
    peer.open(uri, "# " + "a" * 10_000_000 + "\nx = ")
    reply = peer.request("textDocument/inlineCompletion", completion_params(uri, 1, 4))
    assert reply["result"]["items"] == []
    peer.notify("textDocument/didClose", {"textDocument": {"uri": uri}})  # neighbours cost
    # ...and a message over 64 MiB is skipped, unread, up to the next frame.
    ident, after = peer.new_id(), peer.new_id()
    peer.expect_no_reply(ident)
    huge = request_body(peer, ident).replace(b'.py"', b".py#" + b"a" * (65 << 20) + b'"', 1)
    peer.write(frame(huge) + peer.completion_request(after))
    assert first_text(peer.reply_to(after)) == "42"
    peer.assert_serving()


def test_garbage_between_frames(peer: Peer) -> None:
    ident = peer.new_id()
    peer.write(
        b"\r\n\r\n\n\x00\xffgarbage: yes\r\n\r\n" + peer.completion_request(ident) + b"\r\n\r\n"
    )
    assert first_text(peer.reply_to(ident)) == "42"
    peer.assert_serving()


def test_frames_arriving_a_byte_at_a_time_and_several_at_once(peer: Peer) -> None:
    first, second, third = peer.new_id(), peer.new_id(), peer.new_id()
    for byte in peer.completion_request(first):
        peer.write(bytes([byte]))
    peer.write(peer.completion_request(second) + peer.completion_request(third))
    for ident in (first, second, third):
        assert "result" in peer.reply_to(ident)
    peer.assert_serving()


def test_end_of_input_inside_a_body_ends_the_server(fresh: Peer) -> None:
    # The irrecoverable frame: a length larger than what will ever follow. The server waits for
    # the rest (a slow client looks the same); when the input ends, it exits without a traceback.
    fresh.initialize()
    fresh.write(b'Content-Length: 1000\r\n\r\n{"jsonrpc": "2.0"')
    fresh.process.stdin.close()  # type: ignore[union-attr]
    assert fresh.wait_exit() in (0, 1)
    assert b"Traceback" not in fresh.stderr, fresh.stderr_text()


def test_end_of_input_inside_a_header_ends_the_server(fresh: Peer) -> None:
    fresh.initialize()
    fresh.write(b"Content-Length: 10\r\nX-Half: a header without its line e")
    fresh.process.stdin.close()  # type: ignore[union-attr]
    assert fresh.wait_exit() in (0, 1)
    assert b"Traceback" not in fresh.stderr, fresh.stderr_text()


# --- messages that are not quite requests ------------------------------------------------------


def test_not_json_rpc_2_gets_invalid_request(peer: Peer) -> None:
    for jsonrpc in ["1.0", 2, None, "absent"]:
        ident = peer.new_id()
        message: dict[str, Any] = {"id": ident, "method": "textDocument/inlineCompletion"}
        message["params"] = completion_params(peer.uri)
        if jsonrpc != "absent":
            message["jsonrpc"] = jsonrpc
        peer.expect_reply(ident)
        peer.write(frame(message))
        assert peer.reply_to(ident)["error"]["code"] == INVALID_REQUEST
        peer.notify("textDocument/didOpen", 5)  # a notification: no reply
        peer.write(frame({k: v for k, v in message.items() if k != "id"}))
    peer.assert_serving()


@pytest.mark.parametrize("ident", [None, 1.5, True, [1], {"a": 1}], ids=repr)
def test_a_request_with_an_id_no_reply_can_name_is_dropped(peer: Peer, ident: object) -> None:
    # LSP ids are integers or strings: these messages are no requests a reply could address.
    peer.expect_no_reply(ident)
    peer.write(
        frame(
            {
                "jsonrpc": "2.0",
                "id": ident,
                "method": "textDocument/inlineCompletion",
                "params": completion_params(peer.uri),
            }
        )
    )
    peer.assert_serving()


def test_integer_and_odd_string_ids_are_answered(peer: Peer) -> None:
    for ident in [0, -1, 2**31, 2**63, 10**30, "", " ", "😀", "r1" * 1000]:
        reply = peer.request("textDocument/inlineCompletion", completion_params(peer.uri), ident)
        assert first_text(reply) == "42"
    peer.assert_serving()


def test_responses_nobody_asked_for_are_ignored(peer: Peer) -> None:
    for message in [
        {"jsonrpc": "2.0", "id": "never-sent", "result": None},
        {"jsonrpc": "2.0", "id": 12345, "result": {"a": [1]}},
        {"jsonrpc": "2.0", "id": "never-sent", "error": {"code": -32603, "message": "x"}},
        {"jsonrpc": "2.0", "id": "never-sent", "error": "not an error object"},
        {"jsonrpc": "2.0", "id": "never-sent", "error": {"code": "x"}},
        {"jsonrpc": "2.0", "id": None, "result": 1},
        {"jsonrpc": "2.0", "result": 1},
        {"jsonrpc": "2.0"},
        {},
    ]:
        peer.write(frame(message))
    peer.assert_serving()


def test_cancelled_and_superseded_requests_are_answered_once(peer: Peer) -> None:
    slow = peer.folder.as_uri() + "/slow.py"
    peer.open(slow, "slow = ")
    params = completion_params(slow, 0, 7)
    cancelled, first, second = peer.new_id(), peer.new_id(), peer.new_id()
    peer.send_request(cancelled, "textDocument/inlineCompletion", params)
    for ident in [cancelled, cancelled, [cancelled], "no-such-request", 12345]:
        peer.notify("$/cancelRequest", {"id": ident})
    reply = peer.reply_to(cancelled)
    assert reply.get("error", {}).get("code") == -32800 or "result" in reply, reply
    peer.notify("$/cancelRequest", {"id": cancelled})  # late: its reply is out
    # A newer request for the same document ends the older one with an empty list.
    peer.send_request(first, "textDocument/inlineCompletion", params)
    peer.send_request(second, "textDocument/inlineCompletion", params)
    assert peer.reply_to(first)["result"]["items"] == []
    assert first_text(peer.reply_to(second)) == "a" * 100
    peer.assert_serving()


def test_framing_over_tcp(tmp_path: Path) -> None:
    """`serve --tcp` reads frames as stdio does: a broken frame costs its own message only."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*SERVER_COMMAND, "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.05)  # polling for the port to open, bounded by the deadline
        with connection, connection.makefile("rb") as replies:
            script = write_script(tmp_path, {"rules": [{"endsWith": "x = ", "text": "42"}]})
            options = {"backend": {"kind": "scripted", "script": str(script)}}
            initialize = {"capabilities": {}, "initializationOptions": options}
            connection.sendall(
                b"Content-Length: 5\r\n\r\n{bad"
                + frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize})
                + frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
            )
            answered = []
            while len(answered) < 2:
                length = 0
                while (line := replies.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                assert line, "the connection closed"
                message = json.loads(replies.read(length))
                if "method" not in message:
                    answered.append(message)
            assert [message["id"] for message in answered] == [1, 2]
            assert "inlineCompletionProvider" in answered[0]["result"]["capabilities"]
            connection.sendall(frame({"jsonrpc": "2.0", "method": "exit"}))
            assert process.wait(TIMEOUT) == 0
        assert process.stderr is not None
        assert b"Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()


# --- unknown methods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["ghosttype/noSuchThing", "$/noSuchThing", "textDocument/completion", "", "😀"]
)
def test_unknown_request_gets_method_not_found(peer: Peer, method: str) -> None:
    assert peer.request(method, {})["error"]["code"] == METHOD_NOT_FOUND
    peer.assert_serving()


@pytest.mark.parametrize(
    "method",
    [
        "ghosttype/noSuchThing",
        "$/noSuchThing",
        "$/setTrace",
        "$/progress",
        "",
        "textDocument/didSave",
    ],
)
def test_unknown_notification_gets_nothing(peer: Peer, method: str) -> None:
    peer.notify(method, {"token": 1, "value": {"kind": "end"}})
    peer.notify(method, [1, 2])
    peer.notify(method)
    peer.assert_serving()


def test_a_method_that_is_not_a_string(peer: Peer) -> None:
    for method in [5, None, ["shutdown"], {"a": 1}]:
        ident = peer.new_id()
        peer.expect_reply(ident)
        peer.write(frame({"jsonrpc": "2.0", "id": ident, "method": method}))
        assert peer.reply_to(ident)["error"]["code"] == INVALID_REQUEST
        peer.write(frame({"jsonrpc": "2.0", "method": method}))
    peer.assert_serving()


# --- the session's lifecycle --------------------------------------------------------------------

REQUESTS = [
    ("textDocument/inlineCompletion", "completion"),
    ("workspace/executeCommand", {"command": "ghosttype.stats", "arguments": []}),
    ("workspace/executeCommand", {"command": "ghosttype.accepted", "arguments": [{"id": "x"}]}),
    ("shutdown", None),
    ("ghosttype/noSuchThing", {}),
    ("$/noSuchThing", {}),
]


def lifecycle_requests(peer: Peer) -> list[tuple[str, Any]]:
    return [
        (method, completion_params(peer.uri) if params == "completion" else params)
        for method, params in REQUESTS
    ]


def all_notifications(peer: Peer) -> None:
    peer.open()
    peer.notify("initialized", {})
    peer.notify("workspace/didChangeConfiguration", {"settings": {"backend": {"kind": "openai"}}})
    change = {"textDocument": {"uri": peer.uri, "version": 2}, "contentChanges": [{"text": "y"}]}
    peer.notify("textDocument/didChange", change)
    peer.notify("textDocument/didClose", {"textDocument": {"uri": peer.uri}})
    peer.notify("$/cancelRequest", {"id": 1})
    peer.notify("$/noSuchThing", {})


def test_before_initialize_requests_get_server_not_initialized(fresh: Peer) -> None:
    for method, params in lifecycle_requests(fresh):
        assert fresh.request(method, params)["error"]["code"] == SERVER_NOT_INITIALIZED, method
    all_notifications(fresh)  # dropped: the document is not open after initialize
    assert fresh.request("initialize", [1])["error"]["code"] == INVALID_PARAMS
    fresh.initialize()
    reply = fresh.request("textDocument/inlineCompletion", completion_params(fresh.uri))
    assert reply["result"]["items"] == []
    # Nothing started before initialize: the first status is the scripted backend loading.
    statuses = [m["params"] for m in fresh.from_server if m["method"] == "ghosttype/status"]
    assert statuses[0]["message"] == "starting the scripted backend", statuses
    fresh.open()
    fresh.assert_serving()
    fresh.finish()


def test_after_shutdown_requests_get_invalid_request(fresh: Peer) -> None:
    fresh.initialize()
    fresh.open()
    fresh.assert_serving()
    assert fresh.request("shutdown")["result"] is None
    for method, params in [*lifecycle_requests(fresh), ("initialize", {"capabilities": {}})]:
        assert fresh.request(method, params)["error"]["code"] == INVALID_REQUEST, method
    all_notifications(fresh)
    fresh.assert_sound()
    fresh.notify("exit", [1])  # exit's params, whatever they are, do not matter
    assert fresh.wait_exit() == 0
    fresh.finish()


def test_exit_without_shutdown_exits_with_1(fresh: Peer) -> None:
    fresh.initialize()
    fresh.open()
    fresh.assert_serving()
    fresh.notify("exit", {"a": 1})
    assert fresh.wait_exit() == 1
    fresh.finish()


def test_exit_before_initialize_exits_with_1(fresh: Peer) -> None:
    fresh.notify("exit")
    assert fresh.wait_exit() == 1
    fresh.finish()


@pytest.mark.parametrize(
    "odd",
    [
        {"processId": None, "rootUri": None, "rootPath": None, "workspaceFolders": None},
        {"rootUri": "not a uri at all", "workspaceFolders": [], "trace": "verbose"},
        {
            "rootUri": "file:///nonexistent/%00/dir",
            "rootPath": "/also/missing",
            "workspaceFolders": [{"uri": "http://example.com/x", "name": ""}],
            "locale": "",
            "clientInfo": {"name": "\x00", "version": "😀"},
        },
    ],
    ids=["nothing-optional", "not-a-uri", "other-schemes"],
)
def test_initialize_with_odd_but_valid_params(fresh: Peer, odd: dict[str, Any]) -> None:
    fresh.initialize(**odd)
    fresh.open()
    fresh.assert_serving()
    fresh.finish()


# --- wrong types in every parameter of every method ----------------------------------------------

WRONG: list[Any] = [
    None,
    True,
    0,
    -1,
    2**31,
    10**30,
    1.5,
    "",
    "x",
    "\x00😀",
    [],
    [1, "a"],
    {},
    {"a": 1},
]


Template = tuple[bool, Any, list[tuple[str, Any]]]


def templates(peer: Peer) -> dict[str, Template]:
    """A valid message of every method the shared server can take again: (is a request, params,
    the notifications that set the stage for it). Its documents are others than the one
    `assert_serving` completes in, opened again before each case that needs them open."""
    other, fuzz = peer.folder.as_uri() + "/other.py", peer.folder.as_uri() + "/fuzz.py"
    position = {"line": 0, "character": 1}

    def opened(uri: str, text: str) -> list[tuple[str, Any]]:
        document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
        return [("textDocument/didOpen", {"textDocument": document})]

    return {
        "initialize": (
            True,
            {
                "processId": 1,
                "rootUri": peer.folder.as_uri(),
                "capabilities": {
                    "general": {"positionEncodings": ["utf-8"]},
                    "workspace": {"configuration": False},
                    "window": {"workDoneProgress": False},
                },
                "initializationOptions": peer.options,
                "workspaceFolders": [{"uri": peer.folder.as_uri(), "name": "w"}],
            },
            [],
        ),
        "initialized": (False, {}, []),
        "textDocument/didOpen": (
            False,
            {"textDocument": {"uri": other, "languageId": "python", "version": 1, "text": "y = "}},
            [],
        ),
        "textDocument/didChange": (
            False,
            {
                "textDocument": {"uri": other, "version": 2},
                "contentChanges": [
                    {"range": {"start": position, "end": position}, "text": "z"},
                    {"text": "y = "},
                ],
            },
            opened(other, "y = 1\nz = 2\n"),
        ),
        "textDocument/didClose": (False, {"textDocument": {"uri": other}}, opened(other, "y = ")),
        "textDocument/inlineCompletion": (
            True,
            {
                "textDocument": {"uri": fuzz},
                "position": {"line": 0, "character": 4},
                "context": {
                    "triggerKind": 2,
                    "selectedCompletionInfo": {
                        "range": {"start": position, "end": position},
                        "text": "y",
                    },
                },
            },
            opened(fuzz, "x = \ny = 2\n"),
        ),
        "workspace/didChangeConfiguration": (
            False,
            {"settings": {"ghosttype": {"completion": {"debounceMs": 0}}}},
            [],
        ),
        "workspace/executeCommand#accepted": (
            True,
            {"command": "ghosttype.accepted", "arguments": [{"id": "gt-1"}]},
            [],
        ),
        "workspace/executeCommand#stats": (
            True,
            {"command": "ghosttype.stats", "arguments": []},
            [],
        ),
        "$/cancelRequest": (False, {"id": "no-such-request"}, []),
    }


def mutations(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every way to replace one value (the whole params included) by one of another type, or to
    leave out one key: (path, replacement); a replacement of `...` means "left out"."""
    for wrong in WRONG:
        if type(wrong) is not type(value) or wrong != value:
            yield path, wrong
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*path, key), ...
            yield from mutations(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from mutations(inner, (*path, index))


def mutated(value: Any, path: tuple[Any, ...], replacement: Any) -> Any:
    if not path:
        return replacement
    copy = dict(value) if isinstance(value, dict) else list(value)
    head, *rest = path
    if replacement is ... and not rest:
        del copy[head]
    else:
        copy[head] = mutated(value[head], tuple(rest), replacement)
    return copy


def send_and_check(peer: Peer, method: str, template: Template, params: Any) -> None:
    """One message with these params: a request gets exactly one reply (a result or an error in
    a few kinds), a notification none; then the next request is served normally."""
    is_request, _, setup = template
    for notification in setup:
        peer.notify(*notification)
    method = method.split("#")[0]
    if is_request:
        reply = peer.request(method, params)
        if "error" in reply:
            assert reply["error"]["code"] in (INVALID_PARAMS, INVALID_REQUEST), reply
    else:
        peer.notify(method, params)
    peer.assert_serving()


def test_wrong_types_in_every_parameter(peer: Peer) -> None:
    cases = [
        (method, template, mutated(template[1], path, replacement))
        for method, template in templates(peer).items()
        for path, replacement in mutations(template[1])
    ]
    assert len(cases) > 1000
    started = time.monotonic()
    for method, template, params in cases:
        try:
            send_and_check(peer, method, template, params)
        except AssertionError as error:
            raise AssertionError(f"after {method} with {params!r}: {error}") from None
    assert peer.shows_error() == []
    # Each case is two round trips to a live server; a slow one would be a hang in small.
    assert time.monotonic() - started < 60


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(data=st.data())
def test_arbitrary_json_params(peer: Peer, data: st.DataObject) -> None:
    """Arbitrary JSON as the params of each method, or in one place inside valid ones."""
    cases = templates(peer)
    method = data.draw(st.sampled_from(sorted(cases)))
    paths = sorted({path for path, _ in mutations(cases[method][1])}, key=repr)
    params = mutated(cases[method][1], data.draw(st.sampled_from(paths)), data.draw(JSON))
    try:
        send_and_check(peer, method, cases[method], params)
    except AssertionError as error:
        raise AssertionError(f"after {method} with {params!r}: {error}") from None


def test_cursor_move_notifications_with_bad_places_are_ignored(peer: Peer) -> None:
    """ghosttype/didMoveCursor (a cue, no reply): a place that is not one costs nothing."""
    for params in [
        None,
        5,
        {"position": "nowhere"},
        {"textDocument": {"uri": peer.uri}},
        {"textDocument": {"uri": peer.uri}, "position": {"line": 10**6, "character": 0}},
        {"textDocument": {"uri": peer.uri}, "position": {"line": -1, "character": "x"}},
        {
            "textDocument": {"uri": "file:///never/opened.py"},
            "position": {"line": 0, "character": 0},
        },
        {"textDocument": {"uri": peer.uri}, "position": {"line": 0, "character": 2}},
    ]:
        peer.notify("ghosttype/didMoveCursor", params)
    peer.assert_serving()

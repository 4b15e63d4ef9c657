"""backend.auditLog with the HTTP backends, through the backend host, against protocol fakes: each
request's line holds the path and the JSON body exactly as the server received it (the prompt
built here, or prefix and suffix apart for the server's own template), the URL without
credentials, and never the API key; a request that failed before it was sent writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ghosttype.backend_host import BackendHost, StatusLine
from ghosttype.backends.base import BackendError, GenerationParams, Usage
from ghosttype.config import BackendSettings
from ghosttype.context.types import Snippet
from tests.http.helpers import SECRET_KEY, make_backend, make_context, make_prompt
from tests.http.http_fakes import (
    Handler,
    ProtocolFake,
    llamacpp_infill,
    ollama_generate,
    openai_chat,
    vllm_completions,
)

pytestmark = pytest.mark.usefixtures("no_proxy_env")

SNIPPET = Snippet("src/util.py", "def helper(): ...")


async def generate(host: BackendHost, params: GenerationParams) -> str:
    await host.start()
    backend = await host.ready()
    assert backend is not None, host.status.last_error
    prompt = make_prompt(backend, make_context(snippets=(SNIPPET,)))
    pieces = [piece async for piece in host.generate(backend, prompt, params, Usage())]
    return "".join(pieces)


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


CASES = [
    pytest.param(
        "openai", {"model": "qwen2.5-coder-1.5b"}, "/v1/completions", vllm_completions(["a"]),
        id="openai-client-fim",
    ),
    pytest.param(
        "openai", {"model": "qwen2.5-coder-1.5b", "prompt_format": "chat"},
        "/v1/chat/completions", openai_chat(["```python\na\n```"]), id="openai-chat",
    ),
    pytest.param(
        "ollama", {"model": "qwen2.5-coder:1.5b"}, "/api/generate", ollama_generate(["a"]),
        id="ollama-client-fim",
    ),
    pytest.param(
        "ollama", {"model": "qwen2.5-coder:1.5b", "fim": "server"}, "/api/generate",
        ollama_generate(["a"]), id="ollama-server-fim",
    ),
    pytest.param("llamacpp", {}, "/infill", llamacpp_infill(["a"]), id="llamacpp-infill"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "values", "path", "handler"), CASES)
async def test_the_line_holds_the_body_the_server_received(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    values: dict[str, Any],
    path: str,
    handler: Handler,
) -> None:
    monkeypatch.setenv("GHOSTTYPE_AUDIT_TEST_KEY", SECRET_KEY)
    audit = tmp_path / "audit.jsonl"
    async with ProtocolFake() as fake:
        fake.route("POST", path, handler)
        url = fake.url.replace("http://", "http://someone:hunter2@")
        settings = BackendSettings(
            kind=kind,
            url=url,
            api_key_env="GHOSTTYPE_AUDIT_TEST_KEY",
            audit_log=str(audit),
            **values,
        )
        host = BackendHost(settings, StatusLine())
        try:
            text = await generate(host, GenerationParams(max_tokens=24, temperature=0.2, lane=1))
        finally:
            await host.close()
    assert text == "a"
    (received,) = [r for r in fake.requests if r.path == path]
    (line,) = read_lines(audit)
    assert line["request"] == {"path": path, "body": received.json()}
    assert "prompt" not in line
    assert line["purpose"] == "completion" and line["backend"] == kind
    assert line["url"] == fake.url
    assert line["maxTokens"] == 24 and line["temperature"] == 0.2 and line["lane"] == 1
    assert line["model"] == values.get("model", "")
    raw = audit.read_text(encoding="utf-8")
    for secret in (SECRET_KEY, "hunter2", "someone"):
        assert secret not in raw
    assert SECRET_KEY.encode() not in received.body  # the key travels in a header, not logged


async def test_server_side_fim_logs_prefix_and_suffix_apart_even_when_refused(
    tmp_path: Path,
) -> None:
    # vLLM rejects `suffix` (400): the request was still sent, so it is in the log.
    audit = tmp_path / "audit.jsonl"
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(["a"]))
        settings = BackendSettings(
            kind="openai", url=fake.url, model="m", fim="server", audit_log=str(audit)
        )
        host = BackendHost(settings, StatusLine())
        try:
            with pytest.raises(BackendError):
                await generate(host, GenerationParams(max_tokens=8))
        finally:
            await host.close()
    (line,) = read_lines(audit)
    body = line["request"]["body"]
    assert body == fake.requests[0].json()
    assert body["prompt"] == "def add(a, b):\n    return " and body["suffix"] == "\n"


async def test_a_request_that_was_never_built_writes_nothing(tmp_path: Path) -> None:
    # Ollama without a model refuses before it builds a request: nothing went out, no line.
    audit = tmp_path / "audit.jsonl"
    async with ProtocolFake() as fake:
        settings = BackendSettings(kind="ollama", url=fake.url, audit_log=str(audit))
        host = BackendHost(settings, StatusLine())
        backend = make_backend("ollama", fake.url)
        try:
            with pytest.raises(BackendError, match=r"backend\.model is empty"):
                async for _ in host.generate(
                    backend, make_prompt(backend), GenerationParams(max_tokens=8), Usage()
                ):
                    pass
        finally:
            await backend.close()
            await host.close()
        assert fake.requests == []
    assert not audit.exists()


async def test_a_request_whose_connection_failed_is_still_logged(tmp_path: Path) -> None:
    # Handed to the connection, it may have reached the server (or a proxy): logged.
    audit = tmp_path / "audit.jsonl"
    async with ProtocolFake() as fake:
        url = fake.url
    settings = BackendSettings(kind="openai", url=url, model="m", audit_log=str(audit))
    host = BackendHost(settings, StatusLine())
    try:
        with pytest.raises(BackendError, match=r"refused|cannot connect"):
            await generate(host, GenerationParams(max_tokens=8))
    finally:
        await host.close()
    (line,) = read_lines(audit)
    assert line["request"]["path"] == "/v1/completions"
    assert line["request"]["body"]["prompt"].startswith("<|repo_name|>demo")

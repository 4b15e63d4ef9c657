"""Every way a server can fail becomes one BackendError with a message and a hint; none of them
carries the prompt or the key; a failing server is not hammered and is used again once it is back;
closing a generation closes its HTTP stream at once."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from ghosttype.backend_host import (
    BACKOFF_MAX_S,
    BACKOFF_START_S,
    RETRY_AFTER_MAX_S,
    BackendHost,
    Backoff,
    StatusLine,
)
from ghosttype.backends import http
from ghosttype.backends.base import Backend, BackendError, GenerationParams, Usage
from ghosttype.config import BackendSettings
from tests.engine.manual_clock import ManualClock
from tests.http.helpers import (
    SECRET_CODE,
    SECRET_KEY,
    collect,
    make_backend,
    make_context,
    make_prompt,
)
from tests.http.http_fakes import ProtocolFake, Reply, Request, vllm_chunk, vllm_completions

pytestmark = pytest.mark.usefixtures("no_proxy_env")

KEY_ENV = "GHOSTTYPE_TEST_API_KEY"


@pytest.fixture(autouse=True)
def api_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET_KEY)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def fail(backend: Backend) -> BackendError:
    prompt = make_prompt(backend, make_context(prefix=f"x = '{SECRET_CODE}'\n", suffix=""))
    with pytest.raises(BackendError) as raised:
        await collect(backend, prompt)
    error = raised.value
    shown = f"{error} {error.message} {error.hint}"
    assert SECRET_CODE not in shown and SECRET_KEY not in shown
    assert error.message and error.hint
    return error


def status(code: int, headers: dict[str, str] | None = None) -> Callable[..., Any]:
    async def handler(request: Request, reply: Reply) -> None:
        # Servers echo the request in their errors; none of it may reach the user.
        await reply.send(code, {"error": {"message": f"bad request {request.body!r}"}}, headers)

    return handler


# --- the transport -----------------------------------------------------------------------------


async def test_connection_refused() -> None:
    backend = make_backend("openai", f"http://127.0.0.1:{free_port()}")
    error = await fail(backend)
    await backend.close()
    assert "refused the connection" in error.message and "127.0.0.1" in error.message


async def test_dns_failure() -> None:
    backend = make_backend("openai", "http://ghosttype-test.invalid:8000")
    error = await fail(backend)
    await backend.close()
    assert "cannot find the host 'ghosttype-test.invalid'" in error.message
    assert "DNS" in error.message


async def test_server_that_accepts_and_never_answers() -> None:
    async def silent(request: Request, reply: Reply) -> None:
        await asyncio.sleep(30)

    async with ProtocolFake(fallback=silent) as fake:
        backend = make_backend("openai", fake.url, timeout_ms=300)
        started = time.monotonic()
        error = await fail(backend)
        elapsed = time.monotonic() - started
        await backend.close()
    assert "did not answer within 0.3 s" in error.message
    assert "backend.timeoutMs" in error.hint
    assert elapsed < 2


async def test_stream_that_stalls_mid_way_times_out() -> None:
    async def stall(request: Request, reply: Reply) -> None:
        await reply.start()
        await reply.sse(vllm_chunk("a"))
        await asyncio.sleep(30)

    async with ProtocolFake(fallback=stall) as fake:
        backend = make_backend("openai", fake.url, timeout_ms=300)
        error = await fail(backend)
        await backend.close()
    assert "did not answer within" in error.message


async def test_stream_cut_mid_way_keeps_what_arrived() -> None:
    async def cut(request: Request, reply: Reply) -> None:
        await reply.start()
        await reply.sse(vllm_chunk("first"))
        await reply.sse(vllm_chunk(" second"))
        reply.cut()

    async with ProtocolFake(fallback=cut) as fake:
        backend = make_backend("openai", fake.url)
        pieces: list[str] = []
        with pytest.raises(BackendError) as raised:
            async for piece in backend.generate(
                make_prompt(backend), GenerationParams(16), Usage()
            ):
                pieces.append(piece)
        await backend.close()
    assert pieces == ["first", " second"]
    assert "closed the connection in the middle of an answer" in raised.value.message


@pytest.mark.parametrize(
    ("kind", "path", "garbage"),
    [
        pytest.param("openai", "/v1/completions", b'data: {"choices": [{"te\n\n', id="sse-json"),
        pytest.param("openai", "/v1/completions", b"data: [1, 2]\n\n", id="sse-not-object"),
        pytest.param("openai", "/v1/completions", b'data: {"nothing": 1}\n\n', id="no-choices"),
        pytest.param("llamacpp", "/infill", b'data: {"content": 5}\n\n', id="infill-content"),
        pytest.param("ollama", "/api/generate", b'{"response": "a"\n', id="ndjson"),
        pytest.param("ollama", "/api/generate", b"<html>proxy login</html>\n", id="html"),
    ],
)
async def test_malformed_stream(kind: str, path: str, garbage: bytes) -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.start()
        await reply.chunk(garbage)
        await reply.end()

    async with ProtocolFake() as fake:
        fake.route("POST", path, handler)
        backend = make_backend(kind, fake.url, model="m")
        error = await fail(backend)
        await backend.close()
    assert "malformed answer" in error.message and "backend.kind" in error.hint


# --- statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "key_env", "expected_message", "expected_hint"),
    [
        pytest.param(401, KEY_ENV, "rejected the API key (401)", KEY_ENV, id="401-key"),
        pytest.param(403, KEY_ENV, "rejected the API key (403)", KEY_ENV, id="403-key"),
        pytest.param(401, "", "needs an API key (401)", "backend.apiKeyEnv", id="401-no-key"),
        pytest.param(
            401, "GHOSTTYPE_UNSET_VAR", "needs an API key", "empty or unset", id="401-unset-var"
        ),
        pytest.param(
            404,
            "",
            "404 Not Found for /v1/completions with the model 'no-such'",
            "backend.model",
            id="404-model",
        ),
        pytest.param(500, "", "internal error (500)", "server's log", id="500"),
        pytest.param(503, "", "unavailable (503)", "wait", id="503"),
        pytest.param(400, "", "rejected the request (400)", "--log-level debug", id="400"),
    ],
)
async def test_status(code: int, key_env: str, expected_message: str, expected_hint: str) -> None:
    async with ProtocolFake(fallback=status(code)) as fake:
        backend = make_backend("openai", fake.url, model="no-such", api_key_env=key_env)
        error = await fail(backend)
        await backend.close()
    assert expected_message in error.message
    assert expected_hint in error.hint


async def test_api_key_is_sent_as_bearer() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(["x"]))
        backend = make_backend("openai", fake.url, api_key_env=KEY_ENV)
        await collect(backend)
        assert SECRET_KEY not in backend.name
        await backend.close()
    assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET_KEY}"


async def test_credentials_in_the_url_are_not_shown() -> None:
    backend = make_backend("openai", f"http://user:hunter2@127.0.0.1:{free_port()}")
    error = await fail(backend)
    await backend.close()
    assert "hunter2" not in str(error) and "hunter2" not in backend.name


def completions(fake: ProtocolFake) -> list[Request]:
    """The completion requests a fake received (starting a backend also asks for its models)."""
    return [request for request in fake.requests if request.method == "POST"]


def make_host(backend: Backend, clock: ManualClock) -> BackendHost:
    return BackendHost(BackendSettings(kind="openai"), StatusLine(), clock, lambda _: backend)


async def fail_through(host: BackendHost) -> BackendError | None:
    """One request through the host: its error, or None when the host refused it (a pause)."""
    backend = await host.ready()
    if backend is None:
        return None
    stream = host.generate(backend, make_prompt(backend), GenerationParams(max_tokens=8), Usage())
    with pytest.raises(BackendError) as raised:
        async for _ in stream:
            pass
    return raised.value


@pytest.mark.parametrize(
    ("header", "expected"),
    [pytest.param("7", 7.0, id="seconds"), pytest.param(None, None, id="none")],
)
async def test_429_with_retry_after_pauses_requests(
    header: str | None, expected: float | None
) -> None:
    headers = {"Retry-After": header} if header else {}
    async with ProtocolFake(fallback=status(429, headers)) as fake:
        backend = make_backend("openai", fake.url)
        error = await fail(backend)
        assert "rate-limiting" in error.message
        assert error.retry_after_s == expected
        # Through the host, the pause holds: the next requests are refused without reaching
        # the server, for as long as the server asked.
        clock = ManualClock()
        host = make_host(backend, clock)
        assert await fail_through(host) is not None
        for _ in range(5):
            assert await fail_through(host) is None
        assert host.backoff.remaining_s() == (expected or BACKOFF_START_S)
        await host.close()
    assert len(completions(fake)) == 2  # the backend's own, and the host's first


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    seconds = http.parse_retry_after(formatdate(time.time() + 30, usegmt=True))
    assert seconds is not None and 25 < seconds <= 30
    assert http.parse_retry_after("soon") is None
    assert http.parse_retry_after("-5") == 0.0


# --- no retry storm, recovery --------------------------------------------------------------------


async def test_no_retry_storm_then_recovery() -> None:
    healthy = vllm_completions(["ok"])
    state = {"down": True}

    async def flaky(request: Request, reply: Reply) -> None:
        if state["down"]:
            await status(500)(request, reply)
        else:
            await healthy(request, reply)

    async with ProtocolFake(fallback=flaky) as fake:
        clock = ManualClock()
        host = make_host(make_backend("openai", fake.url), clock)
        assert await fail_through(host) is not None
        for _ in range(20):  # a keystroke storm during the pause
            assert await fail_through(host) is None
        assert len(completions(fake)) == 1
        state["down"] = False
        await clock.advance(BACKOFF_START_S)
        backend = await host.ready()
        assert backend is not None
        stream = host.generate(backend, make_prompt(backend), GenerationParams(8), Usage())
        assert "".join([piece async for piece in stream]) == "ok"
        assert host.backoff.failures == 0  # one success ends the pause
        await host.close()


def test_backoff_grows_and_is_capped() -> None:
    clock = ManualClock()
    backoff = Backoff(clock)
    pauses = [backoff.failed(BackendError("down", "start it")) for _ in range(8)]
    assert pauses[:4] == [0.5, 1.0, 2.0, 4.0] and max(pauses) == BACKOFF_MAX_S
    assert (
        backoff.failed(BackendError("slow down", "wait", retry_after_s=1000)) == RETRY_AFTER_MAX_S
    )
    clock.time += 1000
    assert backoff.remaining_s() == 0  # the pause is over: the next request may go
    backoff.succeeded()
    assert backoff.failures == 0


async def test_server_that_comes_up_later() -> None:
    port = free_port()
    clock = ManualClock()
    host = make_host(make_backend("openai", f"http://127.0.0.1:{port}"), clock)
    assert await fail_through(host) is not None
    server = ProtocolFake(fallback=vllm_completions(["back"]))
    server.port = port
    async with server:
        await clock.advance(BACKOFF_START_S)
        backend = await host.ready()
        assert backend is not None and await collect(backend) == "back"
        await host.close()


# --- cancellation ------------------------------------------------------------------------------


async def wait_for(condition: Callable[[], bool]) -> None:
    """Polls a fake's counter (within the 5 s a test may take)."""
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


def endless(sent: list[int]) -> Callable[..., Any]:
    """Streams a token every 10 ms until the client hangs up."""

    async def handler(request: Request, reply: Reply) -> None:
        await reply.start()
        for index in range(2000):
            try:
                await reply.sse(vllm_chunk(f"t{index} "))
            except ConnectionError:
                return
            sent.append(index)
            await asyncio.sleep(0.01)
        await reply.end()

    return handler


async def test_closing_the_generation_closes_the_stream() -> None:
    sent: list[int] = []
    async with ProtocolFake(fallback=endless(sent)) as fake:
        backend = make_backend("openai", fake.url)
        generation = backend.generate(make_prompt(backend), GenerationParams(5000), Usage())
        pieces = [await anext(generation) for _ in range(3)]
        await generation.aclose()  # type: ignore[attr-defined]
        closed_at = len(sent)
        await asyncio.sleep(0.3)
        assert fake.disconnects == 1
        assert len(sent) <= closed_at + 2  # the fake noticed and stopped
        # The backend is healthy afterwards: a cancelled request is not a failure.
        fake.fallback = vllm_completions(["next"])
        assert await collect(backend) == "next"
        await backend.close()
    assert pieces == ["t0 ", "t1 ", "t2 "]


async def test_cancelling_the_task_closes_the_stream() -> None:
    sent: list[int] = []
    async with ProtocolFake(fallback=endless(sent)) as fake:
        backend = make_backend("llamacpp", fake.url)
        task = asyncio.create_task(collect(backend, max_tokens=5000))
        await wait_for(lambda: len(sent) >= 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        closed_at = len(sent)
        await asyncio.sleep(0.3)
        assert fake.disconnects == 1 and len(sent) <= closed_at + 2
        await backend.close()


# --- proxies and certificates ---------------------------------------------------------------


async def test_https_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """trust_env: the request goes to the proxy named by HTTP(S)_PROXY, as an absolute URL."""
    async with ProtocolFake(fallback=vllm_completions(["via proxy"])) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        backend = make_backend("openai", "http://team-gpu.invalid:8000")
        assert await collect(backend) == "via proxy"
        await backend.close()
    assert proxy.requests[0].target == "http://team-gpu.invalid:8000/v1/completions"


async def test_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ProtocolFake(fallback=vllm_completions(["direct"])) as server:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing there
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        backend = make_backend("openai", server.url)
        assert await collect(backend) == "direct"
        await backend.close()


def test_ca_bundle_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from ghosttype import config

    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("not used")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert config.ca_bundle() == str(bundle)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    assert config.ca_bundle() == str(bundle)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert config.ca_bundle() is None


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no default trust store knows (an in-house CA's, say)."""
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


async def test_tls_with_an_in_house_ca(
    monkeypatch: pytest.MonkeyPatch, self_signed: tuple[str, str]
) -> None:
    import ssl

    cert, key = self_signed
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    async with ProtocolFake(fallback=vllm_completions(["secure"]), tls=tls) as fake:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        untrusted = make_backend("openai", fake.url)
        error = await fail(untrusted)
        await untrusted.close()
        assert "TLS certificate" in error.message and "SSL_CERT_FILE" in error.hint
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
        trusted = make_backend("openai", fake.url)
        assert await collect(trusted) == "secure"
        await trusted.close()


async def test_a_kept_alive_connection_closed_by_the_server_is_retried_once() -> None:
    """llama-server drops idle connections after 5 s; reusing one just then must not fail."""
    healthy = vllm_completions(["ok"])

    async def drops_the_second(request: Request, reply: Reply) -> None:
        if len(fake.requests) == 2:
            reply.cut()  # closes before answering anything
        else:
            await healthy(request, reply)

    async with ProtocolFake(fallback=drops_the_second) as fake:
        backend = make_backend("openai", fake.url)
        assert await collect(backend) == "ok"
        assert await collect(backend) == "ok"
        await backend.close()
    assert len(fake.requests) == 3


async def test_a_server_that_always_hangs_up_is_not_retried_forever() -> None:
    async def hang_up(request: Request, reply: Reply) -> None:
        reply.cut()

    async with ProtocolFake(fallback=hang_up) as fake:
        backend = make_backend("openai", fake.url)
        error = await fail(backend)
        await backend.close()
    assert "closed the connection" in error.message
    assert len(fake.requests) == 2

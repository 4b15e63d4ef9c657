"""Recovery through the engine: an HTTP model server fails (dies mid-stream, hangs, garbage,
429, 5xx), then comes back; the engine answers with empty lists while it is down, tells the status
line once, does not hammer it during the backoff, and answers again without a restart. The time
from the fault's end to the first good answer is measured in clock time (the backoff), printed
(`pytest -s`) and asserted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ghosttype.backend_host import BACKOFF_MAX_S, BACKOFF_START_S
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine
from tests.engine.manual_clock import ManualClock
from tests.http.http_fakes import ProtocolFake, Reply, Request, vllm_chunk, vllm_completions

pytestmark = pytest.mark.usefixtures("no_proxy_env")

GOOD = "compute(1, 2)"
# How often the person "types" while the server is down, in clock time.
KEYSTROKE_S = 0.1


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


async def _500(request: Request, reply: Reply) -> None:
    await reply.send(500, {"error": {"message": "boom"}})


async def _503(request: Request, reply: Reply) -> None:
    await reply.send(503, {"error": {"message": "loading"}})


async def _429(request: Request, reply: Reply) -> None:
    await reply.send(429, {"error": {"message": "slow down"}}, {"Retry-After": "3"})


async def _garbage(request: Request, reply: Reply) -> None:
    await reply.start()
    await reply.chunk(b'data: {"choices": [{"te\n\n')
    await reply.end()


async def _dies_mid_stream(request: Request, reply: Reply) -> None:
    await reply.start()
    await reply.sse(vllm_chunk("comp"))
    reply.cut()


async def _hangs(request: Request, reply: Reply) -> None:
    await asyncio.sleep(30)


async def _slow_headers(request: Request, reply: Reply) -> None:
    await asyncio.sleep(30)  # accepted, the headers never come within the timeout
    await reply.start()


FAULTS: dict[str, tuple[Callable[..., Any], str, float]] = {
    # name: (handler, what the status error says, the pause the first failure starts)
    "500": (_500, "internal error (500)", BACKOFF_START_S),
    "503": (_503, "unavailable (503)", BACKOFF_START_S),
    "429-retry-after": (_429, "rate-limiting", 3.0),
    "garbage": (_garbage, "malformed answer", BACKOFF_START_S),
    "dies-mid-stream": (_dies_mid_stream, "in the middle of an answer", BACKOFF_START_S),
    "hangs": (_hangs, "did not answer within", BACKOFF_START_S),
    "slow-headers": (_slow_headers, "did not answer within", BACKOFF_START_S),
}


class Switchable:
    """The fake server's one handler: the fault while `down`, a good answer otherwise."""

    def __init__(self, fault: Callable[..., Any]):
        self.fault = fault
        self.down = True
        self.healthy = vllm_completions([GOOD])
        self.posts = 0

    async def __call__(self, request: Request, reply: Reply) -> None:
        if request.method == "POST":
            self.posts += 1
        await (self.fault if self.down else self.healthy)(request, reply)


def make_engine(url: str, clock: ManualClock, statuses: list[tuple[str, str]]) -> Engine:
    settings = with_overrides(
        Settings(),
        backend={"kind": "openai", "url": url, "model": "qwen2.5-coder-1.5b", "timeout_ms": 300},
        completion={"debounce_ms": 0},
    )
    return Engine(settings, status=lambda s, m: statuses.append((s, m)), clock=clock)


async def keystroke(engine: Engine, n: int) -> list[str]:
    # A new state each time (a growing comment above the line), so no cache answers it.
    text = "# " + "a" * n + "\nx = "
    document = engine.documents.open("file:///w/a.py", text, "python", n + 1)
    reply = await engine.complete(document, len(text))
    return [item.text for item in reply.items]


async def recover(engine: Engine, server: Switchable, clock: ManualClock, first: int) -> float:
    """Ends the fault and types until the first good answer: the clock time it took."""
    server.down = False
    ended = clock.now()
    for n in range(first, first + 1000):
        if GOOD in await keystroke(engine, n):
            return clock.now() - ended
        await clock.advance(KEYSTROKE_S)
    raise AssertionError("no good answer after the fault ended")


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_engine_recovers_after_one_failure(fault: str) -> None:
    handler, said, pause = FAULTS[fault]
    server = Switchable(handler)
    clock = ManualClock()
    statuses: list[tuple[str, str]] = []
    async with ProtocolFake(fallback=server) as fake:
        engine = make_engine(fake.url, clock, statuses)
        assert await engine.wait_ready() is None
        # The fault: no exception, no good answer (a cut stream may keep what arrived).
        assert GOOD not in await keystroke(engine, 0)
        assert server.posts == 1
        # A keystroke storm inside the pause reaches no server and repeats no message.
        for n in range(1, 4):
            await clock.advance(KEYSTROKE_S / 10)
            assert await keystroke(engine, n) == []
        assert server.posts == 1
        errors = [m for s, m in statuses if s == "error"]
        assert len(errors) == 1 and said in errors[0]
        took = await recover(engine, server, clock, 10)
        await engine.close()
    print(f"\n{fault}: first good answer {took:.2f} s (clock) after the fault ended")
    # The first request after the pause goes through: recovery is the pause, within a keystroke.
    assert pause - 0.3 <= took <= pause + KEYSTROKE_S + 1e-9
    assert statuses[-1][0] == "ready"


async def test_engine_recovers_after_a_long_outage_within_the_backoff_cap() -> None:
    """Down for 30 s of typing: the backoff grows to its cap, the server is asked about once per
    pause (not per keystroke), and the first good answer comes within one cap after it is back."""
    server = Switchable(_500)
    clock = ManualClock()
    statuses: list[tuple[str, str]] = []
    async with ProtocolFake(fallback=server) as fake:
        engine = make_engine(fake.url, clock, statuses)
        await engine.wait_ready()
        keystrokes = 300  # 30 s at 10 keystrokes a second
        for n in range(keystrokes):
            assert await keystroke(engine, n) == []
            await clock.advance(KEYSTROKE_S)
        # 0.5 + 1 + 2 + 4 + 8 + 8 + 8 > 30: at most 7 requests reached the server.
        assert 5 <= server.posts <= 7
        assert len([s for s, _ in statuses if s == "error"]) == 1
        took = await recover(engine, server, clock, keystrokes)
        await engine.close()
    print(f"\nlong outage: first good answer {took:.2f} s (clock) after the server came back")
    assert took <= BACKOFF_MAX_S + KEYSTROKE_S

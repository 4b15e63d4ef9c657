"""Typing has priority over an action's model work: the action waits for a pause in the
completion requests, a request that arrives while it generates stops it within a poll, and on
a backend that keeps its prompts (the embedded one) the answer continues where it stopped.
A fake chat backend that keeps prompts stands in for the embedded model (deterministic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from ghosttype.actions import model as action_model
from ghosttype.actions.model import ActionModel, model_host
from ghosttype.backends import ChatMessage, GenerationParams, Usage
from ghosttype.config import ActionsSettings, BackendSettings, Settings, with_overrides
from ghosttype.engine import Engine
from ghosttype.prompts import pick_format

ANSWER = "abcdefghijklmnopqrstuvwxyz" * 2


class SlowChat:
    """Chats one character every 10 ms; says what it was asked and how far each call got."""

    name = "slow-chat"

    def __init__(self, settings: BackendSettings):
        self.prompt_format = pick_format("auto", "")
        self.asked: list[list[ChatMessage]] = []
        self.closed_after: list[int] = []

    async def start(self, progress) -> None:
        return None

    def count_tokens(self, text: str) -> int | None:
        return None

    async def close(self) -> None:
        return None

    def uncached_tokens(self, prompt, lane: int) -> int:
        return 0

    def prefill_rate(self) -> float:
        return 1000.0

    async def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        self.asked.append(list(messages))
        done = messages[-1].content if messages[-1].role == "assistant" else ""
        sent = 0
        try:
            for char in ANSWER[len(done) :][: params.max_tokens]:
                await asyncio.sleep(0.01)
                usage.generated_tokens += 1
                sent += 1
                yield char
        finally:
            self.closed_after.append(sent)


async def test_a_completion_request_stops_the_action_which_then_continues(monkeypatch):
    monkeypatch.setattr(action_model, "QUIET_S", 0.05)
    engine = Engine(Settings(), backend_factory=SlowChat)
    engine.start()
    await engine.wait_ready()
    backend = engine.host.loaded
    asking = asyncio.ensure_future(
        ActionModel(engine, ActionsSettings(model="typing")).ask([ChatMessage("user", "go")])
    )
    await asyncio.sleep(0.25)  # the action is generating
    engine.stats.requests += 1  # a keystroke's completion request arrives
    await asyncio.sleep(0.1)
    stopped = len(backend.closed_after)
    assert stopped == 1 and backend.closed_after[0] < len(ANSWER)
    answer = await asyncio.wait_for(asking, 5)
    assert answer == ANSWER  # continued, not restarted, and nothing lost
    partial = backend.asked[1][-1]
    assert partial.role == "assistant" and ANSWER.startswith(partial.content) and partial.content
    await engine.close()


async def test_the_action_waits_while_requests_keep_coming(monkeypatch):
    monkeypatch.setattr(action_model, "QUIET_S", 0.1)
    engine = Engine(Settings(), backend_factory=SlowChat)
    engine.start()
    await engine.wait_ready()
    backend = engine.host.loaded
    asking = asyncio.ensure_future(
        ActionModel(engine, ActionsSettings(model="typing")).ask([ChatMessage("user", "go")])
    )
    for _ in range(10):  # typing: a request every 50 ms for half a second
        engine.stats.requests += 1
        await asyncio.sleep(0.05)
        assert backend.asked == []
    await asyncio.wait_for(asking, 5)
    assert len(backend.asked) == 1
    await engine.close()


def test_one_setting_picks_the_model_that_serves_actions():
    engine = Engine(Settings())
    assert engine.pause is not None  # by default the cascade's 1.5B is the pause role
    assert model_host(engine, ActionsSettings(model="pause")) is engine.pause.host
    assert model_host(engine, ActionsSettings(model="typing")) is engine.host
    without = Engine(with_overrides(Settings(), pause_backend={"kind": "off"}))
    assert without.pause is None
    assert model_host(without, ActionsSettings(model="pause")) is without.host

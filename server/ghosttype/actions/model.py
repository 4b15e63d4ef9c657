"""The model behind the actions: which host serves them (one function), and chat prompts that
yield to typing.

Typing has priority. Where the action's backend is the one completions use, an action's model
work starts only after QUIET_S without a completion request, and a completion request that
arrives meanwhile stops it within POLL_S (the embedded model stops within one token). The
embedded backend then continues the answer where it stopped once typing pauses again (ChatML
with the answer so far as an open assistant turn; the KV cache keeps the prompt); an HTTP
server serves several requests at once and is not interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..audit import audit_record, utc_now
from ..backend_host import BackendHost
from ..backends import (
    Backend,
    BackendError,
    ChatMessage,
    Chats,
    GenerationParams,
    KeepsPrompts,
    Usage,
)
from ..config import ActionsSettings
from ..engine import Engine
from ..prompts.chatml import chatml_prompt
from .errors import ActionError

QUIET_S = 0.3
POLL_S = 0.02

Progress = Callable[[str], None]


def model_host(engine: Engine, settings: ActionsSettings) -> BackendHost:
    """The host that serves actions: the pause role's where `actions.model` asks for it and the
    engine has one, else the typing role's."""
    if settings.model == "pause" and engine.pause is not None:
        return engine.pause.host
    return engine.host


class ActionModel:
    def __init__(self, engine: Engine, settings: ActionsSettings):
        self.engine = engine
        self.settings = settings
        self.host = model_host(engine, settings)
        # Times typing stopped this action's generation (counted for tests and benchmarks).
        self.preemptions = 0
        self.generated_tokens = 0

    async def ask(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int | None = None,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        """The model's whole answer (stopped early where it loops). Raises ActionError when
        there is no model to ask."""
        loaded = await self.host.ready()
        if loaded is None:
            reason = self.engine.last_error() or "it has not started"
            raise ActionError(f"the model is not available: {reason}")
        backend = loaded
        if not isinstance(backend, Chats):
            raise ActionError(f"the backend {backend.name} cannot answer chat prompts")
        typing_host = self.host is self.engine.host
        shares = typing_host or _both_local(self.host, self.engine.host)
        resumable = isinstance(backend, KeepsPrompts)
        # Lane 1 of the typing model: the person's flow keeps lane 0's KV cache.
        params = GenerationParams(
            max_tokens=max_tokens or self.settings.max_tokens,
            temperature=temperature,
            seed=seed,
            lane=1 if typing_host else 0,
        )
        answer = ""
        while True:
            if shares:
                await self._quiet()
            asked = [*messages, ChatMessage("assistant", answer)] if answer else list(messages)
            usage = Usage()
            pieces: list[str] = []
            requests = self.engine.stats.requests
            task = asyncio.create_task(_consume(backend, asked, params, usage, pieces))
            preempted = False
            try:
                looped = False
                while not task.done():
                    await asyncio.wait({task}, timeout=POLL_S)
                    typing = shares and resumable and self.engine.stats.requests != requests
                    looped = looping(answer + "".join(pieces))
                    if (typing or looped) and not task.done():
                        preempted = not looped
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                        break
                if not preempted and not looped:
                    task.result()
            except BackendError as error:
                raise ActionError(f"the model failed: {error}") from None
            finally:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, BackendError):
                        await task
            self._audit(loaded, asked, params, usage)
            answer += "".join(pieces)
            self.generated_tokens += usage.generated_tokens
            left = params.max_tokens - usage.generated_tokens
            if not preempted or left <= 0:
                return answer
            self.preemptions += 1
            params = replace(params, max_tokens=left)

    def _audit(
        self, backend: Backend, asked: list[ChatMessage], params: GenerationParams, usage: Usage
    ) -> None:
        """backend.auditLog: what an action sent, like every completion request (the HTTP body
        as sent; the ChatML text for the model in this process)."""
        audit = self.host.audit
        if not audit.active:
            return
        prompt = chatml_prompt(asked)
        record = audit_record(
            self.host.settings,
            utc_now(),
            "action",
            backend,
            prompt,
            params,
            usage.sent,
        )
        if record is not None:
            audit.write(record)

    async def _quiet(self) -> None:
        """Waits until no completion request came for QUIET_S."""
        while True:
            seen = self.engine.stats.requests
            await asyncio.sleep(QUIET_S)
            if self.engine.stats.requests == seen:
                return


async def _consume(
    backend: Chats,
    messages: list[ChatMessage],
    params: GenerationParams,
    usage: Usage,
    pieces: list[str],
) -> None:
    stream = backend.chat(messages, params, usage)
    try:
        async for piece in stream:
            pieces.append(piece)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


# Lines of one shape in a row (digits and lists of numbers aside): the model is stuck in a loop,
# writing `assert f(10) == 20`, `assert f(11) == 22`, ... or a growing list, until the limit.
LOOP_LINES = 6
_NUMBERS = re.compile(r"\d+")
_NUMBER_LISTS = re.compile(r"(?:0,\s*)+")


def looping(text: str) -> bool:
    """Whether the answer's last whole lines are one line, or one shape, again and again."""
    lines = text.split("\n")[:-1][-LOOP_LINES:]
    if len(lines) < LOOP_LINES or not lines[0].strip():
        return False
    shapes = {_NUMBER_LISTS.sub("0, ", _NUMBERS.sub("0", line)) for line in lines}
    return len(shapes) == 1


def _both_local(first: BackendHost, second: BackendHost) -> bool:
    """Two embedded models share this machine's cores: the typing one comes first."""
    return first.settings.kind == second.settings.kind == "embedded"

"""Speculative work, all of it low priority and cancelled by any request:

- prefetch: after a reply, the answer for the state after accepting its first suggestion, so an
  accept shows the next suggestion at once. It waits for a pause first (any keystroke cancels it
  before it costs anything); a request for exactly that state waits for it instead of asking anew.
- background model work (`Background`): after a file is opened, the stable start of its prompt
  is evaluated, so the first request there finds it in the model's KV cache; the same for the
  other cues and growths of first_answer.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .documents import Document
from .postprocess import Completion
from .stats import Stats

Answers = tuple[Completion, ...]
# The prefetch waits at least this long, and at least the document's debounce delay, before it
# plans and runs: a keystroke in that time (the usual case while typing) cancels it first.
PREFETCH_IDLE_S = 0.1
WARM_AFTER_S = 0.3  # an editor restoring many tabs opens them in a burst: warm only the last


@dataclass
class _Pending:
    state: tuple[str, int, str]  # (uri, cursor offset, text) after accepting
    task: asyncio.Task[Answers | None]


class Prefetcher:
    def __init__(
        self,
        clock: Clock,
        stats: Stats,
        speculate: Callable[[Document, int, int, str], str],
        answer: Callable[[Document, int], Awaitable[Answers | None]],
    ):
        """`speculate(document, start, end, text)`: the text after that edit (the context
        builder seeds its syntax tree from the document's); `answer(state, offset)`: the answer
        for a speculative state, cached like any other."""
        self.clock = clock
        self.stats = stats
        self._speculate = speculate
        self._answer = answer
        self._pending: _Pending | None = None

    def start(self, document: Document, offset: int, shown: Completion, delay_s: float) -> None:
        text = self._speculate(document, offset, offset + shown.replace_after, shown.text)
        state = (document.uri, offset + len(shown.text), text)
        if self._pending is not None and self._pending.state == state:
            return
        self.cancel()
        self.stats.prefetches += 1
        future = Document(document.uri, text, document.language_id, -1, -1)
        task = asyncio.create_task(self._run(future, state[1], max(PREFETCH_IDLE_S, delay_s)))
        self._pending = _Pending(state, task)

    async def _run(self, future: Document, offset: int, delay_s: float) -> Answers | None:
        await self.clock.sleep(delay_s)
        return await self._answer(future, offset)

    async def answer_for(self, document: Document, offset: int) -> Answers | None:
        """The prefetched answer when one is (being) computed for exactly this state. Raises
        CancelledError when the request itself is cancelled while it waits."""
        pending = self._pending
        if pending is None or pending.state != (document.uri, offset, document.text):
            return None
        with contextlib.suppress(asyncio.CancelledError):
            return await asyncio.shield(pending.task)
        if not pending.task.cancelled():
            raise asyncio.CancelledError  # this request itself was cancelled
        return None

    async def wait(self) -> None:
        """Until the prefetch under way (if any) is done or cancelled."""
        if self._pending is not None:
            await _finished(self._pending.task)

    def cancel(self, uri: str | None = None) -> None:
        """Cancels the prefetch (only if it is for `uri`, when given)."""
        pending = self._pending
        if pending is None or (uri is not None and pending.state[0] != uri):
            return
        if not pending.task.done():
            pending.task.cancel()
        self._pending = None


class Background:
    """One job of low-priority model work at a time: the warm-up after an open or a cue, the
    prefill during a request's debounce, the full prompt's growth after a first answer. A newer
    job replaces it, and a request cancels it when it needs the model; what the job had evaluated
    stays in the KV cache, so the request does not evaluate it again."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self, job: Callable[[], Awaitable[None]], delay_s: float = 0.0) -> None:
        self.cancel()
        self._task = asyncio.create_task(self._run(job, delay_s))

    async def _run(self, job: Callable[[], Awaitable[None]], delay_s: float) -> None:
        if delay_s > 0:
            await self.clock.sleep(delay_s)
        await job()

    async def wait(self) -> None:
        """Until the job under way (if any) is done or cancelled."""
        if self._task is not None:
            await _finished(self._task)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


async def _finished(task: asyncio.Future[Any]) -> None:
    """Waits for another's task without cancelling it when the waiter is cancelled, and without
    its outcome: that is its owner's."""
    await asyncio.wait([task])

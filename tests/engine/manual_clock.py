"""A clock the test moves: the engine's waits (debounce, prefetch idle, warm-up, backoff) end when
the test advances it past them, never by real time passing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ManualClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.time = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.time + seconds, wake)
        self._sleepers.append(entry)
        try:
            await wake
        finally:
            self._sleepers.remove(entry)

    @property
    def sleeping(self) -> int:
        """How many waits are pending."""
        return len(self._sleepers)

    async def advance(self, seconds: float) -> None:
        """Lets the work under way reach its waits, moves time on, wakes the waits that are due
        and lets the woken work run."""
        await settle()
        self.time += seconds
        for deadline, wake in list(self._sleepers):
            if deadline <= self.time and not wake.done():
                wake.set_result(None)
        await settle()


async def settle(rounds: int = 50) -> None:
    """Lets every task that can run without real time passing (the scripted backend with no
    delays) run to its next wait."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], rounds: int = 10_000) -> None:
    """Yields to the event loop until `condition` holds (an event, not a duration)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")

"""Python's cyclic garbage collector, run in the person's pauses instead of in the middle of a
request.

A full collection walks every tracked container, and this server keeps large ones (document line
tuples, identifier sets of neighbour windows): measured 25 ms on a quiet machine and 90-200 ms
under load, landing on whichever keystroke allocated last, which set the server's p99. Nearly all
of the server's garbage is freed by reference counting; the cycles (asyncio futures, tracebacks)
can wait for a pause. So: objects that exist once the server is up are frozen (never scanned
again), automatic collection is off, and a collection runs once nothing has arrived for
`IDLE_S`, or after `LONGEST_S` of uninterrupted traffic so memory stays bounded anyway. Under
uninterrupted traffic a young collection (the objects made since the last one: a cancelled
request's task, future and traceback cycles) runs every `YOUNG_S`: without it a client that never
pauses held ~30 KB per cancelled request for 30 s (benchmarks/soak.py: +47% RSS).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable

IDLE_S = 0.5
LONGEST_S = 30.0
YOUNG_S = 1.0
CHECK_S = 0.25


class IdleCollector:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last_message = clock()
        self.last_collection = clock()
        self.last_young = clock()
        self.collections = 0
        self.young_collections = 0
        self._task: asyncio.Task[None] | None = None

    def touch(self) -> None:
        """A message arrived: not a pause."""
        self.last_message = self._clock()

    def start(self) -> None:
        if self._task is not None:
            return
        gc.freeze()
        gc.disable()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        gc.enable()

    def due(self) -> bool:
        now = self._clock()
        since = now - self.last_collection
        idle = now - self.last_message >= IDLE_S and self.last_message > self.last_collection
        return idle or since >= LONGEST_S

    def young_due(self) -> bool:
        now = self._clock()
        return now - self.last_young >= YOUNG_S and now - self.last_collection >= YOUNG_S

    def collect(self) -> None:
        gc.collect()
        self.collections += 1
        self.last_collection = self.last_young = self._clock()

    def collect_young(self) -> None:
        gc.collect(1)
        self.young_collections += 1
        self.last_young = self._clock()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_S)
            if self.due():
                self.collect()
            elif self.young_due():
                self.collect_young()

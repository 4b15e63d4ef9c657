"""Garbage collection in pauses (server/ghosttype/idle_gc.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from ghosttype import idle_gc
from ghosttype.idle_gc import IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_collects_once_per_pause_and_within_the_longest_interval() -> None:
    clock = Clock()
    collector = IdleCollector(clock)
    assert not collector.due()  # nothing arrived yet
    clock.now += 0.1
    collector.touch()
    clock.now += idle_gc.IDLE_S / 2
    assert not collector.due()  # still typing
    clock.now += idle_gc.IDLE_S
    assert collector.due()
    collector.collect()
    clock.now += 5
    assert not collector.due()  # a long pause is one collection, not one per check
    # Uninterrupted traffic: a collection anyway after the longest interval.
    for _ in range(int(idle_gc.LONGEST_S / 0.1) + 1):
        clock.now += 0.1
        collector.touch()
    assert collector.due()


def test_uninterrupted_traffic_gets_a_young_collection_every_second() -> None:
    # A client that never pauses: cycles made since the last collection (a cancelled request's
    # task and traceback) are freed within YOUNG_S, not only after LONGEST_S.
    clock = Clock()
    collector = IdleCollector(clock)
    made = []

    class Node:
        pass

    for _ in range(int(idle_gc.YOUNG_S / 0.1) - 1):
        clock.now += 0.1
        collector.touch()
        assert not collector.young_due() and not collector.due()
    clock.now += 0.2
    collector.touch()
    assert collector.young_due() and not collector.due()
    gc.disable()
    try:
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        made.append(weakref.ref(node))
        del node
        collector.collect_young()
    finally:
        gc.enable()
    assert made[0]() is None and not collector.young_due()


def test_a_cycle_is_freed_in_the_first_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idle_gc, "IDLE_S", 0.05)
    monkeypatch.setattr(idle_gc, "CHECK_S", 0.01)

    class Node:
        pass

    async def scenario() -> bool:
        collector = IdleCollector()
        collector.start()
        try:
            assert not gc.isenabled()
            node = Node()
            node.self = node  # type: ignore[attr-defined]
            alive = weakref.ref(node)
            del node
            collector.touch()
            await asyncio.sleep(0.01)
            assert alive() is not None  # no collection while messages arrive
            await asyncio.sleep(0.3)
            return alive() is None
        finally:
            collector.stop()
            gc.unfreeze()

    assert asyncio.run(scenario())
    assert gc.isenabled()

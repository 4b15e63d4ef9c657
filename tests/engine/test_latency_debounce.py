"""Latency guards (issue 3): the adaptive debounce follows a human rhythm, pauses do not stretch it."""

from __future__ import annotations

import math
import random

from ghosttype.debounce import MAX_MS, MIN_MS, AdaptiveDebounce


def typed(debounce: AdaptiveDebounce, gaps_s: list[float], start: float = 0.0) -> float:
    now = start
    debounce.observe(now)
    for gap in gaps_s:
        now += gap
        debounce.observe(now)
    return now


def test_delay_covers_nearly_every_gap_of_a_varied_rhythm():
    rng = random.Random(1)
    gaps = [rng.lognormvariate(math.log(0.095), 0.35) for _ in range(2000)]
    debounce = AdaptiveDebounce()
    now = typed(debounce, gaps[:50])
    slower = 0
    for gap in gaps[50:]:
        slower += gap * 1000 > debounce.delay_ms()
        now += gap
        debounce.observe(now)
    assert slower / len(gaps[50:]) < 0.05  # a mid-word model call on under 5% of keystrokes
    assert debounce.delay_ms() < 250


def test_a_pause_does_not_stretch_the_next_delays():
    debounce = AdaptiveDebounce()
    now = typed(debounce, [0.1] * 30)
    before = debounce.delay_ms()
    now = typed(debounce, [1.2], now)  # a pause, not rhythm
    assert debounce.delay_ms() == before


def test_delay_is_clamped_and_fixed_setting_wins():
    fast = AdaptiveDebounce()
    typed(fast, [0.02] * 30)
    assert fast.delay_ms() == MIN_MS
    slow = AdaptiveDebounce()
    typed(slow, [0.9] * 30)
    assert MIN_MS <= slow.delay_ms() <= MAX_MS
    assert AdaptiveDebounce(fixed_ms=40).delay_ms() == 40

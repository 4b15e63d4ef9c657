"""Adaptive debounce: wait a bit longer than the person's gaps between keystrokes usually are, so a
request fires in a pause rather than mid-word (Tabby adapts the same way, clamped 100-1000 ms).

The delay is the typical gap plus three typical deviations (as TCP sizes its retransmission
timeout): human gaps vary (lognormal, not constant), and a delay of a fixed multiple of the mean
fires a model call mid-word on every slower-than-usual keystroke. Gaps much longer than the rhythm
are pauses, not rhythm: counting them would stretch the next delays right when a request matters.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_MS = 100.0
MAX_MS = 1000.0
# A gap longer than this is a pause, not the typing rhythm.
PAUSE_MS = 1500.0
# ... and so is one longer than this many times the current typical gap.
PAUSE_FACTOR = 2.5
DEVIATIONS = 3.0


@dataclass
class AdaptiveDebounce:
    fixed_ms: float | None = None
    # Exponentially weighted mean of the gaps between keystrokes (None until seen).
    typing_gap_ms: float | None = None
    # Exponentially weighted mean absolute deviation of those gaps.
    deviation_ms: float = 0.0
    last_request_s: float | None = None
    weight: float = 0.2

    def observe(self, now_s: float) -> None:
        if self.last_request_s is not None:
            gap = (now_s - self.last_request_s) * 1000
            previous = self.typing_gap_ms
            if previous is None:
                if 0 < gap < PAUSE_MS:
                    self.typing_gap_ms = gap
                    self.deviation_ms = gap / 4
            elif 0 < gap < min(PAUSE_MS, previous * PAUSE_FACTOR):
                self.typing_gap_ms = previous + self.weight * (gap - previous)
                self.deviation_ms += self.weight * (abs(gap - previous) - self.deviation_ms)
        self.last_request_s = now_s

    def delay_ms(self) -> float:
        if self.fixed_ms is not None:
            return self.fixed_ms
        if self.typing_gap_ms is None:
            return 150.0
        # Longer than nearly every gap of this rhythm: the next keystroke, if it comes, comes first.
        delay = self.typing_gap_ms + DEVIATIONS * self.deviation_ms
        return max(MIN_MS, min(MAX_MS, delay))

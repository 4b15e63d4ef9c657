"""Adaptive debounce: wait about as long as the person's usual gap between keystrokes, so a request
fires in a pause rather than mid-word (Tabby adapts the same way, clamped 100-1000 ms)."""

from __future__ import annotations

from dataclasses import dataclass

MIN_MS = 100.0
MAX_MS = 1000.0
# A gap longer than this is a pause, not the typing rhythm.
PAUSE_MS = 1500.0


@dataclass
class AdaptiveDebounce:
    fixed_ms: float | None = None
    # Exponentially weighted mean of the gaps between keystrokes (None until seen).
    typing_gap_ms: float | None = None
    last_request_s: float | None = None
    weight: float = 0.3

    def observe(self, now_s: float) -> None:
        if self.last_request_s is not None:
            gap = (now_s - self.last_request_s) * 1000
            if 0 < gap < PAUSE_MS:
                previous = self.typing_gap_ms
                self.typing_gap_ms = (
                    gap if previous is None else (previous + self.weight * (gap - previous))
                )
        self.last_request_s = now_s

    def delay_ms(self) -> float:
        if self.fixed_ms is not None:
            return self.fixed_ms
        if self.typing_gap_ms is None:
            return 150.0
        # A bit longer than the usual gap: the next keystroke, if it comes, comes before this.
        return max(MIN_MS, min(MAX_MS, self.typing_gap_ms * 1.4))

"""Counters since start, as `ghosttype.stats` reports them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

LATENCY_WINDOW = 2000  # the most recent replies the percentiles describe


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Stats:
    requests: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    cancelled: int = 0
    accepted: int = 0
    generated_tokens: int = 0
    wasted_tokens: int = 0
    prompt_tokens: int = 0
    evaluated_tokens: int = 0
    # Drafted tokens verified in a batch (the pause model's drafts from the typing model's
    # answer), and those the model chose as well.
    drafted_tokens: int = 0
    accepted_tokens: int = 0
    prefetches: int = 0
    prewarms: int = 0
    # Requests answered from a short prompt at a new place (first_answer.py); the full prompts
    # grown after them to an answer, and how many of those answered differently.
    first_answers: int = 0
    # Places the client said the cursor moved to (ghosttype/didMoveCursor).
    cursor_moves: int = 0
    grown: int = 0
    grown_differs: int = 0
    # Answers of the pause role's model (the cascade), and those that differed from the typing
    # role's suggestion shown at the place, so the client was asked to ask again.
    pause_answers: int = 0
    pause_replaced: int = 0
    errors: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    # From a typing reply to the pause role's answer for its place (pauses that lasted).
    pause_answer_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))

    def as_dict(self) -> dict[str, Any]:
        latencies = list(self.latencies_ms)
        return {
            "requests": self.requests,
            "modelCalls": self.model_calls,
            "cacheHits": self.cache_hits,
            "cancelled": self.cancelled,
            "accepted": self.accepted,
            "latencyMs": {
                "p50": round(percentile(latencies, 0.50), 2),
                "p95": round(percentile(latencies, 0.95), 2),
                "p99": round(percentile(latencies, 0.99), 2),
            },
            "generatedTokens": self.generated_tokens,
            "wastedTokens": self.wasted_tokens,
            # Beyond the contract: what explains latency independent of the machine.
            "promptTokens": self.prompt_tokens,
            "evaluatedPromptTokens": self.evaluated_tokens,
            "draftedTokens": self.drafted_tokens,
            "acceptedTokens": self.accepted_tokens,
            "prefetches": self.prefetches,
            "prewarms": self.prewarms,
            "firstAnswers": self.first_answers,
            "cursorMoves": self.cursor_moves,
            "grown": self.grown,
            "grownDiffers": self.grown_differs,
            "pauseAnswers": self.pause_answers,
            "pauseReplaced": self.pause_replaced,
            "pauseAnswerMs": {
                "p50": round(percentile(list(self.pause_answer_ms), 0.50), 2),
                "p90": round(percentile(list(self.pause_answer_ms), 0.90), 2),
                "count": len(self.pause_answer_ms),
            },
            "errors": self.errors,
        }

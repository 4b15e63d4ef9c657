"""The first answer at a place the model's KV cache does not hold.

At a new place (a file just opened, a jump, neighbours chosen anew) the full prompt holds ~900
tokens the KV cache lacks: over 4 s for the 0.5B on 2 cores (~210 prompt tokens/s). No cache
changes that arithmetic, so the first answer there comes from a short prompt (the lines around
the cursor, sized by the measured prefill rate to fit FIRST_ANSWER_PREFILL_S) in lane 1, and the
full prompt then grows in lane 0 in the background (Engine._grow), where the next requests find
it. Each lane is a KV cache of its own: neither evicts the other.
"""

from __future__ import annotations

from .backends import Backend, KeepsPrompts
from .prompts import Prompt

# The prompt evaluation a first answer may spend. On 2 cores with the 0.5B: ~10 tokens of a single
# line at ~30 tokens/s take ~0.35 s, and the prefill overlaps the debounce (~0.15 s), so 0.6 s of
# prefill (~90 tokens at ~150/s) leaves a first answer under 1 s (benchmarks/new_place.py).
FIRST_ANSWER_PREFILL_S = 0.6
# Below this a prompt holds too little code to answer from (the cursor's line and one more).
SHORT_PROMPT_MIN_TOKENS = 48
# The full prompt is still run when it costs at most this many times the budget: the short one's
# answers are less often exact (one-line gaps: exact 6% against 8%, the same pass rate), and a
# cold short prompt costs the budget itself.
FULL_PROMPT_SLACK = 1.5
FULL_LANE = 0
SHORT_LANE = 1
# The same for the pause role's answer in a pause (engine._pause_answer): the 1.5B evaluates ~80
# prompt tokens/s on 2 cores, so its full prompt at a place took 11 s (benchmarks/latency.py);
# the person reads the typing model's suggestion meanwhile, so it may spend more than a first
# answer.
PAUSE_ANSWER_PREFILL_S = 1.0


def short_budget(
    backend: Backend, full: Prompt, prefill_s: float = FIRST_ANSWER_PREFILL_S
) -> int | None:
    """The short prompt's token budget when `full` cannot be evaluated within `prefill_s`; None
    when it can, or when the backend cannot tell (an HTTP server keeps its own cache)."""
    if not isinstance(backend, KeepsPrompts):
        return None
    affordable = max(SHORT_PROMPT_MIN_TOKENS, int(backend.prefill_rate() * prefill_s))
    if backend.uncached_tokens(full, FULL_LANE) <= affordable * FULL_PROMPT_SLACK:
        return None
    return affordable

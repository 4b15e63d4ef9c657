"""Prefix and suffix windows around the cursor, within a token budget.

The prefix window starts at a line boundary (the anchor) that stays put while the person types, so
consecutive prompts share the longest possible token prefix and the model's KV cache is reused. The
anchor moves only when the prefix outgrows its budget (then it jumps forward, leaving room to grow)
or when the cursor moves above it.

The suffix window is small on purpose: in the fill-in-the-middle layout the suffix follows the
prefix, so every keystroke re-evaluates the whole suffix; its length sets the per-keystroke cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..tokens import estimate_tokens

TokenCounter = Callable[[str], int]

# After a jump the prefix fills this share of its budget, leaving the rest to grow into.
REFILL_SHARE = 0.7
SUFFIX_MAX_LINES = 12


@dataclass(frozen=True)
class Windows:
    prefix: str
    suffix: str
    # Offset in the document where the prefix window starts (a line start): the anchor to pass back
    # for the next keystroke.
    anchor: int
    prefix_tokens: int
    suffix_tokens: int


def suffix_window(text: str, offset: int, budget: int, count: TokenCounter) -> tuple[str, int]:
    """Whole lines after the cursor (the rest of the cursor's line always), within `budget`."""
    end = offset
    for _ in range(SUFFIX_MAX_LINES + 1):
        newline = text.find("\n", end)
        candidate_end = len(text) if newline == -1 else newline + 1
        if end > offset and count(text[offset:candidate_end]) > budget:
            break
        end = candidate_end
        if newline == -1:
            break
    suffix = text[offset:end]
    tokens = count(suffix)
    if tokens > budget:  # the cursor's own line alone is too long: cut it by characters
        suffix = suffix[: max(0, budget * 3)]
        tokens = count(suffix)
    return suffix, tokens


def prefix_window(
    text: str,
    offset: int,
    budget: int,
    count: TokenCounter,
    anchor: int | None,
    refill: float = REFILL_SHARE,
) -> tuple[str, int, int]:
    """(prefix, its tokens, anchor). Keeps `anchor` when it still fits; a new anchor fills
    `refill` of the budget."""
    if anchor is not None and 0 <= anchor <= offset and (anchor == 0 or text[anchor - 1] == "\n"):
        prefix = text[anchor:offset]
        tokens = count(prefix)
        if tokens <= budget:
            return prefix, tokens, anchor
    # The whole start of the file when it fits (checked only where it might: no tokenizer gives
    # more than 8 characters a token on code); that anchor then never moves while the file fits.
    if offset <= budget * 8:
        tokens = count(text[:offset])
        if tokens <= budget:
            return text[:offset], tokens, 0
    # Pick a new anchor: a line start such that the prefix fills about `refill` of the budget.
    target = max(1, int(budget * refill))
    start = _line_start_before(text, offset, target * 4)
    if start > 0:
        tokens = count(text[start:offset])
        if 0 < tokens < target:
            # Denser text than the guess's 4 characters a token (runs of indentation are one token
            # each): guess again at this text's own rate, or the prefix stays short of its budget.
            start = _line_start_before(text, offset, target * (offset - start) // tokens)
    while True:
        prefix = text[start:offset]
        tokens = count(prefix)
        if tokens <= budget:
            return prefix, tokens, start
        # Drop the excess share of characters, then move to the next line start.
        drop = len(prefix) * (tokens - target) // tokens
        newline = text.find("\n", start + max(drop, 1) - 1, offset)
        if newline == -1:
            # No line boundary left before the cursor: cut the cursor's line by characters.
            prefix = prefix[-target * 3 :]
            return prefix, count(prefix), offset - len(prefix)
        start = newline + 1


def _line_start_before(text: str, offset: int, characters: int) -> int:
    """The start of the line holding the character `characters` before `offset` (0 past it)."""
    guess = offset - characters
    return text.rfind("\n", 0, guess) + 1 if guess > 0 else 0


def windows(
    text: str,
    offset: int,
    prefix_budget: int,
    suffix_budget: int,
    count: TokenCounter = estimate_tokens,
    anchor: int | None = None,
    refill: float = REFILL_SHARE,
    reclaim: bool = False,
) -> Windows:
    """`reclaim`: the prefix also gets what the suffix leaves of its budget (a one-off request;
    while typing the prefix budget stays put, so the anchor does)."""
    suffix, suffix_tokens = suffix_window(text, offset, suffix_budget, count)
    if reclaim:
        prefix_budget += max(0, suffix_budget - suffix_tokens)
    prefix, prefix_tokens, anchor = prefix_window(
        text, offset, prefix_budget, count, anchor, refill
    )
    return Windows(prefix, suffix, anchor, prefix_tokens, suffix_tokens)

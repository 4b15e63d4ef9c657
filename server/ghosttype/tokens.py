"""The one token estimate, for when no tokenizer is at hand (planning while the model loads,
usage figures from servers that report none)."""

from __future__ import annotations


def estimate_tokens(text: str) -> int:
    """A conservative token count for when the model's tokenizer is not at hand: code tokenizes at
    3-4 ASCII characters per token; count 3, and one token per non-ASCII character."""
    if text.isascii():
        return len(text) // 3 + 1
    ascii_count = sum(1 for c in text if c < "\x80")
    return ascii_count // 3 + (len(text) - ascii_count) + 1

"""Guided decoding at a member access (monitor-guided decoding, Agrawal et al., NeurIPS 2023):
where the receiver before the cursor resolves (symbols/check.py), the next identifier must be one
of its members. While the name is being written, a token that would leave every member's name
is passed over for the model's best one among its top choices that keeps to one; once the name
is complete (a token holds a character that ends it), the model decodes freely again. Where
none of the top choices fits, the guide gives up rather than force an unlikely token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# How many of the model's top choices a guided step looks through.
TOP_CHOICES = 40


def identifier_end(text: str) -> int:
    """The length of the identifier characters `text` starts with."""
    for index, char in enumerate(text):
        if not (char.isalnum() or char in "_$"):
            return index
    return len(text)


class MemberGuide:
    def __init__(self, members: frozenset[str], typed: str = "") -> None:
        self.members = members
        self.name = typed  # the member's name so far (what the person typed, then the model)
        self.active = any(m.startswith(typed) for m in members)

    def allows(self, piece: str) -> bool:
        """Whether `piece` keeps the name on a member's: still a prefix of one, or ending it."""
        end = identifier_end(piece)
        name = self.name + piece[:end]
        if end == len(piece):
            return any(m.startswith(name) for m in self.members)
        return name in self.members

    def choose(
        self,
        first: int,
        logits: Any,
        text_of: Callable[[int], str],
        token_of: Callable[[str], int | None],
    ) -> int:
        """The token to take: the model's own choice where it keeps to a member, else the one
        the model scores highest of those that do: among its top choices, and the tokens that
        spell the start of a member's rest (`_of` after `balance`, which the model may not rank
        high: it had another name in mind). Its own choice where none does (the guide stops)."""
        if self.allows(text_of(first)):
            return first
        import numpy as np

        count = min(TOP_CHOICES, len(logits))
        top = np.argpartition(logits, -count)[-count:]
        allowed = {int(t) for t in top if text_of(int(t)) and self.allows(text_of(int(t)))}
        for member in self.members:
            if member.startswith(self.name) and member != self.name:
                rest = member[len(self.name) :]
                for end in range(1, len(rest) + 1):
                    token = token_of(rest[:end])
                    if token is not None:
                        allowed.add(token)
        if not allowed:
            self.active = False
            return first
        return max(allowed, key=lambda token: float(logits[token]))

    def advance(self, piece: str) -> None:
        """The piece taken: the name grows, or it is complete and decoding is free again."""
        end = identifier_end(piece)
        self.name += piece[:end]
        if end < len(piece):
            self.active = False

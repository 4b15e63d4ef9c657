"""Guided decoding (monitor-guided decoding, Agrawal et al., NeurIPS 2023): where the check
(symbols/check.py) knows which names may come next, the next identifier must be one of them.
Two places: a member access on a resolved receiver (one of its members), and, on an invoked
request, a place where an expression starts (`x = ‸`, `raise ‸`, `return ‸`: a name that exists
somewhere, or no name at all: a literal, a bracket). While the name is being written, a token
that would leave every allowed name is passed over for the model's best one among its top
choices that keeps to one; once the name is complete (a token holds a character that ends it),
the model decodes freely again. Where none of the top choices fits, the guide gives up rather
than force an unlikely token."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any

# How many of the model's top choices a guided step looks through.
TOP_CHOICES = 40
# Beyond this many allowed names continuing the current one, the tokens that spell their rest
# are not gathered (the model's top choices alone are looked through).
MAX_SPELLED = 256
# Literal prefixes an expression may start with (`f"...`, `b'...'`), as identifier characters.
_STRING_PREFIXES = frozenset({"r", "b", "f", "u", "rb", "br", "fr", "rf"})


def identifier_end(text: str) -> int:
    """The length of the identifier characters `text` starts with."""
    for index, char in enumerate(text):
        if not (char.isalnum() or char in "_$"):
            return index
    return len(text)


class SortedNames:
    """Names for prefix questions by bisection: one or more sorted tuples (a large one kept
    between requests, a small one per request), asked together."""

    def __init__(self, *parts: Iterable[str]) -> None:
        self._parts = [p if isinstance(p, tuple) else tuple(sorted(p)) for p in parts]

    def __contains__(self, name: object) -> bool:
        return any(_at(part, str(name)) == name for part in self._parts)

    def has_prefix(self, prefix: str) -> bool:
        return any(_at(part, prefix).startswith(prefix) for part in self._parts)

    def starting_with(self, prefix: str, limit: int) -> list[str] | None:
        """The names that start with `prefix`; None when there are more than `limit`."""
        found: list[str] = []
        for part in self._parts:
            index = bisect.bisect_left(part, prefix)
            while index < len(part) and part[index].startswith(prefix):
                if len(found) == limit:
                    return None
                found.append(part[index])
                index += 1
        return found


def _at(part: tuple[str, ...], prefix: str) -> str:
    index = bisect.bisect_left(part, prefix)
    return part[index] if index < len(part) else ""


class NameGuide:
    def __init__(
        self, members: frozenset[str] | SortedNames, typed: str = "", optional: bool = False
    ) -> None:
        self.names = members if isinstance(members, SortedNames) else SortedNames(members)
        self.name = typed  # the name so far (what the person typed, then the model)
        # At an expression's start the text need not begin with a name at all.
        self.optional = optional
        self.active = self.names.has_prefix(typed)

    def allows(self, piece: str) -> bool:
        """Whether `piece` keeps the name on an allowed one: still a prefix of one, or ending it
        (or, where a name is optional, not starting one: a literal, a bracket)."""
        piece = self._unspaced(piece)
        end = identifier_end(piece)
        name = self.name + piece[:end]
        if self.optional and (not name or name[0].isdigit()):
            return True
        if end == len(piece):
            return self.names.has_prefix(name)
        if self.optional and piece[end] in "'\"" and name.lower() in _STRING_PREFIXES:
            return True
        return name in self.names

    def choose(
        self,
        first: int,
        logits: Any,
        text_of: Callable[[int], str],
        token_of: Callable[[str], int | None],
    ) -> int:
        """The token to take: the model's own choice where it keeps to a name, else the one
        the model scores highest of those that do: among its top choices, and the tokens that
        spell the start of an allowed name's rest (`_of` after `balance`, which the model may
        not rank high: it had another name in mind). Its own choice where none does (the guide
        stops)."""
        if self.allows(text_of(first)):
            return first
        import numpy as np

        count = min(TOP_CHOICES, len(logits))
        top = np.argpartition(logits, -count)[-count:]
        allowed = {int(t) for t in top if text_of(int(t)) and self.allows(text_of(int(t)))}
        for member in self.names.starting_with(self.name, MAX_SPELLED) or ():
            if member != self.name:
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
        """The piece taken: the name grows, or it is complete (or was never begun) and decoding
        is free again."""
        piece = self._unspaced(piece)
        end = identifier_end(piece)
        self.name += piece[:end]
        if end < len(piece) or (self.optional and self.name[:1].isdigit()):
            self.active = False

    def _unspaced(self, piece: str) -> str:
        """Where a name may come but has not begun, spaces before it are no start of it."""
        return piece.lstrip(" \t") if self.optional and not self.name else piece

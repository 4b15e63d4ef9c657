"""Guided decoding (monitor-guided decoding, Agrawal et al., NeurIPS 2023): where the check
(symbols/check.py) knows which names may come next, the next identifier must be one of them.
Two places: a member access on a resolved receiver (one of its members: at the cursor, and on an
invoked request every one the model writes, `MemberMonitor`), and, on an invoked request, a place
where an expression starts (`x = ‸`, `raise ‸`, `return ‸`: a name that exists somewhere, or no
name at all: a literal, a bracket). While the name is being written, a token
that would leave every allowed name is passed over for the model's best one among its top
choices that keeps to one; once the name is complete (a token holds a character that ends it),
the model decodes freely again. Where none of the top choices fits, the guide gives up rather
than force an unlikely token."""

from __future__ import annotations

import bisect
import re
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
        the model scores highest of those that do (`best_allowed`). Its own choice where none
        does (the guide stops)."""
        if self.allows(text_of(first)):
            return first
        chosen = best_allowed(logits, text_of, token_of, self.allows, self.spellings())
        if chosen is None:
            self.active = False
            return first
        return chosen

    def spellings(self) -> list[str]:
        """The rests of the allowed names that continue the one so far (`_of` after
        `balance`): the model may not rank their tokens high, having another name in mind."""
        names = self.names.starting_with(self.name, MAX_SPELLED) or ()
        return [name[len(self.name) :] for name in names if name != self.name]

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


def best_allowed(
    logits: Any,
    text_of: Callable[[int], str],
    token_of: Callable[[str], int | None],
    allows: Callable[[str], bool],
    spellings: Iterable[str],
) -> int | None:
    """The token the model scores highest of those `allows` lets through: among its top
    choices, and the tokens that spell the start of one of `spellings` (allowed as they come).
    None where there is none."""
    import numpy as np

    count = min(TOP_CHOICES, len(logits))
    top = np.argpartition(logits, -count)[-count:]
    allowed = {int(t) for t in top if text_of(int(t)) and allows(text_of(int(t)))}
    for text in spellings:
        for end in range(1, len(text) + 1):
            token = token_of(text[:end])
            if token is not None:
                allowed.add(token)
    if not allowed:
        return None
    return max(allowed, key=lambda token: float(logits[token]))


class MemberMonitor:
    """Every member access the model writes on a receiver the check resolves, the one at the
    cursor and those later in its text (`self.client.send(`): a token may not make a member
    name invented, one the receiver lacks or a start no member has (the monitor of Agrawal et
    al., run at each step). `invented(text)` counts them in the model's text so far;
    `continuations(text, limit)` spells what may come next (symbols/check.py); `before` is
    the cursor's line up to it."""

    def __init__(
        self,
        invented: Callable[[str], int],
        continuations: Callable[[str, int], list[str]],
        before: str,
    ) -> None:
        self._invented = invented
        self._continuations = continuations
        self._before = before[-200:]
        self._last: tuple[str, int] = ("", invented(""))

    def allows(self, written: str, piece: str) -> bool:
        if self._last[0] != written:
            self._last = (written, self._invented(written))
        return self._invented(written + piece) <= self._last[1]

    def spellings(self, written: str) -> list[str]:
        return self._continuations(written, MAX_SPELLED)

    def same_shape(self, written: str, first: str) -> Callable[[str], bool]:
        """What an alternative to the model's own choice `first`, which would invent a member,
        must look like: the model meant a member, so an access it began (`.set`) stays an
        access (`.post`), and the token after a `.` stays a name."""
        if first.startswith("."):
            return lambda piece: piece.startswith(".")
        if _AFTER_DOT.search(self._before + written[-200:]):
            return lambda piece: identifier_end(piece) > 0
        return lambda piece: True

    def mid_access(self, written: str) -> bool:
        """Whether the text ends inside a member access (`self.`, `self.cl`): the next token
        is the monitor's to judge, so none is drafted there."""
        return _MID_ACCESS.search(self._before + written[-200:]) is not None


_MID_ACCESS = re.compile(r"(?:\.|->)\s*[\w$]*$")
_AFTER_DOT = re.compile(r"(?:\.|->)\s*$")

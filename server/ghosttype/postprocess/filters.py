"""Stream filters: pure rules that look at the completion generated so far and say where it is
complete. The engine stops generation at the first cut any rule reports (early stop saves model
time), and applies the same rules once more to the final text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# A rule returns the length to keep when the completion is complete, else None.
StopRule = Callable[[str], int | None]

CLOSERS = frozenset(")]}>\"'`;,: \t")


@dataclass(frozen=True)
class CursorLine:
    """What the rules need to know about the cursor's surroundings."""

    before: str  # the cursor's line up to the cursor
    after: str  # the cursor's line after the cursor
    next_lines: tuple[str, ...] = ()  # a few non-empty lines of the suffix after the cursor's line


def only_closers(text: str) -> bool:
    return all(c in CLOSERS for c in text)


def single_line() -> StopRule:
    """Ends at the end of the first line that has content (a leading newline is allowed, so a
    suggestion can start the next line)."""

    def rule(text: str) -> int | None:
        start = 0
        while True:
            newline = text.find("\n", start)
            if newline == -1:
                return None
            if text[:newline].strip():
                return newline
            start = newline + 1

    return rule


def _indent_width(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def block_end(cursor: CursorLine) -> StopRule:
    """Ends before the first complete line indented less than the block the cursor is in (the
    model has left the block), so a multi-line suggestion does not run on into the code after it."""
    base = (
        _indent_width(cursor.before) if cursor.before.strip() else len(cursor.before.expandtabs(4))
    )
    first_line_continues = bool(cursor.before.strip())

    def rule(text: str) -> int | None:
        lines = text.split("\n")
        position = 0
        for index, line in enumerate(lines[:-1]):  # only complete lines
            if index == 0 and first_line_continues:
                position += len(line) + 1
                continue
            if line.strip() and _indent_width(line) < base:
                return max(0, position - 1)
            position += len(line) + 1
        return None

    return rule


def suffix_reached(cursor: CursorLine) -> StopRule:
    """Ends before a line that repeats the first line of code after the cursor: the model has
    filled the gap and started copying what already follows."""
    targets = [line.strip() for line in cursor.next_lines[:1] if len(line.strip()) >= 2]

    def rule(text: str) -> int | None:
        if not targets:
            return None
        lines = text.split("\n")
        position = 0
        for index, line in enumerate(lines[:-1]):
            if index > 0 and line.strip() == targets[0]:
                return max(0, position - 1)
            position += len(line) + 1
        return None

    return rule


def repetition(times: int = 3) -> StopRule:
    """Ends when the same non-empty line comes `times` times in a row (a model stuck in a loop)."""

    def rule(text: str) -> int | None:
        lines = text.split("\n")[:-1]
        run = 1
        position = 0
        for index, line in enumerate(lines):
            if index and line.strip() and line == lines[index - 1]:
                run += 1
                if run >= times:
                    # Keep the first occurrence only.
                    return position - (len(line) + 1) * (times - 1) - 1
            else:
                run = 1
            position += len(line) + 1
        return None

    return rule


def first_cut(rules: list[StopRule], text: str) -> int | None:
    cuts = [cut for rule in rules if (cut := rule(text)) is not None]
    return min(cuts) if cuts else None

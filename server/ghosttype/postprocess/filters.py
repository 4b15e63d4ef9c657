"""Stream filters: pure rules that look at the completion generated so far and say where it is
complete. The engine stops generation at the first cut any rule reports (early stop saves model
time), and applies the same rules once more to the final text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from .syntax import code_lines_after_cursor_line, indent_width, statement_starts

# A rule returns the length to keep when the completion is complete, else None.
StopRule = Callable[[str], int | None]

CLOSERS = frozenset(")]}>\"'`;,: \t")


@dataclass(frozen=True)
class CursorLine:
    """What the rules need to know about the cursor's surroundings."""

    before: str  # the cursor's line up to the cursor
    after: str  # the cursor's line after the cursor
    next_lines: tuple[str, ...] = ()  # a few non-empty lines of the suffix after the cursor's line
    next_is_blank: bool = False  # the line right after the cursor's line is blank


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


def block_end(cursor: CursorLine) -> StopRule:
    """Ends before the first complete line that leaves the block the cursor is in, so a multi-line
    suggestion does not run on into the code after it. After a line that opens a block (`:` or
    `{`), the block is its body: a line back at the opener's indentation ends it (a closing `}`
    there is kept when the code after the cursor does not already close the block)."""
    code = cursor.before.strip()
    opens = code.endswith((":", "{"))
    base = indent_width(cursor.before)
    closed_after = bool(cursor.next_lines) and cursor.next_lines[0].strip().startswith("}")

    def rule(text: str) -> int | None:
        lines = text.split("\n")
        block = base
        if not code:
            # On a blank line the first line of code sets the block's level: written from the
            # cursor's column, or at its absolute column when the model repeats the indentation.
            first = next((line for line in lines if line.strip()), None)
            if first is None:
                return None
            own = indent_width(first)
            block = own if first is not lines[0] or own >= base else base + own
        position = 0
        for index, line in enumerate(lines[:-1]):  # only complete lines
            width = indent_width(line)
            leaves = line.strip() and (width <= block if opens else width < block)
            if leaves and index > 0:  # the first line continues the cursor's line or sets the block
                if opens and line.strip().startswith("}") and not closed_after:
                    return position + len(line)
                return max(0, position - 1)
            position += len(line) + 1
        return None

    return rule


def suffix_reached(cursor: CursorLine) -> StopRule:
    """Ends before a line that starts a statement repeating the first line of code after the
    cursor: the model has filled the gap and started copying what already follows."""
    following = cursor.next_lines[0] if cursor.next_lines else ""
    # A short line (`}`, `)`) must repeat exactly, indentation included, to count.
    exact = len(following.strip()) < 2

    def repeats(line: str) -> bool:
        if exact:
            return line.rstrip() == following.rstrip()
        return line.strip() == following.strip()

    def rule(text: str) -> int | None:
        if not following.strip():
            return None
        position = 0
        for index, line in enumerate(text.split("\n")[:-1]):
            if index > 0 and repeats(line) and statement_starts(text)[index]:
                return max(0, position - 1)
            position += len(line) + 1
        return None

    return rule


# Lines shorter than this (`return x`, `break;`) may well be written twice in one block.
BLOCK_REPEAT_MIN_CHARS = 12
# What the model copies is nearby; a long top-level block need not be read to its end.
BLOCK_REPEAT_MAX_LINES = 200


def block_repeat(cursor: CursorLine, suffix: str) -> StopRule:
    """On a blank line: ends before a statement that repeats a line of the code after the cursor
    in the same block (up to the first line indented less): the model skipped what belongs in the
    gap and is copying code that follows. Only the block: a sibling function may hold the same
    line. Only a statement's first line: the arguments of a call may repeat by right."""
    following = frozenset() if cursor.before.strip() else _block_lines(cursor.before, suffix)

    def rule(text: str) -> int | None:
        if not following:
            return None
        position = 0
        for index, line in enumerate(text.split("\n")):
            if index > 0 and line.strip() in following and statement_starts(text)[index]:
                return max(0, position - 1)
            position += len(line) + 1
        return None

    return rule


def _block_lines(before: str, suffix: str) -> frozenset[str]:
    """The lines of the cursor's block after the cursor's line, at most BLOCK_REPEAT_MAX_LINES
    of them."""
    lines: set[str] = set()
    base: int | None = None
    for line in islice(code_lines_after_cursor_line(suffix), BLOCK_REPEAT_MAX_LINES):
        if base is None:
            base = indent_width(before) if before else indent_width(line)
        if indent_width(line) < base:
            break
        if len(line.strip()) >= BLOCK_REPEAT_MIN_CHARS:
            lines.add(line.strip())
    return frozenset(lines)


def paragraph_end(cursor: CursorLine) -> StopRule:
    """On a blank line that a blank line follows, the code to write is one paragraph: a blank line
    in the output means the model has moved past it and is rewriting what already comes after."""
    active = not cursor.before.strip() and not cursor.after.strip() and cursor.next_is_blank

    def rule(text: str) -> int | None:
        if not active:
            return None
        lines = text.split("\n")
        position = 0
        seen_code = False
        for line in lines[:-1]:
            if not line.strip() and seen_code:
                return max(0, position - 1)
            seen_code = seen_code or bool(line.strip())
            position += len(line) + 1
        return None

    return rule


def repetition(times: int = 3) -> StopRule:
    """Ends when the same non-empty line comes `times` times in a row (a model stuck in a loop),
    keeping the first copy."""

    def rule(text: str) -> int | None:
        lines = text.split("\n")[:-1]
        starts = []
        position = 0
        for line in lines:
            starts.append(position)
            position += len(line) + 1
        run = 1
        for index in range(1, len(lines)):
            same = lines[index].strip() and lines[index] == lines[index - 1]
            run = run + 1 if same else 1
            if run >= times:
                first = index - times + 1
                return starts[first] + len(lines[first])
        return None

    return rule


def markdown_fence() -> StopRule:
    """Ends before a line that opens or closes a markdown fence: small models trained on chat
    answers sometimes close the code they wrote with one."""

    def rule(text: str) -> int | None:
        position = 0
        for line in text.split("\n"):
            if line.lstrip().startswith("```"):
                return max(0, position - 1)
            position += len(line) + 1
        return None

    return rule


def stop_strings(stops: tuple[str, ...]) -> StopRule:
    """Ends before the first of these strings (a format's special tokens and stop words)."""

    def rule(text: str) -> int | None:
        cuts = [index for stop in stops if (index := text.find(stop)) != -1]
        return min(cuts) if cuts else None

    return rule


def first_cut(rules: list[StopRule], text: str) -> int | None:
    cuts = [cut for rule in rules if (cut := rule(text)) is not None]
    return min(cuts) if cuts else None

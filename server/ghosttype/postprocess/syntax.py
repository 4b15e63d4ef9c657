"""Syntax-aware clean-up of a finished completion. Pure functions on strings.

`line_before` is the text of the cursor's line before the cursor; `suffix` is the text after the
cursor. The first line of a completion continues the cursor's line; later lines carry their own
indentation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from itertools import islice

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_QUOTES = "\"'`"
_LONG_LINE = 200
_INLINE_REPEAT = re.compile(r"(.{4,}?)\1{4,}")
_CODE_CHAR = re.compile(r"\S")


def indent_width(line: str, tab: int = 4) -> int:
    """The width of the line's leading white space, a tab counting `tab` columns: the one idea
    of indentation post-processing has (the whole line, when it is only white space)."""
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += tab
        else:
            break
    return width


def _scan(text: str, depth: int = 0) -> list[tuple[int, int, str]]:
    """(index, depth after, char) for each bracket outside string literals (a rough lexer:
    quotes pair up within a line, a backslash escapes)."""
    events = []
    quote = ""
    escaped = False
    for index, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote or (char == "\n" and quote != "`"):
                quote = ""
            continue
        if char in _QUOTES:
            quote = char
        elif char in _OPENERS:
            depth += 1
            events.append((index, depth, char))
        elif char in _CLOSERS:
            depth -= 1
            events.append((index, depth, char))
    return events


def open_brackets(text: str) -> str:
    """The brackets still open at the end of `text`, innermost last."""
    stack: list[str] = []
    for _, _, char in _scan(text):
        if char in _OPENERS:
            stack.append(char)
        elif stack and stack[-1] == _CLOSERS[char]:
            stack.pop()
    return "".join(stack)


# A line that starts with one of these operators and a space continues the statement above it
# (`+ x`, `? a : b`), as does one that starts with `.name` (`.then(...)`).
_CONTINUING_OPERATORS = frozenset(("+", "-", "*", "/", "%", "?", ":", "&&", "||", "|", "&"))


# A line that ends with one of these continues on the next line (`var a = 1,` / `x = a +`).
_OPEN_ENDINGS = ("+", "-", "*", "/", "%", "=", "=>", "&&", "||", "?", ",", "|", "&", "\\")


def _open_ending(line: str) -> bool:
    stripped = line.strip()
    if stripped.startswith(("#", "//", "*", "/*")):
        return False  # a comment's last word joins nothing
    return stripped.endswith(_OPEN_ENDINGS) and not stripped.endswith(("++", "--"))


def _continues(line: str) -> bool:
    stripped = line.lstrip()
    if stripped.startswith(".") and not stripped.startswith(".."):
        return True
    return stripped.split(" ", 1)[0] in _CONTINUING_OPERATORS and " " in stripped


def statement_starts(text: str) -> list[bool]:
    """For each line of `text`: whether a new statement starts there, judged by the brackets the
    text itself opened (none may be open) and operators that join lines (`x = a +`, `.then`).
    A rule that cuts at a repeated line cuts only where a statement starts, or it would leave
    half a call behind."""
    lines = text.split("\n")
    starts = [True] * len(lines)
    events = _scan(text)
    depth = 0
    seen = 0
    position = 0
    for number, line in enumerate(lines):
        while seen < len(events) and events[seen][0] < position:
            depth = max(0, depth + (1 if events[seen][2] in _OPENERS else -1))
            seen += 1
        if number > 0:
            starts[number] = (
                depth == 0 and not _open_ending(lines[number - 1]) and not _continues(line)
            )
        position += len(line) + 1
    return starts


def _statement_ends(text: str) -> list[int]:
    """The line counts k for which the first k lines of `text` end on a whole statement."""
    starts = statement_starts(text + "\nx")  # a sentinel line: does the text end whole?
    return [number for number in range(1, len(starts)) if starts[number]]


def end_on_whole_statement(completion: str) -> str:
    """A multi-line completion that stops inside a statement (a bracket it opened still open, a
    line continued with `\\` or an operator) goes back to the last line where a statement
    ended, so what is accepted never leaves half a call in the file. One unfinished statement
    alone is left as it is (word-by-word accept can still use it)."""
    lines = completion.split("\n")
    ends = _statement_ends(completion)
    if not ends or ends[-1] == len(lines):
        return completion
    return "\n".join(lines[: ends[-1]]).rstrip()


def cut_at_block_end(completion: str, line_before: str, suffix: str) -> str:
    """Ends the completion where the block around the cursor ends: at a line indented less than
    the cursor's line, or at a bracket that closes one opened before the cursor. A closer that the
    suffix already has is left to the suffix; one it lacks is kept."""
    base = indent_width(line_before)
    code = _CODE_CHAR.search(suffix)  # where the suffix's code starts (no copy of a large file)
    after = code.start() if code else len(suffix)
    # Brackets: the first closer that closes something opened before the cursor.
    for index, depth, char in _scan(completion):
        if depth < 0:
            if suffix.startswith(char, after):
                return completion[:index].rstrip()
            line_end = completion.find("\n", index)
            return completion if line_end == -1 else completion[:line_end].rstrip()
    # Indentation: a dedent below the cursor's level ends the block.
    lines = completion.split("\n")
    for number in range(1, len(lines)):
        line = lines[number]
        if line.strip() and indent_width(line) < base:
            return "\n".join(lines[:number]).rstrip()
    return completion


def balance_brackets(completion: str, prefix: str) -> str:
    """Cuts the completion before a closer that matches nothing (neither in the completion nor
    open in the prefix) or the wrong kind: the model ran past the code it was asked for."""
    stack = list(open_brackets(prefix))
    for index, _, char in _scan(completion):
        if char in _OPENERS:
            stack.append(char)
        elif stack and stack[-1] == _CLOSERS[char]:
            stack.pop()
        else:
            return completion[:index].rstrip()
    return completion


def trim_unfinished(completion: str) -> str:
    """For a completion the token limit cut off: drops the partial last line, then goes back to
    the last line end where a statement ended (see `statement_starts`) and no block header
    (`...:`) waits for its body, so what is shown is whole code."""
    text, newline, _ = completion.rpartition("\n")
    if not newline:
        return ""
    lines = text.split("\n")
    ends = [
        number
        for number in _statement_ends(text)
        if lines[number - 1].strip() and not lines[number - 1].rstrip().endswith(":")
    ]
    return "\n".join(lines[: ends[-1]]).rstrip() if ends else ""


def code_lines_after_cursor_line(text: str, cursor: int = 0) -> Iterator[str]:
    """The non-blank lines after the line that holds `cursor` (a suffix: its first line), read
    lazily: the text runs to the end of the document, and a rule that needs a few of its lines
    must not split a large file to get them."""
    position = text.find("\n", cursor) + 1
    while 0 < position <= len(text):
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        if (line := text[position:end]).strip():
            yield line
        position = end + 1


def drop_suffix_repeats(completion: str, suffix: str) -> str:
    """Cuts the completion where a statement starts repeating the lines that follow the cursor's
    line (not inside a call whose argument line happens to equal one of them)."""
    enough = completion.count("\n") + 1  # a repeat is compared line by line, no further
    following = [line.rstrip() for line in islice(code_lines_after_cursor_line(suffix), enough)]
    if not following:
        return completion
    lines = completion.split("\n")
    for number in range(1, len(lines)):
        tail = [line.rstrip() for line in lines[number:] if line.strip()]
        if not tail or tail[0] != following[0] or not statement_starts(completion)[number]:
            continue
        # A lone bracket repeats by chance; require it to be the last line or followed by more
        # of the suffix.
        matching = all(a == b for a, b in zip(tail, following, strict=False))
        if len(following[0].strip()) > 2 or matching:
            return "\n".join(lines[:number]).rstrip()
    return completion


def _next_code_line(suffix: str) -> str | None:
    """The first line with code after the cursor's line, or None."""
    return next(code_lines_after_cursor_line(suffix), None)


_ENDS_BLOCK = re.compile(r"(return|raise|throw|break|continue)\b")
# Lines that carry on a statement's construct rather than start a statement of the block.
_NOT_A_STATEMENT = re.compile(
    r"(else|elif|except|finally|catch|case|default|when|rescue|ensure|end|fi|done|esac)\b|[)\]}]"
)


def keep_suffix_reachable(completion: str, line_before: str, suffix: str) -> str:
    """A completion that ends the cursor's block (`return`, `raise`, `break`... at the cursor's
    indentation) while the code after the cursor carries on in that same block has written its
    own end of the block: accepted, it leaves the code after it unreachable. It keeps its first
    statement, the part that fills the gap; the rest is its version of the code already there."""
    lines = completion.split("\n")
    if len(lines) < 2:
        return completion
    first = line_before + lines[0]
    base = indent_width(first)
    following = _next_code_line(suffix)
    # Code after that only ends the block (`return True`) loses nothing to an early return: the
    # answer is then a whole version of the block, and may be right.
    if (
        following is None
        or indent_width(following) != base
        or _NOT_A_STATEMENT.match(following.lstrip())
        or _ENDS_BLOCK.match(following.lstrip())
    ):
        return completion
    starts = statement_starts(completion)
    at_base = [
        n
        for n in range(1, len(lines))
        if starts[n] and lines[n].strip() and indent_width(lines[n]) == base
    ]
    if not any(_ENDS_BLOCK.match(lines[n].lstrip()) for n in at_base):
        return completion
    return "\n".join(lines[: at_base[0]]).rstrip()


def remove_repetition(completion: str, min_repeats: int = 3) -> str:
    """Keeps the first occurrence of a line or block of lines that the model repeats
    `min_repeats` times in a row, and cuts a very long line that loops on itself."""
    lines = completion.split("\n")
    count = len(lines)
    for period in range(1, count // min_repeats + 1):
        for start in range(0, count - min_repeats * period + 1):
            block = lines[start : start + period]
            if not any(line.strip() for line in block):
                continue
            if all(
                lines[start + k * period : start + (k + 1) * period] == block
                for k in range(1, min_repeats)
            ):
                return "\n".join(lines[: start + period]).rstrip()
    for number, line in enumerate(lines):
        if len(line) > _LONG_LINE:
            match = _INLINE_REPEAT.search(line)
            if match:
                kept = line[: match.start() + len(match.group(1))]
                return "\n".join([*lines[:number], kept]).rstrip()
    return completion


def detect_indent(text: str) -> str:
    """The file's indentation unit: a tab, or the most common step between space indentations
    (4 when the file says nothing)."""
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    previous = 0
    for line in text.split("\n"):
        if not line.strip():
            # An indented blank line (the cursor's own) still tells tabs from spaces.
            tabs += line.startswith("\t")
            spaces += line.startswith(" ")
            continue
        if line.startswith("\t"):
            tabs += 1
            continue
        width = len(line) - len(line.lstrip(" "))
        if width:
            spaces += 1
        if width > previous:
            steps[width - previous] += 1
        previous = width
    if tabs > spaces:
        return "\t"
    return " " * (steps.most_common(1)[0][0] if steps else 4)


def normalise_indentation(completion: str, unit: str) -> str:
    """Converts the indentation of the completion's later lines between tabs and spaces to match
    the file's unit (space widths are left alone: the model follows the file's width)."""
    lines = completion.split("\n")
    if len(lines) < 2:
        return completion
    if unit == "\t":
        widths = [indent_width(line) for line in lines[1:] if line.startswith(" ") and line.strip()]
        step = min((w for w in widths if w), default=4)
        step = 4 if step not in (2, 3, 4, 8) else step
        converted = [_spaces_to_tabs(line, step) for line in lines[1:]]
    else:
        converted = [_tabs_to_spaces(line, unit) for line in lines[1:]]
    return "\n".join([lines[0], *converted])


def _spaces_to_tabs(line: str, step: int) -> str:
    stripped = line.lstrip(" \t")
    leading = line[: len(line) - len(stripped)]
    if " " not in leading:
        return line
    width = indent_width(leading, step)
    return "\t" * (width // step) + " " * (width % step) + stripped


def _tabs_to_spaces(line: str, unit: str) -> str:
    stripped = line.lstrip("\t")
    tabs = len(line) - len(stripped)
    return unit * tabs + stripped if tabs else line


def drop_dangling_header(completion: str, suffix: str) -> str:
    """A completion of several lines that ends on a block header (`...:`) whose body neither it
    nor the code after the cursor holds (no deeper-indented next line) ends before that header."""
    lines = completion.rstrip().split("\n")
    if len(lines) < 2 or not lines[-1].endswith(":"):
        return completion
    following = _next_code_line(suffix)
    if following is not None and indent_width(following) > indent_width(lines[-1]):
        return completion  # its body is the code after the cursor
    return "\n".join(lines[:-1]).rstrip()


def indent_around_cursor(prefix: str, line_before: str, suffix: str) -> str:
    """The file's indentation unit, judged from windows either side of the cursor: the suffix is
    the rest of the document, and a huge file must not cost a scan of it per completion."""
    return detect_indent(prefix[-8000:] + line_before + suffix[:8000])


# The end of a line that opens a block whose body goes one level deeper (as decide_multiline).
_BLOCK_OPENER_ENDS = (":", "{", "=>", " do", " then")
_COMMENT_START = re.compile(r"(#|//|/\*|\*|--)")


def indent_under_opener(completion: str, line_before: str, prefix: str, suffix: str) -> str:
    """On a blank line right after a line that opens a block (`else:`, `if (x) {`), the next
    statement belongs in that block, one level deeper; from a cursor at a shallower column the
    small models often write it at the opener's own level, which Python rejects and other
    languages misread. Such a completion is shifted in by the missing levels, all its lines alike.
    Words that carry on or close the construct (`else`, `}`) keep their place."""
    if line_before.strip() or not completion.strip():
        return completion
    opener = next((line for line in reversed(prefix.split("\n")[:-1]) if line.strip()), "")
    code = opener.strip()
    if not code.endswith(_BLOCK_OPENER_ENDS) or _COMMENT_START.match(code):
        return completion
    first = completion.split("\n", 1)[0]
    if not first.strip() or _NOT_A_STATEMENT.match(first.lstrip()):
        return completion
    unit = indent_around_cursor(prefix, line_before, suffix)
    step = indent_width(unit)
    missing = indent_width(opener) + step - indent_width(line_before + first)
    if missing <= 0:
        return completion
    shift = unit * -(-missing // step)
    return "\n".join(shift + line if line.strip() else line for line in completion.split("\n"))

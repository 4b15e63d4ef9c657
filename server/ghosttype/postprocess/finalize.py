"""Finalizers: from the raw completion to the text inserted in the editor. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass

from .filters import CursorLine, only_closers


@dataclass(frozen=True)
class Completion:
    text: str
    # Characters after the cursor that the completion replaces (auto-closed brackets), 0 for none.
    replace_after: int = 0


def decide_multiline(setting: str, cursor: CursorLine) -> bool:
    """Single line when the cursor is inside a line's code; several lines at the end of a line that
    opens a block, or on an empty line."""
    if setting == "always":
        return True
    if setting == "never":
        return False
    if not only_closers(cursor.after):
        return False
    before = cursor.before.rstrip()
    if not before:
        return True
    return before.endswith((":", "{", "=>", " do", " then"))


def finalize(raw: str, cursor: CursorLine, suffix: str) -> Completion | None:
    """Trim, and never duplicate what follows the cursor: text the line already has after the cursor
    becomes a replaced range; a completion the suffix already contains is dropped."""
    text = raw.rstrip()
    if not cursor.before.strip() and "\n" not in text:
        # On a blank line, leading blank lines add nothing.
        text = text.lstrip("\n")
    if not text.strip():
        return None
    after = cursor.after.rstrip()
    stripped_suffix = suffix.lstrip()
    if stripped_suffix and text.strip() and stripped_suffix.startswith(text.strip()):
        return None  # the code is already there
    if after:
        last_line = text.rsplit("\n", 1)[-1]
        if last_line.endswith(after):
            return Completion(text, replace_after=len(after))
    return Completion(text)


def align_indent(text: str, indent: str) -> str:
    """For a cursor after `indent` on an otherwise blank line (left out of the prompt): drops the
    model's own indentation from the first line and shifts the following lines by the same
    difference, so the block lands at the cursor's indentation."""
    if not indent:
        return text
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return text
    own = lines[first][: len(lines[first]) - len(lines[first].lstrip(" \t"))]
    lines[first] = lines[first][len(own) :]
    same_kind = ("\t" in own) == ("\t" in indent)  # never mix tabs into spaces or back
    if own != indent and same_kind:
        for i in range(first + 1, len(lines)):
            line = lines[i]
            if not line.strip():
                continue
            if line.startswith(own):
                lines[i] = indent + line[len(own) :]
            elif not indent.startswith("\t"):
                lines[i] = line.lstrip(" ")  # less indented than the first line: keep its text
    return "\n".join(lines)

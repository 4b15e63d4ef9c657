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


def drop_repeated_indent(text: str, before: str) -> str:
    """On a line that holds only indentation before the cursor, models sometimes write the first
    line at its absolute column (repeating the indentation the line already has) while the
    following lines are absolute anyway: drop the repetition from the first line only."""
    if not before or before.strip():
        return text
    own = len(text) - len(text.lstrip(" \t"))
    if own >= len(before) and text.startswith(before):
        return text[len(before) :]
    return text

"""Post-processing, composed in one place: the stop rules handed to the backend's stream, the
clean-up steps applied in order to what it generated, and the line the backend steers away from.
Pure: every step reads only the `Surroundings` of the cursor, which the exact cache keys on.

`completion.postprocess = false` turns all of it off (the model's raw text, stopped only at the
format's special tokens; at the first newline where `multiline` is "never"): the quality
benchmark measures post-processing with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from ..config import CompletionSettings
from ..documents import Document
from ..prompts import PromptFormat
from .filters import (
    CursorLine,
    StopRule,
    block_end,
    block_repeat,
    markdown_fence,
    paragraph_end,
    repetition,
    single_line,
    stop_strings,
    suffix_reached,
)
from .finalize import Completion, drop_repeated_indent, finalize
from .syntax import (
    balance_brackets,
    code_lines_after_cursor_line,
    cut_at_block_end,
    drop_dangling_header,
    drop_suffix_repeats,
    end_on_whole_statement,
    indent_around_cursor,
    indent_under_opener,
    keep_suffix_reachable,
    normalise_indentation,
    remove_repetition,
    trim_unfinished,
)

# How much of the document after the cursor post-processing reads: the indentation window
# (8,000 characters) and the block-repeat rule's 200 lines. Bounded so that everything the
# clean-up reads is in the exact cache's key.
SUFFIX_VIEW_CHARS = 16_000


@dataclass(frozen=True)
class Surroundings:
    """All that post-processing reads about where the completion goes."""

    cursor: CursorLine
    prefix: str  # the prompt's prefix window, up to the cursor
    suffix: str  # the document after the cursor, SUFFIX_VIEW_CHARS at most
    multiline: bool

    @classmethod
    def of(cls, document: Document, offset: int, prefix: str, multiline: bool) -> Surroundings:
        text = document.text
        suffix = text[offset : offset + SUFFIX_VIEW_CHARS]
        line_start = document.line_start(offset)
        line_end = suffix.find("\n")
        after = suffix if line_end == -1 else suffix[:line_end]
        next_line = suffix[line_end + 1 :].split("\n", 1)[0] if line_end != -1 else ""
        cursor = CursorLine(
            before=text[line_start:offset],
            after=after.rstrip("\r"),
            next_lines=tuple(itertools.islice(code_lines_after_cursor_line(suffix), 3)),
            next_is_blank=line_end != -1 and line_end + 1 < len(suffix) and not next_line.strip(),
        )
        return cls(cursor, prefix, suffix, multiline)


def stop_rules(at: Surroundings, fmt: PromptFormat, settings: CompletionSettings) -> list[StopRule]:
    """The rules that end generation early: each sees the text so far and says where it ends."""
    if not settings.postprocess:
        rules = [stop_strings(fmt.special_tokens)]
        return [*rules, stop_strings(("\n",))] if settings.multiline == "never" else rules
    rules = [stop_strings(fmt.special_tokens + fmt.stop), repetition(), markdown_fence()]
    if not at.multiline:
        return [*rules, single_line()]
    return [
        *rules,
        block_end(at.cursor),
        suffix_reached(at.cursor),
        block_repeat(at.cursor, at.suffix),
        paragraph_end(at.cursor),
    ]


def line_to_avoid(at: Surroundings, settings: CompletionSettings) -> str:
    """On a blank line, the code that follows it: a first line that only repeats it would be
    dropped as already there, so a backend that can steer sampling takes its next choice."""
    cursor = at.cursor
    if not settings.postprocess or cursor.before.strip() or cursor.after.strip():
        return ""
    return cursor.next_lines[0] if cursor.next_lines else ""


Step = Callable[[str, Surroundings], str]

# The clean-up, in order: (name, multi-line only, step).
STEPS: tuple[tuple[str, bool, Step], ...] = (
    ("drop_repeated_indent", False, lambda text, at: drop_repeated_indent(text, at.cursor.before)),
    (
        "indent_under_opener",
        False,
        lambda text, at: indent_under_opener(text, at.cursor.before, at.prefix, at.suffix),
    ),
    (
        "cut_at_block_end",
        True,
        lambda text, at: cut_at_block_end(text, at.cursor.before, at.suffix),
    ),
    ("balance_brackets", True, lambda text, at: balance_brackets(text, at.prefix[-4000:])),
    ("drop_suffix_repeats", True, lambda text, at: drop_suffix_repeats(text, at.suffix)),
    (
        "keep_suffix_reachable",
        True,
        lambda text, at: keep_suffix_reachable(text, at.cursor.before, at.suffix),
    ),
    ("remove_repetition", True, lambda text, at: remove_repetition(text)),
    ("end_on_whole_statement", True, lambda text, at: end_on_whole_statement(text)),
    ("drop_dangling_header", True, lambda text, at: drop_dangling_header(text, at.suffix)),
    (
        "normalise_indentation",
        True,
        lambda text, at: normalise_indentation(
            text, indent_around_cursor(at.prefix, at.cursor.before, at.suffix)
        ),
    ),
)


def clean_up(
    raw: str, at: Surroundings, hit_limit: bool, settings: CompletionSettings
) -> Completion | None:
    """The text to insert (and the characters after the cursor it replaces), or None for
    nothing worth showing. `hit_limit`: the token limit cut the generation off mid-way."""
    if not settings.postprocess:
        return Completion(raw) if raw else None
    if hit_limit and at.multiline:
        raw = trim_unfinished(raw)
    for _name, multiline_only, step in STEPS:
        if at.multiline or not multiline_only:
            raw = step(raw, at)
    return finalize(raw, at.cursor, at.suffix)

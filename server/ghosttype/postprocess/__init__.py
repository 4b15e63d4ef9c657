"""Post-processing: stream filters that stop generation early, clean-up steps and finalizers,
composed in `pipeline.py`. Pure functions."""

from .filters import (
    CursorLine,
    StopRule,
    block_end,
    block_repeat,
    first_cut,
    markdown_fence,
    paragraph_end,
    repetition,
    single_line,
    stop_strings,
    suffix_reached,
)
from .finalize import Completion, decide_multiline, drop_repeated_indent, finalize

__all__ = [
    "Completion",
    "CursorLine",
    "StopRule",
    "block_end",
    "block_repeat",
    "decide_multiline",
    "drop_repeated_indent",
    "finalize",
    "first_cut",
    "markdown_fence",
    "paragraph_end",
    "repetition",
    "single_line",
    "stop_strings",
    "suffix_reached",
]

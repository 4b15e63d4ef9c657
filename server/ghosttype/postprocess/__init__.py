"""Post-processing: stream filters that stop generation early, and finalizers. Pure functions."""

from .filters import (
    CursorLine,
    StopRule,
    block_end,
    first_cut,
    repetition,
    single_line,
    suffix_reached,
)
from .finalize import Completion, align_indent, decide_multiline, finalize

__all__ = [
    "Completion",
    "CursorLine",
    "StopRule",
    "align_indent",
    "block_end",
    "decide_multiline",
    "finalize",
    "first_cut",
    "repetition",
    "single_line",
    "suffix_reached",
]

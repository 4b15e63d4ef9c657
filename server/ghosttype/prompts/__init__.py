"""Prompt formats (data) and the builder. Pure: no I/O."""

from .builder import Prompt, Segment, build_prompt, neutralise, pick_format, strip_special
from .formats import FORMATS, PromptFormat

__all__ = [
    "FORMATS",
    "Prompt",
    "PromptFormat",
    "Segment",
    "build_prompt",
    "neutralise",
    "pick_format",
    "strip_special",
]

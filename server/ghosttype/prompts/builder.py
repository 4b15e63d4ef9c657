"""Builds a prompt from a context: a sequence of segments that remember which text is ours
(template markers, parsed as special tokens) and which is the user's (never parsed as special)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..context.types import PromptContext
from .formats import FORMATS, QWEN_CODER, PromptFormat


@dataclass(frozen=True)
class Segment:
    text: str
    special: bool  # True: template text, may hold special tokens; False: user text


@dataclass(frozen=True)
class Prompt:
    segments: tuple[Segment, ...]
    format: PromptFormat
    # What it was built from: backends whose servers assemble the prompt themselves (llama.cpp
    # /infill, Ollama's suffix) and the scripted backend read the parts from here.
    context: PromptContext

    def as_text(self) -> str:
        """One string for servers that take text. User text that spells a special token of the
        family is neutralised (a zero-width joiner after the first character), so a file cannot
        steer the model through a server that parses special tokens in prompts."""
        parts = []
        for segment in self.segments:
            text = segment.text if segment.special else neutralise(segment.text, self.format)
            parts.append(text)
        return "".join(parts)


_HOLE = re.compile(r"\{(prefix|suffix|repo|path|content)\}")


def _fill(template: str, values: dict[str, str]) -> list[Segment]:
    segments: list[Segment] = []
    position = 0
    for match in _HOLE.finditer(template):
        if match.start() > position:
            segments.append(Segment(template[position : match.start()], True))
        value = values[match.group(1)]
        if value:
            segments.append(Segment(value, False))
        position = match.end()
    if position < len(template):
        segments.append(Segment(template[position:], True))
    return segments


def build_prompt(fmt: PromptFormat, context: PromptContext) -> Prompt:
    """Stable parts first (repository header, neighbour files), then the current file's FIM
    prompt: consecutive keystrokes then share the longest possible prefix in the model's KV cache."""
    segments: list[Segment] = []
    use_repo = fmt.repo_header is not None and fmt.file is not None and context.snippets
    if use_repo:
        assert fmt.repo_header is not None and fmt.file is not None and fmt.current is not None
        segments += _fill(fmt.repo_header, {"repo": context.repo_name or "workspace"})
        for snippet in context.snippets:
            segments += _fill(fmt.file, {"path": snippet.path, "content": snippet.text})
        segments += _fill(fmt.current, {"path": context.path or "untitled"})
    segments += _fill(fmt.fim, {"prefix": context.prefix, "suffix": context.suffix})
    return Prompt(tuple(_merge(segments)), fmt, context)


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].special == segment.special:
            merged[-1] = Segment(merged[-1].text + segment.text, segment.special)
        else:
            merged.append(segment)
    return merged


# Every family's special tokens: the format in use is a guess ("auto" picks by the model's name)
# and a server may run another family than it says, so user text spelling any family's token is
# neutralised.
ALL_SPECIAL_TOKENS = tuple(dict.fromkeys(t for f in FORMATS.values() for t in f.special_tokens))


def neutralise(text: str, fmt: PromptFormat) -> str:
    """`text` with no special token of `fmt`'s family, nor of any other (a zero-width joiner
    after each one's first character)."""
    for token in dict.fromkeys((*fmt.special_tokens, *ALL_SPECIAL_TOKENS)):
        if token in text:
            text = text.replace(token, token[0] + "\u200d" + token[1:])
    return text


def strip_special(text: str, fmt: PromptFormat) -> str:
    """Removes any special token a server sent back as text, so none reaches the editor."""
    for token in fmt.special_tokens:
        if token in text:
            text = text.replace(token, "")
    return text


def pick_format(prompt_format: str, model_name: str) -> PromptFormat:
    """The format a setting names, or for "auto" the family the model's name suggests
    (Qwen2.5-Coder when nothing matches: the embedded default)."""
    if prompt_format in FORMATS:
        return FORMATS[prompt_format]
    lowered = model_name.lower()
    for fmt in FORMATS.values():
        if any(hint in lowered for hint in fmt.model_hints):
            return fmt
    return QWEN_CODER

"""Chat/instruct prompts (code actions): the messages, and ChatML for the embedded Qwen2.5
Instruct models built as segments, so that only the template's markers are parsed as special
tokens and the messages' text never is (like the fill-in-the-middle prompts). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..context.types import PromptContext
from .builder import Prompt, Segment
from .formats import QWEN_CODER, PromptFormat

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class ChatMessage:
    """One message of a chat/instruct prompt. `role`: system, user or assistant. A last assistant
    message is an answer begun before: the model continues it where the backend can (the
    embedded one). The content is the user's text, never parsed as special tokens."""

    role: str
    content: str


def chatml_prompt(messages: Sequence[ChatMessage], fmt: PromptFormat = QWEN_CODER) -> Prompt:
    """`<|im_start|>role\\n...<|im_end|>\\n` per message, then the assistant's turn; a last
    assistant message is left open, so the model continues it."""
    segments: list[Segment] = []
    open_answer = bool(messages) and messages[-1].role == "assistant"
    for index, message in enumerate(messages):
        if message.role not in ROLES:
            raise ValueError(f"unknown chat role {message.role!r}")
        segments.append(Segment(f"<|im_start|>{message.role}\n", True))
        if message.content:
            segments.append(Segment(message.content, False))
        if not (open_answer and index == len(messages) - 1):
            segments.append(Segment("<|im_end|>\n", True))
    if not open_answer:
        segments.append(Segment("<|im_start|>assistant\n", True))
    merged: list[Segment] = []
    for segment in segments:  # one segment per run of template text: one tokenizer call each
        if merged and merged[-1].special and segment.special:
            merged[-1] = Segment(merged[-1].text + segment.text, True)
        else:
            merged.append(segment)
    return Prompt(tuple(merged), fmt, PromptContext("", "", "", ""))

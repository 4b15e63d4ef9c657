"""The embedded model answers chat/instruct prompts (ChatML, code actions): the real
Qwen2.5-Coder Instruct GGUF, a short answer."""

from __future__ import annotations

import pytest

from ghosttype.backends import ChatMessage, Chats, GenerationParams, Usage
from ghosttype.prompts.chatml import chatml_prompt

pytestmark = pytest.mark.model


async def test_the_embedded_model_answers_in_chatml(backend):
    assert isinstance(backend, Chats)
    messages = [
        ChatMessage("user", "Write a Python function add(a, b) returning a + b. Code only.")
    ]
    usage = Usage()
    params = GenerationParams(max_tokens=40, lane=1)
    text = "".join([p async for p in backend.chat(messages, params, usage)])
    assert "def add" in text and "<|im_end|>" not in text
    assert 0 < usage.generated_tokens <= 40


async def test_the_users_text_never_becomes_a_chatml_marker(backend):
    hostile = chatml_prompt([ChatMessage("user", "<|im_end|>")])
    plain = chatml_prompt([ChatMessage("user", "")])
    end = backend.tokenize(chatml_prompt([]))  # the assistant turn's opening alone
    im_end = backend._llm.tokenize(b"<|im_end|>", add_bos=False, special=True)
    assert len(im_end) == 1
    tokens = backend.tokenize(hostile)
    # The template's own <|im_end|> follows the message; the message's is several plain tokens.
    assert tokens.count(im_end[0]) == backend.tokenize(plain).count(im_end[0]) == 1
    assert len(tokens) > len(backend.tokenize(plain)) + 1 and end

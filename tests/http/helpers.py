"""Helpers for the HTTP backend tests: settings, prompts, and draining a generation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ghosttype.backends import create_backend
from ghosttype.backends.base import Backend, GenerationParams, Usage
from ghosttype.config import BackendSettings
from ghosttype.context.types import PromptContext, Snippet
from ghosttype.prompts import Prompt, build_prompt

# Text that must never show up in an error message or a log line.
SECRET_CODE = "PROMPT_SECRET_7f3a"
SECRET_KEY = "sk-test-KEY-never-shown-91c2"


def make_context(
    prefix: str = "def add(a, b):\n    return ",
    suffix: str = "\n",
    snippets: tuple[Snippet, ...] = (),
) -> PromptContext:
    return PromptContext(
        path="src/calc.py",
        language="python",
        prefix=prefix,
        suffix=suffix,
        snippets=snippets,
        repo_name="demo",
    )


def make_backend(kind: str, url: str, **values: Any) -> Backend:
    values.setdefault("timeout_ms", 5000)
    return create_backend(BackendSettings(kind=kind, url=url, **values))


def make_prompt(backend: Backend, context: PromptContext | None = None) -> Prompt:
    return build_prompt(backend.prompt_format, context or make_context())


async def collect(
    backend: Backend, prompt: Prompt | None = None, max_tokens: int = 64, usage: Usage | None = None
) -> str:
    pieces: list[str] = []
    generation: AsyncIterator[str] = backend.generate(
        prompt or make_prompt(backend),
        GenerationParams(max_tokens=max_tokens),
        usage if usage is not None else Usage(),
    )
    async for piece in generation:
        pieces.append(piece)
    return "".join(pieces)

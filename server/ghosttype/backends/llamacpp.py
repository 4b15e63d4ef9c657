"""llama.cpp's own server (`llama-server`): `/infill`, where the server applies the model's
fill-in-the-middle tokens itself, gets the neighbour snippets as `input_extra`, and keeps its KV
cache across keystrokes (`cache_prompt`), so each request only evaluates what changed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import PurePath
from typing import Any

from ..config import BackendSettings
from ..prompts import Prompt
from ..prompts.chatml import ChatMessage
from ..tokens import estimate_tokens
from .base import BackendError, GenerationParams, Usage
from .http import HttpBackend, error_in_payload, sse_events
from .openai import chat_completions


class LlamaCppBackend(HttpBackend):
    what = "the llama.cpp server"
    kind = "llamacpp"

    async def generate(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        context = prompt.context
        body: dict[str, Any] = {
            # llama-server tokenizes these without parsing special tokens: no neutralising.
            "input_prefix": context.prefix,
            "input_suffix": context.suffix,
            "input_extra": [{"filename": s.path, "text": s.text} for s in context.snippets],
            "prompt": "",
            "n_predict": params.max_tokens,
            "temperature": params.temperature,
            "cache_prompt": True,
            "stream": True,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if self.prompt_format.stop:
            body["stop"] = list(self.prompt_format.stop)
        usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(
            context.prefix + context.suffix + "".join(s.text for s in context.snippets)
        )
        async with self.post("/infill", body, usage) as response:
            events = sse_events(response, self.http.malformed)
            async for piece in self.cut_stream(events, lambda e: self._piece(e, usage), usage):
                yield piece

    def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        """Chat/instruct prompts (code actions): llama-server's /v1/chat/completions, which
        applies the model's own chat template."""
        return chat_completions(self, messages, params, usage)

    def _piece(self, event: Any, usage: Usage) -> str:
        if not isinstance(event, dict):
            raise self.http.malformed("an event was not a JSON object")
        error = error_in_payload(event)
        if error is not None:
            raise self.http.failed_midway(error)
        if isinstance(event.get("tokens_evaluated"), int):
            usage.prompt_tokens = event["tokens_evaluated"]
            usage.evaluated_tokens = usage.prompt_tokens
        timings = event.get("timings")
        if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
            # Tokens the server actually evaluated: the rest came from its KV cache.
            usage.evaluated_tokens = timings["prompt_n"]
        text = event.get("content", "")
        if not isinstance(text, str):
            raise self.http.malformed("an event's content was not a string")
        return text

    async def check(self) -> list[str]:
        health = await self.http.get_json("/health")
        status = health.get("status") if isinstance(health, dict) else None
        if status not in (None, "ok"):
            raise BackendError(
                f"{self.what} at {self.http.shown_url} is not ready (status {status})",
                "wait for it to finish loading the model",
            )
        lines = [f"{self.what} at {self.http.shown_url} is healthy"]
        try:
            props = await self.http.get_json("/props")
        except BackendError:
            props = {}
        model_path = props.get("model_path") if isinstance(props, dict) else None
        if isinstance(model_path, str) and model_path:
            lines.append(f"server model: {PurePath(model_path).name} (/infill uses its FIM tokens)")
        lines.append(self.format_line())
        return lines


def create(settings: BackendSettings) -> LlamaCppBackend:
    return LlamaCppBackend(settings)

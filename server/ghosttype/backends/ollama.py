"""Ollama: `/api/generate`, streamed as one JSON object per line.

By default the fill-in-the-middle prompt is built here and sent with `raw: true` (Ollama ignores
`suffix` in raw mode, and many models' Ollama templates have no FIM at all). With
`backend.fim = "server"`, prefix and suffix go to the model's own template (`suffix`).
`keep_alive` keeps the model loaded between keystrokes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..config import BackendSettings
from ..prompts import Prompt, neutralise
from ..prompts.chatml import ChatMessage
from ..tokens import estimate_tokens
from .base import BackendError, GenerationParams, Progress, Usage
from .http import ACTION_READ_TIMEOUT_S, HttpBackend, error_in_payload, ndjson_events

# Ollama unloads an idle model after 5 minutes by default; reloading costs seconds, so ask for
# longer while someone is typing.
KEEP_ALIVE = "30m"
SHOWN_MODELS = 8


class OllamaBackend(HttpBackend):
    what = "the Ollama server"
    kind = "ollama"

    def _need_model(self) -> None:
        if not self.model:
            raise BackendError(
                "backend.model is empty: Ollama needs the name of a model",
                "set backend.model to a pulled model, e.g. qwen2.5-coder:1.5b-base "
                "(`ollama list` shows them)",
            )

    async def start(self, progress: Progress) -> None:
        self._need_model()

    async def generate(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        self._need_model()
        options: dict[str, Any] = {
            "num_predict": params.max_tokens,
            "temperature": params.temperature,
            "stop": list(self.stops),
        }
        if params.seed is not None:
            options["seed"] = params.seed
        body: dict[str, Any] = {
            "model": self.model,
            "stream": True,
            "keep_alive": KEEP_ALIVE,
            "options": options,
        }
        if self.settings.fim == "server":
            fmt = self.prompt_format
            body["prompt"] = neutralise(prompt.context.prefix, fmt)
            body["suffix"] = neutralise(prompt.context.suffix, fmt)
        else:
            body["prompt"] = prompt.as_text()
            body["raw"] = True
        usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(str(body["prompt"]))
        async with self.post("/api/generate", body, usage) as response:
            events = ndjson_events(response, self.http.malformed)
            pieces = self.cut_stream(
                events, lambda e: self._piece(e, usage), usage, done=lambda e: e.get("done") is True
            )
            async for piece in pieces:
                yield piece

    async def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        """Chat/instruct prompts (code actions): /api/chat with the model's own template."""
        self._need_model()
        fmt = self.prompt_format
        options: dict[str, Any] = {
            "num_predict": params.max_tokens,
            "temperature": params.temperature,
        }
        if params.seed is not None:
            options["seed"] = params.seed
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": neutralise(m.content, fmt)} for m in messages],
            "stream": True,
            "keep_alive": KEEP_ALIVE,
            "options": options,
        }
        usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(
            "".join(m.content for m in messages)
        )
        async with self.post("/api/chat", body, usage, ACTION_READ_TIMEOUT_S) as response:
            events = ndjson_events(response, self.http.malformed)
            pieces = self.cut_stream(
                events,
                lambda e: self._chat_piece(e, usage),
                usage,
                done=lambda e: e.get("done") is True,
            )
            async for piece in pieces:
                yield piece

    def _chat_piece(self, event: Any, usage: Usage) -> str:
        message = event.get("message") if isinstance(event, dict) else None
        if isinstance(event, dict) and isinstance(message, dict):
            event = {**event, "response": message.get("content", "")}
        return self._piece(event, usage)

    def _piece(self, event: Any, usage: Usage) -> str:
        if not isinstance(event, dict):
            raise self.http.malformed("a line was not a JSON object")
        error = error_in_payload(event)
        if error is not None:
            raise self.http.failed_midway(error)
        if isinstance(event.get("prompt_eval_count"), int):
            # Ollama counts only the prompt tokens it evaluated (not those from its cache).
            usage.evaluated_tokens = event["prompt_eval_count"]
        text = event.get("response", "")
        if not isinstance(text, str):
            raise self.http.malformed("a line's response was not a string")
        return text

    async def check(self) -> list[str]:
        self._need_model()
        tags = await self.http.get_json("/api/tags")
        listed = tags.get("models") if isinstance(tags, dict) else None
        if not isinstance(listed, list):
            raise self.http.malformed("/api/tags has no 'models' list")
        names = [str(m.get("name")) for m in listed if isinstance(m, dict)]
        shown = ", ".join(names[:SHOWN_MODELS]) or "none"
        wanted = self.model if ":" in self.model else f"{self.model}:latest"
        if wanted not in names and self.model not in names:
            raise BackendError(
                f"{self.what} at {self.http.shown_url} has no model '{self.model}'",
                f"run `ollama pull {self.model}`, or set backend.model to one of: {shown}",
            )
        mode = "raw FIM prompt" if self.settings.fim == "client" else "the model's own template"
        return [
            f"{self.what} at {self.http.shown_url} answers; model '{self.model}' is there",
            f"{self.format_line()}; sent as a {mode}",
        ]


def create(settings: BackendSettings) -> OllamaBackend:
    return OllamaBackend(settings)

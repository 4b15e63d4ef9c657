"""OpenAI-compatible servers: vLLM, SGLang, llama-cpp-python's server, LM Studio, hosted APIs.

`/v1/completions` with the fill-in-the-middle prompt built here from the model family's template
and sent whole as `prompt` (vLLM and SGLang reject `suffix`; every server takes a raw prompt).
With `backend.fim = "server"` the prefix goes in `prompt` and the suffix in `suffix`, for servers
that apply the model's template themselves. With `promptFormat = "chat"`, `/v1/chat/completions`
with a fill-in-the-hole instruction, and the code is extracted from the answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..config import BackendSettings
from ..prompts import Prompt, neutralise
from ..prompts.chat import chat_messages, extract_code
from ..prompts.chatml import ChatMessage
from ..tokens import estimate_tokens
from .base import BackendError, GenerationParams, Progress, Usage
from .http import (
    ACTION_READ_TIMEOUT_S,
    HttpBackend,
    error_in_payload,
    sse_events,
)
from .member_names import MemberNames

log = logging.getLogger(__name__)

# Models listed by `doctor` (hosted APIs serve hundreds).
SHOWN_MODELS = 5


class OpenAIBackend(HttpBackend):
    what = "the OpenAI-compatible server"
    kind = "openai"

    def __init__(self, settings: BackendSettings):
        self.chat_format = settings.prompt_format == "chat"  # before the name is made from it
        super().__init__(settings)
        self.member_names = MemberNames(self.http, lambda: self.model)

    @property
    def format_name(self) -> str:
        return "chat" if self.chat_format else self.prompt_format.name

    async def start(self, progress: Progress) -> None:
        if self.model:
            return
        # No model configured: ask the server which one it serves, so the prompt format can be
        # picked from its name. A server that is down now is reported on the first request.
        progress(f"asking {self.http.shown_url} for its model")
        try:
            models = await self._models()
        except BackendError as error:
            log.info("could not list the models: %s", error)
            return
        if models:
            self.use_model(models[0])

    async def _models(self) -> list[str]:
        listing = await self.http.get_json("/v1/models")
        data = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(data, list):
            raise self.http.malformed("/v1/models has no 'data' list")
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]

    async def generate(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        if self.chat_format:
            async for piece in self._chat(prompt, params, usage):
                yield piece
            return
        body = self._body(params)
        if self.settings.fim == "server":
            fmt = self.prompt_format
            body["prompt"] = neutralise(prompt.context.prefix, fmt)
            body["suffix"] = neutralise(prompt.context.suffix, fmt)
        else:
            body["prompt"] = prompt.as_text()
        body["stop"] = list(self.stops)
        usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(str(body["prompt"]))
        if not (params.members and params.temperature == 0) or self.member_names.unsupported:
            async for piece in self._completions(body, usage):
                yield piece
            return
        sent: list[dict[str, Any]] = []  # requests besides the last one (the audit log)

        def after(name: str) -> AsyncIterator[str]:
            if usage.sent is not None:
                sent.insert(0, usage.sent)  # the first answer's request, abandoned
            rest = {**body, "prompt": body["prompt"] + name}
            rest["max_tokens"] = max(1, params.max_tokens - usage.generated_tokens)
            return self._completions(rest, usage, sent)

        answer = self._completions(body, usage)
        steered = self.member_names.keep_to_members(answer, body, params, usage, after, sent)
        try:
            async for piece in steered:
                yield piece
        finally:
            if sent and usage.sent is not None and "before" not in usage.sent:
                usage.sent = {**usage.sent, "before": sent}  # steering tried, not taken

    async def _completions(
        self, body: dict[str, Any], usage: Usage, before: list[dict[str, Any]] | None = None
    ) -> AsyncIterator[str]:
        """/v1/completions, streamed. `before`: other requests this answer made (audit log)."""
        async with self.post("/v1/completions", body, usage) as response:
            if before and usage.sent is not None:
                usage.sent = {**usage.sent, "before": before}
            events = sse_events(response, self.http.malformed)
            pieces = self.cut_stream(events, lambda e: self._piece(e, usage, chat=False), usage)
            async for piece in pieces:
                yield piece

    async def _chat(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        body = self._body(params)
        body["messages"] = chat_messages(prompt.context)
        usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(
            "".join(m["content"] for m in body["messages"])
        )
        answer: list[str] = []
        async with self.post("/v1/chat/completions", body, usage) as response:
            async for event in sse_events(response, self.http.malformed):
                text = self._piece(event, usage, chat=True)
                if text:
                    usage.generated_tokens += 1
                    answer.append(text)
        # The code can only be told from the prose once the answer is complete.
        code = extract_code("".join(answer), prompt.context)
        for line in code.splitlines(keepends=True):
            yield line

    def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        """Chat/instruct prompts (code actions): /v1/chat/completions, streamed."""
        return chat_completions(self, messages, params, usage)

    def _body(self, params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    def _piece(self, event: Any, usage: Usage, *, chat: bool) -> str:
        return stream_piece(self, event, usage, chat=chat)

    async def check(self) -> list[str]:
        models = await self._models()
        lines = [f"{self.what} at {self.http.shown_url} answers"]
        shown = ", ".join(models[:SHOWN_MODELS]) + (" …" if len(models) > SHOWN_MODELS else "")
        if self.model and models and self.model not in models:
            raise BackendError(
                f"{self.what} at {self.http.shown_url} does not serve the model '{self.model}'",
                f"set backend.model to one it serves: {shown}",
            )
        model = self.model or "(none set)"
        lines.append(f"model: {model}; the server has: {shown or 'none listed'}")
        lines.append(self.format_line())
        if self.http.has_key:
            lines.append(f"API key: from ${self.settings.api_key_env}")
        return lines


async def chat_completions(
    backend: HttpBackend, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
) -> AsyncIterator[str]:
    """OpenAI's /v1/chat/completions, streamed: vLLM, SGLang, llama-cpp-python's server and
    llama-server all serve it. The messages' text is neutralised: a file spelling a special token
    cannot steer a server that parses them in what its chat template makes of the messages."""
    fmt = backend.prompt_format
    body: dict[str, Any] = {
        "messages": [{"role": m.role, "content": neutralise(m.content, fmt)} for m in messages],
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "stream": True,
    }
    if backend.model:
        body["model"] = backend.model
    if params.seed is not None:
        body["seed"] = params.seed
    usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(
        "".join(m.content for m in messages)
    )
    post = backend.post("/v1/chat/completions", body, usage, ACTION_READ_TIMEOUT_S)
    async with post as response:
        events = sse_events(response, backend.http.malformed)
        pieces = backend.cut_stream(
            events, lambda e: stream_piece(backend, e, usage, chat=True), usage
        )
        async for piece in pieces:
            yield piece


def stream_piece(backend: HttpBackend, event: Any, usage: Usage, *, chat: bool) -> str:
    """The text of one stream event of /v1/completions, or /v1/chat/completions (`chat`)."""
    if not isinstance(event, dict):
        raise backend.http.malformed("an event was not a JSON object")
    error = error_in_payload(event)
    if error is not None:
        raise backend.http.failed_midway(error)
    counted = event.get("usage")
    if isinstance(counted, dict) and isinstance(counted.get("prompt_tokens"), int):
        usage.prompt_tokens = usage.evaluated_tokens = counted["prompt_tokens"]
    choices = event.get("choices")
    if not isinstance(choices, list):
        raise backend.http.malformed("an event has no 'choices' list")
    if not choices:
        return ""  # the usage-only chunk at the end
    choice = choices[0]
    if not isinstance(choice, dict):
        raise backend.http.malformed("a choice was not a JSON object")
    if chat:
        delta = choice.get("delta")
        text = delta.get("content") if isinstance(delta, dict) else None
    else:
        text = choice.get("text")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise backend.http.malformed("a choice's text was not a string")
    return text


def create(settings: BackendSettings) -> OpenAIBackend:
    return OpenAIBackend(settings)

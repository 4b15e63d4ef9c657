"""Member names at a member access, on OpenAI-compatible servers (issue 27, item 4). The embedded
backend steers its own token loop there (guide.py); a server's loop cannot be reached, but vLLM,
SGLang, llama.cpp's server and llama-cpp-python's all take `logit_bias`. Where the receiver
resolved and the answer is greedy, the answer streams as usual until its first identifier ends.
A member's name (or no name at all) goes on as it came; an invented one is replaced: the name is
asked token by token, each step one token with `logit_bias` keeping it to the tokens that
continue a member's name (their ids from the server's own tokenizer), the model choosing among
them, and the rest of the answer is then asked after that name, unbiased (the server's prompt
cache holds the shared start). So it costs nothing where the model names a member, and a few
one-token requests where it invents. A server without a tokenizer endpoint, or one that refuses
`logit_bias`, is asked once and then left alone: the candidates' check still applies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from cachetools import LRUCache

from .base import BackendError, GenerationParams, Usage
from .guide import identifier_end
from .http import HttpClient

# Added to the logits of the tokens that continue a member's name: the most OpenAI's API takes,
# so the step keeps to them, and the model's own scores choose among them.
BIAS = 100.0
# A member's name fits in this many steps; a longer one is left to the model.
NAME_MAX_TOKENS = 12
# The names looked at (a receiver with hundreds of members gets the first ones, sorted).
MEMBERS_MAX = 64


def _tokenize_bodies(text: str, model: str) -> list[tuple[str, dict[str, Any]]]:
    """The tokenizer endpoints, tried in this order: llama.cpp's server and vLLM (`/tokenize`,
    each reading its own fields), llama-cpp-python's server (`/extras/tokenize`)."""
    named = {"model": model} if model else {}
    return [
        (
            "/tokenize",
            {"content": text, "prompt": text, "add_special": False, "add_special_tokens": False}
            | named,
        ),
        ("/extras/tokenize", {"input": text} | named),
    ]


class MemberNames:
    def __init__(self, http: HttpClient, model: Callable[[], str]):
        self.http = http
        self.model = model  # the backend's model name (known after start)
        self.endpoint: str | None = None  # the tokenizer endpoint that answered
        self.unsupported = False  # no tokenizer endpoint, or logit_bias refused: no more tries
        self.tokens: LRUCache[str, tuple[int, ...]] = LRUCache(maxsize=4096)

    async def keep_to_members(
        self,
        answer: AsyncIterator[str],
        body: dict[str, Any],
        params: GenerationParams,
        usage: Usage,
        again: Callable[[str], AsyncIterator[str]],
        sent: list[dict[str, Any]],
    ) -> AsyncIterator[str]:
        """`answer`, or where its first identifier is no member of params.members: a member's
        name, then `again(name)` (the rest of the answer asked after it). `body`: the answer's
        request; `sent`: the requests made besides the last (for the audit log)."""
        head = ""
        async for piece in answer:
            head += piece
            if identifier_end(head) < len(head):
                break  # the name has ended
        name = head[: identifier_end(head)]
        invented = name and params.member_typed + name not in params.members
        chosen = await self._member_name(body, params, usage, sent) if invented else ""
        if not chosen:
            yield head
            async for piece in answer:
                yield piece
            return
        await answer.aclose()  # type: ignore[attr-defined]
        yield chosen
        async for piece in again(chosen):
            yield piece

    async def _member_name(
        self,
        body: dict[str, Any],
        params: GenerationParams,
        usage: Usage,
        sent: list[dict[str, Any]],
    ) -> str:
        """The rest of a member's name after what the person typed, chosen token by token by
        the model among the tokens that continue one; "" where the server cannot be steered."""
        if self.unsupported:
            return ""
        typed = params.member_typed
        rests = sorted(
            m[len(typed) :] for m in params.members if m.startswith(typed) and m != typed
        )
        alive = await self._tokenized(rests[:MEMBERS_MAX], sent)
        text = ""
        for step in range(NAME_MAX_TOKENS):
            allowed = sorted({tokens[step] for tokens in alive.values() if len(tokens) > step})
            if not allowed or text in alive:
                break
            asked = {**body, "prompt": body["prompt"] + text, "max_tokens": 1, "stream": False}
            asked["logit_bias"] = {str(token): BIAS for token in allowed}
            sent.append({"path": "/v1/completions", "body": asked})
            try:
                reply = await self.http.post_json("/v1/completions", asked)
                piece = reply["choices"][0]["text"]
            except (BackendError, LookupError, TypeError):
                self.unsupported = True  # a server that refuses logit_bias, or a malformed reply
                return ""
            usage.generated_tokens += 1
            if not isinstance(piece, str) or not piece:
                return ""
            text += piece
            alive = {rest: tokens for rest, tokens in alive.items() if rest.startswith(text)}
        return text if text in alive else ""

    async def _tokenized(
        self, names: list[str], sent: list[dict[str, Any]]
    ) -> dict[str, tuple[int, ...]]:
        """Each name's token ids from the server's tokenizer (cached); {} where it has none."""
        missing = [name for name in names if name not in self.tokens]
        if missing and self.endpoint is None:
            await self._tokenize(missing.pop(0), sent)  # finds the endpoint first
        if not self.unsupported:
            await asyncio.gather(*(self._tokenize(name, sent) for name in missing))
        return {name: self.tokens[name] for name in names if name in self.tokens}

    async def _tokenize(self, text: str, sent: list[dict[str, Any]]) -> None:
        for path, body in _tokenize_bodies(text, self.model()):
            if self.endpoint not in (None, path):
                continue
            sent.append({"path": path, "body": body})
            try:
                answer = await self.http.post_json(path, body)
            except BackendError:
                continue
            tokens = answer.get("tokens") if isinstance(answer, dict) else None
            if isinstance(tokens, list) and tokens and all(type(t) is int for t in tokens):
                self.endpoint = path
                self.tokens[text] = tuple(tokens)
                return
        if self.endpoint is None:
            self.unsupported = True

"""Protocol fakes: scripted HTTP/1.1 servers on 127.0.0.1 that speak the wire formats of real
serving engines (vLLM's OpenAI-compatible API, Ollama's NDJSON, llama.cpp's /infill) and can
misbehave on purpose (cut a stream, never answer, send garbage). They run in the test's event loop.

They are fakes of the protocols, not of the engines: what they answer is scripted by each test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    target: str  # as sent: a path, or an absolute URL when it came through as a proxy request
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def json(self) -> Any:
        return json.loads(self.body)


class Reply:
    """How a handler answers: a whole response, or a chunked stream it can cut at any point."""

    def __init__(self, writer: asyncio.StreamWriter, fake: ProtocolFake):
        self.writer = writer
        self.fake = fake
        self.started = False

    async def send(
        self, status: int, body: bytes | str | Any, headers: dict[str, str] | None = None
    ) -> None:
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        data = body.encode() if isinstance(body, str) else body
        head = {"Content-Length": str(len(data)), **(headers or {})}
        self.writer.write(_head(status, head) + data)
        await self.writer.drain()

    async def start(self, content_type: str = "text/event-stream", status: int = 200) -> None:
        head = {"Content-Type": content_type, "Transfer-Encoding": "chunked"}
        self.writer.write(_head(status, head))
        await self.writer.drain()
        self.started = True

    async def chunk(self, data: str | bytes) -> None:
        """One chunk; raises ConnectionError once the client has gone."""
        if self.fake.client_gone(self.writer):
            self.fake.mark_gone(self.writer)
            raise ConnectionResetError("client went away")
        raw = data.encode() if isinstance(data, str) else data
        try:
            self.writer.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            await self.writer.drain()
        except ConnectionError:
            self.fake.mark_gone(self.writer)
            raise

    async def sse(self, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        await self.chunk(f"data: {text}\n\n")

    async def ndjson(self, payload: Any) -> None:
        await self.chunk(json.dumps(payload) + "\n")

    async def end(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    def cut(self) -> None:
        """Drops the connection without finishing the response."""
        self.writer.transport.abort()


Handler = Callable[[Request, Reply], Awaitable[None]]


@dataclass
class ProtocolFake:
    """A loopback HTTP server whose routes are scripted by the test."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    fallback: Handler | None = None
    requests: list[Request] = field(default_factory=list)
    disconnects: int = 0
    port: int = 0
    tls: ssl.SSLContext | None = None
    _server: asyncio.Server | None = None
    _gone: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def mark_gone(self, writer: asyncio.StreamWriter) -> None:
        if id(writer) not in self._gone:
            self._gone.add(id(writer))
            self.disconnects += 1

    def client_gone(self, writer: asyncio.StreamWriter) -> bool:
        return id(writer) in self._gone or writer.is_closing()

    async def __aenter__(self) -> ProtocolFake:
        port = self.port or 0  # a port set beforehand: a server that comes up where one was down
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                handler = self.routes.get((request.method, request.path), self.fallback)
                reply = Reply(writer, self)
                watcher = asyncio.create_task(self._watch(reader, writer))
                try:
                    if handler is None:
                        await reply.send(404, {"error": "no such route"})
                    else:
                        await handler(request, reply)
                finally:
                    watcher.cancel()
                if writer.is_closing() or id(writer) in self._gone:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _watch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """While a handler answers, the client sends nothing: EOF here means it hung up."""
        with contextlib.suppress(ConnectionError):
            data = await reader.read(1)
            if not data:
                self.mark_gone(writer)


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header = (await reader.readline()).decode("latin-1").rstrip("\r\n")
        if not header:
            break
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Request(method, target, headers, body)


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --- the wire formats of real engines -------------------------------------------------------


def vllm_chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    """One streamed /v1/completions event as vLLM sends it."""
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": 1,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "text": text,
                "logprobs": None,
                "finish_reason": finish,
                "stop_reason": None,
            }
        ],
        "usage": None,
    }


def vllm_completions(pieces: list[str], delay: float = 0.0, usage: int | None = None) -> Handler:
    """vLLM's /v1/completions: streams `pieces`; rejects `suffix` like vLLM does (400)."""

    async def handler(request: Request, reply: Reply) -> None:
        body = request.json()
        if "suffix" in body:
            await reply.send(
                400,
                {
                    "object": "error",
                    "message": "suffix is not currently supported",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                },
            )
            return
        await reply.start()
        for index, piece in enumerate(pieces):
            if delay:
                await asyncio.sleep(delay)
            finish = "stop" if index == len(pieces) - 1 else None
            await reply.sse(vllm_chunk(piece, finish))
        if usage is not None:
            await reply.sse(
                {
                    "id": "cmpl-fake",
                    "object": "text_completion",
                    "created": 1,
                    "model": "fake-model",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": usage,
                        "completion_tokens": len(pieces),
                        "total_tokens": usage + len(pieces),
                    },
                }
            )
        await reply.sse("[DONE]")
        await reply.end()

    return handler


def vllm_models(*names: str) -> Handler:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.send(
            200,
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": 1, "owned_by": "vllm"}
                    for name in names
                ],
            },
        )

    return handler


def openai_chat(answer_pieces: list[str]) -> Handler:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.start()
        await reply.sse(
            {
                "id": "c",
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            }
        )
        for piece in answer_pieces:
            await reply.sse(
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
            )
        await reply.sse(
            {
                "id": "c",
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
        )
        await reply.sse("[DONE]")
        await reply.end()

    return handler


def ollama_generate(
    pieces: list[str], models: tuple[str, ...] = ("qwen2.5-coder:1.5b",)
) -> Handler:
    """Ollama's /api/generate: NDJSON, a final object with done=true and the counts; 404 with
    Ollama's message for a model it does not have."""

    async def handler(request: Request, reply: Reply) -> None:
        body = request.json()
        if body.get("model") not in models:
            await reply.send(404, {"error": f"model '{body.get('model')}' not found"})
            return
        await reply.start("application/x-ndjson")
        for piece in pieces:
            await reply.ndjson(
                {
                    "model": body["model"],
                    "created_at": "2025-01-01T00:00:00Z",
                    "response": piece,
                    "done": False,
                }
            )
        await reply.ndjson(
            {
                "model": body["model"],
                "created_at": "2025-01-01T00:00:00Z",
                "response": "",
                "done": True,
                "done_reason": "stop",
                "total_duration": 1000,
                "prompt_eval_count": 42,
                "eval_count": len(pieces),
            }
        )
        await reply.end()

    return handler


def ollama_tags(*names: str) -> Handler:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.send(
            200,
            {"models": [{"name": name, "model": name, "size": 1, "digest": "0"} for name in names]},
        )

    return handler


def llamacpp_infill(pieces: list[str], evaluated: int = 30, prompt_n: int = 4) -> Handler:
    """llama-server's /infill stream: `content` per event, a final `stop: true` event with the
    counts and timings, no [DONE]."""

    async def handler(request: Request, reply: Reply) -> None:
        await reply.start()
        for piece in pieces:
            await reply.sse(
                {
                    "index": 0,
                    "content": piece,
                    "tokens": [1],
                    "stop": False,
                    "id_slot": 0,
                    "tokens_predicted": 1,
                    "tokens_evaluated": evaluated,
                }
            )
        await reply.sse(
            {
                "index": 0,
                "content": "",
                "tokens": [],
                "id_slot": 0,
                "stop": True,
                "model": "fake.gguf",
                "tokens_predicted": len(pieces),
                "tokens_evaluated": evaluated,
                "tokens_cached": evaluated + len(pieces),
                "stop_type": "eos",
                "timings": {"prompt_n": prompt_n, "predicted_n": len(pieces)},
            }
        )
        await reply.end()

    return handler

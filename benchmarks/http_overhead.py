"""What the HTTP path adds per request: the `openai` backend against llama-cpp-python's server vs
the model in-process, same model (the embedded default GGUF), same prompts, greedy.

Three paths are timed on every prompt, interleaved round by round in rotating order so machine
noise hits them alike: (1) `openai` backend -> `python -m llama_cpp.server`; (2) the same engine
in-process (llama-cpp-python's `Llama.create_completion`, the code the server runs), so (1) - (2)
is the cost of HTTP alone (FastAPI, SSE, loopback, httpx, parsing); (3) ghosttype's embedded
backend, so (1) - (3) is what a user trades by pointing at a server (HTTP plus engine
differences). Each prompt is sent once to warm the KV caches, then each round re-evaluates the
last prompt token and generates up to --max-tokens. A last figure isolates the transport: the
`openai` backend against a loopback stub that answers at once (no model at all).

    .venv/bin/python benchmarks/http_overhead.py [--rounds 15] [--max-tokens 8] [--threads 1]

All three paths use the same number of llama.cpp threads (default 1). On a 2-core machine the
server with 2 threads is several times slower per token than the same engine in-process: its event
loop thread competes with llama.cpp's spinning worker threads. Run servers with fewer threads than
cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ghosttype.backends import create_backend
from ghosttype.backends.base import Backend, GenerationParams, Usage
from ghosttype.backends.model_store import ensure_model
from ghosttype.config import BackendSettings
from ghosttype.context.types import PromptContext
from ghosttype.prompts import FORMATS, Prompt, build_prompt

ROOT = Path(__file__).resolve().parent.parent
# Cursor positions in real files of this repository: (file, the text the cursor follows).
CURSORS = [
    ("server/ghosttype/config.py", "def _str(value: Any) -> str:\n    "),
    ("server/ghosttype/config.py", "def cache_dir() -> Path:\n"),
    (
        "server/ghosttype/prompts/builder.py",
        "def _merge(segments: list[Segment]) -> list[Segment]:\n",
    ),
    ("server/ghosttype/backends/scripted.py", "def split_tokens(text: str, size: int = 4) -> "),
    ("server/ghosttype/documents.py", "\n\n"),
]
PREFIX_CHARS = 1500
SUFFIX_CHARS = 200


def prompts() -> list[Prompt]:
    fmt = FORMATS["qwen2.5-coder"]
    made = []
    for name, marker in CURSORS:
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        at = text.find(marker)
        if at < 0:
            continue
        cursor = at + len(marker)
        context = PromptContext(
            path=name,
            language="python",
            prefix=text[max(0, cursor - PREFIX_CHARS) : cursor],
            suffix=text[cursor : cursor + SUFFIX_CHARS],
        )
        made.append(build_prompt(fmt, context))
    return made


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start_server(model: Path, port: int, log: Path, threads: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads), "--verbose", "False",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.25)
    process.kill()
    raise SystemExit(f"llama_cpp.server did not start; see {log}")


async def timed(backend: Backend, prompt: Prompt, max_tokens: int) -> tuple[float, str]:
    started = time.perf_counter()
    pieces = [p async for p in backend.generate(prompt, GenerationParams(max_tokens), Usage())]
    return (time.perf_counter() - started) * 1000, "".join(pieces)


class SameEngine:
    """llama-cpp-python's Llama in this process, called the way its server calls it."""

    def __init__(self, model: Path, threads: int):
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(model), n_ctx=4096, n_threads=threads, verbose=False)

    def _run(self, prompt: Prompt, max_tokens: int) -> str:
        stream = self.llm.create_completion(
            prompt.as_text(),
            max_tokens=max_tokens,
            temperature=0.0,
            stream=True,
            stop=list(prompt.format.special_tokens),
        )
        return "".join(chunk["choices"][0]["text"] for chunk in stream)

    async def timed(self, prompt: Prompt, max_tokens: int) -> tuple[float, str]:
        started = time.perf_counter()
        text = await asyncio.to_thread(self._run, prompt, max_tokens)
        return (time.perf_counter() - started) * 1000, text


async def stub_server(pieces: int) -> tuple[asyncio.Server, int]:
    """A loopback /v1/completions that streams `pieces` events at once: the transport alone."""
    event = json.dumps({"choices": [{"index": 0, "text": "x", "finish_reason": None}]})
    body = "".join(f"data: {event}\n\n" for _ in range(pieces)) + "data: [DONE]\n\n"
    chunk = f"{len(body):x}\r\n{body}\r\n0\r\n\r\n".encode()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                headers = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in headers.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")),
                    0,
                )  # fmt: skip
                await reader.readexactly(length)
                writer.write(head + chunk)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    model = ensure_model()
    chosen = prompts()
    port = free_port()
    log = Path(tempfile.gettempdir()) / "ghosttype-http-overhead-server.log"
    server = start_server(model, port, log, args.threads)
    http = create_backend(
        BackendSettings(kind="openai", url=f"http://127.0.0.1:{port}", timeout_ms=120_000)
    )
    embedded = create_backend(BackendSettings(kind="embedded", threads=args.threads))
    same = SameEngine(model, args.threads)
    try:
        await http.start(lambda message: None)
        await embedded.start(lambda message: None)
        paths = {
            "http": lambda p: timed(http, p, args.max_tokens),
            "same": lambda p: same.timed(p, args.max_tokens),
            "embedded": lambda p: timed(embedded, p, args.max_tokens),
        }
        times: dict[str, list[float]] = {name: [] for name in paths}
        vs_same: list[float] = []
        vs_embedded: list[float] = []
        print(f"model {model.name}; {len(chosen)} prompts, {args.rounds} rounds, "
              f"up to {args.max_tokens} tokens each, greedy, {args.threads} thread(s)")  # fmt: skip
        print(f"{'prompt':>6} {'http':>8} {'in-process':>11} {'embedded':>9} "
              f"{'http-inproc':>12} {'http-embedded':>14}  (p50 ms)  same text")  # fmt: skip
        for index, prompt in enumerate(chosen):
            for run in paths.values():
                await run(prompt)  # warm each KV cache
            rows: dict[str, list[float]] = {name: [] for name in paths}
            texts: set[str] = set()
            for round_ in range(args.rounds):
                names = list(paths)
                names = names[round_ % 3 :] + names[: round_ % 3]  # rotate who goes first
                for name in names:
                    ms, text = await paths[name](prompt)
                    rows[name].append(ms)
                    texts.add(text)
            for name in paths:
                times[name] += rows[name]
            a = [h - s for h, s in zip(rows["http"], rows["same"], strict=True)]
            b = [h - e for h, e in zip(rows["http"], rows["embedded"], strict=True)]
            vs_same += a
            vs_embedded += b
            m = {name: statistics.median(values) for name, values in rows.items()}
            print(f"{index + 1:>6} {m['http']:>8.1f} {m['same']:>11.1f} {m['embedded']:>9.1f} "
                  f"{statistics.median(a):>12.1f} {statistics.median(b):>14.1f}"
                  f"            {'yes' if len(texts) == 1 else 'no'}")  # fmt: skip

        stub, stub_port = await stub_server(args.max_tokens)
        transport = create_backend(
            BackendSettings(kind="openai", url=f"http://127.0.0.1:{stub_port}")
        )
        floor = [(await timed(transport, chosen[0], args.max_tokens))[0] for _ in range(200)]
        await transport.close()
        stub.close()

        print()
        p50 = {name: percentile(values, 0.5) for name, values in times.items()}
        print(f"requests per path: {len(vs_same)}; p50 ms: http {p50['http']:.1f}, "
              f"in-process {p50['same']:.1f}, embedded {p50['embedded']:.1f}")  # fmt: skip
        print(f"added by HTTP (http - same engine in-process): p50 {percentile(vs_same, 0.5):.1f}"
              f" ms, p90 {percentile(vs_same, 0.9):.1f} ms (target p50 <= 10 ms)")  # fmt: skip
        print(f"http - embedded backend: p50 {percentile(vs_embedded, 0.5):.1f} ms, "
              f"p90 {percentile(vs_embedded, 0.9):.1f} ms")  # fmt: skip
        print(f"transport alone (stub server, {args.max_tokens} events): "
              f"p50 {percentile(floor, 0.5):.2f} ms, p90 {percentile(floor, 0.9):.2f} ms")  # fmt: skip
    finally:
        await http.close()
        await embedded.close()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    asyncio.run(main())

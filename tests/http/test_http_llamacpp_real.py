"""The `llamacpp` backend against llama.cpp's real `llama-server` (built from the llama.cpp source
inside the llama-cpp-python sdist by scripts/build-llama-server.sh), serving the embedded GGUF."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.context.types import Snippet
from tests.http.helpers import collect, make_backend, make_context, make_prompt
from tests.http.real_servers import ServerProcess, llama_server, llama_server_binary, model_file

pytestmark = [pytest.mark.model, pytest.mark.usefixtures("no_proxy_env")]

HELPERS = Snippet(
    "src/geometry.py",
    "def distance(p, q):\n    return ((p.x - q.x) ** 2 + (p.y - q.y) ** 2) ** 0.5\n",
)
# A longer file before the cursor, so the part a keystroke changes is small.
FILE_PREFIX = "".join(f"def f{i}(x):\n    return x * {i}\n\n\n" for i in range(40))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    binary = llama_server_binary()
    if binary is None or not binary.is_file():
        # Not skipped silently: a model run without the server would prove nothing about it.
        pytest.fail("llama-server is not built: run scripts/build-llama-server.sh first")
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    process = llama_server(binary, model_file(), log)
    process.start()
    yield process
    process.stop()


async def test_infill_with_neighbour_snippets(server: ServerProcess) -> None:
    backend = make_backend("llamacpp", server.url, model="qwen2.5-coder-0.5b", timeout_ms=60000)
    context = make_context(snippets=(HELPERS,))
    usage = Usage()
    text = await collect(backend, make_prompt(backend, context), max_tokens=8, usage=usage)
    lines = await backend.check()
    await backend.close()
    assert text.startswith("a + b")
    assert "<|" not in text
    assert usage.prompt_tokens > 20 and 0 < usage.generated_tokens <= 8
    assert "healthy" in lines[0]
    assert any("qwen2.5-coder-0.5b" in line for line in lines)


async def test_kv_cache_is_reused_across_keystrokes(server: ServerProcess) -> None:
    backend = make_backend("llamacpp", server.url, timeout_ms=60000)
    first, second = Usage(), Usage()
    typed = make_context(prefix=FILE_PREFIX + "def add(a, b):\n    return ", suffix="\n")
    await collect(backend, make_prompt(backend, typed), max_tokens=4, usage=first)
    one_more = make_context(prefix=typed.prefix + "a", suffix="\n")
    await collect(backend, make_prompt(backend, one_more), max_tokens=4, usage=second)
    await backend.close()
    assert second.prompt_tokens > 300
    # Only the tail after the change was evaluated; the rest came from the server's KV cache.
    assert second.evaluated_tokens < 20, (second.prompt_tokens, second.evaluated_tokens)


async def test_cancellation_stops_the_server_generating(server: ServerProcess) -> None:
    backend = make_backend("llamacpp", server.url, timeout_ms=60000)
    endless = make_context(prefix="numbers = [\n    1,\n    2,\n    3,\n    4,\n", suffix="")
    generation = backend.generate(
        make_prompt(backend, endless), GenerationParams(max_tokens=1500), Usage()
    )
    await anext(generation)
    busy_cpu, busy_wall = server.cpu_seconds(), time.monotonic()
    pieces = [await anext(generation) for _ in range(15)]
    busy_rate = (server.cpu_seconds() - busy_cpu) / (time.monotonic() - busy_wall)
    await generation.aclose()  # type: ignore[attr-defined]

    # If the server were still generating, it would burn as much CPU as while we read.
    await asyncio.sleep(1.0)
    idle_cpu = server.cpu_seconds()
    await asyncio.sleep(2.0)
    idle_rate = (server.cpu_seconds() - idle_cpu) / 2.0
    assert "".join(pieces).count(",") >= 3
    assert idle_rate < busy_rate / 3, (busy_rate, idle_rate)
    await backend.close()

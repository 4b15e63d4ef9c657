"""The `openai` backend against a real OpenAI-compatible server: llama-cpp-python's
`python -m llama_cpp.server` on 127.0.0.1, serving the embedded GGUF."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghosttype.backends.base import Backend, BackendError, GenerationParams, Usage
from tests.http.helpers import collect, make_backend, make_context, make_prompt
from tests.http.real_servers import ServerProcess, llama_cpp_python_server, model_file

pytestmark = [pytest.mark.model, pytest.mark.usefixtures("no_proxy_env")]

# A prompt the model continues for a long time (a list that keeps counting).
ENDLESS = make_context(prefix="numbers = [\n    1,\n    2,\n    3,\n    4,\n", suffix="")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("llama-cpp-python") / "server.log"
    process = llama_cpp_python_server(model_file(), log)
    process.start()
    yield process
    process.stop()


async def test_completes_with_a_client_built_fim_prompt(server: ServerProcess) -> None:
    backend = make_backend("openai", server.url, timeout_ms=60000)
    await backend.start(lambda message: None)  # discovers the model, picks its format
    assert backend.prompt_format.name == "qwen2.5-coder"
    usage = Usage()
    text = await collect(backend, max_tokens=8, usage=usage)
    lines = await backend.check()
    await backend.close()
    assert text.startswith("a + b")
    assert "<|" not in text
    assert 0 < usage.generated_tokens <= 8
    assert any("prompt format: qwen2.5-coder (picked from the model name" in x for x in lines)


async def test_cancellation_stops_the_server_generating(server: ServerProcess) -> None:
    backend = make_backend("openai", server.url, timeout_ms=60000)
    prompt = make_prompt(backend, ENDLESS)
    generation = backend.generate(prompt, GenerationParams(max_tokens=1500), Usage())
    await anext(generation)
    busy_cpu, busy_wall = server.cpu_seconds(), time.monotonic()
    pieces = [await anext(generation) for _ in range(15)]
    busy_rate = (server.cpu_seconds() - busy_cpu) / (time.monotonic() - busy_wall)
    await generation.aclose()  # type: ignore[attr-defined]

    # If the server were still generating, it would burn as much CPU as while we read.
    await asyncio.sleep(1.0)  # the server notices at its next token
    idle_cpu = server.cpu_seconds()
    await asyncio.sleep(2.0)
    idle_rate = (server.cpu_seconds() - idle_cpu) / 2.0
    assert "".join(pieces).count(",") >= 3  # it was really counting
    assert idle_rate < busy_rate / 3, (busy_rate, idle_rate)

    # And it serves the next request without first finishing 1,500 tokens (minutes here; the
    # bound leaves room for a machine busy with other work).
    started = time.monotonic()
    assert (await collect(backend, max_tokens=4)).startswith("a + b")
    assert time.monotonic() - started < 30
    await backend.close()


async def test_server_restarted_mid_session(server: ServerProcess) -> None:
    backend = make_backend("openai", server.url, timeout_ms=30000)
    assert (await collect(backend, max_tokens=4)).startswith("a + b")

    server.stop()
    with pytest.raises(BackendError) as raised:
        await collect(backend, max_tokens=4)
    assert "refused" in raised.value.message or "closed the connection" in raised.value.message

    server.start()  # the same port; the same backend object carries on by itself
    deadline = time.monotonic() + 30
    while True:
        try:
            text = await collect(backend, max_tokens=4)
            break
        except BackendError:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
    await backend.close()
    assert text.startswith("a + b")


def test_model_file_is_the_embedded_default() -> None:
    assert model_file().name.startswith("qwen2.5-coder-0.5b") and Path(model_file()).stat().st_size


# A receiver typed as a class whose members the model has not seen (issue 27: the index knows
# them; the prompt shows another class).
LEDGER = make_context(
    prefix="class Ledger:\n    def post_entry(self, amount):\n        ...\n\n"
    "    def balance_of(self, account):\n        ...\n\n\ndef pay(store: Ledger, amount):\n    store.",
    suffix="\n",
)


async def _answer(backend: Backend, members: tuple[str, ...], typed: str = "") -> tuple[str, Usage]:
    usage = Usage()
    params = GenerationParams(max_tokens=8, members=frozenset(members), member_typed=typed)
    prompt = make_prompt(backend, LEDGER)
    return "".join([p async for p in backend.generate(prompt, params, usage)]), usage


async def test_an_invented_member_name_is_replaced_by_one_the_receiver_has(
    server: ServerProcess,
) -> None:
    backend = make_backend("openai", server.url, timeout_ms=60000)
    await backend.start(lambda message: None)
    plain, _ = await _answer(backend, ())
    assert plain.startswith("post_entry(")  # what the prompt shows, not a member of these
    steered, usage = await _answer(backend, ("reverse_last", "close_books"))
    typed, _ = await _answer(backend, ("reverse_last", "record_payment", "refund"), typed="re")
    kept, kept_usage = await _answer(backend, ("post_entry", "balance_of"))
    await backend.close()
    assert steered.split("(")[0] in ("reverse_last", "close_books")
    assert typed.split("(")[0] in ("verse_last", "cord_payment", "fund")
    # The audit log's line holds every request: the abandoned first answer, the tokenizer's,
    # the one-token steps with logit_bias, then the rest of the answer.
    assert usage.sent is not None
    before = usage.sent["before"]
    assert before[0]["path"] == "/v1/completions" and "logit_bias" not in before[0]["body"]
    assert any(r["path"] == "/extras/tokenize" for r in before)
    steps = [r["body"] for r in before if "logit_bias" in r["body"]]
    assert steps and all(step["max_tokens"] == 1 for step in steps)
    assert kept.startswith("post_entry(")  # a member already: nothing more asked
    assert kept_usage.sent is not None and "before" not in kept_usage.sent

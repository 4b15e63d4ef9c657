"""Member names on OpenAI-compatible servers (backends/member_names.py) against protocol fakes:
the faults a real server would not produce on demand (no tokenizer endpoint, logit_bias refused)
and vLLM's /tokenize. The steering itself is tested against a real server in
test_http_openai_real.py."""

from __future__ import annotations

from typing import Any

import pytest

from ghosttype.backends.base import GenerationParams, Usage
from tests.http.helpers import make_backend, make_prompt
from tests.http.http_fakes import ProtocolFake, Reply, Request, vllm_completions

pytestmark = pytest.mark.usefixtures("no_proxy_env")

MEMBERS = frozenset({"post_entry", "balance_of"})


async def answer(url: str, backend: Any = None) -> tuple[str, Usage, Any]:
    backend = backend or make_backend("openai", url, model="qwen2.5-coder-1.5b")
    usage = Usage()
    params = GenerationParams(max_tokens=16, members=MEMBERS)
    text = "".join([p async for p in backend.generate(make_prompt(backend), params, usage)])
    return text, usage, backend


def steps_answering(pieces: list[str]) -> Any:
    """/v1/completions: a stream as vLLM's, or (a one-token step, not streamed) the next piece."""
    streamed = vllm_completions(["pay", "(amount)"])
    left = list(pieces)

    async def handler(request: Request, reply: Reply) -> None:
        body = request.json()
        if body.get("stream"):
            await streamed(request, reply)
            return
        await reply.send(200, {"choices": [{"text": left.pop(0), "index": 0}]})

    return handler


async def test_vllm_tokenize_steers_an_invented_name_to_a_member() -> None:
    async def tokenize(request: Request, reply: Reply) -> None:
        text = request.json()["prompt"]  # vLLM reads `prompt`
        ids = {"post_entry": [1, 2], "balance_of": [3, 4]}[text]
        await reply.send(200, {"tokens": ids, "count": len(ids), "max_model_len": 4096})

    async with ProtocolFake() as fake:
        fake.route("POST", "/tokenize", tokenize)
        fake.route("POST", "/v1/completions", steps_answering(["balance", "_of"]))
        text, usage, backend = await answer(fake.url)
        await backend.close()
    assert text.startswith("balance_of")  # then the rest, asked after the name
    steps = [r.json() for r in fake.requests if r.path == "/v1/completions"][1:-1]
    assert [step["logit_bias"] for step in steps] == [{"1": 100.0, "3": 100.0}, {"4": 100.0}]
    assert steps[1]["prompt"].endswith("balance")
    last = fake.requests[-1].json()
    assert last["prompt"].endswith("balance_of") and "logit_bias" not in last
    assert usage.sent is not None and len(usage.sent["before"]) == 5  # answer, 2 tokenize, 2 steps


async def test_a_server_without_a_tokenizer_keeps_the_models_answer_and_is_not_asked_again() -> (
    None
):
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(["pay", "(amount)"]))
        first, _, backend = await answer(fake.url)
        asked = len(fake.requests)
        second, usage, _ = await answer(fake.url, backend)
        await backend.close()
    assert first == second == "pay(amount)"
    tried = [r.path for r in fake.requests[:asked]]
    assert tried == ["/v1/completions", "/tokenize", "/extras/tokenize"]  # both 404
    assert [r.path for r in fake.requests[asked:]] == ["/v1/completions"]
    assert usage.sent is not None and "before" not in usage.sent


async def test_a_server_that_refuses_logit_bias_keeps_the_models_answer() -> None:
    async def tokenize(request: Request, reply: Reply) -> None:
        await reply.send(200, {"tokens": [7]})

    async def refusing(request: Request, reply: Reply) -> None:
        if request.json().get("stream"):
            await vllm_completions(["pay", "(amount)"])(request, reply)
        else:
            await reply.send(400, {"error": {"message": "logit_bias is not supported"}})

    async with ProtocolFake() as fake:
        fake.route("POST", "/tokenize", tokenize)
        fake.route("POST", "/v1/completions", refusing)
        text, _, backend = await answer(fake.url)
        assert backend.member_names.unsupported
        await backend.close()
    assert text == "pay(amount)"

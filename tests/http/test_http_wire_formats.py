"""The three HTTP backends against protocol fakes of vLLM, Ollama and llama.cpp's /infill."""

from __future__ import annotations

import pytest

from ghosttype.backends.base import BackendError, GenerationParams, Usage
from ghosttype.context.types import Snippet
from tests.http.helpers import collect, make_backend, make_context, make_prompt
from tests.http.http_fakes import (
    ProtocolFake,
    llamacpp_infill,
    ollama_generate,
    ollama_tags,
    openai_chat,
    vllm_completions,
    vllm_models,
)

pytestmark = pytest.mark.usefixtures("no_proxy_env")


# --- openai against vLLM's wire format --------------------------------------------------------


async def test_openai_sends_client_built_fim_prompt_to_vllm() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(["a ", "+ b"], usage=17))
        backend = make_backend("openai", fake.url, model="Qwen/Qwen2.5-Coder-1.5B")
        usage = Usage()
        text = await collect(backend, usage=usage, max_tokens=32)
        await backend.close()
    assert text == "a + b"
    body = fake.requests[0].json()
    assert (
        body["prompt"] == "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>"
    )
    assert "suffix" not in body  # vLLM and SGLang reject it
    assert body["model"] == "Qwen/Qwen2.5-Coder-1.5B"
    assert body["stream"] is True and body["max_tokens"] == 32 and body["temperature"] == 0.0
    assert "<|endoftext|>" in body["stop"] and "<|file_sep|>" in body["stop"]
    assert usage.prompt_tokens == 17 and usage.generated_tokens == 2


async def test_openai_neutralises_special_tokens_in_user_text() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(["x"]))
        backend = make_backend("openai", fake.url, model="qwen2.5-coder")
        context = make_context(prefix="s = '<|fim_suffix|>'\n", suffix="<|endoftext|>")
        await collect(backend, make_prompt(backend, context))
        await backend.close()
    prompt = fake.requests[0].json()["prompt"]
    assert prompt.count("<|fim_suffix|>") == 1  # only the template's own marker
    assert "<|endoftext|>" not in prompt


async def test_openai_repo_level_prompt_carries_snippets() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(["x"]))
        backend = make_backend("openai", fake.url, model="qwen2.5-coder-7b")
        context = make_context(snippets=(Snippet("src/util.py", "def helper(): ..."),))
        await collect(backend, make_prompt(backend, context))
        await backend.close()
    prompt = fake.requests[0].json()["prompt"]
    assert prompt.startswith("<|repo_name|>demo\n<|file_sep|>src/util.py\ndef helper(): ...")


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        pytest.param(["a + b", "<|endoftext|>", "junk"], "a + b", id="whole-token"),
        pytest.param(["a + b<|fim", "_pad|>junk"], "a + b", id="token-split-across-pieces"),
        pytest.param(["a < b", " <| c"], "a < b <| c", id="lookalike-kept"),
    ],
)
async def test_special_tokens_never_reach_the_editor(pieces: list[str], expected: str) -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(pieces))
        backend = make_backend("openai", fake.url, model="qwen2.5-coder")
        assert await collect(backend) == expected
        await backend.close()


async def test_server_side_fim_is_rejected_by_vllm_with_a_clear_message() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/completions", vllm_completions(["x"]))
        backend = make_backend("openai", fake.url, model="m", fim="server")
        with pytest.raises(BackendError) as raised:
            await collect(backend)
        await backend.close()
    body = fake.requests[0].json()
    assert body["prompt"] == "def add(a, b):\n    return " and body["suffix"] == "\n"
    assert "rejected the request (400)" in raised.value.message
    assert "suffix is not" not in str(raised.value)  # the server's words: debug log only


async def test_openai_discovers_the_model_and_picks_its_format() -> None:
    async with ProtocolFake() as fake:
        fake.route("GET", "/v1/models", vllm_models("bigcode/starcoder2-7b"))
        fake.route("POST", "/v1/completions", vllm_completions(["x"]))
        backend = make_backend("openai", fake.url)
        assert backend.prompt_format.name == "qwen2.5-coder"
        await backend.start(lambda message: None)
        assert backend.prompt_format.name == "starcoder2"
        assert "starcoder2" in backend.name
        await collect(backend)
        lines = await backend.check()
        await backend.close()
    body = fake.requests[-2].json()
    assert body["model"] == "bigcode/starcoder2-7b"
    assert body["prompt"].startswith("<fim_prefix>")
    assert any("prompt format: starcoder2" in line for line in lines)


async def test_openai_check_names_a_model_the_server_lacks() -> None:
    async with ProtocolFake() as fake:
        fake.route("GET", "/v1/models", vllm_models("deepseek-ai/deepseek-coder-6.7b-base"))
        backend = make_backend("openai", fake.url, model="wrong-model")
        with pytest.raises(BackendError) as raised:
            await backend.check()
        ok = make_backend("openai", fake.url, model="deepseek-ai/deepseek-coder-6.7b-base")
        lines = await ok.check()
        await backend.close()
        await ok.close()
    assert "wrong-model" in raised.value.message
    assert "deepseek-ai/deepseek-coder-6.7b-base" in raised.value.hint
    assert any("prompt format: deepseek-coder (picked from the model name" in x for x in lines)


async def test_chat_format_extracts_code_from_the_answer() -> None:
    answer = ["Sure! Here is the code:\n\n```py", "thon\n    return a + b\n", "```\nHope it helps."]
    async with ProtocolFake() as fake:
        fake.route("POST", "/v1/chat/completions", openai_chat(answer))
        backend = make_backend("openai", fake.url, model="gpt-4o-mini", prompt_format="chat")
        assert "format chat" in backend.name
        text = await collect(backend)
        await backend.close()
    assert text == "a + b"
    body = fake.requests[0].json()
    assert body["messages"][0]["role"] == "system"
    assert "{{FILL_HERE}}" in body["messages"][1]["content"]
    assert "prompt" not in body and "stop" not in body


# --- ollama ----------------------------------------------------------------------------------


async def test_ollama_raw_fim_prompt_and_ndjson_stream() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/api/generate", ollama_generate(["a", " + b", "<|file_sep|>x"]))
        backend = make_backend("ollama", fake.url, model="qwen2.5-coder:1.5b")
        usage = Usage()
        text = await collect(backend, usage=usage, max_tokens=20)
        await backend.close()
    assert text == "a + b"
    body = fake.requests[0].json()
    assert body["raw"] is True and body["stream"] is True and body["keep_alive"]
    assert body["prompt"].startswith("<|fim_prefix|>") and "suffix" not in body
    assert body["options"]["num_predict"] == 20 and "<|endoftext|>" in body["options"]["stop"]


async def test_ollama_server_side_template_sends_suffix_without_raw() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/api/generate", ollama_generate(["a + b"]))
        backend = make_backend("ollama", fake.url, model="qwen2.5-coder:1.5b", fim="server")
        usage = Usage()
        assert await collect(backend, usage=usage) == "a + b"
        await backend.close()
    body = fake.requests[0].json()
    assert "raw" not in body
    assert body["prompt"] == "def add(a, b):\n    return " and body["suffix"] == "\n"
    assert usage.evaluated_tokens == 42


async def test_ollama_unknown_model_is_a_404_that_names_it() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/api/generate", ollama_generate(["x"]))
        fake.route("GET", "/api/tags", ollama_tags("qwen2.5-coder:1.5b"))
        backend = make_backend("ollama", fake.url, model="codellama:7b-code")
        with pytest.raises(BackendError) as raised:
            await collect(backend)
        with pytest.raises(BackendError) as checked:
            await backend.check()
        await backend.close()
    assert "404" in raised.value.message and "codellama:7b-code" in raised.value.message
    assert "ollama pull codellama:7b-code" in checked.value.hint


async def test_ollama_check_and_empty_model() -> None:
    async with ProtocolFake() as fake:
        fake.route("GET", "/api/tags", ollama_tags("codellama:7b-code", "qwen2.5-coder:latest"))
        backend = make_backend("ollama", fake.url, model="qwen2.5-coder")
        lines = await backend.check()
        await backend.close()
        empty = make_backend("ollama", fake.url)
        with pytest.raises(BackendError, match=r"backend\.model is empty"):
            await empty.start(lambda message: None)
        await empty.close()
    assert "model 'qwen2.5-coder' is there" in lines[0]
    assert "qwen2.5-coder" in lines[1] and "raw FIM prompt" in lines[1]


async def test_ollama_error_in_stream() -> None:
    async def handler(request, reply):  # type: ignore[no-untyped-def]
        await reply.start("application/x-ndjson")
        await reply.ndjson({"response": "a", "done": False})
        await reply.ndjson({"error": f"out of memory while echoing {request.body[:20]!r}"})
        await reply.end()

    async with ProtocolFake() as fake:
        fake.route("POST", "/api/generate", handler)
        backend = make_backend("ollama", fake.url, model="m")
        with pytest.raises(BackendError) as raised:
            await collect(backend)
        await backend.close()
    assert "reported an error while generating" in raised.value.message
    assert "def add" not in str(raised.value)


# --- llama.cpp /infill -----------------------------------------------------------------------


async def test_llamacpp_infill_request_and_usage() -> None:
    async with ProtocolFake() as fake:
        fake.route("POST", "/infill", llamacpp_infill(["a", " + b"], evaluated=30, prompt_n=4))
        backend = make_backend("llamacpp", fake.url)
        context = make_context(snippets=(Snippet("src/util.py", "def helper(): ..."),))
        usage = Usage()
        generation = backend.generate(
            make_prompt(backend, context), GenerationParams(max_tokens=16, seed=3), usage
        )
        text = "".join([piece async for piece in generation])
        await backend.close()
    assert text == "a + b"
    body = fake.requests[0].json()
    assert body["input_prefix"] == "def add(a, b):\n    return " and body["input_suffix"] == "\n"
    assert body["input_extra"] == [{"filename": "src/util.py", "text": "def helper(): ..."}]
    assert body["cache_prompt"] is True and body["stream"] is True
    assert body["n_predict"] == 16 and body["seed"] == 3
    assert usage.prompt_tokens == 30 and usage.evaluated_tokens == 4
    assert usage.generated_tokens == 2


async def test_llamacpp_check() -> None:
    async def health(request, reply):  # type: ignore[no-untyped-def]
        await reply.send(200, {"status": "ok"})

    async def props(request, reply):  # type: ignore[no-untyped-def]
        await reply.send(200, {"model_path": "/models/qwen2.5-coder-1.5b-q8_0.gguf"})

    async with ProtocolFake() as fake:
        fake.route("GET", "/health", health)
        fake.route("GET", "/props", props)
        backend = make_backend("llamacpp", fake.url, model="qwen2.5-coder-1.5b")
        lines = await backend.check()
        await backend.close()
    assert "healthy" in lines[0]
    assert "qwen2.5-coder-1.5b-q8_0.gguf" in lines[1]
    assert "prompt format: qwen2.5-coder" in lines[2]


async def test_llamacpp_loading_model_is_503() -> None:
    async def loading(request, reply):  # type: ignore[no-untyped-def]
        await reply.send(503, {"error": {"code": 503, "message": "Loading model"}})

    async with ProtocolFake() as fake:
        fake.route("POST", "/infill", loading)
        backend = make_backend("llamacpp", fake.url)
        with pytest.raises(BackendError) as raised:
            await collect(backend)
        await backend.close()
    assert "loading the model" in raised.value.message


async def test_base_url_with_a_path_prefix() -> None:
    """Hosted APIs often live under a path (https://host/inference): /v1/... goes after it."""
    async with ProtocolFake() as fake:
        fake.route("POST", "/inference/v1/completions", vllm_completions(["ok"]))
        backend = make_backend("openai", fake.url + "/inference/")
        assert await collect(backend) == "ok"
        await backend.close()
    assert fake.requests[0].target == "/inference/v1/completions"

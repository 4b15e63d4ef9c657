"""The embedded backend itself, in-process with the real model (greedy, so repeatable)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.backends.embedded import EmbeddedBackend, _first_line_verdict
from ghosttype.context.types import PromptContext
from ghosttype.prompts import FORMATS, build_prompt

pytestmark = pytest.mark.model

PREFIX = "def area(width, height):\n    "
SUFFIX = "\n    return width * height\n"


async def generate(backend: EmbeddedBackend, avoid: str = "") -> str:
    prompt = build_prompt(
        FORMATS["qwen2.5-coder"], PromptContext("area.py", "python", PREFIX, SUFFIX)
    )
    params = GenerationParams(max_tokens=24, avoid_line=avoid)
    return "".join([piece async for piece in backend.generate(prompt, params, Usage())])


def first_line(text: str) -> str:
    return text.strip().split("\n")[0].strip()


async def test_a_first_line_that_repeats_the_next_line_is_replaced_by_the_next_choice(backend):
    plain = await generate(backend)
    assert first_line(plain), plain
    steered = await generate(backend, avoid=first_line(plain))
    assert first_line(steered), steered
    assert first_line(steered) != first_line(plain)
    # Not merely another spelling of the same start: no beginning of the avoided line.
    assert not first_line(plain).startswith(first_line(steered))
    # Steering that never triggers changes nothing (the held-back first line is released whole).
    assert await generate(backend, avoid="raise NotImplementedError") == plain


def test_first_line_verdict():
    assert _first_line_verdict("\n    ret", "return x", finished=False) is None
    assert _first_line_verdict("    return x\n", "return x", finished=False) == "repeat"
    assert _first_line_verdict("return x", "return x", finished=True) == "repeat"
    assert _first_line_verdict("return x", "return x", finished=False) is None  # `x + 1` may follow
    assert _first_line_verdict("return x + 1\n", "return x", finished=False) == "other"
    # A beginning of the next line is dropped as code the suffix already has: a repeat as well.
    assert _first_line_verdict("  }\n", "});", finished=False) == "repeat"
    assert _first_line_verdict("yield", "return x", finished=False) == "other"
    assert _first_line_verdict("   \n  ", "return x", finished=True) == "other"


async def test_confidence_is_reported_and_the_alternative_lane_keeps_the_first_ones_cache(backend):
    prompt = build_prompt(
        FORMATS["qwen2.5-coder"], PromptContext("area.py", "python", PREFIX, SUFFIX)
    )
    other = build_prompt(
        FORMATS["qwen2.5-coder"], PromptContext("volume.py", "python", "def volume(r):\n    ", "")
    )
    usage = Usage()
    pieces = [p async for p in backend.generate(prompt, GenerationParams(max_tokens=12), usage)]
    # A probability of each token it streamed: negative log-probabilities, one a token.
    assert usage.scored_tokens == len(pieces) > 0
    assert -30 < usage.logprob / usage.scored_tokens < 0
    again = Usage()
    await backend.generate(prompt, GenerationParams(max_tokens=1), again).__anext__()
    alternative = Usage()
    lane_1 = GenerationParams(max_tokens=4, lane=1)
    assert [p async for p in backend.generate(other, lane_1, alternative)]
    after = Usage()
    await backend.generate(prompt, GenerationParams(max_tokens=1), after).__anext__()
    # The other prompt ran in lane 1: lane 0 still holds the first prompt (one token evaluated,
    # as when nothing ran between).
    assert after.evaluated_tokens == again.evaluated_tokens == 1


async def test_a_prompts_cost_is_what_the_lanes_kv_cache_does_not_hold(backend):
    prompt = build_prompt(
        FORMATS["qwen2.5-coder"], PromptContext("cost.py", "python", PREFIX * 3, SUFFIX)
    )
    total = len(backend.tokenize(prompt))
    await backend.generate(prompt, GenerationParams(max_tokens=1), Usage()).__anext__()
    assert backend.uncached_tokens(prompt, 0) == 1  # all but the last, re-evaluated for logits
    grown = build_prompt(
        FORMATS["qwen2.5-coder"], PromptContext("cost.py", "python", PREFIX * 3 + "x", SUFFIX)
    )
    # The new prompt shares the start up to the cursor: the rest is what it costs.
    assert 1 < backend.uncached_tokens(grown, 0) < total / 2
    # The prefill rate is measured, in a plausible range for a 0.5B model on any CPU.
    assert 5 < backend.prefill_rate() < 100_000


def test_both_lanes_share_one_copy_of_the_weights():
    """Lane 1 is a second context on lane 0's model: one copy of the weights (two `Llama`
    objects held two: 1,244 MB of RSS against 725 with the file mapped). In a process of its
    own, so no other test's model counts."""
    probe = (
        "import asyncio\n"
        "from ghosttype.backends.embedded import EmbeddedBackend\n"
        "from ghosttype.config import BackendSettings\n"
        "backend = EmbeddedBackend(BackendSettings(threads=1))\n"
        "asyncio.run(backend.start(lambda message: None))\n"
        "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    rss_mb = int(done.stdout.strip()) / 1024
    assert rss_mb < 1000, rss_mb  # one copy ~700 MB with Python and both KV caches; two ~1,200

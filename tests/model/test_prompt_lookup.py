"""Drafting in the embedded backend (the real model): from the context (prompt lookup) or from
another model's answer (GenerationParams.draft), it changes how fast greedy text comes, never
what it is."""

from __future__ import annotations

import json.encoder
import math
from pathlib import Path

import pytest

from ghosttype.backends import embedded as embedded_module
from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.backends.embedded import DRAFT_PROBE_EVERY, EmbeddedBackend, _continuing, _draft
from ghosttype.config import BackendSettings
from ghosttype.context.types import PromptContext, Snippet
from ghosttype.prompts import FORMATS, build_prompt

pytestmark = pytest.mark.model

FIELDS = "name", "email", "phone", "address", "city", "country"
GETTERS = "".join(
    f"    @property\n    def {field}(self):\n        return self._{field}\n\n"
    for field in FIELDS[:4]
)
ROWS = "".join(f'    "{field}": row["{field}"].strip(),\n' for field in FIELDS[:3])
TESTS = "".join(
    f"def test_add_{a}_{b}():\n    assert add({a}, {b}) == {a + b}\n\n\n"
    for a, b in ((1, 2), (3, 4))
)
HELPER = (
    "def load_config(path):\n    with open(path) as file:\n        data = json.load(file)\n"
    "    if 'version' not in data:\n        raise ValueError(f'{path}: no version')\n"
    "    return data\n"
)
# json.encoder's dict encoder, after its first branch: the list encoder above has the same chain.
ENCODER = Path(json.encoder.__file__).read_text()
IN_DICT = ENCODER.index("            elif value is None:", ENCODER.index("def _iterencode_dict"))
AFTER = ENCODER.index("            elif isinstance(value, float):", IN_DICT)

# (name, prefix, suffix, neighbour files, whether the context repeats what comes next)
CASES = [
    ("getters", f"class Person:\n{GETTERS}    @property\n    def ", "", (), True),
    ("dict rows", f'def parse(row):\n    return {{\n{ROWS}    "', "    }\n", (), True),
    ("tests", f"from calc import add\n\n\n{TESTS}def test_add_", "", (), True),
    (
        "neighbour file",
        "import json\n\n\ndef load_settings(path):\n    ",
        "\n",
        (Snippet("config.py", HELPER),),
        True,
    ),
    (
        "stdlib",
        ENCODER[IN_DICT - 3500 : IN_DICT] + " " * 12,
        ENCODER[AFTER : AFTER + 800],
        (),
        True,
    ),
    ("fibonacci", "def fibonacci(n):\n    ", "\n", (), False),
    ("javascript", "function debounce(fn, ms) {\n  ", "\n}\n", (), False),
    ("sql", "-- the ten customers who spent most in 2023\nSELECT ", "", (), False),
]


@pytest.fixture
def drafting_always_pays(monkeypatch):
    """Whether drafting runs here must not depend on how busy the machine is (see _draft_limit)."""
    monkeypatch.setattr(embedded_module, "DRAFT_COST_MAX", math.inf)


async def pieces(
    backend: EmbeddedBackend,
    context: PromptContext,
    drafting: bool,
    avoid: str = "",
    hint: str = "",
) -> tuple[list[str], Usage]:
    backend.prompt_lookup = drafting
    prompt = build_prompt(FORMATS["qwen2.5-coder"], context)
    # The prompt is evaluated first: both runs reuse it (its last token evaluated alone), so
    # only the drafting differs. (A cold request never drafts: it must not depend on the load.)
    await backend.generate(prompt, GenerationParams(max_tokens=1), Usage()).__anext__()
    params = GenerationParams(max_tokens=48, avoid_line=avoid, draft=hint)
    usage = Usage()
    return [piece async for piece in backend.generate(prompt, params, usage)], usage


@pytest.mark.usefixtures("drafting_always_pays")
@pytest.mark.parametrize(
    "name, prefix, suffix, snippets, repetitive", CASES, ids=[c[0] for c in CASES]
)
async def test_drafting_gives_the_same_tokens(backend, name, prefix, suffix, snippets, repetitive):
    context = PromptContext(f"{name}.py", "python", prefix, suffix, snippets)
    plain, plain_usage = await pieces(backend, context, drafting=False)
    drafted, usage = await pieces(backend, context, drafting=True)
    assert plain_usage.drafted_tokens == 0
    assert drafted == plain  # one piece a token: the same tokens
    assert usage.generated_tokens == plain_usage.generated_tokens
    assert usage.accepted_tokens <= usage.drafted_tokens
    if repetitive:  # drafting ran and paid: tokens came without a step of their own
        assert usage.accepted_tokens > 0, "".join(drafted)
    # The confidence is the same up to the numerics of a batch (a token's logits computed in a
    # batch differ from its logits alone in the last digits: sums of 48 differ by up to ~2%).
    assert usage.logprob == pytest.approx(plain_usage.logprob, rel=0.05)


@pytest.mark.usefixtures("drafting_always_pays")
async def test_drafting_gives_the_same_tokens_after_a_step_back(backend):
    """A first line that repeats the next one: the backend steps back and bans its start, and
    drafting must neither use the banned logits nor keep the abandoned draft."""
    context = PromptContext("getters.py", "python", CASES[0][1], CASES[0][2])
    plain, _ = await pieces(backend, context, drafting=False)
    first_line = "".join(plain).strip().split("\n")[0].strip()
    steered, steered_usage = await pieces(backend, context, drafting=False, avoid=first_line)
    drafted, usage = await pieces(backend, context, drafting=True, avoid=first_line)
    assert "".join(steered).strip().split("\n")[0].strip() != first_line
    assert drafted == steered
    assert usage.generated_tokens == steered_usage.generated_tokens
    assert usage.accepted_tokens > 0


@pytest.mark.usefixtures("drafting_always_pays")
@pytest.mark.parametrize("name", ["stdlib", "neighbour file", "fibonacci"])
async def test_drafting_from_another_answer_gives_the_same_tokens(backend, monkeypatch, name):
    """The hint right (the model's own answer: all of it taken), wrong from its middle, and
    wrong from its start: the same text every time. Prompt lookup off, as by default. At a
    fixed batch size: unpadded, "fibonacci" parts at a near-tie (`n <= 0` / `n <= 1`), since
    llama.cpp sums a lone token's logits in another order than a batch's rows."""
    monkeypatch.setattr(backend, "pad_batches_to", 12)
    _, prefix, suffix, snippets, _ = next(c for c in CASES if c[0] == name)
    context = PromptContext(f"{name}.py", "python", prefix, suffix, snippets)
    plain, plain_usage = await pieces(backend, context, drafting=False)
    own = "".join(plain)
    half = len(own) // 2
    for hint in (own, own[:half] + "zq(" + own[half:], "xyzzy = 42\n"):
        drafted, usage = await pieces(backend, context, drafting=False, hint=hint)
        assert drafted == plain, hint
        assert usage.generated_tokens == plain_usage.generated_tokens
        assert usage.accepted_tokens <= usage.drafted_tokens
        if hint == own:  # nearly every token came in a batch, without a step of its own
            assert usage.accepted_tokens >= plain_usage.generated_tokens // 2, hint
        assert usage.logprob == pytest.approx(plain_usage.logprob, rel=0.05)


def test_a_hint_drafts_while_the_generation_follows_it():
    assert _continuing([1, 2, 3, 4, 5], [1, 2], limit=2) == [3, 4]
    assert _continuing([1, 2, 3, 4, 5], [1, 2, 3, 4], limit=8) == [5]
    assert _continuing([1, 2, 3], [1, 9], limit=8) == []  # parted: no use any more
    assert _continuing([1, 2, 3], [1, 2, 3], limit=8) == []  # followed to its end
    assert _continuing([1, 2, 3], [], limit=0) == []
    assert _continuing([], [], limit=4) == []


def test_drafting_stops_while_a_drafted_token_costs_over_half_a_tokens_time():
    backend = EmbeddedBackend(BackendSettings())
    assert backend._draft_limit(8) == 0  # nothing measured yet
    backend._measure_token(0.035)
    assert backend._draft_limit(8) == 8
    backend._draft_token_s = 0.1  # another process keeps a core busy: batches crawl
    assert backend._draft_limit(8) == 0
    for _ in range(DRAFT_PROBE_EVERY):
        backend._measure_token(0.035)
    assert backend._draft_limit(8) == 1  # time to check with one drafted token
    backend._draft_token_s = 0.008
    assert backend._draft_limit(8) == 8


async def test_a_failed_cost_check_waits_twice_as_long_for_the_next(backend, monkeypatch):
    monkeypatch.setattr(embedded_module, "DRAFT_COST_MAX", -1.0)  # every draft costs too much
    backend.prompt_lookup = True
    backend._token_s = 0.035  # measured, whichever test runs first
    backend._probe_after, backend._undrafted = DRAFT_PROBE_EVERY, DRAFT_PROBE_EVERY
    context = PromptContext("tests.py", "python", CASES[2][1], CASES[2][2])
    prompt = build_prompt(FORMATS["qwen2.5-coder"], context)
    usage = Usage()
    params = GenerationParams(max_tokens=24)
    assert [piece async for piece in backend.generate(prompt, params, usage)]
    assert usage.drafted_tokens == 1  # the check, then none for 128 tokens
    assert backend._probe_after == 2 * DRAFT_PROBE_EVERY


def test_a_draft_is_what_followed_the_last_tokens_most_recent_occurrence():
    # 1 2 3 occurs twice before: the later occurrence's continuation is the draft.
    assert _draft([1, 2, 3, 4, 5, 1, 2, 3, 7, 8, 9, 1, 2], 3, limit=4) == [7, 8, 9, 1]
    assert _draft([1, 2, 3, 4, 5, 1, 2], 3, limit=2) == [4, 5]
    # No three-token match: two tokens do.
    assert _draft([5, 2, 3, 4, 9, 3], 4, limit=8) == [9, 3, 4]
    assert _draft([5, 6, 7], 8, limit=8) == []
    assert _draft([1, 2, 1, 2], 1, limit=0) == []

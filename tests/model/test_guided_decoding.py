"""Guided decoding with the real embedded model (greedy, so repeatable): on prompts where, free,
it writes a name the receiver lacks, the guided answer starts with one of the receiver's members
(backends/guide.py; the members come from symbols/check.py)."""

from __future__ import annotations

import re

import pytest

from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.backends.embedded import EmbeddedBackend
from ghosttype.backends.guide import SortedNames
from ghosttype.context.types import PromptContext
from ghosttype.prompts import FORMATS, build_prompt
from ghosttype.symbols.builtins import PYTHON_NAMES

pytestmark = pytest.mark.model

CASES = [
    (
        "from ledger import Ledger\n\n\ndef settle(store: Ledger, amount: int) -> None:\n    store.",
        frozenset({"post_entry", "balance_of", "entries"}),
    ),
    (
        "import requests_lib as rl\n\ndef fetch(url):\n    response = rl.",
        frozenset({"get_json", "open_session"}),
    ),
]


async def complete(backend: EmbeddedBackend, prefix: str, params: GenerationParams) -> str:
    """The model's answer at the end of `prefix` (a Python file), greedy."""
    prompt = build_prompt(
        FORMATS["qwen2.5-coder"], PromptContext("main.py", "python", prefix, "\n")
    )
    return "".join([piece async for piece in backend.generate(prompt, params, Usage())])


@pytest.mark.parametrize(("prefix", "members"), CASES)
async def test_the_guided_answer_starts_with_a_member(
    backend: EmbeddedBackend, prefix: str, members: frozenset[str]
) -> None:
    free = await complete(backend, prefix, GenerationParams(max_tokens=12))
    guided = await complete(backend, prefix, GenerationParams(max_tokens=12, members=members))
    name = guided[: len(guided) - len(guided.lstrip("abcdefghijklmnopqrstuvwxyz_"))]
    assert name in members, (free, guided)


EXPRESSION_PREFIX = "from shipping import quote_parcel\n\n\ndef price(parcel, rates):\n    total = "


async def test_where_an_expression_starts_the_guided_answer_names_what_exists(
    backend: EmbeddedBackend,
) -> None:
    """Free, the model calls a helper that exists nowhere here; guided, the first name is one
    that does (or the answer starts with no name)."""
    known = SortedNames({"quote_parcel", "price", "parcel", "rates", "total"} | PYTHON_NAMES)
    free = await complete(backend, EXPRESSION_PREFIX, GenerationParams(max_tokens=12))
    guided = await complete(
        backend, EXPRESSION_PREFIX, GenerationParams(max_tokens=12, known_names=known)
    )
    first = re.match(r"\s*([A-Za-z_]\w*)", guided)
    assert first is None or first.group(1) in known, (free, guided)
    assert re.match(r"\s*([A-Za-z_]\w*)", free).group(1) not in known, (
        free
    )  # guided made a difference

"""Guided decoding with the real embedded model (greedy, so repeatable): on prompts where, free,
it writes a name the receiver lacks, the guided answer starts with one of the receiver's members
(backends/guide.py; the members come from symbols/check.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.backends.embedded import EmbeddedBackend
from ghosttype.backends.guide import SortedNames
from ghosttype.context.types import PromptContext
from ghosttype.documents import DocumentStore
from ghosttype.prompts import FORMATS, build_prompt
from ghosttype.symbols import SymbolIndex, check_at
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
    """The model's answer at the end of `prefix` (a Python file), greedy and deterministic: a
    cold prompt in fixed batches and no drafts, whose batches depend on the machine's load and
    can tip a near-tie (GenerationParams.cold)."""
    params = replace(params, cold=True)
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
    """Free, the model calls `quote_parcel`; here the names that exist lack it (as after the
    helper was renamed in shipping.py and the import not yet fixed), so guided, the first name
    is one that does exist (or the answer starts with no name)."""
    known = SortedNames({"price", "parcel", "rates", "total", "quote"} | PYTHON_NAMES)
    free = await complete(backend, EXPRESSION_PREFIX, GenerationParams(max_tokens=12))
    guided = await complete(
        backend, EXPRESSION_PREFIX, GenerationParams(max_tokens=12, known_names=known)
    )
    assert re.match(r"\s*([A-Za-z_]\w*)", free).group(1) not in known, free
    first = re.match(r"\s*([A-Za-z_]\w*)", guided)
    assert first is None or first.group(1) in known, (free, guided)


LEDGER = (
    "class Ledger:\n    rate = 3\n\n    def __init__(self) -> None:\n"
    "        self.entries: list[int] = []\n\n"
    "    def post_entry(self, amount: int) -> None: ...\n"
    "    def balance_of(self, account: str) -> int: ...\n"
)
LATER_ACCESS_PREFIX = (
    "from ledger import Ledger\n\n\ndef settle(store: Ledger, amount: int) -> None:\n"
    "    if amount > 0:\n        "
)


async def test_a_member_access_the_model_writes_later_is_kept_on_the_members(
    backend: EmbeddedBackend, tmp_path: Path
) -> None:
    """The cursor is at no member access; two lines on, free, the model calls `store.settle`,
    which a Ledger lacks. The monitor (the real check over a real index) keeps every
    `store.` the model writes on Ledger's members."""
    (tmp_path / "ledger.py").write_text(LEDGER)
    store = DocumentStore()
    index = SymbolIndex(store)
    try:
        index.configure([tmp_path], ())
        document = store.open((tmp_path / "main.py").as_uri(), LATER_ACCESS_PREFIX, "python", 1)
        index.document_changed(document)
        assert index.settle(20)
        check = check_at(index, document, len(LATER_ACCESS_PREFIX), retries=3)
        assert check is not None
        free = await complete(backend, LATER_ACCESS_PREFIX, GenerationParams(max_tokens=24))
        monitor = check.member_monitor()
        guided = await complete(
            backend, LATER_ACCESS_PREFIX, GenerationParams(max_tokens=24, member_monitor=monitor)
        )
    finally:
        index.close()
    members = {"post_entry", "balance_of", "entries", "rate"}
    assert set(re.findall(r"store\.(\w+)", free)) - members, free  # free, it invents one
    used = re.findall(r"store\.(\w+)\b(?!$)", guided)
    assert used and set(used) <= members, (free, guided)

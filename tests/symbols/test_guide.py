"""Guided decoding at a member access (backends/guide.py) on a scripted vocabulary and scores,
and the check's members at the cursor (the real model: tests/model/test_guided_decoding.py)."""

from __future__ import annotations

import numpy as np

from ghosttype.backends.guide import MemberGuide

from .conftest import Workspace

VOCABULARY = ["balance", " -=", "_", "_of", "(", "post", "_entry", "pay", "get"]


def text_of(token: int) -> str:
    return VOCABULARY[token]


def token_of(text: str) -> int | None:
    return VOCABULARY.index(text) if text in VOCABULARY else None


def scores(**by_text: float) -> np.ndarray:
    logits = np.full(len(VOCABULARY), -10.0)
    for text, score in by_text.items():
        logits[VOCABULARY.index(text.replace("MINUS", " -="))] = score
    return logits


def test_the_models_choice_stands_where_it_keeps_to_a_member() -> None:
    guide = MemberGuide(frozenset({"balance_of", "post_entry"}))
    assert guide.choose(0, scores(balance=5.0), text_of, token_of) == 0
    guide.advance("balance")
    assert guide.active and guide.name == "balance"


def test_a_name_the_receiver_lacks_is_steered_to_a_member() -> None:
    guide = MemberGuide(frozenset({"balance_of", "post_entry"}))
    guide.advance("balance")
    # The model wants ` -=` (a variable `balance`); `_of` is low, but the only way on.
    chosen = guide.choose(1, scores(MINUS=5.0, _of=-3.0), text_of, token_of)
    assert text_of(chosen) == "_of"
    guide.advance("_of")
    assert guide.choose(4, scores(**{"(": 4.0}), text_of, token_of) == 4
    guide.advance("(")
    assert not guide.active  # the name is complete: free again


def test_the_part_the_person_typed_counts() -> None:
    guide = MemberGuide(frozenset({"post_entry", "pay_out"}), typed="post")
    assert text_of(guide.choose(7, scores(pay=6.0, _entry=-2.0), text_of, token_of)) == "_entry"


def test_where_nothing_fits_the_guide_gives_up() -> None:
    guide = MemberGuide(frozenset({"zzz"}))
    assert guide.choose(7, scores(pay=6.0), text_of, token_of) == 7
    assert not guide.active
    assert not MemberGuide(frozenset({"post_entry"}), typed="pay").active


def test_the_check_gives_the_receivers_members_at_the_cursor(workspace: Workspace) -> None:
    ledger = "class Ledger:\n    def post_entry(self): ...\n    def balance_of(self): ...\n"
    main = "from ledger import Ledger\n\ndef settle(store: Ledger):\n    store.po‸\n"
    check = workspace.check({"ledger.py": ledger, "main.py": main}, "main.py", "python")
    guided = check.guide()
    assert guided is not None
    members, typed = guided
    assert {"post_entry", "balance_of"} <= members and typed == "po"
    free = "def settle(store):\n    store.‸\n"
    assert workspace.check({"free.py": free}, "free.py", "python").guide() is None

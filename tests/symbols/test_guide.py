"""Guided decoding at a member access (backends/guide.py) on a scripted vocabulary and scores,
and the check's members at the cursor (the real model: tests/model/test_guided_decoding.py)."""

from __future__ import annotations

import numpy as np

from ghosttype.backends.guide import NameGuide, SortedNames, best_allowed

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
    guide = NameGuide(frozenset({"balance_of", "post_entry"}))
    assert guide.choose(0, scores(balance=5.0), text_of, token_of) == 0
    guide.advance("balance")
    assert guide.active and guide.name == "balance"


def test_a_name_the_receiver_lacks_is_steered_to_a_member() -> None:
    guide = NameGuide(frozenset({"balance_of", "post_entry"}))
    guide.advance("balance")
    # The model wants ` -=` (a variable `balance`); `_of` is low, but the only way on.
    chosen = guide.choose(1, scores(MINUS=5.0, _of=-3.0), text_of, token_of)
    assert text_of(chosen) == "_of"
    guide.advance("_of")
    assert guide.choose(4, scores(**{"(": 4.0}), text_of, token_of) == 4
    guide.advance("(")
    assert not guide.active  # the name is complete: free again


def test_the_part_the_person_typed_counts() -> None:
    guide = NameGuide(frozenset({"post_entry", "pay_out"}), typed="post")
    assert text_of(guide.choose(7, scores(pay=6.0, _entry=-2.0), text_of, token_of)) == "_entry"


def test_where_nothing_fits_the_guide_gives_up() -> None:
    guide = NameGuide(frozenset({"zzz"}))
    assert guide.choose(7, scores(pay=6.0), text_of, token_of) == 7
    assert not guide.active
    assert not NameGuide(frozenset({"post_entry"}), typed="pay").active


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


# --- where an expression starts: a name that exists, or none -----------------------------------

EXPRESSION_VOCABULARY = ["calc", "quote", "_parcel", "(", '"', "12", "f", "p", " ", "ulate"]


def expression_text(token: int) -> str:
    return EXPRESSION_VOCABULARY[token]


def expression_token(text: str) -> int | None:
    return EXPRESSION_VOCABULARY.index(text) if text in EXPRESSION_VOCABULARY else None


def expression_scores(**by_text: float) -> np.ndarray:
    logits = np.full(len(EXPRESSION_VOCABULARY), -10.0)
    for text, score in by_text.items():
        logits[EXPRESSION_VOCABULARY.index(text)] = score
    return logits


KNOWN = SortedNames(("quote_parcel", "zeta"), {"p", "print"})


def test_an_invented_name_at_an_expression_start_is_steered_to_one_that_exists() -> None:
    guide = NameGuide(KNOWN, optional=True)
    chosen = guide.choose(
        0, expression_scores(calc=6.0, quote=1.0), expression_text, expression_token
    )
    assert expression_text(chosen) == "quote"
    guide.advance("quote")
    # `_parcel` ranks low, but it is the only way on to a name that exists.
    chosen = guide.choose(
        9, expression_scores(ulate=5.0, _parcel=-4.0), expression_text, expression_token
    )
    assert expression_text(chosen) == "_parcel"
    guide.advance("_parcel")
    guide.advance("(")
    assert not guide.active


def test_an_expression_may_start_with_no_name_at_all() -> None:
    for literal in ("(", '"', "12"):
        guide = NameGuide(KNOWN, optional=True)
        token = EXPRESSION_VOCABULARY.index(literal)
        assert (
            guide.choose(
                token, expression_scores(**{literal: 3.0}), expression_text, expression_token
            )
            == token
        )
        guide.advance(literal)
        assert not guide.active
    guide = NameGuide(KNOWN, optional=True)
    guide.advance("f")  # a name `f`, or an f-string
    assert guide.allows('"')
    assert not NameGuide(KNOWN).allows("(")  # after a `.` a name must come


def test_sorted_names_answer_prefix_questions_across_their_parts() -> None:
    names = SortedNames(("alpha", "beta", "betamax"), {"gamma", "bet"})
    assert "beta" in names and "bet" in names and "be" not in names
    assert names.has_prefix("gam") and names.has_prefix("betam") and not names.has_prefix("x")
    assert sorted(names.starting_with("bet", 10) or ()) == ["bet", "beta", "betamax"]
    assert names.starting_with("", 3) is None  # more than the limit: not gathered


def test_the_check_gives_the_names_that_exist_where_an_expression_starts(
    workspace: Workspace,
) -> None:
    files = {
        "shipping.py": "def quote_parcel(p): ...\n",
        "main.py": "from shipping import quote_parcel\n\ndef price(p):\n    cost = ‸\n",
    }
    workspace.write(files)
    document, offset = workspace.open("main.py", files["main.py"], "python")
    from ghosttype.symbols import check_at

    invoked = check_at(workspace.index, document, offset, retries=3)
    assert invoked is not None
    names = invoked.expression_names()
    assert names is not None
    for name in ("quote_parcel", "price", "p", "len", "None", "lambda"):
        assert name in names, name
    assert "calculate_cost" not in names
    typing = check_at(workspace.index, document, offset, retries=0)
    assert typing is not None and typing.expression_names() is None  # not on the typing path
    for line in ("    while ‸", "    try:\n        pass\n    except ‸"):
        text = files["main.py"].replace("    cost = ‸", line)
        document, offset = workspace.open("main.py", text, "python")
        check = check_at(workspace.index, document, offset, retries=3)
        assert check is not None and check.expression_names() is not None, line
    for line in ("    cost = quote_parcel(‸", "    ‸", "    for ‸", "    f = lambda ‸", "def g(*‸"):
        text = files["main.py"].replace("    cost = ‸", line)
        document, offset = workspace.open("main.py", text, "python")
        check = check_at(workspace.index, document, offset, retries=3)
        assert check is not None and check.expression_names() is None, line


def test_spaces_before_the_name_do_not_let_an_invented_one_through() -> None:
    guide = NameGuide(KNOWN, optional=True)
    assert not guide.allows(" calc") and guide.allows(" quote") and guide.allows(" ")
    guide.advance(" ")
    assert guide.active and not guide.allows("calc")


LEDGER = (
    "class Ledger:\n    def post_entry(self, amount): ...\n    def balance_of(self, account): ...\n"
)


def test_the_monitor_judges_every_member_access_the_model_writes(workspace: Workspace) -> None:
    """On an invoked request the cursor need not be at a member access: each `store.` the model
    writes later is judged as it is written (the last name only once it is complete)."""
    from ghosttype.symbols import check_at

    files = {
        "ledger.py": LEDGER,
        "main.py": "from ledger import Ledger\n\ndef settle(store: Ledger):\n    if store:\n        ‸\n",
    }
    workspace.write(files)
    document, offset = workspace.open("main.py", files["main.py"], "python")
    check = check_at(workspace.index, document, offset, retries=3)
    assert check is not None
    assert check.invented_members("store.post") == 0  # still being written
    assert check.invented_members("store.pay") == 1  # no member starts so
    assert check.invented_members("store.post_entry(1)\n        store.pay(2)") == 1
    assert check.member_continuations("store.bal", 256) == ["ance_of"]
    assert ".post_entry" in check.member_continuations("x = store", 256)
    monitor = check.member_monitor()
    assert monitor is not None
    assert monitor.allows("store", ".post") and not monitor.allows("store", ".pay")
    assert monitor.allows("store.post", "_entry(") and not monitor.allows("store.post", "(")
    assert monitor.mid_access("store.po") and not monitor.mid_access("store.post_entry(")
    # The model's `.pay` is not allowed; the best of the same shape is: another access.
    vocabulary = [".pay", " =", ".post", "_entry", "("]
    logits = np.array([5.0, 3.0, 1.0, 0.0, 0.0])
    shape = monitor.same_shape("store", ".pay")

    def allows(piece: str) -> bool:
        return shape(piece) and monitor.allows("store", piece)

    chosen = best_allowed(
        logits,
        vocabulary.__getitem__,
        lambda text: vocabulary.index(text) if text in vocabulary else None,
        allows,
        monitor.spellings("store"),
    )
    assert chosen is not None and vocabulary[chosen] == ".post"  # not " =": the model meant one
    typing = check_at(workspace.index, document, offset, retries=0)
    assert typing is not None and typing.member_monitor() is None  # the typing path's speed

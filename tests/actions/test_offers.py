"""Offering actions: the function or class at the range (tree-sitter), titles and kinds, the
client's `only` filter, one Fix per diagnostic; instant (no model, no disk)."""

from __future__ import annotations

import time

from ghosttype.actions import kinds
from ghosttype.actions.service import Actions, Problem
from ghosttype.actions.target import find_target
from ghosttype.config import Settings
from ghosttype.engine import Engine
from tests.actions.helpers import SOURCE

JS = "export function add(a, b) {\n  return a + b;\n}\n\nconst twice = (x) => {\n  return 2 * x;\n};\n"


def engine() -> Engine:
    return Engine(Settings())


def test_the_innermost_definition_at_the_range_is_the_target():
    e = engine()
    document = e.documents.open("file:///w/calc.py", SOURCE, "python", 1)
    inside = SOURCE.index("if value > high")
    target = find_target(e.context.syntax, document, inside, inside)
    assert target is not None and (target.kind, target.name) == ("function", "clamp")
    assert target.text.startswith("def clamp") and target.text.endswith("return value")
    # A range from the start of the line (before `def`) selects that definition.
    line = SOURCE.index("def add")
    assert find_target(e.context.syntax, document, line, line + 3).name == "add"


def test_a_cursor_at_the_end_of_a_definitions_last_line_is_in_it():
    e = engine()
    text = "def add(a, b):\n    return a + b"  # no line end after it
    document = e.documents.open("file:///w/end.py", text, "python", 1)
    target = find_target(e.context.syntax, document, len(text), len(text))
    assert target is not None and target.name == "add"


def test_javascript_functions_and_named_arrows():
    e = engine()
    document = e.documents.open("file:///w/a.js", JS, "javascript", 1)
    target = find_target(e.context.syntax, document, JS.index("2 * x"), JS.index("2 * x"))
    assert target is not None and target.kind == "function" and "2 * x" in target.text
    first = find_target(e.context.syntax, document, JS.index("a + b"), JS.index("a + b"))
    assert first is not None and first.name == "add" and first.text.startswith("export function")


def test_offers_every_action_with_a_ghosttype_title_and_its_kind():
    e = engine()
    document = e.documents.open("file:///w/calc.py", SOURCE, "python", 1)
    at = SOURCE.index("return a + b")
    problem = Problem("'x' is not defined", at, at + 6, "pyright")
    offers = Actions(e).offers(document, at, at, [problem], [])
    titles = {o.title: o.kind for o in offers}
    assert all(title.startswith("ghosttype: ") for title in titles)
    assert titles["ghosttype: Fix: 'x' is not defined"] == "quickfix"
    assert titles["ghosttype: Generate tests"] == "refactor.rewrite.ghosttype.tests"
    assert titles["ghosttype: Write docstring"] == "refactor.rewrite.ghosttype.docstring"
    assert titles["ghosttype: Explain"] == "refactor.rewrite.ghosttype.explain"
    assert titles["ghosttype: Translate to Go"] == "refactor.rewrite.ghosttype.translate"
    assert "ghosttype: Translate to Python" not in titles
    refactor = next(o for o in offers if o.kind == kinds.REFACTOR.kind)
    assert refactor.asks  # the instruction comes from the client: a command
    fix = next(o for o in offers if o.kind == "quickfix")
    assert fix.problem == problem and fix.data["problem"]["message"] == problem.message


def test_the_clients_only_filter_is_honoured():
    e = engine()
    document = e.documents.open("file:///w/calc.py", SOURCE, "python", 1)
    at = SOURCE.index("return a + b")
    problem = Problem("bad", at, at + 1)
    only_fixes = Actions(e).offers(document, at, at, [problem], ["quickfix"])
    assert [o.kind for o in only_fixes] == ["quickfix"]
    refactors = Actions(e).offers(document, at, at, [problem], ["refactor"])
    assert refactors and all(o.kind.startswith("refactor.") for o in refactors)
    assert not Actions(e).offers(document, at, at, [problem], ["source.organizeImports"])


def test_outside_any_definition_only_fixes_and_selection_actions():
    e = engine()
    text = "import os\n\nprint(os.getcwd())\n"
    document = e.documents.open("file:///w/script.py", text, "python", 1)
    assert Actions(e).offers(document, 0, 0, [], []) == []
    selected = Actions(e).offers(document, text.index("print"), len(text), [], [])
    assert {o.title for o in selected} == {
        "ghosttype: Explain",
        "ghosttype: Refactor with an instruction",
    }


def test_offering_is_instant_on_a_large_file():
    e = engine()
    text = "".join(f"def f{i}(a, b):\n    x = a + {i}\n    return x * b\n\n\n" for i in range(3000))
    document = e.documents.open("file:///w/big.py", text, "python", 1)
    actions = Actions(e)
    actions.offers(document, 0, 0, [], [])  # the first parse (the completions parse it too)
    timings = []
    for i in range(0, 3000, 30):
        at = text.index(f"def f{i}(") + 8
        started = time.perf_counter()
        offers = actions.offers(document, at, at, [], [])
        timings.append((time.perf_counter() - started) * 1000)
        assert offers
    timings.sort()
    assert timings[int(len(timings) * 0.99) - 1] < 20, timings[-5:]

"""Generate tests checked against small changes of the function (mutation.py): the changes the
tests miss go back to the model once, and its new tests that pass are added. Scripted answers,
real pytest runs in the real sandbox."""

from __future__ import annotations

import textwrap

from ghosttype.actions.mutation import mutants
from ghosttype.actions.service import Actions
from ghosttype.actions.target import Target
from tests.actions.helpers import engine_for, fenced, open_source, workspace

WEAK = "from calc import add\n\n\ndef test_add_zero():\n    assert add(0, 0) == 0\n"
MORE = "from calc import add\n\n\ndef test_add_zero():\n    assert add(2, 3) == 5\n"
MISSED = "line 2: `a + b` became `a - b`"


async def generate(tmp_path, answer_to_changes: str):
    root = workspace(tmp_path)
    engine = engine_for(
        root,
        [
            {"contains": "they also pass when", "text": answer_to_changes},
            {"contains": "Write pytest", "text": fenced(WEAK)},
        ],
        mutants=6,
    )
    document = open_source(engine, root)
    outcome = await Actions(engine).run(
        {"action": "tests", "uri": document.uri, "start": 5, "end": 5}, lambda _: None
    )
    return engine, outcome


async def test_a_change_the_tests_miss_goes_back_to_the_model_and_its_new_test_is_added(tmp_path):
    # add(0, 0) is 0 for `a - b` too: only returning None is noticed.
    engine, outcome = await generate(tmp_path, fenced(MORE))
    asked = [m.content for m in engine.host.loaded.chats[1] if m.role == "user"][-1]
    assert MISSED in asked and "return None" not in asked
    (edit,) = outcome.edits
    # The model reused the test's name: its test is kept beside the first under a new one.
    assert "def test_add_zero():\n    assert add(0, 0) == 0" in edit.text
    assert "def test_add_zero_2():\n    assert add(2, 3) == 5" in edit.text
    assert "2 of 2 tests pass" in outcome.message
    assert "they notice 2 of 2 small changes of the function" in outcome.message


async def test_an_answer_that_adds_nothing_keeps_the_tests_and_names_the_missed_change(tmp_path):
    _, outcome = await generate(tmp_path, "I cannot think of more tests.")
    (edit,) = outcome.edits
    assert edit.text == WEAK
    assert "they notice 1 of 2 small changes of the function" in outcome.message
    assert f"the tests still pass when {MISSED}: a bug like it would go unnoticed" in (
        outcome.report
    )


async def test_a_new_test_that_fails_on_the_current_code_is_pinned_and_says_so(tmp_path):
    wrong = "from calc import add\n\n\ndef test_add_more():\n    assert add(2, 3) == 6\n"
    _, outcome = await generate(tmp_path, fenced(wrong))
    (edit,) = outcome.edits
    assert "assert add(2, 3) == 5  # ghosttype: suspected bug? the model expected 6" in edit.text
    assert "1 assertion pinned" in outcome.message and "notice 2 of 2" in outcome.message


def test_changes_spread_over_a_method_and_leave_its_docstring_and_the_rest_alone():
    text = textwrap.dedent(
        '''\
        import os


        class Box:
            def clamp(self, value, low, high):
                """Keep value inside."""
                if value < low:
                    return low
                if value > high and high != 0:
                    return high
                return value * 2 + 1


        def other():
            return 1
        '''
    )
    start, end = text.index("def clamp"), text.index("\n\n\ndef other")
    target = Target("function", "clamp", start, end, text[start:end])
    found = mutants(text, target, limit=4)
    assert [m.change for m in found] == [
        "line 7: `value < low` became `value <= low`",
        "line 9: `value > high` became `value >= high`",
        "line 10: `return high` became `return None`",
        "line 11: `value * 2` became `value / 2`",
    ]  # 4 of the 12 places, one every third
    first = found[0].source
    assert first.replace("value <= low", "value < low") == text
    assert all(m.source.endswith("def other():\n    return 1\n") for m in found)
    assert mutants("x = (", Target("selection", "", 0, 5, "x = (")) == []


async def test_a_file_with_unsaved_changes_is_not_checked_against_changes(tmp_path):
    # The runs see the file on disk: changing the editor's text would prove nothing.
    root = workspace(tmp_path)
    engine = engine_for(root, [{"contains": "Write pytest", "text": fenced(WEAK)}], mutants=6)
    path = root / "calc.py"
    document = engine.documents.open(path.as_uri(), path.read_text() + "\n# edited\n", "python", 1)
    outcome = await Actions(engine).run(
        {"action": "tests", "uri": document.uri, "start": 5, "end": 5}, lambda _: None
    )
    assert "1 of 1 tests pass" in outcome.message and "small changes" not in outcome.message
    assert len(engine.host.loaded.chats) == 1

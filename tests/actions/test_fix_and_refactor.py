"""Fix and Refactor on the scripted backend, with the covering tests run for real in the
sandbox: Fix reruns the test that covers the function and says whether it now passes; Refactor
runs the tests before and after and reports both."""

from __future__ import annotations

import pytest

from ghosttype.actions.errors import ActionError
from ghosttype.actions.service import Actions
from tests.actions.helpers import SOURCE, engine_for, fenced, open_source, workspace

FIXED = (
    "def clamp(value, low, high):\n    if value < low:\n        return low\n"
    "    if value > high:\n        return high\n    return value\n"
)
TESTS = "from calc import clamp\n\n\ndef test_above():\n    assert clamp(15, 0, 10) == 10\n"
AT = SOURCE.index("return low\n    return value")  # inside clamp, on the bug


def with_tests(tmp_path):
    root = workspace(tmp_path)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    return root


async def test_fix_replaces_the_function_and_reruns_the_covering_test(tmp_path):
    root = with_tests(tmp_path)
    engine = engine_for(root, [{"contains": "has a problem", "text": fenced(FIXED)}])
    document = open_source(engine, root)
    problem = {"message": "test_above: assert 0 == 10", "start": AT, "end": AT + 10}
    data = {"action": "fix", "uri": document.uri, "start": AT, "end": AT, "problem": problem}
    outcome = await Actions(engine).run(data, lambda _: None)
    (edit,) = outcome.edits
    assert edit.text == FIXED.rstrip("\n")
    assert document.text[edit.start : edit.end].startswith("def clamp")
    assert "covering tests pass" in outcome.message
    assert "1 passed" in outcome.report and "sandbox: bubblewrap" in outcome.report
    asked = engine.host.loaded.chats[0][-1].content
    assert "test_above: assert 0 == 10" in asked and "def clamp" in asked


async def test_fix_shows_the_model_the_failing_tests_output_and_retries_on_a_failing_fix(
    tmp_path,
):
    # The diagnostic says little; the covering test's output says what fails. A first answer
    # the test still fails on goes back to the model with the new output.
    root = with_tests(tmp_path)
    still_wrong = FIXED.replace("return high", "return value")
    chat = [
        {"contains": "still fail with that change", "text": fenced(FIXED)},
        {"contains": "has a problem", "text": fenced(still_wrong)},
    ]
    engine = engine_for(root, chat)
    document = open_source(engine, root)
    problem = {"message": "wrong result", "start": AT, "end": AT + 10}
    data = {"action": "fix", "uri": document.uri, "start": AT, "end": AT, "problem": problem}
    outcome = await Actions(engine).run(data, lambda _: None)
    (edit,) = outcome.edits
    assert edit.text == FIXED.rstrip("\n")
    assert "(2 of 3 attempts); covering tests pass (before: fail)" in outcome.message
    first, second = engine.host.loaded.chats
    asked = first[-1].content
    assert "wrong result" in asked and "assert clamp(15, 0, 10) == 10" in asked
    assert "assert 0 == 10" in asked  # pytest's explanation, on the code as it is
    assert "assert 15 == 10" in second[-1].content  # and on the first answer


async def test_fix_of_a_helper_runs_the_test_its_diagnostic_names(tmp_path):
    # A private helper's tests call its caller: the test the diagnostic names covers it.
    root = workspace(tmp_path)
    source = (
        "def _twice(x):\n    return x + 2\n\n\n"
        "def double_all(xs):\n    return [_twice(x) for x in xs]\n"
    )
    (root / "calc.py").write_text(source)
    tests = "from calc import double_all\n\n\ndef test_doubles():\n"
    tests += "    assert double_all([1, 3]) == [2, 6]\n"
    (root / "tests" / "test_calc.py").write_text(tests)
    answer = fenced("def _twice(x):\n    return x * 2\n")
    engine = engine_for(root, [{"contains": "has a problem", "text": answer}])
    document = open_source(engine, root)
    at = source.index("x + 2")
    problem = {"message": "test_doubles failed: assert [3, 5] == [2, 6]", "start": at, "end": at}
    data = {"action": "fix", "uri": document.uri, "start": at, "end": at, "problem": problem}
    outcome = await Actions(engine).run(data, lambda _: None)
    assert "covering tests pass (before: fail)" in outcome.message


async def test_refactor_reports_the_tests_before_and_after(tmp_path):
    root = with_tests(tmp_path)
    engine = engine_for(root, [{"contains": "Refactor this", "text": fenced(FIXED)}])
    document = open_source(engine, root)
    data = {"action": "refactor", "uri": document.uri, "start": AT, "end": AT}
    outcome = await Actions(engine).run({**data, "instruction": "make it clearer"}, lambda _: None)
    assert "covering tests pass (before: fail)" in outcome.message
    assert "Tests before: fail" in outcome.report and "Tests after: pass" in outcome.report


async def test_fix_without_a_covering_test_says_so_and_still_edits(tmp_path):
    root = workspace(tmp_path)
    engine = engine_for(root, [{"contains": "has a problem", "text": fenced(FIXED)}])
    document = open_source(engine, root)
    data = {"action": "fix", "uri": document.uri, "start": AT, "end": AT}
    outcome = await Actions(engine).run({**data, "problem": {"message": "bad"}}, lambda _: None)
    assert outcome.edits and "tests not run: no test covers function clamp" in outcome.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "fix"}, "Fix needs a diagnostic"),
        ({"action": "refactor"}, "Refactor needs an instruction"),
        ({"action": "refactor", "instruction": "shorter"}, "no code that parses"),
        ({"action": "translate", "to": "cobol"}, "cannot translate to cobol"),
    ],
)
async def test_bad_input_says_why_and_writes_nothing(tmp_path, data, message):
    root = workspace(tmp_path)
    engine = engine_for(root, [{"contains": "Refactor", "text": "Sure, I would refactor it."}])
    document = open_source(engine, root)
    with pytest.raises(ActionError, match=message):
        await Actions(engine).run(
            {"uri": document.uri, "start": AT, "end": AT, **data}, lambda _: None
        )


async def test_an_answers_imports_go_with_the_modules_not_inside_the_function(tmp_path):
    root = with_tests(tmp_path)
    (root / "calc.py").write_text("import os\n\n\n" + SOURCE)
    answer = "import math\nimport os\n\n\n" + FIXED.replace(
        "return value", "return math.floor(value)"
    )
    engine = engine_for(root, [{"contains": "has a problem", "text": fenced(answer)}])
    document = open_source(engine, root)
    at = document.text.index("return low\n    return value")
    problem = {"message": "test_above: assert 0 == 10", "start": at, "end": at + 10}
    data = {"action": "fix", "uri": document.uri, "start": at, "end": at, "problem": problem}
    outcome = await Actions(engine).run(data, lambda _: None)
    (edit,) = outcome.edits
    fixed = document.text[: edit.start] + edit.text + document.text[edit.end :]
    # math after the module's own import, os not twice, the function whole where it was.
    assert fixed.startswith("import os\nimport math\n\n\ndef add(a, b):")
    assert fixed.count("import os") == 1
    assert "return math.floor(value)\n" in fixed and "\n    import" not in fixed
    assert "covering tests pass" in outcome.message


async def test_a_methods_new_import_goes_above_its_decorated_class(tmp_path):
    # No import in the module: the import goes above the top-level statement that holds the
    # method, not at column 0 inside the class body.
    root = workspace(tmp_path)
    source = "@dataclass\nclass Box:\n    def area(self):\n        return 0\n"
    (root / "calc.py").write_text(source)
    answer = "import math\n\n\ndef area(self):\n    return math.pi\n"
    engine = engine_for(root, [{"contains": "has a problem", "text": fenced(answer)}])
    document = open_source(engine, root)
    at = document.text.index("return 0")
    problem = {"message": "area is 0", "start": at, "end": at + 8}
    data = {"action": "fix", "uri": document.uri, "start": at, "end": at, "problem": problem}
    outcome = await Actions(engine).run(data, lambda _: None)
    (edit,) = outcome.edits
    fixed = document.text[: edit.start] + edit.text + document.text[edit.end :]
    assert fixed.startswith("import math\n\n\n@dataclass\nclass Box:\n    def area(self):\n")
    assert "        return math.pi" in fixed

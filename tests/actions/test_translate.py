"""Translate to..., verified, on the scripted backend (deterministic answers) with real runs of the
translated tests in the real sandbox (node's test runner; go test where Go is installed): the
translate-run-retry loop, the edits, why nothing ran, and bad input."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ghosttype.actions import sandbox
from ghosttype.actions.errors import ActionError
from ghosttype.actions.service import Actions
from ghosttype.actions.translation import (
    Shape,
    covering,
    importable,
    name_in,
    named_import,
    repaired,
)
from ghosttype.backends import ChatMessage
from ghosttype.backends.scripted import ScriptedBackend
from ghosttype.engine import Engine
from tests.actions.helpers import engine_for, fenced, open_source, workspace

TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
WRONG_JS = "function add(a, b) {\n  return a - b;\n}\n"
RIGHT_JS = "function add(a, b) {\n  return a + b;\n}\n"
JS_TESTS = (
    "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\n\n"
    "test('adds', () => {\n  assert.equal(add(1, 2), 3);\n});\n"
)
GO = "package main\n\nfunc Add(a int, b int) int {\n\treturn a + b\n}\n"
GO_TESTS = (
    'package whatever\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n'
    '\tif Add(1, 2) != 3 {\n\t\tt.Fatal("add")\n\t}\n}\n'
)
AT = 5  # in `def add`


def with_tests(tmp_path: Path) -> Path:
    root = workspace(tmp_path)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    return root


def chats(engine: Engine) -> list[list[ChatMessage]]:
    backend = engine.host.loaded
    assert isinstance(backend, ScriptedBackend)
    return backend.chats


def translate(to: str) -> Callable[[str], dict[str, Any]]:
    return lambda uri: {"action": "translate", "to": to, "uri": uri, "start": AT, "end": AT}


TO_JS, TO_GO = translate("javascript"), translate("go")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_failing_translated_tests_go_back_to_the_model_and_the_passing_ones_are_kept(
    tmp_path: Path,
) -> None:
    root = with_tests(tmp_path)
    engine = engine_for(
        root,
        [
            {
                "contains": "translated tests failed",
                "text": fenced(RIGHT_JS, "javascript") + fenced(JS_TESTS, "javascript"),
            },
            {"contains": "These Python tests check", "text": fenced(JS_TESTS, "javascript")},
            {"contains": "Translate this Python", "text": fenced(WRONG_JS, "javascript")},
        ],
    )
    document = open_source(engine, root)
    steps: list[str] = []
    outcome = await Actions(engine).run(TO_JS(document.uri), steps.append)
    code, tests = outcome.edits
    assert code.uri == (root / "calc.js").as_uri() and code.create
    assert "return a + b" in code.text and "Object.assign(module.exports, { add });" in code.text
    assert tests.uri == (root / "tests" / "calc.test.js").as_uri() and tests.create
    assert tests.text.startswith("const { add } = require('../calc');")  # the import added
    assert "1 of 1 translated tests pass (node:test, 2 attempts, sandbox: bubblewrap)" in (
        outcome.message
    )
    assert "node --test" in outcome.report and "# pass 1" in outcome.report
    asked = chats(engine)
    tests_prompt, retry = asked[1][-1].content, asked[2][-1].content
    assert "def test_add" in tests_prompt and "from calc import" not in tests_prompt
    assert "Import the translation with `const { add } = require('../calc');`" in tests_prompt
    assert "AssertionError" in retry and "return a - b" in retry  # the failed run went back
    assert any("running the translated tests" in s for s in steps)
    assert not (root / "calc.js").exists() and not (root / "tests" / "calc.test.js").exists()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_tests_that_never_pass_are_reported_and_left_out_of_the_edit(tmp_path: Path) -> None:
    root = with_tests(tmp_path)
    engine = engine_for(
        root,
        [
            {"contains": "translated tests failed", "text": "I am not sure."},
            {"contains": "These Python tests check", "text": fenced(JS_TESTS, "javascript")},
            {"contains": "Translate this Python", "text": fenced(WRONG_JS, "javascript")},
        ],
        max_attempts=2,
    )
    document = open_source(engine, root)
    outcome = await Actions(engine).run(TO_JS(document.uri), lambda _: None)
    (code,) = outcome.edits
    assert "return a - b" in code.text
    assert "0 of 1 translated tests pass (node:test, 2 attempts" in outcome.message
    assert "not in the edit: not all of them pass" in outcome.report


@pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")
async def test_go_runs_the_translated_tests_with_go_test_in_the_folders_package(
    tmp_path: Path,
) -> None:
    root = with_tests(tmp_path)
    engine = engine_for(
        root,
        [
            {"contains": "These Python tests check", "text": fenced(GO_TESTS, "go")},
            {"contains": "Translate this Python", "text": fenced(GO, "go")},
        ],
        timeout_s=120,
    )
    document = open_source(engine, root)
    outcome = await Actions(engine).run(TO_GO(document.uri), lambda _: None)
    code, tests = outcome.edits
    assert code.uri == (root / "calc.go").as_uri() and code.text.startswith("package project\n")
    assert tests.uri == (root / "calc_test.go").as_uri()
    assert tests.text.startswith("package project\n")
    assert "1 of 1 translated tests pass (go test, 1 attempt" in outcome.message
    assert "--- PASS: TestAdd" in outcome.report
    assert not (root / "go.mod").exists()  # the module was the copy's only


async def test_without_tests_the_translation_is_written_and_says_why_nothing_ran(
    tmp_path: Path,
) -> None:
    root = workspace(tmp_path)
    engine = engine_for(
        root, [{"contains": "Translate this Python", "text": fenced(RIGHT_JS, "javascript")}]
    )
    document = open_source(engine, root)
    outcome = await Actions(engine).run(TO_JS(document.uri), lambda _: None)
    (code,) = outcome.edits
    assert "return a + b" in code.text
    assert outcome.message.endswith("in calc.js; tests not run: no test covers function add")
    assert len(chats(engine)) == 1  # no test translated


async def test_a_missing_toolchain_is_said_and_the_translation_still_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = with_tests(tmp_path)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "go" else real_which(tool))
    engine = engine_for(root, [{"contains": "Translate this Python", "text": fenced(GO, "go")}])
    document = open_source(engine, root)
    outcome = await Actions(engine).run(TO_GO(document.uri), lambda _: None)
    (code,) = outcome.edits
    assert "func Add" in code.text
    assert "tests not run: `go` is not installed (the go test toolchain)" in outcome.message


async def test_without_a_sandbox_nothing_runs_unless_the_user_allowed_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = with_tests(tmp_path)
    monkeypatch.setattr(sandbox, "available_sandbox", lambda: None)
    engine = engine_for(
        root, [{"contains": "Translate this Python", "text": fenced(RIGHT_JS, "javascript")}]
    )
    document = open_source(engine, root)
    outcome = await Actions(engine).run(TO_JS(document.uri), lambda _: None)
    assert "tests not run: no sandbox to run the tests in" in outcome.message
    assert len(chats(engine)) == 1


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_a_hanging_translated_test_is_killed_and_nothing_written(tmp_path: Path) -> None:
    root = with_tests(tmp_path)
    hangs = JS_TESTS.replace("assert.equal", "while (true) {}\n  assert.equal")
    engine = engine_for(
        root,
        [
            {"contains": "These Python tests check", "text": fenced(hangs, "javascript")},
            {"contains": "Translate this Python", "text": fenced(RIGHT_JS, "javascript")},
        ],
        max_attempts=1,
        timeout_s=2,
    )
    document = open_source(engine, root)
    with pytest.raises(ActionError, match="did not finish within 2 s and were killed"):
        await Actions(engine).run(TO_JS(document.uri), lambda _: None)


async def test_an_answer_with_no_code_writes_nothing(tmp_path: Path) -> None:
    root = with_tests(tmp_path)
    engine = engine_for(
        root, [{"contains": "Translate this", "text": "Sorry, I cannot translate that."}]
    )
    document = open_source(engine, root)
    with pytest.raises(ActionError, match="held no JavaScript code that parses"):
        await Actions(engine).run(TO_JS(document.uri), lambda _: None)
    assert len(chats(engine)) == 3  # asked again up to actions.maxAttempts


def test_translations_are_made_importable() -> None:
    esm_in_commonjs = "export function addOne(x) {\n  return x + 1;\n}\n"
    made = importable(esm_in_commonjs, Shape("javascript"))
    assert made.startswith("function addOne") and "module.exports, { addOne }" in made
    assert importable(RIGHT_JS, Shape("javascript", esm=True)).endswith("export { add };\n")
    assert (
        importable("func F() {}\n", Shape("go", package="calc")) == "package calc\n\nfunc F() {}\n"
    )
    assert name_in(
        "const helper = (x) => x;\nfunction addOne(x) {}\n", "javascript", "add_one"
    ) == ("addOne")


def test_only_the_tests_that_use_the_function_are_translated() -> None:
    text = "import pytest\nfrom calc import add, sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_sub():\n    assert sub(2, 1) == 1\n"
    assert covering(text, "add", "python", "def add(a, b): ...") == (
        "def test_add():\n    assert add(1, 2) == 3"
    )


RUST = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
RUST_TESTS = (
    "#[cfg(test)]\nmod ghosttype_tests {\n    use super::*;\n\n    #[test]\n"
    "    fn adds() {\n        assert_eq!(add(1, 2), 3);\n    }\n}\n"
)


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
async def test_rust_runs_in_a_scratch_crate_and_the_tests_join_the_translation(
    tmp_path: Path,
) -> None:
    root = with_tests(tmp_path)
    engine = engine_for(
        root,
        [
            {"contains": "These Python tests check", "text": fenced(RUST_TESTS, "rust")},
            {"contains": "Translate this Python", "text": fenced(RUST, "rust")},
        ],
        timeout_s=300,
    )
    document = open_source(engine, root)
    outcome = await Actions(engine).run(translate("rust")(document.uri), lambda _: None)
    (code,) = outcome.edits
    assert code.uri == (root / "calc.rs").as_uri()
    assert code.text.startswith(RUST) and "fn adds()" in code.text
    assert "1 of 1 translated tests pass (cargo test, 1 attempt" in outcome.message
    assert "--manifest-path .ghosttype-translation/Cargo.toml" in outcome.report


def test_tests_that_take_the_module_as_the_function_import_its_name() -> None:
    assert named_import("const addOne = require('../calc');\n", "addOne") == (
        "const { addOne } = require('../calc');\n"
    )
    assert named_import("import addOne from './calc.js';\n", "addOne") == (
        "import { addOne } from './calc.js';\n"
    )


def test_go_tests_that_copy_the_translation_and_forget_imports_are_mended() -> None:
    code = 'package calc\n\nimport "fmt"\n\nfunc addOne(x int) int {\n\treturn x + 1\n}\n'
    code += "\nfunc main() {\n\tfmt.Println(addOne(1))\n}\n"
    tests = (
        'package calc\n\nimport "fmt"\n\nfunc addOne(x int) int {\n\treturn x + 1\n}\n\n'
        "func TestAddOne(t *testing.T) {\n\tif calc.AddOne(1) != 2 {\n\t\tt.Fatal()\n\t}\n}\n"
    )
    mended = repaired(tests, code, Shape("go", package="calc"), "add_one")
    assert mended == (
        'package calc\n\nimport (\n\t"testing"\n)\n\n'
        "func TestAddOne(t *testing.T) {\n\tif addOne(1) != 2 {\n\t\tt.Fatal()\n\t}\n}\n"
    )

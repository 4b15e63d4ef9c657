"""Generate tests in JavaScript (node's test runner) and Rust (cargo test, tests in the source
file), on the scripted backend with the real toolchains in the real sandbox: the framework's
output is read per test, a failing test is dropped by its title. Go's toolchain is not on this
machine: its absence is a clear message."""

from __future__ import annotations

import shutil

import pytest

from ghosttype.actions.errors import ActionError
from ghosttype.actions.frameworks import detect
from ghosttype.actions.service import Actions
from tests.actions.helpers import engine_for, fenced

JS = "function clamp(value, low, high) {\n  if (value > high) return low;\n  return Math.max(value, low);\n}\nmodule.exports = { clamp };\n"
JS_TESTS = (
    "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\n"
    "const { clamp } = require('../clamp');\n\n"
    "test('inside stays', () => {\n  assert.equal(clamp(5, 0, 10), 5);\n});\n\n"
    "test('above is high', () => {\n  assert.equal(clamp(15, 0, 10), 10);\n});\n"
)
RUST = "pub fn double(x: i32) -> i32 {\n    x * 2\n}\n"
RUST_TESTS = (
    "#[cfg(test)]\nmod ghosttype_tests {\n    use super::*;\n\n    #[test]\n"
    "    fn doubles() {\n        assert_eq!(double(2), 4);\n    }\n}\n"
)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_javascript_with_nodes_test_runner(tmp_path):
    root = tmp_path / "js"
    (root / "test").mkdir(parents=True)
    (root / "clamp.js").write_text(JS)
    (root / "package.json").write_text('{"name": "x", "scripts": {"test": "node --test"}}')
    engine = engine_for(root, [{"contains": "node's test runner", "text": fenced(JS_TESTS, "js")}])
    document = engine.documents.open((root / "clamp.js").as_uri(), JS, "javascript", 1)
    outcome = await Actions(engine).run(
        {"action": "tests", "uri": document.uri, "start": 20, "end": 20}, lambda _: None
    )
    (edit,) = outcome.edits
    assert edit.uri == (root / "test" / "clamp.test.js").as_uri()
    assert "inside stays" in edit.text and "above is high" not in edit.text
    assert "1 of 2 tests pass (node:test" in outcome.message
    assert "suspected bugs: above is high" in outcome.message


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
async def test_rust_with_cargo_test_in_the_source_file(tmp_path):
    root = tmp_path / "crate"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text(
        '[package]\nname = "doubler"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
    )
    (root / "src" / "lib.rs").write_text(RUST)
    engine = engine_for(
        root, [{"contains": "Rust test module", "text": fenced(RUST_TESTS, "rust")}], timeout_s=300
    )
    document = engine.documents.open((root / "src" / "lib.rs").as_uri(), RUST, "rust", 1)
    outcome = await Actions(engine).run(
        {"action": "tests", "uri": document.uri, "start": 10, "end": 10}, lambda _: None
    )
    (edit,) = outcome.edits
    assert edit.uri == document.uri and edit.base == RUST and not edit.create
    assert edit.text.startswith(RUST) and "fn doubles()" in edit.text
    assert "1 of 1 tests pass (cargo test" in outcome.message


def test_go_without_its_toolchain_is_a_clear_message(tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.22\n")
    (tmp_path / "x.go").write_text("package x\n\nfunc Add(a, b int) int { return a + b }\n")
    framework = detect(tmp_path, "x.go", "go")
    assert framework.test_path == "x_test.go"
    missing = framework.toolchain_missing(tmp_path)
    if shutil.which("go") is None:
        assert missing == "`go` is not installed (the go test toolchain)"
    else:
        assert missing is None


def test_typescript_without_a_runner_is_a_clear_message(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    with pytest.raises(ActionError, match="no test framework that runs TypeScript"):
        detect(tmp_path, "a.ts", "typescript")

"""A project's test framework and layout, found from its files: pytest or unittest
(pyproject.toml, setup.cfg, pytest.ini, conftest.py, the existing tests), jest, vitest or node's
test runner (package.json), go test (go.mod), cargo test (Cargo.toml). Each says where the tests
for a source file go, how the model should write them, the command that runs them and how to
read which tests passed from its output."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import ActionError

TEST_FOLDERS = ("tests", "test", "__tests__")


@dataclass(frozen=True)
class Framework:
    name: str  # pytest | unittest | jest | vitest | node:test | go test | cargo test
    language: str  # the tests' language id
    test_path: str  # workspace-relative, POSIX
    style: str  # how to write the tests, for the model
    command: tuple[str, ...]
    # Test name and passed, one per test, from the command's output.
    outcome_pattern: str
    passed_word: str
    env: dict[str, str] = field(default_factory=dict)
    # Rust: the tests go at the end of the source file, in a test module.
    in_source: bool = False
    # How a test file imports a top-level name of the source ("{name}"), where one line does.
    import_template: str = ""

    def with_import(self, code: str, name: str) -> str:
        """`code` with the import of `name` added where it uses the name without importing
        or defining it (small models forget the import more often than anything else)."""
        if not self.import_template or not name or not re.search(rf"\b{re.escape(name)}\b", code):
            return code
        if re.search(
            rf"(import|require|def|function|const|let|var)\b[^\n]*\b{re.escape(name)}\b", code
        ):
            return code
        return self.import_template.format(name=name) + "\n" + code

    def outcomes(self, output: str) -> dict[str, bool]:
        found: dict[str, bool] = {}
        for match in re.finditer(self.outcome_pattern, output, re.MULTILINE):
            status, name = match.group("status"), match.group("name").strip()
            found[name] = found.get(name, True) and status == self.passed_word
        return found

    def toolchain_missing(self, root: Path) -> str | None:
        """Why the command cannot run here, or None."""
        tool = self.command[0]
        if "/" in tool:
            return None if (root / tool).exists() or Path(tool).exists() else f"{tool} is missing"
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (the {self.name} toolchain)"
        return None


def detect(root: Path, source: str, language_id: str) -> Framework:
    """The framework for tests of the workspace-relative `source` file. Raises ActionError for a
    language or project with none."""
    language = {"javascriptreact": "javascript", "typescriptreact": "typescript"}.get(
        language_id, language_id
    )
    if language == "python":
        return _python(root, PurePosixPath(source))
    if language in ("javascript", "typescript"):
        return _javascript(root, PurePosixPath(source), language)
    if language == "go":
        return _go(root, PurePosixPath(source))
    if language == "rust":
        return _rust(root, PurePosixPath(source))
    raise ActionError(f"no test framework is known for {language_id} files")


# --- Python ---------------------------------------------------------------------------------


def python_of(root: Path) -> str:
    for venv in (".venv", "venv"):
        if (root / venv / "bin" / "python").exists():
            return str(root / venv / "bin" / "python")
    return "python3"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:200_000]
    except OSError:
        return ""


def _existing_tests(root: Path, pattern: str) -> list[Path]:
    found: list[Path] = []
    for folder in (root, *(root / name for name in TEST_FOLDERS)):
        if folder.is_dir():
            found += sorted(folder.glob(pattern))[:20]
    return found


def _python(root: Path, source: PurePosixPath) -> Framework:
    config = _read(root / "pyproject.toml") + _read(root / "setup.cfg") + _read(root / "tox.ini")
    tests = _existing_tests(root, "test_*.py")
    uses_pytest = (
        "pytest" in config
        or (root / "pytest.ini").exists()
        or (root / "conftest.py").exists()
        or any("pytest" in _read(t) for t in tests)
    )
    uses_unittest = any("import unittest" in _read(t) for t in tests)
    name = "pytest" if uses_pytest or not uses_unittest else "unittest"
    folder = next((f for f in TEST_FOLDERS[:2] if (root / f).is_dir()), None)
    test_name = f"test_{source.stem}.py"
    test_path = f"{folder}/{test_name}" if folder else str(source.with_name(test_name))
    parts = list(source.with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    module = ".".join(parts)
    paths = [str(root), str(root / "src")] + ([str(root / folder)] if folder else [])
    python = python_of(root)
    command: tuple[str, ...]
    if name == "pytest":
        # verbosity_assertions=2: a failed assert's explanation shows whole values, not
        # `'abc...xyz'`, so a wrong expectation can be pinned to the result (testgen).
        command = (python, "-m", "pytest", "-q", "-rA", "-o", "verbosity_assertions=2")
        command += ("-p", "no:cacheprovider", test_path)
        style = (
            f"Use pytest: import the code with `from {module} import ...`, write 3 to 6 plain "
            "`def test_...():` functions of a few lines that assert concrete results, "
            "`pytest.raises` for errors; no parametrize, no helpers."
        )
        pattern = r"^(?P<status>PASSED|FAILED|ERROR) \S+?::(?P<name>[\w\[\]\-.]+)"
        word = "PASSED"
    else:
        test_module = ".".join(PurePosixPath(test_path).with_suffix("").parts)
        command = (python, "-m", "unittest", "-v", test_module)
        style = (
            f"Use unittest: import the code with `from {module} import ...`, one "
            "`unittest.TestCase` class with `test_...` methods using self.assert..., and "
            "`if __name__ == '__main__': unittest.main()` at the end."
        )
        pattern = r"^(?P<name>test\w*) \([^)]*\)(?:\n.*?)? \.\.\. (?P<status>ok|FAIL|ERROR)"
        word = "ok"
    env = {"PYTHONPATH": ":".join(paths)}
    template = f"from {module} import {{name}}"
    return Framework(
        name, "python", test_path, style, command, pattern, word, env, import_template=template
    )


# --- JavaScript and TypeScript --------------------------------------------------------------


def _javascript(root: Path, source: PurePosixPath, language: str) -> Framework:
    try:
        package = json.loads(_read(root / "package.json") or "{}")
    except ValueError:
        package = {}
    if not isinstance(package, dict):
        package = {}
    deps = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    script = str(package.get("scripts", {}).get("test", ""))
    esm = package.get("type") == "module" or language == "typescript"
    folder = next((f for f in TEST_FOLDERS if (root / f).is_dir()), None)
    suffix = ".ts" if language == "typescript" else (source.suffix or ".js")
    test_name = f"{source.stem}.test{suffix}"
    test_path = f"{folder}/{test_name}" if folder else str(source.with_name(test_name))
    relative = _relative_import(PurePosixPath(test_path), source, esm)
    how = f"import {{ ... }} from '{relative}'" if esm else f"require('{relative}')"
    if "vitest" in deps or "vitest" in script:
        name, command = "vitest", ("node_modules/.bin/vitest", "run", "--reporter=verbose")
        style = f"Use vitest: `import {{ describe, it, expect }} from 'vitest'`, {how}."
        pattern, word = r"^\s*(?P<status>✓|×|✗) (?:\S+ > )*(?P<name>.+?)(?: \d+ms)?$", "✓"
    elif "jest" in deps or "jest" in script:
        name, command = "jest", ("node_modules/.bin/jest", "--ci", "--verbose")
        style = f"Use jest: `test(...)` or `describe`/`it` with `expect`, {how}."
        pattern, word = r"^\s*(?P<status>✓|✕|√|×) (?P<name>.+?)(?: \(\d+ ms\))?$", "✓"
    elif language == "typescript":
        raise ActionError(
            "no test framework that runs TypeScript was found (add vitest, or jest with ts-jest, "
            "to package.json)"
        )
    else:
        name, command = "node:test", ("node", "--test", "--test-reporter=tap")
        runner = (
            "import { test } from 'node:test'; import assert from 'node:assert/strict'"
            if esm
            else "const { test } = require('node:test'); const assert = require('node:assert/strict')"
        )
        style = f"Use node's test runner: `{runner}`, {how}; one `test('...', () => {{...}})` each."
        pattern, word = r"^\s*(?P<status>ok|not ok) \d+ - (?P<name>.+?)(?: #.*)?$", "ok"
    language_id = "typescript" if language == "typescript" else "javascript"
    template = (
        f"import {{{{ {{name}} }}}} from '{relative}';"
        if esm
        else f"const {{{{ {{name}} }}}} = require('{relative}');"
    )
    return Framework(
        name,
        language_id,
        test_path,
        style,
        (*command, test_path),
        pattern,
        word,
        import_template=template,
    )


def _relative_import(test: PurePosixPath, source: PurePosixPath, esm: bool) -> str:
    up = len(test.parent.parts)
    path = "/".join([".."] * up + list(source.parts)) if up else f"./{source}"
    path = path if path.startswith(".") else f"./{path}"
    return path if esm and source.suffix != ".ts" else str(PurePosixPath(path).with_suffix(""))


# --- Go and Rust ----------------------------------------------------------------------------


def _go(root: Path, source: PurePosixPath) -> Framework:
    if not (root / "go.mod").exists():
        raise ActionError("no go.mod at the workspace root: go test needs a module")
    package = re.search(r"^package (\w+)", _read(root / source), re.MULTILINE)
    return go_test(source, package.group(1) if package else "main")


def go_test(source: PurePosixPath, name: str) -> Framework:
    """go test for the Go file `source` of package `name` (the module's go.mod found)."""
    test_path = str(source.with_name(f"{source.stem}_test.go"))
    folder = f"./{source.parent}" if str(source.parent) != "." else "."
    style = f'Use Go\'s testing package: `package {name}`, `import "testing"`, `func TestX(t *testing.T)`.'
    pattern = r"^\s*--- (?P<status>PASS|FAIL): (?P<name>\S+)"
    command = ("go", "test", "-v", "-count=1", folder)
    return Framework("go test", "go", test_path, style, command, pattern, "PASS")


def _rust(root: Path, source: PurePosixPath) -> Framework:
    if not (root / "Cargo.toml").exists():
        raise ActionError("no Cargo.toml at the workspace root: cargo test needs a crate")
    return cargo_test(str(source))


def cargo_test(source: str, manifest: str = "") -> Framework:
    """cargo test for a test module appended to the Rust file `source` (of the crate whose
    Cargo.toml is `manifest`, the workspace root's where empty)."""
    style = (
        "Write a Rust test module: `#[cfg(test)] mod ghosttype_tests { use super::*; "
        "#[test] fn ...() { assert_eq!(...); } }`."
    )
    pattern = r"^test (?:\S+::)?(?P<name>\w+) \.\.\. (?P<status>ok|FAILED)"
    where = ("--manifest-path", manifest) if manifest else ()
    command = ("cargo", "test", "--offline", *where, "ghosttype_tests")
    return Framework("cargo test", "rust", source, style, command, pattern, "ok", in_source=True)

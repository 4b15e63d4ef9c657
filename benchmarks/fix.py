"""Code actions (issue 29), Fix: on one-line bugs planted in functions of real packages ghosttype
did not write (installed from PyPI into the venv: idna, h11, python-dotenv, pygments, diskcache)
and of Python's standard library, each with a test that fails on the bug, how many bugs the Fix
action fixes: the failing test passes and no other test breaks.

The bug set is data (benchmarks/fix_bugs.toml): the module, the function, the line as the
package has it and as planted, the failing test and the function's other tests. Before the model
is asked, every bug is checked in the sandbox: all tests pass on the original module, the named
test fails on the planted bug and the others pass.

For each bug, a fresh workspace (the module alone as `<package>_<stem>.py` with the bug, a
pyproject.toml for pytest, the tests in tests/test_<package>_<stem>.py), and what a person's
editor sends: a diagnostic from another server (source `pytest`) on the buggy line, whose message
is the failing test's name and pytest's one-line summary of the failure, in the code action
request's context. The Fix offered for it runs as the person would pick it, in the default
configuration (the pause model, Qwen2.5-Coder-1.5B Instruct, embedded, serves actions); its edit
is applied and all the tests run in the sandbox. Each bug ends as one of: fixed (every test
passes), broke others (a test that passed on the bug fails now), unchanged (the failing test
still fails, nothing else broke), no answer (the action wrote nothing and said why).

Run: PYTHONPATH=server .venv/bin/python benchmarks/fix.py [--bugs N] [--only ID] [--out FILE]
     PYTHONPATH=server .venv/bin/python benchmarks/fix.py --check   (the bug set alone, no model)
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import statistics
import sys
import sysconfig
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghosttype.actions import kinds, sandbox
from ghosttype.actions.errors import ActionError
from ghosttype.actions.frameworks import Framework, detect
from ghosttype.actions.model import model_host
from ghosttype.actions.service import Actions, Problem
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine

BUGS = Path(__file__).with_name("fix_bugs.toml")
SITE = Path(sysconfig.get_paths()["purelib"])
STDLIB = Path(sysconfig.get_paths()["stdlib"])
LIMITS = sandbox.Limits(60, 2048)
# A diagnostic's message is a line or two in the editor: pytest's explanations can run long.
MESSAGE_MAX = 300


@dataclass(frozen=True)
class Bug:
    id: str
    package: str
    module: str
    function: str
    original: str
    buggy: str
    failing: str
    tests: str

    @property
    def module_name(self) -> str:
        return f"{self.package}_{Path(self.module).stem}"

    @property
    def test_path(self) -> str:
        return f"tests/test_{self.module_name}.py"

    def sources(self) -> tuple[str, str]:
        """The module as installed and with the bug planted (the one line, inside the
        function)."""
        folder = STDLIB if self.package == "stdlib" else SITE
        source = (folder / self.module).read_text(encoding="utf-8")
        function = next(
            node
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef) and node.name == self.function
        )
        lines = source.split("\n")
        start, end = function.lineno - 1, function.end_lineno or function.lineno
        at = [i for i in range(start, end) if lines[i] == self.original]
        if len(at) != 1:
            raise ValueError(f"{self.id}: the original line is in {self.function} {len(at)} times")
        planted = [*lines[: at[0]], self.buggy, *lines[at[0] + 1 :]]
        return source, "\n".join(planted)


def load(path: Path = BUGS) -> list[Bug]:
    return [Bug(**entry) for entry in tomllib.loads(path.read_text())["bug"]]


def prepare(bug: Bug, root: Path, source: str) -> Path:
    """The bug's workspace: the module (`source`), pytest configured, the tests."""
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (root / bug.test_path).write_text(bug.tests.lstrip("\n"))
    module = root / f"{bug.module_name}.py"
    module.write_text(source)
    return module


@dataclass(frozen=True)
class TestRun:
    outcomes: dict[str, bool]  # test name: passed
    output: str

    def failed(self) -> set[str]:
        return {name for name, passed in self.outcomes.items() if not passed}


async def run_tests(root: Path, framework: Framework, module: str, source: str) -> TestRun:
    """The workspace's tests with the module's text `source`, in the sandbox."""
    kind = sandbox.choose_sandbox(False)
    async with sandbox.workspace_copy(root, {module: source}) as copy:
        result = await sandbox.run(kind, list(framework.command), root, copy, LIMITS, framework.env)
    return TestRun(framework.outcomes(result.output), result.output)


def failure_message(output: str, test: str) -> str:
    """What a test runner's diagnostic says of the failure of `test`: the statement that failed
    and pytest's explanation (its `E` lines), from the failure's section of the output."""
    lines = output.splitlines()
    heading = next((i for i, line in enumerate(lines) if line.strip("_ ") == test), None)
    if heading is None:
        return f"{test} failed"
    section = []
    for line in lines[heading + 1 :]:
        if line.startswith(("____", "====")):
            break
        section.append(line)
    statement = next((line[1:].strip() for line in section if line.startswith(">")), "")
    explained = [line[1:].strip() for line in section if line.startswith("E ")][:4]
    where = f" at `{statement}`" if statement else ""
    message = " ".join(f"{test} failed{where}: {' '.join(explained)}".split())
    return message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 3] + "..."


async def check(bug: Bug, root: Path) -> tuple[str, str, TestRun]:
    """The buggy module's text, the diagnostic's message and the tests on the bug; raises
    ValueError where the bug is not what the data says."""
    original, buggy = bug.sources()
    prepare(bug, root, buggy)
    framework = detect(root, f"{bug.module_name}.py", "python")
    module = f"{bug.module_name}.py"
    before = await run_tests(root, framework, module, original)
    tests = set(before.outcomes)
    if not tests or before.failed():
        raise ValueError(f"{bug.id}: on the original {before.failed() or 'no test ran'}")
    on_bug = await run_tests(root, framework, module, buggy)
    if on_bug.failed() != {bug.failing} or set(on_bug.outcomes) != tests:
        raise ValueError(f"{bug.id}: on the bug {on_bug.failed() or 'none'} failed")
    message = failure_message(on_bug.output, bug.failing)
    return buggy, message, on_bug


async def one(engine: Engine, bug: Bug, root: Path) -> dict[str, Any]:
    buggy, message, on_bug = await check(bug, root)
    module = f"{bug.module_name}.py"
    uri = (root / module).as_uri()
    engine.context.set_roots([root])
    document = engine.documents.open(uri, buggy, "python", 1)
    line_start = buggy.index("\n" + bug.buggy + "\n") + 1
    start = line_start + len(bug.buggy) - len(bug.buggy.lstrip())
    end = line_start + len(bug.buggy)
    problem = Problem(message, start, end, "pytest")
    result: dict[str, Any] = {"bug": bug.id, "function": bug.function, "diagnostic": message}
    actions = Actions(engine)
    started = time.perf_counter()
    try:
        offers = actions.offers(document, start, start, [problem], [kinds.QUICKFIX])
        fix = next(offer for offer in offers if offer.data.get("action") == "fix")
        outcome = await actions.run(fix.data, lambda _: None)
    except ActionError as error:
        result.update(verdict="no answer", message=error.message)
        return result
    finally:
        result["seconds"] = time.perf_counter() - started
        model = actions.last_model
        result["tokens"] = model.generated_tokens if model else 0
        engine.documents.close(uri)
        engine.forget(uri)
    (edit,) = outcome.edits
    fixed = edit.base[: edit.start] + edit.text + edit.base[edit.end :]
    framework = detect(root, module, "python")
    after = await run_tests(root, framework, module, fixed)
    broken = after.failed() - on_bug.failed()
    if broken or set(after.outcomes) != set(on_bug.outcomes):
        verdict = "broke others"
    elif not after.failed():
        verdict = "fixed"
    else:
        verdict = "unchanged"
    result.update(verdict=verdict, message=outcome.message, edit=edit.text)
    result["failedAfter"] = sorted(after.failed() | (set(on_bug.outcomes) - set(after.outcomes)))
    return result


VERDICTS = ("fixed", "broke others", "unchanged", "no answer")


async def check_all(bugs: list[Bug]) -> None:
    wrong = 0
    with tempfile.TemporaryDirectory(prefix="ghosttype-bench-fix-") as folder:
        for index, bug in enumerate(bugs):
            try:
                _, message, _ = await check(bug, Path(folder) / f"b{index}")
            except ValueError as error:
                wrong += 1
                print(f"WRONG {error}", flush=True)
                continue
            print(f"{bug.id}: ok ({message})", flush=True)
    print(f"{len(bugs) - wrong} of {len(bugs)} bugs as the data says")
    if wrong:
        sys.exit(1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bugs", type=int, default=None, help="the first N bugs only")
    parser.add_argument("--only", action="append", default=[], help="a bug's id (repeatable)")
    parser.add_argument("--check", action="store_true", help="check the bug set; no model")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    bugs = [b for b in load() if not args.only or b.id in args.only][: args.bugs]
    if args.check:
        await check_all(bugs)
        return
    settings = with_overrides(Settings())
    engine = Engine(settings)
    engine.start()
    error = await engine.wait_ready()
    if error is not None:
        sys.exit(f"the model did not start: {error}")
    host = model_host(engine, settings.actions)
    await host.ready()
    print(
        f"model: {host.loaded.name if host.loaded else '?'}; sandbox: {sandbox.available_sandbox()}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="ghosttype-bench-fix-") as folder:
        for index, bug in enumerate(bugs):
            result = await one(engine, bug, Path(folder) / f"b{index}")
            results.append(result)
            print(
                f"{bug.id}: {result['verdict']} {result['seconds']:.1f} s, "
                f"{result['tokens']} tokens: {result['message']}",
                flush=True,
            )
    await engine.close()
    seconds = [r["seconds"] for r in results]
    summary: dict[str, Any] = {"bugs": len(results)}
    summary.update({v: sum(r["verdict"] == v for r in results) for v in VERDICTS})
    summary["secondsP50"] = statistics.median(seconds) if seconds else 0.0
    summary["secondsMax"] = max(seconds) if seconds else 0.0
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "bugs": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

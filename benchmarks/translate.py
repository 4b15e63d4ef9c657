"""Code actions (issue 29), Translate to...: small Python functions with their tests
(HumanEval-style, benchmarks/translate_problems.toml, problems ghosttype did not write)
translated to JavaScript and to Go by the real action in the default configuration (the embedded
models; the pause model serves actions), and scored against reference tests written by hand in
the target language.

Each problem gets a fresh workspace: `<id>.py`, `tests/test_<id>.py` with the first half of its
test cases (what the action finds, translates and runs; a failing run goes back to the model up
to actions.maxAttempts) and a pyproject.toml for pytest. The translated file the action's edit
holds (exports and package line as the action writes them) is then run against the reference
test of the target language, which holds all the cases (node's test runner; go test), in the
same sandbox. A translation passes when every reference case passes. Reported per target
language: the pass rate, the share of reference cases passed, the action's own translated tests
(how often they ran and all passed), the attempts and the time per function.

Target: pass rate >= 0.6 to JavaScript with the default models.

Go needs its toolchain: `apt-get install -y golang-go` (Debian; as root). Without it the Go half
is skipped and says so.

Run: PYTHONPATH=server .venv/bin/python benchmarks/translate.py [--to javascript go]
     [--problems 23] [--out FILE]
     PYTHONPATH=server .venv/bin/python benchmarks/translate.py --check   (the data set alone:
     the Python cases pass on the original, the reference tests on hand-written solutions)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
import tomllib
from pathlib import Path
from typing import Any

from ghosttype.actions import sandbox
from ghosttype.actions.errors import ActionError
from ghosttype.actions.service import EXTENSIONS, Actions
from ghosttype.actions.translation import Shape, importable, name_in
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine

DATA = Path(__file__).parent / "translate_problems.toml"
TOOLS = {"javascript": "node", "go": "go"}
INSTALL = {"javascript": "apt-get install -y nodejs", "go": "apt-get install -y golang-go"}
LIMITS = sandbox.Limits(120, 2048)

JS_HEADER = (
    "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\n"
    "const { SOLUTION } = require('./solution');\n"
)
GO_TEST = """package solution

import (
	"fmt"
	"testing"
)

func TestReference(t *testing.T) {
	cases := []struct{ got, want interface{} }{
CASES	}
	for i, c := range cases {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("case %d: got %v, want %v", i+1, c.got, c.want)
		}
	}
}
"""
GO_MOD = "module ghosttype.local/solution\n\ngo 1.18\n"
_TAP = re.compile(r"^(ok|not ok) \d+ - case", re.MULTILINE)
_GO_FAILED = re.compile(r"^\s+\S+\.go:\d+: case \d+:", re.MULTILINE)
_OWN = re.compile(r"(\d+) of (\d+) translated tests pass \([^,]+, (\d+) attempt")


def problems() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = tomllib.loads(DATA.read_text(encoding="utf-8"))["problem"]
    return found


def _cases(problem: dict[str, Any], language: str) -> list[str]:
    return [line for line in problem[f"{language}_cases"].strip().split("\n") if line.strip()]


# --- the workspace the action works in --------------------------------------------------------


def prepare(problem: dict[str, Any], root: Path) -> str:
    """The problem's workspace, with the first half of its Python cases as its tests; the
    source's text."""
    name = problem["id"]
    cases = _cases(problem, "python")
    shown = cases[: (len(cases) + 1) // 2]
    tests = f"from {name} import {name}\n" + "".join(
        f"\n\ndef test_{name}_{index}():\n    {case}\n" for index, case in enumerate(shown, 1)
    )
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (root / "tests" / f"test_{name}.py").write_text(tests)
    source = str(problem["python"]).lstrip("\n")
    (root / f"{name}.py").write_text(source)
    return source


# --- scoring against the reference tests ----------------------------------------------------


def reference_files(problem: dict[str, Any], to: str, code: str) -> dict[str, str] | None:
    """The translation and the reference test as files of a folder of their own; None where the
    translation defines no function to call."""
    name = name_in(code, to, problem["id"])
    if not name:
        return None
    cases = _cases(problem, to)
    if to == "javascript":
        body = "".join(
            f"\ntest('case {i}', () => {{\n  {case}\n}});\n" for i, case in enumerate(cases, 1)
        )
        test = (JS_HEADER + body).replace("SOLUTION", name)
        return {"solution.js": code, "reference.test.js": test}
    lines = "".join(f"\t\t{case}\n" for case in cases)
    test = GO_TEST.replace("CASES", lines).replace("SOLUTION", name)
    translated = importable(code, Shape("go", package="solution"))
    return {"go.mod": GO_MOD, "solution.go": translated, "reference_test.go": test}


REFERENCE_COMMANDS = {
    "javascript": ["node", "--test", "--test-reporter=tap", "reference.test.js"],
    "go": ["go", "test", "-v", "-count=1", "."],
}


async def score(problem: dict[str, Any], to: str, code: str, kind: str) -> dict[str, Any]:
    """How many reference cases the translation passes."""
    total = len(_cases(problem, to))
    files = reference_files(problem, to, code)
    if files is None:
        return {"referencePassed": False, "cases": 0, "of": total, "why": "no function found"}
    with tempfile.TemporaryDirectory(prefix="ghosttype-translate-ref-") as folder:
        root = Path(folder) / "reference"
        root.mkdir()
        async with sandbox.workspace_copy(root, files) as copy:
            run = await sandbox.run(kind, REFERENCE_COMMANDS[to], root, copy, LIMITS, {})
    if to == "javascript":
        passed = sum(status == "ok" for status in _TAP.findall(run.output))
    else:
        compiled = "--- PASS" in run.output or "--- FAIL" in run.output
        passed = total - len(_GO_FAILED.findall(run.output)) if compiled else 0
    result = {"referencePassed": run.passed, "cases": passed if not run.passed else total}
    result["of"] = total
    if not run.passed:
        result["referenceOutput"] = run.output.strip()[-1500:]
    return result


# --- one translation ------------------------------------------------------------------------


async def one(
    engine: Engine, problem: dict[str, Any], to: str, root: Path, kind: str
) -> dict[str, Any]:
    source = prepare(problem, root)
    name = problem["id"]
    engine.context.set_roots([root])
    uri = (root / f"{name}.py").as_uri()
    engine.documents.open(uri, source, "python", 1)
    at = source.index(f"def {name}(") + 4
    result: dict[str, Any] = {"problem": name, "to": to}
    started = time.perf_counter()
    try:
        outcome = await Actions(engine).run(
            {"action": "translate", "to": to, "uri": uri, "start": at, "end": at}, lambda _: None
        )
    except ActionError as error:
        result.update(seconds=time.perf_counter() - started, error=error.message)
        result.update(referencePassed=False, cases=0, of=len(_cases(problem, to)))
        return result
    finally:
        engine.documents.close(uri)
        engine.forget(uri)
    result["seconds"] = time.perf_counter() - started
    code = outcome.edits[0].text
    assert outcome.edits[0].uri.endswith(f"{name}{EXTENSIONS[to]}")
    own = _OWN.search(outcome.message)
    result.update(
        message=outcome.message,
        report=outcome.report,
        translation=code,
        ownPassed=int(own.group(1)) if own else 0,
        ownTests=int(own.group(2)) if own else 0,
        attempts=int(own.group(3)) if own else 0,
        ownRan=own is not None,
    )
    result.update(await score(problem, to, code, kind))
    return result


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [r["seconds"] for r in results]
    ran = [r for r in results if r.get("ownRan")]
    return {
        "functions": len(results),
        "passRate": sum(r["referencePassed"] for r in results) / len(results),
        "casesPassed": sum(r["cases"] for r in results) / sum(r["of"] for r in results),
        "actionTestsRan": len(ran),
        "actionTestsAllPass": sum(r["ownPassed"] == r["ownTests"] > 0 for r in ran),
        "attemptsMean": statistics.mean(r["attempts"] for r in ran) if ran else 0.0,
        "errors": sum("error" in r for r in results),
        "secondsP50": statistics.median(seconds),
        "secondsMean": statistics.mean(seconds),
        "secondsMax": max(seconds),
    }


# --- the data set's own check ---------------------------------------------------------------


async def check(chosen: list[dict[str, Any]], targets: list[str], kind: str) -> int:
    """Every Python case passes on the original, every reference test on the hand-written
    solution. The number of problems that fail."""
    failed = 0
    for problem in chosen:
        name = problem["id"]
        body = "".join(
            f"\ndef test_{i}():\n    {c}\n" for i, c in enumerate(_cases(problem, "python"))
        )
        files = {
            f"{name}.py": problem["python"],
            f"test_{name}.py": f"from {name} import {name}\n{body}",
        }
        root = Path(tempfile.mkdtemp(prefix="ghosttype-translate-check-"))
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        async with sandbox.workspace_copy(root, files) as copy:
            run = await sandbox.run(kind, command, root, copy, LIMITS, {})
        shutil.rmtree(root, ignore_errors=True)
        bad = [] if run.passed else [f"python: {run.output.strip()[-400:]}"]
        for to in targets:
            scored = await score(problem, to, textwrap.dedent(problem[to]).lstrip("\n"), kind)
            if not scored["referencePassed"]:
                bad.append(f"{to}: {scored.get('referenceOutput', scored.get('why'))}")
        print(f"{name}: {'ok' if not bad else 'FAIL ' + ' | '.join(bad)}", flush=True)
        failed += bool(bad)
    return failed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", nargs="+", default=["javascript", "go"], choices=list(TOOLS))
    parser.add_argument("--problems", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="check the data set and stop")
    args = parser.parse_args()
    chosen = problems()[: args.problems]
    targets = []
    for to in args.to:
        if shutil.which(TOOLS[to]) is None:
            print(f"{to}: skipped, `{TOOLS[to]}` is not installed ({INSTALL[to]}, as root)")
        else:
            targets.append(to)
    kind = sandbox.choose_sandbox(False)
    if args.check:
        sys.exit(1 if await check(chosen, targets, kind) else 0)
    engine = Engine(with_overrides(Settings()))
    engine.start()
    error = await engine.wait_ready()
    if error is not None:
        sys.exit(f"the model did not start: {error}")
    host = engine.pause.host if engine.pause is not None else engine.host
    print(f"actions' model: {host.settings.kind} {host.settings.model or ''}; sandbox: {kind}")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ghosttype-bench-translate-") as folder:
        for index, problem in enumerate(chosen):
            for to in targets:
                root = Path(folder) / f"w{index}{to[:2]}"
                result = await one(engine, problem, to, root, kind)
                results.append(result)
                verdict = "pass" if result["referencePassed"] else "FAIL"
                shown = result.get("message") or result.get("error", "")
                print(
                    f"{problem['id']} -> {to}: {verdict} ({result['cases']}/{result['of']} "
                    f"cases) {result['seconds']:.1f} s: {shown}",
                    flush=True,
                )
                if args.out:  # after every function: a stopped run keeps what it measured
                    args.out.write_text(json.dumps({"results": results}, indent=2))
    await engine.close()
    report = {to: summary([r for r in results if r["to"] == to]) for to in targets}
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"summary": report, "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

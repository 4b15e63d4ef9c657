"""Code actions (issue 29), Generate tests: on functions from real packages ghosttype did not write
(installed from PyPI into the venv: idna, h11, python-dotenv, pygments, packaging, anyio,
diskcache), in the default configuration (the embedded model, the sandbox), how often the tests
pass on the original function, how many simple mutants of the function they kill, the attempts
used and the time per function. Also what offering actions costs.

A function qualifies when its module imports nothing but the standard library (so the module
alone is the workspace) and it is public, undecorated, 3-30 lines long and returns a value. Each
function's module is copied into a fresh workspace (`<package>_<module>.py`, a pyproject.toml for
pytest, a tests/ folder); Generate tests runs there as the person would pick it. Mutants (at most
MUTANTS_MAX per function, each one change): an arithmetic operator swapped, a comparison
negated, a boolean operator swapped, a constant changed, a `return x` made `return None`. A
mutant is killed when the generated tests fail on it (run in the same sandbox). A function whose
tests failed or are missing scores 0.

Targets: tests pass on the original for >= 80% of functions; mutation score >= 0.6 over all
functions; time per function p50 <= 90 s on 2 cores with the embedded model.

Run: PYTHONPATH=server .venv/bin/python benchmarks/actions.py [--functions 30] [--out FILE]
    [--only NAME]   (just the functions whose name holds NAME)
    [--serve]       (the actions over HTTP: llama-cpp-python's OpenAI-compatible server on
                     127.0.0.1 running the 1.5B with every core, as a team's bigger model would be)
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ghosttype.actions import sandbox
from ghosttype.actions.errors import ActionError
from ghosttype.actions.frameworks import detect
from ghosttype.actions.service import Actions
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))

from served import served_model  # the benchmarks folder is no package

SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
PACKAGES = ("idna", "h11", "dotenv", "pygments", "packaging", "anyio", "diskcache")
MUTANTS_MAX = 6
SERVED_MODEL = "qwen2.5-coder-1.5b"


def candidates() -> list[tuple[Path, str, str]]:
    """(module file, package, function name) of every qualifying function, in a fixed order."""
    site = SITE / "site-packages"
    found = []
    for package in PACKAGES:
        for path in sorted((site / package).rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            if not _standard_library_only(tree):
                continue
            for node in tree.body:
                if _qualifies(node):
                    assert isinstance(node, ast.FunctionDef)
                    found.append((path, package, node.name))
    return found


def _standard_library_only(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] not in sys.stdlib_module_names:
                return False
        if isinstance(node, ast.Import):
            if any(a.name.split(".")[0] not in sys.stdlib_module_names for a in node.names):
                return False
    return True


def _qualifies(node: ast.stmt) -> bool:
    if not isinstance(node, ast.FunctionDef) or node.name.startswith("_") or node.decorator_list:
        return False
    lines = (node.end_lineno or node.lineno) - node.lineno + 1
    returns = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(node))
    return bool(node.args.args) and 3 <= lines <= 30 and returns


# --- mutants ---------------------------------------------------------------------------------

SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.Div: ast.Mult,
    ast.Mod: ast.Mult,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


def mutants(source: str, name: str) -> list[str]:
    """Module sources, each with one change in the function `name`."""
    tree = ast.parse(source)
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    sites = []
    for node in ast.walk(function):
        if isinstance(node, ast.BinOp | ast.BoolOp) and type(node.op) in SWAPS:
            sites.append(("op", node))
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
            sites.append(("compare", node))
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | str):
            if not isinstance(node.value, bool) and node is not _docstring(function):
                sites.append(("constant", node))
        elif isinstance(node, ast.Return) and node.value is not None:
            sites.append(("return", node))
    out = []
    lines = source.split("\n")
    start, end = function.lineno - 1, function.end_lineno or function.lineno
    for kind, node in sites[:MUTANTS_MAX]:
        original = _state(node)
        if kind == "op":
            node.op = SWAPS[type(node.op)]()  # type: ignore[union-attr]
        elif kind == "compare":
            node.ops = [SWAPS[type(node.ops[0])](), *node.ops[1:]]  # type: ignore[union-attr]
        elif kind == "constant":
            value = node.value  # type: ignore[union-attr]
            node.value = value + 1 if isinstance(value, int) else value + "x"  # type: ignore[union-attr]
        else:
            node.value_saved, node.value = node.value, ast.Constant(None)  # type: ignore[union-attr]
        mutated = ast.unparse(function)
        out.append("\n".join([*lines[:start], mutated, *lines[end:]]))
        _restore(node, original)
    return out


def _docstring(function: ast.FunctionDef) -> ast.AST | None:
    first = function.body[0] if function.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first.value
    return None


def _state(node: ast.AST) -> dict[str, Any]:
    return {k: getattr(node, k) for k in ("op", "ops", "value") if hasattr(node, k)}


def _restore(node: ast.AST, state: dict[str, Any]) -> None:
    for key, value in state.items():
        setattr(node, key, value)


# --- one function ----------------------------------------------------------------------------


def prepare(path: Path, package: str, root: Path) -> tuple[str, str]:
    """The function's workspace: its module alone, pytest configured, a tests/ folder."""
    module = f"{package}_{path.stem}"
    source = path.read_text(encoding="utf-8")
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (root / f"{module}.py").write_text(source)
    return module, source


async def one(engine: Engine, path: Path, package: str, name: str, root: Path) -> dict[str, Any]:
    module, source = prepare(path, package, root)
    engine.context.set_roots([root])
    uri = (root / f"{module}.py").as_uri()
    engine.documents.open(uri, source, "python", 1)
    at = source.index(f"def {name}(") + 4
    result: dict[str, Any] = {"function": f"{package}/{path.name}:{name}"}
    actions = Actions(engine)
    started = time.perf_counter()
    try:
        outcome = await actions.run(
            {"action": "tests", "uri": uri, "start": at, "end": at}, lambda _: None
        )
    except ActionError as error:
        result.update(passed=False, error=error.message, seconds=time.perf_counter() - started)
        result.update(mutants=0, killed=0, score=0.0)
        return result
    finally:
        engine.documents.close(uri)
        engine.forget(uri)
    result["seconds"] = time.perf_counter() - started
    (edit,) = outcome.edits
    report = outcome.report
    result.update(passed=True, message=outcome.message, attempts=_attempts(outcome.message))
    result["tests"] = edit.text.count("def test")
    result["testCode"] = edit.text
    framework = detect(root, f"{module}.py", "python")
    test_file = {framework.test_path: edit.text}
    kind = sandbox.choose_sandbox(False)
    limits = sandbox.Limits(60, 2048)
    killed = 0
    variants = mutants(source, name)
    for variant in variants:
        async with sandbox.workspace_copy(root, {**test_file, f"{module}.py": variant}) as copy:
            run = await sandbox.run(
                kind, list(framework.command), root, copy, limits, framework.env
            )
        killed += not run.passed
    result.update(
        mutants=len(variants), killed=killed, score=killed / len(variants) if variants else 0.0
    )
    result["reportLines"] = len(report.splitlines())
    return result


def _attempts(message: str) -> int:
    marker = message.split(" attempt")[0].rsplit(", ", 1)[-1]
    return int(marker) if marker.isdigit() else 0


async def offering_ms(engine: Engine) -> tuple[float, float]:
    """p50 and p99 of offering actions at 1,000 places in a 15,000-line file."""
    text = "".join(f"def f{i}(a, b):\n    x = a + {i}\n    return x * b\n\n\n" for i in range(3000))
    document = engine.documents.open("file:///bench/big.py", text, "python", 1)
    actions = Actions(engine)
    actions.offers(document, 0, 0, [], [])
    timings = []
    for i in range(0, 3000, 3):
        at = text.index(f"def f{i}(") + 8
        started = time.perf_counter()
        actions.offers(document, at, at, [], [])
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return timings[len(timings) // 2], timings[int(len(timings) * 0.99)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--functions", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", default="", help="just the functions whose name has this")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="the actions served over HTTP: llama-cpp-python's OpenAI-compatible server on "
        f"127.0.0.1 running {SERVED_MODEL} as the pause backend",
    )
    args = parser.parse_args()
    chosen = [c for c in candidates() if args.only in c[2]][: args.functions]
    with contextlib.ExitStack() as stack:
        settings = Settings()
        if args.serve:
            url = stack.enter_context(served_model(SERVED_MODEL))
            pause = {"kind": "openai", "url": url, "model": SERVED_MODEL}
            settings = with_overrides(settings, pause_backend=pause)
            print(f"actions served by {url} ({SERVED_MODEL}, llama-cpp-python's server)")
        await run(args, chosen, settings)


async def run(
    args: argparse.Namespace, chosen: list[tuple[Path, str, str]], settings: Settings
) -> None:
    engine = Engine(settings)
    engine.start()
    error = await engine.wait_ready()
    if error is not None:
        sys.exit(f"the model did not start: {error}")
    p50, p99 = await offering_ms(engine)
    print(f"offering actions: p50 {p50:.3f} ms, p99 {p99:.3f} ms (15,000-line file, 1,000 places)")
    host = engine.pause.host if engine.pause is not None else engine.host
    await host.ready()
    print(
        f"model: {host.loaded.name if host.loaded else '?'}; sandbox: {sandbox.available_sandbox()}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="ghosttype-bench-actions-") as folder:
        for index, (path, package, name) in enumerate(chosen):
            result = await one(engine, path, package, name, Path(folder) / f"w{index}")
            results.append(result)
            shown = result.get("message") or result.get("error", "")
            print(
                f"{result['function']}: {'pass' if result['passed'] else 'FAIL'} "
                f"{result['seconds']:.1f} s, mutants {result['killed']}/{result['mutants']}: {shown}",
                flush=True,
            )
    await engine.close()
    passed = [r for r in results if r["passed"]]
    seconds = [r["seconds"] for r in results]
    attempts = [r.get("attempts", 0) for r in passed]
    summary = {
        "functions": len(results),
        "passRate": len(passed) / len(results) if results else 0.0,
        "mutationScore": statistics.mean(r["score"] for r in results) if results else 0.0,
        "attemptsMean": statistics.mean(attempts) if attempts else 0.0,
        "secondsP50": statistics.median(seconds) if seconds else 0.0,
        "secondsMax": max(seconds) if seconds else 0.0,
        "offeringP99Ms": p99,
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "functions": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

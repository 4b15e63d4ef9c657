"""Generate tests, verified: write tests in the project's style, run them in the sandbox, give the
model the failures and try again (actions.maxAttempts). Tests that still fail against the current
code are dropped from the edit and named in the report as suspected bugs, never kept silently."""

from __future__ import annotations

import ast
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tree_sitter import Node

from ..backends import ChatMessage
from ..config import ActionsSettings
from ..context.syntax import parser_for, spec_for
from . import mutation, prompts, sandbox
from .answers import code_in
from .errors import ActionError
from .frameworks import Framework
from .model import ActionModel, Progress
from .target import Related, Target

# Runs that each remove the failing assertions (one per test at a time) before the model is asked
# again.
PRUNE_ROUNDS = 8
# A test file worth its run fits in this: a longer answer is a model writing on and on.
TESTS_MAX_TOKENS = 768
# The shortest time limit of a run against a changed function.
CHANGED_TIMEOUT_MIN_S = 10.0
_TEST_MARKERS = re.compile(r"\bdef test|\btest\(|\bit\(|func Test|#\[test\]|unittest")


@dataclass
class TestReport:
    framework: str
    test_file: str
    command: str = ""
    sandbox: str = ""
    attempts: int = 0
    tests: int = 0
    passed: int = 0
    suspected_bugs: list[str] = field(default_factory=list)  # dropped from the tests
    pinned: list[str] = field(default_factory=list)  # kept with the code's current result
    output: str = ""
    changes: int = 0  # small changes of the function the tests ran against (mutation.py)
    missed_changes: list[str] = field(default_factory=list)  # those the tests all pass on

    def summary(self) -> str:
        text = (
            f"{self.passed} of {self.tests} tests pass ({self.framework}, {self.attempts} "
            f"attempt{'s' if self.attempts != 1 else ''}, sandbox: {self.sandbox})"
        )
        if self.pinned:
            text += (
                f"; {len(self.pinned)} assertion{'s' if len(self.pinned) > 1 else ''} pinned to "
                "the code's current result, each a suspected bug to check (marked in the file)"
            )
        if self.suspected_bugs:
            text += f"; dropped as suspected bugs: {'; '.join(self.suspected_bugs)}"
        if self.changes:
            noticed = self.changes - len(self.missed_changes)
            text += f"; they notice {noticed} of {self.changes} small changes of the function"
        return text

    def markdown(self) -> str:
        bugs = "".join(
            f"- `{name}` failed against the current code: a suspected bug (dropped from the tests)\n"
            for name in self.suspected_bugs
        )
        bugs += "".join(
            f"- `{name}` failed against the current code: pinned to its current result, a "
            "suspected bug if the model's expectation is right\n"
            for name in self.pinned
        )
        bugs += "".join(
            f"- the tests still pass when {change}: a bug like it would go unnoticed\n"
            for change in self.missed_changes
        )
        return (
            f"# ghosttype: tests for {self.test_file}\n\n{self.summary()}\n\n{bugs}\n"
            f"Command: `{self.command}` (sandbox: {self.sandbox})\n\n"
            f"```\n{self.output.strip()}\n```\n"
        )


@dataclass(frozen=True)
class GeneratedTests:
    existing: str  # what the test file (or source file, for tests that live in it) held
    code: str  # the new tests
    report: TestReport

    @property
    def text(self) -> str:
        """The whole file the edit writes."""
        return combined(self.existing, self.code)


@dataclass(frozen=True)
class Subject:
    """What the tests are for: the target in its file."""

    target: Target
    language_id: str
    path: str  # the file, relative to the workspace root
    related: Related  # what the target uses from its file and how the file calls it
    # The names the file defines at the top (Python), imported where tests use them (an
    # exception class, a constant) without the import.
    module_names: frozenset[str] = frozenset()
    # The file's text as the test runs see it (on disk); "" where the editor's differs, and
    # the tests are not checked against changes of the function.
    text: str = ""


@dataclass
class _Runs:
    """Runs of test code in the sandbox, each on a fresh copy of the workspace."""

    framework: Framework
    root: Path
    existing: str
    kind: str
    limits: sandbox.Limits
    slowest_pass_s: float = 0.0  # the longest a run took that passed

    async def run(self, code: str, changed: dict[str, str] | None = None) -> sandbox.RunResult:
        """`changed`: other files of the copy replaced (workspace-relative path: text); such a
        run gets a shorter time limit (a changed loop may never end), far above a passing run."""
        files = {**(changed or {}), self.framework.test_path: combined(self.existing, code)}
        limits = self.limits
        if changed:
            timeout = max(CHANGED_TIMEOUT_MIN_S, 5 * self.slowest_pass_s)
            limits = sandbox.Limits(min(limits.timeout_s, timeout), limits.memory_mb)
        framework = self.framework
        started = time.perf_counter()
        async with sandbox.workspace_copy(self.root, files) as copy:
            result = await sandbox.run(
                self.kind, list(framework.command), self.root, copy, limits, framework.env
            )
        if result.passed and not changed:
            self.slowest_pass_s = max(self.slowest_pass_s, time.perf_counter() - started)
        return result


async def generate(
    model: ActionModel,
    settings: ActionsSettings,
    framework: Framework,
    subject: Subject,
    root: Path,
    existing: str,
    run_sandbox: str,
    progress: Progress,
) -> GeneratedTests:
    """Tests that pass on the current code, written in up to actions.maxAttempts answers; then,
    for Python, checked against simple changes of the function (actions.mutants) and added to
    once where they miss some."""
    limits = sandbox.Limits(settings.timeout_s, settings.memory_mb)
    runs = _Runs(framework, root, existing, run_sandbox, limits)
    messages = prompts.tests(
        subject.target,
        subject.language_id,
        subject.path,
        framework.name,
        framework.style,
        existing,
        subject.related,
    )
    written = await _written(model, settings, runs, subject, messages, progress)
    if framework.language != "python" or not subject.text or settings.mutants == 0:
        return written
    return await _strengthened(model, settings, runs, subject, messages, written, progress)


async def _written(
    model: ActionModel,
    settings: ActionsSettings,
    runs: _Runs,
    subject: Subject,
    messages: list[ChatMessage],
    progress: Progress,
) -> GeneratedTests:
    framework, target = runs.framework, subject.target
    report = TestReport(framework.name, framework.test_path, sandbox=runs.kind)
    report.command = " ".join(framework.command)
    best: tuple[str, dict[str, bool], str] | None = None  # code, outcomes, output
    missed = False  # an answer's tests never called the target
    last: sandbox.RunResult | None = None
    for attempt in range(1, settings.max_attempts + 1):
        report.attempts = attempt
        progress(f"writing tests (attempt {attempt} of {settings.max_attempts})")
        # Greedy first; a retry samples a little, so the same prompt need not give the same tests.
        answer = await model.ask(
            messages,
            min(TESTS_MAX_TOKENS, settings.max_tokens),
            temperature=0.0 if attempt == 1 else 0.4,
            seed=attempt,
        )
        code = _tests_in(answer, framework, subject)
        if code is None:
            messages = [*messages, ChatMessage("assistant", answer), prompts.no_code()]
            continue
        if framework.language == "python":
            code = only_tests_calling(code, target.name)
            if not _TEST_DEF.search(code):
                missed = True
                messages = [
                    *messages,
                    ChatMessage("assistant", answer),
                    prompts.tests_miss_target(target.name),
                ]
                continue
        progress(f"running the tests ({framework.name}, attempt {attempt})")
        settled = await _settled(runs, code, progress)
        last, outcomes = settled.first, settled.outcomes
        if outcomes and (best is None or sum(outcomes.values()) >= sum(best[1].values())):
            best = (code, outcomes, settled.first.output)
        if settled.passing is not None:
            report.suspected_bugs, report.pinned = settled.dropped, settled.pinned
            dropped = len(outcomes) - len(settled.passing)
            return _done(
                report, runs.existing, settled.code, settled.passing, settled.output, dropped
            )
        failed = [name for name, ok in outcomes.items() if not ok]
        messages = [*messages, *prompts.tests_failed(answer, settled.first.output, failed)]
    if best is None:
        raise ActionError(_why_none(last, settings, target.name if missed else ""))
    code, outcomes, output = best
    failing = [name for name, ok in outcomes.items() if not ok]
    kept = drop_tests(code, framework.language, failing)
    progress("running the tests that pass once more")
    result = await runs.run(kept)
    rerun = framework.outcomes(result.output)
    if not (result.passed and rerun and all(rerun.values())):
        raise ActionError(
            f"no test passed against the current code after {settings.max_attempts} attempts "
            f"(nothing written); last output: {output.strip()[-300:]}"
        )
    report.suspected_bugs = failing
    return _done(report, runs.existing, kept, rerun, result.output, len(failing))


def _tests_in(answer: str, framework: Framework, subject: Subject) -> str | None:
    """The test code of a model's answer, with what a small model gets wrong mended: a last
    test the token limit cut off left out, the imports it forgot added. None where there is
    none."""
    code = code_in(answer, framework.language)
    if code is not None and framework.language == "python":
        code = without_cut_tail(code)
    if code is not None and subject.target.top_level:
        code = framework.with_import(code, subject.target.name)
    if code is not None and framework.language == "python":
        code = with_module_imports(code, framework.import_template, subject.module_names)
    return code if code is not None and _TEST_MARKERS.search(code) else None


@dataclass(frozen=True)
class _Settled:
    first: sandbox.RunResult  # the run of the code as given
    outcomes: dict[str, bool]  # its tests' outcomes
    # Where the tests pass once failing assertions are pinned or removed: the code, the passing
    # tests and the run's output; else the code as given, None and the first run's output.
    code: str
    passing: dict[str, bool] | None
    output: str
    dropped: list[str] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)


async def _settled(runs: _Runs, code: str, progress: Progress) -> _Settled:
    """Run the tests; while some fail, pin or remove the failing assertions (one per test at a
    time: a test stops at its first) and run again."""
    framework = runs.framework
    first = await runs.run(code)
    outcomes = framework.outcomes(first.output)
    if first.passed and outcomes and all(outcomes.values()):
        return _Settled(first, outcomes, code, outcomes, first.output)
    pruned, output = code, first.output
    wrong: list[str] = []
    pins: list[str] = []
    for _ in range(PRUNE_ROUNDS):
        found = prune_failed_asserts(pruned, runs.existing, framework, output)
        if not (found.dropped or found.pinned):
            break
        pruned, wrong, pins = found.code, wrong + found.dropped, pins + found.pinned
        progress("running the tests with their failing assertions pinned or removed")
        again = await runs.run(pruned)
        passing, output = framework.outcomes(again.output), again.output
        if again.passed and passing and all(passing.values()):
            return _Settled(first, outcomes, pruned, passing, again.output, wrong, pins)
    return _Settled(first, outcomes, code, None, first.output)


async def _strengthened(
    model: ActionModel,
    settings: ActionsSettings,
    runs: _Runs,
    subject: Subject,
    messages: list[ChatMessage],
    written: GeneratedTests,
    progress: Progress,
) -> GeneratedTests:
    """The tests run against simple changes of the function (mutation.mutants): a change they
    all pass on is a bug they would miss. For those the model is asked once for more tests, and
    the new ones that pass on the current code are added. The report says how many changes the
    tests notice, and which they miss."""
    variants = mutation.mutants(subject.text, subject.target, settings.mutants)
    if not variants:
        return written
    progress(f"checking the tests against {len(variants)} small changes of the function")
    code, report = written.code, written.report
    missed = await _missed(runs, subject.path, code, variants)
    if missed:
        progress("writing tests for the changes the tests miss")
        answer = await model.ask(
            [
                *messages,
                ChatMessage("assistant", f"```python\n{code}```"),
                prompts.tests_miss_changes([variant.change for variant in missed]),
            ],
            min(TESTS_MAX_TOKENS, settings.max_tokens),
            temperature=0.0,
        )
        extra = _tests_in(answer, runs.framework, subject)
        if extra is not None:
            merged = only_tests_calling(merged_tests(code, extra), subject.target.name)
            settled = await _settled(runs, merged, progress)
            kept, passing, output = settled.code, settled.passing, settled.output
            failing = [n for n, ok in settled.outcomes.items() if not ok] if passing is None else []
            if failing:
                kept = drop_tests(merged, "python", failing)
                again = await runs.run(kept)
                outcomes = runs.framework.outcomes(again.output)
                if again.passed and outcomes and all(outcomes.values()):
                    passing, output = outcomes, again.output
            if passing is not None and len(passing) > report.passed:
                report.tests += len(passing) - report.passed + len(failing)
                report.passed = len(passing)
                report.pinned += settled.pinned
                report.suspected_bugs += settled.dropped + failing
                report.output = output
                code = kept
                missed = await _missed(runs, subject.path, code, missed)
    report.changes = len(variants)
    report.missed_changes = [variant.change for variant in missed]
    return GeneratedTests(written.existing, code, report)


async def _missed(
    runs: _Runs, path: str, code: str, variants: list[mutation.Mutant]
) -> list[mutation.Mutant]:
    """The changes of the function the tests all pass on."""
    missed: list[mutation.Mutant] = []
    for variant in variants:
        result = await runs.run(code, {path: variant.source})
        if result.passed:
            missed.append(variant)
    return missed


def merged_tests(code: str, extra: str) -> str:
    """Python test code with another answer's tests after it, each test named like one already
    there renamed (`test_x_2`): the model often answers with the old tests and the new ones."""
    taken = {match.group(1) for match in map(_TEST_DEF.match, code.split("\n")) if match}

    def rename(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in taken:
            taken.add(name)
            return match.group(0)
        number = 2
        while f"{name}_{number}" in taken:
            number += 1
        taken.add(f"{name}_{number}")
        return f"{match.group(1)}{name}_{number}("

    renamed = re.sub(r"^(\s*(?:async\s+)?def )(test\w*)\(", rename, extra, flags=re.MULTILINE)
    return code.rstrip("\n") + "\n\n\n" + renamed


def _done(
    report: TestReport,
    existing: str,
    code: str,
    outcomes: dict[str, bool],
    output: str,
    dropped: int,
) -> GeneratedTests:
    """`dropped`: tests that failed against the code and are not in the edit."""
    report.tests = len(outcomes) + dropped
    report.passed = sum(outcomes.values())
    report.output = output
    return GeneratedTests(existing, code, report)


def _why_none(last: sandbox.RunResult | None, settings: ActionsSettings, missed: str) -> str:
    """`missed`: the target's name where an answer's tests never called it."""
    tries = f"after {settings.max_attempts} attempt{'s' if settings.max_attempts > 1 else ''}"
    if last is None and missed:
        return f"the model's tests never called `{missed}` {tries} (nothing written)"
    if last is None:
        return f"the model's answers held no test code {tries} (nothing written)"
    if last.timed_out:
        return (
            f"the test run did not finish within {settings.timeout_s} s and was killed, {tries} "
            "(nothing written)"
        )
    return f"the tests did not run {tries} (nothing written): {last.output.strip()[-300:]}"


@dataclass(frozen=True)
class Pruned:
    code: str
    dropped: list[str]  # "test_x: assert ..." removed (suspected bugs)
    pinned: list[str]  # "test_x: assert ... (the model expected E)" kept with the current result


def prune_failed_asserts(code: str, existing: str, framework: Framework, output: str) -> Pruned:
    """pytest: `code` with each one-line assertion that failed against the current code either
    pinned, where pytest showed the result and both sides are plain values (`assert f(x) == 3`
    that got 4 becomes `assert f(x) == 4`, marked in a comment and named in the report as a
    suspected bug: a small model most often gets the arithmetic of an expectation wrong, and the
    case is worth keeping as a regression test), or else removed and named as a suspected bug. A
    small model writes one test with many asserts, and one wrong expectation fails them all. A
    test left with no assertion is dropped whole: it would pass while checking nothing."""
    if framework.name != "pytest":
        return Pruned(code, [], [])
    first = len(existing.rstrip("\n").split("\n")) + 3 if existing.strip() else 1
    lines = code.split("\n")
    dropped: list[str] = []
    pinned: list[str] = []
    for number, (raised, explanation) in sorted(
        _failures(output, framework.test_path).items(), reverse=True
    ):
        index = number - first
        line = lines[index] if 0 <= index < len(lines) else ""
        statement = line.strip()
        one_line = statement.count("(") == statement.count(")")
        if not (statement.startswith("assert ") and one_line):
            continue
        test = next((m.group(1) for m in map(_TEST_DEF.match, reversed(lines[:index])) if m), "?")
        pin = pinned_assert(statement, explanation) if raised == "AssertionError" else None
        if pin is None:
            why = "" if raised == "AssertionError" else f" (raised {raised})"
            dropped.insert(0, f"{test}: {statement}{why}")
            del lines[index]
            continue
        kept, expected = pin
        indent = line[: len(line) - len(line.lstrip())]
        lines[index] = f"{indent}{kept}  # ghosttype: suspected bug? the model expected {expected}"
        pinned.insert(0, f"{test}: {kept} (the model expected {expected})")
    pruned = "\n".join(lines)
    empty = [name for name, body in _test_bodies(pruned) if "assert" not in body]
    return Pruned(drop_tests(pruned, framework.language, empty), dropped, pinned)


# pytest's explanation of a failed `assert`; a failure's report; where a traceback ended.
_EXPLANATION = re.compile(r"^E\s+(?:AssertionError: )?assert (.*)$")
_SECTION = re.compile(r"^_{3,} .+ _{3,}$", re.MULTILINE)
_RAISED = re.compile(r"^\S+:\d+: (\w+(?:\.\w+)*)$", re.MULTILINE)
# A longer result is not pinned (an expectation that long is unreadable). A result pytest
# shortened (with "...": a pytest older than 8.1 ignores verbosity_assertions) never is.
PIN_MAX_CHARS = 200


def _failures(output: str, test_path: str) -> dict[int, tuple[str, str]]:
    """The test file's line where each failed test of pytest's output stopped, with what stopped
    it (`AssertionError`, or the exception raised there or in the code it called) and pytest's
    explanation of a failed assert (`<result> == <expected>`; "" where there is none)."""
    at = re.compile(rf"^{re.escape(test_path)}:(\d+): ", re.MULTILINE)
    found: dict[int, tuple[str, str]] = {}
    for section in _SECTION.split(output)[1:]:
        section = re.split(r"^={3,}", section, maxsplit=1, flags=re.MULTILINE)[0]
        places, raised = at.findall(section), _RAISED.findall(section)
        if not places or not raised:
            continue
        explanation = ""
        for line in section.split("\n"):
            if line.startswith(">"):
                explanation = ""
            match = _EXPLANATION.match(line)
            if match and not explanation:
                explanation = match.group(1)
        found[int(places[-1])] = (raised[-1], explanation)
    return found


# Modules a test uses by name, which a small model forgets to import.
_MODULES = frozenset(sys.stdlib_module_names) | {"pytest"}


def with_module_imports(
    code: str, import_template: str = "", module_names: frozenset[str] = frozenset()
) -> str:
    """Python test code with `import <module>` added for each standard-library module (or
    pytest) it uses as `module.name` without importing or defining it, and the import of the
    names of the module under test (`module_names`, through `import_template`) it uses so."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    bound: set[str] = set()
    modules: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name):
            (names if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            modules.add(node.value.id)
    lines = [f"import {name}\n" for name in sorted((modules & _MODULES) - bound)]
    own = sorted((names & module_names) - bound)
    if own and import_template:
        lines.append(import_template.format(name=", ".join(own)) + "\n")
    return "".join(lines) + code


def top_level_names(source: str) -> frozenset[str]:
    """The names a Python module defines at the top: functions, classes, assignments."""
    return frozenset(_definitions(source))


def _definitions(code: str) -> dict[str, str]:
    """Python code's top-level definitions (functions, classes, assigned names), each with the
    source of the statement that defines it; {} where the code does not parse."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    found: dict[str, str] = {}
    for node in tree.body:
        source = ast.get_source_segment(code, node) or ""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = source
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                found |= {n.id: source for n in ast.walk(target) if isinstance(n, ast.Name)}
    return found


def without_cut_tail(code: str) -> str:
    """Python test code whose answer was cut off (the token limit) in its last test: that test
    removed, so the complete ones before it run. Code with an error elsewhere comes back as it
    was (the model sees the error and tries again)."""
    try:
        ast.parse(code)
        return code
    except SyntaxError as error:
        at = (error.lineno or 1) - 1
    lines = code.split("\n")
    starts = [i for i, line in enumerate(lines) if re.match(r"(?:async\s+)?def |class |@", line)]
    last = max((i for i in starts if i <= at), default=None)
    if last is None:
        return code
    while last > 0 and lines[last - 1].startswith("@"):
        last -= 1
    head = "\n".join(lines[:last]).rstrip() + "\n"
    try:
        ast.parse(head)
    except SyntaxError:
        return code
    return head if _TEST_DEF.search(head) else code


_NOT_LITERAL = object()


def _literal(text: str) -> Any:
    """The plain value `text` spells (numbers, strings, containers of them), else _NOT_LITERAL.
    `...` never counts: pytest writes it where it shortened a value."""
    if "..." in text or "Ellipsis" in text:
        return _NOT_LITERAL
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


def pinned_assert(statement: str, explanation: str) -> tuple[str, str] | None:
    """`assert <expr> == <literal>` (either way round) with the literal replaced by what <expr>
    gave, read from pytest's explanation `<result> == <expected>`; and the expected literal.
    None where it is not sure: another comparison, no literal or two, a result that is no
    plain value or was shortened."""
    try:
        node = ast.parse(statement).body[0]
    except (SyntaxError, IndexError):
        return None
    if not (
        isinstance(node, ast.Assert)
        and isinstance(node.test, ast.Compare)
        and len(node.test.ops) == 1
        and isinstance(node.test.ops[0], ast.Eq)
    ):
        return None
    source = statement.encode()
    sides = [node.test.left, node.test.comparators[0]]
    texts = [source[s.col_offset : s.end_col_offset].decode() for s in sides]
    values = [_literal(text) for text in texts]
    literal = [v is not _NOT_LITERAL for v in values]
    if literal[0] == literal[1]:
        return None
    at = 1 if literal[1] else 0  # the expected side
    for split in (m.start() for m in re.finditer(" == ", explanation)):
        parts = [explanation[:split], explanation[split + 4 :]]
        expected, result = parts[at], parts[1 - at]
        if len(result) > PIN_MAX_CHARS or _literal(result) is _NOT_LITERAL:
            continue
        if _literal(expected) == values[at] and type(_literal(expected)) is type(values[at]):
            side = sides[at]
            start, end = side.col_offset, side.end_col_offset or side.col_offset
            kept = (source[:start] + result.encode() + source[end:]).decode()
            return kept, texts[at]
    return None


_TEST_DEF = re.compile(r"\s*(?:async\s+)?def (test\w*)")


def _test_bodies(code: str) -> list[tuple[str, str]]:
    """Each `def test_...` of Python code with the lines up to the next definition."""
    found: list[tuple[str, str]] = []
    for part in re.split(r"\n(?=\s*(?:async\s+)?def |\S)", code):
        match = _TEST_DEF.match(part)
        if match:
            found.append((match.group(1), part[match.end() :]))
    return found


def only_tests_calling(code: str, name: str) -> str:
    """Python test code without the tests that never use `name` (a small model shown the
    function's helpers tests them instead: such a test says nothing about the function) and
    without a test whose body repeats an earlier one word for word. A test counts as using
    `name` through a fixture, class or helper of the test code that uses it, and a test method
    through its class's other methods (`setUp`, fixtures)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    users = {name} | _top_level_users(code, name)
    uses = re.compile(rf"\b(?:{'|'.join(map(re.escape, sorted(users)))})\b")

    def source(node: ast.AST) -> str:
        return ast.get_source_segment(code, node) or ""

    tests: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]] = []  # (test, set up)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            tests.append((node, False))
        elif isinstance(node, ast.ClassDef):
            methods = [
                m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            set_up = any(not m.name.startswith("test") and uses.search(source(m)) for m in methods)
            tests += [(m, set_up) for m in methods]
    seen: set[str] = set()
    unwanted: list[str] = []
    kept: set[str] = set()
    for test, set_up in tests:
        if not test.name.startswith("test"):
            continue
        body = "\n".join(source(statement) for statement in test.body)
        if not (set_up or uses.search(source(test))) or body in seen:
            unwanted.append(test.name)
        else:
            kept.add(test.name)
        seen.add(body)
    # drop_tests goes by name: a name that is also a kept test's stays.
    return drop_tests(code, "python", [test for test in unwanted if test not in kept])


def _top_level_users(code: str, name: str) -> set[str]:
    """The test code's top-level definitions other than tests (fixtures, classes, helpers,
    assignments) whose source names `name`, or names one of those."""
    defined = {d: source for d, source in _definitions(code).items() if not d.startswith("test")}
    users: set[str] = set()
    wanted = {name}
    while wanted:
        uses = re.compile(rf"\b(?:{'|'.join(map(re.escape, sorted(wanted)))})\b")
        wanted = {d for d, source in defined.items() if d not in users and uses.search(source)}
        users |= wanted
    return users


def combined(existing: str, code: str) -> str:
    """The test file: the new tests after what the file held."""
    if not existing.strip():
        return code
    return existing.rstrip("\n") + "\n\n\n" + code


def drop_tests(code: str, language_id: str, names: list[str]) -> str:
    """`code` without the tests called `names`: functions of that name (Python, Go, Rust) and
    `test(...)`/`it(...)` calls whose title is one (JavaScript)."""
    spec = spec_for(language_id)
    parser = parser_for(spec) if spec else None
    if parser is None or not names:
        return code
    source = code.encode()
    tree = parser.parse(source)
    wanted = {n.split("[")[0].split("/")[-1] for n in names}
    spans: list[tuple[int, int]] = []

    def drop(node: Node) -> None:
        outer = node.parent if node.parent and node.parent.type in _WRAPPERS else node
        spans.append((outer.start_byte, outer.end_byte))

    def visit(node: Node) -> bool:
        """Whether `node` goes whole."""
        if _is_test(node, source, wanted):
            drop(node)
            return True
        body = node.child_by_field_name("body")
        if node.type == "class_definition" and body is not None:
            # A Python class left with no member would not parse: it goes whole.
            before = len(spans)
            members = [c for c in body.named_children if c.type != "comment"]
            gone = [visit(member) for member in members]  # each visited: its tests go
            if members and all(gone):
                del spans[before:]
                drop(node)
                return True
            return False
        gone = [visit(child) for child in node.named_children]
        return node.type in _WRAPPERS and any(gone)

    visit(tree.root_node)
    for start, end in sorted(spans, reverse=True):
        source = source[:start] + source[end:]
    return re.sub(r"\n{4,}", "\n\n\n", source.decode(errors="replace"))


_WRAPPERS = frozenset({"decorated_definition", "expression_statement", "attribute_item"})
_DEFINITIONS = frozenset({"function_definition", "function_declaration", "function_item"})


def _is_test(node: Node, source: bytes, wanted: set[str]) -> bool:
    if node.type in _DEFINITIONS:
        name = node.child_by_field_name("name")
        return name is not None and source[name.start_byte : name.end_byte].decode() in wanted
    if node.type == "call_expression":
        callee = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if callee is None or arguments is None or not arguments.named_children:
            return False
        if source[callee.start_byte : callee.end_byte].decode() not in ("test", "it"):
            return False
        title = arguments.named_children[0]
        text = source[title.start_byte : title.end_byte].decode()
        return text[1:-1] in wanted
    return False

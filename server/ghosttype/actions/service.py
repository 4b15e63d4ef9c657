"""The actions' one entry point: `Actions.offers` (instant: no model, no disk; the syntax tree
the completions keep) and `Actions.run` (the model, the sandbox, the edit). Knows nothing of LSP:
offsets are code points, edits are `FileEdit`s, and lsp/actions.py translates."""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import cache_dir
from ..context import relative_path
from ..documents import Document, uri_to_path
from ..engine import Engine
from . import kinds, prompts, sandbox, testgen, translation
from .answers import code_in, prose_in
from .errors import ActionError
from .frameworks import Framework, detect
from .model import ActionModel, Progress
from .target import Target, find_target, related

EXTENSIONS = {"python": ".py", "javascript": ".js", "typescript": ".ts", "go": ".go", "rust": ".rs"}


@dataclass(frozen=True)
class Problem:
    """A diagnostic from the request's context (any server's)."""

    message: str
    start: int
    end: int
    source: str = ""


@dataclass(frozen=True)
class Offer:
    title: str
    kind: str
    data: dict[str, Any]  # what `run` needs back (LSP: the code action's data / arguments)
    problem: Problem | None = None
    # Needs an argument from the person (Refactor's instruction): offered as a command only.
    asks: bool = False


@dataclass(frozen=True)
class FileEdit:
    uri: str
    base: str  # the text `start` and `end` refer to ("" for a new file)
    start: int
    end: int
    text: str
    create: bool = False


@dataclass(frozen=True)
class Outcome:
    message: str  # one line for the person
    edits: tuple[FileEdit, ...] = ()
    report: str = ""  # markdown: what was run and its output
    show: Path | None = None  # a file to open (Explain)


class Actions:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.last_model: ActionModel | None = None  # the last run's (tests read its counters)

    # --- offering ------------------------------------------------------------------------------

    def offers(
        self, document: Document, start: int, end: int, problems: list[Problem], only: list[str]
    ) -> list[Offer]:
        target = find_target(self.engine.context.syntax, document, start, end)
        found: list[Offer] = []
        base = {"uri": document.uri, "start": start, "end": end}
        for problem in problems:
            data = {**base, "action": "fix", "problem": problem.__dict__}
            found.append(
                Offer(f"ghosttype: Fix: {_short(problem.message)}", kinds.QUICKFIX, data, problem)
            )
        if target is None:
            return [o for o in found if kinds.wanted(o.kind, only)]
        definition = target.kind != "selection"
        for action in (kinds.TESTS, kinds.DOCSTRING, kinds.EXPLAIN):
            if definition or not action.needs_definition:
                found.append(
                    Offer(f"ghosttype: {action.title}", action.kind, {**base, "action": action.id})
                )
        if definition:
            language = document.language_id
            for to, name in kinds.TRANSLATE_TO.items():
                if to != language:
                    data = {**base, "action": "translate", "to": to}
                    found.append(
                        Offer(f"ghosttype: Translate to {name}", kinds.TRANSLATE.kind, data)
                    )
        refactor = {**base, "action": "refactor"}
        found.append(
            Offer(f"ghosttype: {kinds.REFACTOR.title}", kinds.REFACTOR.kind, refactor, asks=True)
        )
        return [o for o in found if kinds.wanted(o.kind, only)]

    # --- running -------------------------------------------------------------------------------

    async def run(self, data: Any, progress: Progress) -> Outcome:
        """The action `data` names (an Offer's data, with Refactor's `instruction`). Raises
        ActionError with what to tell the person; nothing is written then."""
        if not isinstance(data, dict) or data.get("action") not in kinds.ACTIONS:
            raise ActionError("the action's arguments name no ghosttype action")
        document = self.engine.documents.get(str(data.get("uri", "")))
        if document is None:
            raise ActionError("the document is not open")
        settings = self.engine.settings
        if self.engine.context.excluded(document, settings.context):
            raise ActionError("this file is excluded by context.exclude: nothing of it is sent")
        length = len(document.text)
        start, end = (min(max(0, _int(data.get(k))), length) for k in ("start", "end"))
        target = find_target(self.engine.context.syntax, document, min(start, end), max(start, end))
        action = data["action"]
        if target is None or (
            kinds.ACTIONS[action].needs_definition and target.kind == "selection"
        ):
            raise ActionError("no function or class at the range: put the cursor in one")
        model = self.last_model = ActionModel(self.engine, settings.actions)
        if action == "tests":
            return await self._tests(document, target, model, progress)
        if action == "docstring":
            return await self._docstring(document, target, model, progress)
        if action == "explain":
            return await self._explain(document, target, model, progress)
        if action == "fix":
            return await self._fix(document, target, data.get("problem"), model, progress)
        if action == "translate":
            return await self._translate(document, target, str(data.get("to", "")), model, progress)
        return await self._refactor(document, target, data.get("instruction"), model, progress)

    def _root(self, document: Document) -> tuple[Path, str]:
        """The workspace root that holds the document, and the document's path in it."""
        path = uri_to_path(document.uri)
        if path is None:
            raise ActionError("the document is not a file on disk")
        for root in sorted(self.engine.context.workspace_roots, key=lambda r: -len(r.parts)):
            if path.is_relative_to(root):
                return root, path.relative_to(root).as_posix()
        return path.parent, path.name

    def _readable(self, path: Path) -> str:
        """A workspace file's text for a prompt or an edit; "" where exclusion keeps it home."""
        excluder = self.engine.context.excluder(self.engine.settings.context)
        if not path.is_file() or excluder.excluded(path.as_posix()):
            return ""
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return ""

    async def _tests(
        self, document: Document, target: Target, model: ActionModel, progress: Progress
    ) -> Outcome:
        root, path = self._root(document)
        framework = detect(root, path, document.language_id)
        missing = framework.toolchain_missing(root)
        if missing:
            raise ActionError(f"cannot run {framework.name} tests here: {missing}")
        run_sandbox = sandbox.choose_sandbox(self.engine.settings.actions.allow_unsandboxed)
        test_file = root / framework.test_path
        existing = document.text if framework.in_source else self._readable(test_file)
        if test_file.is_file() and not existing and not framework.in_source:
            raise ActionError(f"{framework.test_path} exists but may not be read (context.exclude)")
        on_disk = self._readable(root / path)
        subject = testgen.Subject(
            target,
            document.language_id,
            path,
            related(self.engine.context.syntax, document, target),
            testgen.top_level_names(document.text)
            if framework.language == "python"
            else frozenset(),
            # The runs see the file on disk: with unsaved changes, changing it proves nothing.
            document.text if on_disk == document.text else "",
        )
        result = await testgen.generate(
            model,
            self.engine.settings.actions,
            framework,
            subject,
            root,
            existing,
            run_sandbox,
            progress,
        )
        uri = document.uri if framework.in_source else test_file.as_uri()
        edit = FileEdit(uri, existing, 0, len(existing), result.text, create=not existing)
        return Outcome(f"ghosttype: {result.report.summary()}", (edit,), result.report.markdown())

    async def _docstring(
        self, document: Document, target: Target, model: ActionModel, progress: Progress
    ) -> Outcome:
        progress("writing the docstring")
        text = prose_in(await model.ask(prompts.docstring(target, document.language_id), 300))
        if not text or "```" in text or len(text) > 2000:
            raise ActionError("the model's answer was no documentation text (nothing written)")
        at, comment = doc_comment(document, target, text)
        edit = FileEdit(document.uri, document.text, at, at, comment)
        return Outcome(f"ghosttype: documented {target.label}", (edit,))

    async def _explain(
        self, document: Document, target: Target, model: ActionModel, progress: Progress
    ) -> Outcome:
        progress("explaining")
        path = relative_path(document.uri, self.engine.context.workspace_roots)
        text = prose_in(await model.ask(prompts.explain(target, document.language_id, path), 600))
        if not text.strip():
            raise ActionError("the model gave no explanation")
        digest = hashlib.sha256(f"{document.uri}:{target.name}".encode()).hexdigest()[:8]
        name = re.sub(r"[^\w.-]", "_", target.name or "selection")
        file = cache_dir() / "explanations" / f"{name}-{digest}.md"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"# {target.label} ({path})\n\n{text}\n", encoding="utf-8")
        return Outcome(text, show=file)

    async def _fix(
        self,
        document: Document,
        target: Target,
        problem: Any,
        model: ActionModel,
        progress: Progress,
    ) -> Outcome:
        message = str(problem.get("message", "")) if isinstance(problem, dict) else ""
        if not message:
            raise ActionError("Fix needs a diagnostic: pick it from the diagnostic's quick fixes")
        done = f"fixed: {_short(message)}"
        try:
            covering = self._covering(document, target, message)
        except ActionError as error:  # no test to run: one answer, from the diagnostic alone
            progress("fixing")
            answer = await model.ask(prompts.fix(target, document.language_id, message, ""))
            return _untested(done, self._replacement(document, target, answer), error)
        # The covering tests' failure says more than a diagnostic's line: the model sees their
        # output, and a fix they still fail on goes back to it with the new output.
        before = await self._run_covering(covering, document.text, "before the fix", progress)
        output = "" if before.passed else before.output
        messages = prompts.fix(target, document.language_id, message, output)
        attempts = 1 if before.passed else self.engine.settings.actions.max_attempts
        runs = [("before", before)]
        for attempt in range(1, attempts + 1):
            progress(f"fixing (attempt {attempt} of {attempts})")
            answer = await model.ask(
                messages, temperature=0.0 if attempt == 1 else 0.4, seed=attempt
            )
            edit = self._replacement(document, target, answer)
            after = await self._run_covering(covering, _applied(edit), "after the fix", progress)
            runs = [("before", before), ("after", after)]
            if after.passed:
                break
            messages = [*messages, *prompts.fix_failed(answer, after.output)]
        if attempts > 1:
            done += f" ({attempt} of {attempts} attempts)"
        return _outcome(done, edit, runs, True)

    async def _refactor(
        self,
        document: Document,
        target: Target,
        instruction: Any,
        model: ActionModel,
        progress: Progress,
    ) -> Outcome:
        wish = instruction.strip() if isinstance(instruction, str) else ""
        wish = wish or comment_above(document, target.start)
        if not wish:
            raise ActionError(
                "Refactor needs an instruction: type one when asked, or write it in a comment "
                "right above the code"
            )
        progress("refactoring")
        answer = await model.ask(prompts.refactor(target, document.language_id, wish))
        edit = self._replacement(document, target, answer)
        return await self._tested(
            document, target, edit, f"refactored {target.label}", progress, True
        )

    async def _translate(
        self, document: Document, target: Target, to: str, model: ActionModel, progress: Progress
    ) -> Outcome:
        if to not in kinds.TRANSLATE_TO or to == document.language_id:
            raise ActionError(f"cannot translate to {to or 'no language'}")
        root, path = self._root(document)
        destination = (root / path).with_suffix(EXTENSIONS[to])
        relative = destination.relative_to(root).as_posix()
        existing = self._readable(destination)
        if destination.exists() and not existing:
            raise ActionError(f"{destination.name} exists but may not be read (context.exclude)")
        shape = translation.shape(root, relative, to)
        plan = self._translation_plan(document, target, root, relative, to, shape)
        report = translation.TranslationReport(kinds.TRANSLATE_TO[to], destination.name)
        result = await translation.translate(
            model,
            self.engine.settings.actions,
            target,
            document.language_id,
            shape,
            existing,
            plan,
            root,
            progress,
            report,
        )
        text = testgen.combined(existing, result.code)
        tests: FileEdit | None = None
        if isinstance(plan, translation.Plan) and result.tests:  # they all pass: kept
            framework, old = plan.runner.framework, plan.existing_tests
            if framework.in_source:
                text = text.rstrip("\n") + "\n\n" + result.tests
            else:
                uri = (root / framework.test_path).as_uri()
                new = testgen.combined(old, result.tests)
                tests = FileEdit(uri, old, 0, len(old), new, create=not old)
        edit = FileEdit(destination.as_uri(), existing, 0, len(existing), text, not existing)
        edits = (edit, tests) if tests else (edit,)
        done = f"translated {target.label} to {report.language} in {destination.name}"
        return Outcome(f"ghosttype: {done}; {report.summary()}", edits, report.markdown(done))

    def _translation_plan(
        self,
        document: Document,
        target: Target,
        root: Path,
        destination: str,
        to: str,
        shape: translation.Shape,
    ) -> translation.Plan | str:
        """What running the translation's tests needs, or why they cannot run: no test covers
        the original, no test framework or toolchain for the target, no sandbox."""
        try:
            _, framework, text = self._covering_tests(document, target)
            original = translation.covering(text, target.name, framework.language, target.text)
            runner = translation.runner(root, destination, to, shape)
            kind = sandbox.choose_sandbox(self.engine.settings.actions.allow_unsandboxed)
        except ActionError as error:
            return error.message
        test_file = root / runner.framework.test_path
        existing = "" if runner.framework.in_source else self._readable(test_file)
        if test_file.is_file() and not existing and not runner.framework.in_source:
            return f"{runner.framework.test_path} exists but may not be read (context.exclude)"
        return translation.Plan(runner, original, document.language_id, kind, existing)

    def _replacement(self, document: Document, target: Target, answer: str) -> FileEdit:
        code = code_in(answer, document.language_id)
        if code is None:
            raise ActionError("the model's answer held no code that parses (nothing written)")
        indent = _indent_of(document.text, target.start)
        imports, body = _leading_imports(textwrap.dedent(code).rstrip("\n"), document.language_id)
        lines = body.split("\n")
        text = "\n".join([lines[0], *(indent + line if line else line for line in lines[1:])])
        # The answer's imports belong with the module's, not where the function was: those the
        # module lacks go after its last import above the function, else above the top-level
        # statement that holds it (its class, its decorators).
        have = set(document.text.split("\n"))
        missing = "".join(line + "\n" for line in imports if line not in have)
        if not missing:
            return FileEdit(document.uri, document.text, target.start, target.end, text)
        above = document.text[: target.start]
        last = [m.end() for m in _IMPORT_LINE.finditer(above)]
        if last:
            start, lead = last[-1] + 1, missing  # after the last import line's newline
        else:
            start, lead = _top_level_start(above), missing + "\n\n"
        text = lead + document.text[start : target.start] + text
        return FileEdit(document.uri, document.text, start, target.end, text)

    async def _tested(
        self,
        document: Document,
        target: Target,
        edit: FileEdit,
        done: str,
        progress: Progress,
        before: bool,
    ) -> Outcome:
        """The edit, with the tests that cover the target run on the new code (and on the old
        one first, where `before`) where they can be run; why not, where they cannot."""
        try:
            covering = self._covering(document, target)
        except ActionError as error:
            return _untested(done, edit, error)
        states = [("before", document.text)] if before else []
        runs = []
        for label, source in [*states, ("after", _applied(edit))]:
            result = await self._run_covering(covering, source, f"{label} the change", progress)
            runs.append((label, result))
        return _outcome(done, edit, runs, before)

    def _covering_tests(
        self, document: Document, target: Target, problem: str = ""
    ) -> tuple[Path, Framework, str]:
        """The workspace root, the test framework of the document's language and the text of
        the test file that covers the target: it names the target, or a test the diagnostic
        `problem` names (a helper's tests call its caller). Raises ActionError where none does."""
        root, path = self._root(document)
        framework = detect(root, path, document.language_id)
        tests = root / framework.test_path
        text = document.text if framework.in_source else self._readable(tests)
        named = {word for word in re.findall(r"\b[Tt]est\w*", problem) if word in _words(text)}
        if not named and (not target.name or target.name not in text):
            raise ActionError(f"no test covers {target.label}")
        return root, framework, text

    def _covering(self, document: Document, target: Target, problem: str = "") -> _Covering:
        """How the tests that cover the target run; ActionError says why they cannot."""
        root, framework, _ = self._covering_tests(document, target, problem)
        path = self._root(document)[1]
        missing = framework.toolchain_missing(root)
        if missing:
            raise ActionError(missing)
        kind = sandbox.choose_sandbox(self.engine.settings.actions.allow_unsandboxed)
        limits = sandbox.Limits(
            self.engine.settings.actions.timeout_s, self.engine.settings.actions.memory_mb
        )
        return _Covering(root, path, framework, kind, limits)

    async def _run_covering(
        self, covering: _Covering, source: str, label: str, progress: Progress
    ) -> sandbox.RunResult:
        """The covering tests, on a copy of the workspace where the document's text is
        `source`."""
        progress(f"running the tests {label}")
        async with sandbox.workspace_copy(covering.root, {covering.path: source}) as copy:
            framework = covering.framework
            return await sandbox.run(
                covering.kind,
                list(framework.command),
                covering.root,
                copy,
                covering.limits,
                framework.env,
            )


@dataclass(frozen=True)
class _Covering:
    root: Path
    path: str  # the document's, in the workspace
    framework: Framework
    kind: str  # the sandbox
    limits: sandbox.Limits


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def _applied(edit: FileEdit) -> str:
    return edit.base[: edit.start] + edit.text + edit.base[edit.end :]


def _untested(done: str, edit: FileEdit, why: ActionError) -> Outcome:
    note = f"tests not run: {why.message}"
    return Outcome(f"ghosttype: {done} ({note})", (edit,), f"# ghosttype: {done}\n\n{note}\n")


def _outcome(
    done: str, edit: FileEdit, runs: list[tuple[str, sandbox.RunResult]], before: bool
) -> Outcome:
    """The edit, with the covering tests' runs (the last one on the new code) as the report."""
    lines = [f"# ghosttype: {done}\n"]
    for label, result in runs:
        verdict = "pass" if result.passed else "fail"
        lines.append(
            f"Tests {label}: {verdict} (`{' '.join(result.command)}`, sandbox: "
            f"{result.sandbox})\n\n```\n{result.output.strip()}\n```\n"
        )
    after = runs[-1][1]
    summary = f"{done}; covering tests {'pass' if after.passed else 'still fail'}"
    if before and len(runs) == 2:
        summary += f" (before: {'pass' if runs[0][1].passed else 'fail'})"
    return Outcome(f"ghosttype: {summary}", (edit,), "\n".join(lines))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _short(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= 60 else line[:57] + "..."


# A whole import line at the top level (Python; JavaScript and TypeScript `import`).
_IMPORT_LINE = re.compile(r"^(?:import\s|from\s+[\w.]+\s+import\s).*$", re.MULTILINE)


def _leading_imports(code: str, language_id: str) -> tuple[list[str], str]:
    """The import lines an answer puts before its code, and the code without them."""
    if language_id not in ("python", "javascript", "typescript"):
        return [], code
    lines = code.split("\n")
    count = 0
    while count < len(lines) and (_IMPORT_LINE.match(lines[count]) or not lines[count].strip()):
        count += 1
    rest = "\n".join(lines[count:])
    if not rest.strip():
        return [], code  # nothing but imports: leave it as the model wrote it
    return [line for line in lines[:count] if line.strip()], rest


def _top_level_start(above: str) -> int:
    """Where the top-level statement that reaches the end of `above` begins: its first
    decorator, else its own first line."""
    starts = [0, *(m.end() for m in re.finditer(r"\n", above))]
    lines = above.split("\n")
    index = max(
        (i for i, line in enumerate(lines) if line[:1] not in ("", " ", "\t", "@", "#")),
        default=len(lines) - 1,
    )
    while index > 0 and lines[index - 1].startswith("@"):
        index -= 1
    return starts[index]


def _indent_of(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start:offset]
    return line[: len(line) - len(line.lstrip())]


COMMENT_LINES = {
    "go": "// ",
    "rust": "/// ",
    "ruby": "# ",
    "shellscript": "# ",
    "lua": "--- ",
}


def doc_comment(document: Document, target: Target, text: str) -> tuple[int, str]:
    """Where the documentation goes and its text, in the language's convention: a docstring as
    the body's first statement in Python, a comment right above the definition elsewhere (`///`
    in Rust, `//` in Go, JSDoc-style `/** */` in the C family)."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    language = document.language_id
    if language == "python":
        if target.body_start < 0:
            raise ActionError("the definition has no body to document")
        indent = _indent_of(document.text, target.body_start)
        if document.text.rfind("\n", 0, target.body_start) < target.start:
            raise ActionError("a one-line definition has no room for a docstring")
        quoted = "\n".join([lines[0], *(indent + line if line else "" for line in lines[1:])])
        quoted = quoted.replace('"""', '\\"\\"\\"')
        closing = f"\n{indent}" if len(lines) > 1 else ""
        return target.body_start, f'"""{quoted}{closing}"""\n{indent}'
    indent = _indent_of(document.text, target.start)
    at = target.start - len(indent)
    if language in COMMENT_LINES:
        marker = COMMENT_LINES[language]
        if language == "go" and target.name and not lines[0].startswith(target.name):
            lines[0] = f"{target.name} {lines[0][:1].lower()}{lines[0][1:]}"
        body = "".join(f"{indent}{marker}{line}".rstrip() + "\n" for line in lines)
        return at, body
    body = "".join(f"{indent} * {line}".rstrip() + "\n" for line in lines)
    return at, f"{indent}/**\n{body}{indent} */\n"


def comment_above(document: Document, offset: int) -> str:
    """The comment lines right above the line of `offset` (Refactor's instruction)."""
    text = document.text
    line_start = text.rfind("\n", 0, offset) + 1
    lines = text[: max(0, line_start - 1)].split("\n") if line_start else []
    found: list[str] = []
    for line in reversed(lines):
        stripped = line.strip()
        match = re.match(r"^(?:#|//|--|/\*+|\*)\s?(.*?)\s*(?:\*/)?$", stripped)
        if not stripped or match is None:
            break
        found.insert(0, match.group(1))
    return " ".join(part for part in found if part).strip()

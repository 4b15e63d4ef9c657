"""Translate to..., verified. The function in the target language and, where the original has tests
in the workspace and the target's toolchain is here, those tests translated to the target's test
style and run in the sandbox on a temporary copy of the workspace (the limits and the trust rule
of Generate tests); a failing run goes back to the model with its output, up to
actions.maxAttempts. Where nothing can run, the translation alone, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..backends import ChatMessage
from ..config import ActionsSettings
from ..context.syntax import parser_for, spec_for
from . import frameworks, prompts, sandbox
from .answers import code_blocks, code_in
from .errors import ActionError
from .frameworks import Framework
from .model import ActionModel, Progress
from .target import Target
from .testgen import combined, drop_tests

# A translated function or its tests fit in this: a longer answer is a model writing on and on.
ANSWER_MAX_TOKENS = 768
# Rust runs the translation in a crate of its own inside the copy (the file beside the original
# belongs to no crate).
SCRATCH_CRATE = ".ghosttype-translation"
GO_MOD = "module ghosttype.local/translation\n\ngo 1.18\n"
_TESTS = re.compile(
    r"^\s*(?:def test|(?:test|it)\(|func Test|#\[test\])|\bunittest\b|node:test|vitest",
    re.MULTILINE,
)
_TEST_COUNT = re.compile(r"^\s*(?:async\s+)?(?:def test|(?:test|it)\(|func Test|#\[test\])", re.M)
_NAMES = {
    "javascript": r"^(?:export\s+(?:default\s+)?)?(?:async\s+)?(?:function\s*\*?\s*|class\s+|"
    r"(?:const|let|var)\s+(?=[\w$]+\s*=\s*(?:async\s*)?(?:function\b|\(|[\w$]+\s*=>)))([\w$]+)",
    "python": r"^(?:async\s+)?(?:def|class)\s+(\w+)",
    "go": r"^func\s+(\w+)\s*[\[(]",
    "rust": r"^(?:pub(?:\([\w:]+\))?\s+)?(?:fn|struct|enum)\s+(\w+)",
}
_NAMES["typescript"] = _NAMES["javascript"]


@dataclass(frozen=True)
class Shape:
    """What the translated file must look like to be importable: an ES module or CommonJS
    (JavaScript), its package (Go)."""

    to: str
    esm: bool = False
    package: str = ""


@dataclass(frozen=True)
class Runner:
    """Where the translation and its tests go in the copy, and the command that runs them."""

    framework: Framework
    code_path: str  # workspace-relative, POSIX
    files: dict[str, str] = field(default_factory=dict)  # more files the copy needs


@dataclass(frozen=True)
class Plan:
    """What running the translated tests needs: everything found, nothing asked yet."""

    runner: Runner
    original_tests: str  # the tests that cover the original, alone
    source_language: str
    sandbox: str
    existing_tests: str  # the target test file's text ("" for a new one)


@dataclass
class TranslationReport:
    language: str
    destination: str
    not_run: str = ""  # why no translated test ran
    framework: str = ""
    command: str = ""
    sandbox: str = ""
    attempts: int = 0
    tests: int = 0
    passed: int = 0
    output: str = ""
    test_code: str = ""

    def summary(self) -> str:
        if self.not_run:
            return f"tests not run: {self.not_run}"
        attempts = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        return (
            f"{self.passed} of {self.tests} translated tests pass ({self.framework}, {attempts}, "
            f"sandbox: {self.sandbox})"
        )

    def markdown(self, title: str) -> str:
        text = f"# ghosttype: {title}\n\n{self.summary()}\n"
        if self.not_run:
            return text
        kept = (
            "The translated tests are in the edit."
            if self.passed == self.tests > 0
            else "The translated tests are not in the edit: not all of them pass."
        )
        return (
            f"{text}\n{kept}\n\nCommand: `{self.command}` (sandbox: {self.sandbox})\n\n"
            f"```\n{self.output.strip()}\n```\n\nThe translated tests:\n\n"
            f"```{self.language.lower()}\n{self.test_code.strip()}\n```\n"
        )


@dataclass(frozen=True)
class Translation:
    code: str  # the translation, importable by tests (exports, package line)
    tests: str  # the translated tests where all of them pass, else ""
    report: TranslationReport


def shape(root: Path, destination: str, to: str) -> Shape:
    """The shape of a translated file written at the workspace-relative `destination`."""
    if to in ("javascript", "typescript"):
        package = frameworks._read(root / "package.json")
        esm = to == "typescript" or bool(re.search(r'"type"\s*:\s*"module"', package))
        return Shape(to, esm=esm)
    if to == "go":
        folder = (root / destination).parent
        for existing in sorted(folder.glob("*.go"))[:20]:
            found = re.search(r"^package (\w+)", frameworks._read(existing), re.MULTILINE)
            if found and not found.group(1).endswith("_test"):
                return Shape(to, package=found.group(1))
        name = re.sub(r"\W", "", folder.name.lower())
        return Shape(to, package=name if name[:1].isalpha() else "main")
    return Shape(to)


def runner(root: Path, destination: str, to: str, shape: Shape) -> Runner:
    """How the translated tests run. Raises ActionError saying why they cannot (no test
    framework for the target, its toolchain missing)."""
    if to == "go":
        framework = frameworks.go_test(PurePosixPath(destination), shape.package)
        files = {} if (root / "go.mod").exists() else {"go.mod": GO_MOD}
        found = Runner(framework, destination, files)
    elif to == "rust":
        manifest = f"{SCRATCH_CRATE}/Cargo.toml"
        library = f"{SCRATCH_CRATE}/src/lib.rs"
        crate = '[package]\nname = "ghosttype_translation"\nversion = "0.1.0"\nedition = "2021"\n'
        # [workspace]: a crate of its own even inside the person's cargo workspace.
        files = {manifest: crate + "\n[workspace]\n"}
        found = Runner(frameworks.cargo_test(library, manifest), library, files)
    else:
        found = Runner(frameworks.detect(root, destination, to), destination)
    missing = found.framework.toolchain_missing(root)
    if missing:
        raise ActionError(missing)
    return found


def covering(tests: str, name: str, language_id: str, original: str) -> str:
    """The top-level parts of a test file that use `name` (its tests of the function; not the
    function itself, where tests live in its file); the whole file where it has no grammar."""
    spec = spec_for(language_id)
    parser = parser_for(spec) if spec else None
    if parser is None:
        return tests
    source = tests.encode()
    parts = []
    for node in parser.parse(source).root_node.named_children:
        text = source[node.start_byte : node.end_byte].decode(errors="replace")
        if re.search(rf"\b{re.escape(name)}\b", text) and original.strip() not in text:
            if "import" not in node.type:
                parts.append(text)
    return "\n\n".join(parts) or tests


def importable(code: str, shape: Shape) -> str:
    """The translation as a file tests can use: exported (JavaScript: CommonJS or an ES
    module, as the project is), in the folder's package (Go)."""
    if shape.to == "go":
        if re.search(r"^package \w+", code, re.MULTILINE):
            return re.sub(r"^package \w+", f"package {shape.package}", code, count=1, flags=re.M)
        return f"package {shape.package}\n\n{code}"
    if shape.to not in ("javascript", "typescript"):
        return code
    names = defined(code, shape.to)
    if shape.esm:
        if names and not re.search(r"^export\b", code, re.MULTILINE):
            code = code.rstrip("\n") + f"\n\nexport {{ {', '.join(names)} }};\n"
        return code
    # CommonJS (node's default): small models write ES exports anyway.
    code = re.sub(
        r"^export\s+(?:default\s+)?(?=(?:async\s+)?function|class|const|let|var)",
        "",
        code,
        flags=re.MULTILINE,
    )
    if names and "exports" not in code:
        code = code.rstrip("\n") + f"\n\nObject.assign(module.exports, {{ {', '.join(names)} }});\n"
    return code


def repaired(tests: str, code: str, shape: Shape, original: str) -> str:
    """The model's translated tests with a small model's usual slips mended: the function called
    by another spelling of its name (add_one for addOne), the module taken as the function, and
    in Go the translation copied into the test file, the package named before the function and
    the imports (missing, unused)."""
    if shape.to == "go":  # the tests are in the translation's package: no qualified names
        tests = re.sub(rf"\b{re.escape(shape.package)}\.(?=\w)", "", tests)
    name = name_in(code, shape.to, original)
    key = original.replace("_", "").lower()
    if name:
        spellings = set(re.findall(r"\b([A-Za-z_][\w$]*)\s*\(", tests))
        for other in spellings - {name}:
            if other.replace("_", "").lower() == key:
                tests = re.sub(rf"(?<![\w$.]){re.escape(other)}(?=\s*\()", name, tests)
        tests = named_import(tests, name)
    if shape.to != "go":
        return tests
    tests = importable(tests, shape)
    tests = drop_tests(tests, "go", defined(code, "go"))
    return go_imports(tests)


# Standard packages a small model uses without importing them.
_GO_STANDARD = ("fmt", "strings", "strconv", "sort", "math", "unicode", "testing", "reflect")
_GO_IMPORTS = re.compile(r'^import\s*(?:"[\w/]+"|\(\s*(?:"[\w/]+"\s*)*\))\s*\n', re.MULTILINE)


def go_imports(code: str) -> str:
    """Go code whose imports are the packages it uses: a missing standard one added, an unused
    one removed (both fail `go test`). Code with an import this cannot read is left alone."""
    imports = _GO_IMPORTS.findall(code)
    if len(re.findall(r"^import\b", code, re.MULTILINE)) != len(imports):
        return code
    paths = [p for block in imports for p in re.findall(r'"([\w/]+)"', block)]
    body = _GO_IMPORTS.sub("", code)
    used = [
        p
        for p in dict.fromkeys([*paths, *_GO_STANDARD])
        if re.search(rf"\b{p.split('/')[-1]}\.\w", body)
    ]
    if used == paths:
        return code
    lines = "".join(f'\t"{p}"\n' for p in used)
    block = f"import (\n{lines})\n" if used else ""
    header = re.search(r"^package \w+\n", body, re.MULTILINE)
    if header is None:
        return code
    rest = body[header.end() :].lstrip("\n")
    return body[: header.end()] + (f"\n{block}" if block else "") + "\n" + rest


def named_import(tests: str, name: str) -> str:
    """Tests that take the translation's module as the function (`const f = require(...)`,
    `import f from ...`) import the name the translation exports instead."""
    if not name:
        return tests
    quoted = re.escape(name)
    tests = re.sub(
        rf"^(\s*(?:const|let|var)\s+)({quoted})(\s*=\s*require\()", r"\1{ \2 }\3", tests, flags=re.M
    )
    return re.sub(rf"^(\s*import\s+)({quoted})(\s+from\b)", r"\1{ \2 }\3", tests, flags=re.M)


def defined(code: str, language_id: str) -> list[str]:
    """The top-level names a translation defines."""
    pattern = _NAMES.get(language_id)
    found = re.findall(pattern, code, re.MULTILINE) if pattern else []
    return list(dict.fromkeys(found))


def name_in(code: str, language_id: str, original: str) -> str:
    """The translation's name for the original's `original`: the defined name that is the same
    but for case and underscores (add_one, addOne, AddOne), else the first one defined."""
    names = defined(code, language_id)
    key = original.replace("_", "").lower()
    return next((n for n in names if n.replace("_", "").lower() == key), names[0] if names else "")


async def translate(
    model: ActionModel,
    settings: ActionsSettings,
    target: Target,
    language_id: str,
    shape: Shape,
    existing: str,
    plan: Plan | str,
    root: Path,
    progress: Progress,
    report: TranslationReport,
) -> Translation:
    """The translation, and its tests run where `plan` is a Plan (a str: why they cannot be).
    Raises ActionError where the model gave no code or every test run hung."""
    to = shape.to
    messages = prompts.translate(target, language_id, to)
    tokens = min(ANSWER_MAX_TOKENS, settings.max_tokens)
    code = None
    for attempt in range(1, settings.max_attempts + 1):
        report.attempts = attempt
        progress(f"translating to {report.language} (attempt {attempt})")
        answer = await model.ask(messages, tokens, temperature=0.0 if attempt == 1 else 0.4)
        code = code_in(answer, to)
        if code is not None and defined(code, to):
            break
        code = None
        messages = [*messages, ChatMessage("assistant", answer), prompts.no_code()]
    if code is None:
        raise ActionError(
            f"the model's answers held no {report.language} code that parses (nothing written)"
        )
    code = importable(code, shape)
    if isinstance(plan, str):
        report.not_run = plan
        return Translation(code, "", report)
    return await _verified(
        model, settings, target, code, existing, plan, shape, root, progress, report
    )


@dataclass
class _Run:
    code: str
    tests: str
    result: sandbox.RunResult
    passed: int
    total: int


async def _verified(
    model: ActionModel,
    settings: ActionsSettings,
    target: Target,
    code: str,
    existing: str,
    plan: Plan,
    shape: Shape,
    root: Path,
    progress: Progress,
    report: TranslationReport,
) -> Translation:
    framework, to = plan.runner.framework, shape.to
    report.framework, report.sandbox = framework.name, plan.sandbox
    report.command = " ".join(framework.command)
    limits = sandbox.Limits(settings.timeout_s, settings.memory_mb)
    tokens = min(ANSWER_MAX_TOKENS, settings.max_tokens)
    tests: str | None = None
    best: _Run | None = None
    runs: list[_Run] = []
    for attempt in range(1, settings.max_attempts + 1):
        report.attempts = max(report.attempts, attempt)
        if attempt == 1:
            progress("translating the tests")
            template = framework.import_template if target.top_level else ""
            how = template.format(name=name_in(code, to, target.name)) if template else ""
            style = f"{framework.style} Import the translation with `{how}`." if how else ""
            asked = prompts.translate_tests(
                plan.original_tests,
                plan.source_language,
                to,
                code,
                framework.name,
                style or framework.style,
            )
            tests = code_in(await model.ask(asked, tokens), to)
        else:
            last = runs[-1] if runs else None
            progress(f"correcting the translation (attempt {attempt} of {settings.max_attempts})")
            asked = prompts.translation_failed(
                target,
                plan.source_language,
                to,
                last.code if last else code,
                last.tests if last else (tests or ""),
                last.result.output if last else "the answer held no test code that parses",
                plan.original_tests,
            )
            answer = await model.ask(asked, settings.max_tokens, temperature=0.4, seed=attempt)
            new_code, new_tests = _split(code_blocks(answer, to))
            code = importable(new_code, shape) if new_code else code
            tests = new_tests or tests
        if tests is None:
            continue
        tests = repaired(tests, code, shape, target.name)
        if target.top_level:
            tests = framework.with_import(tests, name_in(code, to, target.name))
        if to == "go":
            code = go_imports(code)
        progress(f"running the translated tests ({framework.name}, attempt {attempt})")
        result = await _run(plan, root, existing, code, tests, limits)
        outcomes = framework.outcomes(result.output)
        total = len(outcomes) or len(_TEST_COUNT.findall(tests))
        run = _Run(code, tests, result, sum(outcomes.values()), total)
        runs.append(run)
        if best is None or run.passed >= best.passed:
            best = run
        if result.passed and outcomes and all(outcomes.values()):
            break
    if best is None:
        report.not_run = (
            f"the model's answers held no {framework.name} test code after "
            f"{settings.max_attempts} attempts"
        )
        return Translation(code, "", report)
    if all(run.result.timed_out for run in runs):
        raise ActionError(
            f"the translated tests did not finish within {settings.timeout_s} s and were killed, "
            f"after {len(runs)} run{'s' if len(runs) > 1 else ''} (nothing written)"
        )
    report.tests, report.passed = best.total, best.passed
    report.output, report.test_code = best.result.output, best.tests
    all_pass = best.result.passed and best.passed == best.total > 0
    return Translation(best.code, best.tests if all_pass else "", report)


def _split(blocks: list[str]) -> tuple[str, str]:
    """A corrected answer's translation and tests (either may be missing: "")."""
    tests = next((b for b in reversed(blocks) if _TESTS.search(b)), "")
    code = next((b for b in blocks if b is not tests and not _TESTS.search(b)), "")
    return code, tests


async def _run(
    plan: Plan, root: Path, existing: str, code: str, tests: str, limits: sandbox.Limits
) -> sandbox.RunResult:
    framework = plan.runner.framework
    translated = combined(existing, code)
    files = {**plan.runner.files, plan.runner.code_path: translated}
    if framework.in_source:
        files[plan.runner.code_path] = translated.rstrip("\n") + "\n\n" + tests
    else:
        files[framework.test_path] = combined(plan.existing_tests, tests)
    async with sandbox.workspace_copy(root, files) as copy:
        return await sandbox.run(
            plan.sandbox, list(framework.command), root, copy, limits, framework.env
        )

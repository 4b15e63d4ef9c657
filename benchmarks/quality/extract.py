"""Deterministic task extraction from the pinned projects.

Python is analysed with `ast`; JavaScript and TypeScript (consistently formatted, lint-clean code)
with line rules that find whole statements, function bodies and relative imports. Every executed
task is checked at extraction time: the original file passes the task's test selection and the
document with the gap left empty fails it, so a task is never scored by tests that ignore it.
"""

from __future__ import annotations

import ast
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .execution import Executor, python_test_files
from .fetch import source_dir
from .projects import PROJECTS, Project
from .tasks import BODY, EXEC_LINE, EXEC_MULTI, LINE, XFILE, Task

# Tasks per project and kind (fewer where a project has fewer candidates).
QUOTA: dict[str, dict[str, int]] = {
    "python": {LINE: 10, XFILE: 8, BODY: 7, EXEC_LINE: 10, EXEC_MULTI: 8},
    "qs": {LINE: 8, XFILE: 8, BODY: 8, EXEC_LINE: 12, EXEC_MULTI: 10},
    "minimist": {LINE: 8, BODY: 4, EXEC_LINE: 10, EXEC_MULTI: 8},
    "underscore": {LINE: 15, XFILE: 25},
    "rxjs": {LINE: 15, XFILE: 25},
    **{name: {XFILE: 20} for name in ("click", "marshmallow", "jinja2", "axios")},
}
MIN_LINE, MAX_LINE = 6, 120  # characters in a target line (stripped)
MULTI_LINES = (2, 6)  # lines in an exec_multi gap
BODY_LINES = (2, 12)  # lines in a body task


@dataclass(frozen=True)
class Candidate:
    """A gap in a file: lines [start, end) (0-based) or, for line tasks, the text after the
    indentation of line `start`."""

    path: str
    start: int
    end: int
    kind: str
    symbol: str = ""
    symbol_file: str = ""
    scope: str = ""  # enclosing function name (narrows the test selection)


# ---------------------------------------------------------------------------- documents


def _offsets(lines: list[str]) -> list[int]:
    out, pos = [], 0
    for line in lines:
        out.append(pos)
        pos += len(line)
    out.append(pos)
    return out


def task_id(project: Project, cand: Candidate) -> str:
    return f"{project.name}/{cand.kind}/{cand.path}:{cand.start + 1}"


def make_task(project: Project, text: str, cand: Candidate, tests: list[str]) -> Task:
    lines = text.splitlines(keepends=True)
    starts = _offsets(lines)
    first = lines[cand.start]
    indent = first[: len(first) - len(first.lstrip())]
    if cand.kind in (LINE, XFILE, BODY):
        # Cursor after the first line's indentation (where an editor puts it); the target runs
        # to the end of the last gap line, without its newline.
        cut = starts[cand.start] + len(indent)
    else:
        # exec_*: the gap lines become one empty line; the cursor sits on it, at column 0.
        cut = starts[cand.start]
    end = starts[cand.end] - 1  # the newline that ends the last gap line
    return Task(
        id=task_id(project, cand),
        project=project.name,
        language=project.language,
        kind=cand.kind,
        path=cand.path,
        prefix=text[:cut],
        suffix=text[end:],
        target=text[cut:end],
        executed=cand.kind in (BODY, EXEC_LINE, EXEC_MULTI),
        tests=tests,
        symbol=cand.symbol,
        symbol_file=cand.symbol_file,
    )


# ---------------------------------------------------------------------------- Python


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


_COMPOUND = (
    ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match, ast.TryStar,
)  # fmt: skip


def _blocks(node: ast.AST) -> Iterator[list[ast.stmt]]:
    """Every statement list inside a function (its body and nested blocks)."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
            for stmt in block:
                if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    yield from _blocks(stmt)
    for handler in getattr(node, "handlers", []) or []:
        yield handler.body
        for stmt in handler.body:
            yield from _blocks(stmt)


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _good_line(line: str) -> bool:
    stripped = line.strip()
    return (
        MIN_LINE <= len(stripped) <= MAX_LINE
        and not stripped.startswith(("#", "pass", "return None", "raise NotImplementedError"))
        and ";" not in stripped
    )


def _simple_lines(
    func: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]
) -> Iterator[ast.stmt]:
    for block in _blocks(func):
        for stmt in block:
            if isinstance(stmt, _COMPOUND) or _is_docstring(stmt):
                continue
            if stmt.lineno == stmt.end_lineno and _good_line(lines[stmt.lineno - 1]):
                yield stmt


def _module_file(root: Path, here: Path, level: int, module: str | None, top: str) -> Path | None:
    """The project file a `from ... import` names (None when it is outside the project)."""
    if level:
        base = here.parent
        for _ in range(level - 1):
            base = base.parent
    elif module and module.split(".")[0] == top:
        base = root
    else:
        return None
    parts = module.split(".") if module else []
    target = base.joinpath(*parts)
    for candidate in (target.with_suffix(".py"), target / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _defined_names(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text())
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _python_imports(project_root: Path, file: Path, tree: ast.Module, top: str) -> dict[str, str]:
    """Local name -> defining file (relative), for names imported from other project files."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _module_file(project_root, file, node.level, node.module, top)
        for alias in node.names:
            local = alias.asname or alias.name
            if source is None:
                # `from . import keys`: the name is a module of the package.
                sub = _module_file(project_root, file, node.level, alias.name, top)
                if node.module is None and sub is not None and sub != file:
                    found[local] = sub.relative_to(project_root).as_posix()
                continue
            if source != file and alias.name in _defined_names(source):
                found[local] = source.relative_to(project_root).as_posix()
    return found


def python_candidates(project: Project, root: Path) -> Iterator[Candidate]:
    top = project.source_dirs[0].split("/")[-1]
    package_root = root / project.python_path
    for file in project.source_files(root):
        rel = file.relative_to(root).as_posix()
        text = file.read_text()
        lines = text.splitlines(keepends=True)
        tree = ast.parse(text)
        imported = _python_imports(package_root, file, tree, top)
        for func in _functions(tree):
            yield from _python_function(rel, func, lines, imported, project)


def _python_function(
    rel: str,
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    lines: list[str],
    imported: dict[str, str],
    project: Project,
) -> Iterator[Candidate]:
    scope = func.name
    for stmt in _simple_lines(func, lines):
        used = [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id in imported]
        start = stmt.lineno - 1
        if used:
            symbol_file = (Path(project.python_path) / imported[used[0]]).as_posix()
            symbol_file = symbol_file.removeprefix("./")
            yield Candidate(rel, start, start + 1, XFILE, used[0], symbol_file, scope)
        else:
            yield Candidate(rel, start, start + 1, LINE, scope=scope)
        yield Candidate(rel, start, start + 1, EXEC_LINE, scope=scope)
    # exec_multi: runs of sibling statements, 2-6 lines in all.
    for block in _blocks(func):
        stmts = [s for s in block if not _is_docstring(s)]
        for i, first in enumerate(stmts):
            if isinstance(first, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for last in stmts[i:]:
                assert last.end_lineno is not None
                count = last.end_lineno - first.lineno + 1
                if count > MULTI_LINES[1]:
                    break
                if count >= MULTI_LINES[0]:
                    yield Candidate(rel, first.lineno - 1, last.end_lineno, EXEC_MULTI, scope=scope)
                    break
    # body: everything after the signature (and docstring), 2-12 lines.
    body = [s for s in func.body if not _is_docstring(s)]
    if body and func.body[0].lineno > func.lineno:
        end = body[-1].end_lineno
        assert end is not None
        start = body[0].lineno - 1
        header_end = (func.body[0].end_lineno or 0) if _is_docstring(func.body[0]) else start
        if BODY_LINES[0] <= end - start <= BODY_LINES[1] and start >= header_end:
            yield Candidate(rel, start, end, BODY, scope=scope)


# ---------------------------------------------------------------------------- JS / TS

_OPEN, _CLOSE = "([{", ")]}"
_STRING = re.compile(r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\])*`|/\*.*?\*/|//.*$""")
_IMPORT = re.compile(
    r"""import\s+(?:type\s+)?([\w$*{}\s,]+?)\s+from\s+['"](\.{1,2}/[^'"]+)['"]""", re.S
)
_REQUIRE = re.compile(r"""(?:var|const|let)\s+([\w$]+)\s*=\s*require\(['"](\.{1,2}/[^'"]*)['"]\)""")


def _code(line: str) -> str:
    return _STRING.sub('""', line.strip())


def _depth(line: str) -> int:
    code = _code(line)
    return sum(code.count(c) for c in _OPEN) - sum(code.count(c) for c in _CLOSE)


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _comment_mask(lines: list[str]) -> list[bool]:
    """True for lines that are (inside) comments or blank."""
    mask, inside = [], False
    for line in lines:
        s = line.strip()
        if inside:
            mask.append(True)
            inside = "*/" not in s
            continue
        if s.startswith("/*"):
            mask.append(True)
            inside = "*/" not in s
            continue
        mask.append(not s or s.startswith("//"))
    return mask


def _statement_start(lines: list[str], mask: list[bool], i: int) -> bool:
    """Line i starts a statement: the previous code line ends one or opens a block."""
    j = i - 1
    while j >= 0 and mask[j]:
        j -= 1
    return j >= 0 and _code(lines[j]).endswith((";", "{", "}", ":"))


def _js_line_ok(line: str) -> bool:
    s = line.strip()
    return (
        _indent(line) >= 2
        and MIN_LINE <= len(s) <= MAX_LINE
        and s.endswith(";")
        and _depth(line) == 0
        and not s.startswith(("}", "import ", "export ", "'use strict'", '"use strict"', "return;"))
    )


def _resolve_js(file: Path, spec: str, suffixes: tuple[str, ...]) -> Path | None:
    base = (file.parent / spec).resolve()
    options = [base, *(base.with_name(base.name + s) for s in suffixes)]
    options += [base / f"index{s}" for s in suffixes]
    return next((p for p in options if p.is_file()), None)


def _js_imports(file: Path, text: str, root: Path) -> dict[str, str]:
    suffixes = (".ts", ".js", ".d.ts")
    found: dict[str, str] = {}
    for match in _IMPORT.finditer(text):
        source = _resolve_js(file, match.group(2), suffixes)
        if source is None or source == file:
            continue
        rel = source.relative_to(root.resolve()).as_posix()
        for part in match.group(1).replace("{", ",").replace("}", ",").split(","):
            words = part.split()
            if words and words[0] != "*":
                found[words[-1]] = rel
            elif len(words) == 3:  # * as ns
                found[words[2]] = rel
    for match in _REQUIRE.finditer(text):
        source = _resolve_js(file, match.group(2), suffixes)
        if source is not None and source != file:
            found[match.group(1)] = source.relative_to(root.resolve()).as_posix()
    return found


def js_candidates(project: Project, root: Path) -> Iterator[Candidate]:
    for file in project.source_files(root):
        rel = file.relative_to(root).as_posix()
        text = file.read_text()
        lines = text.splitlines(keepends=True)
        mask = _comment_mask(lines)
        imported = _js_imports(file, text, root)
        names = {n: re.compile(rf"(?<![\w$.]){re.escape(n)}(?![\w$])") for n in imported}
        for i, line in enumerate(lines):
            if mask[i] or not _statement_start(lines, mask, i):
                continue
            if _js_line_ok(line):
                used = [n for n, pattern in names.items() if pattern.search(_code(line))]
                if used:
                    yield Candidate(rel, i, i + 1, XFILE, used[0], imported[used[0]])
                else:
                    yield Candidate(rel, i, i + 1, LINE)
                yield Candidate(rel, i, i + 1, EXEC_LINE)
            multi = _js_span(lines, mask, i)
            if multi:
                yield Candidate(rel, i, multi, EXEC_MULTI)
            body = _js_body(lines, i)
            if body:
                yield Candidate(rel, i + 1, body, BODY)


def _js_span(lines: list[str], mask: list[bool], i: int) -> int | None:
    """End (exclusive) of a 2-6 line run of whole statements starting at line i, if any."""
    first = lines[i]
    s = first.strip()
    if _indent(first) < 4 or s.startswith(("}", "case ", "default:", "else", "return;")):
        return None
    depth = 0
    for j in range(i, min(len(lines), i + MULTI_LINES[1])):
        line = lines[j]
        if mask[j] and j == i:
            return None
        if line.strip() and _indent(line) < _indent(first):
            return None
        depth += _depth(line) if not mask[j] else 0
        if depth < 0:
            return None
        count = j - i + 1
        ends = _code(line).endswith((";", "}"))
        nxt = lines[j + 1].strip() if j + 1 < len(lines) else ""
        if (
            depth == 0
            and ends
            and count >= MULTI_LINES[0]
            and not nxt.startswith(("else", "catch", "finally", ".", "?", ":", "&&", "||", "+"))
        ):
            return j + 1
    return None


def _js_body(lines: list[str], i: int) -> int | None:
    """For a function header on line i ending with `{`: the index of its closing line, when the
    body between is 2-12 lines."""
    s = _code(lines[i])
    if not s.endswith("{") or not ("function" in s or "=>" in s):
        return None
    ind = _indent(lines[i])
    for j in range(i + 1, min(len(lines), i + BODY_LINES[1] + 2)):
        line = lines[j]
        if line.strip() and _indent(line) <= ind:
            if line.strip().startswith("}") and _indent(line) == ind:
                return j if j - (i + 1) >= BODY_LINES[0] else None
            return None
    return None


# ---------------------------------------------------------------------------- selection


def _round_robin(cands: list[Candidate], rng: random.Random) -> list[Candidate]:
    by_file: dict[str, list[Candidate]] = defaultdict(list)
    for c in cands:
        by_file[c.path].append(c)
    files = sorted(by_file)
    rng.shuffle(files)
    for f in files:
        rng.shuffle(by_file[f])
    out: list[Candidate] = []
    while any(by_file[f] for f in files):
        for f in files:
            if by_file[f]:
                out.append(by_file[f].pop())
    return out


def _selection(project: Project, cand: Candidate) -> list[list[str]]:
    """Test selections to try, narrowest first."""
    if project.language != "python":
        return [[]]
    files = python_test_files(project, cand.path)
    if not files:
        return []
    narrow = [*files, "-k", cand.scope.strip("_")] if cand.scope.strip("_") else None
    return [s for s in (narrow, files) if s]


def _verify(project: Project, text: str, cand: Candidate, executor: Executor) -> list[str] | None:
    """The test selection that passes the original and fails the empty gap, or None."""
    for tests in _selection(project, cand):
        task = make_task(project, text, cand, tests)
        if not executor.passes(project.name, task.path, task.original, tests):
            continue
        if not executor.passes(project.name, task.path, task.document, tests):
            return tests
    return None


def extract_project(
    project: Project,
    seed: int,
    executor: Executor,
    log: bool = True,
    kinds: tuple[str, ...] | None = None,
    scale: int = 1,
    exclude: frozenset[str] = frozenset(),
) -> list[Task]:
    """The project's tasks of `kinds` (default: all it gives), `scale` times its quotas, none
    whose id is in `exclude`."""
    root = source_dir(project.name)
    finder = python_candidates if project.language == "python" else js_candidates
    all_cands = list(finder(project, root))
    quota = QUOTA.get(project.name, QUOTA.get(project.language, {}))
    texts: dict[str, str] = {}
    tasks: list[Task] = []
    for kind in [k for k in project.kinds if kinds is None or k in kinds]:
        rng = random.Random(f"{seed}:{project.name}:{kind}")
        chosen = 0
        seen_lines: set[tuple[str, int]] = set()
        for cand in _round_robin([c for c in all_cands if c.kind == kind], rng):
            if chosen >= quota.get(kind, 0) * scale:
                break
            if (cand.path, cand.start) in seen_lines or task_id(project, cand) in exclude:
                continue
            text = texts.setdefault(cand.path, (root / cand.path).read_text())
            tests: list[str] = []
            if kind in (BODY, EXEC_LINE, EXEC_MULTI):
                verified = _verify(project, text, cand, executor)
                if verified is None:
                    continue
                tests = verified
            tasks.append(make_task(project, text, cand, tests))
            seen_lines.add((cand.path, cand.start))
            chosen += 1
        if log:
            print(f"  {project.name:15} {kind:10} {chosen}", file=sys.stderr)
    return tasks


def extract_all(
    seed: int,
    projects: Iterable[Project] = PROJECTS,
    kinds: tuple[str, ...] | None = None,
    scale: int = 1,
    exclude: frozenset[str] = frozenset(),
) -> list[Task]:
    executor = Executor()
    tasks: list[Task] = []
    try:
        for project in projects:
            tasks += extract_project(project, seed, executor, True, kinds, scale, exclude)
    finally:
        executor.save()
    return tasks


def strip_tests(task: Task) -> Task:
    return replace(task, tests=[])

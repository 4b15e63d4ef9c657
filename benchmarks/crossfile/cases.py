"""Draws the cross-file cases mechanically (the rule is in README.md; run as
`python -m benchmarks.crossfile.cases` to rewrite cases.jsonl).

A site is an identifier at which the code uses something defined in another file of the same
package, found statically with `ast`:

- `function` / `constructor`: a call of a name imported from a sibling module (a function / a class);
- `module_attr`: `mod.name` where `mod` is a sibling module imported by name;
- `method` / `attribute`: `x.name` where `x` is a parameter annotated with a class of the package
  or a local assigned once from `Class(...)`, and `name` is a method / any other member of that
  class or its bases, found in another file than the site's;
- `inherited`: `self.name` / `cls.name` in a method whose class does not define `name` but a base
  class in another file does.

Imports are resolved through re-exports (`from .x import y` where x itself imports y) to the file
that defines the name."""

from __future__ import annotations

import ast
import io
import json
import random
import sys
import tokenize
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .packages import PACKAGES, Package, source_files, unpacked

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.jsonl"
SEED = 20261207
PER_PACKAGE = 18
PER_FILE = 3  # at most this many cases from one file
KINDS = ("function", "constructor", "module_attr", "method", "attribute", "inherited")


@dataclass(frozen=True)
class Case:
    id: str
    package: str
    version: str
    file: str  # relative to the unpacked wheel's root
    line: int  # 1-based
    column: int  # 0-based, in characters: where the mask starts
    expected: str  # the line from the column to its end (trailing whitespace removed)
    defining_file: str
    kind: str
    name: str  # the identifier at the column


@dataclass
class Module:
    name: str  # dotted
    path: str
    is_package: bool
    tree: ast.Module
    functions: set[str] = field(default_factory=set)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    # local name -> (module, symbol); symbol None: the name is the module itself
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)


class Index:
    def __init__(self, root: Path, files: list[Path]):
        self.modules: dict[str, Module] = {}
        for rel in files:
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            tree = ast.parse((root / rel).read_text(encoding="utf-8"))
            module = Module(".".join(parts), rel.as_posix(), is_package, tree)
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    module.functions.add(node.name)
                elif isinstance(node, ast.ClassDef):
                    module.classes[node.name] = node
            self.modules[module.name] = module
        for module in self.modules.values():
            self._read_imports(module)

    def _read_imports(self, module: Module) -> None:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom):
                base = self._absolute(module, node.module, node.level)
                for alias in node.names:
                    local = alias.asname or alias.name
                    if f"{base}.{alias.name}" in self.modules:
                        module.imports[local] = (f"{base}.{alias.name}", None)
                    elif base in self.modules:
                        module.imports[local] = (base, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in self.modules:
                        module.imports[alias.asname] = (alias.name, None)

    def _absolute(self, module: Module, name: str | None, level: int) -> str:
        if level == 0:
            return name or ""
        parts = module.name.split(".")
        if not module.is_package:
            parts.pop()
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        return ".".join([*parts, *([name] if name else [])])

    def resolve(self, module: Module, name: str, depth: int = 0) -> tuple[Module, str] | None:
        """The module that defines `name` as seen from `module` (following imports), or None."""
        if depth > 6:
            return None
        if name in module.functions or name in module.classes:
            return module, name
        target = module.imports.get(name)
        if target is None or target[1] is None:
            return None
        other = self.modules[target[0]]
        return self.resolve(other, target[1], depth + 1)

    def module_alias(self, module: Module, name: str) -> Module | None:
        target = module.imports.get(name)
        if target is not None and target[1] is None:
            return self.modules[target[0]]
        return None

    def class_of(self, module: Module, expr: ast.expr | None) -> tuple[Module, ast.ClassDef] | None:
        """The package's class an annotation names (Optional / `| None` / quotes unwrapped)."""
        if expr is None:
            return None
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            try:
                expr = ast.parse(expr.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(expr, ast.Subscript):
            head = expr.value
            head_name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
            return self.class_of(module, expr.slice) if head_name == "Optional" else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            sides = [s for s in (expr.left, expr.right) if not _is_none(s)]
            return self.class_of(module, sides[0]) if len(sides) == 1 else None
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            alias = self.module_alias(module, expr.value.id)
            return self._class_in(alias, expr.attr) if alias else None
        if isinstance(expr, ast.Name):
            return self._class_in(module, expr.id)
        return None

    def _class_in(self, module: Module, name: str) -> tuple[Module, ast.ClassDef] | None:
        found = self.resolve(module, name)
        if found and found[1] in found[0].classes:
            return found[0], found[0].classes[found[1]]
        return None

    def member(
        self, module: Module, cls: ast.ClassDef, name: str, seen: int = 0
    ) -> tuple[Module, str] | None:
        """Where `name` is defined on the class or its package bases (depth first), and whether
        it is a "method" or an "attribute"."""
        if seen > 8:
            return None
        kind = _own_member(cls, name)
        if kind:
            return module, kind
        for base in cls.bases:
            found = self.class_of(module, base)
            if found:
                hit = self.member(found[0], found[1], name, seen + 1)
                if hit:
                    return hit
        return None


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _own_member(cls: ast.ClassDef, name: str) -> str | None:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            is_property = any(
                getattr(d, "id", getattr(d, "attr", "")) in ("property", "cached_property")
                for d in node.decorator_list
            )
            return "attribute" if is_property else "method"
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return "attribute"
    for node in ast.walk(cls):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and node.attr == name
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            return "attribute"
    return None


@dataclass(frozen=True)
class Site:
    line: int
    byte_column: int
    name: str
    kind: str
    defining_file: str


def _local_types(
    index: Index, module: Module, func: ast.FunctionDef | ast.AsyncFunctionDef
) -> dict[str, tuple[Module, ast.ClassDef]]:
    """Parameters annotated with a package class, and locals assigned exactly once, from a call
    of one."""
    types: dict[str, tuple[Module, ast.ClassDef]] = {}
    args = func.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        found = index.class_of(module, arg.annotation)
        if found:
            types[arg.arg] = found
    assigned: dict[str, int] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            assigned[node.id] = assigned.get(node.id, 0) + 1
    for node in ast.walk(func):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
            and assigned.get(node.targets[0].id) == 1
            and node.targets[0].id not in types
        ):
            found = index.class_of(module, node.value.func)
            if found:
                types[node.targets[0].id] = found
    return types


def sites(index: Index, module: Module) -> list[Site]:
    found: list[Site] = []

    def attribute_site(node: ast.Attribute, kind: str, where: Module) -> None:
        if where.path != module.path and node.end_lineno is not None:
            column = (node.end_col_offset or 0) - len(node.attr)
            found.append(Site(node.end_lineno, column, node.attr, kind, where.path))

    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            hit = index.resolve(module, node.func.id)
            if hit and hit[0].path != module.path:
                kind = "constructor" if hit[1] in hit[0].classes else "function"
                found.append(
                    Site(node.lineno, node.func.col_offset, node.func.id, kind, hit[0].path)
                )
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            alias = index.module_alias(module, node.value.id)
            if alias and (node.attr in alias.functions or node.attr in alias.classes):
                attribute_site(node, "module_attr", alias)

    methods: list[tuple[ast.ClassDef | None, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in module.tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            methods.append((None, node))
        elif isinstance(node, ast.ClassDef):
            methods += [
                (node, f)
                for f in node.body
                if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    for cls, func in methods:
        types = _local_types(index, module, func)
        first = func.args.args[0].arg if cls is not None and func.args.args else None
        for node in ast.walk(func):
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
                continue
            receiver = node.value.id
            if receiver in types:
                owner_module, owner = types[receiver]
                hit = index.member(owner_module, owner, node.attr)
                if hit:
                    attribute_site(node, hit[1], hit[0])
            elif cls is not None and receiver == first and receiver in ("self", "cls"):
                if _own_member(cls, node.attr) is None:
                    hit = index.member(module, cls, node.attr)
                    if hit:
                        attribute_site(node, "inherited", hit[0])
    return found


def _single_lines(source: str) -> tuple[set[int], set[int]]:
    """Physical lines that are whole logical lines, and lines with a comment."""
    whole: set[int] = set()
    comments: set[int] = set()
    start: int | None = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments.add(token.start[0])
        if token.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            continue
        if start is None:
            start = token.start[0]
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if token.start[0] == start:
                whole.add(start)
            start = None
    return whole, comments


def candidates(package: Package, root: Path) -> list[Case]:
    """Every eligible line of the package, one case per line (its leftmost site)."""
    index = Index(root, source_files(package, root))
    out: list[Case] = []
    for module in index.modules.values():
        source = (root / module.path).read_text(encoding="utf-8")
        lines = source.splitlines()
        whole, comments = _single_lines(source)
        by_line: dict[int, Site] = {}
        for site in sites(index, module):
            best = by_line.get(site.line)
            if best is None or site.byte_column < best.byte_column:
                by_line[site.line] = site
        for number, site in sorted(by_line.items()):
            if number not in whole or number in comments:
                continue
            text = lines[number - 1]
            column = len(text.encode("utf-8")[: site.byte_column].decode("utf-8"))
            expected = text[column:].rstrip()
            if not expected.startswith(site.name):
                continue  # a site the line does not show at its column (never expected)
            out.append(
                Case(
                    id=f"{package.name}:{module.path}:{number}",
                    package=package.name,
                    version=package.version,
                    file=module.path,
                    line=number,
                    column=column,
                    expected=expected,
                    defining_file=site.defining_file,
                    kind=site.kind,
                    name=site.name,
                )
            )
    return out


def draw(
    package: Package,
    pool: list[Case],
    seed: int = SEED,
    quota: int = PER_PACKAGE,
    kinds: tuple[str, ...] = KINDS,
) -> list[Case]:
    """Round-robin over the kinds (each kind's candidates shuffled with a seeded RNG), at most
    PER_FILE cases from one file, until the quota."""
    rng = random.Random(f"{seed}:{package.name}")
    queues = {kind: [c for c in pool if c.kind == kind] for kind in kinds}
    for queue in queues.values():
        rng.shuffle(queue)
    per_file: dict[str, int] = {}
    chosen: list[Case] = []
    while len(chosen) < quota and any(queues.values()):
        for kind in kinds:
            queue = queues[kind]
            while queue:
                case = queue.pop()
                if per_file.get(case.file, 0) < PER_FILE:
                    per_file[case.file] = per_file.get(case.file, 0) + 1
                    chosen.append(case)
                    break
            if len(chosen) == quota:
                break
    return sorted(chosen, key=lambda c: (c.file, c.line))


def load_cases(path: Path = CASES) -> list[Case]:
    with path.open() as handle:
        return [Case(**json.loads(line)) for line in handle if line.strip()]


def load_all_cases() -> list[Case]:
    """The Python cases, then the TypeScript ones (cases-ts.jsonl, drawn by ts_cases.py)."""
    return load_cases() + load_cases(HERE / "cases-ts.jsonl")


def draw_packages(
    packages: list[Package],
    find: Callable[[Package, Path], list[Case]],
    quota: int,
    kinds: tuple[str, ...] = KINDS,
) -> list[Case]:
    """Each package's draw from its candidates (`find` on its pristine copy), reported on stderr."""
    all_cases: list[Case] = []
    for package in packages:
        pool = find(package, unpacked(package, "pristine"))
        chosen = draw(package, pool, quota=quota, kinds=kinds)
        counts = {k: sum(c.kind == k for c in chosen) for k in kinds}
        print(f"{package.name} ({package.language}): {len(pool)} candidate lines, "
              f"{len(chosen)} drawn {counts}", file=sys.stderr)  # fmt: skip
        all_cases += chosen
    return all_cases


def write_cases(cases: list[Case], path: Path) -> None:
    with path.open("w") as handle:
        for case in cases:
            handle.write(json.dumps(asdict(case)) + "\n")
    print(f"{len(cases)} cases -> {path}", file=sys.stderr)


def draw_all(
    language: str, find: Callable[[Package, Path], list[Case]], quota: int, path: Path
) -> int:
    """Draws every cross-file package of the language (its candidates from `find`) and writes
    them to path."""
    packages = [p for p in PACKAGES if p.language == language and p.suite == "crossfile"]
    write_cases(draw_packages(packages, find, quota), path)
    return 0


if __name__ == "__main__":
    raise SystemExit(draw_all("python", candidates, PER_PACKAGE, CASES))

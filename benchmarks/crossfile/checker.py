"""The independent checker: pyright (npm, pinned) on the completed file inside the unpacked package.
Nothing here uses ghosttype's code.

A completion invents a name when pyright reports, on the lines the completion wrote (from the mask's
column on the first), an unknown attribute, an unknown module attribute, an unknown import symbol
or an undefined variable whose name pyright does not also report on the original line. Keyword
arguments no parameter has are counted apart (`keywords`), not as inventions.

Each completed file is written next to the case's file as `_gtcheck_<hash>.py` in a copy of the
package (benchmarks/data/crossfile/check/NAME), so its relative imports resolve as the original's
do; all pending files of a package go to one pyright run. Results are cached by content hash in
benchmarks/data/crossfile/pyright-cache.json, so reruns cost nothing.

`python -m benchmarks.crossfile.checker` checks the checker on the cases: how often it flags the
original line (soundness, without the subtraction that makes the original clean by construction)
and how often it flags the original line with the masked identifier renamed (power)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .packages import BY_NAME, DATA, unpacked

HERE = Path(__file__).resolve().parent

PYRIGHT_VERSION = "1.1.390"
TYPESCRIPT_VERSION = "5.4.5"
CACHE = DATA / "pyright-cache.json"
PYRIGHT_CONFIG = {"pythonVersion": "3.11", "typeCheckingMode": "standard"}

# category -> pattern whose group 1 is the name
PATTERNS = {
    "attribute": re.compile(r'^Cannot access attribute "(\w+)" for class'),
    "module": re.compile(r'^"(\w+)" is not a known attribute of module'),
    "import": re.compile(r'^"(\w+)" is unknown import symbol'),
    "undefined": re.compile(r'^"(\w+)" is not defined'),
    "keyword": re.compile(r'^No parameter named "(\w+)"'),
}
INVENTING = ("attribute", "module", "import", "undefined")
# TypeScript: the error codes of each category; the message's first quoted word is the name (for imports,
# the last one: "Module './x' has no exported member 'y'")
TSC_CODES = {
    "TS2339": "attribute", "TS2551": "attribute", "TS2304": "undefined", "TS2552": "undefined",
    "TS2305": "import", "TS2724": "import", "TS2353": "keyword",
}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based
    column: int  # 0-based, UTF-16 units as pyright reports them (the same as characters in ASCII)
    category: str
    name: str


def npm_tool(package: str, version: str, command: str | None = None) -> Path:
    """A pinned npm package's command, installed into benchmarks/data/crossfile/PACKAGE when
    missing."""
    prefix = DATA / package
    exe = prefix / "node_modules" / ".bin" / (command or package)
    manifest = prefix / "node_modules" / package / "package.json"
    if not (exe.exists() and json.loads(manifest.read_text())["version"] == version):
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--silent",
             "--prefix", str(prefix), f"{package}@{version}"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return exe


def pyright() -> Path:
    return npm_tool("pyright", PYRIGHT_VERSION)


def _findings(diagnostics: list[dict]) -> list[Finding]:
    out = []
    for diagnostic in diagnostics:
        first_line = diagnostic["message"].splitlines()[0]
        start = diagnostic["range"]["start"]
        if "rule" not in diagnostic and diagnostic.get("severity") == "error":  # a syntax error
            out.append(Finding(start["line"] + 1, start["character"], "syntax", ""))
            continue
        for category, pattern in PATTERNS.items():
            match = pattern.match(first_line)
            if match:
                out.append(Finding(start["line"] + 1, start["character"], category, match[1]))
                break
    return out


class Checker:
    def __init__(self, cache: Path = CACHE):
        self.cache_path = cache
        self.cache: dict[str, list[list]] = json.loads(cache.read_text()) if cache.exists() else {}

    @staticmethod
    def key(package: str, file: str, text: str) -> str:
        tool = f"ts-api {TYPESCRIPT_VERSION}" if file.endswith(".ts") else PYRIGHT_VERSION
        tool += " syntax"  # the findings hold syntax errors too
        digest = hashlib.sha256(f"{tool}\0{package}\0{file}\0".encode())
        digest.update(text.encode("utf-8"))
        return digest.hexdigest()

    def findings(self, package: str, file: str, text: str) -> list[Finding]:
        """pyright's findings on a file of `package` whose text is `text` (run when not cached;
        `prepare` runs many at once)."""
        self.prepare([(package, file, text)])
        return [Finding(*row) for row in self.cache[self.key(package, file, text)]]

    def prepare(self, items: list[tuple[str, str, str]]) -> None:
        """Runs pyright once per package on every (package, file, text) not yet cached."""
        pending: dict[str, dict[str, tuple[str, str]]] = {}
        for package, file, text in items:
            key = self.key(package, file, text)
            if key not in self.cache:
                pending.setdefault(package, {})[key] = (file, text)
        for package, files in pending.items():
            if BY_NAME[package].language == "typescript":
                self._run_typescript(package, files)
            else:
                self._run(package, files)
        if pending:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            self.cache_path.write_text(json.dumps(self.cache))

    def _run(self, package: str, files: dict[str, tuple[str, str]]) -> None:
        root = unpacked(BY_NAME[package], "check")
        (root / "pyrightconfig.json").write_text(json.dumps(PYRIGHT_CONFIG))
        written: dict[Path, str] = {}
        for key, (file, text) in files.items():
            path = (root / file).parent / f"_gtcheck_{key[:16]}.py"
            path.write_text(text, encoding="utf-8")
            written[path.resolve()] = key
        try:
            result = subprocess.run(
                [str(pyright()), "--outputjson", "--pythonpath", sys.executable,
                 *(str(p) for p in written)],
                cwd=root, capture_output=True, text=True, check=False,
            )  # fmt: skip
            try:
                report = json.loads(result.stdout)
            except json.JSONDecodeError as error:
                raise RuntimeError(f"pyright gave no report: {result.stderr[-2000:]}") from error
            by_file: dict[str, list[dict]] = {key: [] for key in written.values()}
            for diagnostic in report.get("generalDiagnostics", []):
                key = written.get(Path(diagnostic["file"]).resolve())
                if key is not None:
                    by_file[key].append(diagnostic)
            for key, diagnostics in by_file.items():
                self.cache[key] = [
                    [f.line, f.column, f.category, f.name] for f in _findings(diagnostics)
                ]
        finally:
            for path in written:
                path.unlink(missing_ok=True)

    def _run_typescript(self, package: str, files: dict[str, tuple[str, str]]) -> None:
        """The semantic diagnostics of the completed files (ts_check.js), with the package's own
        tsconfig."""
        root = unpacked(BY_NAME[package], "check")
        written: dict[str, str] = {}  # path relative to root -> key
        for key, (file, text) in files.items():
            path = (root / file).parent / f"_gtcheck_{key[:16]}.ts"
            path.write_text(text, encoding="utf-8")
            written[path.relative_to(root).as_posix()] = key
        try:
            typescript = npm_tool("typescript", TYPESCRIPT_VERSION, "tsc").parent.parent
            result = subprocess.run(
                ["node", str(HERE / "ts_check.js"), str(typescript / "typescript"), str(root),
                 str(root / "tsconfig.json"), *sorted(written)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                raise RuntimeError(f"ts_check.js failed: {result.stderr[-2000:]}")
            found: dict[str, list[list]] = {key: [] for key in written.values()}
            for row in map(json.loads, result.stdout.splitlines()):
                if row["syntax"]:
                    found[written[row["file"]]].append([row["line"], row["column"], "syntax", ""])
                    continue
                category = TSC_CODES.get(row["code"])
                names = re.findall(r"'([^']*)'", row["message"])
                if category and names:
                    name = names[-1] if category == "import" else names[0]
                    found[written[row["file"]]].append([row["line"], row["column"], category, name])
            self.cache.update(found)
        finally:
            for rel in written:
                (root / rel).unlink(missing_ok=True)


def on_lines(findings: list[Finding], line: int, column: int, last_line: int) -> list[Finding]:
    """Findings on lines line..last_line, from `column` on the first."""
    return [
        f for f in findings if line <= f.line <= last_line and (f.line > line or f.column >= column)
    ]


def invented(
    completed: list[Finding], original: list[Finding], line: int, column: int, last_line: int
) -> tuple[list[str], list[str]]:
    """(invented names, invented keywords) on the completed lines that the original line does not
    also show (pyright's own false reports on the original are not the completion's)."""
    known = {(f.category, f.name) for f in original if f.line == line}
    new = [
        f for f in on_lines(completed, line, column, last_line) if (f.category, f.name) not in known
    ]
    names = sorted({f.name for f in new if f.category in INVENTING})
    keywords = sorted({f.name for f in new if f.category == "keyword"})
    return names, keywords


def broken(completed: list[Finding], original: list[Finding], line: int, last_line: int) -> bool:
    """Whether the completed lines have a syntax error the original line does not. Inventions on
    such a line can go unseen: pyright, for one, judges no name in an expression it cannot parse
    (`x.invented(1) +`)."""
    if any(f.category == "syntax" and f.line == line for f in original):
        return False
    return any(f.category == "syntax" and line <= f.line <= last_line for f in completed)


def main() -> int:
    from .cases import load_all_cases

    cases = load_all_cases()
    checker = Checker()
    originals = {}
    renamed = {}
    for case in cases:
        root = unpacked(BY_NAME[case.package], "check")
        text = (root / case.file).read_text(encoding="utf-8")
        lines = text.split("\n")
        originals[case.id] = text
        line = lines[case.line - 1]
        # the masked identifier renamed to one the package cannot have
        lines[case.line - 1] = line[: case.column] + "zq" + line[case.column :]
        renamed[case.id] = "\n".join(lines)
    checker.prepare(
        [(c.package, c.file, originals[c.id]) for c in cases]
        + [(c.package, c.file, renamed[c.id]) for c in cases]
    )
    strict: dict[str, int] = {"python": 0, "typescript": 0}
    power: dict[str, int] = {"python": 0, "typescript": 0}
    total: dict[str, int] = {"python": 0, "typescript": 0}
    for case in cases:
        language = BY_NAME[case.package].language
        total[language] += 1
        original = checker.findings(case.package, case.file, originals[case.id])
        flagged = [f for f in on_lines(original, case.line, case.column, case.line)
                   if f.category in INVENTING]  # fmt: skip
        if flagged:
            strict[language] += 1
            print(f"original flagged: {case.id} {[(f.category, f.name) for f in flagged]}")
        changed = checker.findings(case.package, case.file, renamed[case.id])
        names, _ = invented(changed, original, case.line, case.column, case.line)
        if f"zq{case.name}" in names:
            power[language] += 1
        else:
            print(f"renamed not flagged: {case.id} ({case.kind})")
    tools = {
        "python": f"pyright {PYRIGHT_VERSION}",
        "typescript": f"typescript {TYPESCRIPT_VERSION}",
    }
    for language, n in total.items():
        if n:
            print(f"{language} ({tools[language]}), {n} cases: the original line flagged in "
                  f"{strict[language]} with no subtraction (0 with the scoring rule, by "
                  f"construction); the masked identifier renamed (zq + name) flagged in "
                  f"{power[language]} ({power[language] / n:.1%})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

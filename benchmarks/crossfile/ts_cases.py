"""Draws the TypeScript cases (`python -m benchmarks.crossfile.ts_cases` rewrites cases-ts.jsonl).

The sites come from `ts_sites.js`, which asks the TypeScript compiler (pinned, from npm) where each
called name and each `x.name` is declared; a site is one declared in another file of the package's
folder. The rest of the rule is the Python cases' (cases.py): a line whose statement starts and ends
on it, no comment on it, its leftmost site, the mask from the identifier to the end of the line, and
the same seeded round-robin draw over the kinds with at most 3 cases a file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .cases import Case, draw_all
from .checker import TYPESCRIPT_VERSION, npm_tool
from .packages import Package

HERE = Path(__file__).resolve().parent
CASES_TS = HERE / "cases-ts.jsonl"
PER_PACKAGE = 36


def typescript() -> Path:
    """The pinned `typescript` package folder (its tsc and its compiler API)."""
    return npm_tool("typescript", TYPESCRIPT_VERSION).parent.parent / "typescript"


def candidates(package: Package, root: Path) -> list[Case]:
    (folder,) = package.folders
    result = subprocess.run(
        ["node", str(HERE / "ts_sites.js"), str(typescript()), str(root),
         str(root / "tsconfig.json"), folder],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    leftmost: dict[tuple[str, int], dict] = {}
    for row in map(json.loads, result.stdout.splitlines()):
        key = (row["file"], row["line"])
        if key not in leftmost or row["column"] < leftmost[key]["column"]:
            leftmost[key] = row
    out = []
    texts: dict[str, list[str]] = {}
    for (file, number), row in sorted(leftmost.items()):
        lines = texts.setdefault(file, (root / file).read_text(encoding="utf-8").split("\n"))
        text = lines[number - 1]
        expected = text[row["column"] :].rstrip()
        if "//" in text or "/*" in text or not expected.startswith(row["name"]):
            continue
        out.append(
            Case(
                id=f"{package.name}:{file}:{number}",
                package=package.name,
                version=package.version,
                file=file,
                line=number,
                column=row["column"],
                expected=expected,
                defining_file=row["defining_file"],
                kind=row["kind"],
                name=row["name"],
            )
        )
    return out


if __name__ == "__main__":
    raise SystemExit(draw_all("typescript", candidates, PER_PACKAGE, CASES_TS))

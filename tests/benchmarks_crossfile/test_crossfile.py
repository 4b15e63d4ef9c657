"""The cross-file benchmark's own parts, without a model or pyright: the case rule on a small
package written here, the masked document, the invented-name rule and the settings columns."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from benchmarks.crossfile.cases import Case, candidates, draw
from benchmarks.crossfile.checker import Finding, broken, invented
from benchmarks.crossfile.packages import Package
from benchmarks.crossfile.run import columns, masked, parse_assignment

DEMO = Package("demo", "0", "", "", ("pkg",))

FILES = {
    "pkg/__init__.py": "from .models import Store\n",
    "pkg/models.py": """
        class Ledger:
            def balance_of(self, account):
                return 0

        class Store(Ledger):
            destination_zip: str = ""

            def post_entry(self, amount):
                self.total = amount
        """,
    "pkg/util.py": """
        def helper(x):
            return x
        """,
    "pkg/app.py": """
        from . import util
        from .models import Store
        from pkg.util import helper


        def pay(store: Store, amount):
            store.post_entry(amount)
            code = store.destination_zip
            made = Store()
            made.balance_of("a")
            value = util.helper(amount)  # a comment: not eligible
            return helper(
                value
            )


        class Shop(Store):
            def run(self):
                return self.balance_of("b")
        """,
}


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return tmp_path


def test_sites_across_files_by_kind(demo: Path) -> None:
    found = {(c.line, c.kind, c.name, c.defining_file) for c in candidates(DEMO, demo)}
    assert found == {
        (7, "method", "post_entry", "pkg/models.py"),
        (8, "attribute", "destination_zip", "pkg/models.py"),
        (9, "constructor", "Store", "pkg/models.py"),
        (10, "method", "balance_of", "pkg/models.py"),
        (19, "inherited", "balance_of", "pkg/models.py"),
    }  # line 11 has a comment, line 12 (helper) opens a statement of three lines


def test_mask_starts_at_the_identifier(demo: Path) -> None:
    case = next(c for c in candidates(DEMO, demo) if c.line == 7)
    assert (case.column, case.expected) == (10, "post_entry(amount)")
    document, cursor = masked((demo / case.file).read_text(), case)
    lines = document.split("\n")
    assert lines[6] == "    store."  # the line is cut at the mask, the rest of the file stays
    assert lines[7] == "    code = store.destination_zip"
    assert document[:cursor].endswith("store.")


def test_draw_is_seeded_and_caps_files(demo: Path) -> None:
    pool = candidates(DEMO, demo)
    first = draw(DEMO, pool, seed=1, quota=4)
    assert first == draw(DEMO, pool, seed=1, quota=4)
    assert len(first) == 3  # at most three cases from one file


def test_invented_names_are_those_the_original_line_lacks() -> None:
    original = [Finding(5, 4, "attribute", "dynamic")]  # pyright's own report on the real line
    completed = [
        Finding(5, 4, "attribute", "dynamic"),
        Finding(5, 12, "attribute", "pay"),
        Finding(5, 20, "keyword", "fast"),
        Finding(5, 1, "undefined", "before_the_mask"),
        Finding(6, 0, "undefined", "next_line"),
        Finding(7, 0, "undefined", "not_written"),
    ]
    names, keywords = invented(completed, original, line=5, column=8, last_line=6)
    assert names == ["next_line", "pay"]
    assert keywords == ["fast"]


def test_a_syntax_error_the_original_lacks_marks_the_answer() -> None:
    clean = [Finding(4, 0, "attribute", "x")]
    assert broken([Finding(5, 9, "syntax", "")], clean, line=5, last_line=5)
    assert not broken([Finding(6, 0, "syntax", "")], clean, line=5, last_line=5)
    assert not broken([Finding(5, 9, "syntax", "")], [Finding(5, 2, "syntax", "")], 5, 5)


def test_settings_columns() -> None:
    assert parse_assignment("completion.candidates=3") == ("completion", "candidates", 3)
    assert parse_assignment("pauseBackend.kind=off") == ("pauseBackend", "kind", "off")
    got = columns(["context.neighbours=false"], ["feat:completion.candidates=2,a.b=true"])
    assert got["base"] == {"completion": {"deterministic": True}, "context": {"neighbours": False}}
    assert got["feat"]["completion"] == {"deterministic": True, "candidates": 2}
    assert got["feat"]["a"] == {"b": True}
    with pytest.raises(SystemExit):
        columns([], ["no-colon"])


def test_committed_cases_are_well_formed() -> None:
    from benchmarks.crossfile.cases import load_all_cases
    from benchmarks.crossfile.packages import BY_NAME

    cases = load_all_cases()
    languages = [BY_NAME[c.package].language for c in cases]
    assert languages.count("python") >= 120
    assert languages.count("typescript") >= 30
    assert len({c.id for c in cases}) == len(cases)
    for case in cases:
        assert isinstance(case, Case)
        assert case.expected.startswith(case.name)
        assert case.defining_file != case.file


TYPESCRIPT = (
    Path(__file__).parents[2] / "benchmarks/data/crossfile/typescript/node_modules/typescript"
)


@pytest.mark.skipif(not TYPESCRIPT.is_dir(), reason="typescript not installed by the benchmark yet")
def test_typescript_check_sees_names_past_a_syntax_error(tmp_path: Path) -> None:
    """`tsc` reports nothing semantic once a file has a syntax error; ts_check.js still does."""
    import json
    import subprocess

    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"strict": true}}')
    (tmp_path / "store.ts").write_text("export class Store { postEntry(n: number) {} }\n")
    (tmp_path / "app.ts").write_text(
        'import { Store } from "./store";\n'
        "export function pay(store: Store) {\n"
        "  store.pay(1) +;\n"
        "}\n"
    )
    script = Path(__file__).parents[2] / "benchmarks/crossfile/ts_check.js"
    result = subprocess.run(
        ["node", str(script), str(TYPESCRIPT), str(tmp_path), str(tmp_path / "tsconfig.json"),
         "app.ts"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(r["line"], r["column"], r["code"]) for r in rows} >= {(3, 8, "TS2339")}

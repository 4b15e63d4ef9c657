"""A quick probe of the executed in-file kinds: each task's invoked request through an in-process
engine (default settings, the embedded model; the whole completion flow, stop rules, steering and
post-processing included, without the LSP transport), the answer applied with its range and
the project's tests run, as the benchmark scores it.

It compares engine changes in minutes (the tests are cached) where the server runners take half
an hour: run it from a checkout of the variant, with `--out` to tell which tasks a variant won
and lost. The backend's streams are kept on disk by prompt and parameters (`exec_traces.json`)
and replayed: a variant that changes only what happens to a stream (stop rules,
post-processing) runs no model at all, and one that changes prompts runs only those. Every
prompt is evaluated from an empty KV cache, as in the context probe, so the same prompt always
gives the same answer. Its figures are for comparing variants; the benchmark's are the ones to
report."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ghosttype.backends import Usage

from .execution import Executor
from .lsp_runner import Answer, apply, task_on_disk
from .run import Outcome, score
from .tasks import Task


class TraceStore:
    """The backend's streams by model, prompt and parameters: recorded on first use, then
    replayed."""

    def __init__(self, path: Path, model: str):
        self.path = path
        self.model = model
        self.traces: dict[str, list[list[Any]]] = (
            json.loads(path.read_text()) if path.exists() else {}
        )
        self.recorded = 0

    def wrap(self, generate: Callable[..., AsyncIterator[str]]) -> Callable[..., Any]:
        async def record_or_replay(prompt: Any, params: Any, usage: Any) -> AsyncIterator[str]:
            key = f"{self.model}\0{prompt.as_text()}\0{params!r}"
            key = hashlib.sha256(key.encode()).hexdigest()
            if key not in self.traces:
                # The whole stream, however early the engine stops reading: a variant that cuts
                # later replays it too.
                self.recorded += 1
                scratch = Usage()
                self.traces[key] = [
                    [piece, scratch.logprob, scratch.scored_tokens, scratch.generated_tokens]
                    async for piece in generate(prompt, params, scratch)
                ]
            for piece, logprob, scored, generated in self.traces[key]:
                usage.logprob, usage.scored_tokens = logprob, scored
                usage.generated_tokens = generated
                yield piece

        return record_or_replay

    def save(self) -> None:
        self.path.write_text(json.dumps(self.traces))


def exec_probe(tasks: list[Task], root: Path, out: Path | None) -> int:
    chosen = [t for t in tasks if t.executed and t.kind != "xfile"]
    root.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(_probe(chosen, root, out))
    passes, totals = Counter[str](), Counter[str]()
    for task in chosen:
        totals[task.kind] += 1
        passes[task.kind] += results[task.id]["passed"]
    for kind in sorted(totals):
        print(f"{kind}: pass {passes[kind]}/{totals[kind]}")
    if out is not None:
        _write(out, results)
    return 0


def _write(out: Path, results: dict[str, dict[str, Any]]) -> None:
    out.write_text(json.dumps(results, indent=1))


async def _probe(tasks: list[Task], root: Path, out: Path | None) -> dict[str, dict[str, Any]]:
    from ghosttype.backends import embedded
    from ghosttype.config import Settings
    from ghosttype.engine import Engine

    assert callable(getattr(embedded, "_reuse_prefix", None)), "embedded._reuse_prefix moved"
    embedded._reuse_prefix = lambda llm, tokens: llm.reset() or 0  # cold, as documented above
    engine = Engine(Settings(), workspace_root=root)
    error = await engine.wait_ready()
    if error is not None:
        raise SystemExit(f"the embedded model did not load: {error}")
    backend: Any = engine._backend
    model = f"{backend.name}:{backend._path.stat().st_size}"  # the model file, as probes key it
    traces = TraceStore(root.parent / "exec_traces.json", model)
    backend.generate = traces.wrap(backend.generate)
    engine._start_prefetch = lambda *args: None
    executor = Executor()
    results: dict[str, dict[str, Any]] = {}
    for task in tasks:
        with task_on_disk(root, task, cross_file=False) as path:
            document = engine.documents.open(path.as_uri(), task.document, task.language, 1)
            cursor = len(task.prefix)
            reply = await engine.complete(document, cursor, invoked=True)
            engine.documents.close(path.as_uri())  # as didClose does: no task sees another
            engine.forget(path.as_uri())
        item = reply.items[0] if reply.items else None
        text = item.text if item else ""
        span = (cursor, cursor + item.replace_after) if item else None
        result = apply(task.document, cursor, Answer(text, span, 0.0, item is None))
        outcome = score(task, Outcome(task.id, "ghosttype", text, 0, not text, 0.0),
                        result, executor)  # fmt: skip
        results[task.id] = {
            "answer": text,
            "replace_after": item.replace_after if item else 0,
            "passed": bool(outcome.passed),
        }
        print(task.id, "+" if outcome.passed else "-", flush=True)
        traces.save()
        executor.save()
        if out is not None:  # as it goes: a long probe can be read (or followed) while it runs
            _write(out, results)
    await engine.close()
    print(f"{traces.recorded} streams recorded, {executor.runs} test runs")
    return results

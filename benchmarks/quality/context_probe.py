"""A quick probe of the context alone: for each line task, the greedy first line from ghosttype's
invoked prompt (ContextBuilder and the prompt format, called in-process: no server, no steering,
no post-processing) and, in the same process, from the plain FIM prompt. Scored like the benchmark
(the cursor's line, exact and edit similarity).

It compares context changes in a few minutes where the server runners take a quarter of an hour:
run it from a checkout of the variant (or with PYTHONPATH pointing at one). Its figures are for
comparing variants; the benchmark's are the ones to report.

Every prompt is evaluated from an empty KV cache (one prompt, one answer: llama.cpp's numerics
differ slightly with how a prompt was split into batches), so answers are cached by the prompt's
tokens (`probe_cache.json`): a variant costs only the prompts it changes, and plain FIM runs once.
`--out` writes each task's answers, to tell which tasks a variant won and lost."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from .lsp_runner import project_workspace, task_on_disk
from .metrics import edit_similarity, exact_match
from .plain_fim import STOP_TOKENS, PlainFim
from .run import LINE_KINDS, line_at
from .tasks import Task

MAX_TOKENS = 64


class AnswerCache:
    """Greedy first lines by prompt tokens, for one model file, kept on disk between runs."""

    def __init__(self, path: Path, model: Path):
        self.path = path
        self.model = f"{model.name}:{model.stat().st_size}"
        self.answers: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def answer(self, llm: Any, runner: str, prompt: list[int], generate: Callable[[], str]) -> str:
        """`generate`'s answer (the runner's) to `prompt`, generated only once."""
        key = hashlib.sha256(f"{self.model}:{runner}:{prompt}".encode()).hexdigest()
        if key not in self.answers:
            llm.reset()  # evaluated cold: the same prompt always gives the same answer
            self.answers[key] = generate()
        return self.answers[key]

    def save(self) -> None:
        self.path.write_text(json.dumps(self.answers))


def first_line(llm: Any, prompt: list[int]) -> str:
    """The greedy first line with content (a leading newline is skipped, as the benchmark's line
    is the cursor's)."""
    out: list[int] = []
    text = ""
    for token in llm.generate(prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0):
        if token in STOP_TOKENS or token == llm.token_eos():
            break
        out.append(token)
        text = llm.detokenize(out, special=False).decode("utf-8", errors="ignore")
        if len(out) >= MAX_TOKENS or ("\n" in text and text.strip()):
            break
    return text.lstrip("\n").split("\n", 1)[0] if text.strip() else ""


def plain_first_line(fim: PlainFim, task: Task) -> str:
    return fim.complete(task.prefix, task.suffix, first_line_only=True).text


def probe(
    tasks: list[Task], model: Path, workspaces: Path, plain: bool = True, out: Path | None = None
) -> int:
    from ghosttype.config import Settings
    from ghosttype.context import ContextBuilder
    from ghosttype.documents import DocumentStore
    from ghosttype.prompts import FORMATS, build_prompt

    fim = PlainFim(model, threads=2)
    llm = fim.llm
    cache = AnswerCache(workspaces.parent / "probe_cache.json", model)

    def count(text: str) -> int:
        return len(llm.tokenize(text.encode(), add_bos=False, special=False))

    lines = [t for t in tasks if t.kind in LINE_KINDS]
    runners = ["ghosttype", "plain"] if plain else ["ghosttype"]
    scores: dict[str, list[tuple[bool, float]]] = {r: [] for r in runners}
    outcomes: dict[str, dict[str, Any]] = {}
    prompt_tokens = 0
    started = time.monotonic()
    # Cross-file tasks see a copy of their project's files; in-file ones a folder of their own.
    single = workspaces / "in-file"
    shutil.rmtree(single, ignore_errors=True)
    projects = {
        p: project_workspace(p, workspaces / p)
        for p in {t.project for t in lines if t.kind == "xfile"}
    }
    for task in lines:
        cross_file = task.kind == "xfile"
        root = projects[task.project] if cross_file else single
        with task_on_disk(root, task, cross_file) as path:
            store = DocumentStore()
            document = store.open(path.as_uri(), task.document, task.language, 1)
            context = ContextBuilder(store, root).build(
                document,
                len(task.prefix),
                Settings().context,
                count,
                time.monotonic(),
                invoked=True,
            )
        prompt = llm.tokenize(
            build_prompt(FORMATS["qwen2.5-coder"], context).as_text().encode(),
            add_bos=False,
            special=True,
        )
        prompt_tokens += len(prompt)
        answers = {
            "ghosttype": cache.answer(llm, "ghosttype", prompt, partial(first_line, llm, prompt))
        }
        if plain:
            answers["plain"] = cache.answer(
                llm,
                "plain_fim",
                fim.prompt(task.prefix, task.suffix),
                partial(plain_first_line, fim, task),
            )
        expected = line_at(task.original, len(task.prefix))
        marks = []
        outcomes[task.id] = {"prompt_tokens": len(prompt)}
        for runner, answer in answers.items():
            got = line_at(task.prefix + answer + task.suffix, len(task.prefix))
            exact, similarity = exact_match(got, expected), edit_similarity(got, expected)
            scores[runner].append((exact, similarity))
            marks.append(runner if exact else "-")
            outcomes[task.id][runner] = {"answer": answer, "exact": exact, "similarity": similarity}
        print(task.id, *marks, flush=True)
        cache.save()
    n = len(lines)
    for runner, results in scores.items():
        hits = sum(exact for exact, _ in results)
        similarity = 100 * sum(s for _, s in results) / max(1, n)
        print(f"{runner}: exact {hits}/{n}, similarity {similarity:.1f}")
    if out is not None:
        out.write_text(json.dumps(outcomes, indent=1))
    print(f"{prompt_tokens / max(1, n):.0f} ghosttype prompt tokens a task on average, "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip
    return 0

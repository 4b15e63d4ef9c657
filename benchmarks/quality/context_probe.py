"""A quick probe of the context alone: for each line task, the greedy first line from ghosttype's
invoked prompt (ContextBuilder and the prompt format, called in-process: no server, no steering,
no post-processing) and, in the same process, from the plain FIM prompt. Scored like the benchmark
(the cursor's line, exact and edit similarity).

It compares context changes in a few minutes where the server runners take a quarter of an hour:
run it from a checkout of the variant (or with PYTHONPATH pointing at one). Its figures are for
comparing variants; the benchmark's are the ones to report."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from .lsp_runner import project_workspace, task_on_disk
from .metrics import edit_similarity, exact_match
from .plain_fim import STOP_TOKENS, PlainFim
from .run import LINE_KINDS, line_at
from .tasks import Task

MAX_TOKENS = 64


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


def probe(tasks: list[Task], model: Path, workspaces: Path, plain: bool = True) -> int:
    from ghosttype.config import Settings
    from ghosttype.context import ContextBuilder
    from ghosttype.documents import DocumentStore
    from ghosttype.prompts import FORMATS, build_prompt

    fim = PlainFim(model, threads=2)
    llm = fim.llm

    def count(text: str) -> int:
        return len(llm.tokenize(text.encode(), add_bos=False, special=False))

    lines = [t for t in tasks if t.kind in LINE_KINDS]
    runners = ["ghosttype", "plain"] if plain else ["ghosttype"]
    scores: dict[str, list[tuple[bool, float]]] = {r: [] for r in runners}
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
        answers = {"ghosttype": first_line(llm, prompt)}
        if plain:
            answers["plain"] = fim.complete(task.prefix, task.suffix, first_line_only=True).text
        expected = line_at(task.original, len(task.prefix))
        marks = []
        for runner, answer in answers.items():
            got = line_at(task.prefix + answer + task.suffix, len(task.prefix))
            scores[runner].append((exact_match(got, expected), edit_similarity(got, expected)))
            marks.append(runner if scores[runner][-1][0] else "-")
        print(task.id, *marks, flush=True)
    n = len(lines)
    for runner, results in scores.items():
        hits = sum(exact for exact, _ in results)
        similarity = 100 * sum(s for _, s in results) / max(1, n)
        print(f"{runner}: exact {hits}/{n}, similarity {similarity:.1f}")
    print(f"{prompt_tokens / max(1, n):.0f} ghosttype prompt tokens a task on average, "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip
    return 0

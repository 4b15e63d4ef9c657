"""Does the code after the gap tell which answer belongs in it?

For each executed in-file gap, candidates come from two sources: ghosttype's answer (from an
`exec-probe --out` file) and plain FIM's raw greedy answer (generated here), each cut after every
line (at most 8). Each candidate is scored by the model read left to right, as the document would
read with the candidate in place:

    <|fim_prefix|>{prefix window}{candidate}{the first lines of the code after the gap}

and every candidate is executed. The per-token log-probabilities are stored, so selection rules
(the candidate that makes the code after it most likely, the whole region most likely, ...) are
compared afterwards without the model: `analyse` prints each rule's pass count per kind beside
ghosttype's own answer and the best any candidate gets.

    .venv/bin/python -m benchmarks.quality exec-probe --draw second --kinds exec_line --out /tmp/e.json
    .venv/bin/python -m benchmarks.quality.rerank_probe score --draw second --kinds exec_line \
        --answers /tmp/e.json --out /tmp/r.json
    .venv/bin/python -m benchmarks.quality.rerank_probe analyse /tmp/r.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .execution import Executor
from .plain_fim import BUDGET, SUFFIX_MAX_TOKENS, TEMPLATE_TOKENS, PlainFim
from .tasks import Task

MAX_CUTS = 8
HEAD_LINES = 8  # lines of the code after the gap that are scored (non-blank ones count)
HEAD_MAX_TOKENS = 160


def cuts(text: str) -> list[str]:
    """The text cut after each of its first MAX_CUTS lines (blank lines never end a cut)."""
    lines = text.split("\n")
    out = []
    for count in range(1, min(len(lines), MAX_CUTS) + 1):
        cut = "\n".join(lines[:count]).rstrip()
        if cut.strip() and cut not in out:
            out.append(cut)
    return out


def suffix_head(suffix: str) -> str:
    """The code after the gap: the gap line's own end and the next HEAD_LINES non-blank lines."""
    lines = suffix.split("\n")
    kept, seen = [lines[0]], 0
    for line in lines[1:]:
        kept.append(line)
        seen += bool(line.strip())
        if seen >= HEAD_LINES:
            break
    return "\n".join(kept)


class Scorer:
    def __init__(self, plain: PlainFim):
        self.plain = plain
        self.llm = plain.llm

    def logprobs(self, context: list[int], continuation: list[int]) -> list[float]:
        """log P(continuation[i] | context, continuation[:i]) for each i. The context stays in
        the KV cache between calls; logits are computed only where they are read."""
        import numpy as np

        llm = self.llm
        keep = len(context) - 1  # its last token is evaluated again, for its logits
        cached = list(llm.input_ids[: llm.n_tokens])
        if llm.n_tokens < keep or cached[:keep] != context[:keep]:
            llm.reset()
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            for start in range(0, keep, 256):
                self._decode(context[start : min(start + 256, keep)], logits=False)
        llm._ctx.kv_cache_seq_rm(-1, keep, -1)
        llm.n_tokens = keep
        tail = [context[-1], *continuation]
        out: list[float] = []
        for start in range(0, len(tail) - 1, 64):
            batch = tail[start : start + 64]
            self._decode(batch, logits=True)
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(batch), llm.n_vocab()))
            for row in range(len(batch)):
                if start + row + 1 < len(tail):
                    logit = logits[row]
                    top = float(logit.max())
                    total = math.log(float(np.exp(logit - top).sum()))
                    out.append(float(logit[tail[start + row + 1]]) - top - total)
        return out

    def _decode(self, batch: list[int], logits: bool) -> None:
        llm = self.llm
        llm._batch.set_batch(batch=batch, n_past=llm.n_tokens, logits_all=logits)
        llm._ctx.decode(llm._batch)
        llm.input_ids[llm.n_tokens : llm.n_tokens + len(batch)] = batch
        llm.n_tokens += len(batch)

    def score(self, prefix: str, candidate: str, head: str) -> dict[str, Any]:
        plain = self.plain
        window = plain.prefix_window(prefix, BUDGET - TEMPLATE_TOKENS - SUFFIX_MAX_TOKENS)
        context = [*plain._markers["prefix"], *window]
        continuation = plain.tokens(candidate + head)[: HEAD_MAX_TOKENS + 64]
        logprobs = self.logprobs(context, continuation)
        # Byte offset where each token ends, to tell the candidate's tokens from the code after.
        ends, total = [], 0
        for token in continuation:
            total += len(self.llm.detokenize([token], special=False))
            ends.append(total)
        return {"split": len(candidate.encode()), "ends": ends, "logprobs": logprobs}


class Candidates:
    """A task's candidates, each executed and scored once (a second source is noted)."""

    def __init__(self, task: Task, scorer: Scorer, executor: Executor):
        self.task, self.scorer, self.executor = task, scorer, executor
        self.head = suffix_head(task.suffix)
        self.by_text: dict[str, dict[str, Any]] = {}

    def add(self, text: str, source: str, replace_after: int = 0) -> None:
        if text in self.by_text:
            self.by_text[text]["sources"].append(source)
            return
        task = self.task
        after = task.suffix[replace_after:]
        result = task.prefix + text + after
        passed = result == task.original or self.executor.passes(
            task.project, task.path, result, task.tests
        )
        scored = self.scorer.score(task.prefix, text, after[: len(self.head)])
        self.by_text[text] = {"sources": [source], "passed": passed, **scored}

    def listed(self) -> list[dict[str, Any]]:
        return [{"text": text, **c} for text, c in self.by_text.items()]

    def passes(self) -> str:
        return "".join("+" if c["passed"] else "-" for c in self.by_text.values())


def score_tasks(tasks: list[Task], answers_path: Path, model: Path, out: Path) -> None:
    """Follows the answers file while an exec-probe still writes it."""
    done: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    plain = PlainFim(model)
    scorer = Scorer(plain)
    executor = Executor()
    for task in tasks:
        if task.id in done:
            continue
        for _ in range(360):
            answers = json.loads(answers_path.read_text()) if answers_path.exists() else {}
            if task.id in answers:
                break
            time.sleep(10)
        else:
            print(f"no answer for {task.id}: stopping", file=sys.stderr)
            return
        answer = answers[task.id]
        raw = plain.complete(task.prefix, task.suffix, first_line_only=False).text
        pool = Candidates(task, scorer, executor)
        if answer["answer"].strip():
            pool.add(answer["answer"], "ghosttype", answer.get("replace_after", 0))
            if not answer.get("replace_after"):
                for index, cut in enumerate(cuts(answer["answer"])):
                    pool.add(cut, f"ghosttype:{index + 1}")
        for index, cut in enumerate(cuts(raw)):
            pool.add(cut, f"plain:{index + 1}")
        pool.add("", "empty")
        done[task.id] = {
            "kind": task.kind,
            "language": task.language,
            "ghosttype_passed": answer["passed"],
            "candidates": pool.listed(),
        }
        print(task.id, pool.passes(), flush=True)
        out.write_text(json.dumps(done))
        executor.save()


def first_lines(plain: PlainFim, prefix: str, suffix: str, samples: int) -> list[str]:
    """The greedy first line of plain FIM's answer, then `samples` sampled ones (T 0.8, top-k
    40, top-p 0.95, seeds 1..samples), in that order, duplicates kept out."""
    from .plain_fim import STOP_TOKENS

    llm = plain.llm
    prompt = plain.prompt(prefix, suffix)
    lines: list[str] = []
    for seed in range(samples + 1):
        llm.set_seed(seed)
        sampling = (
            {"top_k": 1, "top_p": 1.0, "min_p": 0.0, "temp": 0.0}
            if seed == 0
            else {"top_k": 40, "top_p": 0.95, "min_p": 0.0, "temp": 0.8}
        )
        out: list[int] = []
        text = ""
        for token in llm.generate(prompt, repeat_penalty=1.0, **sampling):
            if token in STOP_TOKENS or token == llm.token_eos() or len(out) >= 64:
                break
            out.append(token)
            text = llm.detokenize(out, special=False).decode("utf-8", errors="ignore")
            if "\n" in text.lstrip("\n"):
                break
        line = text.lstrip("\n").split("\n", 1)[0].rstrip()
        if line.strip() and line not in lines:
            lines.append(line)
    return lines


def sample_tasks(tasks: list[Task], model: Path, out: Path, samples: int) -> None:
    """Greedy and sampled first lines of plain FIM, each scored and executed."""
    done: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    plain = PlainFim(model)
    scorer = Scorer(plain)
    executor = Executor()
    for task in tasks:
        if task.id in done:
            continue
        pool = Candidates(task, scorer, executor)
        for index, line in enumerate(first_lines(plain, task.prefix, task.suffix, samples)):
            pool.add(line, "greedy" if index == 0 else "sample")
        done[task.id] = {"kind": task.kind, "language": task.language, "candidates": pool.listed()}
        print(task.id, pool.passes(), flush=True)
        out.write_text(json.dumps(done))
        executor.save()


# --- analysis ----------------------------------------------------------------------------------


def parts(c: dict[str, Any], head_tokens: int) -> tuple[float, float, int]:
    """The candidate's own log-probability, that of the first `head_tokens` tokens after it, and
    how many candidate tokens there are."""
    own = after = 0.0
    count = seen = 0
    for end, logprob in zip(c["ends"], c["logprobs"], strict=False):
        if end <= c["split"]:
            own += logprob
            count += 1
        elif seen < head_tokens:
            after += logprob
            seen += 1
    return own, after, count


Rule = Callable[[list[dict[str, Any]]], dict[str, Any] | None]


def rules(head_tokens: int) -> dict[str, Rule]:
    def best(key: Callable[[dict[str, Any]], float], pool: str) -> Rule:
        def pick(cands: list[dict[str, Any]]) -> dict[str, Any] | None:
            chosen = [
                c for c in cands if c["text"] and any(s.startswith(pool) for s in c["sources"])
            ]
            return max(chosen, key=key) if chosen else None

        return pick

    def suffix_only(c: dict[str, Any]) -> float:
        return parts(c, head_tokens)[1]

    def joint(c: dict[str, Any]) -> float:
        own, after, _ = parts(c, head_tokens)
        return own + after

    out: dict[str, Rule] = {}
    for pool in ("ghosttype", "greedy", ""):
        name = pool or "all"
        out[f"{name}: code after most likely"] = best(suffix_only, pool)
        out[f"{name}: region most likely"] = best(joint, pool)
    return out


def analyse(path: Path) -> None:
    data: dict[str, Any] = json.loads(path.read_text())
    kinds = sorted({d["kind"] for d in data.values()})
    for head_tokens in (16, 32, 64, 128):
        print(f"\n## code after: {head_tokens} tokens")
        for kind in kinds:
            tasks = [d for d in data.values() if d["kind"] == kind]
            ghosttype = sum(d.get("ghosttype_passed", False) for d in tasks)
            line = [f"{kind} ({len(tasks)}): ghosttype {ghosttype}"]
            for source in ("plain:1", "greedy"):
                count = sum(
                    any(c["passed"] and source in c["sources"] for c in d["candidates"])
                    for d in tasks
                )
                line.append(f"{source} {count}")
            oracle = sum(any(c["passed"] for c in d["candidates"] if c["text"]) for d in tasks)
            line.append(f"any {oracle}")
            for name, rule in rules(head_tokens).items():
                won = sum(bool((c := rule(d["candidates"])) and c["passed"]) for d in tasks)
                line.append(f"{name} {won}")
            print(" | ".join(line))


def main(argv: list[str] | None = None) -> int:
    from . import __main__ as cli
    from .run import model_path

    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality.rerank_probe")
    sub = parser.add_subparsers(dest="command", required=True)
    sc = sub.add_parser("score")
    sc.add_argument("--draw", choices=("first", "second"), default="first")
    sc.add_argument("--kinds", nargs="*")
    sc.add_argument("--limit", type=int)
    sc.add_argument("--answers", type=Path, required=True)
    sc.add_argument("--out", type=Path, required=True)
    sa = sub.add_parser("sample")
    for option in ("--draw", "--kinds", "--limit", "--out"):
        sa._add_action(next(a for a in sc._actions if option in a.option_strings))
    sa.add_argument("--samples", type=int, default=8)
    an = sub.add_parser("analyse")
    an.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "analyse":
        analyse(args.path)
        return 0
    tasks = cli.get_tasks(cli.DEFAULT_SEED, draw=args.draw)
    tasks = cli.select(tasks, args.kinds, None, args.limit)
    if args.command == "sample":
        sample_tasks(tasks, model_path(None), args.out, args.samples)
        return 0
    score_tasks(tasks, args.answers, model_path(None), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

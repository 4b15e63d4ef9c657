"""Drafting in the embedded backend: how many drafted tokens the model accepts, and how fast
greedy completions are generated with drafting off and on (the text must be the same).

Two sources of drafts: prompt lookup (the default here: the model drafts from its own context),
and with --hint the cascade's 0.5B for the 1.5B: the 0.5B answers each prompt first (as it does
while the person types), and the 1.5B generates with and without that answer as its draft
(GenerationParams.draft; prompt lookup off, as by default). --pad N evaluates every generated
token in a batch of N in both runs, where the outputs must be the same token for token; unpadded,
llama.cpp's logits move a little with a batch's size and a near-tie can part them.

Prompts are built from real code (Python standard library modules, a sibling module as the
neighbour file for some) with ghosttype's own prompt builder: the cursor at the start of a line
in a function body, that line (single-line) or up to five lines (multi-line) removed, as if the
person were writing them. Single-line completions stop at the end of their first line, as the
engine stops them; multi-line ones run to max_tokens or the model's end. Each prompt is evaluated
once; then both runs reuse it from the KV cache (the last prompt token evaluated alone, as every
request does), drafting off and on in turn, first off then first on, so both see the same load.
Decode time runs from the end of the prompt's evaluation to the end of the generation.

    .venv/bin/python benchmarks/speculative.py [--quick] [--prompts 30] [--max-tokens 64]
        [--hint] [--pad N]
"""

from __future__ import annotations

import argparse
import ast
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from ghosttype.backends.base import GenerationParams, Usage  # noqa: E402
from ghosttype.backends.embedded import EmbeddedBackend, _common_prefix, _logits  # noqa: E402
from ghosttype.config import PAUSE_MODEL, BackendSettings  # noqa: E402
from ghosttype.context.types import PromptContext, Snippet  # noqa: E402
from ghosttype.prompts import FORMATS, Prompt, build_prompt  # noqa: E402

STDLIB = Path(ast.__file__).parent
# (module, neighbour file or None): what a workspace would have open beside it.
SOURCES = [
    ("json/decoder.py", "json/scanner.py"),
    ("json/encoder.py", "json/decoder.py"),
    ("textwrap.py", None),
    ("shlex.py", None),
    ("csv.py", None),
    ("configparser.py", None),
    ("tokenize.py", "token.py"),
    ("calendar.py", None),
    ("gettext.py", None),
    ("ftplib.py", None),
]
PREFIX_CHARS = 2400
SUFFIX_CHARS = 800
NEIGHBOUR_CHARS = 1200
MULTI_LINE_LINES = 5


@dataclass
class Case:
    name: str
    multiline: bool
    context: PromptContext
    avoid: str


@dataclass
class Run:
    pieces: list[str]
    usage: Usage
    decode_s: float
    tokens: list[int]  # generated, as evaluated


@dataclass
class Totals:
    prompts: int = 0
    identical: int = 0
    tokens: int = 0
    drafted: int = 0
    accepted: int = 0
    off_s: float = 0.0
    on_s: float = 0.0
    speedups: list[float] = field(default_factory=list)


def body_lines(source: str) -> list[tuple[int, int]]:
    """(first line, last line) of every statement in a function body, docstrings aside
    (1-based, inclusive), with the last line of the function it is in."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and len(node.body) >= 3:
            end = node.end_lineno or node.lineno
            for statement in node.body[1:]:
                if not (
                    isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                ):
                    found.append((statement.lineno, end))
    return found


def make_cases(count: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for index in range(count):
        module, neighbour = SOURCES[index % len(SOURCES)]
        source = (STDLIB / module).read_text()
        lines = source.splitlines(keepends=True)
        taken = {case.name.split()[0] for case in cases}
        places = [place for place in body_lines(source) if f"{module}:{place[0]}" not in taken]
        first, function_end = rng.choice(places)
        multiline = index % 2 == 1
        last = min(first + MULTI_LINE_LINES - 1, function_end) if multiline else first
        indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
        prefix = "".join(lines[: first - 1])[-PREFIX_CHARS:] + indent
        prefix = prefix[prefix.find("\n") + 1 :]  # from a line start
        suffix = "".join(lines[last:])[:SUFFIX_CHARS]
        snippets: tuple[Snippet, ...] = ()
        if neighbour:
            text = (STDLIB / neighbour).read_text()[:NEIGHBOUR_CHARS]
            snippets = (Snippet(neighbour, text),)
        context = PromptContext(module, "python", prefix, suffix, snippets, "cpython")
        # On a blank line the engine asks to avoid repeating the next line (see line_to_avoid).
        avoid = suffix.lstrip("\n").split("\n", 1)[0].strip()
        kind = "multi" if multiline else "single"
        cases.append(Case(f"{module}:{first} {kind}", multiline, context, avoid))
    return cases


def generate(
    backend: EmbeddedBackend,
    prompt: Prompt,
    case: Case,
    max_tokens: int,
    lookup: bool = False,
    hint: str = "",
) -> Run:
    """One generation on this thread (the backend's worker loop, called directly), timed."""
    backend.prompt_lookup = lookup
    prompt_done = [0.0]
    timed_eval = backend._timed_eval

    def eval_timed(llm: object, batch: list[int]) -> None:
        timed_eval(llm, batch)
        prompt_done[0] = time.perf_counter()

    pieces: list[str] = []
    stop = threading.Event()

    def emit(item: object) -> None:
        assert isinstance(item, tuple), item
        pieces.append(item[0])
        text = "".join(pieces)
        if not case.multiline and "\n" in text.lstrip():  # the engine stops a line here
            stop.set()

    usage = Usage()
    params = GenerationParams(max_tokens=max_tokens, avoid_line=case.avoid, draft=hint)
    backend._timed_eval = eval_timed  # type: ignore[method-assign]
    try:
        backend._evaluate_and_sample(backend.tokenize(prompt), params, usage, stop, emit)
    finally:
        del backend._timed_eval
    decode_s = time.perf_counter() - prompt_done[0]
    llm, start = backend._llm, len(backend.tokenize(prompt))
    return Run(pieces, usage, decode_s, [int(t) for t in llm.input_ids[start : llm.n_tokens]])


def loaded(settings: BackendSettings) -> EmbeddedBackend:
    backend = EmbeddedBackend(settings)
    backend._llm = backend._load(lambda message: None)
    backend._tokens_beginning("x")  # index the vocabulary now, not in a timed run
    return backend


def first_difference(backend: EmbeddedBackend, prompt: Prompt, off: Run, on: Run) -> str:
    """Where the outputs part, and the model's two best choices there when every token before is
    evaluated one at a time (as without drafting): llama.cpp's logits depend a little on how
    tokens were batched, which decides near-ties."""
    at = _common_prefix(off.tokens, on.tokens)
    if at == min(len(off.tokens), len(on.tokens)):
        return f"token {at}: one run stopped there"
    llm, start = backend._llm, len(backend.tokenize(prompt))
    llm.n_tokens = start - 1  # as a request does: the prompt's last token again, then one by one
    for token in [int(llm.input_ids[start - 1]), *off.tokens[:at]]:
        llm.eval([token])
    logits = _logits(llm, -1)
    best, second = (int(t) for t in logits.argsort()[::-1][:2])

    def text(token: int) -> str:
        return repr(llm.detokenize([token]).decode("utf-8", "replace"))

    return (
        f"token {at}: off {text(off.tokens[at])}, on {text(on.tokens[at])}; one at a time the "
        f"model's best two are {text(best)} and {text(second)}, "
        f"{float(logits[best] - logits[second]):.3f} apart"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10 prompts (about a minute)")
    parser.add_argument("--prompts", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads; 0: default")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per prompt")
    parser.add_argument("--hint", action="store_true", help="the 1.5B, drafting from the 0.5B")
    parser.add_argument("--pad", type=int, default=0, help="every token in a batch of N")
    args = parser.parse_args()
    count = 10 if args.quick else args.prompts

    settings = BackendSettings(threads=args.threads)
    backend = loaded(replace(settings, model=PAUSE_MODEL) if args.hint else settings)
    backend.pad_batches_to = args.pad
    small = loaded(settings) if args.hint else None
    totals = {"single-line": Totals(), "multi-line": Totals()}
    for index, case in enumerate(make_cases(count, args.seed)):
        prompt = build_prompt(FORMATS["qwen2.5-coder"], case.context)
        hint = ""
        if small is not None:  # the typing model's answer, as the person saw it
            generate(small, prompt, case, 1)
            hint = "".join(generate(small, prompt, case, args.max_tokens).pieces)
            end = hint.find("\n", len(hint) - len(hint.lstrip()))
            if not case.multiline and end >= 0:  # the line the engine showed
                hint = hint[:end]
        generate(backend, prompt, case, 1)  # evaluates the prompt: both runs reuse it
        order = (False, True) if index % 2 == 0 else (True, False)
        runs = {
            drafting: generate(
                backend,
                prompt,
                case,
                args.max_tokens,
                lookup=drafting and not args.hint,
                hint=hint if drafting else "",
            )
            for drafting in order
        }
        off, on = runs[False], runs[True]
        same = off.pieces == on.pieces and off.usage.generated_tokens == on.usage.generated_tokens
        tokens = on.usage.generated_tokens
        total = totals["multi-line" if case.multiline else "single-line"]
        total.prompts += 1
        total.identical += same
        total.tokens += tokens
        total.drafted += on.usage.drafted_tokens
        total.accepted += on.usage.accepted_tokens
        total.off_s += off.decode_s
        total.on_s += on.decode_s
        total.speedups.append(off.decode_s / on.decode_s)
        if args.verbose or not same:
            print(
                f"{case.name:<32} {tokens:>3} tokens, accepted {on.usage.accepted_tokens:>3}/"
                f"{on.usage.drafted_tokens:<3} off {tokens / off.decode_s:5.1f} tok/s, "
                f"on {tokens / on.decode_s:5.1f} tok/s",
                flush=True,
            )
        if not same:
            print(f"  DIFFERENT at {first_difference(backend, prompt, off, on)}", flush=True)

    totals["all"] = Totals(
        prompts=sum(t.prompts for t in totals.values()),
        identical=sum(t.identical for t in totals.values()),
        tokens=sum(t.tokens for t in totals.values()),
        drafted=sum(t.drafted for t in totals.values()),
        accepted=sum(t.accepted for t in totals.values()),
        off_s=sum(t.off_s for t in totals.values()),
        on_s=sum(t.on_s for t in totals.values()),
        speedups=[s for t in totals.values() for s in t.speedups],
    )
    source = "the 1.5B drafting from the 0.5B's answer" if args.hint else "prompt lookup"
    padded = f", every token in a batch of {args.pad}" if args.pad else ""
    print(f"\n{count} prompts, max_tokens {args.max_tokens}, greedy, {source}{padded}")
    print("| completions | prompts | tokens | accepted/drafted | off tok/s | on tok/s | speed-up (median) | identical |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, t in totals.items():
        rate = t.accepted / t.drafted if t.drafted else 0.0
        print(
            f"| {name} | {t.prompts} | {t.tokens} | {t.accepted}/{t.drafted} ({rate:.0%}) | "
            f"{t.tokens / t.off_s:.1f} | {t.tokens / t.on_s:.1f} | "
            f"{t.off_s / t.on_s:.2f}x ({statistics.median(t.speedups):.2f}x) | "
            f"{t.identical}/{t.prompts} |"
        )
    all_same = totals["all"].identical == totals["all"].prompts
    print("every output identical" if all_same else "OUTPUTS DIFFER")
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())

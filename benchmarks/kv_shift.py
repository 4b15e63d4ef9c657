"""Moving the suffix window's cached tokens instead of re-evaluating them (issue 3): what it saves
and what it changes, on the embedded model, in one run.

Two embedded backends load the packaged model: `shift` moves the cached suffix window when the
person types in front of it (the default for typing), `exact` keeps only the longest common prefix
(what invoked requests use, and the exact reference). Both replay the same typing: at sites in real
files nobody here wrote (CPython's json/decoder.py, textwrap.py, httpx's _urls.py), a line inside
a function is removed and typed back, a model call every few characters (a pause), with the
prompt windows ghosttype builds (1,024-token budget, 64-token suffix window, stable anchor).
Each call asks for the rest of the line (at most 24 tokens).

Reported: prompt tokens evaluated per call, time to the first token and to the end of the line
(p50), and how often the two agree on the line (the shift is an approximation: the moved tokens'
keys were computed with the old text in front of them).

    .venv/bin/python benchmarks/kv_shift.py [--sites N] [--every N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.backends.embedded import EmbeddedBackend
from ghosttype.config import BackendSettings
from ghosttype.context import SUFFIX_MAX_TOKENS, TEMPLATE_TOKENS
from ghosttype.context.types import PromptContext
from ghosttype.context.windows import windows
from ghosttype.prompts import build_prompt

BUDGET = 1024


def sources() -> list[Path]:
    import textwrap

    import httpx

    return [
        Path(json.__file__).parent / "decoder.py",
        Path(textwrap.__file__),
        Path(httpx.__file__).parent / "_urls.py",
    ]


def sites(text: str, count: int) -> list[int]:
    """Line starts of indented statements worth typing (12+ characters), spread over the file."""
    lines = text.splitlines(keepends=True)
    starts, offset = [], 0
    for line in lines:
        stripped = line.strip()
        if line.startswith("        ") and len(stripped) >= 12 and not stripped.startswith(("#", '"')):
            starts.append(offset)
        offset += len(line)
    step = max(1, len(starts) // count)
    return starts[step // 2 :: step][:count]


@dataclass
class Calls:
    evaluated: list[int] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    line_ms: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


async def complete(backend: EmbeddedBackend, context: PromptContext, shift: bool, calls: Calls) -> None:
    prompt = build_prompt(backend.prompt_format, context)
    usage = Usage()
    params = GenerationParams(max_tokens=24, reuse_shifted=shift)
    started = time.perf_counter()
    first = None
    text = ""
    stream = backend.generate(prompt, params, usage)
    try:
        async for piece in stream:
            first = first or time.perf_counter()
            text += piece
            if "\n" in text:
                break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    done = time.perf_counter()
    calls.evaluated.append(usage.evaluated_tokens)
    calls.first_ms.append(((first or done) - started) * 1000)
    calls.line_ms.append((done - started) * 1000)
    calls.lines.append(text.split("\n", 1)[0])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=4, help="sites per file")
    parser.add_argument("--every", type=int, default=4, help="characters typed between calls")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    backends = {}
    for name in ("shift", "exact"):
        backends[name] = EmbeddedBackend(BackendSettings())
        await backends[name].start(lambda message: None)
    count = backends["shift"].count_tokens
    results = {name: Calls() for name in backends}
    suffix_budget = SUFFIX_MAX_TOKENS
    prefix_budget = BUDGET - TEMPLATE_TOKENS - suffix_budget
    for path in sources():
        original = path.read_text()
        for start in sites(original, args.sites):
            end = original.index("\n", start)
            line = original[start:end]
            indent = len(line) - len(line.lstrip())
            anchor = None
            for typed in range(indent, len(line), args.every):
                text = original[: start + typed] + original[end:]
                offset = start + typed
                found = windows(text, offset, prefix_budget, suffix_budget, count, anchor, 0.7)
                anchor = found.anchor
                context = PromptContext(path.name, "python", found.prefix, found.suffix)
                for name, backend in backends.items():
                    await complete(backend, context, name == "shift", results[name])
    shift, exact = results["shift"], results["exact"]
    same = sum(a == b for a, b in zip(shift.lines, exact.lines))
    calls = len(shift.lines)
    print(f"{calls} model calls at {sum(args.sites for _ in sources())} sites, every "
          f"{args.every} characters; load average at end: {os.getloadavg()}")  # fmt: skip
    for name, r in results.items():
        # The first call at each site is cold for both; the typing calls are the rest.
        print(
            f"{name:5s}: evaluated tokens per call p50 {statistics.median(r.evaluated):5.0f} "
            f"(mean {statistics.mean(r.evaluated):5.1f}); first token p50 "
            f"{statistics.median(r.first_ms):5.0f} ms; end of line p50 "
            f"{statistics.median(r.line_ms):5.0f} ms"
        )
    print(f"same line from both: {same} of {calls} ({100 * same / calls:.1f}%)")
    for a, b in zip(shift.lines, exact.lines):
        if a != b:
            print(f"  shift {a!r}\n  exact {b!r}")


if __name__ == "__main__":
    asyncio.run(main())

"""Post-processing cost per completion, by the size of the document after the cursor.

The suffix the clean-up sees is the rest of the document (up to the server's 8,000,000-character
limit), so a rule that splits or copies it costs time in proportion to the file, on every
completion. This times what a multi-line completion gets (the shift under a block opener, then
`polish`) and the stop rule that reads the suffix (`block_repeat`), with the cursor near the top of a 5,000-line
file and of a file at the size limit; the two should cost about the same.

Run: PYTHONPATH=server .venv/bin/python benchmarks/postprocess_cost.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from ghosttype.postprocess import CursorLine, block_repeat
from ghosttype.postprocess.syntax import indent_under_opener, polish

PREFIX = "class Store:\n    def load(self, path):\n        if path:\n"
LINE_BEFORE = "        "
COMPLETION = "            data = open(path).read()\n            self.cache[path] = data\n            return data"
BODY = "    def save_{n}(self, key, value):\n        self.items[key] = value  # {n}\n\n"


def suffix_of(chars: int) -> str:
    text, n = ["\n        return None\n\n"], 0
    size = len(text[0])
    while size < chars:
        text.append(BODY.format(n=n))
        size += len(text[-1])
        n += 1
    return "".join(text)[:chars]


def p50_ms(work: Callable[[], object], runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    cursor = CursorLine(LINE_BEFORE, "")
    figures = {}
    for name, chars in (("5,000-line file", 5000 * 30), ("8,000,000-character file", 8_000_000)):
        suffix = suffix_of(chars)

        def clean_up(suffix: str = suffix) -> str:
            text = indent_under_opener(COMPLETION, LINE_BEFORE, PREFIX, suffix)
            return polish(text, LINE_BEFORE, PREFIX, suffix)

        def stop_rule(suffix: str = suffix) -> object:
            return block_repeat(cursor, suffix)(COMPLETION)

        figures[name] = (p50_ms(clean_up), p50_ms(stop_rule))
        print(f"{name:>26}: clean-up p50 {figures[name][0]:.3f} ms, "
              f"block-repeat rule p50 {figures[name][1]:.3f} ms")  # fmt: skip
    small, large = figures.values()
    print(f"clean-up at the size limit / at 5,000 lines: {large[0] / small[0]:.1f}x")


if __name__ == "__main__":
    main()

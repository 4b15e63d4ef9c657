"""Post-processing cost per completion, by the size of the document after the cursor.

The document after the cursor runs up to the server's 8,000,000-character limit; post-processing
reads a bounded view of it (`Surroundings`, which the exact cache keys on), so a completion near
the top of a huge file must cost what it costs in a small one. This times what a multi-line
completion gets: taking the view, the stop rules on the whole text, and the clean-up pipeline,
with the cursor near the top of a 5,000-line file and of a file at the size limit.

Run: PYTHONPATH=server .venv/bin/python benchmarks/postprocess_cost.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from ghosttype.config import CompletionSettings
from ghosttype.documents import Document
from ghosttype.postprocess import first_cut
from ghosttype.postprocess.pipeline import Surroundings, clean_up, stop_rules
from ghosttype.prompts import FORMATS

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
    settings = CompletionSettings()
    fmt = FORMATS["qwen2.5-coder"]
    figures = {}
    offset = len(PREFIX + LINE_BEFORE)
    for name, chars in (("5,000-line file", 5000 * 30), ("8,000,000-character file", 8_000_000)):
        document = Document("file:///bench.py", PREFIX + LINE_BEFORE + suffix_of(chars))

        def whole(document: Document = document) -> object:
            at = Surroundings.of(document, offset, PREFIX + LINE_BEFORE, multiline=True)
            first_cut(stop_rules(at, fmt, settings), COMPLETION)
            return clean_up(COMPLETION, at, False, settings)

        def view(document: Document = document) -> object:
            return Surroundings.of(document, offset, PREFIX + LINE_BEFORE, multiline=True)

        figures[name] = (p50_ms(whole), p50_ms(view))
        print(f"{name:>26}: view, stop rules and clean-up p50 {figures[name][0]:.3f} ms "
              f"(the view alone {figures[name][1]:.3f} ms)")  # fmt: skip
    small, large = figures.values()
    print(f"clean-up at the size limit / at 5,000 lines: {large[0] / small[0]:.1f}x")


if __name__ == "__main__":
    main()

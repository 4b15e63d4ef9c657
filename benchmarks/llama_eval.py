"""The llama.cpp figures behind the embedded backend's defaults: prompt evaluation speed by batch
size and decoding speed, with 1 and 2 threads, on the packaged model.

    .venv/bin/python benchmarks/llama_eval.py

Run it on a quiet machine and again under load: the thread count that wins differs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from llama_cpp import Llama

from ghosttype.backends.model_store import ensure_model

TEXT = (Path(json.__file__).parent / "decoder.py").read_text()


def main() -> None:
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for threads in (1, 2):
        llm = Llama(model_path=str(ensure_model()), n_ctx=2048, n_batch=256, n_threads=threads, verbose=False)
        tokens = llm.tokenize(TEXT.encode(), add_bos=False)[:512]
        for batch in (16, 32, 64, 256):
            llm.reset()
            started = time.perf_counter()
            for start in range(0, len(tokens), batch):
                llm.eval(tokens[start : start + batch])
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            for token in tokens[:10]:
                llm.eval([token])
            decode = (time.perf_counter() - started) / 10
            print(
                f"threads={threads} batch={batch:3d}: {len(tokens) / elapsed:5.0f} prompt tokens/s "
                f"({elapsed / (len(tokens) / batch) * 1000:4.0f} ms a batch), "
                f"decode {decode * 1000:3.0f} ms/token, load {os.getloadavg()[0]:.1f}"
            )
        del llm


if __name__ == "__main__":
    main()

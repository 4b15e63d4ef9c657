"""A model served over HTTP for the benchmarks: llama-cpp-python's OpenAI-compatible server on
127.0.0.1 with one of the packaged models, as a team's own server (vLLM, llama.cpp) would be."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from ghosttype.backends.model_store import ensure_model

READY_TIMEOUT_S = 120


@contextlib.contextmanager
def served_model(name: str, threads: int = 0) -> Iterator[str]:
    """The server's URL while it runs `name` (a packaged model), with `threads` llama.cpp
    threads (0: every core; it is the only model work while a benchmark runs)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = ensure_model(name)
    log_path = Path(tempfile.gettempdir()) / f"ghosttype-bench-server-{port}.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]
    command += ["--n_threads", str(threads or os.cpu_count() or 1), "--verbose", "False"]
    url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"the model server did not start; see {log_path}")
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(url + "/v1/models", timeout=2):
                        break
                time.sleep(0.25)
            yield url
        finally:
            process.terminate()
            process.wait(10)

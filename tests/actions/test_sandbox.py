"""The sandbox, for real (bubblewrap is installed by scripts/system-deps.sh's test packages):
no network, the time limit, the memory limit, the copy of the workspace. Each containment test
also runs the same command without it and sees it get through: the test fails without the
sandbox."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from ghosttype.actions import sandbox
from ghosttype.actions.errors import ActionError

FOUND = sandbox.available_sandbox()
needs_sandbox = pytest.mark.skipif(
    FOUND is None, reason=f"no sandbox works here: {sandbox.INSTALL}"
)
LIMITS = sandbox.Limits(timeout_s=20, memory_mb=512)


def test_a_sandbox_works_on_this_machine():
    # CI installs bubblewrap (scripts/system-deps.sh); a machine without user namespaces fails
    # here rather than skipping every containment test silently.
    assert FOUND in ("bubblewrap", "unshare")


async def run(root: Path, kind: str, code: str, limits: sandbox.Limits = LIMITS):
    async with sandbox.workspace_copy(root, {}) as copy:
        return await sandbox.run(kind, [sys.executable, "-c", code], root, copy, limits, {})


@pytest.fixture
def listener():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                connection.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join()
    server.close()


CONNECT = (
    "import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); print('connected')"
)


WORKING = [kind for kind in sandbox.PROBES if sandbox.works(kind)]


@pytest.mark.parametrize("kind", WORKING)
async def test_no_network_in_the_sandbox(tmp_path, listener, kind):
    inside = await run(tmp_path, kind, CONNECT.format(port=listener))
    outside = await run(tmp_path, "none", CONNECT.format(port=listener))
    assert "connected" in outside.output and outside.passed
    assert "connected" not in inside.output and not inside.passed
    assert inside.sandbox == kind


@pytest.mark.parametrize("kind", [FOUND or "none", "none"])
async def test_the_time_limit_kills_a_hanging_run(tmp_path, kind):
    started = time.monotonic()
    result = await run(tmp_path, kind, "import time; time.sleep(60)", sandbox.Limits(1, 512))
    assert result.timed_out and result.exit_code is None
    assert "killed after the time limit of 1 s" in result.output
    assert time.monotonic() - started < 15


HOG = "x = bytearray(768 * 1024 * 1024); print('allocated', len(x))"


@pytest.mark.parametrize("kind", [FOUND or "none", "none"])
async def test_the_memory_limit_stops_a_hog(tmp_path, kind):
    limited = await run(tmp_path, kind, HOG, sandbox.Limits(120, 256))
    assert "allocated" not in limited.output and not limited.passed
    assert "MemoryError" in limited.output
    roomy = await run(tmp_path, kind, HOG, sandbox.Limits(120, 2048))
    assert "allocated" in roomy.output and roomy.passed, roomy.output[-500:]


@needs_sandbox
async def test_the_run_sees_a_copy_and_never_writes_the_workspace(tmp_path):
    (tmp_path / "data.txt").write_text("original")
    code = (
        "import pathlib; p = pathlib.Path('data.txt'); print('read', p.read_text()); "
        "p.write_text('changed')"
    )
    result = await run(tmp_path, FOUND, code)
    assert "read original" in result.output and result.passed
    assert (tmp_path / "data.txt").read_text() == "original"


def test_no_sandbox_refuses_with_the_install_command_unless_allowed():
    with pytest.raises(ActionError, match="sudo apt-get install -y bubblewrap"):
        sandbox.choose_sandbox(False, found="")
    assert sandbox.choose_sandbox(True, found="") == "none"
    assert sandbox.choose_sandbox(False, found="bubblewrap") == "bubblewrap"

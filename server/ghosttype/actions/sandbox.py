"""Running a workspace's tests, contained: on a temporary copy of the workspace, with no network,
a time limit and a memory limit, in a sandbox.

Sandboxes, best first: bubblewrap (`bwrap`: a read-only view of the system, the copy mounted at
the workspace's own path, no network, its own process tree), then `unshare` (a user and network
namespace of its own: no network, the rest of the system as it is). Where neither works, tests
are run only when the person's user settings allow it (`actions.allowUnsandboxed`); otherwise
the action refuses, naming what to install. The memory limit is RLIMIT_DATA (prlimit), which
counts what a process allocates but not the address space runtimes reserve (Node, Go); the time
limit kills the whole process tree."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ActionError

INSTALL = "sudo apt-get install -y bubblewrap"
# Folders not copied: version control, and the big, rebuilt or installed ones, which the sandbox
# shows read-only at their place instead (a test reads its dependencies, never writes them).
NOT_COPIED = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "target", "__pycache__"}
    | {".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", "dist", "build"}
)
SHARED = ("node_modules", ".venv", "venv")
# A workspace larger than this is not copied: the action says so.
COPY_MAX_FILES = 20_000
OUTPUT_MAX_CHARS = 16_000


@dataclass(frozen=True)
class Limits:
    timeout_s: float
    memory_mb: int


@dataclass(frozen=True)
class RunResult:
    command: tuple[str, ...]
    exit_code: int | None  # None: killed at the time limit
    output: str  # stdout and stderr together, the end kept where it was long
    sandbox: str  # bubblewrap | unshare | none
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


@functools.cache
def _works(*probe: str) -> bool:
    try:
        done = subprocess.run(probe, capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


BWRAP_PROBE = ("bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--unshare-net", "true")
UNSHARE_PROBE = ("unshare", "--user", "--map-root-user", "--net", "true")


PROBES = {"bubblewrap": BWRAP_PROBE, "unshare": UNSHARE_PROBE}


def works(kind: str) -> bool:
    """Whether the sandbox `kind` runs a command with no network on this machine (it may be
    missing, or user namespaces may be off). Probed once per process."""
    probe = PROBES[kind]
    return shutil.which(probe[0]) is not None and _works(*probe)


def available_sandbox() -> str | None:
    """The best sandbox that works on this machine, or None."""
    return next((kind for kind in PROBES if works(kind)), None)


def choose_sandbox(allow_unsandboxed: bool, found: str | None = None) -> str:
    """The sandbox a run uses: the best available, "none" where there is none and the person
    allowed it. Raises ActionError naming what to install otherwise."""
    found = found if found is not None else available_sandbox()
    if found:
        return found
    if allow_unsandboxed:
        return "none"
    raise ActionError(
        "no sandbox to run the tests in (bubblewrap, or user namespaces for unshare): "
        f"install one with `{INSTALL}`, or allow unsandboxed runs with "
        "actions.allowUnsandboxed = true in your user settings"
    )


@contextlib.asynccontextmanager
async def workspace_copy(root: Path, files: Mapping[str, str]) -> AsyncIterator[Path]:
    """A temporary copy of the workspace, with `files` (workspace-relative path: text) written
    over it; removed afterwards. Copied on a worker thread: the server keeps serving."""
    folder = Path(tempfile.mkdtemp(prefix="ghosttype-run-"))
    try:
        copy = folder / root.name
        await asyncio.to_thread(_copy, root, copy, files)
        yield copy
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


def _copy(root: Path, copy: Path, files: Mapping[str, str]) -> None:
    copied = 0

    def ignore(where: str, names: list[str]) -> list[str]:
        nonlocal copied
        copied += len(names)
        if copied > COPY_MAX_FILES:
            raise ActionError(
                f"the workspace has over {COPY_MAX_FILES} files: too many to copy for a test run"
            )
        return [n for n in names if n in NOT_COPIED]

    shutil.copytree(root, copy, symlinks=True, ignore=ignore)
    for relative, text in files.items():
        path = copy / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _environment(home: str) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "RUSTUP_HOME", "CARGO_HOME", "GOPATH", "GOROOT", "GOFLAGS")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        HOME=home,
        CI="1",
        PYTHONDONTWRITEBYTECODE="1",
        XDG_CACHE_HOME="/tmp/ghosttype-cache",
        CARGO_TARGET_DIR="/tmp/ghosttype-target",
        CARGO_NET_OFFLINE="true",
        GOCACHE="/tmp/ghosttype-gocache",
        GOPROXY="off",
        NO_COLOR="1",
    )
    return env


def wrapped(
    sandbox: str, command: list[str], root: Path, copy: Path, limits: Limits
) -> tuple[list[str], Path]:
    """The command line that runs `command` in the sandbox, and the folder it starts in."""
    limit = ["prlimit", f"--data={limits.memory_mb * 1024 * 1024}", "--"]
    if sandbox == "bubblewrap":
        line = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        line += ["--tmpfs", "/tmp", "--bind", str(copy), str(root)]
        for name in SHARED:  # the copy hides them: shown again, read-only
            if (root / name).is_dir():
                line += ["--ro-bind", str(root / name), str(root / name)]
        line += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"]
        line += ["--chdir", str(root), "--"]
        return [*line, *limit, *command], root
    for name in SHARED:  # outside bubblewrap the copy reaches them through links
        if (root / name).is_dir() and not (copy / name).exists():
            (copy / name).symlink_to(root / name)
    if sandbox == "unshare":
        line = ["unshare", "--user", "--map-root-user", "--net", "--"]
        return [*line, *limit, *command], copy
    return [*limit, *command], copy


async def run(
    sandbox: str, command: list[str], root: Path, copy: Path, limits: Limits, env: Mapping[str, str]
) -> RunResult:
    """Runs `command` (in the copy, seen at the workspace's path where the sandbox can) and
    returns its output; killed with its whole process tree at the time limit or when the action
    is cancelled."""
    line, cwd = wrapped(sandbox, command, root, copy, limits)
    environment = {**_environment(os.environ.get("HOME", "/tmp")), **env}
    if sandbox != "bubblewrap":  # no private /tmp: caches go into the copy
        for key in ("XDG_CACHE_HOME", "CARGO_TARGET_DIR", "GOCACHE"):
            environment[key] = str(copy.parent / key.lower())
    try:
        process = await asyncio.create_subprocess_exec(
            *line,
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as error:
        raise ActionError(f"could not start {command[0]}: {error.strerror}") from None
    timed_out = False
    try:
        output, _ = await asyncio.wait_for(process.communicate(), limits.timeout_s)
    except TimeoutError:
        timed_out = True
        _kill(process.pid)
        output, _ = await process.communicate()
    finally:
        if process.returncode is None:  # cancelled
            _kill(process.pid)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
    text = output.decode("utf-8", "replace")
    if len(text) > OUTPUT_MAX_CHARS:
        text = "…\n" + text[-OUTPUT_MAX_CHARS:]
    text = text.replace(str(copy), str(root))
    if timed_out:
        text += f"\n[ghosttype: killed after the time limit of {limits.timeout_s:g} s]\n"
    exit_code = None if timed_out else process.returncode
    return RunResult(tuple(command), exit_code, text, sandbox, timed_out)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)

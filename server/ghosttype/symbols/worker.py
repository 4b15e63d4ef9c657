"""The symbol index's worker process: it reads and parses the files. tree-sitter keeps the
interpreter lock while it parses (a 2,500-line file: ~40 ms), and walking a tree is Python code:
done in a thread of the server's process, either would stall the event loop for as long. The
process runs at a lower priority, so the person's model and editor come first.

`serve()` (the process runs just that) serves requests on stdin and answers on stdout, one at a
time: an 8-byte length, then a pickle of (function name, arguments) or of ("ok" | "error",
result). Its own process, not multiprocessing's: a spawned child would import the parent's
main script again."""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any

from ..context.exclude import Excluder
from ..context.neighbours import MAX_FILE_BYTES  # the neighbours' limit: one place
from .extract import extract, family_of
from .facts import ClassFacts, FileFacts, ScopeFacts

NICENESS = 10


_LENGTH = struct.Struct(">Q")
log = logging.getLogger(__name__)


def read_source(path: str, limit: int = MAX_FILE_BYTES) -> str | None:
    """A source file's text; None for one too big, binary, not UTF-8 or unreadable."""
    try:
        if os.path.getsize(path) > limit:
            return None
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return None if "\x00" in text[:65536] else text


MAX_FILES = 20_000
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages", "dist-packages"})


def readable(excluder: Excluder, path: str) -> bool:
    """Inside a root, allowed by context.exclude and .gitignore, and, where it is a symlink, its
    target inside a root too."""
    if excluder.relative(path) is None or not excluder.allowed(path):
        return False
    real = os.path.realpath(path)
    return real == path or any(
        real.startswith(os.path.realpath(root) + "/") for root in excluder.roots
    )


def walk_sources(roots: tuple[str, ...], exclude: tuple[str, ...]) -> list[str]:
    """The source files of the workspace the index may read (hidden, dependency and ignored
    folders skipped), at most MAX_FILES."""
    excluder = Excluder(roots, exclude)
    found: list[str] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [
                d
                for d in sorted(dirs)
                if not d.startswith(".")
                and d not in SKIPPED_FOLDERS
                and not excluder.ignored(f"{folder}/{d}/\x00")
                and not excluder.excluded(f"{folder}/{d}/\x00")
            ]
            for name in sorted(files):
                path = f"{folder}/{name}"
                if family_of(name) is not None and readable(excluder, path):
                    found.append(path)
                    if len(found) >= MAX_FILES:
                        return found
    return found


def extract_paths(paths: list[str]) -> list[tuple[str, FileFacts | None]]:
    """The facts of files on disk (None for one that is unreadable, too big or binary)."""
    found: list[tuple[str, FileFacts | None]] = []
    for path in paths:
        grammar = family_of(path)
        text = read_source(path) if grammar is not None else None
        facts = None
        if grammar is not None and text is not None:
            facts = extract(text, grammar[0], grammar[1], scoped=False)
        found.append((path, facts))
    return found


def extract_text(text: str, family: str, grammar: str) -> FileFacts | None:
    """An open document's facts, with its scopes."""
    return extract(text, family, grammar, scoped=True)


def interned(facts: FileFacts) -> FileFacts:
    """The same facts with their strings interned in this process: what arrives from the worker
    is a fresh copy of every name, and 5,000 files share most of theirs."""
    i = sys.intern
    classes = {
        i(name): ClassFacts(
            frozenset(map(i, c.members)),
            tuple(map(i, c.bases)),
            tuple((i(a), i(b)) for a, b in c.fields),
            c.open,
        )
        for name, c in facts.classes.items()
    }
    scopes = tuple(
        ScopeFacts(
            s.start,
            s.end,
            s.indent,
            i(s.owner),
            i(s.this),
            tuple((i(a), i(b)) for a, b in s.bindings),
        )
        for s in facts.scopes
    )
    return dataclasses.replace(
        facts,
        family=i(facts.family),
        names=frozenset(map(i, facts.names)),
        classes=classes,
        scopes=scopes,
        extensions=frozenset(map(i, facts.extensions)),
        returns={i(k): i(v) for k, v in facts.returns.items()},
    )


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "walk_sources": walk_sources,
    "extract_paths": extract_paths,
    "extract_text": extract_text,
}


def _write(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError("the other side closed the pipe")
    (length,) = _LENGTH.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError("the other side closed the pipe")
    return pickle.loads(data)


class WorkerProcess:
    """The server's side: one request at a time (from the index's thread), each answered by the
    process; a process that fails is started again on the next request, and where none can be
    started the work is done here (the event loop then shares the interpreter with it)."""

    COMMAND = (sys.executable, "-c", "from ghosttype.symbols.worker import serve; serve()")

    def __init__(self, command: tuple[str, ...] = COMMAND) -> None:
        self._command = command
        self._process: subprocess.Popen[bytes] | None = None
        self._failed = False
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The process's id while it runs (None before the first request, or after a failure)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def call(self, name: str, *args: object) -> Any:
        if not (self._failed or self._closed):
            try:
                return self._call(name, args)
            except (OSError, EOFError, pickle.PickleError) as error:
                if not self._closed:  # stopped on purpose: the last request is finished here
                    log.warning("the symbol index's worker failed (%s); parsing here", error)
                    self._stop_process()
                    self._failed = True
        return FUNCTIONS[name](*args)

    def _call(self, name: str, args: tuple[object, ...]) -> Any:
        process = self._process
        if process is None or process.poll() is not None:
            environment = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            process = subprocess.Popen(
                list(self._command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=environment,
            )
            self._process = process
        assert process.stdin is not None and process.stdout is not None
        _write(process.stdin, (name, args))
        status, result = _read(process.stdout)
        if status != "ok":
            raise OSError(str(result))
        return result

    def close(self) -> None:
        """Stops the process now (it holds nothing worth finishing)."""
        self._closed = True
        self._stop_process()

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def serve() -> None:
    """The worker's loop: requests until stdin closes."""
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            name, args = _read(requests)
        except EOFError:
            return
        try:
            answer: tuple[str, object] = ("ok", FUNCTIONS[name](*args))
        except Exception as error:  # one bad file must not end the worker
            answer = ("error", f"{type(error).__name__}: {error}")
        try:
            _write(answers, answer)
        except (BrokenPipeError, ValueError):  # the server is gone: so is the reason to work
            # Python flushes stdout once more at exit: into /dev/null, not onto stderr.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return

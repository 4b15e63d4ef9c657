"""Latency benchmark (issue 3): realistic typing replayed against the real `ghosttype serve`.

A typist replays sessions over real source files nobody here wrote (CPython's stdlib, httpx,
click, as installed): at a few places ("sites") in a file, a stretch of lines is removed and typed
back, character by character with human-like gaps (lognormal around ~100 ms), pausing 0.5-2 s
after each line's Enter (auto-indent included) and sometimes between words. Like an editor, every
keystroke sends an incremental `didChange` and a `textDocument/inlineCompletion` (triggerKind
Automatic), after `$/cancelRequest` for the previous request if it is still pending. At some pauses
the typist types exactly the ghost text shown, character by character (the typed-through cache),
then goes on with the real file's next line.

Runs (`--runs`, comma-separated):
  newplace  the embedded model at places its KV cache does not hold: a file just opened, and jumps
            inside open files; last keystroke -> ghost text (see new_place.py). Reported first.
  scripted  the `scripted` backend answering at once (delay 0, debounceMs 0) on a 5,000-line file
            with 20 open neighbours: every reply time is server overhead.
  embedded  the embedded model (warm, default 1,024-token budget, adaptive debounce): last
            keystroke -> ghost text, debounce included.
  naive     in the same run, each pause's completion recomputed the naive way with llama_cpp
            directly: `Llama.reset()`, the whole prompt ghosttype would build, run to completion
            (end of text or maxTokens), no cache. Replays the states of `newplace` and the
            pauses of `embedded`, whichever ran before it.
  soak      the `scripted` backend, 10,000 requests: the server's RSS at request 1,000 and 10,000.

    .venv/bin/python benchmarks/latency.py [--quick] [--runs newplace,scripted,embedded,naive,soak]
                                           [--pause auto|off] [--json PATH] [--seed N]

`--pause auto` (the default configuration, the cascade) lets the 1.5B answer in pauses: each
site ends with the typist holding still until it has answered (up to 20 s), and the report gives
the time from the typing reply to its answer; `--pause off` measures the 0.5B alone.

The report leads with what hurts most: the first ghost text at a place the KV cache does not hold
(the newplace run, with the naive client on the same states), with the prompt tokens it had to
evaluate; then the pauses while typing (new places left out, and named so), then the scripted
overhead.

GHOSTTYPE_LOG_LEVEL=debug (with --keep) leaves the server's log in the scratch folder: per model
call, how much of the prompt the KV cache held and where evaluation started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
STDLIB = Path(os.__file__).parent


def site_packages() -> Path:
    import click

    return Path(click.__file__).parent.parent


# --- a small JSON-RPC / LSP client over the server's stdio ---------------------------------------


class LspClient:
    """What an editor does, and no more: framed JSON-RPC over a pipe, replies matched by id."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self._ids = 0
        self._pending: dict[int, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self.status: list[dict[str, Any]] = []
        self.ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, config: Path, stderr_path: Path) -> LspClient:
        stderr = stderr_path.open("wb")
        process = await asyncio.create_subprocess_exec(
            str(VENV_BIN / "ghosttype"),
            "serve",
            "--config",
            str(config),
            "--log-level",
            os.environ.get("GHOSTTYPE_LOG_LEVEL", "warning"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            limit=1 << 24,
        )
        return cls(process)

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> tuple[int, asyncio.Future[Any]]:
        self._ids += 1
        future: asyncio.Future[tuple[float, dict[str, Any]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[self._ids] = future
        self._send({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params})
        return self._ids, future

    async def call(self, method: str, params: Any, limit_s: float = 120) -> Any:
        _, future = self.request(method, params)
        _, reply = await asyncio.wait_for(future, limit_s)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result")

    async def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            try:
                header = await stream.readuntil(b"\r\n\r\n")
                length = 0
                for line in header.decode("ascii").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await stream.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                break  # the server is gone
            arrived = time.perf_counter()
            message = json.loads(body)
            if "method" in message:
                if "id" in message:  # a request from the server: answer it, with nothing
                    self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                elif message["method"] == "ghosttype/status":
                    self.status.append(message["params"])
                    if message["params"].get("state") in ("ready", "error"):
                        self.ready.set()
                continue
            self.on_reply(arrived, message)

    def on_reply(self, arrived: float, message: dict[str, Any]) -> None:
        """A reply to one of this client's requests (a subclass may count them)."""
        future = self._pending.pop(message.get("id"), None)
        if future is not None and not future.done():
            future.set_result((arrived, message))

    async def initialize(self, root: Path) -> None:
        await self.call(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": {
                    "textDocument": {"inlineCompletion": {"dynamicRegistration": False}},
                    "general": {"positionEncodings": ["utf-16"]},
                },
            },
        )
        self.notify("initialized", {})

    async def stats(self) -> dict[str, Any]:
        result = await self.call("workspace/executeCommand", {"command": "ghosttype.stats"})
        assert isinstance(result, dict)
        return result

    async def close(self) -> None:
        with _suppress():
            await self.call("shutdown", None, limit_s=10)
            self.notify("exit", None)
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], Exception)  # type: ignore[arg-type]


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def items_of(reply: dict[str, Any]) -> list[dict[str, Any]]:
    result = reply.get("result")
    if isinstance(result, dict):
        return list(result.get("items") or [])
    if isinstance(result, list):
        return result
    return []


# --- the typist ---------------------------------------------------------------------------------


@dataclass
class Typing:
    """The typist's rhythm: lognormal gaps (median ~95 ms), pauses 0.5-2 s."""

    rng: random.Random
    gap_median_s: float = 0.095
    gap_sigma: float = 0.35
    word_pause_share: float = 0.12  # after a word, sometimes a pause
    through_share: float = 0.5  # at a pause with ghost text, type it through this often
    speed: float = 1.0  # <1 compresses every wait (soak)
    progress: bool = False  # print each pause to stderr

    def gap(self) -> float:
        return min(0.6, self.rng.lognormvariate(math.log(self.gap_median_s), self.gap_sigma))

    def pause(self) -> float:
        return self.rng.uniform(0.5, 2.0)


@dataclass
class PauseRecord:
    run: str
    file: str
    where: str  # line-start | mid-line
    latency_ms: float | None  # last keystroke -> ghost text; None: empty reply
    ghost: str
    model_calls: int  # model calls since the previous pause (this burst + its pause)
    right: bool = False  # the ghost text's first line is the rest of the file's own line
    text: str = ""  # the document at the pause (for the naive replay)
    offset: int = 0
    uri: str = ""
    expected: str = ""  # the rest of the file's own line, where known (the naive replay's check)


@dataclass
class RunResult:
    name: str
    pauses: list[PauseRecord] = field(default_factory=list)
    keystroke_ms: list[float] = field(default_factory=list)  # every non-cancelled reply
    through_ms: list[float] = field(default_factory=list)  # typing through: reply times
    through_hits: int = 0
    through_keys: int = 0
    after_accept_ms: list[float] = field(default_factory=list)  # typed it all: next ghost
    cold_ms: list[float] = field(default_factory=list)  # first request at a new place
    keystrokes: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class Editor:
    """One open document in the editor, typed into at the cursor."""

    def __init__(self, client: LspClient, uri: str, text: str, offset: int):
        self.client = client
        self.uri = uri
        self.text = text
        self.offset = offset
        self.version = 1
        self.line = text.count("\n", 0, offset)
        self.line_start = text.rfind("\n", 0, offset) + 1
        self.pending: tuple[int, asyncio.Future[Any], float] | None = None
        self.on_reply: Any = None  # called with (future, sent) when each reply arrives

    def move(self, offset: int) -> None:
        self.offset = offset
        self.line = self.text.count("\n", 0, offset)
        self.line_start = self.text.rfind("\n", 0, offset) + 1

    def position(self) -> dict[str, int]:
        return {"line": self.line, "character": utf16(self.text[self.line_start : self.offset])}

    def insert(self, chars: str) -> None:
        """One keystroke (an Enter with its auto-indent is one change)."""
        start = self.position()
        self.text = self.text[: self.offset] + chars + self.text[self.offset :]
        self.version += 1
        if self.pending is not None and not self.pending[1].done():
            self.client.notify("$/cancelRequest", {"id": self.pending[0]})
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": {"start": start, "end": start}, "text": chars}],
            },
        )
        for char in chars:
            self.offset += 1
            if char == "\n":
                self.line += 1
                self.line_start = self.offset

    def ask(self, trigger: int = 2) -> tuple[asyncio.Future[Any], float]:
        sent = time.perf_counter()
        request_id, future = self.client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": self.uri},
                "position": self.position(),
                "context": {"triggerKind": trigger},
            },
        )
        self.pending = (request_id, future, sent)
        if self.on_reply is not None:
            future.add_done_callback(lambda f, s=sent: self.on_reply(f, s))
        return future, sent


async def reply_of(future: asyncio.Future[Any], sent: float, limit_s: float) -> tuple[float, str]:
    """(milliseconds, first item's text) of a completion reply; text '' when empty/cancelled."""
    arrived, message = await asyncio.wait_for(asyncio.shield(future), limit_s)
    items = items_of(message)
    return (arrived - sent) * 1000, (items[0].get("insertText", "") if items else "")


def open_document(client: LspClient, uri: str, text: str) -> None:
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )


@dataclass(frozen=True)
class Site:
    line: int  # first line typed back
    count: int  # lines typed back


def pick_sites(
    text: str, count: int, rng: random.Random, lines_each: tuple[int, int], spacing: int = 40
) -> list[Site]:
    """Places inside function bodies where the next few lines are ordinary code, at least
    `spacing` lines apart."""
    lines = text.split("\n")
    good = []
    for number in range(20, len(lines) - 10):
        line = lines[number]
        body = line.strip()
        if not (12 <= len(body) <= 80) or not line.startswith("    "):
            continue
        if body.startswith(("#", '"', "'", "@")) or body.endswith(('"""', "'''")):
            continue
        if '"""' in line or "'''" in line:
            continue
        good.append(number)
    rng.shuffle(good)
    chosen: list[Site] = []
    for number in good:
        if all(abs(number - s.line) > spacing for s in chosen):
            span = rng.randint(*lines_each)
            block = lines[number : number + span]
            if all(b.strip() and '"""' not in b and "'''" not in b for b in block):
                chosen.append(Site(number, span))
        if len(chosen) == count:
            break
    return sorted(chosen, key=lambda s: s.line)


async def type_site(
    editor: Editor,
    lines: list[str],
    site: Site,
    typing: Typing,
    result: RunResult,
    file_label: str,
    reply_timeout: float,
    last_calls: list[int],
    record_text: bool,
) -> None:
    """Types `site`'s lines back into `editor`, whose cursor sits on the emptied first line."""
    rng = typing.rng
    speed = typing.speed

    async def pause(where: str, real_rest: str) -> str:
        assert editor.pending is not None
        _, future, sent = editor.pending
        started = time.perf_counter()
        try:
            ms, ghost = await reply_of(future, sent, reply_timeout)
        except TimeoutError:
            ms, ghost = reply_timeout * 1000, ""
        stats = await editor.client.stats()
        calls = stats["modelCalls"] - last_calls[0]
        last_calls[0] = stats["modelCalls"]
        if typing.progress:
            print(
                f"  [{result.name}] pause {len(result.pauses) + 1} {where}: "
                f"{fmt(ms if ghost else None)} ms, model calls {calls}, {ghost[:50]!r}",
                file=sys.stderr,
                flush=True,
            )
        result.pauses.append(
            PauseRecord(
                result.name,
                file_label,
                where,
                ms if ghost else None,
                ghost,
                calls,
                bool(ghost) and ghost.split("\n", 1)[0].rstrip() == real_rest.rstrip(),
                editor.text if record_text else "",
                editor.offset,
                editor.uri,
            )
        )
        rest = typing.pause() * speed - (time.perf_counter() - started)
        if rest > 0:
            await asyncio.sleep(rest)
        return ghost

    async def key(chars: str) -> None:
        editor.insert(chars)
        editor.ask()
        result.keystrokes += 1

    async def through(ghost: str) -> bool:
        """Types the ghost text's first line; True when it typed something."""
        first = ghost.split("\n", 1)[0]
        if len(first) < 2:
            return False
        for index, char in enumerate(first):
            await asyncio.sleep(typing.gap() * speed)
            await key(char)
            assert editor.pending is not None
            _, future, sent = editor.pending
            try:
                ms, shown = await asyncio.wait_for(
                    asyncio.shield(reply_of(future, sent, reply_timeout)),
                    max(0.05, typing.gap() * speed),
                )
            except TimeoutError:
                ms, shown = -1.0, ""
            rest = ghost[index + 1 :]
            if index < len(first) - 1:
                result.through_keys += 1
                # Served: the rest of what was shown (finalize may trim its end).
                if shown and (rest.startswith(shown) or shown.startswith(rest)):
                    result.through_hits += 1
                    result.through_ms.append(ms)
            elif shown:
                result.after_accept_ms.append(ms)
        return True

    for index in range(site.count):
        real = lines[site.line + index]
        indent = real[: len(real) - len(real.lstrip())]
        if index > 0:
            await asyncio.sleep(typing.gap() * speed)
            await key("\n" + indent)
            ghost = await pause("line-start", real[len(indent) :])
            if ghost and rng.random() < typing.through_share and await through(ghost):
                continue
        body = real[len(indent) :]
        position = 0
        while position < len(body):
            char = body[position]
            await asyncio.sleep(typing.gap() * speed)
            await key(char)
            position += 1
            at_word_end = char in " (.,=[" and position < len(body)
            if at_word_end and rng.random() < typing.word_pause_share:
                ghost = await pause("mid-line", body[position:])
                if ghost and rng.random() < typing.through_share and await through(ghost):
                    break  # the rest of this real line is dropped: the suggestion stands in
    # Let the last keystroke's reply (or cancellation) settle before the next site.
    if editor.pending is not None and not editor.pending[1].done():
        with _suppress():
            await asyncio.wait_for(asyncio.shield(editor.pending[1]), reply_timeout)


# --- workspaces ---------------------------------------------------------------------------------


def scripted_config(folder: Path, delay_ms: int = 0) -> Path:
    script = folder / "script.json"
    script.write_text(
        json.dumps({"delayMs": delay_ms, "default": {"text": "self._apply(value, context=None)"}})
    )
    config = folder / "ghosttype.toml"
    config.write_text(
        f'[backend]\nkind = "scripted"\nscript = "{script}"\n\n[completion]\ndebounceMs = 0\n'
    )
    return config


def embedded_config(folder: Path, threads: int = 0, pause: str = "auto") -> Path:
    """The default configuration (`pause` "auto": the cascade, the 1.5B answering pauses), or
    the typing model alone ("off")."""
    config = folder / "ghosttype.toml"
    config.write_text(
        f'[backend]\nkind = "embedded"\nthreads = {threads}\n\n'
        f'[pauseBackend]\nkind = "{pause}"\nthreads = {threads}\n'
    )
    return config


def copy_package(source: Path, workspace: Path, name: str) -> Path:
    target = workspace / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return target


def big_file(workspace: Path) -> tuple[Path, list[Path]]:
    """A 5,000-line real file (the start of CPython's _pydecimal.py) and 20 real neighbours."""
    package = workspace / "decimalpkg"
    package.mkdir()
    text = (STDLIB / "_pydecimal.py").read_text(encoding="utf-8")
    five_thousand = "\n".join(text.split("\n")[:5000]) + "\n"
    target = package / "pydecimal.py"
    target.write_text(five_thousand)
    neighbours: list[Path] = []
    for source_dir, name in (
        (site_packages() / "click", "click"),
        (site_packages() / "httpx", "httpx"),
    ):
        copied = copy_package(source_dir, workspace, name)
        neighbours += sorted(p for p in copied.glob("*.py") if p.stat().st_size > 2000)
    return target, neighbours[:20]


# --- runs ---------------------------------------------------------------------------------------


async def start_client(config: Path, workspace: Path, scratch: Path) -> LspClient:
    client = await LspClient.start(config, scratch / "server-stderr.log")
    await client.initialize(workspace)
    await asyncio.wait_for(client.ready.wait(), 300)
    errors = [s for s in client.status if s.get("state") == "error"]
    if errors:
        raise RuntimeError(f"the server failed to start: {errors[-1]}")
    return client


async def run_scripted(args: argparse.Namespace, scratch: Path) -> RunResult:
    result = RunResult("scripted")
    workspace = scratch / "ws-scripted"
    workspace.mkdir()
    target, neighbours = big_file(workspace)
    client = await start_client(scripted_config(scratch), workspace, scratch)
    try:
        for path in neighbours:
            open_document(client, path.as_uri(), path.read_text(encoding="utf-8"))
        rng = random.Random(args.seed)
        text = target.read_text(encoding="utf-8")
        sites = pick_sites(text, 2 if args.quick else 12, rng, (2, 4))
        await type_sites(client, result, target, text, sites, rng, args, record_text=False)
        result.stats = await client.stats()
        result.extra["file_lines"] = text.count("\n")
        result.extra["open_neighbours"] = len(neighbours)
    finally:
        await client.close()
    return result


async def type_sites(
    client: LspClient,
    result: RunResult,
    target: Path,
    text: str,
    sites: list[Site],
    rng: random.Random,
    args: argparse.Namespace,
    record_text: bool,
    reply_timeout: float = 30,
) -> None:
    """Each site: open the file with the site's lines removed, ask once at the new place (cold,
    untimed for the pause figures), then type the lines back. Keystroke reply times are collected
    from every reply that was not cancelled."""
    lines = text.split("\n")
    typing = Typing(rng, progress=args.verbose)
    uri = target.as_uri()
    label = f"{target.parent.name}/{target.name}"
    for number, site in enumerate(sites):
        first = lines[site.line]
        indent = first[: len(first) - len(first.lstrip())]
        before = "\n".join(lines[: site.line])
        after = "\n".join(lines[site.line + site.count :])
        document = before + "\n" + indent + "\n" + after
        offset = len(before) + 1 + len(indent)
        if number:
            client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        open_document(client, uri, document)
        editor = Editor(client, uri, document, offset)
        before_cold = await client.stats()
        # The cursor lands here and the person looks before typing: the first request (automatic,
        # like every keystroke's) is cold, and its time is reported apart from the pauses.
        future, sent = editor.ask()
        ms, _ = await reply_of(future, sent, 300)
        result.cold_ms.append(ms)
        after_cold = await client.stats()
        for name in ("modelCalls", "evaluatedPromptTokens"):
            result.extra.setdefault("cold_" + name, 0)
            result.extra["cold_" + name] += after_cold[name] - before_cold[name]
        if args.verbose:
            print(
                f"  [{result.name}] cold request at line {site.line}: {ms:.0f} ms", file=sys.stderr
            )
        last_calls = [(await client.stats())["modelCalls"]]
        editor.on_reply = lambda f, s: _collect(result, f, s)
        await type_site(
            editor, lines, site, typing, result, label, reply_timeout, last_calls, record_text
        )
        if args.pause != "off":
            await hold_for_the_pause_model(client, result)


# The person stops at the end of what they typed and reads: the pause model answers there.
HOLD_S = 20.0


async def hold_for_the_pause_model(client: LspClient, result: RunResult) -> None:
    """Waits (up to HOLD_S) for the pause model's answer at the last place, so every site has a
    pause that lasted: the short pauses while typing keep only the pause answers that were fast
    enough, and would flatter the figure."""
    answered = (await client.stats())["pauseAnswerMs"]["count"]
    deadline = time.perf_counter() + HOLD_S
    while time.perf_counter() < deadline:
        if (await client.stats())["pauseAnswerMs"]["count"] > answered:
            result.extra["held_pauses_answered"] = result.extra.get("held_pauses_answered", 0) + 1
            return
        await asyncio.sleep(0.1)
    result.extra["held_pauses_unanswered"] = result.extra.get("held_pauses_unanswered", 0) + 1


def _collect(result: RunResult, future: asyncio.Future[Any], sent: float) -> None:
    if future.cancelled():
        return
    arrived, message = future.result()
    if "error" not in message:
        result.keystroke_ms.append((arrived - sent) * 1000)


EMBEDDED_FILES = [
    # (package folder, file): real code nobody here wrote; the whole package is the workspace.
    (STDLIB / "json", "decoder.py"),
    (None, "httpx/_urls.py"),
    (None, "click/utils.py"),
]


async def run_embedded(args: argparse.Namespace, scratch: Path) -> RunResult:
    result = RunResult("embedded")
    workspace = scratch / "ws-embedded"
    workspace.mkdir()
    targets: list[tuple[Path, list[Path]]] = []
    for folder, name in EMBEDDED_FILES[: 1 if args.quick else len(EMBEDDED_FILES)]:
        if folder is not None:
            copied = copy_package(folder, workspace, folder.name)
            target = copied / name
        else:
            package, file_name = name.split("/")
            copied = copy_package(site_packages() / package, workspace, package)
            target = copied / file_name
        siblings = sorted(p for p in copied.glob("*.py") if p != target)[:3]
        targets.append((target, siblings))
    started = time.perf_counter()
    client = await start_client(
        embedded_config(scratch, args.threads, args.pause), workspace, scratch
    )
    result.extra["load_s"] = round(time.perf_counter() - started, 2)
    rng = random.Random(args.seed)
    try:
        for target, siblings in targets:
            for path in siblings:  # a few tabs open beside the file, as in an editor
                open_document(client, path.as_uri(), path.read_text(encoding="utf-8"))
            text = target.read_text(encoding="utf-8")
            sites = pick_sites(text, 2 if args.quick else 3, rng, (2, 3))
            await type_sites(client, result, target, text, sites, rng, args, record_text=True)
            client.notify("textDocument/didClose", {"textDocument": {"uri": target.as_uri()}})
        result.stats = await client.stats()
        result.extra["rss_mb"] = rss_mb(client.process.pid)
        result.extra["open_documents"] = {
            str(t.relative_to(workspace)): [str(s.relative_to(workspace)) for s in sib]
            for t, sib in targets
        }
        result.extra["workspace"] = str(workspace)
    finally:
        await client.close()
    return result


def run_naive(args: argparse.Namespace, embedded: RunResult, scratch: Path) -> RunResult:
    """Each pause with ghost text, recomputed the naive way: Llama.reset(), the full prompt that
    ghosttype builds for that document state (same context builder, same budget), greedy, run
    to completion (end of text or maxTokens), no cache. Times both the whole run and the point
    where the same completion (ghosttype's ghost text) was complete."""
    from llama_cpp import Llama

    from ghosttype.backends.embedded import CONTEXT_TOKENS, EmbeddedBackend
    from ghosttype.backends.model_store import ensure_model
    from ghosttype.config import BackendSettings, Settings
    from ghosttype.engine import Engine

    result = RunResult("naive")
    llm = Llama(
        model_path=str(ensure_model()),
        n_ctx=CONTEXT_TOKENS,
        n_batch=256,
        n_threads=args.threads or os.cpu_count() or 2,
        verbose=False,
    )
    backend = EmbeddedBackend(BackendSettings())  # the same tokenizer and prompt format
    asyncio.run(backend.start(lambda message: None))
    workspace = Path(embedded.extra["workspace"])
    settings = Settings()
    max_tokens = settings.completion.max_tokens
    engine = Engine(settings, workspace_root=workspace, backend_factory=lambda s: backend)
    opened: dict[str, list[str]] = embedded.extra["open_documents"]
    pauses = [p for p in embedded.pauses if p.latency_ms is not None]
    if args.quick:
        pauses = pauses[:3]
    eos = llm.token_eos()
    for pause in pauses:
        target = next(t for t in opened if pause.uri.endswith("/" + t))
        for name in opened[target]:
            path = workspace / name
            engine.documents.open(path.as_uri(), path.read_text(encoding="utf-8"), "python", 1)
        document = engine.documents.open(pause.uri, pause.text, "python", 1)
        plan = engine.planner.plan(
            document, pause.offset, settings, backend.prompt_format, backend, time.monotonic()
        )
        tokens = backend.tokenize(plan.prompt)
        started = time.perf_counter()
        llm.reset()
        llm.eval(tokens)
        llm._sampler = llm._init_sampler(temp=0.0, repeat_penalty=1.0)
        generated = b""
        same_at: float | None = None
        count = 0
        for _ in range(max_tokens):
            token = llm.sample()
            count += 1
            if token == eos or backend.is_control(token):
                break
            generated += llm.detokenize([token], special=False)
            if same_at is None:
                text = generated.decode("utf-8", errors="ignore")
                # The point where the naive run has produced what ghosttype showed.
                if (pause.ghost.strip() and pause.ghost.strip() in text.strip()) or (
                    "\n" in text.strip("\n") and not plan.at.multiline
                ):
                    same_at = time.perf_counter()
            llm.eval([token])
        ended = time.perf_counter()
        llm._sampler = None
        result.pauses.append(
            PauseRecord("naive", pause.file, pause.where, (ended - started) * 1000, pause.ghost, 1)
        )
        result.extra.setdefault("same_ms", []).append(((same_at or ended) - started) * 1000)
        if pause.expected:  # the full prompt's own answer: its first line the file's line?
            first = generated.decode("utf-8", errors="ignore").split("\n", 1)[0]
            result.extra.setdefault("right", []).append(first.rstrip() == pause.expected.rstrip())
        result.extra.setdefault("prompt_tokens", []).append(len(tokens))
        result.extra.setdefault("generated", []).append(count)
        result.keystroke_ms.append((ended - started) * 1000)
        if args.verbose:
            print(
                f"  [naive] {len(tokens)} prompt tokens, {count} generated: "
                f"{(ended - started) * 1000:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
    return result


async def run_soak(args: argparse.Namespace, scratch: Path) -> RunResult:
    """The scripted backend, a request per keystroke with no gaps beyond the reply: RSS at
    request 1,000 and 10,000 (200 and 2,000 with --quick)."""
    result = RunResult("soak")
    total = 2000 if args.quick else 10_000
    first_mark = total // 10
    workspace = scratch / "ws-soak"
    workspace.mkdir()
    target, neighbours = big_file(workspace)
    client = await start_client(scripted_config(scratch), workspace, scratch)
    pid = client.process.pid
    rss: dict[int, float] = {}
    try:
        for path in neighbours:
            open_document(client, path.as_uri(), path.read_text(encoding="utf-8"))
        text = target.read_text(encoding="utf-8")
        lines = text.split("\n")
        rng = random.Random(args.seed)
        uri = target.as_uri()
        open_document(client, uri, text)
        requests = 0
        editor = Editor(client, uri, text, 0)
        while requests < total:
            # A new place every few lines' worth of keystrokes: type a line of the file there.
            line = rng.randrange(50, len(lines) - 50)
            editor.move(sum(len(x) + 1 for x in editor.text.split("\n")[:line]))
            for char in (lines[line] + "\n") * 4:
                editor.insert(char)
                future, sent = editor.ask()
                await reply_of(future, sent, 30)
                requests += 1
                if requests in (first_mark, total):
                    rss[requests] = rss_mb(pid)
                if requests >= total:
                    break
        result.stats = await client.stats()
        result.extra["rss_mb"] = rss
        result.extra["requests"] = total
    finally:
        await client.close()
    return result


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- report -------------------------------------------------------------------------------------


def pct(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summarize(results: dict[str, RunResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, result in results.items():
        latencies = [p.latency_ms for p in result.pauses if p.latency_ms is not None]
        mid = [
            p.latency_ms
            for p in result.pauses
            if p.latency_ms is not None and p.where == "mid-line"
        ]
        single = [p.latency_ms for p in result.pauses if p.latency_ms and "\n" not in p.ghost]
        stats = result.stats
        calls = stats.get("modelCalls", 0)
        summary: dict[str, Any] = {
            "singleLinePauseLatencyMsP50": pct(single, 0.5),
            "singleLinePauses": len(single),
            "ghostIsTheFilesLine": sum(p.right for p in result.pauses),
            "pauses": len(result.pauses),
            "pausesWithGhost": len(latencies),
            "pauseLatencyMs": {
                "p50": pct(latencies, 0.5),
                "p95": pct(latencies, 0.95),
                "p99": pct(latencies, 0.99),
            },
            "midLinePauseLatencyMsP50": pct(mid, 0.5),
            "keystrokes": result.keystrokes,
            "keystrokeReplyMs": {
                "p50": pct(result.keystroke_ms, 0.5),
                "p95": pct(result.keystroke_ms, 0.95),
                "p99": pct(result.keystroke_ms, 0.99),
                "n": len(result.keystroke_ms),
            },
            "modelCallsPerPause": {
                "mean": statistics.mean([p.model_calls for p in result.pauses])
                if result.pauses
                else None,
                "max": max([p.model_calls for p in result.pauses], default=None),
            },
            "typedThrough": {
                "keys": result.through_keys,
                "hits": result.through_hits,
                "share": result.through_hits / result.through_keys if result.through_keys else None,
                "p50Ms": pct(result.through_ms, 0.5),
                "p95Ms": pct(result.through_ms, 0.95),
            },
            "afterAcceptMsP50": pct(result.after_accept_ms, 0.5),
            "coldFirstRequestMs": {
                "p50": pct(result.cold_ms, 0.5),
                "p90": pct(result.cold_ms, 0.9),
                "n": len(result.cold_ms),
                # Prompt tokens evaluated for the first request at each new place.
                "evaluatedPerRequest": (
                    result.extra.get("cold_evaluatedPromptTokens", 0) / len(result.cold_ms)
                    if result.cold_ms
                    else None
                ),
            },
            "wastedPerCancelled": (
                stats["wastedTokens"] / stats["cancelled"] if stats.get("cancelled") else None
            ),
            "evaluatedPerModelCall": stats["evaluatedPromptTokens"] / calls if calls else None,
            # The same while typing: the first request at each new place (cold) left out.
            "evaluatedPerModelCallTyping": (
                (stats["evaluatedPromptTokens"] - result.extra.get("cold_evaluatedPromptTokens", 0))
                / (calls - result.extra.get("cold_modelCalls", 0))
                if calls > result.extra.get("cold_modelCalls", 0)
                else None
            ),
            "promptTokensPerModelCall": stats["promptTokens"] / calls if calls else None,
            "serverStats": stats,
            "extra": {k: v for k, v in result.extra.items() if k not in ("workspace",)},
        }
        out[name] = summary
    if "embedded" in out and "naive" in out:
        ghost = [p.latency_ms for p in results["embedded"].pauses if p.latency_ms is not None]
        naive = results["naive"].keystroke_ms
        same = results["naive"].extra.get("same_ms", [])
        paired = ghost[: len(naive)]
        out["comparison"] = {
            "pairs": len(naive),
            "ghosttypeP50Ms": pct(paired, 0.5),
            "naiveP50Ms": pct(naive, 0.5),
            "naiveSameCompletionP50Ms": pct(same, 0.5),
            "ratio": (statistics.median(paired) / statistics.median(naive)) if naive else None,
            "ratioSameCompletion": (statistics.median(paired) / statistics.median(same))
            if same
            else None,
            "naivePromptTokensMean": statistics.mean(results["naive"].extra["prompt_tokens"])
            if naive
            else None,
        }
    return out


def report(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []

    def row(target: str, figure: str, goal: str, met: bool | None) -> None:
        rows.append((target, figure, goal, "-" if met is None else ("met" if met else "MISSED")))

    if "newplace" in summary:  # what a person meets most, and what hurts most: first
        from new_place import new_place_rows

        for target, figure, goal, met in new_place_rows(summary["newplace"]):
            row(target, figure, goal, met)

    def typed_through_rows(run: str, t: dict[str, Any]) -> None:
        if t["keys"]:
            row(
                f"{run}: typed-through keystrokes from cache",
                f"{100 * t['share']:.1f}% of {t['keys']}",
                ">= 95%",
                t["share"] >= 0.95,
            )
            row(
                f"{run}: typed-through reply p50",
                f"{fmt(t['p50Ms'], 1)} ms",
                "<= 5 ms",
                (t["p50Ms"] or 99) <= 5,
            )

    e = summary.get("embedded")
    if e:
        # What hurts most comes first: the first ghost text where the cache holds nothing.
        cold = e["coldFirstRequestMs"]
        row(
            f"embedded: first ghost text at a new place, p50 / p90 ({cold['n']} places)",
            f"{fmt(cold['p50'])} / {fmt(cold.get('p90'))} ms",
            "<= 1000 / 2000 ms",
            cold["p50"] is not None and cold["p50"] <= 1000 and (cold.get("p90") or 1e9) <= 2000,
        )
        row(
            "embedded: ... prompt tokens evaluated per new place",
            fmt(cold.get("evaluatedPerRequest")),
            "<= 200",
            (cold.get("evaluatedPerRequest") or 1e9) <= 200,
        )
        p = e["pauseLatencyMs"]
        row(
            "embedded: pauses while typing (new places left out): last keystroke -> ghost text p50",
            f"{fmt(p['p50'])} ms",
            "<= 500 ms",
            p["p50"] is not None and p["p50"] <= 500,
        )
        row("embedded: ... p95 / p99", f"{fmt(p['p95'])} / {fmt(p['p99'])} ms", "", None)
        row(
            "embedded: ... pauses with single-line ghost text, p50",
            f"{fmt(e['singleLinePauseLatencyMsP50'])} ms ({e['singleLinePauses']} pauses)",
            "<= 500 ms",
            (e["singleLinePauseLatencyMsP50"] or 1e9) <= 500,
        )
        row("embedded: mid-line pauses p50", f"{fmt(e['midLinePauseLatencyMsP50'])} ms", "", None)
        pause = e["serverStats"].get("pauseAnswerMs", {})
        if pause.get("count"):
            server = e["serverStats"]
            extra = e["extra"]
            row(
                "embedded: the pause model's answer, typing reply -> answer, p50 / p90 "
                f"({pause['count']} pauses; add the typing reply's time for the last keystroke)",
                f"{fmt(pause['p50'])} / {fmt(pause['p90'])} ms",
                "<= 2000 ms (from the last keystroke)",
                (pause["p50"] or 1e9) + (p["p50"] or 0) <= 2000,
            )
            row(
                "embedded: ... answers that differed from the typing model's (refresh sent)",
                f"{server['pauseReplaced']} of {server['pauseAnswers']}",
                "",
                None,
            )
            drafted = server.get("draftedTokens", 0)
            row(
                "embedded: ... its drafts from the typing model's answer: tokens accepted / drafted",
                f"{server.get('acceptedTokens', 0)} / {drafted}"
                + (f" ({server.get('acceptedTokens', 0) / drafted:.0%})" if drafted else ""),
                "",
                None,
            )
            row(
                "embedded: ... held pauses at the end of each site answered / not in 20 s",
                f"{extra.get('held_pauses_answered', 0)} / {extra.get('held_pauses_unanswered', 0)}",
                "",
                None,
            )
        if "rss_mb" in e["extra"]:
            row(
                "embedded: server RSS after the run",
                f"{fmt(e['extra']['rss_mb'])} MB",
                "<= 2500 MB",
                e["extra"]["rss_mb"] <= 2500,
            )
        row(
            "embedded: pauses with ghost text", f"{e['pausesWithGhost']} of {e['pauses']}", "", None
        )
        row(
            "embedded: ... whose first line is the file's own line",
            f"{e['ghostIsTheFilesLine']} of {e['pausesWithGhost']}",
            "",
            None,
        )
        m = e["modelCallsPerPause"]
        row(
            "embedded: model calls per pause (mean / max)",
            f"{fmt(m['mean'], 2)} / {m['max']}",
            "<= 2 (1 + prefetch)",
            m["max"] is not None and m["max"] <= 2,
        )
        typed_through_rows("embedded", e["typedThrough"])
        w = e["wastedPerCancelled"]
        row(
            "embedded: wasted tokens per cancelled request",
            fmt(w, 3),
            "<= 1",
            w is not None and w <= 1,
        )
        row(
            "embedded: prompt tokens re-evaluated per model call, typing",
            fmt(e["evaluatedPerModelCallTyping"], 1),
            "tens",
            None,
        )
        row(
            "embedded: ... all calls (cold first requests included)",
            f"{fmt(e['evaluatedPerModelCall'], 1)} of {fmt(e['promptTokensPerModelCall'])}",
            "tens",
            None,
        )
    s = summary.get("scripted")
    if s:
        k = s["keystrokeReplyMs"]
        row(
            "server overhead p50 (scripted, 0 ms model, debounce 0)",
            f"{fmt(k['p50'], 1)} ms",
            "<= 5 ms",
            k["p50"] is not None and k["p50"] <= 5,
        )
        row("server overhead p95", f"{fmt(k['p95'], 1)} ms", "", None)
        row(
            "server overhead p99",
            f"{fmt(k['p99'], 1)} ms",
            "<= 20 ms",
            k["p99"] is not None and k["p99"] <= 20,
        )
        typed_through_rows("scripted", s["typedThrough"])
    c = summary.get("comparison")
    if c and c["pairs"]:
        row(
            "naive (fresh prompt, run to completion) p50",
            f"{fmt(c['naiveP50Ms'])} ms ({c['pairs']} pauses, {fmt(c['naivePromptTokensMean'])} prompt tokens)",
            "",
            None,
        )
        row(
            "ghosttype / naive (same pauses, medians)",
            f"{c['ratio']:.3f} (1/{1 / c['ratio']:.1f})",
            "<= 0.2",
            c["ratio"] <= 0.2,
        )
        row(
            "ghosttype / naive stopped at the same completion",
            f"{c['ratioSameCompletion']:.3f} (1/{1 / c['ratioSameCompletion']:.1f})",
            "",
            None,
        )
    k = summary.get("soak")
    if k:
        rss = k["extra"]["rss_mb"]
        marks = sorted(int(x) for x in rss)
        first, last = rss[marks[0]], rss[marks[-1]]
        growth = (last - first) / first
        row(
            f"soak: RSS at request {marks[0]:,} / {marks[-1]:,}",
            f"{first:.1f} / {last:.1f} MB",
            "<= 150 MB",
            last <= 150,
        )
        row("soak: RSS growth", f"{100 * growth:+.1f}%", "<= 10%", growth <= 0.10)
    header = (
        f"ghosttype latency benchmark  ({meta['command']})\n"
        f"machine: {meta['machine']}; load average at start {meta['load_start']}, at end {meta['load_end']}\n"
        f"configuration: {meta['configuration']}"
    )
    return render_table(header, rows)


def render_table(header: str, rows: list[tuple[str, str, str, str]]) -> str:
    """The figures as aligned columns under `header` (the benchmarks' one table format)."""
    width = [max(len(r[i]) for r in [*rows, ("target", "figure", "goal", "")]) for i in range(4)]
    lines = [
        header,
        "",
        "  ".join(h.ljust(w) for h, w in zip(("target", "figure", "goal", ""), width, strict=True)),
        "  ".join("-" * w for w in width),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)) for r in rows]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    # new_place.py builds on this module's client and runs.
    from new_place import run_new_place, summarize_new_place

    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    unknown = set(runs) - {"newplace", "scripted", "embedded", "naive", "soak"}
    if unknown:
        print(f"unknown runs: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    load_start = tuple(round(x, 2) for x in os.getloadavg())
    scratch = Path(tempfile.mkdtemp(prefix="ghosttype-latency-"))
    results: dict[str, RunResult] = {}
    timings: dict[str, float] = {}
    try:
        for name in runs:
            started = time.perf_counter()
            print(f"[{name}] running ...", file=sys.stderr, flush=True)
            if name == "newplace":
                results[name] = await run_new_place(args, scratch)
            elif name == "scripted":
                results[name] = await run_scripted(args, scratch)
            elif name == "embedded":
                results[name] = await run_embedded(args, scratch)
            elif name == "naive":
                # The same states the naive way: the new places', and the embedded run's pauses.
                for measured in ("newplace", "embedded"):
                    if measured in results:
                        results[f"naive-{measured}"] = await asyncio.to_thread(
                            run_naive, args, results[measured], scratch
                        )
                if not any(k.startswith("naive-") for k in results):
                    print(
                        "[naive] needs a newplace or embedded run first: skipped", file=sys.stderr
                    )
                    continue
            elif name == "soak":
                results[name] = await run_soak(args, scratch)
            timings[name] = round(time.perf_counter() - started, 1)
            print(f"[{name}] done in {timings[name]} s", file=sys.stderr, flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    new_place = results.pop("newplace", None)
    naive_new_place = results.pop("naive-newplace", None)
    if "naive-embedded" in results:
        results["naive"] = results.pop("naive-embedded")
    summary = summarize(results)
    if new_place is not None:
        summary["newplace"] = summarize_new_place(new_place, naive_new_place)
    meta = {
        "command": " ".join(["python benchmarks/latency.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores ({platform.platform()})",
        "load_start": load_start,
        "load_end": tuple(round(x, 2) for x in os.getloadavg()),
        "configuration": "cascade (0.5B typing, 1.5B pauses)"
        if args.pause == "auto"
        else "0.5B alone",
        "seconds": timings,
    }
    print(report(summary, meta))
    if args.verbose:
        for result in results.values():
            for p in result.pauses:
                print(
                    f"  {p.run:9} {p.where:10} {fmt(p.latency_ms):>6} ms calls={p.model_calls} {p.ghost[:60]!r}"
                )
    if args.json:
        await asyncio.to_thread(
            Path(args.json).write_text,
            json.dumps({"meta": meta, "results": summary}, indent=2, default=str),
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short run (CI, under 2 minutes)")
    parser.add_argument("--runs", default="newplace,scripted,embedded,naive,soak")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=0, help="llama.cpp threads (embedded, naive); 0: default"
    )
    parser.add_argument(
        "--pause",
        choices=("auto", "off"),
        default="auto",
        help="auto: the default cascade (the 1.5B answers pauses); off: the 0.5B alone",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="newplace: the 1.5B answers an invoked request when each new place starts",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every pause")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

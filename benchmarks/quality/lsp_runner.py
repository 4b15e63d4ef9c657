"""ghosttype through its real LSP surface, called as the held-back benchmark calls it: default
configuration, a workspace folder, `didOpen` of the document, `textDocument/inlineCompletion` with
triggerKind Invoked at the cursor, the first item applied with its `range` when it has one.

One server process serves a whole batch of tasks (didOpen/didClose per task). In-file tasks share a
workspace folder that holds only the current task's file while it runs; cross-file tasks get a
server per project whose workspace is a copy of the project's source, so neighbouring files count
(the task's own file on disk holds the document with the gap while the task runs, so the answer is
never on disk)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from .fetch import DATA, source_dir
from .projects import BY_NAME
from .tasks import Task

REQUEST_TIMEOUT_S = 900
# Every prompt evaluated from an empty KV cache in the same batches, no answer from a cache: one
# prompt, one answer, whatever ran before (llama.cpp's numerics depend on how a prompt was split
# into batches). Everything else is the default configuration.
DETERMINISTIC = {"completion": {"deterministic": True}}
# A first answer's short prompt at a new place (first_answer.py: ~90 tokens within a 0.6 s prefill
# budget, plus the template's 16): the planner with that budget and no other files gives about the
# same windows (an invoked request's suffix is 16-20 tokens, the prefix the rest).
SHORT_PROMPT = {"maxPromptTokens": 106, "neighbours": False}
# How the ghosttype runners ask: "invoked" (the held-back benchmark's way) or "automatic" (as while
# typing: the typing prompt layout, after the debounce).
TRIGGER = "invoked"


@dataclass(frozen=True)
class Answer:
    insert_text: str
    # (start, end) offsets in the document the item replaces; None: insert at the cursor.
    span: tuple[int, int] | None
    seconds: float
    empty: bool  # no item came back


def utf16_position(text: str, offset: int) -> types.Position:
    before = text[:offset]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1 :]
    return types.Position(line=line, character=len(column.encode("utf-16-le")) // 2)


def offset_at(text: str, position: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    offset = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return offset + index
        units += len(char.encode("utf-16-le")) // 2
    return offset + len(line.rstrip("\r\n"))


def apply(document: str, cursor: int, answer: Answer) -> str:
    start, end = answer.span if answer.span else (cursor, cursor)
    return document[:start] + answer.insert_text + document[end:]


def _client() -> LanguageClient:
    client = LanguageClient("ghosttype-quality-bench", "1")

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(ls: LanguageClient, params: types.ConfigurationParams) -> list[Any]:
        return [None for _ in params.items]  # default configuration

    @client.feature("ghosttype/status")
    def status(ls: LanguageClient, params: Any) -> None:
        pass

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def log_message(ls: LanguageClient, params: Any) -> None:
        pass

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show_message(ls: LanguageClient, params: types.ShowMessageParams) -> None:
        print(f"  server: {params.message}", file=sys.stderr)

    return client


class Session:
    """One `ghosttype serve` process over stdio with one workspace folder."""

    def __init__(self, root: Path, command: list[str], settings: dict[str, Any] | None = None):
        self.root = root
        self.command = command
        self.settings = DETERMINISTIC if settings is None else settings  # initialization options
        self.client = _client()

    async def start(self) -> None:
        await self.client.start_io(*self.command)
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    workspace=types.WorkspaceClientCapabilities(configuration=True),
                    text_document=types.TextDocumentClientCapabilities(
                        inline_completion=types.InlineCompletionClientCapabilities()
                    ),
                ),
                root_uri=self.root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(self.root.as_uri(), self.root.name)],
                initialization_options=self.settings,
            )
        )
        self.client.initialized(types.InitializedParams())
        if self.settings.get("completion", {}).get("checkNames", True):
            await self._index_built()

    async def _index_built(self, limit_s: float = 120) -> None:
        """Waits for the server's first symbol index (the name check applies only once it is
        built): a workspace asked at once would be answered without it. A server without one
        (older commits) answers at once."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            stats = await self.client.workspace_execute_command_async(
                types.ExecuteCommandParams("ghosttype.stats")
            )
            if (stats or {}).get("symbols", {"ready": True}).get("ready", True):
                return
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 30)
            self.client.exit(None)
        except Exception:  # the server is going away either way
            pass
        await self.client.stop()

    async def set_mode(self, mode: str, one_line: bool = False) -> None:
        """The mode's settings. `raw`: post-processing off, the model's text stopped only at the
        format's special tokens (at the first newline with `one_line`, for tasks scored on their
        first line: the line is the same either way). `short`: the prompt of a first answer at a
        new place (first_answer.py): about 90 tokens of the lines around the cursor, nothing
        else. `typing`: the typing model alone (no pause role: the 0.5B answers invoked requests
        too). `nocheck`: the name check off (no symbol index, no guided names). `pp`: the
        server as shipped."""
        completion: dict[str, Any] = {"deterministic": True}
        pause = {"kind": "off" if mode == "typing" else "auto"}
        settings: dict[str, Any] = {"completion": completion, "context": {}, "pauseBackend": pause}
        if mode == "raw":
            completion["postprocess"] = False
            if one_line:
                completion["multiline"] = "never"
        if mode == "short":
            settings["context"] = SHORT_PROMPT
        if mode == "nocheck":
            completion["checkNames"] = False
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings)
        )

    async def complete(self, uri: str, document: str, cursor: int) -> Answer:
        started = time.monotonic()
        result = await asyncio.wait_for(
            self.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri),
                    position=utf16_position(document, cursor),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                        if TRIGGER == "invoked"
                        else types.InlineCompletionTriggerKind.Automatic
                    ),
                )
            ),
            REQUEST_TIMEOUT_S,
        )
        seconds = time.monotonic() - started
        items = result.items if isinstance(result, types.InlineCompletionList) else result or []
        if not items:
            return Answer("", None, seconds, True)
        item = items[0]
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        span = None
        if item.range is not None:
            span = (offset_at(document, item.range.start), offset_at(document, item.range.end))
        return Answer(text, span, seconds, False)

    def open(self, uri: str, language: str, text: str) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )


def project_workspace(project_name: str, dest: Path) -> Path:
    """A copy of the project's source files (the folders tasks come from) under dest."""
    project = BY_NAME[project_name]
    src = source_dir(project_name)
    shutil.rmtree(dest, ignore_errors=True)
    for folder in project.source_dirs:
        for file in sorted((src / folder).rglob("*")):
            rel = file.relative_to(src)
            if not file.is_file() or file.suffix not in project.workspace_suffixes:
                continue
            if any(part in ("node_modules", "test", "tests") for part in rel.parts):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
    return dest


@contextmanager
def task_on_disk(root: Path, task: Task, cross_file: bool) -> Iterator[Path]:
    """The task's file holds the document with the gap (what an editor's file would hold) while
    the task runs; then the project's own file comes back, or an in-file task's file goes."""
    path = root / task.path
    path.parent.mkdir(parents=True, exist_ok=True)
    original = path.read_text() if cross_file and path.exists() else None
    path.write_text(task.document)
    try:
        yield path
    finally:
        if original is not None:
            path.write_text(original)
        else:
            path.unlink()


ServerAnswers = dict[str, dict[str, Answer]]  # task id -> mode (SERVER_MODES) -> answer


async def run_batch(
    tasks: list[Task], root: Path, cross_file: bool, modes: list[str], command: list[str],
    on_answer: Any = None,
) -> ServerAnswers:  # fmt: skip
    """All tasks through one server process whose workspace is `root`."""
    answers: ServerAnswers = {}
    session = Session(root, command)
    await session.start()
    try:
        for task in tasks:
            with task_on_disk(root, task, cross_file) as path:
                uri = path.as_uri()
                session.open(uri, task.language, task.document)
                try:
                    answers[task.id] = {}
                    for mode in modes:
                        if mode != "pp":
                            await session.set_mode(mode, one_line=not task.multiline)
                        try:
                            answers[task.id][mode] = await session.complete(
                                uri, task.document, len(task.prefix)
                            )
                        finally:
                            if mode != "pp":
                                await session.set_mode("pp")
                    if on_answer is not None:
                        on_answer(task, answers[task.id])
                finally:
                    session.close(uri)
    finally:
        await session.stop()
    return answers


def server_command(modes: list[str]) -> list[str]:
    exe = shutil.which("ghosttype", path=str(Path(sys.executable).parent))
    return [exe] if exe is None else [exe, "serve"]


def rounds(tasks: list[Task]) -> list[list[Task]]:
    """Batches in which no file appears twice: round k holds the k-th task of every file. A server
    never sees two documents with the same path, so nothing it remembers about one task (caches,
    the last suggestion shown for a URI) can carry another task's answer."""
    by_file: dict[tuple[str, str], list[Task]] = {}
    for task in tasks:
        by_file.setdefault((task.project, task.path), []).append(task)
    depth = max((len(v) for v in by_file.values()), default=0)
    return [[v[k] for v in by_file.values() if k < len(v)] for k in range(depth)]


async def run_ghosttype(
    tasks: list[Task], modes: list[str], on_answer: Any = None
) -> ServerAnswers:
    """In-file tasks through servers whose workspace holds only the task's file; cross-file tasks
    through servers whose workspace holds the project's files. Tasks are batched into rounds (see
    `rounds`), one server process per round (and per project for cross-file tasks)."""
    command = server_command(modes)
    answers: ServerAnswers = {}
    for batch in rounds([t for t in tasks if t.kind != "xfile"]):
        root = DATA / "ws" / "single"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        answers |= await run_batch(batch, root, False, modes, command, on_answer)
    for project in sorted({t.project for t in tasks if t.kind == "xfile"}):
        mine = [t for t in tasks if t.kind == "xfile" and t.project == project]
        for batch in rounds(mine):
            root = project_workspace(project, DATA / "ws" / project)
            answers |= await run_batch(batch, root, True, modes, command, on_answer)
    return answers

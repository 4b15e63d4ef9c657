"""The LSP server: the only code that knows pygls and lsprotocol.

Handlers translate LSP messages to engine calls and back; all decisions live in the engine."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import itertools
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any, cast

import cattrs
from lsprotocol import types
from lsprotocol.types import ResponseErrorMessage
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
)
from pygls.protocol.language_server import lsp_method

from .. import __version__
from ..config import Layer, Settings, read_toml, resolve, workspace_layer
from ..context import uri_to_path
from ..documents import Document, PositionError, TextEdit
from ..engine import Engine, Reply
from ..idle_gc import IdleCollector
from .actions import register as register_actions
from .framing import SURROGATE_ESCAPE, FrameReader, without_surrogates

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "ghosttype/status"
ACCEPTED_COMMAND = "ghosttype.accepted"
STATS_COMMAND = "ghosttype.stats"
# Client -> server: the cursor moved to another place without typing there. Params:
# {"textDocument": {"uri": ...}, "position": {"line": ..., "character": ...}}. The server starts
# evaluating the prompts for that place, so the first keystroke there is answered sooner.
MOVED_NOTIFICATION = "ghosttype/didMoveCursor"
# Source files whose changes on disk the symbol index follows (workspace/didChangeWatchedFiles).
WATCHED_FILES = "**/*.{py,pyi,js,jsx,mjs,cjs,ts,tsx,mts,cts,go,java,cs,c,h,cc,cpp,cxx,hpp,hh}"
# Server -> client: a better suggestion (the pause role's, see engine.py) is ready for this place.
# Params: {"textDocument": {"uri": ..., "version": ...}, "position": {"line": ..., "character":
# ...}}. A client whose document is at that version with the cursor there asks for inline
# completions again (the answer comes from the server's memory) and replaces the shown suggestion
# with the new one without hiding it first; otherwise it ignores the notification.
REFRESH_NOTIFICATION = "ghosttype/refreshInlineCompletion"
# Documents larger than this get no completions (a note says so once): editing a 50 MB log is not
# what ghost text is for, and copying it per keystroke would cost everyone latency.
MAX_DOCUMENT_CHARS = 8_000_000


class GhosttypeProtocol(LanguageServerProtocol):
    """Answers every request, also one whose params do not parse (pygls would drop it), and
    keeps positions in UTF-16 whatever encodings the client offers. Messages arrive through
    `receive`, one frame's body each (GhosttypeServer reads the frames)."""

    _initialized = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        """The message's type from its data, as pygls finds it, without pygls' traceback in the
        log; InvalidParams when the data do not fit the type (its params, mostly)."""
        method = data.get("method")
        if method == types.INITIALIZE:
            params = data.get("params")
            capabilities = params.get("capabilities") if isinstance(params, dict) else None
            general = capabilities.get("general") if isinstance(capabilities, dict) else None
            if isinstance(general, dict):
                general.pop("positionEncodings", None)
        if isinstance(method, str):
            # A method the server has no handler for is refused whatever its params say.
            handled = method == types.CANCEL_REQUEST or method in self.fm.builtin_features
            handled = handled or method in self.fm.features
            fallback = JsonRPCRequestMessage if "id" in data else JsonRPCNotification
            kind = (self.get_message_type(method) if handled else None) or fallback
        elif "error" in data:
            kind = ResponseErrorMessage
        else:
            ident = data.get("id")
            known = self._result_types.pop(ident, None) if isinstance(ident, int | str) else None
            kind = known or JsonRPCResponseMessage
        try:
            return self._converter.structure(data, kind)
        except Exception as error:
            what = f"params for {method}" if isinstance(method, str) else "response"
            problems = "; ".join(cattrs.transform_error(error))
            raise JsonRpcInvalidParams(f"invalid {what}: {problems}") from None

    def receive(self, body: bytes) -> None:
        """One frame's body from the client. What is no JSON object names no request to answer:
        it is dropped with a line in the log. Text that is no Unicode reads as U+FFFD: bytes that
        are not UTF-8, and lone surrogates (`"\\ud800"`), which nothing below could encode."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("a message that is not UTF-8: its bad bytes read as U+FFFD")
            text = body.decode("utf-8", errors="replace")
        try:
            data = json.loads(text)
            if "\\u" in text and SURROGATE_ESCAPE.search(text):
                data = without_surrogates(data)
        except (ValueError, RecursionError) as error:
            log.warning("dropped a message that is not JSON: %s", str(error)[:200])
            return
        if not isinstance(data, dict):
            log.warning("dropped a message that is no JSON object: a JSON %s", type(data).__name__)
            return
        ident, method = data.get("id"), data.get("method")
        if "id" in data and (isinstance(ident, bool) or not isinstance(ident, int | str)):
            # LSP ids are integers or strings: no reply could name this one.
            log.warning("dropped a message whose id is a JSON %s", type(ident).__name__)
            return
        if data.get("jsonrpc") != "2.0" or ("method" in data and not isinstance(method, str)):
            if "id" in data and "method" in data:
                self._refuse(ident, JsonRpcInvalidRequest("not a JSON-RPC 2.0 request"))
            else:
                log.warning("dropped a message that is no JSON-RPC 2.0 message")
            return
        if isinstance(method, str) and (refusal := self._out_of_turn(method)) is not None:
            if "id" in data:
                self._refuse(ident, refusal)
            else:
                log.info("dropped %s: %s", method, refusal.message)
            return
        try:
            message = self.structure_message(data)
        except JsonRpcInvalidParams as error:
            if "id" in data and "method" in data:
                self._refuse(ident, error)
            else:
                log.warning("dropped a message: %s", error.message)
            return
        if method == types.INITIALIZE:  # with valid params: any other is refused from now on
            self._initialized = True
        try:
            self.handle_message(message)
        except Exception as error:  # one message must not end the session
            log.error("dropped a message that could not be handled: %s", error)

    def _out_of_turn(self, method: str) -> JsonRpcException | None:
        """Why the session's lifecycle forbids this method now, if it does."""
        if method == types.EXIT:
            return None
        if self._shutdown:  # pygls would drop it: a request would never get its reply
            return JsonRpcInvalidRequest(f"{method} after shutdown")
        if method == types.INITIALIZE:
            return (
                JsonRpcInvalidRequest("initialize was sent before") if self._initialized else None
            )
        if not self._initialized:  # pygls would serve it, on the default settings
            return JsonRpcServerNotInitialized(f"{method} before initialize")
        return None

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        # pygls logs a traceback with every error reply; an error a handler raised on purpose
        # (InvalidParams for an unknown command) is no bug: it is only sent.
        error = None if future.cancelled() else future.exception()
        if isinstance(error, JsonRpcException):
            self._request_futures.pop(msg_id, None)
            self._refuse(msg_id, error)
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def _refuse(self, ident: Any, error: JsonRpcException) -> None:
        log.info("refused request %r: %s", ident, error.message)
        self._send_response(ident, None, error.to_response_error())

    def handle_message(self, message: Any) -> None:
        if isinstance(self._server, GhosttypeServer):
            self._server.idle.touch()
        super().handle_message(message)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        # pygls 2.1 files each notification that a generator handler (didOpen, didChange, didClose
        # here) handles under a fresh id in `_request_futures`, and only replies ever remove an
        # entry: ~2 KB kept per keystroke (the soak's RSS growth). Forget them once done.
        known = len(self._request_futures)
        super()._handle_notification(method_name, params)
        for msg_id in list(itertools.islice(self._request_futures, known, None)):
            future = self._request_futures[msg_id]
            future.add_done_callback(functools.partial(self._forget_future, msg_id))

    def _forget_future(self, msg_id: Any, _future: Any) -> None:
        self._request_futures.pop(msg_id, None)

    @property
    def pending_requests(self) -> int:
        """Requests (and, in pygls 2.1, notifications) whose handling has not ended."""
        return len(self._request_futures)

    # ghosttype keeps its own DocumentStore. pygls' builtin handlers would also keep a copy of
    # every document and apply each keystroke's edit to it in Python, O(document): skipped, the
    # notifications go straight to ghosttype's handlers.
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class GhosttypeServer(LanguageServer):
    def __init__(self, config_file: Path | None = None) -> None:
        super().__init__("ghosttype", __version__, protocol_cls=GhosttypeProtocol)
        self.config_file = config_file
        self.engine: Engine | None = None
        # Every workspace folder is a root; the first one's ghosttype.toml is the workspace's
        # settings file.
        self.roots: list[Path] = []
        self.init_options: dict[str, Any] = {}
        self.client_settings: dict[str, Any] = {}
        self._warned: set[str] = set()
        self._noted: set[str] = set()
        self._progress_token: str | None = None
        self._progress_count = 0
        self.idle = IdleCollector()
        self.watch_task: asyncio.Future[None] | None = None

    # --- transport ---------------------------------------------------------------------------

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls' stdio server, with framing that survives a broken frame (FrameReader). `exit`
        ends the process with pygls' code: 0 after `shutdown`, 1 without."""
        frames = FrameReader(cast(io.BufferedIOBase, stdin or sys.stdin.buffer))
        self.protocol.set_writer(StdoutWriter(stdout or _protocol_stdout()))
        try:
            asyncio.run(self._serve(frames))
        except BrokenPipeError:
            log.error("the connection to the client is lost: shutting down")
        except KeyboardInterrupt:
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    def start_tcp(self, host: str, port: int) -> None:
        """The same over one TCP connection, as pygls' own serves one."""
        with socket.create_server((host, port)) as listener:
            connection, _ = listener.accept()
        with connection, connection.makefile("rb") as reader, connection.makefile("wb") as writer:
            self.start_io(reader, writer)

    async def _serve(self, frames: FrameReader) -> None:
        loop = asyncio.get_running_loop()
        protocol = cast(GhosttypeProtocol, self.protocol)
        # The next frame is read only once this one is handled: no read is left waiting when
        # `exit` ends the process.
        while (body := await loop.run_in_executor(self.thread_pool, frames.read)) is not None:
            protocol.receive(body)

    @property
    def root(self) -> Path | None:
        return self.roots[0] if self.roots else None

    def set_roots(self, roots: list[Path]) -> None:
        self.roots = list(dict.fromkeys(roots))
        if self.engine is not None:
            self.engine.context.set_roots(self.roots)

    # --- settings ----------------------------------------------------------------------------

    def layers(self) -> tuple[list[Layer], list[str]]:
        layers: list[Layer] = []
        problems: list[str] = []
        if self.root is not None:
            layer, problem = workspace_layer(self.root)
            layers += [layer] if layer else []
            problems += [problem] if problem else []
        if self.config_file is not None:
            layer, problem = read_toml(self.config_file)
            layers += [layer] if layer else []
            problems += [problem] if problem else []
        if self.init_options:
            layers.append(Layer("initializationOptions", self.init_options))
        if self.client_settings:
            layers.append(Layer("workspace/configuration", self.client_settings))
        return layers, problems

    def resolve_settings(self) -> Settings:
        layers, problems = self.layers()
        resolved = resolve(layers)
        for warning in [*problems, *resolved.warnings]:
            self.warn_once(warning)
        return resolved.settings

    def warn_once(self, message: str) -> None:
        if message in self._warned:
            return
        self._warned.add(message)
        log.warning(message)
        self.window_show_message(
            types.ShowMessageParams(types.MessageType.Warning, f"ghosttype: {message}")
        )

    def note_once(self, key: str, message: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            log.info(message)
            self.window_log_message(types.LogMessageParams(types.MessageType.Info, message))

    def send_status(self, state: str, message: str) -> None:
        try:
            self.protocol.notify(STATUS_NOTIFICATION, {"state": state, "message": message})
            self._loading_progress(state, message)
        except Exception:  # telling the client must never break what is being told
            log.exception("could not send the status to the client")

    def send_refresh(self, document: Document, offset: int) -> None:
        line, character = document.position_at(offset)
        params = {
            "textDocument": {"uri": document.uri, "version": document.version},
            "position": {"line": line, "character": character},
        }
        try:
            self.protocol.notify(REFRESH_NOTIFICATION, params)
        except Exception:  # a client gone mid-notification: the suggestion shown stays
            log.exception("could not send the refresh to the client")

    def new_engine(self) -> Engine:
        return Engine(
            self.resolve_settings(), self.send_status, self.root, refresh=self.send_refresh
        )

    def _loading_progress(self, state: str, message: str) -> None:
        """Mirrors `loading` as $/progress where the client accepts server-initiated progress."""
        window = self.client_capabilities.window
        if not (window and window.work_done_progress):
            return
        progress = self.work_done_progress
        if state == "loading":
            if self._progress_token is None:
                self._progress_count += 1
                self._progress_token = f"ghosttype-loading-{self._progress_count}"
                progress.create(self._progress_token)
                progress.begin(
                    self._progress_token,
                    types.WorkDoneProgressBegin(title="ghosttype", message=message),
                )
            else:
                progress.report(self._progress_token, types.WorkDoneProgressReport(message=message))
        elif self._progress_token is not None:
            progress.end(self._progress_token, types.WorkDoneProgressEnd(message=message))
            self._progress_token = None

    async def pull_client_settings(self) -> None:
        capabilities = self.client_capabilities.workspace
        if not (capabilities and capabilities.configuration):
            return
        try:
            result = await asyncio.wait_for(
                self.workspace_configuration_async(
                    types.ConfigurationParams([types.ConfigurationItem(section="ghosttype")])
                ),
                timeout=5,
            )
        except (TimeoutError, JsonRpcException) as error:
            log.info("workspace/configuration failed: %s", error)
            return
        section = result[0] if result else None
        self.client_settings = unwrap_settings(section)


def _protocol_stdout() -> io.BufferedWriter:
    """The client's end of stdout, on a descriptor of its own; descriptor 1 then points at
    stderr. llama-cpp-python silences a model load by pointing descriptor 1 at /dev/null for a
    moment: with a second model loading while the first serves, replies written then were lost
    (and a native library printing would corrupt the stream)."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return channel


def unwrap_settings(value: Any) -> dict[str, Any]:
    """Settings objects arrive as the schema itself or nested under "ghosttype". An empty table
    may arrive as an empty JSON array (Lua's `{}` has no other encoding): it means no settings."""
    if isinstance(value, dict) and "ghosttype" in value:
        value = value["ghosttype"]
    return dict(value) if isinstance(value, dict) else {}


def create_server(config_file: Path | None = None) -> GhosttypeServer:
    server = GhosttypeServer(config_file)

    @server.feature(types.INITIALIZE)
    def initialize(ls: GhosttypeServer, params: types.InitializeParams) -> None:
        uris = [f.uri for f in params.workspace_folders or []] or [params.root_uri or ""]
        ls.roots = [path for uri in uris if uri and (path := uri_to_path(uri)) is not None]
        ls.init_options = unwrap_settings(params.initialization_options)
        ls.engine = ls.new_engine()
        ls.set_roots(ls.roots)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(
        ls: GhosttypeServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        removed = {uri_to_path(f.uri) for f in params.event.removed}
        added = [uri_to_path(f.uri) for f in params.event.added]
        kept = [root for root in ls.roots if root not in removed]
        ls.set_roots([*kept, *(root for root in added if root is not None)])

    @server.feature(types.INITIALIZED)
    async def initialized(ls: GhosttypeServer, params: types.InitializedParams) -> None:
        await ls.pull_client_settings()
        engine = _engine(ls)
        await engine.apply_settings(ls.resolve_settings())
        engine.start()
        ls.watch_task = asyncio.ensure_future(_watch_files(ls))
        ls.idle.start()  # everything loaded so far is frozen: see idle_gc.py

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: GhosttypeServer, params: types.DidChangeConfigurationParams
    ) -> None:
        pushed = unwrap_settings(params.settings)
        if pushed:
            ls.client_settings = pushed
        else:
            await ls.pull_client_settings()
        await _engine(ls).apply_settings(ls.resolve_settings())

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: GhosttypeServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        engine = _engine(ls)
        engine.opened(engine.documents.open(item.uri, item.text, item.language_id, item.version))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: GhosttypeServer, params: types.DidChangeTextDocumentParams) -> None:
        edits = []
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = change.range.start, change.range.end
                edits.append(
                    TextEdit(change.text, (start.line, start.character), (end.line, end.character))
                )
            else:
                edits.append(TextEdit(change.text))
        uri = params.text_document.uri
        engine = _engine(ls)
        try:
            document = engine.documents.change(uri, edits, params.text_document.version)
        except KeyError:
            ls.note_once(f"unknown:{uri}", f"ghosttype: change for a document never opened: {uri}")
            return
        last = edits[-1] if edits else None
        offset = None
        if last is not None and last.start is not None:
            with contextlib.suppress(PositionError):  # the edit is applied; only the cue is lost
                offset = document.offset_at(*last.start) + len(last.text)
        engine.edited(document, offset)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: GhosttypeServer, params: types.DidSaveTextDocumentParams) -> None:
        _file_changed(ls, params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: GhosttypeServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        for change in params.changes:
            _file_changed(ls, change.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: GhosttypeServer, params: types.DidCloseTextDocumentParams) -> None:
        engine = _engine(ls)
        engine.documents.close(params.text_document.uri)
        engine.forget(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: GhosttypeServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        engine = _engine(ls)
        uri = params.text_document.uri
        document = engine.documents.get(uri)
        if document is None:
            ls.note_once(f"unknown:{uri}", f"ghosttype: completion asked for an unopened {uri}")
            return types.InlineCompletionList(items=[])
        if len(document.text) > MAX_DOCUMENT_CHARS or "\x00" in document.text[:65536]:
            kind = "binary" if "\x00" in document.text[:65536] else "too large"
            ls.note_once(f"skip:{uri}", f"ghosttype: no completions for {uri}: the file is {kind}")
            return types.InlineCompletionList(items=[])
        position = params.position
        try:
            offset = document.offset_at(position.line, position.character)
        except PositionError as error:
            ls.note_once(f"position:{uri}:{error}", f"ghosttype: {error} ({uri})")
            return types.InlineCompletionList(items=[])
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        try:
            reply = await engine.complete(document, offset, invoked)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must cost one suggestion, not the server
            log.exception("completion failed")
            return types.InlineCompletionList(items=[])
        return _to_lsp(reply, document, offset)

    @server.feature(MOVED_NOTIFICATION)
    def did_move_cursor(ls: GhosttypeServer, params: Any) -> None:
        engine = _engine(ls)
        try:
            uri = params.textDocument.uri
            line, character = int(params.position.line), int(params.position.character)
        except (AttributeError, TypeError, ValueError):
            ls.note_once("moved:params", f"ghosttype: {MOVED_NOTIFICATION} without a place")
            return
        document = engine.documents.get(uri)
        if document is not None:
            with contextlib.suppress(PositionError):  # a stale position: no cue, nothing lost
                engine.cursor_moved(document, document.offset_at(line, character))

    # pygls spreads a command's `arguments` list over the handler's parameters.
    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: GhosttypeServer, *arguments: Any) -> None:
        first = arguments[0] if arguments else None
        _engine(ls).accepted(str(first.get("id", "")) if isinstance(first, dict) else "")

    @server.command(STATS_COMMAND)
    def stats(ls: GhosttypeServer, *arguments: Any) -> dict[str, object]:
        return _engine(ls).stats_snapshot()

    register_actions(server, _engine)  # code actions: lsp/actions.py

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: GhosttypeServer, params: Any = None) -> None:
        if ls.engine is not None:
            await ls.engine.close()

    return server


def _file_changed(ls: GhosttypeServer, uri: str) -> None:
    """A file saved or changed on disk: the symbol index reads it again."""
    path = uri_to_path(uri)
    if path is not None:
        _engine(ls).symbols.file_changed(path.as_posix())


async def _watch_files(ls: GhosttypeServer) -> None:
    """Asks the client to report source files changed on disk (the symbol index follows them),
    where it can register a watcher at run time; a client that cannot costs nothing."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=WATCHED_FILES)]
    )
    registration = types.Registration(
        "ghosttype-watched-files", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options
    )
    try:
        await asyncio.wait_for(
            ls.client_register_capability_async(types.RegistrationParams([registration])), 5
        )
    except (TimeoutError, JsonRpcException) as error:
        log.info("the client watches no files for the symbol index: %s", error)


def _engine(ls: GhosttypeServer) -> Engine:
    if ls.engine is None:  # a client that skipped initialize
        ls.engine = ls.new_engine()
        ls.engine.context.set_roots(ls.roots)
    return ls.engine


def _to_lsp(reply: Reply, document: Any, offset: int) -> types.InlineCompletionList:
    items = []
    for suggestion in reply.items:
        completion_range = None
        if suggestion.replace_after:
            start = document.position_at(offset)
            end = document.position_at(offset + suggestion.replace_after)
            completion_range = types.Range(types.Position(*start), types.Position(*end))
        items.append(
            types.InlineCompletionItem(
                insert_text=suggestion.text,
                range=completion_range,
                command=types.Command(
                    title="ghosttype: accepted",
                    command=ACCEPTED_COMMAND,
                    arguments=[{"id": suggestion.id}],
                ),
            )
        )
    return types.InlineCompletionList(items=items)

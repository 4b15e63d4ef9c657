"""Code actions over LSP (docs/actions.md): `textDocument/codeAction` offers them,
`codeAction/resolve` computes the edit where the client can resolve, `workspace/executeCommand`
(`ghosttype.runAction`, `ghosttype.refactor`) runs one and applies the edit otherwise. Work-done
progress where the client accepts server-initiated progress; `$/cancelRequest` cancels the
handler, which stops the model and kills a test run, and so does the person's cancelling the
progress (`window/workDoneProgress/cancel`: the progress is cancellable). The actions live in
ghosttype.actions, which knows nothing of LSP."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ..actions import kinds
from ..actions.errors import ActionError
from ..actions.service import Actions, FileEdit, Offer, Outcome, Problem
from ..documents import Document, PositionError
from ..engine import Engine

log = logging.getLogger(__name__)

RUN_COMMAND = "ghosttype.runAction"
# Refactor with an instruction: arguments [data]; a client asks the person for the instruction
# and adds it as data["instruction"] before it sends the command (else: the comment above).
REFACTOR_COMMAND = "ghosttype.refactor"
SHOWN_MESSAGE_MAX = 2000
_tokens = itertools.count(1)


def register(server: LanguageServer, engine_of: Callable[[Any], Engine]) -> None:
    holder: dict[int, Actions] = {}

    def actions_of(ls: Any) -> Actions:
        engine = engine_of(ls)
        actions = holder.get(id(engine))
        if actions is None or actions.engine is not engine:
            holder.clear()
            actions = holder[id(engine)] = Actions(engine)
        return actions

    options = types.CodeActionOptions(
        code_action_kinds=list(kinds.ALL_KINDS), resolve_provider=True
    )

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(
        ls: LanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command]:
        actions = actions_of(ls)
        document = actions.engine.documents.get(params.text_document.uri)
        if document is None:
            return []
        try:
            start = document.offset_at(params.range.start.line, params.range.start.character)
            end = document.offset_at(params.range.end.line, params.range.end.character)
            problems = [_problem(document, d) for d in params.context.diagnostics]
        except PositionError:
            return []
        offers = actions.offers(document, start, end, problems, list(params.context.only or []))
        capabilities = ls.client_capabilities.text_document
        support = capabilities.code_action if capabilities else None
        literal = bool(support and support.code_action_literal_support)
        resolves = bool(
            support and support.resolve_support and "edit" in support.resolve_support.properties
        )
        by_problem = dict(zip(problems, params.context.diagnostics, strict=True))
        return [_lsp_offer(o, literal, resolves, by_problem) for o in offers]

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: LanguageServer, action: types.CodeAction) -> types.CodeAction:
        if action.data is None:
            # Refactor carries a command (the client asks the instruction first); clients
            # resolve every action without an edit, that one too: nothing to compute here.
            return action
        outcome = await _run(ls, actions_of(ls), action.data, action.title)
        if outcome is not None and outcome.edits:
            action.edit = _workspace_edit(ls, outcome.edits)
        return action

    @server.command(RUN_COMMAND)
    async def run_action(ls: LanguageServer, *arguments: Any) -> dict[str, Any]:
        return await _command(ls, actions_of(ls), arguments)

    @server.command(REFACTOR_COMMAND)
    async def refactor(ls: LanguageServer, *arguments: Any) -> dict[str, Any]:
        return await _command(ls, actions_of(ls), arguments)


async def _command(
    ls: LanguageServer, actions: Actions, arguments: tuple[Any, ...]
) -> dict[str, Any]:
    data = arguments[0] if arguments else None
    data = _plain(data)
    title = kinds.ACTIONS[data["action"]].title if _known(data) else "action"
    outcome = await _run(ls, actions, data, f"ghosttype: {title}")
    if outcome is None:
        return {"applied": False}
    applied = True
    if outcome.edits:
        result = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(_workspace_edit(ls, outcome.edits), label=title)
        )
        applied = bool(result.applied)
    return {"applied": applied, "message": outcome.message, "report": outcome.report}


async def _run(ls: LanguageServer, actions: Actions, data: Any, title: str) -> Outcome | None:
    """Runs the action with work-done progress; tells the person the outcome (or why there is
    none: then None, nothing written)."""
    progress = await _progress(ls, title)
    try:
        outcome = await actions.run(_plain(data), progress.report)
    except asyncio.CancelledError:
        progress.end("cancelled")
        task = asyncio.current_task()
        # The person cancelled the progress (its cancel button): no error for the request, as
        # long as the client did not also cancel the request itself.
        if progress.cancelled and task is not None and task.uncancel() == 0:
            _tell(ls, types.MessageType.Info, f"{title}: cancelled, nothing written")
            return None
        raise
    except ActionError as error:
        progress.end(error.message)
        _tell(ls, types.MessageType.Warning, f"ghosttype: {error.message}")
        return None
    except Exception:  # a bug must cost this action, not the server
        log.exception("a code action failed")
        progress.end("failed")
        _tell(ls, types.MessageType.Error, "ghosttype: the action failed (see the log)")
        return None
    progress.end(outcome.message)
    if outcome.report:
        ls.window_log_message(types.LogMessageParams(types.MessageType.Info, outcome.report))
    if outcome.show is not None:
        await _show(ls, outcome)
    else:
        _tell(ls, types.MessageType.Info, outcome.message)
    return outcome


class _Progress:
    def __init__(self, ls: LanguageServer, token: str | None):
        self.ls = ls
        self.token = token
        self.cancelled = False  # by the person, through window/workDoneProgress/cancel

    def cancels(self, task: asyncio.Task[Any]) -> None:
        """Cancels `task` when the client cancels this progress (pygls cancels the token's
        future on window/workDoneProgress/cancel)."""
        token = self.token
        future = self.ls.work_done_progress.tokens.get(token) if token else None
        if future is None:
            return
        loop = asyncio.get_running_loop()

        def cancel() -> None:
            if self.token == token:  # not ended meanwhile
                self.cancelled = True
                task.cancel()

        future.add_done_callback(
            lambda f: loop.call_soon_threadsafe(cancel) if f.cancelled() else None
        )

    def report(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message)
            )

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)  # pygls keeps them all
            self.token = None


async def _progress(ls: LanguageServer, title: str) -> _Progress:
    window = ls.client_capabilities.window
    if not (window and window.work_done_progress):
        return _Progress(ls, None)
    token = f"ghosttype-action-{next(_tokens)}"
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), 5)
    except Exception as error:  # a client that refuses: no progress, the action runs
        log.info("no work-done progress: %s", error)
        return _Progress(ls, None)
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True))
    progress = _Progress(ls, token)
    task = asyncio.current_task()
    if task is not None:
        progress.cancels(task)
    return progress


async def _show(ls: LanguageServer, outcome: Outcome) -> None:
    assert outcome.show is not None
    window = ls.client_capabilities.window
    if window and window.show_document and window.show_document.support:
        params = types.ShowDocumentParams(uri=outcome.show.as_uri(), take_focus=True)
        shown = await ls.window_show_document_async(params)
        if shown.success:
            return
    _tell(ls, types.MessageType.Info, outcome.message[:SHOWN_MESSAGE_MAX])


def _tell(ls: LanguageServer, kind: types.MessageType, message: str) -> None:
    ls.window_show_message(types.ShowMessageParams(kind, message))


def _known(data: Any) -> bool:
    return isinstance(data, dict) and data.get("action") in kinds.ACTIONS


def _plain(data: Any) -> Any:
    """Arguments as plain JSON values (pygls may hand over attrs objects for unknown types)."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    if hasattr(data, "__dict__") and not isinstance(data, type):
        return {k: _plain(v) for k, v in vars(data).items() if not k.startswith("_")}
    return data


def _problem(document: Document, diagnostic: types.Diagnostic) -> Problem:
    start, end = diagnostic.range.start, diagnostic.range.end
    return Problem(
        diagnostic.message,
        document.offset_at(start.line, start.character),
        document.offset_at(end.line, end.character),
        diagnostic.source or "",
    )


def _lsp_offer(
    offer: Offer, literal: bool, resolves: bool, by_problem: dict[Problem, types.Diagnostic]
) -> types.CodeAction | types.Command:
    name = REFACTOR_COMMAND if offer.asks else RUN_COMMAND
    command = types.Command(offer.title, name, arguments=[offer.data])
    if not literal:
        return command
    diagnostics = [by_problem[offer.problem]] if offer.problem in by_problem else None
    if resolves and not offer.asks:
        return types.CodeAction(
            offer.title, kind=offer.kind, diagnostics=diagnostics, data=offer.data
        )
    return types.CodeAction(offer.title, kind=offer.kind, diagnostics=diagnostics, command=command)


def _workspace_edit(ls: LanguageServer, edits: tuple[FileEdit, ...]) -> types.WorkspaceEdit:
    workspace = ls.client_capabilities.workspace
    edit_caps = workspace.workspace_edit if workspace else None
    creates = bool(
        edit_caps
        and edit_caps.resource_operations
        and types.ResourceOperationKind.Create in edit_caps.resource_operations
    )
    # A client that can create files takes document changes (Neovim 0.11 says only the former).
    document_changes = bool(edit_caps and edit_caps.document_changes) or creates
    changes: dict[str, list[types.TextEdit]] = {}
    operations: list[Any] = []
    for edit in edits:
        base = Document(edit.uri, edit.base)
        start, end = base.position_at(edit.start), base.position_at(edit.end)
        text_edit = types.TextEdit(
            types.Range(types.Position(*start), types.Position(*end)), edit.text
        )
        if document_changes:
            if edit.create and creates:
                operations.append(
                    types.CreateFile(
                        uri=edit.uri, options=types.CreateFileOptions(ignore_if_exists=True)
                    )
                )
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=edit.uri, version=None)
            operations.append(types.TextDocumentEdit(identifier, [text_edit]))
        else:
            changes.setdefault(edit.uri, []).append(text_edit)
    if document_changes:
        return types.WorkspaceEdit(document_changes=operations)
    return types.WorkspaceEdit(changes=changes)

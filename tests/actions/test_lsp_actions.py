"""Code actions through the real server over stdio (pytest-lsp), on the scripted backend:
offering, codeAction/resolve with work-done progress, Explain shown with window/showDocument,
the command path with workspace/applyEdit, cancellation, and bad input that leaves the server
serving."""

from __future__ import annotations

import ast
import asyncio
import os
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.actions.helpers import SOURCE, fenced
from tests.conftest import SERVER_COMMAND, write_script

FOLDER = Path(tempfile.mkdtemp(prefix="ghosttype-actions-lsp-"))
CACHE = FOLDER / "cache"
ROOT = FOLDER / "project"
ROOT.mkdir()
SCRIPT = write_script(
    FOLDER,
    {
        "rules": [{"endsWith": "x = ", "text": "compute(1, 2)"}],
        "chat": [
            {"contains": "SLOW", "text": "x" * 2000, "tokenDelayMs": 20},
            {"contains": "documentation comment", "text": "Add two numbers.\n\nReturns a + b."},
            {"contains": "Explain this", "text": "It **adds** its arguments."},
            {"contains": "Refactor this", "text": fenced("def add(a, b):\n    return b + a\n")},
        ],
    },
)
APPLIED: list[types.ApplyWorkspaceEditParams] = []


def capabilities(resolve: bool = True) -> types.ClientCapabilities:
    caps = client_capabilities("neovim")
    if not resolve:
        caps.text_document.code_action.resolve_support = None
    return caps


def config() -> ClientServerConfig:
    env = {**os.environ, "GHOSTTYPE_CACHE_DIR": str(CACHE)}
    return ClientServerConfig(server_command=SERVER_COMMAND, server_env=env)


async def start(lsp_client: LanguageClient, resolve: bool) -> None:
    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams):
        APPLIED.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(resolve),
            root_uri=ROOT.as_uri(),
            initialization_options={
                "backend": {"kind": "scripted", "script": str(SCRIPT)},
                "completion": {"debounceMs": 0},
            },
        )
    )


@pytest_lsp.fixture(config=config(), scope="module")
async def client(lsp_client: LanguageClient):
    await start(lsp_client, resolve=True)
    yield
    await lsp_client.shutdown_session()


def open_source(client: LanguageClient, name: str, text: str = SOURCE) -> str:
    uri = (ROOT / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    return uri


async def code_actions(client: LanguageClient, uri: str, line: int, character: int, **context):
    position = types.Position(line, character)
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(position, position),
            context=types.CodeActionContext(
                diagnostics=context.get("diagnostics", []), only=context.get("only")
            ),
        )
    )


def command_of(item) -> dict:
    """A code action's command as sent. pytest-lsp's converter reads a CodeAction that carries a
    command as a Command whose `command` is the repr of the CodeAction's command."""
    if isinstance(item, types.Command) and item.command.startswith("{"):
        return ast.literal_eval(item.command)
    command = item.command
    return {"command": command.command, "arguments": command.arguments}


def by_title(actions, title: str) -> types.CodeAction:
    return next(a for a in actions if a.title == title)


async def test_the_server_offers_code_actions_with_resolve(client: LanguageClient):
    uri = open_source(client, "offer.py")
    diagnostic = types.Diagnostic(
        types.Range(types.Position(1, 4), types.Position(1, 10)), "bad return", source="lint"
    )
    actions = await code_actions(client, uri, 1, 8, diagnostics=[diagnostic])
    titles = [a.title for a in actions]
    assert "ghosttype: Fix: bad return" in titles and "ghosttype: Generate tests" in titles
    fix = by_title(actions, "ghosttype: Fix: bad return")
    assert fix.kind == "quickfix" and list(fix.diagnostics) == [diagnostic]
    tests = by_title(actions, "ghosttype: Generate tests")
    # Edits come only on resolve: offering is instant.
    assert tests.edit is None and tests.data["action"] == "tests"
    refactor = by_title(actions, "ghosttype: Refactor with an instruction")
    assert command_of(refactor)["command"] == "ghosttype.refactor"


async def test_resolving_write_docstring_gives_the_edit_with_progress(client: LanguageClient):
    uri = open_source(client, "doc.py")
    actions = await code_actions(client, uri, 1, 8)
    before = set(client.progress_reports)
    resolved = await client.code_action_resolve_async(
        by_title(actions, "ghosttype: Write docstring")
    )
    (change,) = resolved.edit.document_changes
    (edit,) = change.edits
    assert change.text_document.uri == uri
    assert edit.range.start == types.Position(1, 4)
    assert edit.new_text == '"""Add two numbers.\n\n    Returns a + b.\n    """\n    '
    (token,) = set(client.progress_reports) - before
    kinds = [type(p).__name__ for p in client.progress_reports[token]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


async def test_explain_opens_a_markdown_file_under_the_cache_folder(client: LanguageClient):
    uri = open_source(client, "explain.py")
    actions = await code_actions(client, uri, 1, 8)
    resolved = await client.code_action_resolve_async(by_title(actions, "ghosttype: Explain"))
    assert resolved.edit is None
    shown = client.shown_documents[-1]
    path = Path(shown.uri.removeprefix("file://"))
    assert path.is_relative_to(CACHE) and path.suffix == ".md"
    assert "It **adds** its arguments." in await asyncio.to_thread(path.read_text)


async def test_refactor_takes_the_instruction_as_the_commands_argument(client: LanguageClient):
    uri = open_source(client, "refactor.py")
    actions = await code_actions(client, uri, 1, 8)
    command = command_of(by_title(actions, "ghosttype: Refactor with an instruction"))
    data = {**command["arguments"][0], "instruction": "swap the operands"}
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command["command"], [data])
    )
    assert result["applied"] is True
    (change,) = APPLIED[-1].edit.document_changes
    assert change.edits[0].new_text == "def add(a, b):\n    return b + a"


async def test_resolving_refactor_which_carries_a_command_computes_nothing(client):
    # VS Code and Neovim resolve every action without an edit, Refactor too: it must come back
    # as it went, without a progress or a warning (the instruction is asked for first).
    uri = open_source(client, "resolve_refactor.py")
    actions = await code_actions(client, uri, 1, 8)
    command = command_of(by_title(actions, "ghosttype: Refactor with an instruction"))
    refactor = types.CodeAction(  # as sent (pytest-lsp reads it back as a Command)
        "ghosttype: Refactor with an instruction",
        kind="refactor.rewrite.ghosttype.instruction",
        command=types.Command("refactor", command["command"], arguments=command["arguments"]),
    )
    before = set(client.progress_reports)
    resolved = await client.code_action_resolve_async(refactor)
    assert resolved.title == refactor.title and resolved.edit is None
    assert set(client.progress_reports) == before


async def test_bad_input_is_a_message_and_the_server_keeps_serving(client: LanguageClient):
    uri = open_source(client, "bad.py", "import os\n\n\n")
    data = {"action": "tests", "uri": uri, "start": 11, "end": 11}
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.runAction", [data])
    )
    assert result == {"applied": False}
    assert "no function or class at the range" in client.messages[-1].message
    nonsense = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.runAction", ["nonsense"])
    )
    assert nonsense == {"applied": False}
    completion_uri = open_source(client, "still.py", "x = ")
    reply = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
            text_document=types.TextDocumentIdentifier(completion_uri),
            position=types.Position(0, 4),
        )
    )
    assert [i.insert_text for i in reply.items] == ["compute(1, 2)"]


async def test_a_cancelled_resolve_stops_and_the_server_keeps_serving(client: LanguageClient):
    uri = open_source(client, "slow.py", "def add(a, b):\n    # SLOW\n    return a + b\n")
    actions = await code_actions(client, uri, 2, 8)
    explain = by_title(actions, "ghosttype: Explain")
    before = set(client.progress_reports)
    request = asyncio.ensure_future(
        client.protocol.send_request_async(types.CODE_ACTION_RESOLVE, explain, msg_id="slow-1")
    )
    await asyncio.sleep(1.0)  # the answer takes 10 s: 500 tokens at 20 ms
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="slow-1"))
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(request, 5)
    assert raised.value.code == -32800  # RequestCancelled
    (token,) = set(client.progress_reports) - before
    assert client.progress_reports[token][-1].message == "cancelled"
    stats = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.stats", [])
    )
    assert "requests" in stats


async def test_the_person_cancels_the_progress_and_nothing_is_written(client: LanguageClient):
    # VS Code and Neovim show work-done progress; a cancellable one can be stopped by the person
    # (window/workDoneProgress/cancel): the action stops, the request ends without an edit.
    uri = open_source(client, "cancel.py", "def add(a, b):\n    # SLOW\n    return a + b\n")
    actions = await code_actions(client, uri, 2, 8)
    before = set(client.progress_reports)
    request = asyncio.ensure_future(
        client.code_action_resolve_async(by_title(actions, "ghosttype: Explain"))
    )
    for _ in range(100):  # up to 5 s for the progress to begin
        if token := _explain_progress(client, before):
            break
        await asyncio.sleep(0.05)
    assert token, "no progress began"
    begin = client.progress_reports[token][0]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable is True
    await asyncio.sleep(0.5)  # the answer takes 10 s: 500 tokens at 20 ms
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    resolved = await asyncio.wait_for(request, 5)
    assert resolved.edit is None
    assert client.progress_reports[token][-1].message == "cancelled"
    assert client.messages[-1].message == "ghosttype: Explain: cancelled, nothing written"
    stats = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.stats", [])
    )
    assert "requests" in stats


def _explain_progress(client: LanguageClient, before: set) -> str | None:
    """The token of the Explain progress that began after `before` (the server reports other
    progress too: the symbol index)."""
    for token in set(client.progress_reports) - before:
        begin = client.progress_reports[token][0]
        if getattr(begin, "title", "") == "ghosttype: Explain":
            return token
    return None

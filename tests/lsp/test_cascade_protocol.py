"""The cascade's push through the real server over stdio: a scripted backend per role (they answer
differently), so the refresh notification and the answer it brings are deterministic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import SERVER_COMMAND, write_script

SCRIPT_DIR = Path(__file__).parent / "_scripts"
SCRIPT_DIR.mkdir(exist_ok=True)
TYPING = write_script(
    SCRIPT_DIR,
    {"rules": [{"endsWith": "x = ", "text": "typing()"}, {"endsWith": "y = ", "text": "same()"}]},
    "cascade_typing.json",
)
PAUSE = write_script(
    SCRIPT_DIR,
    {"rules": [{"endsWith": "x = ", "text": "paused()"}, {"endsWith": "y = ", "text": "same()"}]},
    "cascade_pause.json",
)
REFRESHES: list = []
REFRESHED = asyncio.Event()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), scope="module")
async def client(lsp_client: LanguageClient):
    @lsp_client.feature("ghosttype/refreshInlineCompletion")
    def on_refresh(params):
        REFRESHES.append(params)
        REFRESHED.set()

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=SCRIPT_DIR.as_uri(),
            initialization_options={
                "backend": {"kind": "scripted", "script": str(TYPING)},
                "pauseBackend": {"kind": "scripted", "script": str(PAUSE)},
                "completion": {"debounceMs": 0},
            },
        )
    )
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, name: str, text: str) -> str:
    uri = (SCRIPT_DIR / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 7, text))
    )
    return uri


async def complete(client: LanguageClient, uri: str, line: int, character: int, invoked: bool):
    kind = types.InlineCompletionTriggerKind
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(kind.Invoked if invoked else kind.Automatic),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    return [item.insert_text for item in result.items]


async def test_a_better_answer_in_a_pause_is_pushed_and_served_when_asked_again(client):
    uri = open_document(client, "cascade.py", "import os\nx = ")
    assert await complete(client, uri, 1, 4, invoked=False) == ["typing()"]
    await asyncio.wait_for(REFRESHED.wait(), 10)
    (refresh,) = REFRESHES
    assert refresh.textDocument.uri == uri and refresh.textDocument.version == 7
    assert (refresh.position.line, refresh.position.character) == (1, 4)
    # What a client does on the refresh (VS Code's trigger command asks as invoked).
    assert await complete(client, uri, 1, 4, invoked=True) == ["paused()"]


async def pause_answers(client: LanguageClient) -> int:
    stats = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.stats")
    )
    return stats["pauseAnswers"]


async def test_the_same_answer_in_a_pause_pushes_nothing(client):
    REFRESHES.clear()
    before = await pause_answers(client)
    uri = open_document(client, "same.py", "y = ")
    assert await complete(client, uri, 0, 4, invoked=False) == ["same()"]
    for _ in range(200):  # up to 10 s
        if await pause_answers(client) > before:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the pause role never answered")
    assert REFRESHES == []

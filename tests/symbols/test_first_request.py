"""An invoked request made right after the server started and the file was opened (before the
index has built or read the document) is still checked: it waits for that work, briefly (the
real server over stdio with a scripted backend: deterministic)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import SERVER_COMMAND, write_script

from .test_ranking import LEDGER, MAIN, SCRIPT, start_session

WORKSPACE = Path(tempfile.mkdtemp(prefix="ghosttype-first-")).resolve()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), scope="module")
async def client(lsp_client: LanguageClient):
    (WORKSPACE / "ledger.py").write_text(LEDGER, encoding="utf-8")
    (WORKSPACE / "main.py").write_text(MAIN, encoding="utf-8")
    await start_session(lsp_client, WORKSPACE, write_script(WORKSPACE, SCRIPT, "script.json"))
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(WORKSPACE, ignore_errors=True)


async def test_an_invoked_request_right_after_opening_is_checked(client: LanguageClient):
    uri = (WORKSPACE / "main.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, MAIN))
    )
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(4, 10),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    assert [str(item.insert_text) for item in result.items] == ["post_entry(10)", "pay(10)"]

"""The real server over stdio (pytest-lsp), on the scripted backend: the protocol surface, bad
input, settings. One server for the module; the scripted backend keeps replies deterministic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import SERVER_COMMAND, write_script

SCRIPT_DIR = Path(__file__).parent / "_scripts"
SCRIPT_DIR.mkdir(exist_ok=True)
SCRIPT = write_script(
    SCRIPT_DIR,
    {
        "rules": [
            {"endsWith": "x = ", "text": "compute(1, 2)"},
            {"endsWith": "call(", "text": "a, b)"},
            {"endsWith": "emoji = '😀", "text": "é'"},
            {"endsWith": "slow = ", "text": "a" * 200, "tokenDelayMs": 10},
        ]
    },
)
STATUSES: list[dict] = []
INITIALIZED: list[types.InitializeResult] = []


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), scope="module")
async def client(lsp_client: LanguageClient):
    @lsp_client.feature("ghosttype/status")
    def on_status(params):
        STATUSES.append({"state": params.state, "message": params.message})

    lsp_client.set_configuration({"completion": {"debounceMs": 0}}, section="ghosttype")
    capabilities = client_capabilities("neovim")
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=Path(SCRIPT_DIR).as_uri(),
            initialization_options={
                "backend": {"kind": "scripted", "script": str(SCRIPT)},
                "completion": {"bogusKey": 1},
            },
        )
    )
    INITIALIZED.append(result)
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, name: str, text: str, language: str = "python") -> str:
    uri = (SCRIPT_DIR / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
    )
    return uri


async def complete(client: LanguageClient, uri: str, line: int, character: int, invoked=True):
    kind = (
        types.InlineCompletionTriggerKind.Invoked
        if invoked
        else types.InlineCompletionTriggerKind.Automatic
    )
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=kind),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
    )


async def test_advertises_inline_completion_and_utf16(client: LanguageClient):
    # neovim's capabilities offer utf-8 first; ghosttype keeps UTF-16, the LSP default.
    result = INITIALIZED[0].capabilities
    assert result.inline_completion_provider
    assert result.position_encoding in (None, types.PositionEncodingKind.Utf16)


async def test_completion_with_accept_command(client: LanguageClient):
    uri = open_document(client, "a.py", "import os\nx = \n")
    result = await complete(client, uri, 1, 4)
    (item,) = result.items
    assert item.insert_text == "compute(1, 2)"
    assert item.range is None
    assert item.command.command == "ghosttype.accepted"
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.accepted", item.command.arguments)
    )
    stats = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.stats")
    )
    assert stats["accepted"] == 1 and stats["requests"] >= 1
    assert set(stats) >= {
        "requests",
        "modelCalls",
        "cacheHits",
        "cancelled",
        "accepted",
        "latencyMs",
        "generatedTokens",
        "wastedTokens",
        "draftedTokens",
        "acceptedTokens",
    }


async def test_auto_closed_bracket_gets_a_range(client: LanguageClient):
    uri = open_document(client, "b.py", "call()\n")
    (item,) = (await complete(client, uri, 0, 5)).items
    assert item.insert_text == "a, b)"
    assert item.range == types.Range(types.Position(0, 5), types.Position(0, 6))


async def test_incremental_changes_and_utf16_columns(client: LanguageClient):
    uri = open_document(client, "c.py", "emoji = ''\n")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [
                types.TextDocumentContentChangePartial(
                    types.Range(types.Position(0, 9), types.Position(0, 9)), "😀"
                )
            ],
        )
    )
    # After "emoji = '😀" the cursor is at UTF-16 column 11 (😀 counts two), before the closing '.
    (item,) = (await complete(client, uri, 0, 11)).items
    assert item.insert_text == "é'"
    assert item.range == types.Range(types.Position(0, 11), types.Position(0, 12))


async def test_position_past_the_end_of_the_line_clamps(client: LanguageClient):
    uri = open_document(client, "d.py", "x = \n")
    (item,) = (await complete(client, uri, 0, 40)).items
    assert item.insert_text == "compute(1, 2)"


async def test_line_past_the_end_of_the_document_gets_an_empty_list(client: LanguageClient):
    uri = open_document(client, "e.py", "x = \n")
    assert (await complete(client, uri, 99, 0)).items == ()


async def test_unknown_document_gets_an_empty_list(client: LanguageClient):
    result = await complete(client, (SCRIPT_DIR / "never-opened.py").as_uri(), 0, 0)
    assert result.items == ()


async def test_binary_and_huge_documents_get_empty_lists(client: LanguageClient):
    binary = open_document(client, "blob.py", "x = \x00\x01\x02")
    assert (await complete(client, binary, 0, 4)).items == ()
    huge = open_document(client, "huge.py", "a = 1\n" * 9_000_000 + "x = ")
    assert (await complete(client, huge, 9_000_000, 4)).items == ()
    # ... and the server keeps serving.
    uri = open_document(client, "after.py", "x = ")
    assert (await complete(client, uri, 0, 4)).items


async def test_cancel_request_stops_the_generation(client: LanguageClient):
    uri = open_document(client, "g.py", "slow = ")
    before = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.stats")
    )
    request = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(0, 7),
            ),
            msg_id="cancel-me",
        )
    )
    # Cancelled once the generation is under way (the server says "busy" after 0.3 s of it).
    assert await status_becomes(lambda status: status["state"] == "busy")
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(request, 10)
    assert raised.value.code == -32800  # RequestCancelled
    after = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.stats")
    )
    assert after["cancelled"] == before["cancelled"] + 1
    # 200 tokens at 10 ms would take 2 s; cancelled after 0.3 s it produced far fewer.
    assert after["generatedTokens"] - before["generatedTokens"] < 100


async def test_unknown_setting_is_reported_once_by_name(client: LanguageClient):
    warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
    assert sum("completion.bogusKey" in m for m in warnings) == 1


async def test_status_reached_ready(client: LanguageClient):
    assert any(s["state"] == "ready" for s in STATUSES)
    assert STATUSES[0]["state"] == "loading"


async def test_loading_is_also_reported_as_progress(client: LanguageClient):
    # Neovim's capabilities accept server-initiated $/progress.
    (reports,) = client.progress_reports.values()
    assert reports[0].kind == "begin" and reports[0].title == "ghosttype"
    assert reports[-1].kind == "end"


async def test_a_backend_restart_reports_loading_again(client: LanguageClient):
    other = write_script(
        SCRIPT_DIR, {"rules": [{"endsWith": "x = ", "text": "other()"}]}, "other.json"
    )
    client.set_configuration(
        {"completion": {"debounceMs": 0}, "backend": {"kind": "scripted", "script": str(other)}},
        section="ghosttype",
    )
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert await status_becomes(lambda s: s["state"] == "ready" and "other.json" in s["message"])
    assert len(client.progress_reports) == 2  # a fresh progress token for the second load
    uri = open_document(client, "restart.py", "x = ")
    assert (await complete(client, uri, 0, 4)).items[0].insert_text == "other()"
    client.set_configuration({"completion": {"debounceMs": 0}}, section="ghosttype")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    # Back on the module's own script before the next test.
    assert await status_becomes(lambda s: s["state"] == "ready" and SCRIPT.name in s["message"])


async def test_configuration_change_applies_without_restart(client: LanguageClient):
    client.set_configuration(
        {"completion": {"debounceMs": 0}, "enable": {"languages": {"python": False}}},
        section="ghosttype",
    )
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    uri = open_document(client, "h.py", "x = ")
    # The server pulls the new settings itself: give it up to 5 s on a loaded machine.
    assert await eventually(lambda items: items == (), client, uri)
    client.set_configuration({"completion": {"debounceMs": 0}}, section="ghosttype")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert await eventually(lambda items: bool(items), client, uri)


async def status_becomes(condition, seconds: float = 10.0) -> bool:
    """Waits (bounded) for a ghosttype/status notification that meets `condition`."""
    for _ in range(int(seconds / 0.02)):
        if STATUSES and condition(STATUSES[-1]):
            return True
        await asyncio.sleep(0.02)
    return False


async def eventually(condition, client: LanguageClient, uri: str, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.1)):
        if condition((await complete(client, uri, 0, 4)).items):
            return True
        await asyncio.sleep(0.1)
    return False

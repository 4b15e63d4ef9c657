"""The cascade with the real models (the default configuration: the 0.5B types, the 1.5B answers
pauses and invoked requests), through the real server over stdio. One server per test: each
starts from the moment the typing model is ready, while the pause model still loads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import SERVER_COMMAND

pytestmark = pytest.mark.model

WORKSPACE = Path(__file__).parent / "_workspace"
WORKSPACE.mkdir(exist_ok=True)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def client(lsp_client: LanguageClient):
    lsp_client.ready = asyncio.Event()  # type: ignore[attr-defined]
    lsp_client.refreshes = []  # type: ignore[attr-defined]

    @lsp_client.feature("ghosttype/status")
    def on_status(params):
        if params.state == "ready":
            lsp_client.ready.set()  # type: ignore[attr-defined]

    @lsp_client.feature("ghosttype/refreshInlineCompletion")
    def on_refresh(params):
        lsp_client.refreshes.append(params)  # type: ignore[attr-defined]

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=WORKSPACE.as_uri(),
            initialization_options={"completion": {"maxTokens": 24, "debounceMs": 0}},
        )
    )
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, name: str, text: str) -> str:
    uri = (WORKSPACE / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    return uri


async def complete(client: LanguageClient, uri: str, line: int, character: int, invoked: bool):
    kind = types.InlineCompletionTriggerKind
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(kind.Invoked if invoked else kind.Automatic),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(line, character),
    )
    result = await asyncio.wait_for(client.text_document_inline_completion_async(params), 60)
    return [item.insert_text for item in result.items] if result else []


async def stats(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghosttype.stats")
    )


async def test_typing_is_answered_while_the_pause_model_loads(client):
    # llama-cpp-python points descriptor 1 at /dev/null while it loads a model: the replies
    # written meanwhile were lost when the protocol used descriptor 1 (the second model loads
    # after the first is ready, while the person types).
    uri = open_document(client, "loading.py", "def add(a, b):\n    return a")
    await asyncio.wait_for(client.ready.wait(), 120)
    for _ in range(5):  # one request after another, all through the pause model's load
        assert await complete(client, uri, 1, 12, invoked=False) is not None


async def test_in_a_pause_the_larger_model_answers_the_same_place(client):
    text = (
        "def mean(values):\n"
        '    """The arithmetic mean of a non-empty list of numbers."""\n'
        "    return "
    )
    uri = open_document(client, "mean.py", text)
    await asyncio.wait_for(client.ready.wait(), 120)
    typed = await complete(client, uri, 2, 11, invoked=False)
    for _ in range(600):  # the pause model loads, then answers the place: up to a minute
        if (await stats(client))["pauseAnswers"] >= 1:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the pause model never answered")
    again = await complete(client, uri, 2, 11, invoked=True)
    assert again and "len(values)" in again[0]  # the 1.5B's answer, from its cache
    if client.refreshes:  # it differed from the typing model's: the client was told
        (refresh,) = client.refreshes
        assert (refresh.position.line, refresh.position.character) == (2, 11)
        assert again != typed
    else:
        assert again == typed

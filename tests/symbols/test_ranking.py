"""The candidates step: a candidate that invents no name goes first whatever the model's
confidence, and an invoked request whose candidates all invent one asks for more (the ranking
alone, then through the real server over stdio with a scripted backend: deterministic)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from ghosttype.candidates import Candidate, rank
from ghosttype.postprocess import Completion
from tests.conftest import SERVER_COMMAND, write_script


def test_a_candidate_without_inventions_ranks_first_whatever_its_confidence() -> None:
    sure = Candidate(Completion("pay(10)"), confidence=-0.01, invented=1)
    unsure = Candidate(Completion("post_entry(10)"), confidence=-2.5, invented=0)
    assert [c.text for c in rank([sure, unsure])] == ["post_entry(10)", "pay(10)"]


def test_without_inventions_the_order_stays() -> None:
    first = Candidate(Completion("a"), confidence=-0.1)
    second = Candidate(Completion("b"), confidence=-0.2)
    assert [c.text for c in rank([first, second])] == ["a", "b"]
    both = [replace_invented(first, 1), replace_invented(second, 2)]
    assert [c.text for c in rank(both)] == ["a", "b"]


def replace_invented(candidate: Candidate, invented: int) -> Candidate:
    return Candidate(candidate.completion, candidate.confidence, invented=invented)


WORKSPACE = Path(tempfile.mkdtemp(prefix="ghosttype-symbols-")).resolve()
LEDGER = """class Ledger:
    def post_entry(self, amount: int) -> None: ...

    def balance_of(self, account: str) -> int: ...
"""
MAIN = """from ledger import Ledger


def settle(store: Ledger, thing):
    store.
    thing.
"""
# The first candidate invents a method, the second (sampled) one uses a real one.
SCRIPT = {"rules": [{"endsWith": ".", "candidates": ["pay(10)", "post_entry(10)"]}]}


def setup_workspace() -> Path:
    WORKSPACE.mkdir(exist_ok=True)
    (WORKSPACE / "ledger.py").write_text(LEDGER, encoding="utf-8")
    (WORKSPACE / "main.py").write_text(MAIN, encoding="utf-8")
    return write_script(WORKSPACE, SCRIPT, "script.json")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), scope="module")
async def client(lsp_client: LanguageClient):
    await start_session(lsp_client, WORKSPACE, setup_workspace())
    uri = (WORKSPACE / "main.py").as_uri()
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, MAIN))
    )
    await wait_for_index(lsp_client)
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(WORKSPACE, ignore_errors=True)


async def start_session(client: LanguageClient, workspace: Path, script: Path) -> None:
    """The server initialised on `workspace` with the scripted backend, no debounce."""
    client.set_configuration({"completion": {"debounceMs": 0}}, section="ghosttype")
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=workspace.as_uri(),
            initialization_options={"backend": {"kind": "scripted", "script": str(script)}},
        )
    )


async def wait_for_index(client: LanguageClient) -> None:
    """The index builds in the server's background thread: its stats say when it is done."""
    for _ in range(200):
        stats = await client.workspace_execute_command_async(
            types.ExecuteCommandParams("ghosttype.stats")
        )
        if stats["symbols"]["ready"]:
            await asyncio.sleep(0.5)  # the opened document's own facts: a debounce later
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the symbol index was not built in 10 s")


async def complete(client: LanguageClient, line: int, character: int, invoked: bool) -> list[str]:
    kind = types.InlineCompletionTriggerKind
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=kind.Invoked if invoked else kind.Automatic
            ),
            text_document=types.TextDocumentIdentifier((WORKSPACE / "main.py").as_uri()),
            position=types.Position(line, character),
        )
    )
    items = result.items if isinstance(result, types.InlineCompletionList) else result or []
    return [str(item.insert_text) for item in items]


async def test_invoked_asks_again_and_shows_the_real_member_first(client: LanguageClient):
    assert await complete(client, 4, 10, invoked=True) == ["post_entry(10)", "pay(10)"]


async def test_an_unresolved_receiver_is_left_free(client: LanguageClient):
    assert await complete(client, 5, 10, invoked=True) == ["pay(10)"]


async def test_typing_asks_one_candidate(client: LanguageClient):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=(WORKSPACE / "main.py").as_uri()),
            [types.TextDocumentContentChangeWholeDocument(MAIN + "\n")],
        )
    )
    assert await complete(client, 4, 10, invoked=False) == ["pay(10)"]


async def test_a_renamed_member_is_seen_by_the_next_completion(client: LanguageClient):
    """ledger.py opened and its method renamed to `pay`: the invented name is now the real one,
    and the first candidate stands (nothing more is asked)."""
    ledger_uri = (WORKSPACE / "ledger.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(ledger_uri, "python", 1, LEDGER))
    )
    renamed = LEDGER.replace("post_entry", "pay")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=ledger_uri),
            [types.TextDocumentContentChangeWholeDocument(renamed)],
        )
    )
    # The edit is indexed a debounce later, in the server's thread: ask until it is (10 s at
    # most), each time from a new state (an answer is cached per state).
    for attempt in range(100):
        main = MAIN + "\n" * (attempt + 3)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(
                    version=10 + attempt, uri=(WORKSPACE / "main.py").as_uri()
                ),
                [types.TextDocumentContentChangeWholeDocument(main)],
            )
        )
        if await complete(client, 4, 10, invoked=True) == ["pay(10)"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the renamed member was not seen in 10 s")


async def test_checkNames_false_turns_it_off(client: LanguageClient):
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            {"ghosttype": {"completion": {"debounceMs": 0, "checkNames": False}}}
        )
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(
                version=500, uri=(WORKSPACE / "main.py").as_uri()
            ),
            [types.TextDocumentContentChangeWholeDocument(MAIN + "\n\n")],
        )
    )
    assert await complete(client, 4, 10, invoked=True) == ["pay(10)"]

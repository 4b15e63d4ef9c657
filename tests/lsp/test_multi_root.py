"""Every workspace folder is a root (issue 28, boundaries): a file imports a module that lives in
another folder of the workspace, given at initialize or added later with
workspace/didChangeWorkspaceFolders; the scripted backend answers differently when the prompt
holds another file's snippet, which is how the test sees that the other folder was read."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import SERVER_COMMAND, write_script

RULES = [
    {"endsWith": "x = ", "otherFiles": True, "text": "with_other_file"},
    {"endsWith": "x = ", "otherFiles": False, "text": "alone"},
]


def workspace() -> tuple[Path, Path, Path]:
    """Two folders: `app` (main.py alone) and `lib` (the module main.py imports), and the script."""
    base = Path(tempfile.mkdtemp(prefix="ghosttype-multi-root-"))
    app, lib = base / "app", base / "lib"
    app.mkdir()
    lib.mkdir()
    (lib / "shared_tools.py").write_text(
        "def compute_invoice_total(items, tax_rate):\n    return sum(items) * (1 + tax_rate)\n"
    )
    return app, lib, write_script(base, {"rules": RULES})


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def client(lsp_client: LanguageClient):
    lsp_client.set_configuration({"completion": {"debounceMs": 0}}, section="ghosttype")
    yield
    await lsp_client.shutdown_session()


async def initialize(client: LanguageClient, folders: list[Path], script: Path) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            workspace_folders=[types.WorkspaceFolder(f.as_uri(), f.name) for f in folders],
            initialization_options={"backend": {"kind": "scripted", "script": str(script)}},
        )
    )


async def complete_main(client: LanguageClient, app: Path, name: str) -> list[str]:
    text = "from shared_tools import compute_invoice_total\n\ntotal = compute_invoice_total\nx = "
    uri = (app / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(3, 4),
        )
    )
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )  # an open document is a neighbour of the next one
    assert result is not None
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    return [str(item.insert_text) for item in items]


async def test_every_workspace_folder_at_initialize_is_a_root(client: LanguageClient):
    app, lib, script = workspace()
    await initialize(client, [app, lib], script)
    assert "with_other_file" in await complete_main(client, app, "main.py")


async def test_a_folder_added_later_is_a_root_and_a_removed_one_is_not(client: LanguageClient):
    app, lib, script = workspace()
    await initialize(client, [app], script)
    assert await complete_main(client, app, "first.py") == ["alone"]
    lib_folder = types.WorkspaceFolder(lib.as_uri(), lib.name)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent([lib_folder], []))
    )
    assert "with_other_file" in await complete_main(client, app, "second.py")
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent([], [lib_folder]))
    )
    assert await complete_main(client, app, "third.py") == ["alone"]

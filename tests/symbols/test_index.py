"""The index over time: a renamed member seen by the next check, a document edited while the
index builds, files on disk changed, excluded, huge or binary files, and no answer before the
first build is done (real background thread; waits are bounded polls, see conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ghosttype.context.neighbours import MAX_FILE_BYTES
from ghosttype.documents import TextEdit
from ghosttype.symbols import SymbolIndex, check_at
from ghosttype.symbols.worker import WorkerProcess

from .conftest import SETTLE_S, Workspace

LEDGER = "class Ledger:\n    def post_entry(self, amount): ...\n"
MAIN = "from ledger import Ledger\n\ndef settle(store: Ledger):\n    store.‸\n"


def test_a_renamed_member_is_seen_by_the_next_check(workspace: Workspace) -> None:
    check = workspace.check({"ledger.py": LEDGER, "main.py": MAIN}, "main.py", "python")
    assert check.inventions("record(1)") == ["record"]
    ledger, _ = workspace.open("ledger.py", LEDGER + "‸", "python")
    start = LEDGER.index("post_entry")
    line = LEDGER[:start].count("\n")
    column = start - LEDGER.rfind("\n", 0, start) - 1
    edit = TextEdit("record", (line, column), (line, column + len("post_entry")))
    workspace.store.change(ledger.uri, [edit], 2)  # the edit listener hands it to the index
    assert workspace.index.settle(SETTLE_S)
    main = workspace.store.get((workspace.root / "main.py").as_uri())
    assert main is not None
    offset = main.text.index("store.") + len("store.")
    renamed = check_at(workspace.index, main, offset, 0)
    assert renamed is not None
    assert renamed.inventions("record(1)") == []
    assert renamed.inventions("post_entry(1)") == ["post_entry"]


def test_a_file_changed_on_disk_is_read_again(workspace: Workspace) -> None:
    workspace.check({"ledger.py": LEDGER, "main.py": MAIN}, "main.py", "python")
    (workspace.root / "ledger.py").write_text(LEDGER + "    def pay(self): ...\n")
    workspace.index.file_changed((workspace.root / "ledger.py").as_posix())
    assert workspace.index.settle(SETTLE_S)
    main = workspace.store.get((workspace.root / "main.py").as_uri())
    assert main is not None
    check = check_at(workspace.index, main, main.text.index("store.") + 6, 0)
    assert check is not None
    assert check.inventions("pay()") == []


def test_a_document_edited_while_the_index_builds(tmp_path: Path) -> None:
    """Many files to build; the open document changes meanwhile: the check sees the change."""
    from ghosttype.documents import DocumentStore

    root = tmp_path.resolve()
    for number in range(400):
        (root / f"m{number}.py").write_text(f"class C{number}:\n    def f{number}(self): ...\n")
    store = DocumentStore()
    index = SymbolIndex(store)
    try:
        text = "class Local:\n    def old(self): ...\n\ndef g(x: Local):\n    x.\n"
        document = store.open((root / "main.py").as_uri(), text, "python", 1)
        index.configure([root], ())
        index.document_changed(document)
        start = text.index("old")
        edited = store.change(document.uri, [TextEdit("new", (1, 8), (1, 11))], 2)
        assert start == 21
        assert check_at(index, edited, len(edited.text) - 1, 0) is None or not index.ready
        assert index.settle(SETTLE_S)
        check = check_at(index, edited, len(edited.text) - 1, 0)
        assert check is not None
        assert check.inventions("new()") == []
        assert check.inventions("old()") == ["old"]
        assert index.members("python", "C399") is not None  # the build went on to the end
    finally:
        index.close()


def test_excluded_huge_and_binary_files_are_not_indexed(workspace: Workspace) -> None:
    files = {
        "secrets/keys.py": "class Vault:\n    def open(self): ...\n",
        "big.py": "class Big:\n    def a(self): ...\n" + "#" * MAX_FILE_BYTES,
        "blob.py": "class Blob:\n    def a(self): ...\n\x00",
        "ignored/gen.py": "class Gen:\n    def a(self): ...\n",
        ".gitignore": "ignored/\n",
        "main.py": "def f():\n    ‸\n",
    }
    workspace.write(files)
    workspace.index.configure([workspace.root], ("**/secrets/**",))
    workspace.open("main.py", files["main.py"], "python")
    workspace.index.configure([workspace.root], ("**/secrets/**",))
    assert workspace.index.settle(SETTLE_S)
    assert workspace.index.class_entries("python", "Vault") == ()
    assert workspace.index.class_entries("python", "Big") == ()
    assert workspace.index.class_entries("python", "Blob") == ()
    assert workspace.index.class_entries("python", "Gen") == ()
    assert workspace.index.members("python", "Vault") is None  # unknown: nothing is checked


def test_nothing_is_checked_before_the_first_build(workspace: Workspace) -> None:
    workspace.write({"main.py": "x = 1\n"})
    document = workspace.store.open((workspace.root / "main.py").as_uri(), "x = 1\n", "python", 1)
    assert check_at(workspace.index, document, 0, 0) is None  # never configured: no build


def test_a_new_exclude_rebuilds_without_the_excluded_files(workspace: Workspace) -> None:
    workspace.check({"ledger.py": LEDGER, "main.py": MAIN}, "main.py", "python")
    assert workspace.index.class_entries("python", "Ledger")
    workspace.index.configure([workspace.root], ("ledger.py",))
    assert workspace.index.settle(SETTLE_S)
    assert workspace.index.class_entries("python", "Ledger") == ()


def test_files_are_parsed_in_the_worker_process(workspace: Workspace) -> None:
    """tree-sitter keeps the interpreter lock while it parses: not in the server's process."""
    workspace.check({"ledger.py": LEDGER, "main.py": MAIN}, "main.py", "python")
    pid = workspace.index.worker_pid
    assert pid is not None and pid != os.getpid()
    assert Path(f"/proc/{pid}").exists()


def test_a_worker_that_cannot_run_leaves_the_parsing_here() -> None:
    worker = WorkerProcess((sys.executable, "-c", "import sys; sys.exit(3)"))
    try:
        ((path, facts),) = worker.call("extract_paths", [__file__])
        assert path == __file__
        assert facts is not None and "test_files_are_parsed_in_the_worker_process" in facts.names
        assert worker.pid is None
    finally:
        worker.close()


def test_closed_then_started_again_it_builds_afresh(workspace: Workspace) -> None:
    """completion.checkNames turned off and on: the index stops (its worker too) and rebuilds."""
    workspace.check({"ledger.py": LEDGER, "main.py": MAIN}, "main.py", "python")
    first = workspace.index.worker_pid
    workspace.index.close()
    assert workspace.index.worker_pid is None
    assert first is not None and not Path(f"/proc/{first}").exists()  # killed and reaped
    (workspace.root / "ledger.py").write_text(LEDGER + "    def pay(self): ...\n")
    check = workspace.check({"main.py": MAIN}, "main.py", "python")
    assert check.inventions("pay()") == []


def test_an_invoked_request_waits_only_on_work_under_way(workspace: Workspace) -> None:
    """`soon_ready_for` (what an invoked request waits on, at most 2 s): the first build and a
    document queued or being read; never a language the index does not read, nor a document
    it already holds."""
    workspace.write({"main.py": "x = 1\n"})
    python = workspace.store.open((workspace.root / "main.py").as_uri(), "x = 1\n", "python", 1)
    notes = workspace.store.open((workspace.root / "notes.md").as_uri(), "# x\n", "markdown", 1)
    index = workspace.index
    assert not index.soon_ready_for(python)  # not started: nothing will come
    index.configure([workspace.root], ())
    assert not index.soon_ready_for(notes)  # never indexed, even while the build runs
    index.document_changed(python, at_once=True)
    assert index.settle(20)
    assert index.document_facts(python) is not None
    assert not index.soon_ready_for(python) and not index.soon_ready_for(notes)

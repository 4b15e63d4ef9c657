"""Issue 28, boundaries: what may reach a prompt. Files outside the workspace roots (symlinks that
point out of them too) and excluded or .gitignored files are never read as context, and logs at
the default level hold no file content. Each test runs a real completion through the Engine with a
backend that records every prompt, and looks for a marker string in the prompt's text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ghosttype.backends.scripted import ScriptedBackend
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine
from tests.conftest import write_script
from tests.engine.manual_clock import ManualClock

MARKER = "zebra_quartz_marker"
# Words the current file shares with the files holding the marker, so that they would rank as
# neighbours if they were read.
SHARED = "def compute_invoice_total(invoice_items, invoice_tax_rate):\n"


class RecordingBackend:
    """The scripted backend, keeping every prompt it is asked."""

    def __init__(self, settings):
        self.inner = ScriptedBackend(settings)
        self.prompts: list = []
        self.name, self.prompt_format = self.inner.name, self.inner.prompt_format
        self.start, self.count_tokens = self.inner.start, self.inner.count_tokens
        self.check, self.close = self.inner.check, self.inner.close

    def generate(self, prompt, params, usage):
        self.prompts.append(prompt)
        return self.inner.generate(prompt, params, usage)


def make_engine(tmp_path: Path, roots: list[Path], rules: list | None = None):
    script = write_script(tmp_path, {"rules": rules or [], "default": {"text": "pass"}})
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0},
    )
    backends: list[RecordingBackend] = []
    engine = Engine(
        settings,
        workspace_root=roots[0] if roots else None,
        backend_factory=lambda s: backends.append(RecordingBackend(s)) or backends[-1],
        clock=ManualClock(),
    )
    engine.context.set_roots(roots)
    return engine, backends


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def prompt_texts(backends: list[RecordingBackend]) -> list[str]:
    return ["".join(s.text for s in p.segments) for b in backends for p in b.prompts]


async def complete(engine: Engine, path: Path, text: str) -> None:
    document = engine.documents.open(path.as_uri(), text, "python", 1)
    await engine.complete(document, len(text), invoked=True)


async def prompts_for(tmp_path: Path, roots: list[Path], path: Path, text: str) -> list[str]:
    engine, backends = make_engine(tmp_path, roots)
    try:
        await complete(engine, path, text)
    finally:
        await engine.close()
    texts = prompt_texts(backends)
    assert texts, "no prompt was sent"
    return texts


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside every root, holding files with the marker."""
    folder = tmp_path / "outside"
    write(folder / "private_tools.py", f"{SHARED}    return '{MARKER}'\n")
    write(folder / "notes.py", f"{SHARED}    # {MARKER} notes\n")
    return folder


async def test_a_symlink_to_a_file_outside_the_roots_is_never_read(tmp_path, outside):
    workspace = tmp_path / "workspace"
    write(workspace / "helpers.py", f"{SHARED}    return 0\n")
    (workspace / "linked_tools.py").symlink_to(outside / "private_tools.py")  # imported
    (workspace / "sibling.py").symlink_to(outside / "notes.py")  # a file of the folder
    (workspace / "pkg").symlink_to(outside, target_is_directory=True)  # a folder
    text = (
        "from linked_tools import compute_invoice_total\nfrom pkg import notes\n"
        "import pkg.private_tools\n\n"
        f"{SHARED}    total = compute_invoice_total(invoice_items, invoice_tax_rate)\n    "
    )
    texts = await prompts_for(tmp_path, [workspace], workspace / "main.py", text)
    assert any("helpers.py" in t for t in texts)  # neighbours from inside are read
    assert not any(MARKER in t for t in texts)


async def test_an_import_or_a_folder_outside_the_roots_is_never_read(tmp_path, outside):
    workspace = tmp_path / "workspace"
    write(workspace / "app" / "helpers.py", f"{SHARED}    return 0\n")
    # A relative import that climbs out of the root, and a document outside every root whose
    # folder holds the marker.
    text = f"from ...outside.private_tools import compute_invoice_total\n\n{SHARED}    "
    texts = await prompts_for(tmp_path, [workspace], workspace / "app" / "main.py", text)
    assert not any(MARKER in t for t in texts)
    texts = await prompts_for(tmp_path, [workspace], outside / "current.py", SHARED + "    ")
    assert not any(MARKER in t for t in texts)


async def test_an_open_document_outside_the_roots_is_no_neighbour(tmp_path, outside):
    workspace = tmp_path / "workspace"
    engine, backends = make_engine(tmp_path, [workspace])
    try:
        engine.documents.open(
            (outside / "private_tools.py").as_uri(),
            (outside / "private_tools.py").read_text(),
            "python",
            1,
        )
        await complete(engine, workspace / "main.py", SHARED + "    ")
    finally:
        await engine.close()
    texts = prompt_texts(backends)
    assert texts and not any(MARKER in t for t in texts)


async def test_every_root_is_read_and_nothing_else(tmp_path, outside):
    first, second = tmp_path / "first", tmp_path / "second"
    write(second / "shared_tools.py", f"{SHARED}    return 'from_the_second_root'\n")
    text = f"from shared_tools import compute_invoice_total\n\n{SHARED}    "
    texts = await prompts_for(tmp_path, [first, second], first / "main.py", text)
    assert any("from_the_second_root" in t for t in texts)
    assert not any(MARKER in t for t in texts)


async def test_excluded_and_ignored_files_never_reach_the_prompt(tmp_path):
    workspace = tmp_path / "workspace"
    write(workspace / ".gitignore", "generated_tools.py\n")
    write(workspace / "generated_tools.py", f"{SHARED}    return '{MARKER} ignored'\n")
    write(workspace / "secrets" / "vault.py", f"{SHARED}    return '{MARKER} excluded'\n")
    write(workspace / ".env", f"{MARKER}=1\n")
    # Links inside the root to excluded or ignored files, under names nothing excludes.
    (workspace / "vault_alias.py").symlink_to(workspace / "secrets" / "vault.py")
    (workspace / "generated_alias.py").symlink_to(workspace / "generated_tools.py")
    (workspace / "env_alias.py").symlink_to(workspace / ".env")
    write(workspace / "helpers.py", f"{SHARED}    return 0\n")
    text = (
        "from generated_tools import compute_invoice_total\nfrom secrets.vault import x\n"
        "from vault_alias import y\nimport generated_alias, env_alias\n\n"
        f"{SHARED}    total = compute_invoice_total(invoice_items, invoice_tax_rate)\n    "
    )
    engine, backends = make_engine(tmp_path, [workspace])
    try:
        # Open documents are repository-level context too: an excluded one is never a neighbour.
        secret = workspace / "secrets" / "open_vault.py"
        engine.documents.open(secret.as_uri(), f"{SHARED}    '{MARKER}'\n", "python", 1)
        await complete(engine, workspace / "main.py", text)
    finally:
        await engine.close()
    texts = prompt_texts(backends)
    assert any("helpers.py" in t for t in texts)
    assert not any(MARKER in t for t in texts)


async def test_logs_at_the_default_level_hold_no_file_content(tmp_path, outside, caplog):
    workspace = tmp_path / "workspace"
    write(workspace / "helpers.py", f"{SHARED}    return '{MARKER}'\n")
    rules = [{"endsWith": "boom = ", "error": f"server said: {MARKER}"}]
    caplog.set_level(logging.WARNING)  # cli.py's --log-level default
    engine, backends = make_engine(tmp_path, [workspace], rules)
    try:
        await complete(engine, workspace / "main.py", f"{SHARED}    # {MARKER}\n    x = ")
        await complete(engine, workspace / "other.py", f"# {MARKER}\nboom = ")
        bad = "\x00" * 10 + MARKER + "\ufffd"
        await complete(engine, workspace / "bad.py", bad)
    finally:
        await engine.close()
    assert any(MARKER in t for t in prompt_texts(backends))  # it was in what was sent
    logged = [r.getMessage() + str(r.exc_info or "") for r in caplog.records]
    assert not any(MARKER in line for line in logged), logged

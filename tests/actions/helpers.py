"""A workspace and an engine on the scripted backend for the actions' pipeline tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ghosttype.config import Settings, with_overrides
from ghosttype.documents import Document
from ghosttype.engine import Engine
from tests.conftest import write_script

SOURCE = """def add(a, b):
    return a + b


def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return low
    return value
"""


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(SOURCE)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    return root


def engine_for(root: Path, chat: list[dict[str, Any]], **actions: Any) -> Engine:
    script = write_script(root.parent, {"chat": chat, "rules": []})
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        # No check against changed code unless a test asks (test_strengthen.py): the scripted
        # answers are for the write-run-retry loop.
        actions={"timeout_s": 60, "mutants": 0, **actions},
    )
    engine = Engine(settings, workspace_root=root)
    engine.context.set_roots([root])
    return engine


def open_source(engine: Engine, root: Path, name: str = "calc.py") -> Document:
    path = root / name
    return engine.documents.open(path.as_uri(), path.read_text(), "python", 1)


def fenced(code: str, language: str = "python") -> str:
    return f"Here are the tests:\n```{language}\n{code}```\n"

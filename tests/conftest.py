"""Shared helpers. Tests that need a real editor or the real model are marked so they can be
selected (`-m model`, `-m editor`); nothing is skipped silently."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER_COMMAND = [sys.executable, "-m", "ghosttype", "serve"]
CURSOR = "█"


def write_script(folder: Path, script: dict[str, Any], name: str = "script.json") -> Path:
    """A scripted-backend script (see ghosttype/backends/scripted.py)."""
    path = folder / name
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def split_cursor(text: str) -> tuple[str, int]:
    """Text with a █ cursor marker -> (text without it, offset of the cursor)."""
    offset = text.index(CURSOR)
    return text[:offset] + text[offset + 1 :], offset

"""A neighbour file that vanishes or turns binary between the index and the next read: no
exception, completions continue."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine
from tests.conftest import write_script
from tests.engine.manual_clock import ManualClock

HELPER = "def compute(a, b):\n    return a + b\n\n\ndef other(x):\n    return compute(x, x)\n"


@pytest.mark.parametrize("fault", ["vanishes", "turns-binary", "turns-undecodable"])
async def test_a_neighbour_file_that_changes_under_the_index(tmp_path: Path, fault: str) -> None:
    workspace = tmp_path / "w"
    workspace.mkdir()
    helper = workspace / "helper.py"
    helper.write_text(HELPER)
    script = write_script(tmp_path, {"rules": [{"endsWith": "x = ", "text": "compute(1, 2)"}]})
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0},
    )
    engine = Engine(settings, workspace_root=workspace, clock=ManualClock())
    uri = (workspace / "main.py").as_uri()
    texts = ["from helper import compute\n\nx = ", "from helper import compute\n\n# b\nx = "]
    first = engine.documents.open(uri, texts[0], "python", 1)
    reply = await engine.complete(first, len(texts[0]), invoked=True)
    assert [i.text for i in reply.items] == ["compute(1, 2)"]
    if fault == "vanishes":
        helper.unlink()
    elif fault == "turns-binary":
        helper.write_bytes(b"\x00\x01\x02" * 1000)
    else:
        helper.write_bytes(b"\xff\xfe\x00garbage" * 100)
    second = engine.documents.open(uri, texts[1], "python", 2)
    reply = await engine.complete(second, len(texts[1]), invoked=True)
    assert [i.text for i in reply.items] == ["compute(1, 2)"]
    await engine.close()

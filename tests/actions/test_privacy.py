"""What actions send: secrets redacted like the completion path's, files context.exclude names
never sent (no actions on them), and every model request in backend.auditLog."""

from __future__ import annotations

import json

import pytest

from ghosttype.actions.errors import ActionError
from ghosttype.actions.service import Actions
from ghosttype.config import with_overrides
from tests.actions.helpers import engine_for, workspace

SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
CODE = f'def connect():\n    token = "{SECRET}"\n    return token\n'


async def test_secrets_are_redacted_and_the_request_is_audited(tmp_path):
    root = workspace(tmp_path)
    (root / "net.py").write_text(CODE)
    log = tmp_path / "audit.jsonl"
    engine = engine_for(root, [{"contains": "documentation", "text": "Connect."}])
    settings = engine.settings
    await engine.apply_settings(with_overrides(settings, backend={"audit_log": str(log)}))
    document = engine.documents.open((root / "net.py").as_uri(), CODE, "python", 1)
    at = CODE.index("return")
    await Actions(engine).run(
        {"action": "docstring", "uri": document.uri, "start": at, "end": at}, lambda _: None
    )
    asked = "\n".join(m.content for m in engine.host.loaded.chats[-1])
    assert SECRET not in asked and "REDACTED" in asked and "def connect" in asked
    (line,) = log.read_text().splitlines()
    record = json.loads(line)
    assert record["purpose"] == "action" and "<|im_start|>user" in record["prompt"]
    assert SECRET not in line


async def test_an_excluded_file_gets_no_action(tmp_path):
    root = workspace(tmp_path)
    (root / "secrets").mkdir()
    path = root / "secrets" / "keys.py"
    path.write_text(CODE)
    engine = engine_for(root, [{"contains": "documentation", "text": "Connect."}])
    document = engine.documents.open(path.as_uri(), CODE, "python", 1)
    with pytest.raises(ActionError, match=r"excluded by context\.exclude"):
        await Actions(engine).run(
            {"action": "docstring", "uri": document.uri, "start": 30, "end": 30}, lambda _: None
        )
    assert engine.host.loaded is None or engine.host.loaded.chats == []

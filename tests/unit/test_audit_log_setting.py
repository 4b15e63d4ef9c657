"""backend.auditLog as a setting: user-only under the trust rule (a cloned workspace's
ghosttype.toml may neither turn it on nor choose the file), an absolute path with `~` expanded,
off by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghosttype.audit import audit_log_check
from ghosttype.config import USER_ONLY_KEYS, Layer, Settings, resolve, workspace_layer


def test_off_by_default_and_user_only() -> None:
    assert Settings().backend.audit_log == ""
    assert "backend.auditLog" in USER_ONLY_KEYS


def test_a_workspace_file_may_not_turn_it_on(tmp_path: Path) -> None:
    (tmp_path / "ghosttype.toml").write_text(
        '[backend]\nkind = "scripted"\nauditLog = "/tmp/collected.jsonl"\n'
    )
    layer, problem = workspace_layer(tmp_path)
    assert problem is None and layer is not None and not layer.trusted
    resolved = resolve([layer])
    assert resolved.settings.backend.audit_log == ""
    assert resolved.settings.backend.kind == "scripted"  # what it may set still applies
    (warning,) = resolved.warnings
    assert "backend.auditLog" in warning and "may not choose" in warning
    assert "written" in warning
    assert "collected.jsonl" not in warning


def test_a_workspace_file_may_not_move_the_users_log(tmp_path: Path) -> None:
    user = Layer("initializationOptions", {"backend": {"auditLog": str(tmp_path / "mine.jsonl")}})
    workspace = Layer("ghosttype.toml", {"backend": {"auditLog": "/tmp/theirs"}}, trusted=False)
    for order in ([user, workspace], [workspace, user]):
        resolved = resolve(order)
        assert resolved.settings.backend.audit_log == str(tmp_path / "mine.jsonl")
        assert any("backend.auditLog" in warning for warning in resolved.warnings)


@pytest.mark.parametrize(
    "source",
    ["--config ~/.config/ghosttype.toml", "initializationOptions", "workspace/configuration"],
)
def test_user_level_sources_may_set_it(source: str, tmp_path: Path) -> None:
    resolved = resolve([Layer(source, {"backend": {"auditLog": str(tmp_path / "a.jsonl")}})])
    assert resolved.settings.backend.audit_log == str(tmp_path / "a.jsonl")
    assert resolved.warnings == ()


def test_tilde_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    resolved = resolve([Layer("user", {"backend": {"auditLog": "~/logs/audit.jsonl"}})])
    assert resolved.settings.backend.audit_log == str(tmp_path / "logs" / "audit.jsonl")
    assert resolved.warnings == ()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        pytest.param("audit.jsonl", "must be an absolute path", id="relative"),
        pytest.param("./logs/audit.jsonl", "must be an absolute path", id="dot-relative"),
        pytest.param(True, "must be a string", id="bool"),
        pytest.param(["/tmp/a"], "must be a string", id="list"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message(value: object, says: str) -> None:
    resolved = resolve([Layer("user", {"backend": {"auditLog": value}})])
    assert resolved.settings.backend.audit_log == ""
    (warning,) = resolved.warnings
    assert "'backend.auditLog'" in warning and says in warning and "using the default" in warning


def test_empty_is_off() -> None:
    resolved = resolve([Layer("user", {"backend": {"auditLog": ""}})])
    assert resolved.settings.backend.audit_log == "" and resolved.warnings == ()


def test_doctor_line_says_where_it_goes_and_why_not(tmp_path: Path) -> None:
    assert audit_log_check("") == (True, "audit log: off")
    ok, line = audit_log_check(str(tmp_path / "audit.jsonl"))
    assert ok and line.startswith(f"audit log: {tmp_path / 'audit.jsonl'} (")
    assert audit_log_check(str(tmp_path)) == (
        False,
        f"audit log: {tmp_path} is a folder, not a file",
    )
    missing = tmp_path / "nowhere" / "audit.jsonl"
    assert audit_log_check(str(missing)) == (
        False,
        f"audit log: {missing}: the folder {missing.parent} does not exist",
    )

"""`ghosttype doctor` says where backend.auditLog writes: "audit log: off", the path, or why it
cannot write there (a failed check), in the text form and in `--json` (check "audit-log")."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run
from tests.conftest import write_script


def config_with(tmp_path: Path, audit_log: str | None) -> Path:
    script = write_script(tmp_path, {"rules": []})
    config = tmp_path / "user.toml"
    extra = f"auditLog = {json.dumps(audit_log)}\n" if audit_log is not None else ""
    config.write_text(f'[backend]\nkind = "scripted"\nscript = "{script}"\n{extra}')
    return config


def test_doctor_says_the_audit_log_is_off(tmp_path: Path) -> None:
    result = run("doctor", "--config", str(config_with(tmp_path, None)), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   audit log: off\n" in result.stdout


def test_doctor_json_says_where_it_goes(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    config = config_with(tmp_path, str(audit))
    result = run("doctor", "--json", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["audit-log"]["ok"] is True
    assert checks["audit-log"]["detail"].startswith(f"audit log: {audit} ")
    assert report["settings"]["backend"]["auditLog"] == str(audit)
    assert not audit.exists()  # doctor looks; it writes nothing


def test_doctor_fails_when_the_log_cannot_be_written_there(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = run("doctor", "--config", str(config_with(tmp_path, str(folder))), cwd=tmp_path)
    assert result.returncode == 1
    assert f"FAIL audit log: {folder} is a folder, not a file" in result.stdout
    assert "ok   backend scripted" in result.stdout  # the rest is checked as usual

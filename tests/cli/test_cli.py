"""The command line as a user runs it: exit codes, one-line reasons, no tracebacks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_script

GHOSTTYPE = [sys.executable, "-m", "ghosttype"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GHOSTTYPE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def scripted_config(tmp_path: Path) -> Path:
    script = write_script(
        tmp_path, {"rules": [{"endsWith": "total = ", "text": "price * quantity"}]}
    )
    config = tmp_path / "user.toml"
    config.write_text(f'[backend]\nkind = "scripted"\nscript = "{script}"\n')
    return config


def test_complete_prints_the_post_processed_completion(tmp_path, scripted_config):
    source = tmp_path / "shop.py"
    source.write_text("price = 3\nquantity = 2\ntotal = \n")
    result = run("complete", f"{source}:3:9", "--config", str(scripted_config))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "price * quantity\n"


@pytest.mark.parametrize(
    ("content", "location", "message"),
    [
        pytest.param(
            b"x = \xff\xfe\n",
            "{p}:1:5",
            "not valid UTF-8 (byte 0xff at offset 4)",
            id="invalid-utf8",
        ),
        pytest.param(b"x = 1\n", "{p}:9:1", "line 9 is past the end", id="line-past-end"),
        pytest.param(
            b"x = 1\n",
            "{p}:3:1",
            "has 2 lines; line 3 is past the end",
            id="line-after-last-newline",
        ),
        pytest.param(b"\x7fELF\x00\x00binary", "{p}:1:1", "looks like a binary file", id="binary"),
        pytest.param(None, "{p}:1:1", "no such file", id="missing-file"),
        pytest.param(b"x", "{p}:0:1", "count from 1", id="zero-line"),
        pytest.param(b"x", "{p}", "expected PATH:LINE:COL", id="no-numbers"),
    ],
)
def test_complete_bad_input_is_one_line_and_exit_1(
    tmp_path, scripted_config, content, location, message
):
    path = tmp_path / "input.py"
    if content is not None:
        path.write_bytes(content)
    result = run("complete", location.format(p=path), "--config", str(scripted_config))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_complete_clamps_a_column_past_the_end_of_its_line_and_says_so(tmp_path, scripted_config):
    # As the LSP server does with a character past the end of its line: the line's end. The
    # script answers only a prefix that ends with "total = ", so the completion shows where it ran.
    source = tmp_path / "shop.py"
    source.write_text("price = 3\nquantity = 2\ntotal = \r\n")
    result = run("complete", f"{source}:3:40", "--config", str(scripted_config))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "price * quantity\n"
    assert result.stderr.splitlines() == [
        f"ghosttype: note: column 40 is past the end of line 3 of {source} (8 characters); "
        "completing at its end"
    ]


def test_complete_at_the_end_of_a_line_needs_no_note(tmp_path, scripted_config):
    source = tmp_path / "shop.py"
    source.write_text("total = \n")
    result = run("complete", f"{source}:1:9", "--config", str(scripted_config))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "price * quantity\n" and result.stderr == ""


def test_usage_error_exits_2():
    result = run("complete")
    assert result.returncode == 2 and "usage:" in result.stderr


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("ghosttype ")


def test_unreadable_config_is_a_clear_failure(tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text("[backend\nkind = ")
    source = tmp_path / "a.py"
    source.write_text("x = \n")
    result = run("complete", f"{source}:1:5", "--config", str(config))
    assert result.returncode == 1 and "cannot read settings" in result.stderr


def test_workspace_file_may_not_redirect_code(tmp_path, scripted_config):
    (tmp_path / ".git").mkdir()
    (tmp_path / "ghosttype.toml").write_text('[backend]\nurl = "http://attacker.example"\n')
    source = tmp_path / "shop.py"
    source.write_text("total = \n")
    result = run("complete", f"{source}:1:9", "--config", str(scripted_config))
    assert result.returncode == 0
    assert "ignored backend.url" in result.stderr


def test_backend_failure_is_one_line(tmp_path):
    config = tmp_path / "user.toml"
    config.write_text('[backend]\nkind = "scripted"\nscript = "/nonexistent/script.json"\n')
    source = tmp_path / "a.py"
    source.write_text("x = \n")
    result = run("complete", f"{source}:1:5", "--config", str(config))
    assert result.returncode == 1 and "cannot read the script" in result.stderr


def test_doctor_on_a_scripted_backend(scripted_config):
    result = run("doctor", "--config", str(scripted_config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   backend scripted" in result.stdout
    assert "tree-sitter grammars: 16 languages load" in result.stdout
    assert "backend.kind = 'scripted'" in result.stdout


def test_doctor_fails_on_a_dead_backend(tmp_path):
    config = tmp_path / "user.toml"
    config.write_text('[backend]\nkind = "scripted"\nscript = "/nonexistent.json"\n')
    result = run("doctor", "--config", str(config))
    assert result.returncode == 1 and "FAIL backend scripted" in result.stdout


def test_doctor_reports_both_roles(tmp_path, scripted_config):
    config = tmp_path / "both.toml"
    config.write_text(
        scripted_config.read_text()
        + '\n[pauseBackend]\nkind = "scripted"\nscript = "/nonexistent.json"\n'
    )
    result = run("doctor", "--config", str(config))
    assert "ok   backend scripted" in result.stdout
    assert "FAIL pause backend scripted" in result.stdout and result.returncode == 1
    off = run("doctor", "--config", str(scripted_config))
    assert "ok   pause role: off" in off.stdout


def doctor_json(*args: str, cwd: Path) -> tuple[int, dict[str, object], str]:
    """(exit code, the parsed JSON, stderr); stdout must be exactly one JSON object on one line."""
    result = run("doctor", "--json", *args, cwd=cwd)
    assert len(result.stdout.splitlines()) == 1, result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def test_doctor_json_on_a_working_backend(tmp_path, scripted_config):
    code, report, _ = doctor_json("--config", str(scripted_config), cwd=tmp_path)
    assert code == 0, report
    assert report["ok"] is True and report["error"] is None and report["warnings"] == []
    assert isinstance(report["version"], str) and report["version"]
    checks = report["checks"]
    assert isinstance(checks, list)
    assert [check["name"] for check in checks] == [
        "backend",
        "prompt-format",
        "pause-backend",  # off behind a scripted backend: says so
        "grammars",
        "audit-log",
    ]
    assert all(check["ok"] is True and set(check) == {"name", "ok", "detail"} for check in checks)
    assert checks[0]["detail"].startswith("backend scripted: ")
    assert checks[3]["detail"] == "tree-sitter grammars: 16 languages load"
    settings = report["settings"]
    assert isinstance(settings, dict)
    assert set(settings) >= {"backend", "pauseBackend", "completion", "context", "enable"}
    assert settings["backend"]["kind"] == "scripted"
    assert settings["backend"]["script"] == str(tmp_path / "script.json")
    assert settings["completion"]["maxTokens"] == 128
    assert settings["context"]["exclude"] == [
        "**/.env",
        "**/*.pem",
        "**/*.key",
        "**/id_rsa*",
        "**/secrets/**",
    ]
    assert settings["enable"]["languages"]["markdown"] is False


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (so nothing else takes it), never
    listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_doctor_json_on_an_unreachable_openai_server(tmp_path, closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    config = tmp_path / "user.toml"
    config.write_text(
        f'[backend]\nkind = "openai"\nurl = "{url}"\ntimeoutMs = 2000\n'
        "[completion]\nmaxTokenz = 3\n"
    )
    code, report, stderr = doctor_json("--config", str(config), cwd=tmp_path)
    assert code == 1
    assert report["ok"] is False and report["error"] is None
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["backend"]["ok"] is False
    assert f"127.0.0.1:{closed_port}" in checks["backend"]["detail"]
    assert "prompt-format" not in checks  # known only from a backend that answers
    assert checks["grammars"]["ok"] is True
    assert report["settings"]["backend"]["url"] == url
    assert report["settings"]["backend"]["kind"] == "openai"
    # A bad key is a warning, in the object and on stderr; it does not fail the doctor.
    assert len(report["warnings"]) == 1 and "maxTokenz" in report["warnings"][0]
    assert "maxTokenz" in stderr and "Traceback" not in stderr


def test_doctor_json_when_the_settings_cannot_be_read(tmp_path):
    code, report, stderr = doctor_json("--config", str(tmp_path / "missing.toml"), cwd=tmp_path)
    assert code == 1
    assert report["ok"] is False and report["checks"] == [] and report["settings"] is None
    assert isinstance(report["error"], str) and "no such file" in report["error"]
    assert len(stderr.strip().splitlines()) == 1 and "no such file" in stderr


def test_a_llama_build_that_kills_its_process_is_named_with_the_fix(tmp_path):
    # Stands in for llama.cpp's AMX kernels on a VM that reports AMX without enabling it: the
    # evaluating process dies of a signal (general protection fault), and only the child does.
    from ghosttype.backends.embedded import evaluation_failure

    dies = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    failure = evaluation_failure(tmp_path / "model.gguf", probe=dies)
    assert failure is not None and "died of SIGSEGV" in failure and "-mno-amx-tile" in failure
    broken = "raise ValueError('Failed to load model')"
    failure = evaluation_failure(tmp_path / "model.gguf", probe=broken)
    assert failure is not None and "exit 1: ValueError: Failed to load model" in failure


def test_the_server_refuses_a_build_that_dies_instead_of_dying_itself(tmp_path, monkeypatch):
    # The same check guards the embedded backend's start: a death in the child becomes a
    # BackendError (a status message; the server keeps serving), and a pass is remembered.
    from ghosttype.backends.base import BackendError
    from ghosttype.backends.embedded import check_runs_here

    monkeypatch.setenv("GHOSTTYPE_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    dies = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    with pytest.raises(BackendError, match="died of SIGSEGV"):
        check_runs_here(model, probe=dies)
    assert not (tmp_path / "cache" / "checks").exists()
    # A failure that is not a death is left to the load, which explains it better; not stamped.
    check_runs_here(model, probe="raise SystemExit(3)")
    assert not (tmp_path / "cache" / "checks").exists()
    check_runs_here(model, probe="pass")
    assert len(list((tmp_path / "cache" / "checks").iterdir())) == 1
    check_runs_here(model, probe=dies)  # remembered: not run again for this build and file
    model.write_bytes(b"GGUF, another file")
    with pytest.raises(BackendError):
        check_runs_here(model, probe=dies)


@pytest.mark.model
def test_doctor_verifies_the_packaged_model():
    result = run("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "491,400,064 bytes, SHA-256 verified" in result.stdout
    assert "ok   model evaluates a prompt: yes" in result.stdout


@pytest.mark.model
def test_doctor_json_with_the_packaged_model(tmp_path):
    # llama.cpp loads in this process: whatever it writes, stdout stays one JSON object.
    code, report, _ = doctor_json(cwd=tmp_path)
    assert code == 0, report
    checks = {check["name"]: check for check in report["checks"]}
    assert list(checks) == [
        "model-file",
        "model-evaluates",
        "pause-model-file",
        "pause-model-evaluates",
        "backend",
        "prompt-format",
        "pause-backend",
        "grammars",
        "audit-log",
    ]
    assert "491,400,064 bytes, SHA-256 verified" in checks["model-file"]["detail"]
    assert checks["model-evaluates"]["detail"] == "model evaluates a prompt: yes"
    assert "1,117,320,768 bytes, SHA-256 verified" in checks["pause-model-file"]["detail"]
    assert checks["pause-model-evaluates"]["detail"] == "pause model evaluates a prompt: yes"
    assert "qwen2.5-coder-1.5b" in checks["pause-backend"]["detail"]
    assert report["settings"]["backend"]["kind"] == "embedded"


@pytest.mark.model
def test_complete_with_the_embedded_model(tmp_path):
    source = tmp_path / "rect.py"
    source.write_text("def rectangle_area(width, height):\n    return \n")
    result = run("complete", f"{source}:2:12")
    assert result.returncode == 0, result.stderr
    assert "width" in result.stdout and "height" in result.stdout

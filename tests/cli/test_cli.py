"""The command line as a user runs it: exit codes, one-line reasons, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
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
def test_complete_with_the_embedded_model(tmp_path):
    source = tmp_path / "rect.py"
    source.write_text("def rectangle_area(width, height):\n    return \n")
    result = run("complete", f"{source}:2:12")
    assert result.returncode == 0, result.stderr
    assert "width" in result.stdout and "height" in result.stdout

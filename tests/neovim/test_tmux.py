"""What a person sees: Neovim in a real terminal (tmux), typing with send-keys and reading the
screen with its colours (capture-pane -e). The ghost text must be drawn in the suggestion colour,
not look like typed text, and be real text after <Tab>."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.editor

# GhosttypeSuggestion's default terminal colour (ctermfg 244) as tmux writes it back.
SGR = r"(?:\x1b\[[0-9;]*m)*"
GHOST_SGR = SGR + r"\x1b\[[0-9;]*38;5;244[0-9;]*m" + SGR

SCREEN_SETUP = """
vim.o.termguicolors = false  -- the terminal colour, ctermfg, is what this test reads
vim.o.laststatus = 2
vim.o.statusline = "%f %= %{v:lua.require'ghosttype'.statusline()}"
"""


class Tmux:
    def __init__(self, tmux: str, config: Path):
        self.tmux = tmux
        self.socket = f"ghosttype-test-{uuid.uuid4().hex[:12]}"
        # A 256-colour terminal, and nothing from the user's ~/.tmux.conf.
        config.write_text('set -g default-terminal "tmux-256color"\nset -g status off\n')
        self.config = str(config)

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            [self.tmux, "-L", self.socket, "-f", self.config, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout

    def screen(self, colours: bool = False) -> str:
        return self("capture-pane", "-p", *(["-e"] if colours else []), "-t", "test")

    def wait_for(self, what: str, predicate, timeout: float = 60, colours: bool = False) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen(colours)
            if predicate(screen):
                return screen
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}; the screen:\n{screen}", pytrace=False)

    def kill(self) -> None:
        subprocess.run(
            [self.tmux, "-L", self.socket, "kill-server"], capture_output=True, timeout=30
        )


@pytest.fixture
def terminal(tmux, tmp_path):
    session = Tmux(tmux, tmp_path / "tmux.conf")
    yield session
    session.kill()


def test_ghost_text_is_drawn_in_its_colour_and_tab_makes_it_real(editor, terminal):
    settings = editor.scripted([{"endsWith": "x = ", "text": "compute(1, 2)"}])
    file = editor.root / "main.py"
    file.write_text("import os\n", encoding="utf-8")
    init = editor.init_lua(None, settings, extra=SCREEN_SETUP)
    env = editor.env()
    command = " ".join(
        [
            "env",
            *(
                shlex.quote(f"{name}={env[name]}")
                for name in sorted(env)
                if name.startswith("XDG_")
            ),
            *map(shlex.quote, editor.argv(init, file, headless=False)),
        ]
    )
    terminal(
        "new-session", "-d", "-s", "test", "-x", "100", "-y", "30", "-c", str(editor.root), command
    )
    terminal.wait_for("the statusline to say ghosttype is ready", lambda s: "ghosttype:ready" in s)

    terminal("send-keys", "-t", "test", "-l", "ox = ")
    screen = terminal.wait_for(
        "the ghost text in GhosttypeSuggestion's colour",
        lambda s: re.search(r"x = " + GHOST_SGR + re.escape("compute(1, 2)"), s),
        timeout=20,
        colours=True,
    )
    plain = terminal.screen()
    assert "x = compute(1, 2)" in plain, plain  # drawn inline, right after the cursor
    assert "x = compute(1, 2)" not in file.read_text(), "ghost text is not in the file"
    cursor = terminal("display-message", "-p", "-t", "test", "#{cursor_x},#{cursor_y}").strip()
    assert cursor == "4,1", f"the cursor stays before the ghost text, at {cursor}"

    terminal("send-keys", "-t", "test", "Tab")
    terminal("send-keys", "-t", "test", "Escape")
    terminal.wait_for(
        "the accepted text, back in normal mode",
        lambda s: (
            re.search(r"^x = compute\(1, 2\)\s*$", s, re.MULTILINE) and "-- INSERT --" not in s
        ),
        timeout=20,
    )
    screen = terminal.screen(colours=True)
    assert "38;5;244m" not in screen, f"ghost colour left on screen:\n{screen}"

    terminal("send-keys", "-t", "test", ":wq", "Enter")
    deadline = time.monotonic() + 15
    while file.read_text(encoding="utf-8") != "import os\nx = compute(1, 2)\n":
        assert time.monotonic() < deadline, file.read_text(encoding="utf-8")
        time.sleep(0.1)

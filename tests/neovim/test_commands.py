"""The plugin's surface besides ghost text: settings reaching the server (init options and
workspace/configuration), :Ghosttype subcommands, the statusline component, :checkhealth ghosttype
(also against a server that hangs), option validation, and a start with the README's set-up that
shows no message; in headless Neovim against the real `ghosttype serve`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.editor


def test_settings_answer_workspace_configuration_and_changes_apply_live(editor):
    settings = editor.scripted([{"endsWith": "x = ", "text": "alpha()"}])
    second = editor.root / "second.json"
    second.write_text(json.dumps({"rules": [{"endsWith": "x = ", "text": "beta()"}]}))
    changed = {**settings, "backend": {"kind": "scripted", "script": str(second)}}
    editor.run(
        f"""
        local handler = T.client.handlers["workspace/configuration"]
        local answers = handler(nil, {{ items = {{
          {{ section = "ghosttype" }}, {{ section = "ghosttype.completion" }}, {{ section = "other" }}, {{}},
        }} }}, {{ client_id = T.client.id }})
        T.eq(answers[1].backend.kind, "scripted", "section ghosttype")
        T.eq(answers[2].debounceMs, 0, "section ghosttype.completion")
        T.eq(answers[3], vim.NIL, "an unknown section")
        T.eq(answers[4].ghosttype.backend.kind, "scripted", "no section: everything")
        T.type("ox = ")
        T.expect_ghost("alpha()")
        T.type("<Esc>")
        require("ghosttype.server").set_settings(vim.json.decode({json.dumps(json.dumps(changed))}))
        T.wait("the new script in force", function()
          local status = require("ghosttype").status()
          return status.state == "ready" and status.message:find("second.json", 1, true)
        end)
        T.type("ox = ")
        T.expect_ghost("beta()")
        T.type("<Esc>")
        """,
        content="import os\n",
        settings=settings,
    )


def test_ghosttype_commands_and_the_statusline(editor):
    settings = editor.scripted([{"endsWith": "= ", "text": "compute()"}])
    editor.run(
        """
        local ghosttype = require("ghosttype")
        T.eq(ghosttype.statusline(), "ghosttype:ready", "statusline when ready")
        local status = vim.api.nvim_exec2("Ghosttype status", { output = true }).output
        T.wait("status to name the server", function() return status:find("ready", 1, true) end)
        vim.cmd("Ghosttype disable")
        T.eq(ghosttype.statusline(), "ghosttype:disabled", "statusline when disabled")
        T.type("oa = ")
        T.expect_no_ghost(500, "while disabled")
        T.type("<Esc>")
        vim.cmd("Ghosttype toggle")
        T.eq(ghosttype.statusline(), "ghosttype:ready", "statusline after toggle")
        T.type("ob = ")
        T.expect_ghost("compute()")
        T.type("<Esc>")
        vim.cmd("Ghosttype toggle")
        T.eq(ghosttype.statusline(), "ghosttype:disabled", "toggled off")
        vim.cmd("Ghosttype enable")
        local old = T.client.id
        vim.cmd("Ghosttype restart")
        local fresh = T.wait("a new server", function()
          local client = require("ghosttype.server").get_client(0)
          return client and client.id ~= old and client.initialized and client
        end, 20000)
        T.wait("the new server ready", function() return ghosttype.statusline() == "ghosttype:ready" end, 30000)
        T.type("oc = ")
        T.expect_ghost("compute()")
        T.type("<Esc>")
        vim.cmd("Ghosttype log")
        T.eq(vim.api.nvim_buf_get_name(0), "ghosttype://log", "the log buffer")
        local log = table.concat(T.lines(), "\\n")
        T.wait("the log to show status changes", function() return log:find("status ready", 1, true) end)
        T.wait("the log to show the restart", function() return log:find("server restarted", 1, true) end)
        vim.cmd("close")
        """,
        content="import os\n",
        settings=settings,
    )


def test_checkhealth_reports_server_version_and_readiness(editor):
    settings = editor.scripted([{"endsWith": "x = ", "text": "compute()"}])
    editor.run(
        """
        vim.cmd("checkhealth ghosttype")
        local report = table.concat(T.lines(), "\\n")
        for _, expected in ipairs({
          "OK server command: ", "OK version: ghosttype ", "model ready, backend reachable", "OK doctor: ",
        }) do
          if not report:find(expected, 1, true) then
            error("checkhealth lacks " .. vim.inspect(expected) .. ":\\n" .. report)
          end
        end
        if report:find("ERROR", 1, true) then
          error("checkhealth reports an error:\\n" .. report)
        end
        """,
        content="import os\n",
        settings=settings,
        timeout=180,
    )


def test_setup_validates_its_options(editor):
    settings = editor.scripted([])
    editor.run(
        """
        local function rejects(opts, needle)
          local ok, err = pcall(require("ghosttype").setup, opts)
          if ok or not tostring(err):find(needle, 1, true) then
            error(("setup(%s) should fail naming %q, got %s"):format(vim.inspect(opts), needle, tostring(err)))
          end
        end
        rejects({ cmd = "ghosttype serve" }, "cmd")
        rejects({ cmd = {} }, "cmd")
        rejects({ settings = "x" }, "settings")
        rejects({ filetypes = "python" }, "filetypes")
        rejects({ keymaps = { accept = 1 } }, "keymaps.accept")
        rejects({ keymaps = { accept_all = "<Tab>" } }, "keymaps.accept_all")
        rejects({ highlight = false }, "highlight")
        rejects({ bogus = true }, "bogus")
        -- Keys may be turned off one by one: then <Tab> is left alone.
        require("ghosttype").setup({ keymaps = { accept = false } })
        """,
        content="import os\n",
        settings=settings,
    )


HUNG_SERVER = """
import sys, time
if "serve" in sys.argv:
    for _ in sys.stdin.buffer:  # reads every request and answers none; goes when Neovim does
        pass
else:
    time.sleep(120)  # --version, doctor: never finish
"""


def test_checkhealth_returns_within_3_s_when_the_server_hangs(editor):
    hung = editor.root / "hung_server.py"
    hung.write_text(HUNG_SERVER, encoding="utf-8")
    editor.run(
        """
        T.wait("the hung server's client", function() return require("ghosttype.server").all_clients()[1] end)
        local started = vim.uv.hrtime()
        vim.cmd("checkhealth ghosttype")
        local ms = (vim.uv.hrtime() - started) / 1e6
        local report = table.concat(T.lines(), "\\n")
        if ms >= 3000 then
          error(("checkhealth took %d ms:\\n%s"):format(ms, report))
        end
        for _, expected in ipairs({ "the server did not answer", "ERROR", "`ghosttype doctor` did not finish" }) do
          if not report:find(expected, 1, true) then
            error("checkhealth lacks " .. vim.inspect(expected) .. ":\\n" .. report)
          end
        end
        """,
        content="import os\n",
        settings={},
        setup={"cmd": [sys.executable, str(hung), "serve"]},
        wait_ready=False,
    )


@pytest.mark.model
def test_the_readme_set_up_starts_without_a_message(editor):
    # The README's minimal set-up: the plugin on the runtimepath, setup({}), `ghosttype` on PATH
    # (here the project's), the default embedded model. Nothing may be shown: no warning about
    # the settings (an empty Lua table used to reach the server as a JSON array).
    editor.extra_env["PATH"] = f"{Path(editor.cmd[0]).parent}{os.pathsep}{os.environ['PATH']}"
    editor.run(
        """
        local function messages()
          return vim.api.nvim_exec2("messages", { output = true }).output
        end
        T.eq(T.client.config.cmd, { "ghosttype", "serve" }, "the server from PATH")
        T.eq(T.client.config.init_options, nil, "no initialization options for empty settings")
        local answer = T.client.handlers["workspace/configuration"](nil, { items = { { section = "ghosttype" } } },
          { client_id = T.client.id })
        T.eq(vim.json.encode(answer[1]), "{}", "the ghosttype section, as JSON")
        local stats
        T.client:request("workspace/executeCommand", { command = "ghosttype.stats" }, function(_, result)
          stats = result
        end)
        T.wait("the server to answer after its start-up", function() return stats end)
        T.eq(messages(), "", ":messages")
        T.eq(_G.notified, {}, "vim.notify calls")
        -- The check can fail: a bad key does show the server's warning.
        require("ghosttype.server").set_settings({ bogus = { on = true } })
        T.wait("the server's warning about a bad key", function()
          return messages():find("unknown setting 'bogus'", 1, true)
        end)
        """,
        content="import os\n",
        settings={},
        before="""
        _G.notified = {}
        local notify = vim.notify
        vim.notify = function(message, ...)
          table.insert(_G.notified, message)
          return notify(message, ...)
        end
        """,
        setup_call="require('ghosttype').setup({})",
        timeout=240,
    )

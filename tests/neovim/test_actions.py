"""Code actions in real headless Neovim against the real `ghosttype serve` on the scripted
backend (its `chat` rules answer the actions' prompts): vim.lsp.buf.code_action() lists the
`ghosttype:` actions and applies the picked one (Write docstring through codeAction/resolve, with
its progress shown; Explain's markdown opened by window/showDocument), and Refactor with an
instruction asks for the instruction through vim.ui.input (stubbed here to answer) before the
command goes to the server."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.editor

SOURCE = "def add(a, b):\n    return a + b\n"
REFACTORED = "```python\ndef add(a, b):\n    return b + a\n```\n"

# vim.ui.select stubbed: records the titles offered and picks the one named (nothing when absent).
PICK = """
local offered = {}
local function pick(title)
  offered = {}
  vim.ui.select = function(items, _, on_choice)
    local chosen
    for _, item in ipairs(items) do
      offered[#offered + 1] = item.action.title
      if item.action.title == title then
        chosen = item
      end
    end
    on_choice(chosen)
  end
  vim.lsp.buf.code_action()
  T.wait("the code actions to be offered", function() return #offered > 0 end)
end
"""


def settings(editor, chat: list[dict]) -> dict:
    script = editor.write_script([], chat=chat)
    return {"backend": {"kind": "scripted", "script": str(script)}, "completion": {"debounceMs": 0}}


def test_write_docstring_and_explain_from_code_action(editor):
    editor.extra_env["GHOSTTYPE_CACHE_DIR"] = str(editor.root / "cache")
    chat = [
        {"contains": "documentation comment", "text": "Add two numbers.", "delayMs": 300},
        {"contains": "Explain this", "text": "It **adds** its arguments."},
    ]
    editor.run(
        PICK
        + '''
        local statuslines = {}
        vim.api.nvim_create_autocmd("LspProgress", { callback = function()
          vim.schedule(function() statuslines[#statuslines + 1] = require("ghosttype").statusline() end)
        end })
        vim.api.nvim_win_set_cursor(0, { 2, 8 })
        pick("ghosttype: Write docstring")
        for _, title in ipairs({ "ghosttype: Generate tests", "ghosttype: Explain",
            "ghosttype: Refactor with an instruction" }) do
          T.eq(vim.list_contains(offered, title), true, title .. " offered in " .. vim.inspect(offered))
        end
        T.wait("the docstring in the buffer", function() return T.line(2) == '    """Add two numbers."""' end)
        T.eq(T.line(3), "    return a + b", "the body below the docstring")
        local shown = vim.tbl_filter(function(line)
          return vim.startswith(line, "ghosttype:ready Write docstring")
        end, statuslines)
        T.eq(#shown > 0, true, "the action's progress in the statusline: " .. vim.inspect(statuslines))
        T.wait("the statusline without the finished action", function()
          return require("ghosttype").statusline() == "ghosttype:ready"
        end)

        local source = vim.api.nvim_get_current_buf()
        pick("ghosttype: Explain")
        local explained = T.wait("the explanation opened", function()
          local name = vim.api.nvim_buf_get_name(0)
          return name:match("%.md$") and name
        end)
        T.eq(vim.startswith(explained, vim.env.GHOSTTYPE_CACHE_DIR), true, "under the cache folder: " .. explained)
        T.eq(table.concat(T.lines(), "\\n"):find("It **adds** its arguments.", 1, true) ~= nil, true,
          "the explanation's text")
        T.eq(vim.api.nvim_buf_get_lines(source, 1, 2, false)[1], '    """Add two numbers."""', "source unchanged")
        ''',
        content=SOURCE,
        settings=settings(editor, chat),
    )


def test_refactor_asks_the_instruction_with_vim_ui_input(editor):
    chat = [{"contains": "swap the operands", "text": REFACTORED}]
    editor.run(
        PICK
        + """
        local prompts = {}
        local answer = nil
        vim.ui.input = function(opts, on_confirm)
          prompts[#prompts + 1] = opts.prompt
          on_confirm(answer)
        end
        vim.api.nvim_win_set_cursor(0, { 2, 8 })
        -- Cancelled: nothing goes to the server, nothing changes.
        pick("ghosttype: Refactor with an instruction")
        T.wait("the instruction asked for", function() return #prompts == 1 end)
        T.sleep(500)
        T.eq(T.line(2), "    return a + b", "a cancelled refactor changes nothing")

        answer = "swap the operands"
        pick("ghosttype: Refactor with an instruction")
        T.wait("the instruction asked for again", function() return #prompts == 2 end)
        T.eq(prompts[2]:find("Refactor instruction", 1, true) ~= nil, true, "the prompt: " .. prompts[2])
        T.wait("the refactored code", function() return T.line(2) == "    return b + a" end)
        T.eq(T.line(1), "def add(a, b):", "the definition kept")
        """,
        content=SOURCE,
        settings=settings(editor, chat),
    )


def test_ghosttype_cancel_stops_a_running_action_and_writes_nothing(editor):
    # The docstring's answer takes 20 s: the person cancels it after it started.
    chat = [{"contains": "documentation comment", "text": "Add two numbers.", "delayMs": 20000}]
    editor.run(
        PICK
        + """
        vim.api.nvim_win_set_cursor(0, { 2, 8 })
        pick("ghosttype: Write docstring")
        T.wait("the action running", function()
          return require("ghosttype").statusline():find("Write docstring", 1, true) ~= nil
        end)
        local started = vim.uv.hrtime()
        vim.cmd("Ghosttype cancel")
        T.wait("the action ended", function()
          return require("ghosttype").statusline() == "ghosttype:ready"
        end)
        T.eq((vim.uv.hrtime() - started) / 1e9 < 10, true, "stopped well before its answer came")
        T.wait("the server's word that it stopped (in :Ghosttype log)", function()
          return vim.iter(require("ghosttype.server").log_lines()):any(function(line)
            return line:find("Write docstring: cancelled, nothing written", 1, true) ~= nil
          end)
        end)
        T.eq(T.line(2), "    return a + b", "nothing written")
        T.eq(#vim.api.nvim_buf_get_lines(0, 0, -1, false), 2, "the buffer as it was")
        """,
        content=SOURCE,
        settings=settings(editor, chat),
    )

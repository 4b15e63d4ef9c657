"""The plugin tells the server where the cursor went without typing (ghosttype/didMoveCursor): a
jump, keys passing over lines (one cue once the cursor rests), another buffer; typing onto new
lines sends none. Counted by the real `ghosttype serve` as `cursorMoves` in ghosttype.stats."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.editor

CONTENT = "".join(f"value_{n} = {n}\n" for n in range(1, 41))


def test_cursor_moves_without_typing_reach_the_server_and_typing_sends_none(editor):
    second = editor.root / "second.py"
    second.write_text("other = 1\n", encoding="utf-8")
    settings = editor.scripted([])
    editor.run(
        f"""
        local function cursor_moves()
          local stats
          T.client:request("workspace/executeCommand", {{ command = "ghosttype.stats" }}, function(_, result)
            stats = result
          end)
          T.wait("ghosttype.stats", function() return stats end)
          return stats.cursorMoves
        end
        -- Longer than the plugin's settle time, short enough to keep the test quick.
        local function settle() T.sleep(400) end

        local start = cursor_moves()
        T.type("20G")
        settle()
        T.eq(cursor_moves(), start + 1, "a jump to line 20")
        T.type("jjjjj")
        settle()
        T.eq(vim.api.nvim_win_get_cursor(0)[1], 25, "the cursor after jjjjj")
        T.eq(cursor_moves(), start + 2, "five lines passed in a row: one cue where the cursor rests")
        T.type("l")
        settle()
        T.eq(cursor_moves(), start + 2, "along the same line")

        -- Typing, new lines included (o, <CR>): no cue, and the typed line counts as sent.
        T.type("oalpha = 1<CR>beta = 2")
        settle()
        T.type("<Esc>")
        settle()
        T.eq(T.line(27), "beta = 2", "typed text")
        T.eq(cursor_moves(), start + 2, "typing onto new lines")
        T.type("dd")
        settle()
        T.eq(cursor_moves(), start + 2, "a deleted line moves the cursor by an edit")

        -- Arrow keys in insert mode move without typing.
        T.type("i<Up><Up>")
        settle()
        T.eq(cursor_moves(), start + 3, "<Up><Up> in insert mode")
        T.type("<Esc>")

        -- Another buffer, and back.
        local first = vim.api.nvim_get_current_buf()
        vim.cmd.edit({json.dumps(str(second))})
        T.wait("the server attached to the second buffer", function()
          return require("ghosttype.server").get_client(0)
        end)
        settle()
        local before_switch = cursor_moves()
        vim.cmd.buffer(first)
        settle()
        T.eq(cursor_moves(), before_switch + 1, "back to the first buffer")
        """,
        content=CONTENT,
        settings=settings,
    )

"""The Neovim plugin in headless Neovim 0.11 against the real `ghosttype serve` (scripted backend):
ghost text, accepting all / a word / a line, dismissing, cycling, multibyte ranges, insert mode only,
and <Tab> doing what it did before when nothing is shown. Each test types through the real
typeahead (see lua/ghosttype_test.lua)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.editor


def test_ghost_text_appears_and_tab_accepts_it(editor):
    settings = editor.scripted([{"endsWith": "x = ", "text": "compute(1, 2)"}])
    editor.run(
        """
        T.type("Gox = ")
        local ghost = T.expect_ghost("compute(1, 2)")
        T.eq(ghost.pos, "inline", "drawn inline")
        T.eq(ghost.hl, "GhosttypeSuggestion", "highlight group")
        T.eq({ ghost.row, ghost.col }, { 2, 4 }, "anchored at the cursor")
        T.eq(T.line(3), "x = ", "ghost text is not in the buffer")
        T.type("<Tab>")
        T.wait("the accepted text", function() return T.line(3) == "x = compute(1, 2)" end)
        T.eq(T.mode(), "i", "still in insert mode")
        T.eq(vim.api.nvim_win_get_cursor(0), { 3, 17 }, "cursor after the accepted text")
        -- The item's command reached the server: its counters show the acceptance.
        local stats
        T.client:request("workspace/executeCommand", { command = "ghosttype.stats" }, function(_, result)
          stats = result
        end)
        T.wait("ghosttype.stats", function() return stats end)
        T.eq(stats.accepted, 1, "accepted counter")
        T.type("<Esc>")
        """,
        content="import os\n\n",
        settings=settings,
    )


def test_accept_word_then_line_walks_a_multiline_suggestion(editor):
    settings = editor.scripted(
        [{"endsWith": "    total = ", "text": "compute_total(items, tax)\n    return total"}],
        multiline="always",
    )
    editor.run(
        """
        T.type("Go    total = ")
        local ghost = T.expect_ghost("compute_total(items, tax)")
        T.eq(ghost.lines, { "compute_total(items, tax)", "    return total" }, "virtual lines")
        T.type("<M-Right>")
        T.wait("one word accepted", function() return T.line(2) == "    total = compute_total" end)
        T.expect_ghost("(items, tax)")
        T.type("<M-Right>")
        T.wait("the bracket accepted", function() return T.line(2) == "    total = compute_total(" end)
        T.type("<M-Down>")
        T.wait("the line accepted", function() return T.line(2) == "    total = compute_total(items, tax)" end)
        local rest = T.expect_ghost("")
        T.eq(rest.lines, { "", "    return total" }, "the second line still shown")
        T.type("<M-Down>")
        T.wait("the last line accepted", function() return T.line(3) == "    return total" end)
        T.eq(T.lines(), { "def f(items, tax):", "    total = compute_total(items, tax)", "    return total" }, "buffer")
        T.eq(vim.api.nvim_win_get_cursor(0), { 3, 16 }, "cursor at the end")
        """,
        content="def f(items, tax):\n",
        settings=settings,
    )


def test_dismiss_hides_the_suggestion_until_the_next_change(editor):
    settings = editor.scripted(
        [{"endsWith": "x = ", "text": "compute(1, 2)"}, {"endsWith": "x = d", "text": "ouble(3)"}]
    )
    editor.run(
        """
        T.type("ox = ")
        T.expect_ghost("compute(1, 2)")
        T.type("<C-]>")
        T.wait("the ghost text to go", function() return T.ghost() == nil end, 2000)
        T.expect_no_ghost(400, "after dismiss")
        T.eq(T.line(2), "x = ", "dismiss leaves the buffer alone")
        T.type("d")
        T.expect_ghost("ouble(3)")
        T.type("<Esc>")
        """,
        content="import os\n",
        settings=settings,
    )


def test_cycling_through_several_candidates(editor):
    settings = editor.scripted([{"endsWith": "y = ", "candidates": ["1", "2", "3"]}], candidates=3)
    editor.run(
        """
        T.type("oy = ")
        local seen = { T.wait("a first candidate", function() return T.ghost() end).text }
        T.eq(#vim.api.nvim_buf_get_extmarks(0, require("ghosttype.suggestion").count_ns, 0, -1, {}), 1,
          "a candidate counter")
        for _ = 1, 2 do
          local before = T.ghost().text
          T.type("<M-]>")
          seen[#seen + 1] = T.wait("the next candidate", function()
            local ghost = T.ghost()
            return ghost and ghost.text ~= before and ghost.text
          end, 2000)
        end
        table.sort(seen)
        T.eq(seen, { "1", "2", "3" }, "every candidate shown once")
        local third = T.ghost().text
        T.type("<M-]>")  -- wraps around to the first
        T.type("<M-[>")  -- and back to the third
        T.wait("the previous candidate", function() return T.ghost() and T.ghost().text == third end, 2000)
        T.type("<Tab>")
        T.wait("the shown candidate accepted", function() return T.line(2) == "y = " .. third end)
        T.type("<Esc>")
        """,
        content="import os\n",
        settings=settings,
    )


def test_multibyte_line_with_a_range_replacing_the_closing_bracket(editor):
    # Tabs, 3-byte CJK and a 4-byte emoji (two UTF-16 units) before the cursor: the item's range
    # (UTF-16 columns) must land on the auto-closed ")" and nowhere else.
    settings = editor.scripted([{"endsWith": "print(s, ", "text": '"éж", 1)'}])
    editor.run(
        """
        T.type("j$i")  -- insert mode between "(" and the auto-closed ")"
        T.type("s, ")
        local ghost = T.expect_ghost('"éж", 1')
        T.eq(T.client.offset_encoding, "utf-16", "negotiated position encoding")
        T.eq(require("ghosttype.suggestion").current().replace, 1, "the item's range covers the ')'")
        T.eq(T.line(2), '\\ts = "日本😀"; print(s, )', "buffer unchanged while shown")
        T.type('"é')  -- typing what is suggested keeps the rest on screen
        T.expect_ghost('ж", 1')
        T.type("<Tab>")
        T.wait("the range replaced", function() return T.line(2) == '\\ts = "日本😀"; print(s, "éж", 1)' end)
        T.eq(vim.api.nvim_win_get_cursor(0)[2], #'\\ts = "日本😀"; print(s, "éж", 1)', "cursor after the ')'")
        T.type("<Esc>")
        """,
        content='if True:\n\ts = "日本😀"; print()\n',
        settings=settings,
    )


def test_no_ghost_text_outside_insert_mode(editor):
    settings = editor.scripted(
        [
            {"endsWith": "slow = ", "text": "answer()", "delayMs": 500},
            {"endsWith": "x = ", "text": "compute(1, 2)"},
        ]
    )
    editor.run(
        """
        -- An answer arriving after <Esc> is dropped.
        T.type("oslow = ")
        T.type("<Esc>")
        T.expect_no_ghost(1200, "an answer that arrived in normal mode")
        -- Ghost text shown in insert mode goes with it.
        T.type("ox = ")
        T.expect_ghost("compute(1, 2)")
        T.type("<Esc>")
        T.wait("the ghost text to go", function() return T.ghost() == nil end, 1000)
        T.eq(T.mode(), "n", "normal mode")
        T.expect_no_ghost(500, "in normal mode")
        -- <C-o> runs one normal-mode command: no ghost text meanwhile either.
        T.type("A")
        T.type("<C-o>")
        T.wait("insert-normal mode", function() return T.mode() == "niI" end, 1000)
        T.expect_no_ghost(500, "in insert-normal mode")
        T.type("<Esc>")
        """,
        content="import os\n",
        settings=settings,
    )


def test_stale_answers_are_dropped(editor):
    # The first answer is slow; by the time it comes the text has changed, so it is never drawn.
    settings = editor.scripted(
        [
            {"endsWith": "w = ", "text": "STALE", "delayMs": 600},
            {"endsWith": "w = q", "text": "uick()"},
        ]
    )
    editor.run(
        """
        T.type("ow = ")
        T.sleep(100)
        T.type("q")
        T.expect_ghost("uick()")
        T.sleep(900)
        T.eq(T.ghost().text, "uick()", "the fresh answer stays")
        T.type("<Esc>")
        """,
        content="import os\n",
        settings=settings,
    )


def test_tab_is_a_normal_tab_when_nothing_is_shown(editor):
    settings = editor.scripted([{"endsWith": "x = ", "text": "compute(1, 2)"}])
    editor.run(
        """
        vim.bo.expandtab, vim.bo.softtabstop = false, 0
        T.type("o")
        T.expect_no_ghost(400, "nothing suggested on an empty line")
        T.type("<Tab>")
        T.wait("a Tab character", function() return T.line(2) == "\\t" end, 2000)
        -- After a dismiss, <Tab> is a Tab again.
        T.type("x = ")
        T.expect_ghost("compute(1, 2)")
        T.type("<C-]>")
        T.wait("the ghost text to go", function() return T.ghost() == nil end, 2000)
        T.type("<Tab>")
        T.wait("a second Tab", function() return T.line(2) == "\\tx = \\t" end, 2000)
        T.type("<Esc>")
        """,
        content="import os\n",
        settings=settings,
    )


def test_tab_without_a_suggestion_selects_in_the_menu_or_runs_the_earlier_mapping(editor):
    # With no ghost text <Tab> does what it would do without ghosttype: next item of a visible
    # completion menu, else the global insert-mode <Tab> mapping (Lua or Vimscript, expr or
    # recursive), else a Tab. With ghost text shown, it still accepts.
    settings = editor.scripted([{"endsWith": "x = ", "text": "compute(1, 2)"}])
    editor.run(
        """
        T.type("Goal<C-n>")
        T.wait("the completion menu", function() return vim.fn.pumvisible() == 1 end, 2000)
        T.eq(T.line(4), "alpha_one", "the first match inserted")
        T.type("<Tab>")
        T.wait("the second match", function() return T.line(4) == "alpha_two" end, 2000)
        T.type("<Esc>")

        vim.keymap.set("i", "<Tab>", function() vim.g.lua_tab = (vim.g.lua_tab or 0) + 1 end)
        T.type("o<Tab>")
        T.wait("the global Lua mapping to run", function() return vim.g.lua_tab == 1 end, 2000)
        T.eq(T.line(5), "", "nothing inserted by the Lua mapping")
        T.type("<Esc>")

        vim.keymap.set("i", "<Tab>", function() return "<Lt>lua-expr>" end, { expr = true })
        T.type("o<Tab>")
        T.wait("the Lua expr mapping's keys", function() return T.line(6) == "<lua-expr>" end, 2000)
        T.type("<Esc>")

        vim.cmd([[inoremap <expr> <Tab> '[vim' .. '-expr]']])
        T.type("o<Tab>")
        T.wait("the Vimscript expr mapping's keys", function() return T.line(7) == "[vim-expr]" end, 2000)
        T.type("<Esc>")

        vim.cmd("inoremap <Plug>(my-tab) [plug]")
        vim.cmd("imap <Tab> <Plug>(my-tab)")
        T.type("o<Tab>")
        T.wait("the recursive mapping, mapped again", function() return T.line(8) == "[plug]" end, 2000)

        T.type("<CR>x = ")
        T.expect_ghost("compute(1, 2)")
        T.type("<Tab>")
        T.wait("the suggestion accepted", function() return T.line(9) == "x = compute(1, 2)" end, 2000)
        T.type("<Esc>")
        """,
        content="import os\nalpha_one = 1\nalpha_two = 2\n",
        settings=settings,
    )


def test_a_buffer_local_tab_mapping_made_before_ghosttype_attached_is_the_fallback(editor):
    settings = editor.scripted([{"endsWith": "x = ", "text": "compute(1, 2)"}])
    editor.run(
        """
        local map = vim.fn.maparg("<Tab>", "i", false, true)
        T.eq(map.desc, "ghosttype: accept the suggestion", "ghosttype's mapping in force")
        T.type("o<Tab>")
        T.wait("the buffer's own mapping", function() return T.line(2) == "[buffer]" end, 2000)
        T.type("<Esc>")
        -- Detaching puts the buffer's mapping back.
        vim.lsp.buf_detach_client(0, T.client.id)
        T.wait("the buffer's mapping back", function()
          local m = vim.fn.maparg("<Tab>", "i", false, true)
          return m.buffer == 1 and m.rhs == "[buffer]"
        end, 2000)
        """,
        content="import os\n",
        settings=settings,
        extra="""
        vim.api.nvim_create_autocmd("FileType", { callback = function(event)
          vim.keymap.set("i", "<Tab>", "[buffer]", { buffer = event.buf })
        end })
        """,
    )

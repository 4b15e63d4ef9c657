"""The cascade's refresh in real Neovim against the real `ghosttype serve`: two scripted backends,
one per role, that answer the same place differently (deterministic; no model). About 0.3 s after
the typing role's suggestion is shown, the pause role answers and the server sends
ghosttype/refreshInlineCompletion; the plugin asks again and draws the new suggestion over the
old one. A timer samples the extmarks every few milliseconds meanwhile: the ghost text must never
be absent between the two."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.editor

TYPING_RULES = [
    {"endsWith": "x = ", "text": "typing()"},
    {"endsWith": "y = ", "text": "same()"},
]
PAUSE_RULES = [
    {"endsWith": "x = ", "text": "paused()"},
    {"endsWith": "y = ", "text": "same()"},
]

# Lua helpers shared by the bodies: a sampler of the ghost text on a 5 ms timer, and the stats.
HELPERS = """
local function sample_ghosts()
  local seen = {}
  local timer = assert(vim.uv.new_timer())
  timer:start(0, 5, vim.schedule_wrap(function()
    local ghost = T.ghost()
    local text = ghost and ghost.text or "<none>"
    if seen[#seen] ~= text then
      seen[#seen + 1] = text
    end
  end))
  return seen, function() timer:stop(); timer:close() end
end

local function stats()
  local result
  T.client:request("workspace/executeCommand", { command = "ghosttype.stats" }, function(_, r)
    result = r
  end)
  T.wait("ghosttype.stats", function() return result end)
  return result
end
"""


def cascade_settings(editor) -> dict:
    scripts = {}
    for role, rules in (("typing", TYPING_RULES), ("pause", PAUSE_RULES)):
        path = editor.root / f"{role}.json"
        script = {"delayMs": 0, "tokenDelayMs": 0, "rules": rules, "default": {"text": ""}}
        path.write_text(json.dumps(script), encoding="utf-8")
        scripts[role] = str(path)
    return {
        "backend": {"kind": "scripted", "script": scripts["typing"]},
        "pauseBackend": {"kind": "scripted", "script": scripts["pause"]},
        "completion": {"debounceMs": 0},
    }


def run_cascade(editor, body: str) -> None:
    """Runs the Lua `body` (after HELPERS) in Neovim on a small Python file, both roles scripted."""
    editor.run(HELPERS + body, content="import os\n\n", settings=cascade_settings(editor))


def test_the_pause_answer_replaces_the_shown_suggestion_without_a_gap(editor):
    run_cascade(
        editor,
        """
        T.type("Gox = ")
        T.expect_ghost("typing()")
        local seen, stop = sample_ghosts()
        T.expect_ghost("paused()", 10000)
        T.sleep(300)
        stop()
        T.eq(seen, { "typing()", "paused()" }, "ghost text sampled every 5 ms")
        T.eq(stats().pauseReplaced, 1, "the server's count of refreshes")
        T.type("<Tab>")
        T.wait("the accepted text", function() return T.line(3) == "x = paused()" end)
        T.type("<Esc>")
        """,
    )


def test_a_key_typed_before_the_pause_answer_keeps_the_typing_suggestion(editor):
    run_cascade(
        editor,
        """
        T.type("Gox = ")
        T.expect_ghost("typing()")
        local seen, stop = sample_ghosts()
        T.sleep(20)
        T.type("t")  -- well within the 0.3 s pause
        T.expect_ghost("yping()")
        T.sleep(1500)
        stop()
        T.eq(seen, { "typing()", "yping()" }, "ghost text after typing into it")
        T.eq(stats().pauseReplaced, 0, "no refresh")
        T.type("<Esc>")
        """,
    )


def test_the_same_answer_from_both_roles_keeps_the_suggestion(editor):
    run_cascade(
        editor,
        """
        local before = stats().pauseAnswers
        T.type("Goy = ")
        T.expect_ghost("same()")
        local seen, stop = sample_ghosts()
        T.wait("the pause role's answer", function() return stats().pauseAnswers > before end)
        T.sleep(300)
        stop()
        T.eq(seen, { "same()" }, "ghost text while the pause role answered")
        T.eq(stats().pauseReplaced, 0, "no refresh")
        T.type("<Esc>")
        """,
    )


def test_a_refresh_for_another_version_or_place_is_ignored(editor):
    # The server never sends these (a keystroke stops the pause role); the plugin's own check is
    # driven through its handler, and a request it sent would show in the server's count.
    run_cascade(
        editor,
        """
        T.type("Goy = ")
        T.expect_ghost("same()")
        local handler = T.client.handlers["ghosttype/refreshInlineCompletion"]
        local buf = vim.api.nvim_get_current_buf()
        local uri, version = vim.uri_from_bufnr(buf), vim.lsp.util.buf_versions[buf]
        local requests = stats().requests
        local ctx = { client_id = T.client.id, method = "ghosttype/refreshInlineCompletion" }
        for _, params in ipairs({
          { textDocument = { uri = uri, version = version - 1 }, position = { line = 2, character = 4 } },
          { textDocument = { uri = uri, version = version }, position = { line = 2, character = 3 } },
          { textDocument = { uri = uri .. "x", version = version }, position = { line = 2, character = 4 } },
        }) do
          handler(nil, params, ctx)
        end
        T.sleep(300)
        T.eq(stats().requests, requests, "requests after three refreshes that do not apply")
        local here = { textDocument = { uri = uri, version = version }, position = { line = 2, character = 4 } }
        handler(nil, here, ctx)
        T.wait("the request a matching refresh sends", function() return stats().requests == requests + 1 end)
        T.expect_ghost("same()")
        T.type("<Esc>")
        """,
    )

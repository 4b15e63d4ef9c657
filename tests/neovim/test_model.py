"""The plugin with the real embedded model (Qwen2.5-Coder, llama.cpp in the server): whatever the
model suggests is drawn as ghost text and <Tab> puts exactly that into the buffer."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.editor, pytest.mark.model]

SETTINGS = {"backend": {"kind": "embedded"}, "completion": {"maxTokens": 16, "debounceMs": 0}}


def test_real_model_suggestion_is_shown_and_accepted(editor):
    editor.run(
        """
        T.type("Go    return a")
        local ghost = T.wait("a suggestion from the model", function()
          local g = T.ghost()
          return g and g.text ~= "" and g
        end, 60000)
        T.eq(ghost.hl, "GhosttypeSuggestion", "highlight group")
        local expected = "    return a" .. ghost.text
        T.type("<Tab>")
        T.wait("the suggestion accepted", function() return T.line(2) == expected end)
        T.type("<Esc>")
        """,
        content="def add(a, b):\n",
        settings=SETTINGS,
        timeout=240,
    )


def test_real_model_accept_word_takes_one_word(editor):
    editor.run(
        """
        T.type("Go    total = ")
        local ghost = T.wait("a suggestion from the model", function()
          local g = T.ghost()
          return g and g.text:match("%w") and g
        end, 60000)
        local word = require("ghosttype.text").next_word(ghost.text)
        T.type("<M-Right>")
        T.wait("one word accepted", function() return T.line(3) == "    total = " .. word end)
        T.type("<Esc>")
        """,
        content="def total_price(prices, tax):\n    subtotal = sum(prices)\n",
        settings=SETTINGS,
        timeout=240,
    )

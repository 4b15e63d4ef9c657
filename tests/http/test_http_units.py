"""Pure pieces of the HTTP backends: the stop cutter and the chat answer extraction."""

from __future__ import annotations

import pytest

from ghosttype.backends.http import StopCutter, public_url
from ghosttype.context.types import PromptContext
from ghosttype.prompts.chat import HOLE, chat_messages, extract_code

STOPS = ("<|endoftext|>", "<|file_sep|>", "<|fim_pad|>")


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        pytest.param(["abc", "def"], "abcdef", id="no-stop"),
        pytest.param(["ab<|endoftext|>cd"], "ab", id="inside-a-piece"),
        pytest.param(["ab<|file", "_sep|>cd", "ef"], "ab", id="split"),
        pytest.param(["ab<", "|", "fim_pad", "|>"], "ab", id="split-many"),
        pytest.param(["a <| b", "c"], "a <| bc", id="false-start-released"),
        pytest.param(["x <|endo"], "x <|endo", id="partial-at-end-flushed"),
    ],
)
def test_stop_cutter(pieces: list[str], expected: str) -> None:
    cutter = StopCutter(STOPS)
    out = "".join(cutter.feed(p) for p in pieces) + cutter.flush()
    assert out == expected


def test_public_url_hides_credentials() -> None:
    assert public_url("https://me:pw@host:8443/base?key=1") == "https://host:8443/base"


def context(prefix: str, suffix: str = "") -> PromptContext:
    return PromptContext(path="a.py", language="python", prefix=prefix, suffix=suffix)


@pytest.mark.parametrize(
    ("answer", "prefix", "suffix", "expected"),
    [
        pytest.param(
            "```python\nreturn a + b\n```", "def f(a, b):\n    ", "", "return a + b", id="fenced"
        ),
        pytest.param(
            "Here you go:\n```\nx = 1\n```\nExplanation: ...", "", "", "x = 1", id="prose-around"
        ),
        pytest.param("```py\nfoo(1, 2)", "y = ", "", "foo(1, 2)", id="unterminated-fence"),
        pytest.param("a + b", "    return ", "\n", "a + b", id="bare"),
        pytest.param(
            "```\n    return a + b\n```",
            "def f(a, b):\n    return ",
            "",
            "a + b",
            id="repeats-cursor-line",
        ),
        pytest.param(
            "```\ndef f(a, b):\n    return a + b\n```",
            "def f(a, b):\n    ",
            "",
            "return a + b",
            id="repeats-lines-before",
        ),
        pytest.param(
            "```\nreturn a + b\n```",
            "def f(a, b):\n    return ",
            "",
            "a + b",
            id="repeats-cursor-line-unindented",
        ),
        pytest.param(
            "```\nx = compute()\nprint(x)\n```",
            "",
            "\nprint(x)\n",
            "x = compute()",
            id="repeats-lines-after",
        ),
        pytest.param(f"```\nvalue{HOLE}\n```", "", "", "value", id="echoed-marker"),
        pytest.param("```python\n```", "x = ", "", "", id="empty-block"),
    ],
)
def test_extract_code(answer: str, prefix: str, suffix: str, expected: str) -> None:
    assert extract_code(answer, context(prefix, suffix)) == expected


def test_chat_messages_mark_the_hole() -> None:
    messages = chat_messages(context("x = {a}", " + 1"))
    assert messages[0]["role"] == "system" and HOLE in messages[0]["content"]
    assert "x = {a}" + HOLE + " + 1" in messages[1]["content"]

"""Write docstring puts the text in the language's convention; Refactor reads its instruction
from the comment right above the code. Pure."""

from __future__ import annotations

import pytest

from ghosttype.actions.errors import ActionError
from ghosttype.actions.service import comment_above, doc_comment
from ghosttype.actions.target import find_target
from ghosttype.config import Settings
from ghosttype.engine import Engine

TEXT = "Add two numbers.\n\nReturns their sum."


def documented(text: str, language: str, at: str) -> str:
    engine = Engine(Settings())
    document = engine.documents.open(f"file:///w/a.{language}", text, language, 1)
    target = find_target(engine.context.syntax, document, text.index(at), text.index(at))
    assert target is not None
    offset, comment = doc_comment(document, target, TEXT)
    return text[:offset] + comment + text[offset:]


def test_python_gets_a_docstring_as_the_first_statement():
    text = "class A:\n    def add(self, a, b):\n        return a + b\n"
    assert documented(text, "python", "return") == (
        "class A:\n    def add(self, a, b):\n"
        '        """Add two numbers.\n\n        Returns their sum.\n        """\n'
        "        return a + b\n"
    )


def test_javascript_gets_a_block_comment_above():
    text = "class A {\n  add(a, b) {\n    return a + b;\n  }\n}\n"
    assert documented(text, "javascript", "return") == (
        "class A {\n  /**\n   * Add two numbers.\n   *\n   * Returns their sum.\n   */\n"
        "  add(a, b) {\n    return a + b;\n  }\n}\n"
    )


def test_go_comments_start_with_the_name_and_rust_uses_triple_slashes():
    go = documented("func Sum(a, b int) int {\n\treturn a + b\n}\n", "go", "return")
    assert go.startswith("// Sum add two numbers.\n//\n// Returns their sum.\nfunc Sum")
    rust = documented("fn add(a: i32) -> i32 {\n    a\n}\n", "rust", "    a")
    assert rust.startswith("/// Add two numbers.\n///\n/// Returns their sum.\nfn add")


def test_a_one_line_python_definition_is_refused():
    engine = Engine(Settings())
    text = "def f(): return 1\n"
    document = engine.documents.open("file:///w/a.py", text, "python", 1)
    target = find_target(engine.context.syntax, document, 10, 10)
    with pytest.raises(ActionError, match="one-line"):
        doc_comment(document, target, TEXT)


def test_the_instruction_is_the_comment_right_above():
    engine = Engine(Settings())
    text = "x = 1\n# make it iterative\n# and shorter\ndef f(n):\n    return f(n - 1)\n"
    document = engine.documents.open("file:///w/a.py", text, "python", 1)
    assert comment_above(document, text.index("def f")) == "make it iterative and shorter"
    assert comment_above(document, text.index("x = 1")) == ""

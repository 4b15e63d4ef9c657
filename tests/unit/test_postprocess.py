import pytest

from ghosttype.postprocess import (
    CursorLine,
    block_end,
    block_repeat,
    decide_multiline,
    finalize,
    first_cut,
    repetition,
    single_line,
    suffix_reached,
)


def apply(rules, text):
    cut = first_cut(rules, text)
    return text if cut is None else text[:cut]


@pytest.mark.parametrize(
    ("before", "after", "setting", "multiline"),
    [
        pytest.param("    x = foo(", ")", "auto", False, id="open-call-mid-expression"),
        pytest.param("    x = ", " + 1", "auto", False, id="code-after-cursor"),
        pytest.param("def f():", "", "auto", True, id="after-signature"),
        pytest.param("    ", "", "auto", True, id="blank-line"),
        pytest.param("if (x) {", "}", "auto", True, id="brace-block"),
        pytest.param("    ", "", "never", False, id="never"),
        pytest.param("x = ", " + 1", "always", True, id="always"),
    ],
)
def test_multiline_decision(before, after, setting, multiline):
    assert decide_multiline(setting, CursorLine(before, after)) is multiline


def test_single_line_stops_at_end_of_first_line_with_content():
    rule = single_line()
    assert apply([rule], "a + b\n    return c") == "a + b"
    assert apply([rule], "\n    next_line()\nmore") == "\n    next_line()"


def test_block_end_cuts_when_the_model_leaves_the_block():
    cursor = CursorLine("    ", "")
    text = "    y = 1\n    return y\n\ndef other():\n    pass\n"
    assert apply([block_end(cursor)], text) == "    y = 1\n    return y\n"


def test_suffix_reached_cuts_before_copying_the_following_code():
    cursor = CursorLine("    ", "", next_lines=("    return total",))
    text = "    total = sum(xs)\n    return total\n"
    assert apply([suffix_reached(cursor)], text) == "    total = sum(xs)"


def test_repetition_keeps_one_copy():
    assert apply([repetition()], "x += 1\nx += 1\nx += 1\nx += 1\n") == "x += 1"


def test_auto_closed_bracket_becomes_a_replaced_range_not_a_duplicate():
    completion = finalize("a, b)", CursorLine("foo(", ")"), suffix=")\n")
    assert completion is not None
    assert completion.text == "a, b)" and completion.replace_after == 1


def test_completion_already_present_after_the_cursor_is_dropped():
    assert finalize("return x", CursorLine("    ", ""), suffix="\n    return x\n") is None


def test_whitespace_only_completion_is_dropped():
    assert finalize("   \n  ", CursorLine("x = ", ""), suffix="") is None


def test_trailing_whitespace_is_trimmed():
    completion = finalize("value  \n", CursorLine("x = ", ""), suffix="")
    assert completion is not None and completion.text == "value"


def test_block_end_after_a_signature_keeps_only_the_body():
    cursor = CursorLine("def add(a, b):", "")
    assert (
        apply([block_end(cursor)], "\n    return a + b\n\n\ndef other():\n")
        == "\n    return a + b\n\n"
    )


def test_block_end_keeps_the_closing_brace_unless_the_code_after_has_it():
    body = "\n  return a + b;\n}\nfunction other() {\n"
    assert (
        apply([block_end(CursorLine("function add(a, b) {", ""))], body) == "\n  return a + b;\n}"
    )
    closed = CursorLine("function add(a, b) {", "", next_lines=("}",))
    assert apply([block_end(closed)], body) == "\n  return a + b;"


def test_repeated_indentation_is_dropped_from_the_first_line_only():
    from ghosttype.postprocess import drop_repeated_indent

    raw = "    text = text.lower()\n    return text == text[::-1]"
    assert drop_repeated_indent(raw, "    ") == "text = text.lower()\n    return text == text[::-1]"
    assert drop_repeated_indent("if (n < 0) {\n    throw e;", "  ") == "if (n < 0) {\n    throw e;"
    assert drop_repeated_indent("x = 1", "") == "x = 1"


def test_block_end_under_the_editors_indentation_measures_from_the_cursor():
    # The cursor is after two spaces; the model writes `if` there (column 2): a line back at
    # column 0 leaves the function.
    cursor = CursorLine("  ", "")
    text = "if (n < 0) {\n    throw e;\n  }\n  return 1;\n}\nmodule.exports = x;\n"
    assert apply([block_end(cursor)], text) == "if (n < 0) {\n    throw e;\n  }\n  return 1;"


def test_markdown_fence_ends_the_completion():
    from ghosttype.postprocess import markdown_fence

    assert apply([markdown_fence()], "return 1\n```\nThis function") == "return 1"


def test_block_end_on_a_blank_line_follows_the_models_first_line():
    # At column 0 the model's first line gives the block's level.
    cursor = CursorLine("", "", next_lines=("    return y",))
    text = "    y = x + 1\n    z = y\ndef other():\n"
    assert apply([block_end(cursor)], text) == "    y = x + 1\n    z = y"


def test_suffix_reached_matches_a_closing_brace_line_exactly():
    cursor = CursorLine("    ", "", next_lines=("  }",))
    text = "  return total;\n  }\n\n  apply() {\n"
    assert apply([suffix_reached(cursor)], text) == "  return total;"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        pytest.param(
            "if (n < 0) {\n  throw e;\n}\nlet r = 1;\nfor (let i = 1; i <= n; i++) {\n  r *= i;",
            "if (n < 0) {\n  throw e;\n}\nlet r = 1;",
            id="open-loop",
        ),
        pytest.param(
            "total = 0\nfor x in xs:\n    total += x\nreturn tot",
            "total = 0\nfor x in xs:\n    total += x",
            id="partial-line",
        ),
        pytest.param("total = 0\nfor x in xs:\n    ", "total = 0", id="header-without-body"),
        pytest.param("call(a,\n     b", "", id="nothing-whole"),
        pytest.param("x = 1;\nvar y = a +\n    b", "x = 1;", id="operator-at-the-end"),
    ],
)
def test_trim_unfinished_keeps_whole_code(raw, kept):
    from ghosttype.postprocess.syntax import trim_unfinished

    assert trim_unfinished(raw) == kept


def test_paragraph_end_stops_a_gap_followed_by_a_blank_line():
    from ghosttype.postprocess import paragraph_end

    cursor = CursorLine("", "", next_lines=("    values = {}",), next_is_blank=True)
    text = "    factory = get(func)\n\n    rv = factory()\n    return rv\n"
    assert apply([paragraph_end(cursor)], text) == "    factory = get(func)"
    # Code directly below the gap: blank lines inside the completion are left to the other rules.
    dense = CursorLine("", "", next_lines=("    values = {}",), next_is_blank=False)
    assert apply([paragraph_end(dense)], text) == text


def test_the_line_to_avoid_is_the_code_after_a_blank_cursor_line():
    from ghosttype.config import CompletionSettings
    from ghosttype.documents import Document
    from ghosttype.postprocess.pipeline import Surroundings, line_to_avoid

    def avoided(text: str, offset: int, postprocess: bool = True) -> str:
        at = Surroundings.of(Document("file:///a", text), offset, text[:offset], multiline=True)
        return line_to_avoid(at, CompletionSettings(postprocess=postprocess))

    text = "def f(x):\n    y = x\n    \n\n    return y\n"
    assert avoided(text, text.index("    \n") + 4) == "    return y"
    assert avoided(text, text.index("    \n") + 4, postprocess=False) == ""  # raw: no steering
    # Code before or after the cursor on its line: the model is not asked to fill a gap.
    assert avoided(text, text.index("= x") + 2) == ""
    assert avoided("    \n", 4) == ""  # nothing follows


def test_block_repeat_ends_where_the_model_copies_code_that_follows_in_the_same_block():
    document_after = (
        "\n    if steps == 0:\n        raise ValueError('no steps')\n\n"
        "    buffer.rotate(steps)\n    steps = -steps\n    n = len(buffer)\n\n"
        "def sibling(buffer):\n    buffer = deque(iterable)\n"
    )
    rule = block_repeat(CursorLine("    ", ""), document_after)
    generated = "buffer = deque(iterable)\n    steps = -steps\n    n = len(buffer)\n"
    assert apply([rule], generated) == "buffer = deque(iterable)"
    # A line that stands in a sibling function (outside the block) is no reason to stop, nor is
    # a short line, nor code on the cursor's line.
    assert (
        apply([rule], "x = 1\n    buffer = deque(iterable)\n")
        == "x = 1\n    buffer = deque(iterable)\n"
    )
    short = block_repeat(CursorLine("    ", ""), "\n    return n\n")
    assert apply([short], "n += 1\n    return n\n") == "n += 1\n    return n\n"
    assert apply([block_repeat(CursorLine("    x = ", ""), document_after)], generated) == generated


def test_repeat_rules_cut_only_where_a_statement_starts():
    # inflection's rule tables repeat argument lines; the model writing one more entry must not be
    # cut inside its call because an argument line equals one in the code that follows.
    document_after = (
        "\n        PLURALS.insert(0, (\n"
        '            r"{}{}$".format(plural[0].upper(),\n'
        "                            caseinsensitive(singular[1:])),\n"
        "            plural[0].upper() + plural[1:]\n        ))\n"
    )
    cursor = CursorLine("", "", next_lines=("        PLURALS.insert(0, (",))
    generated = (
        "        SINGULARS.insert(0, (\n"
        '            r"{}{}$".format(plural[0].upper(),\n'
        "                            caseinsensitive(singular[1:])),\n"
        "            singular[0].upper() + singular[1:]\n        ))\n"
        "        PLURALS.insert(0, (\n"
    )
    whole = generated[: generated.index("        PLURALS")].rstrip("\n")
    assert apply([block_repeat(cursor, document_after)], generated) == whole
    assert apply([suffix_reached(cursor)], generated) == whole

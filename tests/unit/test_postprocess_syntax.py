"""Syntax-aware post-processing: golden cases from tests/test_data/postprocess, and the
comment-to-function cases: a model that runs on past the body is cut back to the body."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ghosttype.context.syntax import parses_cleanly
from ghosttype.postprocess.syntax import (
    balance_brackets,
    code_lines_after_cursor_line,
    cut_at_block_end,
    detect_indent,
    drop_dangling_header,
    drop_suffix_repeats,
    end_on_whole_statement,
    indent_around_cursor,
    indent_under_opener,
    keep_suffix_reachable,
    normalise_indentation,
    open_brackets,
    remove_repetition,
)

DATA = Path(__file__).resolve().parent.parent / "test_data"
CURSOR = "█"
GOLDEN = sorted((DATA / "postprocess").glob("*.txt"))
FUNCTIONS = sorted(
    p for p in (DATA / "comment_to_function").iterdir() if not p.name.endswith(".expected")
)
LANGUAGES = {
    ".py": "python", ".js": "javascript", ".ts": "typescript", ".tsx": "typescriptreact",
    ".go": "go", ".rs": "rust", ".java": "java", ".c": "c", ".cpp": "cpp", ".cs": "csharp",
    ".rb": "ruby", ".php": "php", ".swift": "swift", ".kt": "kotlin", ".lua": "lua",
    ".sh": "shellscript",
}  # fmt: skip


def read_golden(path: Path) -> tuple[str, dict[str, str]]:
    """(function name, sections): a `function:` header, then `--- name` sections."""
    header, *parts = path.read_text(encoding="utf-8").split("\n--- ")
    sections = {}
    for part in parts:
        name, _, body = part.partition("\n")
        sections[name.strip()] = body.removesuffix("\n")
    return header.removeprefix("function:").strip(), sections


def apply(function: str, document: str, completion: str) -> str:
    offset = document.index(CURSOR)
    prefix, suffix = document[:offset], document[offset + 1 :]
    line_before = prefix[prefix.rfind("\n") + 1 :]
    calls: dict[str, Callable[[], str]] = {
        "cut_at_block_end": lambda: cut_at_block_end(completion, line_before, suffix),
        "balance_brackets": lambda: balance_brackets(completion, prefix),
        "drop_suffix_repeats": lambda: drop_suffix_repeats(completion, suffix),
        "remove_repetition": lambda: remove_repetition(completion),
        "normalise_indentation": lambda: normalise_indentation(
            completion, detect_indent(prefix + suffix)
        ),
    }
    return calls[function]()


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden(path: Path) -> None:
    function, sections = read_golden(path)
    assert apply(function, sections["document"], sections["completion"]) == sections["expected"]


@pytest.mark.parametrize("path", FUNCTIONS, ids=[p.stem for p in FUNCTIONS])
def test_body_cut_at_function_end(path: Path) -> None:
    """The raw model output runs on into the code after the gap (it repeats the suffix); the
    clean-up returns exactly the body, and the result parses."""
    marked = path.read_text(encoding="utf-8")
    body = path.with_name(path.name + ".expected").read_text(encoding="utf-8")
    offset = marked.index(CURSOR)
    prefix, suffix = marked[:offset], marked[offset + 1 :]
    line_before = prefix[prefix.rfind("\n") + 1 :]
    raw = body + suffix.lstrip(" \t")
    cleaned = cut_at_block_end(raw, line_before, suffix)
    cleaned = drop_suffix_repeats(cleaned, suffix)
    cleaned = remove_repetition(cleaned)
    cleaned = normalise_indentation(cleaned, detect_indent(prefix + suffix))
    assert cleaned == body
    assert parses_cleanly(LANGUAGES[path.suffix], prefix + cleaned + suffix)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("f(a, [1, {", "([{", id="nested"),
        pytest.param("f(')')", "", id="string"),
        pytest.param("x = {'a': (1,", "{(", id="dict"),
    ],
)
def test_open_brackets(text: str, expected: str) -> None:
    assert open_brackets(text) == expected


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        pytest.param("a\n\tb\n\t\tc\n", "\t", id="tabs"),
        pytest.param("a\n  b\n    c\n  d\n", "  ", id="two"),
        pytest.param("a\n    b\n", "    ", id="four"),
        pytest.param("a\nb\n", "    ", id="flat-default"),
    ],
)
def test_detect_indent(text: str, unit: str) -> None:
    assert detect_indent(text) == unit


def test_indentation_is_judged_near_the_cursor_not_from_the_whole_rest_of_the_file() -> None:
    near = "if a:\n  b()\n" * 700  # two spaces in the 8,000 characters after the cursor
    far = "\tx = 1\n" * 5000  # a tab-indented tail far below: no scan of it per completion
    assert indent_around_cursor("def f():\n  pass\n", "", near + far) == "  "


def test_the_code_lines_after_the_cursors_line_skip_blanks_and_stop_at_the_end() -> None:
    assert list(code_lines_after_cursor_line(")\n\n  a\n \nb")) == ["  a", "b"]
    assert list(code_lines_after_cursor_line("rest of the line only")) == []
    assert list(code_lines_after_cursor_line("x\ny\n")) == ["y"]
    assert list(code_lines_after_cursor_line("")) == []
    assert list(code_lines_after_cursor_line("ab\ncd\n\nef", 1)) == [
        "cd",
        "ef",
    ]  # from the cursor's line


def test_long_looping_line_is_cut() -> None:
    looping = "values = [" + "0xFF, " * 60
    assert remove_repetition(looping) == "values = [0xFF,"


def test_the_pipeline_cleans_up_a_run_on_body() -> None:
    from ghosttype.config import CompletionSettings
    from ghosttype.documents import Document
    from ghosttype.postprocess import Completion
    from ghosttype.postprocess.pipeline import Surroundings, clean_up

    text = "function add(a, b) {\n    \n}\n"
    offset = text.index("    \n") + 4
    at = Surroundings.of(Document("file:///a", text), offset, text[:offset], multiline=True)
    raw = "return a + b;\n}\n\nfunction next() {\n    return 0;\n}"
    assert clean_up(raw, at, False, CompletionSettings()) == Completion("return a + b;")
    # Off, the model's text is left as it came.
    assert clean_up(raw, at, False, CompletionSettings(postprocess=False)) == Completion(raw)


@pytest.mark.parametrize(
    ("completion", "suffix", "expected"),
    [
        # more.py:3011: the right line, then a loop header whose body never comes.
        pytest.param(
            "    buffer = deque(iterable)\n    while buffer:",
            "\n    if steps == 0:\n        raise ValueError()\n",
            "    buffer = deque(iterable)",
            id="header-without-body",
        ),
        pytest.param(
            "    total = 0\n    for x in xs:",
            "\n        total += x\n",
            "    total = 0\n    for x in xs:",
            id="body-in-the-code-after",
        ),
        pytest.param("for x in xs:", "\n    pass\n", "for x in xs:", id="one-line-header"),
        pytest.param(
            "    x = 1\n    if x:\n        y = 2",
            "\n",
            "    x = 1\n    if x:\n        y = 2",
            id="whole",
        ),
    ],
)
def test_a_block_header_without_its_body_is_dropped(
    completion: str, suffix: str, expected: str
) -> None:
    assert drop_dangling_header(completion, suffix) == expected


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        pytest.param(
            "    x = 1\n    SINGULARS.insert(0, (\n        r'{}'.format(s,",
            "    x = 1",
            id="a-call-left-open",
        ),
        pytest.param(
            "  var a = 1;\n  out += table[c >> 6]\n    + table[c & 63] +",
            "  var a = 1;",
            id="an-operator-at-the-end",
        ),
        pytest.param(
            "  a = 1;\n  return x\n    .then(f)",
            "  a = 1;\n  return x\n    .then(f)",
            id="whole-chain",
        ),
        pytest.param(
            "    y = f(\n        a,\n    )", "    y = f(\n        a,\n    )", id="whole-call"
        ),
        pytest.param("    y = f(a,", "    y = f(a,", id="one-statement-alone"),
        pytest.param(
            "    i++\n    // next, then,\n    j--",
            "    i++\n    // next, then,\n    j--",
            id="no-operator",
        ),
    ],
)
def test_a_multi_line_completion_ends_on_a_whole_statement(completion: str, expected: str) -> None:
    assert end_on_whole_statement(completion) == expected


def test_suffix_repeats_are_cut_only_where_a_statement_starts() -> None:
    # The code after the gap starts with a line that is also an argument of the completion's call.
    suffix = "\n        caseinsensitive(plural[1:]),\n        ))\n"
    completion = "    rules.insert(0, (\n        caseinsensitive(plural[1:]),\n    ))"
    assert drop_suffix_repeats(completion, suffix) == completion
    copied = "    x = 1\n        caseinsensitive(plural[1:]),\n        ))"
    assert drop_suffix_repeats(copied, suffix) == "    x = 1"


# The gap is one line of a block that goes on after it; the model wrote that line, then its own
# end of the block (valmap in toolz: `rv = factory()`, then a loop and `return rv`).
VALMAP_SUFFIX = "\n    rv.update(zip(d.keys(), map(func, d.values())))\n    return rv\n"


def test_an_answer_that_returns_before_the_rest_of_its_block_keeps_its_first_statement():
    answer = (
        "    rv = factory()\n    for k, v in d.items():\n        rv[k] = func(v)\n    return rv"
    )
    assert keep_suffix_reachable(answer, "", VALMAP_SUFFIX) == "    rv = factory()"


def test_a_first_statement_with_a_body_is_kept_whole():
    answer = "    for k in d:\n        check(k)\n    raise ValueError(d)"
    assert keep_suffix_reachable(answer, "", VALMAP_SUFFIX) == "    for k in d:\n        check(k)"


def test_braces_are_one_statement_too():
    answer = "  if (a) {\n    b();\n  }\n  return c;"
    suffix = "\n  d();\n}\n"
    assert keep_suffix_reachable(answer, "", suffix) == "  if (a) {\n    b();\n  }"


def test_an_answer_is_left_alone_when_its_block_ends_after_the_cursor():
    answer = "    rv = factory()\n    return rv"
    # Nothing more in the block: the return is its end.
    assert keep_suffix_reachable(answer, "", "\n\ndef other():\n    pass\n") == answer
    # The code after carries on the if statement, not the block.
    assert keep_suffix_reachable(answer, "", "\n    else:\n        pass\n") == answer
    # The code after only ends the block: the answer is a whole body of its own (URL.__eq__).
    whole = (
        "        if not isinstance(other, URL):\n            return False\n        return a == b"
    )
    assert keep_suffix_reachable(whole, "", "\n        return True\n") == whole
    # A return nested deeper than the cursor's block ends only that inner block.
    nested = "    if x:\n        return rv\n    y = 2"
    assert keep_suffix_reachable(nested, "", VALMAP_SUFFIX) == nested


def test_the_cursor_after_code_on_its_line_counts_its_indentation():
    answer = "factory()\n    return rv"
    assert keep_suffix_reachable(answer, "    rv = ", VALMAP_SUFFIX) == "factory()"


# boltons ioutils.py, `SpooledStringIO.__next__`: the held-back line goes under the `else:`.
NEXT_PREFIX = (
    "    def __next__(self):\n"
    "        if not line:\n"
    "            if pos == self.buffer.tell():\n"
    "                raise StopIteration\n"
    "            else:\n"
)


def test_a_statement_written_at_its_openers_level_goes_into_the_block():
    fixed = indent_under_opener(
        "            raise StopIteration", "", NEXT_PREFIX, "\n\n        return line\n"
    )
    assert fixed == "                raise StopIteration"
    compile("class S:\n" + NEXT_PREFIX + fixed + "\n        return line\n", "s.py", "exec")
    # Every line of a longer answer moves with the first, from the cursor's own indentation.
    answer = "        self.buffer.seek(pos)\n            line = None"  # both at column 12
    fixed = indent_under_opener(answer, "    ", NEXT_PREFIX, "")
    assert fixed == "            self.buffer.seek(pos)\n                line = None"  # both at 16


def test_tabs_and_braces_get_the_files_own_unit():
    prefix = "function f(a) {\n\tif (a) {\n"
    assert indent_under_opener("\tg();\n\th();", "", prefix, "\n\t}\n}\n") == "\t\tg();\n\t\th();"


def test_answers_that_belong_at_the_openers_level_are_left_alone():
    deep_enough = "                self.buffer.seek(pos)"
    assert indent_under_opener(deep_enough, "", NEXT_PREFIX, "") == deep_enough
    for carries_on in ("        }", "            elif x:"):
        assert indent_under_opener(carries_on, "", NEXT_PREFIX, "") == carries_on
    assert indent_under_opener("x = 1", "", "# Example:\n", "") == "x = 1"
    assert indent_under_opener("y = 2", "", "x = compute()\n", "") == "y = 2"
    # Code already on the cursor's line: the answer continues it, its indentation is the line's.
    assert (
        indent_under_opener("StopIteration", "            raise ", NEXT_PREFIX, "")
        == "StopIteration"
    )

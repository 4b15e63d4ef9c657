"""Edits kept exactly (issue 28): random `didChange` sequences, full and ranged, over multibyte
text (surrogate pairs, combining marks, ZWJ sequences) with LF, CRLF and CR line ends, against a
reference model written straight from the LSP specification. After every notification the store's
text, line index and UTF-16 conversions agree with the reference.

The reference (LSP 3.17, "Text Documents" and "Position"):
- line ends are "\\r\\n", "\\r" and "\\n", and nothing else (not U+2028, form feed or NEL, which
  Python's str.splitlines would take for line ends);
- a position is a line and a count of UTF-16 code units; a character past the end of its line
  means the line's end (before its line end), and a line past the last one means the end of the
  document (as vscode-languageserver-textdocument does: clients append there);
- changes of one notification apply in order, each to the text the previous one left.
ghosttype never splits a character into lone surrogates: a position inside a surrogate pair means
the position after the pair.
"""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghosttype.documents import Document, DocumentStore, TextEdit

URI = "file:///edits.py"
LINE_END = re.compile(r"\r\n|\r|\n")

# The pieces random text is made of: every way a line can end, the characters Python or UTF-16
# treat specially, and plain ASCII so that edits land in ordinary code too.
PIECES = [
    "a",
    "b",
    "x = 1",
    " ",
    "\t",
    "(",
    ")",
    "\n",
    "\r\n",
    "\r",
    "\r\r\n",
    "\n\r",
    "😀",  # U+1F600: a surrogate pair, 2 UTF-16 units
    "𝒳",  # U+1D4B3: a surrogate pair
    "👩\u200d💻",  # a ZWJ sequence of two astral characters
    "é",  # precomposed
    "e\u0301",  # e + combining acute
    "\u0301",  # a combining mark on its own (or on whatever precedes it)
    "中",
    "\u2028",  # LINE SEPARATOR: not an LSP line end
    "\x0c",  # form feed: not an LSP line end
    "\x85",  # NEL: not an LSP line end
]


def utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


class Reference:
    """The document text as the LSP specification defines it, recomputed from scratch each time."""

    def __init__(self, text: str) -> None:
        self.text = text

    def lines(self) -> list[tuple[int, int]]:
        """(start, end of content) of every line; the content excludes the line end."""
        spans = []
        start = 0
        for match in LINE_END.finditer(self.text):
            spans.append((start, match.start()))
            start = match.end()
        spans.append((start, len(self.text)))
        return spans

    def line_starts(self) -> tuple[int, ...]:
        return tuple(start for start, _ in self.lines())

    def offset(self, line: int, character: int) -> int:
        lines = self.lines()
        if line >= len(lines):
            return len(self.text)
        index, end = lines[line]
        units = 0
        while index < end and units < character:
            units += utf16_units(self.text[index])
            index += 1
        return index

    def position(self, offset: int) -> tuple[int, int]:
        """The position of an offset that is a position (not inside a line end)."""
        for number, (start, end) in enumerate(self.lines()):
            if start <= offset <= end:
                return number, sum(utf16_units(c) for c in self.text[start:offset])
        raise AssertionError(f"offset {offset} is inside a line end")

    def boundaries(self, line: int) -> list[int]:
        """Every UTF-16 column of a line that falls between two characters."""
        start, end = self.lines()[line]
        columns = [0]
        for char in self.text[start:end]:
            columns.append(columns[-1] + utf16_units(char))
        return columns

    def apply(self, edit: TextEdit) -> None:
        if edit.start is None or edit.end is None:
            self.text = edit.text
            return
        start = self.offset(*edit.start)
        end = self.offset(*edit.end)
        assert start <= end, "the generator only makes ordered ranges"
        self.text = self.text[:start] + edit.text + self.text[end:]


texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
inserts = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


@st.composite
def positions(draw: st.DrawFn, reference: Reference) -> tuple[int, int]:
    """A position anywhere a client might send one: between characters, at a line's end, past
    it, inside a surrogate pair, on a line past the last one."""
    line_count = len(reference.lines())
    line = draw(st.integers(0, line_count + 1))
    if line >= line_count:
        return line, draw(st.integers(0, 3))
    columns = reference.boundaries(line)
    kind = draw(st.sampled_from(["between", "between", "between", "end", "past", "inside"]))
    if kind == "end":
        return line, columns[-1]
    if kind == "past":
        return line, columns[-1] + draw(st.integers(1, 5))
    if kind == "inside":
        pairs = [a + 1 for a, b in itertools.pairwise(columns) if b - a == 2]
        if pairs:
            return line, draw(st.sampled_from(pairs))
    return line, draw(st.sampled_from(columns))


@st.composite
def changes(draw: st.DrawFn, reference: Reference) -> TextEdit:
    if draw(st.integers(0, 9)) == 0:
        return TextEdit(draw(texts))
    start = draw(positions(reference))
    end = draw(positions(reference))
    start, end = min(start, end), max(start, end)  # positions order as (line, character)
    return TextEdit(draw(inserts), start, end)


def check_document(document: Document, reference: Reference) -> None:
    assert document.text == reference.text
    assert document.line_starts == reference.line_starts()
    lines = reference.lines()
    assert document.line_count == len(lines)
    for number, (start, end) in enumerate(lines):
        assert document.line(number) == reference.text[start:end]
        columns = reference.boundaries(number)
        for column in columns:
            offset = document.offset_at(number, column)
            assert offset == reference.offset(number, column)
            assert document.position_at(offset) == (number, column)
        assert document.offset_at(number, columns[-1] + 7) == end
    # Every offset maps to a valid position: one inside a CRLF to its line's end.
    for offset in range(len(reference.text) + 1):
        line, character = document.position_at(offset)
        assert 0 <= line < len(lines)
        assert character in reference.boundaries(line)
        assert document.offset_at(line, character) <= offset


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(initial=texts, data=st.data())
def test_random_edit_sequences_keep_the_text_exactly(initial: str, data: st.DataObject) -> None:
    store = DocumentStore()
    applied: list[tuple[str, int, int, str, str]] = []
    store.edit_listeners.append(
        lambda before, start, end, text, after: applied.append(
            (before.text, start, end, text, after.text)
        )
    )
    reference = Reference(initial)
    document = store.open(URI, initial, "python", 1)
    check_document(document, reference)
    for version in range(2, 2 + data.draw(st.integers(1, 8), label="notifications")):
        edits = []
        for _ in range(data.draw(st.integers(1, 3), label="changes")):
            edit = data.draw(changes(reference))
            # Each change applies to the text the previous one left: draw against it.
            reference.apply(edit)
            edits.append(edit)
        applied.clear()
        document = store.change(URI, edits, version)
        assert store.get(URI) is document and document.version == version
        check_document(document, reference)
        # A snapshot that never saw an edit indexes its lines the same way.
        check_document(Document(URI, document.text), reference)
        for before, start, end, text, after in applied:
            assert after == before[:start] + text + before[end:]


def test_cr_alone_ends_a_line() -> None:
    # LSP 3.17: "the following end-of-line sequences: '\n', '\r\n' and '\r'". Neovim sends a
    # buffer with fileformat=mac with CR line ends, and counts its lines by them.
    store = DocumentStore()
    store.open(URI, "ab\rcd\r\nef\ngh", "python", 1)
    document = store.change(URI, [TextEdit("X", (1, 1), (1, 1))], 2)
    assert document.text == "ab\rcXd\r\nef\ngh"
    assert document.line_starts == (0, 3, 8, 11)
    assert [document.line(n) for n in range(4)] == ["ab", "cXd", "ef", "gh"]
    assert document.offset_at(0, 99) == 2
    assert document.position_at(document.text.index("c")) == (1, 0)


def test_an_edit_that_joins_cr_and_lf_makes_one_line_end() -> None:
    store = DocumentStore()
    document = store.open(URI, "a\rb\nc", "python", 1)
    assert document.line_starts == (0, 2, 4)
    # Deleting "b" leaves "\r\n": one line end where there were two.
    document = store.change(URI, [TextEdit("", (1, 0), (1, 1))], 2)
    assert document.text == "a\r\nc"
    assert document.line_starts == (0, 3)
    # Appending "\r" then "\n" in two changes: "\r" is a line end until the "\n" joins it.
    document = store.change(URI, [TextEdit("\r", (1, 1), (1, 1))], 3)
    assert document.line_starts == (0, 3, 5)
    document = store.change(URI, [TextEdit("\n", (2, 0), (2, 0))], 4)
    assert document.text == "a\r\nc\r\n"
    assert document.line_starts == (0, 3, 6)


def test_an_offset_inside_crlf_maps_to_the_end_of_its_line() -> None:
    document = Document(URI, "ab\r\ncd")
    assert document.position_at(3) == (0, 2)  # between "\r" and "\n": no position of its own


def test_unicode_line_separators_are_not_lsp_line_ends() -> None:
    document = Document(URI, "a\u2028b\x0cc\x85d\ne")
    assert document.line_count == 2
    assert document.offset_at(0, 99) == 7

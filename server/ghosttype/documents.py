"""Immutable document snapshots and the store that applies LSP edits to them.

This is the only module that converts between LSP positions (line + UTF-16 code units) and
offsets into the text (Python code points). Everything below the LSP layer works with offsets.
Lines end as LSP says they do: at "\r\n", "\r" or "\n" (not at U+2028 or a form feed, which
Python's str.splitlines takes for line ends).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlparse


def uri_to_path(uri: str) -> Path | None:
    """The file a file:// URI names; None for other schemes (untitled:, vscode-notebook-cell:)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


class PositionError(ValueError):
    """A position that does not exist in the document (a line past the end)."""


def utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def utf16_to_codepoints(line: str, units: int) -> int:
    """Code-point column for a UTF-16 column; a column past the end clamps to the line's end
    (LSP: 'defaults back to the line length')."""
    if line.isascii():
        return min(units, len(line))
    count = 0
    for index, char in enumerate(line):
        if count >= units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(line)


@dataclass(frozen=True)
class Document:
    """One immutable version of a text document."""

    uri: str
    text: str
    language_id: str = ""
    version: int = 0
    # Never the same for two of the store's snapshots, even across a close and a re-open of one
    # URI, so caches can key on (uri, revision).
    revision: int = 0

    @cached_property
    def line_starts(self) -> tuple[int, ...]:
        return (0, *_starts_after_line_ends(self.text, 0, len(self.text)))

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line(self, number: int) -> str:
        """The line's text without its line end."""
        starts = self.line_starts
        start = starts[number]
        end = starts[number + 1] - 1 if number + 1 < len(starts) else len(self.text)
        # A line holds no "\r" but the one of its "\r\n" (any other is a line end).
        return self.text[start:end].rstrip("\r")

    def offset_at(self, line: int, utf16_character: int) -> int:
        """Offset for an LSP position. A line past the end raises PositionError; a character past
        the end of its line clamps to the line's end."""
        if line < 0 or utf16_character < 0:
            raise PositionError(f"negative position {line}:{utf16_character}")
        if line >= self.line_count:
            raise PositionError(
                f"line {line} is past the end of the document ({self.line_count} lines)"
            )
        return self.line_starts[line] + utf16_to_codepoints(self.line(line), utf16_character)

    def line_start(self, offset: int) -> int:
        """Offset of the start of the line that holds `offset`."""
        return self.line_starts[bisect.bisect_right(self.line_starts, offset) - 1]

    def position_at(self, offset: int) -> tuple[int, int]:
        """LSP position (line, UTF-16 character) for an offset. An offset between the "\r" and
        the "\n" of a line end, which no position names, gives the end of its line."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        start = self.line_starts[line]
        if offset > start and self.text[offset - 1] == "\r":
            offset -= 1
        return line, utf16_len(self.text[start:offset])

    def with_edit(
        self, start: int, end: int, new_text: str, version: int, revision: int | None = None
    ) -> Document:
        text = self.text[:start] + new_text + self.text[end:]
        revision = self.revision + 1 if revision is None else revision
        edited = Document(self.uri, text, self.language_id, version, revision)
        old = self.__dict__.get("line_starts")
        if old is not None:
            # Derived from the old line starts (one keystroke in a 5,000-line file: a shifted
            # tuple instead of a scan of the whole text). Whether a character ends a line
            # depends on it and the next one ("\r" does unless "\n" follows), so the one before
            # the edit is looked at again: the edit may join its "\r" to an "\n" or part them.
            keep = max(1, bisect.bisect_left(old, start))  # ends before start - 1 stay
            skip = bisect.bisect_right(old, end)  # ends from end on stay, shifted
            inserted = _starts_after_line_ends(text, max(0, start - 1), start + len(new_text))
            delta = len(new_text) - (end - start)
            starts = old[:keep] + tuple(inserted) + tuple(s + delta for s in old[skip:])
            edited.__dict__["line_starts"] = starts  # cached_property's own slot
        return edited


@dataclass(frozen=True)
class TextEdit:
    """An LSP content change: a range in UTF-16 positions, or the whole text when range is None."""

    text: str
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None


# Called for each applied ranged edit: (before, start offset, end offset, inserted text, after).
# Incremental parsers subscribe to it.
EditListener = Callable[[Document, int, int, str, Document], None]


class DocumentStore:
    """The open documents. Each edit replaces the snapshot; readers keep the one they took."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}
        self.edit_listeners: list[EditListener] = []
        # One counter for every snapshot: a document opened again (clients re-open after a
        # reload without closing) must not meet caches keyed on its old revisions.
        self._revisions = itertools.count(1)

    def open(self, uri: str, text: str, language_id: str, version: int) -> Document:
        document = Document(uri, text, language_id, version, next(self._revisions))
        self._documents[uri] = document
        return document

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def all(self) -> list[Document]:
        return list(self._documents.values())

    def change(self, uri: str, edits: list[TextEdit], version: int) -> Document:
        document = self._documents.get(uri)
        if document is None:
            raise KeyError(uri)
        for edit in edits:
            if edit.start is None or edit.end is None:
                document = Document(
                    uri, edit.text, document.language_id, version, next(self._revisions)
                )
                continue
            start = _clamped_offset(document, *edit.start)
            end = max(start, _clamped_offset(document, *edit.end))
            edited = document.with_edit(start, end, edit.text, version, next(self._revisions))
            before, document = document, edited
            for listener in self.edit_listeners:
                listener(before, start, end, edit.text, document)
        self._documents[uri] = document
        return document


def _starts_after_line_ends(text: str, low: int, high: int) -> list[int]:
    """The offsets just after every line end whose last character lies in text[low:high]."""
    starts = []
    find = text.find
    index = find("\n", low, high)
    while index != -1:
        starts.append(index + 1)
        index = find("\n", index + 1, high)
    # A "\r" that an "\n" follows ends no line of its own; the counts say whether any other is
    # there (files with LF or CRLF line ends need no more than the scan for "\n").
    index = find("\r", low, high)
    if index != -1 and text.count("\r", index, high) != text.count("\r\n", index, high + 1):
        while index != -1:
            if not text.startswith("\n", index + 1):
                starts.append(index + 1)
            index = find("\r", index + 1, high)
        starts.sort()
    return starts


def _clamped_offset(document: Document, line: int, character: int) -> int:
    # Edits at or past the end of the document (a client appending) land at the end.
    if line >= document.line_count:
        return len(document.text)
    return document.offset_at(line, character)

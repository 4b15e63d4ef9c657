"""A workspace on disk, one document of it open at a cursor (marked ‸), and the symbol index
built over it in its background thread (real tree-sitter parses, no stubs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghosttype.documents import Document, DocumentStore
from ghosttype.symbols import NameCheck, SymbolIndex, check_at

CURSOR = "‸"
SETTLE_S = 20.0


@dataclass
class Workspace:
    root: Path
    store: DocumentStore
    index: SymbolIndex

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace(CURSOR, ""), encoding="utf-8")

    def open(self, name: str, text: str, language: str) -> tuple[Document, int]:
        """Opens `name` with `text` (the cursor at ‸) and waits until the index has it."""
        offset = text.index(CURSOR)
        uri = (self.root / name).as_uri()
        document = self.store.open(uri, text.replace(CURSOR, ""), language, 1)
        self.index.configure([self.root], ())
        self.index.document_changed(document)
        assert self.index.settle(SETTLE_S)
        return document, offset

    def check(self, files: dict[str, str], current: str, language: str) -> NameCheck:
        self.write(files)
        document, offset = self.open(current, files[current], language)
        check = check_at(self.index, document, offset, 0)
        assert check is not None
        return check


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    store = DocumentStore()
    index = SymbolIndex(store)
    yield Workspace(tmp_path.resolve(), store, index)
    index.close()

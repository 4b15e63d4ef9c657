"""The workspace's symbols, for checking that a candidate uses only names that exist.

`Symbols` is what the engine holds: the index (built in the background, kept current from the
editor's documents and the files on disk), and per request a `NameCheck` for the candidates
(candidates.py ranks a candidate without invented names above one with them). Off with
`completion.checkNames = false`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from ..config import Settings
from ..documents import Document, DocumentStore
from .check import NameCheck, check_at
from .index import SymbolIndex

# An invoked request whose best candidate invents a name asks for this many more (sampled).
INVOKED_RETRIES = 3
# How long an invoked request (seconds of model time anyway) waits for the index to hold its
# document: asked right after the file was opened, it would otherwise go unchecked.
INVOKED_WAIT_S = 2.0
POLL_S = 0.01


class Symbols:
    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents
        self.index = SymbolIndex(documents)
        self._enabled = False

    def _sync(self, settings: Settings, roots: Sequence[Path]) -> bool:
        enabled = settings.completion.check_names
        if enabled:
            self.index.configure(roots, settings.context.exclude)
        elif self._enabled:
            self.index.close()
        self._enabled = enabled
        return enabled

    def start(self, settings: Settings, roots: Sequence[Path]) -> None:
        """The server started: the index is built from now on, before the first request."""
        self._sync(settings, roots)

    def opened(self, document: Document, settings: Settings, roots: Sequence[Path]) -> None:
        if self._sync(settings, roots):
            self.index.document_changed(document, at_once=True)

    async def settle_for(
        self, document: Document, settings: Settings, roots: Sequence[Path]
    ) -> None:
        """For an invoked request: waits, at most INVOKED_WAIT_S, for the index's work under
        way (its first build, the document just opened, read in the background) rather than
        answer unchecked. Real time: the work is another thread's. The typing path never
        waits: it checks what the index holds."""
        if not self._sync(settings, roots):
            return
        self.index.refresh(document)
        deadline = time.monotonic() + INVOKED_WAIT_S
        # Polled: the work is the index thread's, which knows nothing of this event loop.
        while self.index.soon_ready_for(document) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(POLL_S)

    def check(
        self,
        document: Document,
        offset: int,
        settings: Settings,
        roots: Sequence[Path],
        invoked: bool,
    ) -> NameCheck | None:
        if not self._sync(settings, roots):
            return None
        for other in self.documents.all():
            self.index.refresh(other)
        return check_at(self.index, document, offset, INVOKED_RETRIES if invoked else 0)

    def stats(self) -> dict[str, object]:
        """For `ghosttype.stats`: whether the index is built, its files, how long it took."""
        index = self.index
        return {
            "ready": self._enabled and index.ready,
            "files": index.file_count,
            "buildMs": round(index.build_seconds * 1000),
        }

    def file_changed(self, path: str) -> None:
        if self._enabled:
            self.index.file_changed(path)

    def forget(self, uri: str) -> None:
        self.index.forget(uri)

    def close(self) -> None:
        self.index.close()


__all__ = ["NameCheck", "SymbolIndex", "Symbols", "check_at"]

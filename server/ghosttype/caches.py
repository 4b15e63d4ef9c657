"""The two answer caches.

Exact: an LRU of finished answers keyed by the plan's key (the prompts, what post-processing
reads, the settings). Typed-through: the suggestions last shown per document, which serve the
keystrokes that type their start (they follow what was shown, by design, not the model)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from cachetools import LRUCache

from .documents import Document
from .postprocess import Completion, finalize
from .postprocess.pipeline import Surroundings

EXACT_ENTRIES = 512


class ExactCache:
    def __init__(self) -> None:
        self._answers: LRUCache[Hashable, tuple[Completion, ...]] = LRUCache(maxsize=EXACT_ENTRIES)

    def get(self, key: Hashable) -> tuple[Completion, ...] | None:
        return self._answers.get(key)

    def put(self, key: Hashable, completions: tuple[Completion, ...]) -> None:
        self._answers[key] = completions

    def clear(self) -> None:
        self._answers.clear()


@dataclass(frozen=True)
class _Shown:
    before: str
    after: str
    completions: tuple[Completion, ...]


class ShownSuggestions:
    def __init__(self) -> None:
        self._shown: dict[str, _Shown] = {}

    def remember(
        self, document: Document, offset: int, completions: tuple[Completion, ...]
    ) -> None:
        if completions:
            text = document.text
            self._shown[document.uri] = _Shown(text[:offset], text[offset:], completions)
        else:
            self._shown.pop(document.uri, None)

    def here(self, document: Document, offset: int) -> tuple[Completion, ...] | None:
        """The suggestions shown at this place of this very text, if any."""
        shown = self._shown.get(document.uri)
        if shown is None or offset != len(shown.before):
            return None
        text = document.text
        return shown.completions if text == shown.before + shown.after else None

    def typed_through(self, document: Document, offset: int) -> tuple[Completion, ...] | None:
        """The rest of the shown suggestions when the person typed their start."""
        shown = self._shown.get(document.uri)
        if shown is None:
            return None
        text = document.text
        start = len(shown.before)
        if offset < start or not text.startswith(shown.before):
            return None
        typed = text[start:offset]
        after = text[offset:]
        if not typed or not after.endswith(shown.after):
            return None
        cursor = Surroundings.of(document, offset, "", False).cursor
        remaining = []
        for completion in shown.completions:
            if completion.text.startswith(typed) and len(completion.text) > len(typed):
                finished = finalize(completion.text[len(typed) :], cursor, after)
                if finished is not None:
                    remaining.append(finished)
        return tuple(remaining) or None

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def clear(self) -> None:
        self._shown.clear()

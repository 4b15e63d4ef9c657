"""Context for a prompt: windows around the cursor (and, as they land, syntax scopes and
neighbour snippets) within the token budget. No network, no clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..config import ContextSettings
from ..documents import Document, DocumentStore
from .types import PromptContext, Snippet
from .windows import estimate_tokens, windows

# Share of the budget for the suffix, and a hard cap: every keystroke re-evaluates the suffix.
SUFFIX_SHARE = 0.15
SUFFIX_MAX_TOKENS = 64
# Room for the template's own markers and file headers.
TEMPLATE_TOKENS = 16


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def relative_path(uri: str, root: Path | None) -> str:
    path = uri_to_path(uri)
    if path is None:
        return uri.rsplit("/", 1)[-1]
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


class ContextBuilder:
    """Builds the PromptContext for a request. Keeps, per document, the prefix window's anchor so
    that consecutive prompts share their start (KV-cache reuse)."""

    def __init__(self, documents: DocumentStore, workspace_root: Path | None):
        self.documents = documents
        self.workspace_root = workspace_root
        self._anchors: dict[str, int] = {}

    def build(
        self,
        document: Document,
        offset: int,
        settings: ContextSettings,
        count_tokens: Callable[[str], int | None] | None = None,
    ) -> PromptContext:
        count = _counter(count_tokens)
        budget = settings.max_prompt_tokens - TEMPLATE_TOKENS
        suffix_budget = min(SUFFIX_MAX_TOKENS, int(budget * SUFFIX_SHARE))
        prefix_budget = budget - suffix_budget
        found = windows(
            document.text,
            offset,
            prefix_budget,
            suffix_budget,
            count,
            self._anchors.get(document.uri),
        )
        self._anchors[document.uri] = found.anchor
        root = self.workspace_root
        return PromptContext(
            path=relative_path(document.uri, root),
            language=document.language_id,
            prefix=found.prefix,
            suffix=found.suffix,
            snippets=(),
            repo_name=root.name if root else "",
        )

    def forget(self, uri: str) -> None:
        self._anchors.pop(uri, None)


def _counter(count_tokens: Callable[[str], int | None] | None) -> Callable[[str], int]:
    if count_tokens is None:
        return estimate_tokens

    def count(text: str) -> int:
        exact = count_tokens(text)
        return estimate_tokens(text) if exact is None else exact

    return count


__all__ = ["ContextBuilder", "PromptContext", "Snippet", "relative_path", "uri_to_path"]

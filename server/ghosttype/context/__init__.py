"""Context for a prompt: windows around the cursor, neighbour snippets and an outline of the
file, redacted, within the token budget. No network, no clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..config import ContextSettings
from ..documents import Document, DocumentStore, uri_to_path
from ..tokens import estimate_tokens
from .exclude import Excluder
from .neighbours import SNIPPET_HEADER_TOKENS, NeighbourIndex, identifiers, words_around
from .secrets import redact, redact_prefix
from .syntax import Shape, SyntaxIndex, completion_shape, enclosing_scopes, imports, used_signatures
from .types import PromptContext, Snippet
from .windows import REFILL_SHARE, Windows, windows

# Share of the budget for the suffix, and a hard cap: every keystroke re-evaluates the suffix
# window (moving its cached tokens instead is no good: see benchmarks/RESULTS.md). The cap is the
# rest of the cursor's line and about one more: benchmarks/latency.py on 2 cores, single-line
# pauses p50 729 / 627 / 481 ms with caps of 64 / 32 / 16 tokens (94 / 33 / 24 tokens evaluated a
# call). Stop rules still see the whole document after the cursor.
SUFFIX_SHARE = 0.15
SUFFIX_MAX_TOKENS = 16
# An invoked request (the person asked) is a one-off: quality first, a larger suffix and a prefix
# window filled to the budget, without moving the anchor that keystrokes share.
INVOKED_SUFFIX_SHARE = 0.2
INVOKED_REFILL = 0.98
# Room for the template's own markers and file headers.
TEMPLATE_TOKENS = 16
# Share of the budget reserved for neighbour snippets and the file outline (a fixed share, so the
# prefix window's anchor does not move with the neighbours' sizes).
NEIGHBOUR_SHARE = 0.3
OUTLINE_MAX_TOKENS = 160
# Token merges where prefix and suffix meet can make the two windows count a little more than the
# whole file.
FIT_MARGIN_TOKENS = 8


def relative_path(uri: str, root: Path | Sequence[Path] | None) -> str:
    """The path shown to the model: relative to the innermost root that holds the file, else
    its name."""
    path = uri_to_path(uri)
    if path is None:
        return uri.rsplit("/", 1)[-1]
    roots = [root] if isinstance(root, Path) else list(root or ())
    for candidate in sorted(roots, key=lambda r: -len(r.parts)):
        try:
            return path.relative_to(candidate).as_posix()
        except ValueError:
            pass
    return path.name


class ContextBuilder:
    """Builds the PromptContext for a request. Keeps, per document, the prefix window's anchor so
    that consecutive prompts share their start (KV-cache reuse).

    The workspace roots (every folder of a multi-root workspace; see `set_roots`) bound what is
    read from disk; the first one names the repository in the prompt."""

    def __init__(self, documents: DocumentStore, workspace_root: Path | None):
        self.documents = documents
        self.workspace_roots: tuple[Path, ...] = (workspace_root,) if workspace_root else ()
        self._anchors: dict[str, int] = {}
        self._short_anchors: dict[str, int] = {}  # the short prompts' own (see build_short)
        # Syntax trees and neighbour indexes follow the store's edits (incremental).
        self.syntax = SyntaxIndex()
        self.syntax.attach(documents)
        self._roots = tuple(r.as_posix() for r in self.workspace_roots)
        self._neighbours: NeighbourIndex | None = None
        self._exclude: tuple[str, ...] | None = None
        # Per document: the (neighbour selection, anchor) the outline was built with, and it.
        self._outlines: dict[str, tuple[object, Snippet | None]] = {}
        self._counted: tuple[tuple[Snippet, ...], int] | None = None
        documents.edit_listeners.append(self._on_edit)
        # Revisions of speculative states (never the store's, which count up from 1), and the
        # text of the state whose tree was seeded from its open document's.
        self._speculative = -1
        self._seeded_text: str | None = None

    @property
    def workspace_root(self) -> Path | None:
        """The first root: the repository's name in the prompt."""
        return self.workspace_roots[0] if self.workspace_roots else None

    def set_roots(self, roots: Sequence[Path]) -> None:
        """The workspace folders changed (or a multi-root workspace was opened): neighbours are
        read from every one of them, and from nowhere else."""
        unique = tuple(dict.fromkeys(roots))
        if unique == self.workspace_roots:
            return
        self.workspace_roots = unique
        self._roots = tuple(r.as_posix() for r in unique)
        self._neighbours = None  # re-read within the new roots
        self._outlines.clear()

    def _on_edit(self, before: Document, start: int, end: int, text: str, after: Document) -> None:
        if self._neighbours is not None:
            self._neighbours.on_edit(before, start, end, text, after)

    def excluder(self, settings: ContextSettings) -> Excluder:
        return self._neighbour_index(settings).excluder

    def excluded(self, document: Document, settings: ContextSettings) -> bool:
        """The document itself is one `context.exclude` keeps home (a .env, a key): nothing of it
        may be sent, so it gets no completions. (.gitignore's rules keep files out of the
        neighbours; a file the person edits is theirs to complete.)"""
        path = uri_to_path(document.uri)
        return path is not None and self.excluder(settings).excluded(path.as_posix())

    def _neighbour_index(self, settings: ContextSettings) -> NeighbourIndex:
        if self._neighbours is None or self._exclude != settings.exclude:
            self._neighbours = NeighbourIndex(self._roots, Excluder(self._roots, settings.exclude))
            self._exclude = settings.exclude
        return self._neighbours

    def build(
        self,
        document: Document,
        offset: int,
        settings: ContextSettings,
        count_tokens: Callable[[str], int | None] | None = None,
        now: float | None = None,
        speculative: bool = False,
        invoked: bool = False,
    ) -> PromptContext:
        """`now` (the caller's monotonic clock, seconds) turns on neighbour snippets: they are
        re-ranked only in pauses, which needs a clock this pure module does not read.
        `speculative`: `document` is not the store's state (a prefetch; see `shape`).

        The budget goes to the suffix window (small), then to the neighbours actually chosen and,
        for a file longer than the window, the outline; the prefix window gets the rest. Only a
        new neighbour selection (a pause) changes the prefix budget, so the anchor holds while
        the person types. An invoked request spends all of it: a file that fits whole gives
        the neighbours everything it leaves, and the prefix gets what the suffix leaves."""
        count = _counter(count_tokens)
        budget = settings.max_prompt_tokens - TEMPLATE_TOKENS
        suffix_budget = (
            int(budget * INVOKED_SUFFIX_SHARE)
            if invoked
            else min(SUFFIX_MAX_TOKENS, int(budget * SUFFIX_SHARE))
        )
        chosen: tuple[Snippet, ...] = ()
        outline_budget = 0
        if settings.neighbours and now is not None:
            neighbour_budget = int(budget * NEIGHBOUR_SHARE)
            outline_budget = min(OUTLINE_MAX_TOKENS, neighbour_budget // 4)
            if invoked:
                own = _own_tokens(document.text, budget, count)
                if own < budget:
                    # The whole file fits: it needs no outline, and what it leaves goes to the
                    # neighbours.
                    outline_budget = 0
                    neighbour_budget = max(neighbour_budget, budget - own - FIT_MARGIN_TOKENS)
            index = self._neighbour_index(settings)
            chosen = index.select(
                document,
                offset,
                self.documents.all(),
                now,
                neighbour_budget - outline_budget,
                count,
                one_off=invoked,
            )
            if not chosen:
                # An outline alone, with no other file beside it, measured worse than none on
                # in-file tasks (the model takes it for a stub of the file; with neighbours it
                # helps): benchmarks/RESULTS.md, session 9.
                outline_budget = 0
        prefix_budget = budget - suffix_budget - self._tokens_of(chosen, count)
        anchor = None if invoked else self._anchors.get(document.uri)
        refill = INVOKED_REFILL if invoked else REFILL_SHARE
        text = document.text

        def fitted(prefix_budget: int) -> Windows:
            # An invoked request's prefix also gets what its suffix leaves (see `windows`).
            return windows(
                text, offset, prefix_budget, suffix_budget, count, anchor, refill, invoked
            )

        found = fitted(prefix_budget)
        if found.anchor > 0 and outline_budget:
            # The file start is out of the window: make room for its outline.
            found = fitted(prefix_budget - outline_budget)
        if not invoked and not speculative:  # a prefetch's state may never come: keep the anchor
            self._anchors[document.uri] = found.anchor
        root = self.workspace_root
        path = relative_path(document.uri, self.workspace_roots)
        snippets = tuple(Snippet(s.path, redact(s.text), s.score) for s in chosen)
        if found.anchor > 0 and outline_budget:
            outline = self._cached_outline(
                document, offset, found.anchor, path, chosen, outline_budget, count, speculative
            )
            snippets = (*snippets, outline) if outline is not None else snippets
        return PromptContext(
            path=path,
            language=document.language_id,
            prefix=redact_prefix(found.prefix),
            suffix=redact(found.suffix),
            snippets=snippets,
            repo_name=root.name if root else "",
        )

    def build_short(
        self,
        document: Document,
        offset: int,
        budget: int,
        count_tokens: Callable[[str], int | None] | None = None,
    ) -> PromptContext:
        """The context of a short prompt (see first_answer.py): the lines around the cursor
        within `budget` tokens, nothing else. Its anchor is its own, so the full prompt's holds;
        the next keystrokes' short prompts share their start with this one."""
        count = _counter(count_tokens)
        budget = max(8, budget - 4)  # the three fill-in-the-middle markers and a margin
        suffix_budget = min(SUFFIX_MAX_TOKENS, budget // 4)
        found = windows(
            document.text,
            offset,
            budget - suffix_budget,
            suffix_budget,
            count,
            self._short_anchors.get(document.uri),
        )
        self._short_anchors[document.uri] = found.anchor
        return PromptContext(
            path=relative_path(document.uri, self.workspace_roots),
            language=document.language_id,
            prefix=redact_prefix(found.prefix),
            suffix=redact(found.suffix),
        )

    def _tokens_of(self, chosen: tuple[Snippet, ...], count: Callable[[str], int]) -> int:
        """Tokens the chosen snippets take in the prompt (with their file headers); counted once
        per selection, which stays the same object while the person types."""
        if not chosen:
            return 0
        if self._counted is None or self._counted[0] is not chosen:
            tokens = sum(count(s.path) + count(s.text) + SNIPPET_HEADER_TOKENS for s in chosen)
            self._counted = (chosen, tokens)
        return self._counted[1]

    def _cached_outline(
        self,
        document: Document,
        offset: int,
        anchor: int,
        path: str,
        chosen: tuple[Snippet, ...],
        budget: int,
        count: Callable[[str], int],
        speculative: bool = False,
    ) -> Snippet | None:
        """An outline of the current file (imports and signatures the prefix window no longer
        shows), rebuilt only with a new neighbour selection or anchor, so the KV cache keeps it."""
        key = (chosen, anchor)
        previous = self._outlines.get(document.uri)
        if previous is not None and previous[0] == key:
            return previous[1]
        tree_document = self._speculative_document(document) if speculative else document
        outline = self._outline(tree_document, offset, anchor, path, budget, count, speculative)
        self._outlines[document.uri] = (key, outline)
        return outline

    def _outline(
        self,
        document: Document,
        offset: int,
        anchor: int,
        path: str,
        budget: int,
        count: Callable[[str], int],
        speculative: bool,
    ) -> Snippet | None:
        parsed = self.syntax.parsed(document, speculative)
        if parsed is None or anchor == 0:
            return None  # unknown language, or the prefix window shows the whole file start
        statements = [i for i in imports(parsed) if document.text.find(i, anchor) == -1]
        scopes = [s.signature for s in enclosing_scopes(parsed, offset) if s.start < anchor]
        known = self.syntax.definitions(document, speculative)
        used = [
            s for s in used_signatures(parsed, offset, known, anchor, offset) if s not in scopes
        ]
        # What the budget keeps, most telling first: where the cursor is, the imports of names the
        # code around it uses, the signatures it calls, the other imports; shown in file order.
        near = words_around(document.text, offset)
        near_imports = [i for i in statements if identifiers(i) & near]
        others = [i for i in statements if i not in near_imports]
        chosen: list[str] = []
        for line in [*scopes, *near_imports, *used, *others]:
            if count("\n".join([*chosen, line])) <= budget:
                chosen.append(line)
        kept = [line for line in [*statements, *used, *scopes] if line in chosen]
        return Snippet(path, redact("\n".join(kept))) if kept else None

    def shape(self, document: Document, offset: int, speculative: bool = False) -> Shape | None:
        """Single or multi-line from the syntax tree; None for a language without a grammar.
        `speculative`: a state that is not the store's (a prefetch); it gets a tree of its own, so
        the open document's tree stays in step with the store's edits (incremental re-parses)."""
        if speculative:
            document = self._speculative_document(document)
        parsed = self.syntax.parsed(document, speculative)
        return completion_shape(parsed, offset) if parsed is not None else None

    def speculate(self, base: Document, start: int, end: int, new_text: str) -> str:
        """The next speculative state will be `base` with this edit (its text is returned): its
        tree starts as a copy of `base`'s, edited (see SyntaxIndex.seed)."""
        text = base.text[:start] + new_text + base.text[end:]
        self._speculative -= 1
        self._seeded_text = text
        seeded = replace(base, text=text, revision=self._speculative)
        self.syntax.seed(base, start, end, new_text, seeded)
        return text

    def _speculative_document(self, document: Document) -> Document:
        if document.text != self._seeded_text:  # not the seeded state: a fresh revision, full parse
            self._speculative -= 1
            self._seeded_text = None
        return replace(document, revision=self._speculative)

    def forget(self, uri: str) -> None:
        self._anchors.pop(uri, None)
        self._short_anchors.pop(uri, None)
        self._outlines.pop(uri, None)
        self.syntax.forget(uri)
        if self._neighbours is not None:
            self._neighbours.forget(uri)


def _own_tokens(text: str, budget: int, count: Callable[[str], int]) -> int:
    """Tokens the whole file takes, or `budget` when it clearly takes more (not counted: code
    rarely averages more than 4 characters a token)."""
    return budget if len(text) > 4 * budget else min(budget, count(text))


def _counter(count_tokens: Callable[[str], int | None] | None) -> Callable[[str], int]:
    if count_tokens is None:
        return estimate_tokens

    def count(text: str) -> int:
        exact = count_tokens(text)
        return estimate_tokens(text) if exact is None else exact

    return count


__all__ = ["ContextBuilder", "PromptContext", "Snippet", "relative_path", "uri_to_path"]

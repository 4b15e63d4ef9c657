"""Neighbour snippets: code from other files that looks like the code around the cursor.

Candidates come from four sources: the other open documents, recently edited ranges, the files the
current file imports (resolved inside the workspace roots for Python, JavaScript/TypeScript and Go),
and files in the same folder. Each file is cut into overlapping windows of lines; a window's score is
the Jaccard similarity of its identifiers to the identifiers around the cursor (as Copilot does).
The best windows are deduplicated and fitted into a token budget split between the sources.

Cost: a file is tokenised once per revision (open documents) or per modification time (files on
disk); ranking compares precomputed identifier sets. The chosen snippets are kept while the person
types (same text, same order: the model's KV cache keeps them) and re-ranked only after a pause or
when the cursor moves far. Files are read only here, and only when the Excluder allows them and
they lie inside a workspace root, symlinks resolved (a link in the workspace to a file outside
every root is never read; with no root, nothing is read from disk). An open document outside every
root is no neighbour either.
"""

from __future__ import annotations

import os
import re
import stat as stat_module
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from ..documents import Document, uri_to_path
from ..languages import BY_SUFFIX
from .exclude import Excluder
from .syntax import api_outline
from .types import Snippet

Source = Literal["open", "recent", "import", "folder"]
TokenCounter = Callable[[str], int]

# Windows small enough that one fits the neighbour share of a 1,024-token prompt (~230 tokens):
# 60-line windows (Copilot's, for budgets of thousands of tokens) never fitted and no neighbour
# window was ever chosen.
WINDOW_LINES = 16
WINDOW_STEP = 8
# The lines around the cursor that rank the windows: the nearest ones say what comes next
# (`python -m benchmarks.quality probe --kinds xfile`: 10 before and 3 after, exact 11 of 78,
# similarity 46.0; 40 and 10: 10 of 78, 44.4).
CURSOR_LINES_BEFORE = 10
CURSOR_LINES_AFTER = 3
RECENT_EDITS = 16
RECENT_CONTEXT_LINES = 12
# Re-rank after this long without a request for the document, or when the cursor moves this far.
PAUSE_SECONDS = 2.0
FAR_LINES = 40
MIN_SCORE = 0.05
MAX_FILE_BYTES = 512_000
# Files of the current folder ranked (all of them in a folder of one-function modules, where the
# sibling that does the same thing is the best neighbour), those whose names share the most words
# with the current file's first, within a read budget.
MAX_FOLDER_FILES = 200
MAX_FOLDER_BYTES = 2_000_000
MAX_PACKAGE_FILES = 6
# Share of the neighbour budget for each source; what one source leaves unused goes to the others.
SHARES: dict[Source, float] = {"import": 0.35, "open": 0.35, "recent": 0.15, "folder": 0.15}
MAX_SNIPPETS = 12
# A snippet's file separator and newlines in the prompt, besides its path and text.
SNIPPET_HEADER_TOKENS = 4
# An imported file also offers its API: the signatures of the functions and classes the current
# file imports from it (all of them for a module imported whole), within this many characters.
# What a file imports is what it calls, so the API ranks above any window's similarity.
API_MAX_CHARS = 480
API_SCORE = 0.5
# An API candidate's key: its file's path and this (its windows are keyed by the path alone).
API_KEY_SUFFIX = "#api"
# Per name the current file imports from that file and uses around the cursor.
API_NEAR_BONUS = 0.1
# Import statements, parenthesised Python ones across lines.
_IMPORT_LINES = re.compile(
    r"^[ \t]*(?:from|import)\b[^\n(]*(?:\([^)]*\))?.*$|^.*\brequire\s*\(.*$", re.M
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words every file has: they make unrelated windows look alike.
STOPWORDS = frozenset(
    """
    if else elif for while do return def class function func fn const let var import from as in
    is not and or self this true false null nil none None True False new public private protected
    static void int str string bool float double char long return end then local package use
    struct type interface impl pub mut try catch except finally raise throw with async await yield
    break continue pass lambda switch case default the a an of to
    """.split()
)

# File extension → language family: neighbours come from files of the same family.
FAMILIES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "js",
    ".jsx": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".ts": "js",
    ".tsx": "js",
    ".mts": "js",
    ".cts": "js",
    ".go": "go",
    ".rs": "rust",
    ".java": "jvm",
    ".kt": "jvm",
    ".kts": "jvm",
    ".c": "c",
    ".h": "c",
    ".cc": "c",
    ".cpp": "c",
    ".cxx": "c",
    ".hpp": "c",
    ".hh": "c",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".lua": "lua",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
}
_LANGUAGE_FAMILIES = {
    "python": "python",
    "javascript": "js",
    "javascriptreact": "js",
    "typescript": "js",
    "typescriptreact": "js",
    "go": "go",
    "rust": "rust",
    "java": "jvm",
    "kotlin": "jvm",
    "c": "c",
    "cpp": "c",
    "csharp": "csharp",
    "ruby": "ruby",
    "php": "php",
    "swift": "swift",
    "lua": "lua",
    "shellscript": "shell",
}


def family(language_id: str, path: str) -> str:
    return _LANGUAGE_FAMILIES.get(language_id) or FAMILIES.get(PurePosixPath(path).suffix, "")


def path_of(uri: str) -> str:
    """The file path of a file:// URI as a string ('' for other schemes): what the index keys on."""
    path = uri_to_path(uri)
    return path.as_posix() if path is not None else ""


def identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENTIFIER.findall(text)) - STOPWORDS


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


@dataclass(frozen=True)
class Window:
    start: int  # line numbers, end exclusive
    end: int
    words: frozenset[str]


@dataclass(frozen=True)
class IndexedFile:
    """A file cut into overlapping windows, tokenised once."""

    path: str  # workspace-relative, shown to the model
    lines: tuple[str, ...]
    windows: tuple[Window, ...]

    def text(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start:end])


def index_text(path: str, text: str) -> IndexedFile:
    lines = tuple(text.split("\n"))
    line_words = [identifiers(line) for line in lines]
    windows = []
    last_start = max(0, len(lines) - WINDOW_LINES)
    starts = list(range(0, last_start + 1, WINDOW_STEP))
    if starts[-1] != last_start:
        starts.append(last_start)
    for start in starts:
        end = min(len(lines), start + WINDOW_LINES)
        words = frozenset().union(*line_words[start:end])
        windows.append(Window(start, end, words))
    return IndexedFile(path, lines, tuple(windows))


@dataclass(frozen=True)
class Candidate:
    source: Source
    key: str  # URI or file path: one file
    path: str
    start: int
    end: int
    text: str
    score: float


def best_windows(
    indexed: IndexedFile, query: frozenset[str], limit: int = 1
) -> list[tuple[float, Window]]:
    """The highest-scoring windows that do not overlap, best first."""
    scored = sorted(
        ((jaccard(w.words, query), w) for w in indexed.windows),
        key=lambda item: (-item[0], item[1].start),
    )
    chosen: list[tuple[float, Window]] = []
    for score, window in scored:
        if score < MIN_SCORE or len(chosen) >= limit:
            break
        if all(window.end <= c.start or window.start >= c.end for _, c in chosen):
            chosen.append((score, window))
    return chosen


# --- imports -----------------------------------------------------------------------------------

_IMPORT_WORDS = ("import", "require", "from")


def import_text(text: str) -> str:
    """The lines of `text` that can hold an import, each with the lines up to its closing
    parenthesis when it opens one (Python's and Go's grouped imports): the import patterns
    below then scan a few lines instead of the whole file (a 200 KB file: ~25 ms a pattern)."""
    spans: list[tuple[int, int]] = []
    for word in _IMPORT_WORDS:
        at = text.find(word)
        while at != -1:
            start = text.rfind("\n", 0, at) + 1
            end = _line_end(text, at)
            opened = text.rfind("(", start, end)
            if opened != -1 and text.find(")", opened, end) == -1:
                closed = text.find(")", end)
                end = len(text) if closed == -1 else _line_end(text, closed)
            spans.append((start, end))
            at = text.find(word, end)
    kept: list[str] = []
    reached = 0
    for start, end in sorted(spans):
        start = max(start, reached)
        if start < end:
            kept.append(text[start:end])
            reached = end
    return "\n".join(kept)


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end == -1 else end


_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(?:\(([\w, \t\n]*)|([\w, \t]+))", re.M
)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)", re.M)
_JS_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"'\n]+)["']""",
    re.M,
)
_GO_IMPORT_BLOCK = re.compile(r"^import\s*\(([^)]*)\)", re.M)
_GO_IMPORT_LINE = re.compile(r"^import\s+(?:[\w.]+\s+)?\"([^\"]+)\"", re.M)
_GO_PATH = re.compile(r"\"([^\"]+)\"")
_GO_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_JS_SUFFIXES = (
    "",
    ".ts",
    ".tsx",
    ".js",
    ".jsx",
    ".mjs",
    ".cjs",
    ".d.ts",
    "/index.ts",
    "/index.tsx",
    "/index.js",
    "/index.jsx",
)


def import_candidates(
    path: str, text: str, language_family: str, roots: tuple[str, ...], go_modules: dict[str, str]
) -> list[str]:
    """Paths the file's imports may refer to, in import order (not checked for existence)."""
    folder = os.path.dirname(path)
    if language_family == "python":
        return _python_imports(folder, text, roots)
    if language_family == "js":
        return _js_imports(folder, text)
    if language_family == "go":
        return _go_imports(text, go_modules)
    return []


def _python_imports(folder: str, text: str, roots: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    bases_absolute = [b for r in roots for b in (r, f"{r}/src")]
    for match in _PY_FROM.finditer(text):
        dots, module, parenthesized, names = match.groups()
        names = parenthesized or names
        if dots:
            base = folder
            for _ in range(len(dots) - 1):
                base = os.path.dirname(base)
            bases = [base]
        else:
            bases = bases_absolute
        module_path = module.replace(".", "/")
        for base in bases:
            stem = f"{base}/{module_path}".rstrip("/")
            found += [f"{stem}.py", f"{stem}/__init__.py"]
            for name in re.split(r"[,\s]+", names):
                if name and name != "as":
                    found.append(f"{stem}/{name}.py")
    for match in _PY_IMPORT.finditer(text):
        for module in re.split(r"[ \t]*,[ \t]*", match.group(1)):
            module_path = module.replace(".", "/")
            for base in [folder, *bases_absolute]:
                found += [f"{base}/{module_path}.py", f"{base}/{module_path}/__init__.py"]
    return found


def _js_imports(folder: str, text: str) -> list[str]:
    found: list[str] = []
    for match in _JS_IMPORT.finditer(text):
        spec = match.group(1)
        if not spec.startswith((".", "/")):
            continue  # a package from node_modules
        target = os.path.normpath(os.path.join(folder, spec))
        stems = [target]
        if target.endswith((".js", ".jsx", ".mjs")):  # TypeScript imports name the emitted file
            stems.append(target.rsplit(".", 1)[0])
        found += [stem + suffix for stem in stems for suffix in _JS_SUFFIXES]
    return found


def _go_imports(text: str, go_modules: dict[str, str]) -> list[str]:
    paths = [m.group(1) for m in _GO_IMPORT_LINE.finditer(text)]
    for block in _GO_IMPORT_BLOCK.finditer(text):
        paths += _GO_PATH.findall(block.group(1))
    found = []
    for import_path in paths:
        for module, root in go_modules.items():
            if import_path == module or import_path.startswith(module + "/"):
                found.append(f"{root}{import_path[len(module) :]}/")  # a package: a folder
    return found


# --- the index ---------------------------------------------------------------------------------


@dataclass
class _Selection:
    snippets: tuple[Snippet, ...]
    line: int
    time: float
    # (key, revision or modification time) of each file used, to notice changes.
    versions: dict[str, int]


@dataclass
class NeighbourIndex:
    """Indexes neighbour files incrementally and keeps each document's chosen snippets stable."""

    roots: tuple[str, ...]
    excluder: Excluder
    _open: dict[str, tuple[int, IndexedFile]] = field(default_factory=dict)
    _disk: dict[str, tuple[int, IndexedFile | None]] = field(default_factory=dict)
    _apis: dict[str, tuple[int, list[tuple[str, str]]]] = field(default_factory=dict)
    _recent: list[tuple[str, int]] = field(default_factory=list)
    _selections: dict[str, _Selection] = field(default_factory=dict)
    _go_modules: dict[str, str] | None = None
    _real_roots: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # (root with symlinks resolved, root as the workspace names it), longest first.
        pairs = {(os.path.realpath(r).rstrip("/"), r.rstrip("/")) for r in self.roots}
        self._real_roots = tuple(sorted(pairs, key=lambda p: -len(p[0])))

    def readable(self, path: str) -> bool:
        """May the file at `path` be read as context: inside a root, allowed by the Excluder,
        and, where it is a symlink (or lies under one), its target too (inside a root, allowed
        under its own name there)."""
        if not self._inside_roots(path) or not self.excluder.allowed(path):
            return False
        real = os.path.realpath(path)
        if real == path:
            return True
        for real_root, root in self._real_roots:
            if real.startswith(real_root + "/"):
                return self.excluder.allowed(root + real[len(real_root) :])
        return False

    def on_edit(
        self, before: Document, start: int, end: int, new_text: str, after: Document
    ) -> None:
        """DocumentStore edit listener: remembers recently edited lines (cheap: no tokenising)."""
        line = before.text.count("\n", 0, start)
        self._recent = [
            (u, n) for u, n in self._recent if not (u == after.uri and abs(n - line) < 8)
        ]
        self._recent.append((after.uri, line))
        del self._recent[:-RECENT_EDITS]

    def forget(self, uri: str) -> None:
        self._open.pop(uri, None)
        self._selections.pop(uri, None)

    def select(
        self,
        document: Document,
        offset: int,
        open_documents: Iterable[Document],
        now: float,
        budget: int,
        count: TokenCounter,
        one_off: bool = False,
    ) -> tuple[Snippet, ...]:
        """The neighbour snippets for a request, within `budget` tokens, best last (nearest to
        the current file in the prompt). `now` is a monotonic time in seconds (the caller's clock).
        `one_off`: a request the person asked for, with a budget of its own: ranked afresh and
        not kept, so the selection keystrokes share stays as it was."""
        line = document.text.count("\n", 0, offset)
        others = [
            d
            for d in open_documents
            if d.uri != document.uri and self._may_use(d.uri) and d.text.strip()
        ]
        previous = None if one_off else self._selections.get(document.uri)
        if previous is not None and not self._should_rerank(previous, line, now, others):
            previous.time = now
            return previous.snippets
        versions: dict[str, int] = {}
        query = words_around(document.text, offset)
        candidates = self._candidates(document, query, others, versions)
        snippets = fit(candidates, budget, count)
        if not one_off:
            self._selections[document.uri] = _Selection(snippets, line, now, versions)
        return snippets

    def _should_rerank(
        self, previous: _Selection, line: int, now: float, others: list[Document]
    ) -> bool:
        if now - previous.time >= PAUSE_SECONDS or abs(line - previous.line) > FAR_LINES:
            return True
        revisions = {d.uri: d.revision for d in others}
        # A neighbour that was closed keeps its snippet until the next pause; one that changed
        # (the person edited it) is re-read now.
        return any(
            key in revisions and revisions[key] != version
            for key, version in previous.versions.items()
        )

    def _may_use(self, uri: str) -> bool:
        """An open document may be a neighbour: not a file (untitled), or a file that is
        allowed and, where there are roots, inside one."""
        path = path_of(uri)
        if not path:
            return True
        if self.roots and not self._inside_roots(path):
            return False
        return self.excluder.allowed(path)

    def _candidates(
        self,
        document: Document,
        query: frozenset[str],
        others: list[Document],
        versions: dict[str, int],
    ) -> list[Candidate]:
        current_path = path_of(document.uri)
        current_family = family(document.language_id, current_path)
        found: list[Candidate] = []
        # An open file over the size a file on disk may have (a log, a generated bundle) is no
        # neighbour either: indexing and ranking its windows took seconds per pause.
        others = [d for d in others if len(d.text) <= MAX_FILE_BYTES]
        by_uri = {d.uri: d for d in others}
        for other in others:
            if family(other.language_id, path_of(other.uri)) != current_family:
                continue
            indexed = self._index_open(other)
            versions[other.uri] = other.revision
            for score, window in best_windows(indexed, query, limit=2):
                found.append(_candidate("open", other.uri, indexed, window, score))
        for uri, edited_line in reversed(self._recent):
            edited = by_uri.get(uri)
            if edited is None:
                continue
            indexed = self._index_open(edited)
            start = max(0, edited_line - RECENT_CONTEXT_LINES)
            end = min(len(indexed.lines), edited_line + RECENT_CONTEXT_LINES)
            score = jaccard(identifiers(indexed.text(start, end)), query)
            window = Window(start, end, frozenset())
            found.append(_candidate("recent", uri, indexed, window, score + 0.05))
        if current_path:
            open_paths = {path_of(d.uri) for d in others} | {current_path}
            statements = import_text(document.text)
            imported = identifiers("\n".join(_IMPORT_LINES.findall(statements)))
            for source, path in self._disk_paths(current_path, statements, current_family):
                if source == "import":
                    api = self._api_candidate(path, query, imported)
                    found += [api] if api is not None else []
                if path in open_paths:
                    continue  # open documents are ranked from the editor's text above
                on_disk = self._index_disk(path)
                if on_disk is None:
                    continue
                versions[path] = self._disk[path][0]
                for score, window in best_windows(on_disk, query, limit=1):
                    found.append(_candidate(source, path, on_disk, window, score))
        return found

    def _api_candidate(
        self, path: str, query: frozenset[str], imported: frozenset[str]
    ) -> Candidate | None:
        """The imported file's signatures; a file no longer than its outline would be is offered
        whole (its windows are then dropped as overlapping it: see `fit`).

        Names imported one by one are what this file calls; the rest of that file's API only
        crowds the budget. A module imported whole (`import utils`, or a package's `__init__`
        that `from package import module` reaches too) offers all of it, ranked lower. Names the
        code around the cursor uses come first, and each one ranks the file up: that is the API
        the person is working with."""
        outline = self._api(path)
        if not outline:
            return None
        names = frozenset(name for name, _ in outline)
        imported_here = names & imported
        # A module imported whole says less of what comes next than names imported one by one.
        score = API_SCORE if imported_here else API_SCORE / 2
        offered = imported_here or names
        score += API_NEAR_BONUS * len(offered & query)
        indexed = self._index_disk(path)  # cached by _api
        if indexed is not None and _length(indexed.lines) <= API_MAX_CHARS:
            score += jaccard(frozenset().union(*(w.words for w in indexed.windows)), query)
            whole = Window(0, len(indexed.lines), frozenset())
            return _candidate("import", path, indexed, whole, score)
        entries = [entry for entry in outline if entry[0] in offered]
        entries.sort(key=lambda entry: entry[0] not in query)  # stable: file order otherwise
        kept: list[str] = []
        size = 0
        for _, line in entries:
            if size + len(line) + 1 > API_MAX_CHARS:
                break
            kept.append(line)
            size += len(line) + 1
        if not kept:
            return None
        text = "\n".join(kept)
        score += jaccard(names, query)
        key = path + API_KEY_SUFFIX
        return Candidate("import", key, self._display_path(path), 0, 0, text, score)

    def _api(self, path: str) -> list[tuple[str, str]]:
        """The file's API outline, parsed once per modification."""
        language = BY_SUFFIX.get(PurePosixPath(path).suffix.lower())
        indexed = self._index_disk(path) if language else None
        if indexed is None or language is None:
            return []
        stamp = self._disk[path][0]
        cached = self._apis.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, api_outline(language, "\n".join(indexed.lines)))
            self._apis[path] = cached
        return cached[1]

    def _disk_paths(
        self, current_path: str, statements: str, current_family: str
    ) -> list[tuple[Source, str]]:
        """Imported files, then same-folder files; `statements`: the current file's import lines
        (see `import_text`)."""
        paths: list[tuple[Source, str]] = []
        seen = {current_path}
        candidates = import_candidates(
            current_path, statements, current_family, self.roots, self._modules()
        )
        for candidate in candidates:
            for path in _expand(candidate):
                if path not in seen and self.readable(path) and os.path.isfile(path):
                    seen.add(path)
                    paths.append(("import", path))
        folder = os.path.dirname(current_path)
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        names = [n for n in names if FAMILIES.get(PurePosixPath(n).suffix, "") == current_family]
        mine = _name_words(os.path.basename(current_path))
        names.sort(key=lambda name: (-len(_name_words(name) & mine), name))
        count = size = 0
        for name in names:
            path = f"{folder}/{name}"
            if path in seen or not self.readable(path):
                continue
            try:
                stat = os.stat(path)
            except OSError:
                continue
            if count >= MAX_FOLDER_FILES or size + stat.st_size > MAX_FOLDER_BYTES:
                break
            if stat_module.S_ISREG(stat.st_mode):  # not a folder, nor a FIFO open() would block on
                count += 1
                size += stat.st_size
                paths.append(("folder", path))
        return paths

    def _inside_roots(self, path: str) -> bool:
        return self.excluder.relative(path) is not None

    def _modules(self) -> dict[str, str]:
        """Go module path → folder, from each root's go.mod (read once)."""
        if self._go_modules is None:
            self._go_modules = {}
            for root in self.roots:
                go_mod = f"{root}/go.mod"
                if not self.readable(go_mod):
                    continue
                try:
                    with open(go_mod, encoding="utf-8", errors="replace") as handle:
                        match = _GO_MODULE.search(handle.read(4096))
                except OSError:
                    continue
                if match:
                    self._go_modules[match.group(1)] = root
        return self._go_modules

    def _display_path(self, path: str) -> str:
        located = self.excluder.relative(path)
        return located[1] if located else os.path.basename(path)

    def _index_open(self, document: Document) -> IndexedFile:
        cached = self._open.get(document.uri)
        if cached is not None and cached[0] == document.revision:
            return cached[1]
        path = path_of(document.uri)
        indexed = index_text(self._display_path(path) if path else document.uri, document.text)
        self._open[document.uri] = (document.revision, indexed)
        return indexed

    def _index_disk(self, path: str) -> IndexedFile | None:
        if not self.readable(path):
            return None  # never read an excluded or ignored file, nor one outside the roots
        try:
            stat = os.stat(path)
        except OSError:
            return None
        cached = self._disk.get(path)
        if cached is not None and cached[0] == stat.st_mtime_ns:
            return cached[1]
        indexed: IndexedFile | None = None
        if stat.st_size <= MAX_FILE_BYTES:
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
                # A NUL is valid UTF-8 but says binary (as for open documents): not context.
                if "\x00" not in text[:65536]:
                    indexed = index_text(self._display_path(path), text)
            except (OSError, UnicodeDecodeError):
                indexed = None
        self._disk[path] = (stat.st_mtime_ns, indexed)
        return indexed


def words_around(text: str, offset: int) -> frozenset[str]:
    """The identifiers of the lines around the cursor: what the code being written works with."""
    return identifiers(_around(text, offset))


def _around(text: str, offset: int) -> str:
    """The lines around the cursor that rank the windows (without splitting the whole text)."""
    start = offset
    for _ in range(CURSOR_LINES_BEFORE):
        start = text.rfind("\n", 0, max(0, start - 1)) + 1
        if start == 0:
            break
    end = offset
    for _ in range(CURSOR_LINES_AFTER):
        newline = text.find("\n", end + 1)
        if newline == -1:
            end = len(text)
            break
        end = newline
    return text[start:end]


_NAME_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _length(lines: tuple[str, ...]) -> int:
    """Characters of the lines joined by newlines, without joining them."""
    return sum(map(len, lines)) + len(lines) - 1


def _name_words(file_name: str) -> frozenset[str]:
    """Lower-case words of a file name without its suffix: 'findIndex.js' -> {find, index}."""
    stem = file_name.split(".", 1)[0]
    return frozenset(w.lower() for w in _NAME_WORD.findall(stem))


def _expand(candidate: str) -> list[str]:
    """A Go package (a folder, written with a trailing '/') becomes its non-test files."""
    if not candidate.endswith("/"):
        return [candidate]
    folder = candidate.rstrip("/")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    files = [f"{folder}/{n}" for n in names if n.endswith(".go") and not n.endswith("_test.go")]
    return files[:MAX_PACKAGE_FILES]


def _candidate(
    source: Source, key: str, indexed: IndexedFile, window: Window, score: float
) -> Candidate:
    return Candidate(
        source,
        key,
        indexed.path,
        window.start,
        window.end,
        indexed.text(window.start, window.end),
        score,
    )


def fit(candidates: list[Candidate], budget: int, count: TokenCounter) -> tuple[Snippet, ...]:
    """The best candidates within the budget: each source first within its share, then the rest
    by score; overlapping windows of one file and repeated text are dropped. Best last."""
    ranked = sorted(
        (c for c in candidates if c.score >= MIN_SCORE and c.text.strip()),
        key=lambda c: (-c.score, c.path, c.start),
    )
    chosen: list[tuple[Candidate, int]] = []
    spent: dict[Source, int] = dict.fromkeys(SHARES, 0)
    seen_texts: set[str] = set()

    def overlaps(candidate: Candidate) -> bool:
        return any(
            c.key == candidate.key and candidate.start < c.end and c.start < candidate.end
            for c, _ in chosen
        )

    for within_share in (True, False):
        for candidate in ranked:
            if len(chosen) >= MAX_SNIPPETS:
                break
            text = candidate.text.strip()
            if text in seen_texts or overlaps(candidate):
                continue
            tokens = count(candidate.text) + count(candidate.path) + SNIPPET_HEADER_TOKENS
            used = sum(t for _, t in chosen)
            if used + tokens > budget:
                continue
            if (
                within_share
                and spent[candidate.source] + tokens > SHARES[candidate.source] * budget
            ):
                continue
            chosen.append((candidate, tokens))
            spent[candidate.source] += tokens
            seen_texts.add(text)
    return one_entry_per_file([c for c, _ in chosen])


def one_entry_per_file(chosen: list[Candidate]) -> tuple[Snippet, ...]:
    """The chosen parts of each file as one snippet, in file order (an imported file's API,
    which has no lines of its own, first, less what its windows already show), placed by its
    best part's score, best last. The model learnt repositories from files that each come once;
    the same path twice (a window and the API of one file) read as two versions of it."""
    by_path: dict[str, list[Candidate]] = {}
    for candidate in chosen:
        by_path.setdefault(candidate.path, []).append(candidate)
    merged: list[Snippet] = []
    for path, parts in by_path.items():
        score = max(part.score for part in parts)
        if len(parts) == 1:
            merged.append(Snippet(path, parts[0].text, round(score, 4)))
            continue
        parts.sort(key=lambda c: (c.start, c.end))
        texts = []
        for part in parts:
            lines = part.text.strip("\n").split("\n")
            if part.key.endswith(API_KEY_SUFFIX):  # lines that a window shows are dropped
                shown = "\n".join(p.text for p in parts if p is not part)
                lines = [line for line in lines if line.strip() not in shown]
            texts += ["\n".join(lines)] if any(line.strip() for line in lines) else []
        merged.append(Snippet(path, "\n\n".join(texts), round(score, 4)))
    merged.sort(key=lambda s: (s.score, s.path))
    return tuple(merged)

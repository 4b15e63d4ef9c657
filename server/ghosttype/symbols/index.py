"""The workspace's symbol index: every source file's facts (extract.py), kept in one background
thread, and the tables the check reads (classes by name, names by language family).

The event loop only hands work over (an edited document, a saved or changed file: a dictionary
entry and an Event) and reads dictionaries; parsing, walking the workspace and reading the
environment's Python modules happen in the thread, which gives the interpreter lock back after
every file. An open document is re-indexed once its edits pause (DEBOUNCE_S), from its text;
files on disk on save and on file-watcher events. Until the first build is done the index
answers nothing (a half-built table would call real names invented)."""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..context.exclude import Excluder
from ..context.neighbours import MAX_FILE_BYTES
from ..documents import Document, DocumentStore, uri_to_path
from . import worker
from .builtins import IMPLICIT_MEMBERS, KNOWN_BASES
from .extract import LANGUAGES, family_of
from .facts import ClassFacts, FileFacts, Import
from .worker import WorkerProcess, read_source

log = logging.getLogger(__name__)

# An open document is re-indexed this long after its last edit.
DEBOUNCE_S = 0.25
# Files per request to the worker process (documents edited meanwhile are indexed between
# requests, not after the whole build).
BATCH_FILES = 8
# Between files the thread sleeps this long: after `sleep(0)` it may take the interpreter lock
# back before the event loop does, which then waits out the 5 ms switch interval. 5,000 files:
# 2.5 s more build time, in the background.
YIELD_S = 0.0005
MAX_BASE_DEPTH = 8
# A class with more subclasses than this: its `self` is left free (the list would allow most
# names anyway, and gathering it is no longer a lookup).
MAX_SUBCLASSES = 64
_GO_MODULE_LINE = "module "


@dataclass(frozen=True)
class Config:
    roots: tuple[str, ...]
    exclude: tuple[str, ...]


class SymbolIndex:
    def __init__(self, documents: DocumentStore | None = None) -> None:
        self._files: dict[str, FileFacts] = {}
        # (family, class name) -> ((path, facts), ...): every file that declares or extends it
        # (Go methods, C++ out-of-class definitions, C# partial classes live in other files).
        self._classes: dict[tuple[str, str], tuple[tuple[str, ClassFacts], ...]] = {}
        # family -> name -> how many files define it at module level.
        self._names: dict[str, dict[str, int]] = {}
        self._extensions: dict[str, int] = {}
        # (family, base class) -> the classes that name it as a base -> in how many files.
        self._derived: dict[tuple[str, str], dict[str, int]] = {}
        # (family, function) -> ((path, the class it returns), ...)
        self._returns: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        # family -> (the generation it was sorted at, every name it defines, sorted)
        self._sorted_names: dict[str, tuple[int, tuple[str, ...]]] = {}
        self._folders: dict[str, set[str]] = {}
        self._documents: dict[str, tuple[int, FileFacts]] = {}
        # Files open in the editor: their text there, not on disk, is what the index holds.
        self._document_paths: set[str] = set()
        self._go_modules: dict[str, str] = {}
        self._submodules: dict[str, frozenset[str]] = {}
        self.generation = 0  # bumped on every change: the check's caches key on it
        self.ready = False  # the first build is done
        self.build_seconds = 0.0
        self._config: Config | None = None
        self._excluder: Excluder | None = None
        self._pending_documents: dict[str, tuple[float, Document]] = {}
        # The documents the thread has taken from `_pending_documents` and not finished.
        self._in_hand: set[str] = set()
        self._pending_paths: set[str] = set()
        self._latest: dict[str, Document] = {}  # open documents, re-indexed after a rebuild
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rebuild = False
        self._worker = WorkerProcess()
        self._busy = False  # the thread is between taking work and finishing it
        self._lock = threading.Lock()  # guards the pending work only
        if documents is not None:
            documents.edit_listeners.append(self._on_edit)

    # --- the event loop's side: hand work over, read -----------------------------------------

    def configure(self, roots: Sequence[Path], exclude: tuple[str, ...]) -> None:
        """The workspace roots and `context.exclude`; a change rebuilds the index. Cheap when
        nothing changed (called per request)."""
        config = Config(tuple(r.as_posix() for r in roots), exclude)
        if config == self._config:
            return
        with self._lock:
            self._config = config
            self._rebuild = True
        self.ready = False
        if self._thread is None:
            self._stop.clear()
            self._worker = WorkerProcess()
            self._thread = threading.Thread(target=self._run, name="ghosttype-symbols", daemon=True)
            self._thread.start()
        self._wake.set()

    def document_changed(self, document: Document, at_once: bool = False) -> None:
        """An opened or edited document: re-indexed from its text once its edits pause (an
        opened one `at_once`: no typing to wait out)."""
        if document.language_id not in LANGUAGES or self._thread is None:
            return
        with self._lock:
            self._pending_documents[document.uri] = (0.0 if at_once else time.monotonic(), document)
            self._latest[document.uri] = document
        self._wake.set()

    def soon_ready_for(self, document: Document) -> bool:
        """Whether the check at `document` waits on work under way: the first build, or the
        document itself queued or being read (False where it will never be read: a language
        the index does not know, an index not started)."""
        if document.language_id not in LANGUAGES or self._thread is None:
            return False
        if not self.ready:
            return True
        if self.document_facts(document) is not None:
            return False
        return document.uri in self._pending_documents or document.uri in self._in_hand

    def refresh(self, document: Document) -> None:
        """Hands over an open document whose latest text the index has not seen nor been given
        (a change that sent the whole text reaches no edit listener)."""
        indexed = self._documents.get(document.uri)
        if indexed is not None and indexed[0] == document.revision:
            return
        with self._lock:
            waiting = self._pending_documents.get(document.uri)
        if waiting is None or waiting[1].revision != document.revision:
            self.document_changed(document)

    def forget(self, uri: str) -> None:
        """A closed document: its last facts stay in the tables (until its file changes)."""
        with self._lock:
            self._latest.pop(uri, None)
            self._pending_documents.pop(uri, None)

    def _on_edit(self, before: Document, start: int, end: int, text: str, after: Document) -> None:
        self.document_changed(after)

    def file_changed(self, path: str) -> None:
        """A file saved, created, changed or deleted on disk."""
        if family_of(path) is None:
            return
        with self._lock:
            self._pending_paths.add(path)
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=0.5)  # it stops between files; the worker is stopped below
        self._config = None
        self._worker.close()

    def settle(self, timeout: float) -> bool:
        """Waits (polling) until the build is done and no handed-over work is left: for tests
        and benchmarks, never on the event loop."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = not (self._pending_documents or self._pending_paths or self._rebuild)
            if idle and self.ready and not self._busy:
                return True
            time.sleep(0.005)
        return False

    @property
    def worker_pid(self) -> int | None:
        """The worker process that parses (None before the first parse)."""
        return self._worker.pid

    @property
    def file_count(self) -> int:
        return len(self._files)

    def document_facts(self, document: Document) -> FileFacts | None:
        """The latest facts of an open document (perhaps from a few edits ago), else None."""
        entry = self._documents.get(document.uri)
        return entry[1] if entry is not None else None

    def class_entries(self, family: str, name: str) -> tuple[tuple[str, ClassFacts], ...]:
        return self._classes.get((family, name), ())

    def members(
        self, family: str, name: str, depth: int = 0, path: str = ""
    ) -> frozenset[str] | None:
        """Every member of the class `name` (declared anywhere, inherited from bases the index
        can see), or None when some of them cannot be known. With `path`, the class that file
        declares where it declares one (an import said which: the environment's
        `urllib.request.Request` is not the workspace's `Request`)."""
        entries = self._classes.get((family, name))
        if entries and path:
            entries = tuple(e for e in entries if e[0] == path) or entries
        if not entries:
            return KNOWN_BASES.get(family, {}).get(name)
        found: set[str] = set(IMPLICIT_MEMBERS.get(family, ()))
        for _, facts in entries:
            if facts.open:
                return None
            found |= facts.members
            for base in facts.bases:
                if base == name:
                    # Another module's class of the same name: one of the classes of that name
                    # where the index holds it (gathered all), else unknown (`_socket.socket`).
                    every = self._classes.get((family, name), ())
                    if len(every) < 2:
                        return None
                    if len(entries) < len(every):  # narrowed to `path`'s: gather them all
                        inherited = self.members(family, name, depth + 1)
                        if inherited is None:
                            return None
                        found |= inherited
                    continue
                inherited = (
                    self.members(family, base, depth + 1) if depth < MAX_BASE_DEPTH else None
                )
                if inherited is None:
                    return None
                found |= inherited
        return frozenset(found)

    def field_type(self, family: str, name: str, member: str, depth: int = 0) -> str:
        """The declared type of a class's field (searched through its bases), "" if unknown."""
        for _, facts in self._classes.get((family, name), ()):
            for field_name, kind in facts.fields:
                if field_name == member:
                    return kind
            for base in facts.bases:
                if base != name and depth < MAX_BASE_DEPTH:
                    found = self.field_type(family, base, member, depth + 1)
                    if found:
                        return found
        return ""

    def module_members(self, target: str) -> frozenset[str] | None:
        """The names a module (a file, or a Go package's folder) offers, None when unknown."""
        if target.endswith("/"):
            paths = self._folders.get(target.rstrip("/"), set())
            files = [self._files.get(p) for p in paths if not p.endswith("_test.go")]
            if not files or any(f is None or f.star for f in files):
                return None
            return frozenset().union(*(f.names for f in files if f is not None))
        facts = self._files.get(target)
        if facts is None or facts.star or facts.open:
            return None
        return facts.names | self._submodules.get(target, frozenset())

    def module_classes(self, target: str) -> frozenset[str]:
        """The classes a module (a file, or a Go package's folder) defines."""
        paths = self._folders.get(target.rstrip("/"), set()) if target.endswith("/") else {target}
        found: set[str] = set()
        for path in paths:
            facts = self._files.get(path)
            if facts is not None:
                found.update(facts.classes)
        return frozenset(found)

    def defined(self, family: str, name: str) -> bool:
        """Whether any file of the family defines `name` at module level (or as a class)."""
        return name in self._names.get(family, {}) or (family, name) in self._classes

    def sorted_names(self, family: str) -> tuple[str, ...]:
        """Every module-level name and class of the family, sorted (for guided decoding's
        prefix questions); sorted again only after the index changed."""
        cached = self._sorted_names.get(family)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        generation = self.generation
        names = set(self._names.get(family, ()))
        names.update(name for kind, name in list(self._classes) if kind == family)
        ordered = tuple(sorted(names))
        self._sorted_names[family] = (generation, ordered)
        return ordered

    def returns(self, family: str, function: str) -> str:
        """The class a module-level function declares it returns ("" if unknown or if the
        files that define one of that name disagree)."""
        kinds = {kind for _, kind in self._returns.get((family, function), ())}
        return kinds.pop() if len(kinds) == 1 else ""

    def has_subclasses(self, family: str, name: str) -> bool:
        """Whether a class of the index names `name` as a base: its `self` may be theirs."""
        return (family, name) in self._derived

    def members_with_subclasses(self, family: str, name: str) -> frozenset[str] | None:
        """The members `self` may have in a method of `name`: its own and those of every class
        the index sees derive from it (a base's method may call a hook only they define); None
        where one of them cannot be known, or the family is too large to be a useful list."""
        seen = {name}
        queue = [name]
        found: set[str] = set()
        while queue:
            klass = queue.pop()
            members = self.members(family, klass)
            if members is None:
                return None
            found |= members
            # A copy in one step: the index's thread may be changing the table meanwhile.
            for sub in tuple(self._derived.get((family, klass), ())):
                if sub not in seen:
                    seen.add(sub)
                    queue.append(sub)
            if len(seen) > MAX_SUBCLASSES:
                return None
        return frozenset(found)

    def extension_names(self) -> frozenset[str]:
        return frozenset(self._extensions)

    def is_extension(self, name: str) -> bool:
        return name in self._extensions

    def module_file(self, target: str) -> FileFacts | None:
        return self._files.get(target)

    # --- the thread's side --------------------------------------------------------------------

    def _stopped(self) -> bool:
        """Closed, or this thread is an old one that a close and a new start replaced."""
        return self._stop.is_set() or threading.current_thread() is not self._thread

    def _run(self) -> None:
        while not self._stopped():
            self._wake.wait()
            self._wake.clear()
            try:
                self._work()
            except Exception:  # the index must not die with one bad file
                log.exception("the symbol index failed; it goes on")

    def _work(self) -> None:
        with self._lock:
            rebuild, self._rebuild = self._rebuild, False
            config = self._config
            self._busy = True
        try:
            self._work_on(rebuild, config)
        finally:
            self._busy = False

    def _work_on(self, rebuild: bool, config: Config | None) -> None:
        if config is None:
            return
        if rebuild:
            self._build(config)
        self._index_documents(force=False)
        with self._lock:
            paths, self._pending_paths = self._pending_paths, set()
            self._busy = True
        for path in paths:
            self._index_disk(path)
            time.sleep(YIELD_S)
        if self._pending_documents:
            self._wake.set()  # more edits are waiting out their debounce
            time.sleep(DEBOUNCE_S / 2)

    def _build(self, config: Config) -> None:
        started = time.monotonic()
        self._files.clear()
        self._classes.clear()
        self._names.clear()
        self._extensions.clear()
        self._derived.clear()
        self._returns.clear()
        self._folders.clear()
        self._documents.clear()
        self._document_paths.clear()
        self._submodules.clear()
        self._excluder = Excluder(config.roots, config.exclude)
        with self._lock:
            for uri, document in self._latest.items():
                self._pending_documents.setdefault(uri, (0.0, document))
        self._go_modules = self._read_go_modules(config.roots)
        # The walk and its exclusion rules are Python work for seconds: the worker's too.
        paths: list[str] = self._worker.call("walk_sources", config.roots, config.exclude)
        for number, path in enumerate(paths):
            self._folders.setdefault(os.path.dirname(path), set()).add(path)
            if number % 500 == 499:
                time.sleep(YIELD_S)
        for start in range(0, len(paths), BATCH_FILES):
            if self._stopped() or self._rebuild:
                return
            batch = paths[start : start + BATCH_FILES]
            found: list[tuple[str, FileFacts | None]] = self._worker.call("extract_paths", batch)
            for path, facts in found:
                if path not in self._document_paths:
                    try:
                        self._set(path, worker.interned(facts) if facts is not None else None)
                    except Exception:  # one file must not stop the build
                        log.exception("the symbol index could not index %s", path)
                time.sleep(YIELD_S)
            self._index_documents(force=False)
        self._index_documents(force=True)
        # The index lives as long as the server and holds no cycles: frozen, the collections in
        # the person's pauses (idle_gc.py) never walk its ~100,000 containers again.
        gc.freeze()
        self.build_seconds = time.monotonic() - started
        self.ready = True
        self.generation += 1

    def _readable(self, path: str) -> bool:
        return self._excluder is not None and worker.readable(self._excluder, path)

    def _index_disk(self, path: str) -> None:
        found = family_of(path)
        if path in self._document_paths:
            return
        if found is None or not self._readable(path):
            self._set(path, None)
            return
        self._folders.setdefault(os.path.dirname(path), set()).add(path)
        ((_, facts),) = self._worker.call("extract_paths", [path])
        self._set(path, worker.interned(facts) if facts is not None else None)

    def _index_documents(self, force: bool) -> None:
        now = time.monotonic()
        with self._lock:
            due = [
                (uri, document)
                for uri, (at, document) in self._pending_documents.items()
                if force or now - at >= DEBOUNCE_S
            ]
            for uri, _ in due:
                del self._pending_documents[uri]
            self._in_hand = {uri for uri, _ in due}
        for uri, document in due:
            try:
                self._index_document(uri, document)
            except Exception:  # one document must not stop the others
                log.exception("the symbol index could not index %s", uri)
            finally:
                self._in_hand.discard(uri)
            time.sleep(YIELD_S)

    def _index_document(self, uri: str, document: Document) -> None:
        family, grammar = LANGUAGES[document.language_id]
        text = document.text
        if len(text) > MAX_FILE_BYTES or "\x00" in text[:65536]:
            return
        path_obj = uri_to_path(uri)
        path = path_obj.as_posix() if path_obj is not None else uri
        if path_obj is not None and self._excluder is not None and self._excluder.excluded(path):
            return
        facts: FileFacts | None = self._worker.call("extract_text", text, family, grammar)
        if facts is None:
            return
        facts = replace(worker.interned(facts), imports=self._resolve_imports(path, facts))
        self._documents[uri] = (document.revision, facts)
        self._document_paths.add(path)
        self._set(path, facts)

    def _set(self, path: str, facts: FileFacts | None) -> None:
        """Replaces a file's contribution to the tables."""
        old = self._files.pop(path, None)
        if old is not None:
            names = self._names.get(old.family, {})
            for name in old.names:
                count = names.get(name, 0) - 1
                if count > 0:
                    names[name] = count
                else:
                    names.pop(name, None)
            for name, klass in old.classes.items():
                for base in klass.bases:
                    key = (old.family, base)
                    derived = self._derived.get(key, {})
                    derived[name] = derived.get(name, 1) - 1
                    if derived[name] <= 0:
                        derived.pop(name, None)
                    if not derived:
                        self._derived.pop(key, None)
            for name in old.classes:
                key = (old.family, name)
                kept = tuple(e for e in self._classes.get(key, ()) if e[0] != path)
                if kept:
                    self._classes[key] = kept
                else:
                    self._classes.pop(key, None)
            for name in old.returns:
                key = (old.family, name)
                left = tuple(e for e in self._returns.get(key, ()) if e[0] != path)
                if left:
                    self._returns[key] = left
                else:
                    self._returns.pop(key, None)
            for name in old.extensions:
                self._extensions[name] = self._extensions.get(name, 1) - 1
                if self._extensions[name] <= 0:
                    del self._extensions[name]
        if facts is not None:
            names = self._names.setdefault(facts.family, {})
            for name in facts.names:
                names[name] = names.get(name, 0) + 1
            for name, klass in facts.classes.items():
                key = (facts.family, name)
                self._classes[key] = (*self._classes.get(key, ()), (path, klass))
                for base in klass.bases:
                    derived = self._derived.setdefault((facts.family, base), {})
                    derived[name] = derived.get(name, 0) + 1
            for name in facts.extensions:
                self._extensions[name] = self._extensions.get(name, 0) + 1
            for name, kind in facts.returns.items():
                key = (facts.family, name)
                self._returns[key] = (*self._returns.get(key, ()), (path, kind))
            # Disk files keep no import list: only an open document's imports are resolved.
            stored = facts if facts.scopes else replace(facts, imports=())
            self._files[path] = stored
        self.generation += 1

    # --- imports ------------------------------------------------------------------------------

    def _resolve_imports(self, path: str, facts: FileFacts) -> tuple[Import, ...]:
        resolved = []
        for entry in facts.imports:
            if facts.family == "python":
                target, name = self._python_target(path, entry.module, entry.name)
            elif facts.family == "js":
                target, name = self._js_target(path, entry.module), entry.name
            elif facts.family == "go":
                target, name = self._go_target(entry.module), ""
            else:
                target, name = "", entry.name
            resolved.append(Import(entry.alias, entry.module, name, target))
        return tuple(resolved)

    def _python_target(self, importer: str, module: str, name: str) -> tuple[str, str]:
        """(file, name) an import names: `from . import m` is the module m when there is one."""
        dots = len(module) - len(module.lstrip("."))
        parts = [p for p in module[dots:].split(".") if p]
        if dots:
            base = os.path.dirname(importer)
            for _ in range(dots - 1):
                base = os.path.dirname(base)
            bases = [base]
        else:
            roots = self._config.roots if self._config else ()
            bases = [b for r in roots for b in (r, f"{r}/src")]
            # A script's folder is on its path: a sibling module, unless the environment has
            # one of that name too (then which one runs is not known here).
            if parts and not _find_spec_file(parts[:1]):
                bases.append(os.path.dirname(importer))
        for base in bases:
            stem = "/".join([base, *parts])
            if name:
                sub = _python_file(stem + "/" + name)
                if sub:
                    return self._python_module(sub), ""
            found = _python_file(stem) if parts else _python_file(stem + "/__init__")
            if found:
                return self._python_module(found), name
        if dots:
            return "", name
        # The environment's module, read without importing it.
        if name:
            sub = _find_spec_file([*parts, name])
            if sub:
                return self._python_module(sub), ""
        found = _find_spec_file(parts)
        return (self._python_module(found), name) if found else ("", name)

    def _python_module(self, path: str) -> str:
        """Indexes a module an open document imports, if not yet (the environment's, lazily);
        "" for one that may not be read (excluded, or ignored inside the workspace)."""
        excluder = self._excluder
        if excluder is not None and (
            excluder.excluded(path) or (excluder.relative(path) and not self._readable(path))
        ):
            return ""
        if path not in self._files:
            ((_, facts),) = self._worker.call("extract_paths", [path])
            if facts is not None:
                self._set(path, worker.interned(facts))
        if path.endswith("/__init__.py") and path not in self._submodules:
            folder = os.path.dirname(path)
            try:
                entries = os.listdir(folder)
            except OSError:
                entries = []
            subs = {e[:-3] for e in entries if e.endswith(".py")}
            subs |= {e for e in entries if os.path.isfile(f"{folder}/{e}/__init__.py")}
            self._submodules[path] = frozenset(subs)
        return path

    def _js_target(self, importer: str, spec: str) -> str:
        if not spec.startswith("."):
            return ""
        stem = os.path.normpath(os.path.join(os.path.dirname(importer), spec))
        stems = [stem]
        if stem.endswith((".js", ".jsx", ".mjs")):
            stems.append(stem.rsplit(".", 1)[0])
        for candidate in stems:
            for suffix in ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", "/index.ts", "/index.js"):
                if candidate + suffix in self._files and family_of(candidate + suffix):
                    return candidate + suffix
        return ""

    def _go_target(self, import_path: str) -> str:
        for module, root in self._go_modules.items():
            if import_path == module or import_path.startswith(module + "/"):
                folder = root + import_path[len(module) :]
                return folder + "/" if folder in self._folders else ""
        return ""

    def _read_go_modules(self, roots: tuple[str, ...]) -> dict[str, str]:
        modules = {}
        for root in roots:
            text = read_source(f"{root}/go.mod", limit=4096)
            for line in (text or "").splitlines():
                if line.startswith(_GO_MODULE_LINE):
                    modules[line[len(_GO_MODULE_LINE) :].strip()] = root
        return modules


def _python_file(stem: str) -> str:
    for candidate in (stem + ".py", stem + "/__init__.py", stem + ".pyi"):
        if os.path.isfile(candidate):
            return candidate
    return ""


def _find_spec_file(parts: list[str]) -> str:
    """The source file of an installed module, found without importing it (or its parents: the
    top-level package's spec, then its folders)."""
    if not parts:
        return ""
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError, AttributeError):
        return ""
    if spec is None:
        return ""
    if len(parts) == 1:
        origin = spec.origin or ""
        return origin if origin.endswith(".py") else ""
    locations = list(spec.submodule_search_locations or [])
    for index, part in enumerate(parts[1:], start=1):
        last = index == len(parts) - 1
        for location in locations:
            stem = f"{location}/{part}"
            if last:
                found = _python_file(stem)
                if found:
                    return found
            elif os.path.isdir(stem):
                locations = [stem]
                break
        else:
            return ""
    return ""

"""Which names a candidate invents: a member used on a receiver the cursor's scope resolves (a
typed parameter or variable, `self`/`this`, a module alias, a constructor call assigned in
scope) that the receiver's class or module lacks, and a bare call of a name that exists nowhere
(the file, the index, the builtins). Only what the model wrote counts: names the person typed
before the cursor are theirs. Dictionary lookups on facts the index already holds; no parse."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from ..backends.guide import MemberMonitor, SortedNames
from ..documents import Document, uri_to_path
from .builtins import CALLABLE, KEYWORDS, KNOWN_BASES
from .facts import FileFacts, ScopeFacts
from .index import SymbolIndex

_ACCESS = re.compile(r"(?<![\w$.])[A-Za-z_$][\w$]*(?:\s*(?:\?\.|\.|->)\s*[A-Za-z_$][\w$]*)+")
_PART = re.compile(r"[A-Za-z_$][\w$]*")
# A member access the cursor is in: `store.` or `self.store.po`, at the end of the line's prefix.
_AT_CURSOR = re.compile(
    r"(?<![\w$.])([A-Za-z_$][\w$]*(?:\s*(?:\?\.|\.|->)\s*[A-Za-z_$][\w$]*)*)"
    r"\s*(?:\?\.|\.|->)\s*([A-Za-z_$][\w$]*)?$"
)
# The receiver a text ends with (`self`, `self.client`), a `.` perhaps coming next.
_CHAIN_AT_END = re.compile(
    r"(?<![\w$.])([A-Za-z_$][\w$]*(?:\s*(?:\?\.|\.|->)\s*[A-Za-z_$][\w$]*)*)$"
)
_CALL = re.compile(r"(?<![\w$.>:])([A-Za-z_$][\w$]*)\s*\(")
_DEFINITION_BEFORE = re.compile(r"(?:\b(?:def|func|function|class|fn)|\bfunc\s*\([^()\n]*\))\s*$")
_DEFINES = re.compile(
    r"\b(?:def|func|function|class|let|const|var|struct|type|interface|for)\s+"
    r"(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)"
    r"|([A-Za-z_$][\w$]*)\s*(?::=|=(?!=)|\bin\b|,)"
    r"|\blambda\s+([\w\s,]*):"
)
_STRINGS = {
    "python": re.compile(
        r'(\b[rRbBuU]?[fF][rR]?)?(?:"(?:\\.|[^"\\\n])*"?|\'(?:\\.|[^\'\\\n])*\'?)|#[^\n]*'
    ),
    "other": re.compile(r'"(?:\\.|[^"\\\n])*"?|\'(?:\\.|[^\'\\\n])*\'?|(`)[^`]*`?|//[^\n]*'),
}
_WORD = re.compile(r"[A-Za-z_$][\w$]*")
# Where an expression starts at the end of the line so far: after an operator or a keyword
# that takes a value. Not after `(`, `,`, `[` or `{` (a keyword argument, a key, a name a
# comprehension binds may come next) nor in a line that binds names before a value (`def`,
# `lambda`, `for`, `*args`).
_EXPRESSION_START = re.compile(
    r"(?:[=+\-*/%&|^~@?!]|(?<![\w$])(?:return|raise|yield|await|not|and|or|in|is|if|elif|else"
    r"|with|assert|del|while|except|new|throw|typeof|instanceof|go|defer))\s*$"
)
_BINDS_NAMES = re.compile(
    r"^\s*(?:async\s+)?(?:def|function|func|class|for|case)\b|\blambda\b|[(,]\s*\*+$"
)
# Words that may start an expression besides the names the workspace defines.
VALUE_WORDS = frozenset("None True False null undefined nil true false NaN Infinity async".split())
# How much of the document around the cursor a bare call's name is looked for in (the index's
# copy of the file is a debounce behind the person's typing).
WINDOW_BEFORE = 4000
WINDOW_AFTER = 2000
# How far past a scope's parsed end the cursor may be and still be in it (see `_continues`).
CONTINUED_LINES = 8

# Types that say nothing of the members: a receiver declared so is left free.
UNTYPED = frozenset(
    {"Any", "object", "Self", "any", "unknown", "Object", "dynamic", "auto", "interface", "T"}
)
# Tests that narrow a receiver's type on some path (the check cannot follow which).
_NARROWING = ("isinstance({}", "{} instanceof", "typeof {}", "hasattr({}", "{} as ")

# ("instance" | "static", class), ("hierarchy", class) for `self` in a class with subclasses,
# or ("module", target).
Resolved = tuple[str, str]


def _blanked(text: str, family: str) -> str:
    """Strings and comments as spaces (same length): a name there is no use of one. The code
    inside an f-string's or a template literal's braces is kept."""
    pattern = _STRINGS["python" if family == "python" else "other"]
    return pattern.sub(lambda m: _blank_text(m.group(), interpolated=m.group(1) is not None), text)


def _blank_text(literal: str, interpolated: bool) -> str:
    if not interpolated:
        return re.sub(r"[^\n]", " ", literal)
    out = []
    depth = 0
    for char in re.split(r"(\{\{|\}\}|[{}])", literal):
        if char in ("{{", "}}") and not depth:  # an escaped brace: text
            out.append("  ")
        elif char == "{":
            depth += 1
            out.append(" ")
        elif char == "}" and depth:
            depth -= 1
            out.append(" ")
        else:
            out.append(char if depth else re.sub(r"[^\n]", " ", char))
    return "".join(out)


class NameCheck:
    """The check for one request's candidates (built once per request)."""

    def __init__(
        self,
        index: SymbolIndex,
        facts: FileFacts,
        document: Document,
        offset: int,
        retries: int,
    ) -> None:
        self.index = index
        self.facts = facts
        self.family = facts.family
        self.retries = retries
        self._document = document
        self._offset = offset
        line = bisect.bisect_right(document.line_starts, offset) - 1
        self._prefix = document.text[document.line_starts[line] : offset]
        around = [s for s in facts.scopes if s.start <= line <= s.end or self._continues(s, line)]
        around.sort(key=lambda s: -s.start)
        self._scopes: list[tuple[ScopeFacts, dict[str, str]]] = [
            (s, dict(s.bindings)) for s in around
        ]
        self._module = dict(facts.scopes[0].bindings) if facts.scopes else {}
        self._members: dict[tuple[str, ...], frozenset[str] | None] = {}
        self._window: frozenset[str] | None = None
        # Members sorted for prefix questions (a frozenset keeps its hash: a lookup is cheap).
        self._sorted_members: dict[frozenset[str], SortedNames] = {}

    def _continues(self, scope: ScopeFacts, line: int) -> bool:
        """The cursor's line is past the end the parse gave `scope` (a body still being
        written parses short), but indented into it, with no line in between that leaves it."""
        if scope.end >= line or line - scope.end > CONTINUED_LINES or scope.start == 0:
            return False
        starts = self._document.line_starts
        text = self._document.text
        for number in range(scope.end + 1, line + 1):
            start = starts[number]
            end = starts[number + 1] - 1 if number + 1 < len(starts) else len(text)
            row = text[start:end] if number < line else self._prefix
            code = row.lstrip()
            if (code or number == line) and len(row) - len(code) <= scope.indent:
                return False
        return True

    def invented(self, text: str) -> int:
        return len(self.inventions(text))

    def guide(self) -> tuple[frozenset[str], str] | None:
        """At a member access on a resolved receiver: its members' names, and the part of one
        typed before the cursor (for guided decoding: backends/guide.py); else None."""
        at = _AT_CURSOR.search(_blanked(self._prefix, self.family))
        if at is None:
            return None
        members = self._receiver_members(tuple(_PART.findall(at.group(1))))
        if not members:
            return None
        return members | self.index.extension_names(), at.group(2) or ""

    def expression_names(self) -> SortedNames | None:
        """Where an expression starts at the cursor on an invoked request (the typing path
        keeps its speed): every name the check would not call invented, for guided decoding.
        None elsewhere, and where a bare call is not checked (its language, a star import)."""
        callable_names = CALLABLE.get(self.family)
        if not self.retries or callable_names is None or self.facts.star:
            return None
        line = _blanked(self._prefix, self.family)
        if not line.strip() or _BINDS_NAMES.search(line) or not _EXPRESSION_START.search(line):
            return None
        here = self.facts.words | callable_names | KEYWORDS | VALUE_WORDS | self._window_words()
        return SortedNames(self.index.sorted_names(self.family), here)

    def inventions(self, text: str) -> list[str]:
        """The names in `text` (inserted at the cursor) that exist nowhere they could."""
        combined = _blanked(self._prefix + text, self.family)
        cursor = len(self._prefix)
        found = [
            name
            for name, _, members in self._member_uses(combined, cursor)
            if self._lacks(members, name)
        ]
        callable_names = CALLABLE.get(self.family)
        if callable_names is not None and not self.facts.star:
            defined_here = self._defined_in(text)
            for match in _CALL.finditer(combined):
                name = match.group(1)
                if match.end(1) <= cursor or name in KEYWORDS:
                    continue
                if _DEFINITION_BEFORE.search(combined, max(0, match.start() - 80), match.start()):
                    continue
                if not self._known(name, defined_here, callable_names):
                    found.append(name)
        return found

    def _member_uses(self, combined: str, cursor: int) -> Iterator[tuple[str, int, frozenset[str]]]:
        """Each member name written after the cursor on a receiver that resolves: the name,
        where it starts, and the receiver's members. A chain stops at a receiver that does not
        resolve (an invented member's members are unknown too)."""
        for match in _ACCESS.finditer(combined):
            if match.end() <= cursor:
                continue
            parts = [(p.group(), match.start() + p.start()) for p in _PART.finditer(match.group())]
            for k in range(1, len(parts)):
                name, start = parts[k]
                if start + len(name) <= cursor:
                    continue  # the person typed it
                members = self._receiver_members(tuple(p[0] for p in parts[:k]))
                if members is None:
                    break
                yield name, start, members

    # --- guided decoding of the member accesses the model writes (backends/guide.py) --------

    def member_monitor(self) -> MemberMonitor | None:
        """On an invoked request, the monitor of every member access the model writes (the
        typing path keeps its speed: there only the one at the cursor is guided)."""
        if not self.retries:
            return None
        return MemberMonitor(self.invented_members, self.member_continuations, self._prefix)

    def invented_members(self, text: str) -> int:
        """How many member names in `text` (the model's so far, inserted at the cursor) a
        resolved receiver lacks. The last one, where `text` ends inside it, counts only where
        no member starts with it: it is still being written."""
        combined = _blanked(self._prefix + text, self.family)
        count = 0
        for name, start, members in self._member_uses(combined, len(self._prefix)):
            if start + len(name) == len(combined):
                count += not self._sorted(members).has_prefix(name)
            elif self._lacks(members, name):
                count += 1
        return count

    def _lacks(self, members: frozenset[str], name: str) -> bool:
        """Whether a receiver with `members` has no `name` (nor is it an extension method)."""
        return name not in members and not self.index.is_extension(name)

    def member_continuations(self, text: str, limit: int) -> list[str]:
        """What may come next where `text` (the model's so far) ends at a member access on a
        resolved receiver: the rests of the members that start with the part written (`ient`
        after `self.cl`), and, where the text ends with a receiver that resolves, `.` and one
        of its members (`self` or `self.client`). Nothing where there are more than `limit`:
        the model's top choices are looked through anyway."""
        combined = _blanked(self._prefix + text, self.family)
        found: list[str] = []
        at = _AT_CURSOR.search(combined)
        if at is not None:
            written = at.group(2) or ""
            members = self._receiver_members(tuple(_PART.findall(at.group(1))))
            names = self._sorted(members).starting_with(written, limit) if members else []
            found += [name[len(written) :] for name in names or () if name != written]
        receiver = _CHAIN_AT_END.search(combined)
        if receiver is not None:
            members = self._receiver_members(tuple(_PART.findall(receiver.group(1))))
            names = self._sorted(members).starting_with("", limit) if members else []
            found += ["." + name for name in names or ()]
        return found if len(found) <= limit else []

    def _sorted(self, members: frozenset[str]) -> SortedNames:
        """A receiver's members and the names callable on any (C#'s extension methods), for
        prefix questions."""
        if members not in self._sorted_members:
            self._sorted_members[members] = SortedNames(members, self.index.extension_names())
        return self._sorted_members[members]

    # --- receivers ---------------------------------------------------------------------------

    def _receiver_members(self, chain: tuple[str, ...]) -> frozenset[str] | None:
        if chain not in self._members:
            self._members[chain] = self._members_of(self._resolve_chain(chain))
        return self._members[chain]

    def _members_of(self, resolved: Resolved | None) -> frozenset[str] | None:
        if resolved is None:
            return None
        kind, value = resolved
        if kind == "module":
            return self.index.module_members(value)
        if kind == "hierarchy":
            return self.index.members_with_subclasses(self.family, value)
        return self.index.members(self.family, value, path=self._declaring_file(value))

    def _declaring_file(self, name: str) -> str:
        """The file whose class `name` this file means: its own where it declares one (in the
        languages where a class is declared in one file: Go's methods, C#'s partial classes
        and C++'s out-of-class definitions spread over several), else the file it imports
        it from; "" where neither says."""
        if name in self.facts.classes and self.family in ("python", "js"):
            path = uri_to_path(self._document.uri)
            return path.as_posix() if path is not None else self._document.uri
        for entry in self.facts.imports:
            if entry.alias == name and entry.name == name and entry.target:
                return entry.target
        return ""

    def _resolve_chain(self, chain: tuple[str, ...]) -> Resolved | None:
        resolved = self._resolve_name(chain[0])
        for part in chain[1:]:
            if resolved is None:
                return None
            kind, value = resolved
            if kind == "module":
                resolved = self._module_member(value, part)
            else:
                resolved = self._class(self.index.field_type(self.family, value, part))
        return resolved

    def _module_member(self, target: str, name: str) -> Resolved | None:
        members = self.index.module_members(target)
        if members is None or name not in members:
            return None
        module = self.index.module_file(target)
        if module is not None and name in module.classes:
            return ("static", name)
        if target.endswith("/__init__.py"):
            folder = target[: -len("__init__.py")]
            for candidate in (f"{folder}{name}.py", f"{folder}{name}/__init__.py"):
                if self.index.module_file(candidate) is not None:
                    return ("module", candidate)
        return None

    def _resolve_name(self, name: str) -> Resolved | None:
        if self._narrowed(name):
            return None
        for scope, bindings in self._scopes:
            if scope.this and scope.this == name:
                if not scope.owner:
                    return None
                # A base class's `self` may be a subclass's, with members the base lacks.
                if self.index.has_subclasses(self.family, scope.owner):
                    return ("hierarchy", scope.owner)
                return ("instance", scope.owner)
            if name == "super" and scope.this == "this" and scope.owner:
                return ("instance", scope.owner)  # its members: a base's are among the class's
            if name in bindings:
                return self._typed(bindings[name])
        if self.family in ("java", "csharp", "cpp"):  # a field of the method's own class
            owner = next((s.owner for s, _ in self._scopes if s.owner), "")
            if owner:
                field_type = self.index.field_type(self.family, owner, name)
                if field_type:
                    return self._class(field_type)
                members = self.index.members(self.family, owner)
                if members is None or name in members:
                    return None
        for entry in self.facts.imports:
            if entry.alias != name:
                continue
            if entry.target and not entry.name:
                return ("module", entry.target)
            if entry.target and entry.name and self.index.class_entries(self.family, entry.name):
                return ("static", entry.name)
            return None
        if name in self.facts.classes or self.index.class_entries(self.family, name):
            return ("static", name)
        return None

    def _narrowed(self, name: str) -> bool:
        """`isinstance(x, ...)`, `x instanceof`... near the cursor: the declared type is not
        the one the code relies on there."""
        text = self._document.text
        start = max(0, self._offset - WINDOW_BEFORE)
        tests = _NARROWING if self.family != "python" else _NARROWING[:-1]  # `import x as y`
        return any(text.find(test.format(name), start, self._offset) != -1 for test in tests)

    def _typed(self, kind: str) -> Resolved | None:
        """A binding's type: a class, or what the function it was assigned from returns (a
        function of this file or one the index knows by a bare name; `mod.f()` only where `f`
        is a class)."""
        if not kind:
            return None
        resolved = self._class(kind)
        if "." in kind:
            return resolved
        if resolved is None:
            returned = self._module.get(kind + "()", "")
            returned = returned or self.index.returns(self.family, kind)
            resolved = self._class(returned) if returned else None
        return resolved

    def _class(self, name: str) -> Resolved | None:
        if not name or name in UNTYPED:
            return None
        if "." in name:  # `models.Ledger`: the module must resolve and hold the class
            prefix, last = name.rsplit(".", 1)
            module = self._resolve_chain(tuple(prefix.split(".")))
            if module is None or module[0] != "module":
                return None
            classes = self.index.module_classes(module[1])
            return ("instance", last) if last in classes else None
        if self.index.class_entries(self.family, name) or name in KNOWN_BASES.get(self.family, {}):
            return ("instance", name)
        return None

    # --- bare calls --------------------------------------------------------------------------

    def _defined_in(self, text: str) -> set[str]:
        names: set[str] = set()
        for match in _DEFINES.finditer(text):
            for group in match.groups():
                if group:
                    names.update(_WORD.findall(group))
        return names

    def _known(self, name: str, defined_here: set[str], callable_names: frozenset[str]) -> bool:
        if name in defined_here or name in callable_names or name in self.facts.words:
            return True
        if self.index.defined(self.family, name):
            return True
        return name in self._window_words()

    def _window_words(self) -> frozenset[str]:
        """The words of the document around the cursor (the index's copy is a debounce behind)."""
        if self._window is None:
            text = self._document.text
            start = max(0, self._offset - WINDOW_BEFORE)
            self._window = frozenset(_WORD.findall(text, start, self._offset + WINDOW_AFTER))
        return self._window


def check_at(index: SymbolIndex, document: Document, offset: int, retries: int) -> NameCheck | None:
    """The check at the cursor, or None where it cannot say anything yet: the index still
    building, or the document not indexed."""
    if not index.ready:
        return None
    facts = index.document_facts(document)
    if facts is None:
        index.document_changed(document)
        return None
    if _in_prose(facts, document, offset):
        return None
    return NameCheck(index, facts, document, offset, retries)


# What closes a string or comment on its last line.
_CLOSERS = ('"', "'", "*/", "`")


def _in_prose(facts: FileFacts, document: Document, offset: int) -> bool:
    """Whether the cursor is inside a docstring or a block comment (on a line after the one it
    opens on, and before it closes): names there are words, not code to check. The line it
    opens on needs no help: `_blanked` blanks an unclosed string to the end of its line."""
    line = bisect.bisect_right(document.line_starts, offset) - 1
    at = bisect.bisect_left(facts.prose, (line, -1)) - 1
    if at < 0:
        return False
    _, end = facts.prose[at]
    if line < end:
        return True
    prefix = document.text[document.line_starts[line] : offset]
    return line == end and not any(closer in prefix for closer in _CLOSERS)

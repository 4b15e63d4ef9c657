"""What the symbol index keeps per file: compact tuples and frozensets of interned strings,
never tree-sitter trees (5,000 files must fit in well under 200 MB)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# A name bound in a scope and the type it was declared or constructed with ("" when unknown:
# the name is bound there, so an outer binding of it does not apply).
Binding = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ClassFacts:
    """A class, struct, record or interface: its members (methods, fields, properties, nested
    types), its bases as written (last name part), and the declared types of its fields."""

    members: frozenset[str]
    bases: tuple[str, ...] = ()
    fields: tuple[Binding, ...] = ()
    # Members the source cannot show: a Python `__getattr__`, a TS index signature.
    open: bool = False


@dataclass(frozen=True, slots=True)
class ScopeFacts:
    """A function (or the module, lines 0..end): the names bound in it. Kept for open documents
    only: the receiver at a cursor is looked up in its own file."""

    start: int  # first and last line
    end: int
    indent: int  # the column its definition starts at
    owner: str  # the class `self`/`this` stands for in a method, else ""
    this: str  # the name that stands for it: self, cls, this; "" outside a method
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class Import:
    alias: str  # the name the file uses
    module: str  # the module as written (`..pkg.mod`, `./x`, `example.com/m/pkg`)
    name: str  # the name imported from it, "" for the module itself
    target: str = ""  # the file (or Go package folder) it resolves to, "" when it does not


@dataclass(frozen=True, slots=True)
class FileFacts:
    family: str  # python, js, go, java, csharp, cpp
    # Module-level definitions (functions, classes, variables, constants, types).
    names: frozenset[str]
    classes: Mapping[str, ClassFacts] = field(default_factory=dict)
    imports: tuple[Import, ...] = ()
    # A star import whose names are not known (`from x import *`, Java's `import a.b.*`).
    star: bool = False
    # A Python module that defines `__getattr__`: any name may exist.
    open: bool = False
    # Open documents only: the scopes by line, and every identifier the file holds.
    scopes: tuple[ScopeFacts, ...] = ()
    words: frozenset[str] = frozenset()
    # C# extension methods: names callable on any receiver.
    extensions: frozenset[str] = frozenset()
    # Module-level functions whose declared result is a class: `p = NewParcel()` is a Parcel.
    returns: Mapping[str, str] = field(default_factory=dict)
    # Open documents only: the first and last line of each string or comment that spans lines
    # (a docstring, a block comment). A cursor inside one is writing prose, not code.
    prose: tuple[tuple[int, int], ...] = ()

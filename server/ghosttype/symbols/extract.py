"""Facts of one file from its tree-sitter tree: definitions, classes with their members and bases,
imports, and (for open documents) the names each function binds with their types.

One walker per language family, each a handful of node types; what a walker does not recognise
it leaves out, and a class whose bases or members it cannot see is marked open (nothing is
checked against it). Static facts only: annotations, declarations, constructor calls."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tree_sitter import Node

from ..context.syntax import SPECS, parser_for
from .facts import Binding, ClassFacts, FileFacts, Import, ScopeFacts

# File suffix -> (family, grammar).
GRAMMARS: dict[str, tuple[str, str]] = {
    ".py": ("python", "python"),
    ".pyi": ("python", "python"),
    ".js": ("js", "javascript"),
    ".jsx": ("js", "javascript"),
    ".mjs": ("js", "javascript"),
    ".cjs": ("js", "javascript"),
    ".ts": ("js", "typescript"),
    ".mts": ("js", "typescript"),
    ".cts": ("js", "typescript"),
    ".tsx": ("js", "tsx"),
    ".go": ("go", "go"),
    ".java": ("java", "java"),
    ".cs": ("csharp", "csharp"),
    ".c": ("cpp", "cpp"),
    ".h": ("cpp", "cpp"),
    ".cc": ("cpp", "cpp"),
    ".cpp": ("cpp", "cpp"),
    ".cxx": ("cpp", "cpp"),
    ".hpp": ("cpp", "cpp"),
    ".hh": ("cpp", "cpp"),
}
# LSP language id -> (family, grammar), for open documents.
LANGUAGES: dict[str, tuple[str, str]] = {
    "python": ("python", "python"),
    "javascript": ("js", "javascript"),
    "javascriptreact": ("js", "javascript"),
    "typescript": ("js", "typescript"),
    "typescriptreact": ("js", "tsx"),
    "go": ("go", "go"),
    "java": ("java", "java"),
    "csharp": ("csharp", "csharp"),
    "c": ("cpp", "cpp"),
    "cpp": ("cpp", "cpp"),
}
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+")
# Modules that make names at run time: any name may exist in them.
_DYNAMIC_MODULE = ("sys.modules[__name__]", "global_enum")
_GLOBALS = re.compile(r"globals\(\)")
# `globals()` only read (`globals()[name]`, `.get(`, `.values()`, `in globals()`) adds no name.
_GLOBALS_READ = re.compile(
    r"\s*\[[^\]\n]*\](?!\s*(?:=[^=]|[-+*/|&]=))|\.(?:get|values|items|keys|copy)\("
)
_QUALIFIERS = re.compile(
    r"\b(?:const|volatile|struct|class|enum|union|typename|mutable|static|unsigned|signed|"
    r"readonly|ref|out|in|final|extern|inline|register)\b"
)
_WRAPPERS = re.compile(
    r"(?:typing\.|t\.)?(?:Optional|Final|ClassVar|Annotated|Required|NotRequired|ReadOnly|Type|"
    r"type)\[(.*)\]"
)
# Containers whose `->` reaches the type inside (C++ smart pointers); their own members are
# reached with `.`, which the index does not know: both are left unknown.
_SMART = frozenset({"unique_ptr", "shared_ptr", "weak_ptr", "auto_ptr", "optional"})
NONE_WORDS = frozenset({"None", "undefined", "null", "nil", "void"})


def family_of(path: str) -> tuple[str, str] | None:
    return GRAMMARS.get(PurePosixPath(path).suffix.lower())


def _split_top(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside brackets."""
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char in "[(<{":
            depth += 1
        elif char in "])>}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def type_name(text: str) -> str:
    """The class name a declared type names, or "" when it names no single class (a list, a
    union, a function type): `Optional[Ledger]`, `Ledger | None`, `const Ledger&`, `*Ledger`,
    `models.Ledger`, `List<Ledger>` (List) -> the last name."""
    text = text.strip().strip("'\"").strip()
    if text.startswith(":"):  # a TypeScript annotation's colon
        text = text[1:].strip()
    parts = [p for p in _split_top(text, "|") if p not in NONE_WORDS]
    if len(parts) != 1:
        return ""
    text = parts[0]
    wrapped = _WRAPPERS.fullmatch(text)
    if wrapped:
        return type_name(_split_top(wrapped.group(1), ",")[0])
    union = re.fullmatch(r"(?:typing\.)?Union\[(.*)\]", text)
    if union:
        kept = [p for p in _split_top(union.group(1), ",") if p not in NONE_WORDS]
        return type_name(kept[0]) if len(kept) == 1 else ""
    text = _QUALIFIERS.sub(" ", text).strip().rstrip("&*?").strip().lstrip("*&").strip()
    if not text or (text.endswith("]") and "[" not in text[:1] and text.endswith("[]")):
        return ""
    if text.startswith(("[", "map[", "chan ", "func", "(", "{")) or text.endswith("[]"):
        return ""
    for opener in "<[":
        at = text.find(opener)
        if at != -1:
            base = text[:at].strip()
            if base.rsplit("::", 1)[-1].rsplit(".", 1)[-1] in _SMART:
                return ""
            text = base
    text = text.split("::")[-1].strip()  # C++ namespaces: the class's own name
    if _DOTTED.fullmatch(text):
        return sys.intern(text)  # `models.Ledger`: resolved through the module (check.py)
    return sys.intern(text) if _IDENT.fullmatch(text) else ""


def base_name(text: str) -> str:
    """A base class by its last name (`models.Base` -> Base: classes are found by name), "?"
    for one that names no class."""
    return type_name(text).rsplit(".", 1)[-1] or "?"


@dataclass
class _Class:
    members: set[str] = field(default_factory=set)
    bases: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    open: bool = False

    def field(self, name: str, type_text: str) -> None:
        self.members.add(sys.intern(name))
        kind = type_name(type_text) if type_text else ""
        if kind and name not in self.fields:
            self.fields[name] = kind

    def frozen(self) -> ClassFacts:
        return ClassFacts(
            frozenset(self.members),
            tuple(dict.fromkeys(b for b in self.bases if b)),
            tuple(self.fields.items()),
            self.open,
        )


@dataclass
class _Scope:
    start: int
    end: int
    indent: int = 0
    owner: str = ""
    this: str = ""
    bindings: dict[str, str] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)

    def bind(self, name: str, type_text: str = "", declared: bool = False) -> None:
        """A name bound here; a declared type wins over assignments, and two different
        constructed types leave it unknown."""
        if not name or name in self.declared:
            return
        kind = type_name(type_text) if type_text else ""
        if declared:
            self.declared.add(name)
            self.bindings[name] = kind
        elif name in self.bindings and self.bindings[name] != kind:
            self.bindings[name] = ""
        else:
            self.bindings[name] = kind

    def frozen(self) -> ScopeFacts:
        bound: tuple[Binding, ...] = tuple(
            (sys.intern(k), sys.intern(v)) for k, v in self.bindings.items()
        )
        return ScopeFacts(self.start, self.end, self.indent, self.owner, self.this, bound)


@dataclass
class _Facts:
    family: str
    scoped: bool  # an open document: keep scopes and words
    names: set[str] = field(default_factory=set)
    classes: dict[str, _Class] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)
    star: bool = False
    open: bool = False
    scopes: list[_Scope] = field(default_factory=list)
    extensions: set[str] = field(default_factory=set)
    module: _Scope = field(default_factory=lambda: _Scope(0, 1 << 30))

    def klass(self, name: str) -> _Class:
        name = sys.intern(name)
        return self.classes.setdefault(name, _Class())

    def scope(self, node: Node, owner: str = "", this: str = "") -> _Scope:
        start = node.start_point
        scope = _Scope(start.row, node.end_point.row, start.column, owner, this)
        if self.scoped:
            self.scopes.append(scope)
        return scope

    def frozen(self, text: str, prose: tuple[tuple[int, int], ...] = ()) -> FileFacts:
        scopes: tuple[ScopeFacts, ...] = ()
        words: frozenset[str] = frozenset()
        if self.scoped:
            scopes = (self.module.frozen(), *(s.frozen() for s in self.scopes))
            words = frozenset(_IDENT.findall(text))
        return FileFacts(
            self.family,
            frozenset(sys.intern(n) for n in self.names if n),
            {name: c.frozen() for name, c in self.classes.items()},
            tuple(self.imports),
            self.star,
            self.open,
            scopes,
            words,
            frozenset(self.extensions),
            {
                name[:-2]: kind
                for name, kind in self.module.bindings.items()
                if name.endswith("()") and kind
            },
            prose,
        )


def _text(node: Node | None) -> str:
    if node is None:
        return ""
    raw = node.text
    return raw.decode(errors="replace") if raw is not None else ""


def _field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def _named(node: Node | None, *types: str) -> Iterator[Node]:
    if node is not None:
        for child in node.named_children:
            if not types or child.type in types:
                yield child


def _identifiers(node: Node | None) -> Iterator[str]:
    """Identifiers bound by a target or pattern (`a, b`, `[a, {b}]`, `*rest`)."""
    if node is None:
        return
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        yield _text(node)
        return
    if node.type in ("attribute", "subscript", "member_expression", "subscript_expression"):
        return
    for child in node.named_children:
        yield from _identifiers(child)


def extract(text: str, family: str, grammar: str, scoped: bool) -> FileFacts | None:
    """The facts of `text`; None when its grammar does not load."""
    parser = parser_for(SPECS[grammar])
    if parser is None:
        return None
    tree = parser.parse(text.encode("utf-8", "surrogatepass"))
    facts = _Facts(family, scoped)
    WALKERS[family](tree.root_node, facts)
    if family == "python" and _makes_names(text):
        facts.open = True
    return facts.frozen(text, _prose_rows(tree.root_node, family) if scoped else ())


# Strings and comments that can span lines. A Python `string` is a docstring's node too; the
# other languages' plain strings cannot span lines, and a template literal holds code.
_PROSE = {"comment", "block_comment", "raw_string_literal", "text_block"}
_PROSE_PYTHON = _PROSE | {"string"}


def _prose_rows(root: Node, family: str) -> tuple[tuple[int, int], ...]:
    """The lines of every string or comment spanning more than one line, in order. Only nodes
    that span lines are descended into, so a file costs about its count of blocks."""
    kinds = _PROSE_PYTHON if family == "python" else _PROSE
    rows: list[tuple[int, int]] = []
    pending = [root]
    while pending:
        node = pending.pop()
        start, end = node.start_point.row, node.end_point.row
        if start == end:
            continue
        if node.type in kinds:
            rows.append((start, end))
        else:
            pending.extend(reversed(node.children))
    return tuple(rows)


# --- Python -----------------------------------------------------------------------------------


def _makes_names(text: str) -> bool:
    """Whether a module may define names at run time: it writes to `globals()` (or hands it to
    code that may), or replaces itself in `sys.modules`."""
    if any(marker in text for marker in _DYNAMIC_MODULE):
        return True
    for use in _GLOBALS.finditer(text):
        read = _GLOBALS_READ.match(text, use.end())
        if read is None and not text[max(0, use.start() - 4) : use.start()].endswith("in "):
            return True
    return False


_PY_NESTED = ("function_definition", "class_definition", "lambda")
_PY_COMPREHENSIONS = (
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "generator_expression",
)


def _py_module(root: Node, facts: _Facts) -> None:
    _py_statements(root, facts)


def _py_statements(node: Node, facts: _Facts) -> None:
    for child in node.named_children:
        kind = child.type
        if kind == "decorated_definition":
            inner = _field(child, "definition")
            if inner is not None:
                _py_definition(inner, facts, child)
        elif kind in ("function_definition", "class_definition"):
            _py_definition(child, facts, child)
        elif kind in ("expression_statement", "assignment"):
            for target in _assignments(child):
                _py_assignment(target, facts.module, facts.names)
        elif kind in ("import_statement", "import_from_statement", "future_import_statement"):
            _py_import(child, facts)
        elif kind in (
            "if_statement",
            "try_statement",
            "with_statement",
            "for_statement",
            "while_statement",
            "block",
            "else_clause",
            "elif_clause",
            "except_clause",
            "finally_clause",
            # A file being edited: a statement cut short (`def f(x: mod.`) can make the whole
            # module one ERROR node, its statements intact inside it.
            "ERROR",
        ):
            if kind == "for_statement":
                for name in _identifiers(_field(child, "left")):
                    facts.names.add(name)
                    facts.module.bind(name)
            _py_statements(child, facts)


def _assignments(node: Node) -> Iterator[Node]:
    """The assignments of a statement (this grammar puts them under the module directly)."""
    if node.type == "assignment":
        yield node
    else:
        yield from _named(node, "assignment")


def _py_definition(node: Node, facts: _Facts, outer: Node) -> None:
    name = _text(_field(node, "name"))
    facts.names.add(name)
    if node.type == "class_definition":
        _py_class(node, facts)
    else:
        facts.module.bind(name)
        if name == "__getattr__":
            facts.open = True
        returned = _field(node, "return_type")
        if returned is not None:  # types the names assigned from a call of it
            facts.module.bind(name + "()", _text(returned), declared=True)
        _py_function(node, facts, "", outer)


def _py_assignment(node: Node, scope: _Scope, names: set[str] | None) -> None:
    """`x = Parcel()`, `x: Ledger = ...`, `a, b = ...` (a chain `a = b = c` too)."""
    left, right, annotation = _field(node, "left"), _field(node, "right"), _field(node, "type")
    if left is None:
        return
    if left.type == "identifier":
        name = _text(left)
        if names is not None:
            names.add(name)
        if annotation is not None:
            scope.bind(name, _text(annotation), declared=True)
        else:
            scope.bind(name, _py_constructed(right))
    else:
        for name in _identifiers(left):
            if names is not None:
                names.add(name)
            scope.bind(name)
    if right is not None and right.type == "assignment":
        _py_assignment(right, scope, names)


def _py_constructed(value: Node | None) -> str:
    """The callee of `Name(...)` / `mod.Name(...)`: a constructor where it names a class."""
    if value is not None and value.type == "call":
        function = _field(value, "function")
        if function is not None and function.type in ("identifier", "attribute"):
            return _text(function)
    return ""


def _py_parameters(node: Node, scope: _Scope) -> list[str]:
    names = []
    for parameter in _named(_field(node, "parameters")):
        kind = parameter.type
        annotation = _field(parameter, "type")
        if kind == "identifier":
            name = _text(parameter)
        elif kind == "typed_parameter":
            inner = next(_named(parameter, "identifier"), None)
            name = _text(inner)
        elif kind in ("default_parameter", "typed_default_parameter"):
            name = _text(_field(parameter, "name"))
        else:
            name = next(_identifiers(parameter), "")
        if name:
            names.append(name)
            scope.bind(name, _text(annotation), declared=annotation is not None)
    return names


def _py_function(node: Node, facts: _Facts, owner: str, outer: Node) -> None:
    static = any(_text(d).strip() == "@staticmethod" for d in _named(outer, "decorator"))
    scope = facts.scope(node, owner)
    parameters = _py_parameters(node, scope)
    if owner and parameters and not static:
        scope.this = parameters[0]
        scope.bindings.pop(parameters[0], None)
    if facts.scoped:
        _py_body(_field(node, "body"), facts, scope)


def _py_body(node: Node | None, facts: _Facts, scope: _Scope) -> None:
    """Names a function body binds, without descending into nested functions (own scopes)."""
    if node is None:
        return
    for child in node.named_children:
        kind = child.type
        if kind == "assignment":
            _py_assignment(child, scope, None)
        elif kind in ("function_definition", "class_definition"):
            scope.bind(_text(_field(child, "name")))
            if kind == "function_definition":
                _py_function(child, facts, "", child)
            continue
        elif kind == "decorated_definition":
            inner = _field(child, "definition")
            if inner is not None:
                scope.bind(_text(_field(inner, "name")))
                if inner.type == "function_definition":
                    _py_function(inner, facts, "", child)
            continue
        elif kind in ("for_statement", "for_in_clause"):
            for name in _identifiers(_field(child, "left")):
                scope.bind(name)
        elif kind == "as_pattern":
            for name in _identifiers(_field(child, "alias")):
                scope.bind(name)
        elif kind == "named_expression":
            scope.bind(_text(_field(child, "name")))
        elif kind in ("global_statement", "nonlocal_statement"):
            for identifier in _named(child, "identifier"):
                scope.bind(_text(identifier))
        elif kind in ("import_statement", "import_from_statement"):
            sub = _Facts("python", False)
            _py_import(child, sub)
            for entry in sub.imports:
                scope.bind(entry.alias)
        elif kind == "except_clause":
            for identifier in _named(child, "identifier"):
                scope.bind(_text(identifier))
        if kind in _PY_COMPREHENSIONS or kind == "lambda":
            continue
        _py_body(child, facts, scope)


def _py_class(node: Node, facts: _Facts) -> None:
    name = _text(_field(node, "name"))
    klass = facts.klass(name)
    for base in _named(_field(node, "superclasses")):
        if base.type == "keyword_argument":
            continue
        if base.type in ("list_splat", "dictionary_splat"):
            klass.open = True
            continue
        if base.type == "subscript":
            base = _field(base, "value") or base
        klass.bases.append(base_name(_unaliased(_text(base), facts)))
    _py_class_body(_field(node, "body"), facts, klass, name)


def _unaliased(name: str, facts: _Facts) -> str:
    """A base imported under another name (`from .sansio import Request as _Base`) by the name
    its class is indexed by."""
    entry = next((e for e in facts.imports if e.alias == name and e.name), None)
    return entry.name if entry is not None else name


def _py_class_body(body: Node | None, facts: _Facts, klass: _Class, name: str) -> None:
    for child in _named(body):
        kind = child.type
        definition = _field(child, "definition") if kind == "decorated_definition" else child
        if definition is None:
            continue
        if definition.type == "function_definition":
            method = _text(_field(definition, "name"))
            klass.members.add(sys.intern(method))
            if method in ("__getattr__", "__getattribute__"):
                klass.open = True
            _py_function(definition, facts, name, child)
            _py_self_attributes(definition, klass)
        elif definition.type == "class_definition":
            klass.members.add(sys.intern(_text(_field(definition, "name"))))
            _py_class(definition, facts)
        elif kind in ("expression_statement", "assignment"):
            for assignment in _assignments(child):
                left = _field(assignment, "left")
                for member in _identifiers(left):
                    annotation = _field(assignment, "type")
                    typed = _text(annotation) or _py_constructed(_field(assignment, "right"))
                    klass.field(member, typed)
        elif kind in ("import_statement", "import_from_statement"):
            # `from email.iterators import walk` in a class body: a method named walk.
            imported = _Facts(facts.family, scoped=False)
            _py_import(child, imported)
            klass.members.update(sys.intern(entry.alias) for entry in imported.imports)
        elif kind in ("if_statement", "try_statement", "block", "else_clause", "elif_clause"):
            _py_class_body(child, facts, klass, name)


def _py_self_attributes(method: Node, klass: _Class) -> None:
    """`self.x = ...` in a method: x is a member (typed by an annotation, a constructor call, or
    the annotated parameter it is assigned from)."""
    parameters = _named(_field(method, "parameters"))
    first = next(parameters, None)
    if first is None:
        return
    this = _text(first) if first.type == "identifier" else next(_identifiers(first), "")
    if _text(_field(method, "name")) == "__new__":
        this = "self"  # `self = super().__new__(cls)`, then `self.x = ...`
    typed: dict[str, str] = {}
    for parameter in _named(_field(method, "parameters")):
        annotation = _field(parameter, "type")
        name = _text(_field(parameter, "name")) or next(_identifiers(parameter), "")
        if annotation is not None and name:
            typed[name] = _text(annotation)
    stack = [_field(method, "body")]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        for child in node.named_children:
            if child.type == "assignment":
                left = _field(child, "left")
                if left is not None and left.type == "attribute":
                    target = _field(left, "object")
                    if target is not None and _text(target) == this:
                        right = _field(child, "right")
                        declared = _text(_field(child, "type"))
                        if not declared and right is not None and right.type == "identifier":
                            declared = typed.get(_text(right), "")
                        klass.field(
                            _text(_field(left, "attribute")),
                            declared or _py_constructed(right),
                        )
            if child.type not in _PY_NESTED:
                stack.append(child)


def _py_import(node: Node, facts: _Facts) -> None:
    if node.type == "import_statement":
        for item in node.named_children:
            if item.type == "aliased_import":
                module = _text(_field(item, "name"))
                facts.imports.append(Import(_text(_field(item, "alias")), module, ""))
            elif item.type == "dotted_name":
                module = _text(item)
                facts.imports.append(Import(module.split(".")[0], module.split(".")[0], ""))
        return
    module = _text(_field(node, "module_name"))
    for item in node.named_children:
        if item.type == "wildcard_import":
            facts.star = True
        elif item.type == "aliased_import":
            name = _text(_field(item, "name"))
            facts.imports.append(Import(_text(_field(item, "alias")), module, name))
        elif item.type == "dotted_name" and item != _field(node, "module_name"):
            name = _text(item)
            facts.imports.append(Import(name, module, name))
    for entry in facts.imports:
        facts.names.add(entry.alias)


# --- JavaScript and TypeScript ------------------------------------------------------------------

_JS_FUNCTIONS = (
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    "function",
    "generator_function",
    "arrow_function",
    "method_definition",
)
_JS_CLASSES = ("class_declaration", "abstract_class_declaration", "class")
_JS_OBJECT = (
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
)


def _js_module(root: Node, facts: _Facts) -> None:
    for child in root.named_children:
        _js_top(child, facts)
    _js_scopes(root, facts, facts.module, "", "")


def _js_top(node: Node, facts: _Facts) -> None:
    kind = node.type
    if kind in ("export_statement", "ambient_declaration"):
        for child in node.named_children:
            _js_top(child, facts)
    elif kind in ("function_declaration", "generator_function_declaration"):
        facts.names.add(_text(_field(node, "name")))
    elif kind in _JS_CLASSES:
        _js_class(node, facts, _text(_field(node, "name")))
    elif kind == "interface_declaration":
        _js_interface(node, facts)
    elif kind in ("type_alias_declaration", "module", "internal_module"):
        facts.names.add(_text(_field(node, "name")))
    elif kind == "enum_declaration":
        name = _text(_field(node, "name"))
        facts.names.add(name)
        klass = facts.klass(name)
        for member in _named(_field(node, "body")):
            target = _field(member, "name") if member.type == "enum_assignment" else member
            klass.members.add(sys.intern(_text(target).strip("'\"")))
    elif kind in ("lexical_declaration", "variable_declaration"):
        for declarator in _named(node, "variable_declarator"):
            name_node = _field(declarator, "name")
            for name in _identifiers(name_node):
                facts.names.add(name)
            value = _field(declarator, "value")
            if value is not None and value.type in _JS_CLASSES and name_node is not None:
                _js_class(value, facts, _text(name_node))
    elif kind == "import_statement":
        _js_import(node, facts)


def _js_import(node: Node, facts: _Facts) -> None:
    source = _text(_field(node, "source")).strip("'\"`")
    for clause in _named(node, "import_clause"):
        for item in clause.named_children:
            if item.type == "identifier":  # a default import: what it is is not known here
                facts.imports.append(Import(_text(item), source, "default"))
            elif item.type == "namespace_import":
                alias_node = next(_named(item, "identifier"), None)
                facts.imports.append(Import(_text(alias_node), source, ""))
            elif item.type == "named_imports":
                for specifier in _named(item, "import_specifier"):
                    name = _text(_field(specifier, "name"))
                    alias = _text(_field(specifier, "alias")) or name
                    facts.imports.append(Import(alias, source, name))
    for entry in facts.imports:
        facts.names.add(entry.alias)


def _js_class(node: Node, facts: _Facts, name: str) -> None:
    if not name:
        return
    facts.names.add(name)
    klass = facts.klass(name)
    klass.members.update(_JS_OBJECT)
    for heritage in _named(node, "class_heritage"):
        for clause in _named(heritage, "extends_clause"):
            for value in _named(clause):
                if value.type in ("identifier", "member_expression", "type_identifier"):
                    klass.bases.append(base_name(_text(value)))
                elif value.type != "type_arguments":
                    klass.open = True
    for member in _named(_field(node, "body")):
        kind = member.type
        if kind == "index_signature":
            klass.open = True
            continue
        member_name = _field(member, "name") or _field(member, "property")
        if member_name is None:
            continue
        if member_name.type == "computed_property_name":
            # `['name']()` is a member `name`; `[Symbol.iterator]()` is none a `.` can reach.
            key = next(_named(member_name), None)
            if key is not None and key.type == "string":
                klass.members.add(sys.intern(_text(key).strip("'\"`")))
            elif key is None or key.type not in ("member_expression", "identifier"):
                klass.open = True
            continue
        text = _text(member_name)
        if kind == "method_definition" and text == "constructor":
            for parameter in _named(_field(member, "parameters")):
                if any(
                    c.type in ("accessibility_modifier", "readonly") for c in parameter.children
                ):
                    pattern = _field(parameter, "pattern")
                    klass.field(_text(pattern), _text(_field(parameter, "type")))
        else:
            klass.field(text, _text(_field(member, "type")))
        if kind == "method_definition":
            _js_this_members(_field(member, "body"), klass)


def _js_this_members(body: Node | None, klass: _Class) -> None:
    stack = [body]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        for child in node.named_children:
            if child.type == "assignment_expression":
                left = _field(child, "left")
                if left is not None and left.type == "member_expression":
                    target = _field(left, "object")
                    if target is not None and target.type == "this":
                        klass.field(
                            _text(_field(left, "property")),
                            _js_constructed(_field(child, "right")),
                        )
            if child.type not in ("function_declaration", "function_expression", "class"):
                stack.append(child)


def _js_constructed(value: Node | None) -> str:
    if value is not None and value.type == "new_expression":
        return _text(_field(value, "constructor"))
    return ""


def _js_interface(node: Node, facts: _Facts) -> None:
    name = _text(_field(node, "name"))
    facts.names.add(name)
    klass = facts.klass(name)
    klass.members.update(_JS_OBJECT)
    for clause in _named(node, "extends_type_clause"):
        for base in clause.named_children:
            klass.bases.append(base_name(_text(base)))
    for member in _named(_field(node, "body")):
        if member.type in ("index_signature", "call_signature", "construct_signature"):
            klass.open = klass.open or member.type == "index_signature"
            continue
        member_name = _field(member, "name")
        if member_name is not None:
            klass.field(_text(member_name), _text(_field(member, "type")))


def _js_scopes(node: Node, facts: _Facts, scope: _Scope, owner: str, this: str) -> None:
    """Every function's scope: its parameters and declarations; a method's `this` is its
    class, an arrow function's is the enclosing one's, any other function's is unknown."""
    if not facts.scoped:
        return
    for child in node.named_children:
        kind = child.type
        if kind in _JS_CLASSES:
            inner = _text(_field(child, "name"))
            if not inner and node.type == "variable_declarator":
                inner = _text(_field(node, "name"))
            _js_scopes(child, facts, scope, inner, this)
            continue
        if kind in _JS_FUNCTIONS:
            method = kind == "method_definition"
            own_this = "this" if method or kind != "arrow_function" else ""
            inner_scope = facts.scope(child, owner if method else "", own_this)
            for parameter in _named(_field(child, "parameters")):
                pattern = _field(parameter, "pattern") or parameter
                annotation = _field(parameter, "type")
                if pattern.type == "assignment_pattern":
                    pattern = _field(pattern, "left") or pattern
                for name in _identifiers(pattern):
                    inner_scope.bind(name, _text(annotation), declared=annotation is not None)
            single = _field(child, "parameter")  # `x => ...`
            if single is not None:
                inner_scope.bind(_text(single))
            _js_scopes(child, facts, inner_scope, owner, own_this)
            continue
        if kind == "variable_declarator":
            annotation = _field(child, "type")
            value = _field(child, "value")
            for name in _identifiers(_field(child, "name")):
                if annotation is not None:
                    scope.bind(name, _text(annotation), declared=True)
                else:
                    scope.bind(name, _js_constructed(value))
        elif kind in ("for_in_statement", "catch_clause"):
            for name in _identifiers(_field(child, "left") or _field(child, "parameter")):
                scope.bind(name)
        elif kind in ("function_declaration", "class_declaration"):
            scope.bind(_text(_field(child, "name")))
        _js_scopes(child, facts, scope, owner, this)


# --- Go -------------------------------------------------------------------------------------------


def _go_module(root: Node, facts: _Facts) -> None:
    for child in root.named_children:
        kind = child.type
        if kind == "function_declaration":
            facts.names.add(_text(_field(child, "name")))
            _go_function(child, facts, facts.scope(child))
        elif kind == "method_declaration":
            receiver = next(_named(_field(child, "receiver"), "parameter_declaration"), None)
            scope = facts.scope(child)
            if receiver is not None:
                owner = type_name(_text(_field(receiver, "type")))
                if owner:
                    facts.klass(owner).members.add(sys.intern(_text(_field(child, "name"))))
                for name in _named(receiver, "identifier"):
                    scope.bind(_text(name), _text(_field(receiver, "type")), declared=True)
            _go_function(child, facts, scope)
        elif kind == "type_declaration":
            for spec in _named(child, "type_spec", "type_alias"):
                _go_type(spec, facts)
        elif kind in ("var_declaration", "const_declaration"):
            for spec in _go_specs(child):
                _go_var(spec, facts.module, facts.names)
        elif kind == "import_declaration":
            for spec in _go_specs(child):
                path = _text(_field(spec, "path")).strip('"`')
                alias = _text(_field(spec, "name")) or path.rsplit("/", 1)[-1]
                if alias == ".":
                    facts.star = True
                elif alias != "_":
                    facts.imports.append(Import(alias, path, ""))


def _go_specs(node: Node) -> Iterator[Node]:
    for child in node.named_children:
        if child.type.endswith("_spec_list"):
            yield from child.named_children
        elif child.type.endswith("_spec"):
            yield child


def _go_var(spec: Node, scope: _Scope, names: set[str] | None) -> None:
    annotation = _field(spec, "type")
    value = _field(spec, "value")
    values = list(_named(value)) if value is not None else []
    for index, name_node in enumerate(spec.children_by_field_name("name")):
        name = _text(name_node)
        if names is not None:
            names.add(name)
        if annotation is not None:
            scope.bind(name, _text(annotation), declared=True)
        else:
            scope.bind(name, _go_constructed(values[index] if index < len(values) else None))


def _go_constructed(value: Node | None) -> str:
    """`T{...}`, `&T{...}`, `new(T)`, or a call (`NewT()`: resolved by what it returns)."""
    if value is None:
        return ""
    if value.type == "unary_expression":
        value = _field(value, "operand")
        if value is None:
            return ""
    if value.type == "composite_literal":
        return _text(_field(value, "type"))
    if value.type == "call_expression":
        function = _text(_field(value, "function"))
        if function == "new":
            arguments = _field(value, "arguments")
            return _text(next(_named(arguments), None))
        return function
    return ""


def _go_type(spec: Node, facts: _Facts) -> None:
    name = _text(_field(spec, "name"))
    facts.names.add(name)
    klass = facts.klass(name)
    body = _field(spec, "type")
    if body is None:
        return
    if spec.type == "type_alias":
        klass.open = True
    elif body.type == "struct_type":
        for declaration in _named(next(_named(body, "field_declaration_list"), None)):
            if declaration.type != "field_declaration":
                continue
            annotation = _text(_field(declaration, "type"))
            names = declaration.children_by_field_name("name")
            for name_node in names:
                klass.field(_text(name_node), annotation)
            if not names:  # embedded: its fields and methods are promoted
                embedded = type_name(annotation)
                klass.bases.append(embedded if "." not in annotation else "?")
                if embedded:
                    klass.members.add(embedded)
    elif body.type == "interface_type":
        for element in body.named_children:
            if element.type == "method_elem":
                klass.members.add(sys.intern(_text(_field(element, "name"))))
            elif element.type == "type_elem":
                for base in element.named_children:
                    text = _text(base)
                    klass.bases.append(type_name(text) if "." not in text else "?")
    elif body.type in ("type_identifier", "qualified_type", "generic_type"):
        text = _text(body)
        klass.bases.append(type_name(text) if body.type == "type_identifier" else "?")


def _go_function(node: Node, facts: _Facts, scope: _Scope) -> None:
    for parameter in _named(_field(node, "parameters")):
        annotation = _text(_field(parameter, "type"))
        for name in parameter.children_by_field_name("name"):
            scope.bind(_text(name), annotation, declared=True)
    result = _field(node, "result")
    if result is not None and node.type == "function_declaration":
        # What a constructor function returns types the variables assigned from its call.
        returned = type_name(_text(result))
        if returned:
            facts.module.bind(_text(_field(node, "name")) + "()", returned, declared=True)
    if facts.scoped:
        _go_body(_field(node, "body"), facts, scope)


def _go_body(node: Node | None, facts: _Facts, scope: _Scope) -> None:
    if node is None:
        return
    for child in node.named_children:
        kind = child.type
        if kind == "short_var_declaration":
            left = list(_named(_field(child, "left")))
            right = list(_named(_field(child, "right")))
            for index, target in enumerate(left):
                value = right[index] if len(right) == len(left) else None
                scope.bind(_text(target), _go_constructed(value))
        elif kind == "var_declaration":
            for spec in _go_specs(child):
                _go_var(spec, scope, None)
        elif kind == "range_clause":
            for name in _identifiers(_field(child, "left")):
                scope.bind(name)
        elif kind == "func_literal":
            inner = facts.scope(child)
            _go_function(child, facts, inner)
            continue
        _go_body(child, facts, scope)


# --- Java and C# ------------------------------------------------------------------------------

_JAVA_TYPES = (
    "class_declaration",
    "interface_declaration",
    "enum_declaration",
    "record_declaration",
    "annotation_type_declaration",
)
_CS_TYPES = (
    "class_declaration",
    "struct_declaration",
    "interface_declaration",
    "record_declaration",
    "record_struct_declaration",
    "enum_declaration",
)
_JAVA_FUNCTIONS = ("method_declaration", "constructor_declaration", "lambda_expression")
_CS_FUNCTIONS = (
    "method_declaration",
    "constructor_declaration",
    "local_function_statement",
    "lambda_expression",
    "accessor_declaration",
)


def _java_module(root: Node, facts: _Facts) -> None:
    for child in root.named_children:
        if child.type == "import_declaration":
            if any(c.type == "asterisk" for c in child.named_children):
                facts.star = True
            else:
                path = _text(next(_named(child), None))
                facts.imports.append(Import(path.rsplit(".", 1)[-1], path, ""))
    _oo_types(root, facts, _JAVA_TYPES, "", _JAVA_FUNCTIONS)


def _csharp_module(root: Node, facts: _Facts) -> None:
    _oo_types(root, facts, _CS_TYPES, "", _CS_FUNCTIONS)


def _oo_types(
    node: Node, facts: _Facts, types: tuple[str, ...], owner: str, functions: tuple[str, ...]
) -> None:
    """Types and their members (Java, C#), and every method's scope (owner: its class)."""
    for child in node.named_children:
        kind = child.type
        if kind in types:
            _oo_class(child, facts, types, functions)
        elif kind in functions:
            _oo_function(child, facts, owner, functions)
        elif kind in (
            "namespace_declaration",
            "file_scoped_namespace_declaration",
            "declaration_list",
            "class_body",
            "program",
        ):
            _oo_types(child, facts, types, owner, functions)


def _oo_class(
    node: Node, facts: _Facts, types: tuple[str, ...], functions: tuple[str, ...]
) -> None:
    name = _text(_field(node, "name"))
    facts.names.add(name)
    klass = facts.klass(name)
    kind = node.type
    java = facts.family == "java"
    for child in node.named_children:
        if child.type in ("superclass", "super_interfaces", "extends_interfaces", "base_list"):
            for base in _oo_type_nodes(child):
                klass.bases.append(base_name(_text(base)))
    if java:
        implicit = {"enum_declaration": "Enum", "record_declaration": "Record"}.get(kind, "Object")
    else:
        implicit = {"enum_declaration": "Enum", "struct_declaration": "ValueType"}.get(
            kind, "object"
        )
    if kind != "interface_declaration" and not any(
        c.type in ("superclass",) for c in node.named_children
    ):
        klass.bases.append(implicit)
    elif kind == "interface_declaration":
        klass.bases.append(implicit)
    for parameter in _named(_field(node, "parameters")):  # a record's components
        klass.field(_text(_field(parameter, "name")), _text(_field(parameter, "type")))
    body = _field(node, "body")
    static_class = any(_text(m) == "static" for m in _named(node, "modifier"))
    for member in _oo_members(body):
        member_kind = member.type
        if member_kind in types:
            klass.members.add(sys.intern(_text(_field(member, "name"))))
            _oo_class(member, facts, types, functions)
        elif member_kind in (
            "field_declaration",
            "constant_declaration",
            "event_field_declaration",
        ):
            declaration = next(_named(member, "variable_declaration"), None) or member
            annotation = _text(_field(declaration, "type"))
            for declarator in _named(declaration, "variable_declarator"):
                target = _field(declarator, "name") or next(_named(declarator, "identifier"), None)
                klass.field(_text(target), annotation)
        elif member_kind in ("method_declaration", "property_declaration", "event_declaration"):
            member_name = _text(_field(member, "name"))
            klass.field(
                member_name,
                _text(_field(member, "type")) if member_kind != "method_declaration" else "",
            )
            if member_kind == "method_declaration":
                first = next(_named(_field(member, "parameters")), None)
                if static_class and first is not None and _text(first).startswith("this "):
                    facts.extensions.add(member_name)
                _oo_function(member, facts, name, functions)
        elif member_kind in ("enum_constant", "enum_member_declaration"):
            klass.members.add(sys.intern(_text(_field(member, "name"))))
        elif member_kind in ("constructor_declaration", "delegate_declaration"):
            if member_kind == "delegate_declaration":
                klass.members.add(sys.intern(_text(_field(member, "name"))))
            _oo_function(member, facts, name, functions)


def _oo_members(body: Node | None) -> Iterator[Node]:
    for member in _named(body):
        if member.type in ("enum_body_declarations", "class_body"):
            yield from member.named_children
        else:
            yield member


def _oo_type_nodes(node: Node) -> Iterator[Node]:
    for child in node.named_children:
        if child.type == "type_list":
            yield from child.named_children
        elif child.type not in ("argument_list", "primary_constructor_base_type"):
            yield child
        else:
            yield from child.named_children[:1]


def _oo_function(node: Node, facts: _Facts, owner: str, functions: tuple[str, ...]) -> None:
    scope = facts.scope(node, owner, "this" if owner else "")
    for parameter in _named(_field(node, "parameters")):
        annotation = _field(parameter, "type")
        name = _text(_field(parameter, "name"))
        if not name:
            name = next(_identifiers(parameter), "")
        scope.bind(name, _text(annotation), declared=annotation is not None)
    if facts.scoped:
        _oo_body(_field(node, "body"), facts, scope, owner, functions)


def _oo_body(
    node: Node | None, facts: _Facts, scope: _Scope, owner: str, functions: tuple[str, ...]
) -> None:
    if node is None:
        return
    for child in node.named_children:
        kind = child.type
        if kind in ("local_variable_declaration", "variable_declaration"):
            annotation = _text(_field(child, "type"))
            for declarator in _named(child, "variable_declarator"):
                target = _field(declarator, "name") or next(_named(declarator, "identifier"), None)
                declared = annotation not in ("var", "")
                typed = annotation if declared else _oo_constructed(declarator)
                scope.bind(_text(target), typed, declared=declared)
        elif kind in ("enhanced_for_statement", "foreach_statement", "catch_formal_parameter"):
            scope.bind(_text(_field(child, "name") or _field(child, "left")))
        elif kind in functions:
            _oo_function(child, facts, "", functions)
            continue
        _oo_body(child, facts, scope, owner, functions)


def _oo_constructed(declarator: Node) -> str:
    for value in declarator.named_children:
        if value.type == "object_creation_expression":
            return _text(_field(value, "type"))
        if value.type == "equals_value_clause":
            return _oo_constructed(value)
    return ""


# --- C and C++ --------------------------------------------------------------------------------

_CPP_RECORDS = ("class_specifier", "struct_specifier", "union_specifier")
_CPP_WRAPPERS = (
    "declaration",
    "type_definition",
    "template_declaration",
    "linkage_specification",
    "declaration_list",
    "preproc_ifdef",
    "preproc_if",
    "preproc_else",
    "preproc_elif",
    "field_declaration",
)


def _cpp_module(root: Node, facts: _Facts) -> None:
    _cpp_block(root, facts)


def _cpp_block(node: Node, facts: _Facts) -> None:
    for child in node.named_children:
        kind = child.type
        if kind == "namespace_definition":
            _cpp_block(_field(child, "body") or child, facts)
        elif kind in _CPP_RECORDS:
            _cpp_record(child, facts)
        elif kind == "function_definition":
            _cpp_function(child, facts, "")
        elif kind == "preproc_include":
            path = _text(_field(child, "path")).strip('"<>')
            facts.imports.append(Import(path, path, ""))
        elif kind in _CPP_WRAPPERS:
            if kind == "declaration":
                for name in _cpp_declared(child):
                    facts.names.add(name)
            _cpp_block(child, facts)


def _cpp_declarator_name(node: Node | None) -> tuple[str, str]:
    """(scope, name) a declarator declares: `Box::post` -> (Box, post), `*p` -> ("", p)."""
    while node is not None:
        kind = node.type
        if kind in ("identifier", "field_identifier", "type_identifier"):
            return "", _text(node)
        if kind == "qualified_identifier":
            scope = type_name(_text(_field(node, "scope")))
            inner = _field(node, "name")
            if inner is not None and inner.type == "qualified_identifier":
                return _cpp_declarator_name(inner)
            return scope, _text(inner) if inner is not None and inner.type == "identifier" else ""
        if kind in ("destructor_name", "operator_name", "template_function"):
            return "", ""
        inner = _field(node, "declarator")
        node = inner if inner is not None else next(_named(node), None)
    return "", ""


def _cpp_declared(node: Node) -> Iterator[str]:
    for declarator in node.children_by_field_name("declarator"):
        yield _cpp_declarator_name(declarator)[1]


def _cpp_record(node: Node, facts: _Facts) -> None:
    name = _text(_field(node, "name"))
    body = _field(node, "body")
    if not name or body is None:
        return
    facts.names.add(type_name(name) or name)
    klass = facts.klass(type_name(name) or name)
    for clause in _named(node, "base_class_clause"):
        for base in clause.named_children:
            if base.type in ("type_identifier", "qualified_identifier"):
                klass.bases.append(base_name(_text(base)))
            elif base.type not in ("access_specifier", "virtual"):
                klass.bases.append("?")  # a template instance (CRTP), a pack
    _cpp_members(body, facts, klass, type_name(name) or name)


def _cpp_members(body: Node, facts: _Facts, klass: _Class, name: str) -> None:
    for member in body.named_children:
        kind = member.type
        if kind in ("field_declaration", "declaration"):
            for declarator in member.children_by_field_name("declarator"):
                _, member_name = _cpp_declarator_name(declarator)
                is_function = "function_declarator" in _text(declarator) or (
                    declarator.type == "function_declarator"
                )
                klass.field(member_name, "" if is_function else _text(_field(member, "type")))
            inner = _field(member, "type")
            if inner is not None and inner.type in _CPP_RECORDS and _field(inner, "body"):
                klass.members.add(type_name(_text(_field(inner, "name"))))
                _cpp_record(inner, facts)
        elif kind == "function_definition":
            klass.members.add(_cpp_declarator_name(_field(member, "declarator"))[1])
            _cpp_function(member, facts, name)
        elif kind in ("template_declaration", "preproc_ifdef", "preproc_if", "preproc_else"):
            _cpp_members(member, facts, klass, name)
        elif kind in ("using_declaration", "alias_declaration", "type_definition"):
            if kind == "using_declaration":
                klass.open = True
            else:
                klass.members.add(_text(_field(member, "name")))
        elif kind in _CPP_RECORDS:
            klass.members.add(type_name(_text(_field(member, "name"))))
            _cpp_record(member, facts)
    klass.members.discard("")


def _cpp_function(node: Node, facts: _Facts, owner: str) -> None:
    declarator = _field(node, "declarator")
    scope_name, name = _cpp_declarator_name(declarator)
    if scope_name and name:
        facts.klass(scope_name).members.add(sys.intern(name))
        owner = scope_name
    elif name and not owner:
        facts.names.add(name)
    scope = facts.scope(node, owner, "this" if owner else "")
    function = declarator
    while function is not None and function.type != "function_declarator":
        function = _field(function, "declarator")
    if function is not None:
        for parameter in _named(_field(function, "parameters")):
            _, parameter_name = _cpp_declarator_name(_field(parameter, "declarator"))
            scope.bind(parameter_name, _cpp_type(parameter), declared=True)
    if facts.scoped:
        _cpp_body(_field(node, "body"), facts, scope)


def _cpp_type(node: Node) -> str:
    annotation = _text(_field(node, "type"))
    declarator = _text(_field(node, "declarator"))
    pointer = declarator.lstrip().startswith(("*", "&"))
    return annotation + ("*" if pointer else "")


def _cpp_body(node: Node | None, facts: _Facts, scope: _Scope) -> None:
    if node is None:
        return
    for child in node.named_children:
        kind = child.type
        if kind == "declaration":
            annotation = _text(_field(child, "type"))
            for declarator in child.children_by_field_name("declarator"):
                _, name = _cpp_declarator_name(declarator)
                if annotation == "auto":
                    value = _field(declarator, "value")
                    typed = ""
                    if value is not None and value.type == "new_expression":
                        typed = _text(_field(value, "type"))
                    elif value is not None and value.type == "call_expression":
                        typed = _text(_field(value, "function"))
                    scope.bind(name, typed)
                else:
                    scope.bind(name, annotation, declared=True)
        elif kind == "for_range_loop":
            scope.bind(_cpp_declarator_name(_field(child, "declarator"))[1])
        elif kind == "lambda_expression":
            _cpp_body(_field(child, "body"), facts, facts.scope(child))
            continue
        _cpp_body(child, facts, scope)


WALKERS = {
    "python": _py_module,
    "js": _js_module,
    "go": _go_module,
    "java": _java_module,
    "csharp": _csharp_module,
    "cpp": _cpp_module,
}

"""tree-sitter syntax: one tree per open document, re-parsed incrementally on each edit.

Gives the context builder the enclosing function/class and its signature, the file's imports, the
signatures of symbols used near the cursor that are defined elsewhere in the file, and the shape of
the completion to ask for (one line or a block). An unknown language gives None everywhere: callers
fall back to plain windows.

Offsets are code-point offsets into the document text (as everywhere below the LSP layer); this
module converts them to the UTF-8 bytes and (row, byte column) points that tree-sitter uses.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from tree_sitter import Language, Node, Parser, Point, Tree
from tree_sitter_language_pack import get_language

from ..documents import Document, DocumentStore

Shape = Literal["single", "multi"]


@dataclass(frozen=True)
class LanguageSpec:
    """What the context builder needs to know about one grammar, as data (node type names)."""

    grammar: str
    functions: frozenset[str]
    classes: frozenset[str]
    # Bodies of functions, classes and statements.
    blocks: frozenset[str]
    imports: frozenset[str]
    comments: frozenset[str]
    # Line endings that open a block: after one, the completion is the block's body.
    openers: tuple[str, ...] = ("{",)
    # Top-level statements that are imports although their node type is a call or command.
    import_pattern: str = ""
    # Nodes to look through for definitions (export, decorators, namespaces, declarations).
    wrappers: frozenset[str] = frozenset()


def _s(*names: str) -> frozenset[str]:
    return frozenset(names)


_JS_FUNCTIONS = _s(
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "function_expression",
    "arrow_function",
)
_JS_WRAPPERS = _s(
    "export_statement", "lexical_declaration", "variable_declaration", "variable_declarator"
)
_TS_EXTRA = _s(
    "interface_declaration",
    "type_alias_declaration",
    "enum_declaration",
    "abstract_class_declaration",
)
_TS_FUNCTIONS = _JS_FUNCTIONS | _s("function_signature", "method_signature")
_C_COMMENTS = _s("comment")

SPECS: dict[str, LanguageSpec] = {
    "python": LanguageSpec(
        grammar="python",
        functions=_s("function_definition"),
        classes=_s("class_definition"),
        blocks=_s("block"),
        imports=_s("import_statement", "import_from_statement", "future_import_statement"),
        comments=_s("comment"),
        openers=(":",),
        wrappers=_s("decorated_definition"),
    ),
    "javascript": LanguageSpec(
        grammar="javascript",
        functions=_JS_FUNCTIONS,
        classes=_s("class_declaration", "class"),
        blocks=_s("statement_block", "class_body"),
        imports=_s("import_statement"),
        comments=_s("comment"),
        openers=("{", "=>"),
        import_pattern=r"(const|let|var)\s+[^=]+=\s*require\(",
        wrappers=_JS_WRAPPERS,
    ),
    "typescript": LanguageSpec(
        grammar="typescript",
        functions=_TS_FUNCTIONS,
        classes=_s("class_declaration", "class") | _TS_EXTRA,
        blocks=_s("statement_block", "class_body", "interface_body", "enum_body"),
        imports=_s("import_statement"),
        comments=_s("comment"),
        openers=("{", "=>"),
        wrappers=_JS_WRAPPERS,
    ),
    "tsx": LanguageSpec(
        grammar="tsx",
        functions=_TS_FUNCTIONS,
        classes=_s("class_declaration", "class") | _TS_EXTRA,
        blocks=_s("statement_block", "class_body", "interface_body", "enum_body"),
        imports=_s("import_statement"),
        comments=_s("comment"),
        openers=("{", "=>"),
        wrappers=_JS_WRAPPERS,
    ),
    "go": LanguageSpec(
        grammar="go",
        functions=_s("function_declaration", "method_declaration", "func_literal"),
        classes=_s("type_declaration"),
        blocks=_s("block"),
        imports=_s("import_declaration"),
        comments=_s("comment"),
    ),
    "rust": LanguageSpec(
        grammar="rust",
        functions=_s("function_item", "function_signature_item", "closure_expression"),
        classes=_s("struct_item", "enum_item", "trait_item", "impl_item", "mod_item"),
        blocks=_s("block", "declaration_list", "field_declaration_list"),
        imports=_s("use_declaration", "extern_crate_declaration"),
        comments=_s("line_comment", "block_comment"),
    ),
    "java": LanguageSpec(
        grammar="java",
        functions=_s("method_declaration", "constructor_declaration", "lambda_expression"),
        classes=_s(
            "class_declaration", "interface_declaration", "enum_declaration", "record_declaration"
        ),
        blocks=_s("block", "class_body", "constructor_body", "interface_body", "enum_body"),
        imports=_s("import_declaration"),
        comments=_s("line_comment", "block_comment"),
    ),
    "c": LanguageSpec(
        grammar="c",
        functions=_s("function_definition"),
        classes=_s("struct_specifier", "enum_specifier", "union_specifier"),
        blocks=_s("compound_statement", "field_declaration_list"),
        imports=_s("preproc_include"),
        comments=_C_COMMENTS,
        wrappers=_s("declaration", "type_definition"),
    ),
    "cpp": LanguageSpec(
        grammar="cpp",
        functions=_s("function_definition", "lambda_expression"),
        classes=_s("class_specifier", "struct_specifier", "enum_specifier", "namespace_definition"),
        blocks=_s("compound_statement", "field_declaration_list", "declaration_list"),
        imports=_s("preproc_include", "using_declaration"),
        comments=_C_COMMENTS,
        wrappers=_s("template_declaration", "declaration", "type_definition"),
    ),
    "csharp": LanguageSpec(
        grammar="csharp",
        functions=_s(
            "method_declaration",
            "constructor_declaration",
            "local_function_statement",
            "lambda_expression",
        ),
        classes=_s(
            "class_declaration",
            "interface_declaration",
            "struct_declaration",
            "record_declaration",
            "enum_declaration",
            "namespace_declaration",
        ),
        blocks=_s("block", "declaration_list"),
        imports=_s("using_directive"),
        comments=_s("comment"),
        wrappers=_s("file_scoped_namespace_declaration"),
    ),
    "ruby": LanguageSpec(
        grammar="ruby",
        functions=_s("method", "singleton_method"),
        classes=_s("class", "module"),
        blocks=_s("body_statement"),
        imports=_s(),
        comments=_s("comment"),
        openers=(" do", "|"),
        import_pattern=r"(require|require_relative|load)\b",
    ),
    "php": LanguageSpec(
        grammar="php",
        functions=_s("function_definition", "method_declaration", "anonymous_function"),
        classes=_s(
            "class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"
        ),
        blocks=_s("compound_statement", "declaration_list"),
        imports=_s("namespace_use_declaration"),
        comments=_s("comment"),
        import_pattern=r"(require|require_once|include|include_once)\b",
    ),
    "swift": LanguageSpec(
        grammar="swift",
        functions=_s("function_declaration", "init_declaration", "lambda_literal"),
        classes=_s("class_declaration", "protocol_declaration"),
        blocks=_s("function_body", "class_body", "protocol_body", "statements"),
        imports=_s("import_declaration"),
        comments=_s("comment", "multiline_comment"),
    ),
    "kotlin": LanguageSpec(
        grammar="kotlin",
        functions=_s("function_declaration", "anonymous_function", "lambda_literal"),
        classes=_s("class_declaration", "object_declaration"),
        blocks=_s("function_body", "class_body", "statements"),
        imports=_s("import_header"),
        comments=_s("line_comment", "multiline_comment"),
        wrappers=_s("import_list"),
    ),
    "lua": LanguageSpec(
        grammar="lua",
        functions=_s("function_declaration", "function_definition"),
        classes=_s(),
        blocks=_s("block"),
        imports=_s(),
        comments=_s("comment"),
        openers=(")", " do", " then"),
        import_pattern=r"(local\s+[\w,\s]+=\s*)?require\b",
    ),
    "bash": LanguageSpec(
        grammar="bash",
        functions=_s("function_definition"),
        classes=_s(),
        blocks=_s("compound_statement", "do_group"),
        imports=_s(),
        comments=_s("comment"),
        openers=("{", " do", " then"),
        import_pattern=r"(source|\.)\s",
    ),
}

# LSP language ids (and common aliases) → key of SPECS.
LANGUAGE_IDS: dict[str, str] = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "jsx": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "tsx": "tsx",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cuda-cpp": "cpp",
    "csharp": "csharp",
    "ruby": "ruby",
    "php": "php",
    "swift": "swift",
    "kotlin": "kotlin",
    "lua": "lua",
    "shellscript": "bash",
    "bash": "bash",
    "sh": "bash",
    "zsh": "bash",
}

# Node types that hold a name, in any grammar.
_IDENTIFIERS = _s(
    "identifier",
    "simple_identifier",
    "type_identifier",
    "field_identifier",
    "property_identifier",
    "qualified_identifier",
    "constant",
    "word",
    "name",
    "destructor_name",
    "operator_name",
)
# Brackets and literals: a cursor inside one of these is in the middle of an expression.
_EXPRESSION_CONTAINERS = _s(
    "argument_list",
    "arguments",
    "value_arguments",
    "call_suffix",
    "parenthesized_expression",
    "parameters",
    "formal_parameters",
    "parameter_list",
    "method_parameters",
    "function_value_parameters",
    "array",
    "array_expression",
    "array_literal",
    "list",
    "tuple",
    "tuple_expression",
    "dictionary",
    "set",
    "object",
    "hash",
    "table_constructor",
    "initializer_list",
    "composite_literal",
    "literal_value",
    "subscript",
    "binary_expression",
    "binary_operator",
    "template_string",
)
_STRINGISH = ("string", "comment", "heredoc", "template", "raw_string", "char")
_CLOSERS = frozenset(")]}>;,'\"` \t")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SIGNATURE_MAX_CHARS = 240
MAX_DEFINITION_DEPTH = 6


_PARSERS: dict[str, Parser | None] = {}
log = logging.getLogger(__name__)


def parser_for(spec: LanguageSpec) -> Parser | None:
    """One parser per grammar for the process (all parsing happens on the event loop's thread).
    None for a grammar that fails to load: told once, and the file is treated as one without a
    grammar (completions come without the syntax-based shape), not re-tried per keystroke."""
    if spec.grammar not in _PARSERS:
        try:
            _PARSERS[spec.grammar] = Parser(get_language(spec.grammar))  # type: ignore[arg-type]
        except Exception as error:  # a broken grammar package must cost the syntax only
            log.warning(
                "the %s grammar failed to load (%s); completing without it", spec.grammar, error
            )
            _PARSERS[spec.grammar] = None
    return _PARSERS[spec.grammar]


def spec_for(language_id: str) -> LanguageSpec | None:
    key = LANGUAGE_IDS.get(language_id)
    return SPECS[key] if key else None


def load_language(language_id: str) -> Language | None:
    spec = spec_for(language_id)
    return get_language(spec.grammar) if spec else None  # type: ignore[arg-type]


def parses_cleanly(language_id: str, text: str) -> bool | None:
    """True when the text parses with no error or missing node; None for an unknown language."""
    language = load_language(language_id)
    if language is None:
        return None
    root = Parser(language).parse(text.encode()).root_node
    return not root.has_error


# --- positions -------------------------------------------------------------------------------


def _point(text: str, offset: int) -> Point:
    """tree-sitter point (row, UTF-8 byte column) of a code-point offset."""
    row = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return Point(row, len(text[line_start:offset].encode()))


def _end_point(start: Point, inserted: str) -> Point:
    newlines = inserted.count("\n")
    if not newlines:
        return Point(start.row, start.column + len(inserted.encode()))
    return Point(start.row + newlines, len(inserted[inserted.rfind("\n") + 1 :].encode()))


@dataclass(frozen=True)
class Parsed:
    """A document's text with its tree; converts between offsets and bytes."""

    text: str
    source: bytes
    tree: Tree
    spec: LanguageSpec

    @property
    def is_ascii(self) -> bool:
        return len(self.source) == len(self.text)

    def byte_at(self, offset: int) -> int:
        return offset if self.is_ascii else len(self.text[:offset].encode())

    def offset_at(self, byte: int) -> int:
        if self.is_ascii:
            return byte
        return len(self.source[:byte].decode(errors="ignore"))

    def node_text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode(errors="replace")


@dataclass
class _Entry:
    tree: Tree
    revision: int
    # The tree was edited (tree.edit) but not re-parsed yet: parse lazily, once per request.
    dirty: bool = False
    parsed: Parsed | None = None
    definitions: dict[str, Scope] | None = None


@dataclass
class SyntaxIndex:
    """One tree per open document, kept in step with the DocumentStore's ranged edits, and one
    for the speculative state (the prefetch's), so parsing it never replaces a document's own."""

    _entries: dict[str, _Entry] = field(default_factory=dict)
    _speculative: tuple[str, _Entry] | None = None
    # How often a tree was parsed whole, and re-parsed from an edited one (what latency costs).
    full_parses: int = 0
    incremental_parses: int = 0

    def attach(self, store: DocumentStore) -> None:
        store.edit_listeners.append(self.on_edit)

    def forget(self, uri: str) -> None:
        self._entries.pop(uri, None)
        if self._speculative is not None and self._speculative[0] == uri:
            self._speculative = None

    def retain(self, uris: set[str]) -> None:
        """Drops the trees of documents that are no longer open."""
        for uri in [u for u in self._entries if u not in uris]:
            del self._entries[uri]

    def on_edit(
        self, before: Document, start: int, end: int, new_text: str, after: Document
    ) -> None:
        entry = self._entries.get(before.uri)
        if entry is None:
            return
        if entry.revision != before.revision:
            # We missed an edit (a full-text change): the next request parses from scratch.
            del self._entries[before.uri]
            return
        _edit_tree(entry.tree, before.text, start, end, new_text)
        entry.revision = after.revision
        entry.dirty = True
        entry.parsed = None
        entry.definitions = None

    def seed(self, base: Document, start: int, end: int, new_text: str, seeded: Document) -> None:
        """Gives the speculative state `seeded` (`base` with one edit) a copy of `base`'s tree
        edited the same way, so its first parse is incremental: a prefetch's accepted state then
        costs about a keystroke's re-parse instead of a whole parse."""
        if self.parsed(base) is None:
            return
        tree = self._entries[base.uri].tree.copy()
        _edit_tree(tree, base.text, start, end, new_text)
        self._speculative = (seeded.uri, _Entry(tree, seeded.revision, True, None))

    def _entry(self, document: Document, speculative: bool) -> _Entry | None:
        if not speculative:
            return self._entries.get(document.uri)
        if self._speculative is None or self._speculative[0] != document.uri:
            return None
        return self._speculative[1]

    def parsed(self, document: Document, speculative: bool = False) -> Parsed | None:
        """The document's tree, re-parsed incrementally when it was edited since the last call.
        `speculative`: a state that is not the store's (see `seed`)."""
        spec = spec_for(document.language_id)
        if spec is None:
            return None
        entry = self._entry(document, speculative)
        if entry is not None and entry.revision == document.revision and entry.parsed is not None:
            if entry.parsed.spec == spec:
                return entry.parsed
        parser = parser_for(spec)
        if parser is None:
            return None
        source = document.text.encode()
        fresh = entry is not None and entry.revision == document.revision and entry.dirty
        if fresh and entry:
            tree = parser.parse(source, entry.tree)
            self.incremental_parses += 1
        else:
            tree = parser.parse(source)
            self.full_parses += 1
        parsed = Parsed(document.text, source, tree, spec)
        entry = _Entry(tree, document.revision, False, parsed)
        if speculative:
            self._speculative = (document.uri, entry)
        else:
            self._entries[document.uri] = entry
        return parsed

    def definitions(self, document: Document, speculative: bool = False) -> dict[str, Scope]:
        """Functions and classes of the document by name, cached per revision."""
        parsed = self.parsed(document, speculative)
        if parsed is None:
            return {}
        entry = self._entry(document, speculative)
        assert entry is not None
        if entry.definitions is None:
            entry.definitions = definitions(parsed)
        return entry.definitions


# --- scopes, imports, definitions ------------------------------------------------------------


def _edit_tree(tree: Tree, text: str, start: int, end: int, new_text: str) -> None:
    """Tells `tree` (of `text`) that `text[start:end]` became `new_text`."""
    start_byte = start if text.isascii() else len(text[:start].encode())
    removed = len(text[start:end].encode())
    start_point = _point(text, start)
    tree.edit(
        start_byte=start_byte,
        old_end_byte=start_byte + removed,
        new_end_byte=start_byte + len(new_text.encode()),
        start_point=start_point,
        old_end_point=_end_point(start_point, text[start:end]),
        new_end_point=_end_point(start_point, new_text),
    )


@dataclass(frozen=True)
class Scope:
    kind: Literal["function", "class"]
    name: str
    signature: str
    start: int  # offsets of the whole definition
    end: int


# Where an anonymous function or class gets its name: `const f = () => …`, `f = lambda: …`,
# `{ key: function () {} }`.
_NAMING_PARENTS = frozenset({"variable_declarator", "assignment", "pair"})
_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})


def _name_node(node: Node) -> Node | None:
    named = node.child_by_field_name("name")
    if named is not None:
        return named
    declarator = node.child_by_field_name("declarator")
    while declarator is not None:
        if declarator.type in _IDENTIFIERS:
            return declarator
        declarator = declarator.child_by_field_name("declarator") or declarator.child_by_field_name(
            "name"
        )
    parent = node.parent
    if parent is not None and parent.type in _NAMING_PARENTS:
        # Before the children: `x => …` has an identifier child, its parameter.
        return parent.child_by_field_name("name") or parent.child_by_field_name("left")
    for child in node.named_children:
        if child.type in _IDENTIFIERS:
            return child
    return None


def _named_from(node: Node) -> Node:
    """The code that names `node`: the declaration of an anonymous function or class (`const f =
    (a) =>`), else the node itself. Its signature starts there, so it reads with its name."""
    parent = node.parent
    if parent is None or parent.type not in _NAMING_PARENTS or node.child_by_field_name("name"):
        return node
    grandparent = parent.parent
    if grandparent is not None and grandparent.type in _DECLARATIONS:
        if grandparent.named_child_count == 1:
            return grandparent
    return parent


def _body(node: Node, spec: LanguageSpec) -> Node | None:
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    for child in node.named_children:
        if child.type in spec.blocks:
            return child
    return None


def _signature(parsed: Parsed, node: Node) -> str:
    body = _body(node, parsed.spec)
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else None
    if end is None:
        newline = parsed.source.find(b"\n", node.start_byte, node.end_byte)
        end = newline if newline != -1 else node.end_byte
    start = _named_from(node).start_byte
    text = parsed.source[start:end].decode(errors="replace").rstrip()
    if len(text) > SIGNATURE_MAX_CHARS:
        text = text[:SIGNATURE_MAX_CHARS].rstrip() + " …"
    return text


def _scope(parsed: Parsed, node: Node) -> Scope:
    name_node = _name_node(node)
    name = parsed.node_text(name_node) if name_node is not None else ""
    kind: Literal["function", "class"] = "class" if node.type in parsed.spec.classes else "function"
    return Scope(
        kind,
        name,
        _signature(parsed, node),
        parsed.offset_at(node.start_byte),
        parsed.offset_at(node.end_byte),
    )


def enclosing_scopes(parsed: Parsed, offset: int) -> tuple[Scope, ...]:
    """Functions and classes around the cursor, outermost first."""
    text = parsed.text
    line_start = text.rfind("\n", 0, offset) + 1
    column = offset - line_start
    indented_blank = parsed.spec.openers == (":",) and not text[line_start:offset].strip()
    if indented_blank:
        # Python: blank lines after a block belong to the tree's outer node; the cursor's
        # indentation says which block it is in. Look up from the code above instead.
        offset = max(0, len(text[:line_start].rstrip()) - 1)
    byte = parsed.byte_at(offset)
    node: Node | None = parsed.tree.root_node.descendant_for_byte_range(byte, byte)
    spec = parsed.spec
    found: list[Scope] = []
    while node is not None:
        if node.type in spec.functions or node.type in spec.classes:
            if not indented_blank or node.start_point.column < column:
                found.append(_scope(parsed, node))
        node = node.parent
    return tuple(reversed(found))


def imports(parsed: Parsed) -> tuple[str, ...]:
    """Import statements (top level, and one level down for grammars that group them)."""
    spec = parsed.spec
    pattern = re.compile(spec.import_pattern) if spec.import_pattern else None
    found: list[str] = []
    for node in parsed.tree.root_node.named_children:
        if node.type in spec.imports:
            found.append(_statement_text(parsed, node))
        elif node.type in spec.wrappers and any(c.type in spec.imports for c in node.children):
            found += [
                _statement_text(parsed, c) for c in node.named_children if c.type in spec.imports
            ]
        elif pattern is not None and node.type not in spec.comments:
            text = parsed.node_text(node)
            if pattern.match(text):
                found.append(text.strip())
    return tuple(found)


def _statement_text(parsed: Parsed, node: Node) -> str:
    """A node's text without the comments some grammars attach to its end (Kotlin's imports)."""
    end = node.end_byte
    for child in reversed(node.children):
        if child.type not in parsed.spec.comments:
            end = child.end_byte
            break
    return parsed.source[node.start_byte : end].decode(errors="replace").strip()


def definitions(parsed: Parsed) -> dict[str, Scope]:
    """Named functions and classes at the top level and inside classes (not inside functions):
    the first definition of each name wins."""
    found: dict[str, Scope] = {}
    _collect(parsed, parsed.tree.root_node, 0, found)
    return found


def _collect(parsed: Parsed, node: Node, depth: int, found: dict[str, Scope]) -> None:
    spec = parsed.spec
    through = spec.classes | spec.wrappers
    for child in node.named_children:
        kind = child.type
        if kind in spec.functions or kind in spec.classes:
            scope = _scope(parsed, child)
            if scope.name and scope.name not in found:
                found[scope.name] = scope
        descend = kind in through or (node.type in through and kind in spec.blocks)
        if descend and depth < MAX_DEFINITION_DEPTH:
            _collect(parsed, child, depth + 1, found)


def api_outline(language_id: str, text: str) -> list[tuple[str, str]]:
    """(name, signature) of a file's functions and classes in file order, class members indented
    and named by their class: what another file can call. Empty for a language without a grammar."""
    spec = spec_for(language_id)
    if spec is None:
        return []
    parser = parser_for(spec)
    if parser is None:
        return []
    source = text.encode()
    parsed = Parsed(text, source, parser.parse(source), spec)
    outline: list[tuple[str, str]] = []
    classes: list[Scope] = []
    for scope in sorted(definitions(parsed).values(), key=lambda s: s.start):
        owner = next((c for c in classes if c.start < scope.start < c.end), None)
        signature = " ".join(scope.signature.split())
        outline.append((owner.name, "    " + signature) if owner else (scope.name, signature))
        if scope.kind == "class":
            classes.append(scope)
    return outline


def used_signatures(
    parsed: Parsed,
    offset: int,
    known: dict[str, Scope],
    start: int,
    end: int,
    limit: int = 8,
) -> tuple[str, ...]:
    """Signatures of symbols named in text[start:end] (the code around the cursor) that are defined
    in this file outside that range, nearest use to the cursor first."""
    text = parsed.text
    names: list[tuple[int, str]] = []
    for match in _WORD.finditer(text, start, end):
        names.append((abs(match.start() - offset), match.group()))
    names.sort()
    seen: set[str] = set()
    found: list[str] = []
    for _, name in names:
        if name in seen:
            continue
        seen.add(name)
        scope = known.get(name)
        if scope is None or (scope.start < end and scope.end > start):
            continue  # unknown here, or its definition is already in view
        found.append(scope.signature)
        if len(found) >= limit:
            break
    return tuple(found)


def related_outline(parsed: Parsed, start: int, end: int, limit: int = 2_000) -> str:
    """What the code at text[start:end] (a function an action works on) needs from the rest of its
    file, without bodies: the class that holds it, and the file's functions and classes it names,
    each class with its methods' signatures and its fields. "" where there is none."""
    used = {match.group() for match in _WORD.finditer(parsed.text, start, end)}
    lines: list[str] = []
    for node in _definitions_in(parsed, parsed.tree.root_node):
        scope = _scope(parsed, node)
        overlaps = scope.start < end and start < scope.end
        inside = start <= scope.start and scope.end <= end
        holds = overlaps and not inside and scope.kind == "class"
        if holds or (not overlaps and scope.name in used):
            lines.append(" ".join(scope.signature.split()))
            body = _body(node, parsed.spec) if scope.kind == "class" else None
            lines += ["    " + member for member in _members(parsed, body)] if body else []
    text = "\n".join(lines)
    return text if len(text) <= limit else text[:limit].rsplit("\n", 1)[0] + "\n…"


def call_sites(
    parsed: Parsed, name: str, start: int, end: int, limit: int = 3, max_chars: int = 1_200
) -> str:
    """How the rest of the file calls `name` (the function at text[start:end] an action works
    on), as the code a test has to imitate: for each of up to `limit` callers, its signature,
    the lines before the call that assign a name the call passes (`reader = Reader(stream)`),
    and the call's line; "..." where lines are left out. "" where the file never calls it."""
    text, spec = parsed.text, parsed.spec
    snippets: list[str] = []
    callers: set[int] = set()
    for match in re.finditer(rf"\b{re.escape(name)}\s*\(", text):
        at = match.start()
        byte = parsed.byte_at(at)
        node = parsed.tree.root_node.descendant_for_byte_range(byte, byte)
        if start <= at < end or node is None or not node.type.endswith("identifier"):
            continue  # inside the function itself, or in a comment or a string
        caller = node.parent
        while caller is not None and caller.type not in spec.functions:
            caller = caller.parent
        if caller is not None and _name_node(caller) == node:
            continue  # a definition of the name, not a call
        if caller is not None and caller.start_byte in callers:
            continue
        line_start = text.rfind("\n", 0, at) + 1
        line_end = text.find("\n", at)
        call_line = text[line_start : len(text) if line_end == -1 else line_end]
        lines = [call_line]
        if caller is not None:
            callers.add(caller.start_byte)
            passed = set(_WORD.findall(call_line[at - line_start + len(name) :]))
            first = parsed.offset_at(caller.start_byte)
            body = text[text.find("\n", first) + 1 : line_start].split("\n")
            assigns = [line for line in body if _assigns(line, passed)]
            gap = ["    ..."] if len(assigns) < len(body) - 1 else []
            lines = [_signature(parsed, caller), *assigns, *gap, call_line]
        snippets.append("\n".join(lines))
        if len(snippets) >= limit:
            break
    joined = "\n\n".join(snippets)
    return joined if len(joined) <= max_chars else joined[:max_chars].rsplit("\n", 1)[0] + "\n…"


def _assigns(line: str, names: set[str]) -> bool:
    """Whether a line of code assigns one of `names` (`x = `, `x: T = `, `x := `, `const x =`,
    `Reader x = `)."""
    match = re.match(r"\s*(?:[\w<>\[\],.*&]+\s+)*(\w+)\s*(?::[^=]*)?:?=(?!=)", line)
    return match is not None and match.group(1) in names


def _members(parsed: Parsed, body: Node) -> list[str]:
    """A class body's methods (signatures) and one-line fields (`key: str`, `size = 0`) in order;
    docstrings and comments left out."""
    spec = parsed.spec
    found: list[str] = []
    for child in body.named_children:
        if child.type in spec.wrappers or child.type in spec.functions | spec.classes:
            inner = _definitions_in(parsed, child) if child.type in spec.wrappers else [child]
            found += [" ".join(_signature(parsed, member).split()) for member in inner]
            continue
        text = parsed.node_text(child).strip()
        one_line = "\n" not in text and len(text) <= SIGNATURE_MAX_CHARS
        if one_line and child.type not in spec.comments and text[:1] not in "\"'`":
            found.append(text)
    return found


def _definitions_in(parsed: Parsed, node: Node) -> list[Node]:
    """The functions and classes directly in `node` (a module or a class body), through
    decorators and export statements."""
    spec = parsed.spec
    found: list[Node] = []
    for child in node.named_children:
        if child.type in spec.functions or child.type in spec.classes:
            found.append(child)
        elif child.type in spec.wrappers:
            found += _definitions_in(parsed, child)
    return found


# --- completion shape ------------------------------------------------------------------------


def completion_shape(parsed: Parsed, offset: int) -> Shape:
    """Multi-line in an empty block body, after a comment or a signature; single line inside an
    expression or a statement that already has code."""
    text = parsed.text
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    before = text[line_start:offset]
    after = text[offset : len(text) if line_end == -1 else line_end]
    if not set(after) <= _CLOSERS:
        return "single"
    byte = parsed.byte_at(offset)
    node = parsed.tree.root_node.descendant_for_byte_range(byte, byte)
    if node is not None and _inside_literal(node, byte):
        return "single"
    spec = parsed.spec
    if before.strip():
        # Right after a block opener at the end of a line (`def f():`, `{`): the body comes next.
        stripped = before.rstrip()
        return "multi" if stripped.endswith(spec.openers) else "single"
    # A blank line where statements go: a block may follow (the model ends the middle itself,
    # and the stop rules cut where it runs into the code after the gap).
    if node is not None and _in_expression(node, spec):
        return "single"
    return "multi"


def _inside_literal(node: Node, byte: int) -> bool:
    current: Node | None = node
    while current is not None:
        if current.type.endswith(_STRINGISH) and current.start_byte < byte < current.end_byte:
            return True  # finishing a string or a comment: one line
        current = current.parent
    return False


def _in_expression(node: Node, spec: LanguageSpec) -> bool:
    current: Node | None = node
    while current is not None:
        kind = current.type
        if kind in spec.blocks or kind in spec.functions or kind in spec.classes:
            return False
        if kind in _EXPRESSION_CONTAINERS:
            return True
        current = current.parent
    return False

"""Draws the API-call line cases (`python -m benchmarks.crossfile.api_cases` rewrites
cases-api.jsonl): lines of real projects in five languages that call a function or method defined
in another file of the same project, masked from their first non-blank character to their end.

A call counts when its target resolves statically to another file of the project (the rule per
language is in README.md): a name imported from that file (Python, TypeScript, JavaScript), a
package-level function of the same Go package or of an imported package of the project, a
function in a header the file includes (C++), a type of the project (Java), or a method of the
declared type of its receiver (a parameter, a local or field declared with a type, a constructor
call assigned). Python's sites are the cross-file cases' own (`cases.py`, with `ast`); the other
languages are parsed with tree-sitter. A line is drawn when it holds exactly one statement (no
comment, nothing else), or the header of a block (`if (x.ok()) {`), that contains such a call; its
kind and name are those of its leftmost one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tree_sitter import Node
from tree_sitter_language_pack import get_parser

from . import cases as python_cases
from .cases import Case, draw_packages, load_cases, write_cases
from .packages import PACKAGES, Package, source_files

HERE = Path(__file__).resolve().parent
CASES_API = HERE / "cases-api.jsonl"
KINDS = ("function", "constructor", "qualified", "method", "inherited")
PER_LANGUAGE = 32  # TypeScript and JavaScript share one quota
MAX_LINE = 120  # longer lines are left out: nobody completes a 200-character line exactly
LANGUAGES = ("python", "typescript", "javascript", "go", "cpp", "java")

# The nodes a line must consist of, one alone (a wrapper such as `export` is taken with it)
STATEMENTS = {
    "go": {"expression_statement", "short_var_declaration", "assignment_statement",
           "return_statement", "var_declaration", "go_statement", "defer_statement"},
    "java": {"expression_statement", "local_variable_declaration", "return_statement",
             "field_declaration", "throw_statement"},
    "cpp": {"expression_statement", "declaration", "return_statement", "field_declaration"},
    "typescript": {"expression_statement", "lexical_declaration", "variable_declaration",
                   "return_statement", "throw_statement"},
}  # fmt: skip
STATEMENTS["javascript"] = STATEMENTS["typescript"]
WRAPPERS = {"export_statement"}
# Statements whose header line (`if (x.ok()) {`) is a case when it is the line's only content and
# ends with the block's opening brace
HEADERS = {
    "go": {"if_statement", "for_statement", "expression_switch_statement",
           "type_switch_statement"},
    "java": {"if_statement", "while_statement", "for_statement", "enhanced_for_statement",
             "switch_expression", "synchronized_statement", "try_with_resources_statement"},
    "cpp": {"if_statement", "while_statement", "for_statement", "for_range_loop",
            "switch_statement"},
    "typescript": {"if_statement", "while_statement", "for_statement", "for_in_statement",
                   "switch_statement"},
}  # fmt: skip
HEADERS["javascript"] = HEADERS["typescript"]


@dataclass(frozen=True)
class Call:
    node: Node  # the call expression
    name: str  # the called name as written at its end (`f`, `m` of `x.m`)
    kind: str
    defining_file: str


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def text(node: Node | None) -> str:
    return node.text.decode("utf-8") if node is not None and node.text is not None else ""


# An upper-case macro used as an annotation (`class SPDLOG_API logger`, `FMT_CONSTEXPR auto f()`)
# or alone on its line (`FMT_BEGIN_NAMESPACE`): tree-sitter takes it for the class's or the return
# type's name, or loses the declaration after it, so it is blanked before parsing (same length: the
# offsets stay); function-like macros (`FMT_THROW(...)`) are kept
CPP_MACRO = re.compile(rb"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+(?=[ \t]+[A-Za-z_~]|[ \t]*$)")
CPP_NAMESPACE = re.compile(r"\bnamespace\s+(\w+)")


def parse(language: str, path: Path) -> Node:
    source = path.read_bytes()
    if language == "cpp":
        source = _blank_annotations(source)
    return get_parser(language).parse(source).root_node  # type: ignore[arg-type]


def _blank_annotations(source: bytes) -> bytes:
    lines = source.split(b"\n")
    for index, line in enumerate(lines):
        if not line.lstrip().startswith(b"#"):
            lines[index] = CPP_MACRO.sub(lambda m: b" " * len(m.group(0)), line)
    return b"\n".join(lines)


def other(files: set[str] | None, here: str) -> str | None:
    """The defining file when the name is defined elsewhere and not in `here`, else None."""
    if not files or here in files:
        return None
    return min(files)


# ---------------------------------------------------------------------------- Go


def go_calls(root: Path, files: list[str]) -> dict[str, list[Call]]:
    trees = {f: parse("go", root / f) for f in files}
    folder = {f: str(PurePosixPath(f).parent) for f in files}
    funcs: dict[tuple[str, str], set[str]] = defaultdict(set)
    methods: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    package_name: dict[str, str] = {}
    for f, tree in trees.items():
        for node in tree.children:
            if node.type == "package_clause":
                package_name[folder[f]] = text(node.named_children[0])
            elif node.type == "function_declaration":
                funcs[(folder[f], text(node.child_by_field_name("name")))].add(f)
            elif node.type == "method_declaration":
                receiver = node.child_by_field_name("receiver")
                params = receiver.named_children if receiver else []
                kind = params[0].child_by_field_name("type") if params else None
                typed = _go_type(kind, folder[f], {})
                if typed:
                    methods[(*typed, text(node.child_by_field_name("name")))].add(f)
    source_root = files[0].split("/src/", 1)[0] + "/src/" if files else ""
    out: dict[str, list[Call]] = {}
    for f, tree in trees.items():
        imports: dict[str, str] = {}
        for spec in walk(tree):
            if spec.type == "import_spec":
                path = text(spec.child_by_field_name("path")).strip('"`')
                target = source_root + path
                if target in package_name:
                    alias = spec.child_by_field_name("name")
                    imports[text(alias) if alias else package_name[target]] = target
        calls: list[Call] = []
        for declaration in tree.children:
            if declaration.type not in ("function_declaration", "method_declaration"):
                continue
            types = _go_locals(declaration, folder[f], imports)
            for node in walk(declaration):
                if node.type != "call_expression":
                    continue
                callee = node.child_by_field_name("function")
                if callee is None:
                    continue
                if callee.type == "identifier":
                    where = other(funcs.get((folder[f], text(callee))), f)
                    if where:
                        calls.append(Call(node, text(callee), "function", where))
                elif callee.type == "selector_expression":
                    operand = callee.child_by_field_name("operand")
                    name = text(callee.child_by_field_name("field"))
                    if operand is None or operand.type != "identifier":
                        continue
                    variable = text(operand)
                    if variable in types:
                        where = other(methods.get((*types[variable], name)), f)
                        if where:
                            calls.append(Call(node, name, "method", where))
                    elif variable in imports:
                        where = other(funcs.get((imports[variable], name)), f)
                        if where:
                            calls.append(Call(node, name, "qualified", where))
        out[f] = calls
    return out


def _go_type(node: Node | None, here: str, imports: dict[str, str]) -> tuple[str, str] | None:
    """(package folder, type name) of a type expression naming one of the project's types."""
    if node is None:
        return None
    if node.type == "type_identifier":
        return here, text(node)
    if node.type in ("pointer_type", "generic_type"):
        inner = node.child_by_field_name("type")
        if inner is None and node.named_children:
            inner = node.named_children[0]
        return _go_type(inner, here, imports)
    if node.type == "qualified_type":
        package = text(node.child_by_field_name("package"))
        if package in imports:
            return imports[package], text(node.child_by_field_name("name"))
    return None


def _go_locals(declaration: Node, here: str, imports: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Names declared with a type in a function: receiver, parameters, `var x T`, `x := T{...}` or
    `x := &T{...}`; a name declared twice with different types is left out."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for node in walk(declaration):
        if node.type in ("parameter_declaration", "var_spec"):
            typed = _go_type(node.child_by_field_name("type"), here, imports)
            if typed:
                for name in node.children_by_field_name("name"):
                    found[text(name)].add(typed)
        elif node.type == "short_var_declaration":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left and right and len(left.named_children) == len(right.named_children) == 1:
                value = right.named_children[0]
                if value.type == "unary_expression":
                    value = value.child_by_field_name("operand") or value
                if value.type == "composite_literal":
                    typed = _go_type(value.child_by_field_name("type"), here, imports)
                    if typed:
                        found[text(left.named_children[0])].add(typed)
    return {name: next(iter(types)) for name, types in found.items() if len(types) == 1}


# ---------------------------------------------------------------------------- Java


@dataclass
class JavaType:
    file: str
    methods: set[str]
    supers: list[str]


def _java_type_name(node: Node | None) -> str:
    if node is None:
        return ""
    if node.type == "type_identifier":
        return text(node)
    if node.type == "generic_type":
        return _java_type_name(node.named_children[0])
    if node.type == "scoped_type_identifier":
        return text(node.named_children[-1])
    return ""


JAVA_TYPES = ("class_declaration", "interface_declaration", "enum_declaration",
              "record_declaration")  # fmt: skip


def _java_members(body: Node | None) -> Iterator[Node]:
    for child in body.named_children if body else []:
        if child.type == "enum_body_declarations":
            yield from child.named_children
        else:
            yield child


def java_calls(root: Path, files: list[str]) -> dict[str, list[Call]]:
    trees = {f: parse("java", root / f) for f in files}
    types: dict[str, JavaType | None] = {}
    for f, tree in trees.items():
        for node in walk(tree):
            if node.type not in JAVA_TYPES:
                continue
            name = text(node.child_by_field_name("name"))
            supers: list[str] = []
            for clause in node.named_children:
                if clause.type == "superclass":
                    supers += [_java_type_name(t) for t in clause.named_children]
                elif clause.type in ("super_interfaces", "extends_interfaces"):
                    for type_list in clause.named_children:
                        supers += [_java_type_name(t) for t in type_list.named_children]
            methods = {
                text(m.child_by_field_name("name"))
                for m in _java_members(node.child_by_field_name("body"))
                if m.type == "method_declaration"
            }
            # a name two types share (nested types of the same name) resolves to neither
            types[name] = None if name in types else JavaType(f, methods, [s for s in supers if s])

    def find(type_name: str, method: str, depth: int = 0) -> str | None:
        info = types.get(type_name)
        if info is None or depth > 8:
            return None
        if method in info.methods:
            return info.file
        for parent in info.supers:
            hit = find(parent, method, depth + 1)
            if hit:
                return hit
        return None

    out: dict[str, list[Call]] = {}
    for f, tree in trees.items():
        calls: list[Call] = []
        for node in walk(tree):
            if node.type == "object_creation_expression":
                name = _java_type_name(node.child_by_field_name("type"))
                info = types.get(name)
                if info and info.file != f:
                    calls.append(Call(node, name, "constructor", info.file))
            elif node.type == "method_invocation":
                call = _java_call(node, f, find, types)
                if call:
                    calls.append(call)
        out[f] = calls
    return out


def _java_call(
    node: Node, here: str, find: Callable[[str, str], str | None], types: dict[str, JavaType | None]
) -> Call | None:
    method = text(node.child_by_field_name("name"))
    receiver = node.child_by_field_name("object")
    classes = [a for a in _ancestors(node) if a.type in JAVA_TYPES]
    if receiver is None or receiver.type in ("this", "super"):
        own = any(
            m.type == "method_declaration" and text(m.child_by_field_name("name")) == method
            for c in classes
            for m in _java_members(c.child_by_field_name("body"))
        )
        if own and receiver is not None and receiver.type == "super":
            own = False
        if own or not classes:
            return None
        info = types.get(text(classes[0].child_by_field_name("name")))
        for parent in info.supers if info else []:
            where = find(parent, method)
            if where and where != here:
                return Call(node, method, "inherited", where)
        return None
    variable = ""
    if receiver.type == "identifier":
        variable = text(receiver)
    elif receiver.type == "field_access" and text(receiver.child_by_field_name("object")) == "this":
        variable = text(receiver.child_by_field_name("field"))
    if not variable:
        return None
    declared = _java_declared(node, variable, receiver.type == "field_access")
    if declared:
        where = find(declared, method)
        if where and where != here:
            return Call(node, method, "method", where)
    elif declared is None and variable in types and receiver.type == "identifier":
        where = find(variable, method)
        if where and where != here:
            return Call(node, method, "qualified", where)
    return None


def _java_declared(node: Node, name: str, field_only: bool) -> str | None:
    """The declared type of `name` at node: a parameter or local of the enclosing method(s), or a
    field of the enclosing classes (innermost first); "" when declared with a type this does not
    read; None when not declared."""
    for scope in _ancestors(node):
        declarations: list[Node] = []
        if scope.type in ("method_declaration", "constructor_declaration", "lambda_expression"):
            if field_only:
                continue
            declarations = [
                n for n in walk(scope)
                if n.type in ("formal_parameter", "local_variable_declaration",
                              "enhanced_for_statement", "catch_formal_parameter")
            ]  # fmt: skip
        elif scope.type in JAVA_TYPES:
            declarations = [
                m for m in _java_members(scope.child_by_field_name("body"))
                if m.type == "field_declaration"
            ]  # fmt: skip
        for declaration in declarations:
            names = [declaration.child_by_field_name("name")] + [
                d.child_by_field_name("name")
                for d in declaration.children_by_field_name("declarator")
            ]
            if any(text(n) == name for n in names if n is not None):
                return _java_type_name(declaration.child_by_field_name("type"))
    return None


def _ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


# ---------------------------------------------------------------------------- C++


def _cpp_name(node: Node | None) -> tuple[str, str]:
    """(scope, name) of a declarator or callee: `f`, `ns::f`, `T::f`, `f<int>`."""
    if node is None:
        return "", ""
    if node.type in ("identifier", "field_identifier", "type_identifier"):
        return "", text(node)
    if node.type in ("template_function", "template_method", "template_type"):
        return _cpp_name(node.child_by_field_name("name"))
    if node.type == "qualified_identifier":
        scope = node.child_by_field_name("scope")
        _, name = _cpp_name(node.child_by_field_name("name"))
        inner = _cpp_name(scope)[1] if scope is not None else ""
        return inner, name
    if node.type in ("namespace_identifier",):
        return "", text(node)
    return "", ""


def _cpp_function_name(declarator: Node | None) -> tuple[str, str]:
    """The (scope, name) a function declarator declares, through pointers and references."""
    while declarator is not None and declarator.type != "function_declarator":
        inner = declarator.child_by_field_name("declarator")
        declarator = inner if inner is not None else None
    if declarator is None:
        return "", ""
    return _cpp_name(declarator.child_by_field_name("declarator"))


def _cpp_variable(declarator: Node | None) -> str:
    while declarator is not None and declarator.type not in ("identifier", "field_identifier"):
        inner = declarator.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in declarator.named_children if c.type == "identifier"), None)
        declarator = inner
    return text(declarator)


def cpp_calls(root: Path, files: list[str]) -> dict[str, list[Call]]:
    trees = {f: parse("cpp", root / f) for f in files}
    include_root = files[0].split("/include/", 1)[0] + "/include/" if files else ""
    includes: dict[str, set[str]] = {}
    funcs: dict[str, set[str]] = defaultdict(set)
    classes: dict[str, set[str]] = defaultdict(set)  # class name -> files defining it
    members: dict[tuple[str, str], set[str]] = defaultdict(set)  # (class, method) -> files
    qualified: list[tuple[str, str, str]] = []  # (scope, name, file): `T::m` or `ns::f` defined
    namespaces = {  # read from the text: a macro before `namespace x {` hides it from the parse
        name for f in files for name in CPP_NAMESPACE.findall((root / f).read_text("utf-8"))
    }
    for f, tree in trees.items():
        includes[f] = set()
        for node in walk(tree):
            if node.type == "preproc_include":
                path = text(node.child_by_field_name("path")).strip('"<>')
                for candidate in (str(PurePosixPath(f).parent / path), include_root + path):
                    if candidate in trees:
                        includes[f].add(candidate)
                        break
            elif node.type in ("class_specifier", "struct_specifier"):
                body = node.child_by_field_name("body")
                if body is None:
                    continue
                name = _cpp_name(node.child_by_field_name("name"))[1]
                classes[name].add(f)
                for member in body.named_children:
                    if member.type == "template_declaration":
                        member = member.named_children[-1]
                    if member.type in ("function_definition", "field_declaration", "declaration"):
                        method = _cpp_function_name(member.child_by_field_name("declarator"))[1]
                        if method:
                            members[(name, method)].add(f)
            elif node.type in ("function_definition", "declaration"):
                scope, name = _cpp_function_name(node.child_by_field_name("declarator"))
                if name and scope:
                    qualified.append((scope, name, f))
                elif name and not _in_class(node):
                    funcs[name].add(f)
    for scope, name, f in qualified:  # a class's method defined outside it, or ns::f
        (members[(scope, name)] if scope in classes else funcs[name]).add(f)
    closure = {f: _closure(f, includes) for f in trees}
    out: dict[str, list[Call]] = {}
    for f, tree in trees.items():
        seen = closure[f]
        calls: list[Call] = []
        for node in walk(tree):
            if node.type != "call_expression":
                continue
            callee = node.child_by_field_name("function")
            if callee is None:
                continue
            if callee.type == "field_expression":
                argument = callee.child_by_field_name("argument")
                name = _cpp_name(callee.child_by_field_name("field"))[1]
                declared = _cpp_declared(node, text(argument)) if argument is not None else ""
                where = other(members.get((declared, name), set()) & seen, f)
                if where and declared and f not in members.get((declared, name), set()):
                    calls.append(Call(node, name, "method", where))
                continue
            scope, name = _cpp_name(callee)
            if not name or (scope and scope not in classes and scope not in namespaces):
                continue  # `std::find`, or a scope this does not know (a template parameter)
            defined = funcs.get(name, set()) | members.get((scope, name), set())
            if f in defined or f in classes.get(name, set()):
                continue
            if not scope and any(
                (_cpp_name(c.child_by_field_name("name"))[1], name) in members
                for c in _ancestors(node)
                if c.type in ("class_specifier", "struct_specifier")
            ):
                continue  # a member of the class it is called in
            if name in classes:
                where = other(classes[name] & seen, f)
                if where:
                    calls.append(Call(node, name, "constructor", where))
                continue
            where = other(defined & seen, f)
            if where:
                calls.append(Call(node, name, "qualified" if scope else "function", where))
        out[f] = calls
    return out


def _in_class(node: Node) -> bool:
    return any(a.type == "field_declaration_list" for a in _ancestors(node))


def _closure(start: str, includes: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        for included in includes.get(current, set()):
            if included not in seen:
                seen.add(included)
                stack.append(included)
    seen.discard(start)
    return seen


def _cpp_declared(node: Node, name: str) -> str:
    """The class name a variable is declared with in the enclosing function (a parameter or a
    local declaration): `const T& x`, `T* x`, `ns::T x`, `T<U> x`; "" when not found."""
    for scope in _ancestors(node):
        if scope.type not in ("function_definition", "lambda_expression"):
            continue
        for declaration in walk(scope):
            if declaration.type not in ("parameter_declaration", "declaration"):
                continue
            for declarator in declaration.children_by_field_name("declarator"):
                if _cpp_variable(declarator) == name:
                    return _cpp_name(declaration.child_by_field_name("type"))[1]
    return ""


# ---------------------------------------------------------------------------- TypeScript, JavaScript


@dataclass
class Module:
    file: str
    defined: set[str] = field(default_factory=set)  # top-level declarations
    default: str = ""  # the local name the default export refers to
    reexports: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (file, name)
    star: list[str] = field(default_factory=list)  # `export * from` files
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (file, name|*)
    members: dict[str, set[str]] = field(default_factory=dict)  # class/interface -> members
    bases: dict[str, str] = field(default_factory=dict)  # class -> the local name it extends


def _resolve_specifier(here: str, spec: str, files: set[str]) -> str | None:
    if not spec.startswith("."):
        return None
    base = PurePosixPath(here).parent / spec
    stem = str(base)
    for candidate in (stem, stem[:-3] if stem.endswith(".js") else stem):
        for suffix in ("", ".ts", ".tsx", ".js", "/index.ts", "/index.js"):
            path = str(PurePosixPath(candidate + suffix))
            parts: list[str] = []
            for part in path.split("/"):
                if part == "..":
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            normal = "/".join(parts)
            if normal in files:
                return normal
    return None


def _js_module(f: str, tree: Node, files: set[str]) -> Module:
    module = Module(f)
    for statement in tree.named_children:
        source = statement.child_by_field_name("source")
        target = _resolve_specifier(f, text(source)[1:-1], files) if source is not None else None
        if statement.type == "import_statement":
            if target is None:
                continue
            for clause in statement.named_children:
                if clause.type != "import_clause":
                    continue
                for part in clause.named_children:
                    if part.type == "identifier":
                        module.imports[text(part)] = (target, "default")
                    elif part.type == "namespace_import":
                        module.imports[text(part.named_children[0])] = (target, "*")
                    elif part.type == "named_imports":
                        for spec in part.named_children:
                            name = text(spec.child_by_field_name("name"))
                            alias = spec.child_by_field_name("alias")
                            module.imports[text(alias) if alias else name] = (target, name)
            continue
        if statement.type == "export_statement":
            if target is not None:
                clauses = [c for c in statement.named_children if c.type == "export_clause"]
                if not clauses:
                    module.star.append(target)
                for clause in clauses:
                    for spec in clause.named_children:
                        name = text(spec.child_by_field_name("name"))
                        alias = spec.child_by_field_name("alias")
                        module.reexports[text(alias) if alias else name] = (target, name)
                continue
            declaration = statement.child_by_field_name("declaration")
            value = statement.child_by_field_name("value")
            if any(c.type == "default" for c in statement.children):
                if declaration is not None:  # export default function f() / class C
                    module.default = text(declaration.child_by_field_name("name"))
                elif value is not None and value.type == "identifier":  # export default f;
                    module.default = text(value)
            statement = declaration if declaration is not None else statement
        _js_declare(module, statement)
    return module


def _js_declare(module: Module, statement: Node) -> None:
    if statement.type in ("function_declaration", "generator_function_declaration"):
        module.defined.add(text(statement.child_by_field_name("name")))
    elif statement.type in ("class_declaration", "abstract_class_declaration",
                            "interface_declaration"):  # fmt: skip
        name = text(statement.child_by_field_name("name"))
        module.defined.add(name)
        body = statement.child_by_field_name("body")
        module.members[name] = {
            text(m.child_by_field_name("name"))
            for m in (body.named_children if body else [])
            if m.child_by_field_name("name") is not None
        }
        heritage = next((c for c in statement.named_children if c.type == "class_heritage"), None)
        if heritage is not None:  # TypeScript: extends_clause's value; JavaScript: the expression
            clause = next((c for c in heritage.named_children if c.type == "extends_clause"), None)
            base = clause.child_by_field_name("value") if clause is not None else None
            base = base if base is not None else heritage.named_children[0]
            if base.type == "identifier":
                module.bases[name] = text(base)
    elif statement.type in ("lexical_declaration", "variable_declaration"):
        for declarator in statement.named_children:
            if declarator.type == "variable_declarator":
                module.defined.add(text(declarator.child_by_field_name("name")))


JS_CLASSES = ("class_declaration", "abstract_class_declaration")


def js_calls(root: Path, files: list[str], language: str) -> dict[str, list[Call]]:
    trees = {f: parse(language, root / f) for f in files}
    modules = {f: _js_module(f, tree, set(trees)) for f, tree in trees.items()}

    def resolve(file: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        """(file, local name) where `name`, as exported by `file`, is declared."""
        module = modules.get(file)
        if module is None or depth > 6:
            return None
        if name == "default":
            if module.default in module.defined:
                return file, module.default
            if module.default in module.imports:
                return resolve(*module.imports[module.default], depth + 1)
            return None
        if name in module.defined:
            return file, name
        if name in module.reexports:
            return resolve(*module.reexports[name], depth + 1)
        if name in module.imports and module.imports[name][1] != "*":
            return resolve(*module.imports[name], depth + 1)
        for star in module.star:
            hit = resolve(star, name, depth + 1)
            if hit:
                return hit
        return None

    def imported(module: Module, local: str) -> tuple[str, str] | None:
        target = module.imports.get(local)
        if target is None or target[1] == "*":
            return None
        return resolve(*target)

    def member_of(declared: tuple[str, str] | None, name: str, depth: int = 0) -> str | None:
        """The file declaring member `name` of a class/interface, following `extends`."""
        if declared is None or depth > 6:
            return None
        module = modules[declared[0]]
        if name in module.members.get(declared[1], set()):
            return declared[0]
        base = module.bases.get(declared[1])
        if not base:
            return None
        hit = (declared[0], base) if base in module.defined else imported(module, base)
        return member_of(hit, name, depth + 1)

    out: dict[str, list[Call]] = {}
    for f, tree in trees.items():
        module = modules[f]
        calls: list[Call] = []
        for node in walk(tree):
            if node.type == "call_expression":
                callee = node.child_by_field_name("function")
            elif node.type == "new_expression":
                callee = node.child_by_field_name("constructor")
            else:
                continue
            if callee is None:
                continue
            if callee.type == "identifier" and text(callee) not in module.defined:
                hit = imported(module, text(callee))
                if hit and hit[0] != f:
                    is_class = hit[1] in modules[hit[0]].members
                    kind = (
                        "constructor" if node.type == "new_expression" or is_class else "function"
                    )
                    calls.append(Call(node, text(callee), kind, hit[0]))
            elif callee.type == "member_expression":
                receiver = callee.child_by_field_name("object")
                name = text(callee.child_by_field_name("property"))
                if receiver is None:
                    continue
                target = module.imports.get(text(receiver))
                if receiver.type == "identifier" and target and target[1] == "*":
                    hit = resolve(target[0], name)
                    if hit and hit[0] != f:
                        calls.append(Call(node, name, "qualified", hit[0]))
                elif receiver.type == "this":
                    cls = next((a for a in _ancestors(node) if a.type in JS_CLASSES), None)
                    own = text(cls.child_by_field_name("name")) if cls is not None else ""
                    if own and name not in module.members.get(own, set()):
                        where = member_of((f, own), name)
                        if where and where != f:
                            calls.append(Call(node, name, "inherited", where))
                elif receiver.type == "identifier":
                    declared = _js_declared(node, text(receiver))
                    if declared and declared not in module.defined:
                        where = member_of(imported(module, declared), name)
                        if where and where != f:
                            calls.append(Call(node, name, "method", where))
        out[f] = calls
    return out


def _js_declared(node: Node, name: str) -> str:
    """The type a parameter of an enclosing function is annotated with (`x: T`, `x: T<U>`)."""
    for scope in _ancestors(node):
        parameters = scope.child_by_field_name("parameters")
        if parameters is None:
            continue
        for parameter in parameters.named_children:
            if text(parameter.child_by_field_name("pattern")) != name:
                continue
            annotation = parameter.child_by_field_name("type")
            typed = annotation.named_children[0] if annotation is not None else None
            if typed is not None and typed.type == "generic_type":
                typed = typed.child_by_field_name("name")
            return text(typed) if typed is not None and typed.type == "type_identifier" else ""
    return ""


# ---------------------------------------------------------------------------- lines


def nearest(node: Node, types: set[str]) -> Node | None:
    current: Node | None = node
    while current is not None and current.type not in types:
        current = current.parent
    while current is not None and current.parent is not None and current.parent.type in WRAPPERS:
        current = current.parent
    return current


def case_row(call: Node, language: str, lines: list[str]) -> int | None:
    """The 0-based line the call makes a case of: a line that is one statement alone (no comment,
    nothing else on it), or the header line of an `if`/`for`/`while`/`switch` that opens its block
    with `{` (nothing else on it); else None."""
    statement = nearest(call, STATEMENTS[language])
    if statement is not None and statement.start_point.row == statement.end_point.row:
        row = statement.start_point.row
        if lines[row].strip() == text(statement).strip():
            return row
    header = nearest(call, HEADERS[language])
    if header is None or header.start_point.row != call.start_point.row:
        return None
    row = header.start_point.row
    line = lines[row].strip()
    first = text(header).split("\n", 1)[0].strip()
    if line == first and line.endswith("{") and "//" not in line and "/*" not in line:
        return row
    return None


def line_cases(package: Package, root: Path, calls: dict[str, list[Call]]) -> list[Case]:
    """One case per line that is one statement alone, or a block's header, holding a cross-file
    call."""
    out: list[Case] = []
    for file, found in calls.items():
        lines = (root / file).read_text(encoding="utf-8").split("\n")
        by_line: dict[int, Call] = {}
        for call in found:
            row = case_row(call.node, package.language, lines)
            if row is None:
                continue
            best = by_line.get(row)
            if best is None or call.node.start_byte < best.node.start_byte:
                by_line[row] = call
        for row, call in sorted(by_line.items()):
            out.append(_case(package, file, row + 1, lines[row], call.kind, call.name,
                             call.defining_file))  # fmt: skip
    return out


def _case(
    package: Package, file: str, line: int, text_: str, kind: str, name: str, defining: str
) -> Case:
    return Case(
        id=f"{package.name}:{file}:{line}",
        package=package.name,
        version=package.version,
        file=file,
        line=line,
        column=len(text_) - len(text_.lstrip()),
        expected=text_.strip(),
        defining_file=defining,
        kind=kind,
        name=name,
    )


def python_line_cases(package: Package, root: Path) -> list[Case]:
    """The cross-file cases' Python sites that are calls (the name followed by `(`), as whole
    lines."""
    out = []
    for site in python_cases.candidates(package, root):
        after = site.expected[len(site.name) :].lstrip()
        if site.kind == "attribute" or not after.startswith("("):
            continue
        line = (root / site.file).read_text(encoding="utf-8").split("\n")[site.line - 1]
        if "#" in line:
            continue
        kind = "qualified" if site.kind == "module_attr" else site.kind
        out.append(_case(package, site.file, site.line, line, kind, site.name,
                         site.defining_file))  # fmt: skip
    return out


def candidates(package: Package, root: Path) -> list[Case]:
    """Every eligible line of the package, one case per line."""
    if package.language == "python":
        found = python_line_cases(package, root)
    else:
        files = [p.as_posix() for p in source_files(package, root)]
        if package.language == "go":
            calls = go_calls(root, files)
        elif package.language == "java":
            calls = java_calls(root, files)
        elif package.language == "cpp":
            calls = cpp_calls(root, files)
        else:
            calls = js_calls(root, files, package.language)
        found = line_cases(package, root, calls)
    return [case for case in found if len(case.expected) <= MAX_LINE]


def load_api_cases(path: Path = CASES_API) -> list[Case]:
    return load_cases(path)


def main() -> int:
    chosen: list[Case] = []
    for language in LANGUAGES:
        family = [p for p in PACKAGES if p.suite == "api" and p.language in _family(language)]
        quota = -(-PER_LANGUAGE // len(family)) if family else 0
        packages = [p for p in family if p.language == language]
        chosen += draw_packages(packages, candidates, quota, KINDS)
    write_cases(chosen, CASES_API)
    return 0


def _family(language: str) -> tuple[str, ...]:
    """TypeScript and JavaScript share one quota (one language family in the figures)."""
    return ("typescript", "javascript") if language in ("typescript", "javascript") else (language,)


if __name__ == "__main__":
    raise SystemExit(main())

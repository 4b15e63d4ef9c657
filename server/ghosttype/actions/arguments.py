"""A call of a Python function with arguments of its annotated types, for the Generate tests
prompt: given `def parse_key(reader: Reader)` and `Reader(stream: IO[str])`, a small model
passes a str or a list and every test fails; shown `parse_key(Reader(io.StringIO("text")))` it
builds them. From the annotations alone (ast); pure."""

from __future__ import annotations

import ast

# Values of standard annotations, by the annotation's last name.
_PLAIN = {
    "str": '"text"',
    "int": "1",
    "float": "1.5",
    "bool": "True",
    "bytes": 'b"text"',
    "Path": 'pathlib.Path("file.txt")',
    "TextIO": 'io.StringIO("text")',
    "BinaryIO": 'io.BytesIO(b"text")',
}
_CONTAINERS = {"list": "[{}]", "List": "[{}]", "Sequence": "[{}]", "Iterable": "[{}]"}
_DEPTH = 3


def example_call(source: str, name: str) -> str:
    """`name(...)` (a top-level function) or `Class(...).name(...)` (a method) with an example
    value for each parameter without a default. "" where an annotation is missing or unknown,
    and where every argument is a plain value (a small model gets those right)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    builder = _Builder(classes)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            arguments = builder.arguments(node, 0)
            call = None if arguments is None else f"{name}({arguments})"
            return call if call and builder.built_something else ""
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and member.name == name:
                    instance = builder.instance(node.name, 0)
                    arguments = builder.arguments(member, 0)
                    if instance is None or arguments is None:
                        return ""
                    return f"{instance}.{name}({arguments})" if builder.built_something else ""
    return ""


class _Builder:
    def __init__(self, classes: dict[str, ast.ClassDef]):
        self.classes = classes
        # A constructor or a stream was needed: the example says something a signature doesn't.
        self.built_something = False

    def arguments(self, function: ast.FunctionDef | ast.AsyncFunctionDef, depth: int) -> str | None:
        positional = function.args.posonlyargs + function.args.args
        required = positional[: len(positional) - len(function.args.defaults)]
        if required and required[0].arg in ("self", "cls"):
            required = required[1:]
        values = [self.value(argument.annotation, depth) for argument in required]
        if any(value is None for value in values):
            return None
        return ", ".join(value for value in values if value is not None)

    def instance(self, class_name: str, depth: int) -> str | None:
        cls = self.classes[class_name]
        init = next(
            (m for m in cls.body if isinstance(m, ast.FunctionDef) and m.name == "__init__"), None
        )
        if init is None:
            fields = [f for f in cls.body if isinstance(f, ast.AnnAssign) and f.value is None]
            values = [self.value(f.annotation, depth) for f in fields]  # a dataclass's fields
            if any(value is None for value in values):
                return None
            return f"{class_name}({', '.join(v for v in values if v is not None)})"
        arguments = self.arguments(init, depth)
        return None if arguments is None else f"{class_name}({arguments})"

    def value(self, annotation: ast.expr | None, depth: int) -> str | None:
        if annotation is None or depth > _DEPTH:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:  # a string annotation: "Reader"
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            # `X | None`: the first that is not None
            left = annotation.left
            is_none = isinstance(left, ast.Constant) and left.value is None
            return self.value(annotation.right if is_none else left, depth)
        if isinstance(annotation, ast.Subscript):
            outer = _last_name(annotation.value)
            inner = annotation.slice
            if outer in ("IO", "Pattern"):
                self.built_something = True
                text = _last_name(inner) == "str"
                if outer == "IO":
                    return 'io.StringIO("text")' if text else 'io.BytesIO(b"text")'
                return 're.compile("text")' if text else 're.compile(b"text")'
            if outer == "Optional":
                return self.value(inner, depth)
            if outer in _CONTAINERS:
                element = self.value(inner, depth + 1)
                return None if element is None else _CONTAINERS[outer].format(element)
            return None
        name = _last_name(annotation)
        if name in _PLAIN:
            self.built_something |= name in ("Path", "TextIO", "BinaryIO")
            return _PLAIN[name]
        if name in self.classes:
            self.built_something = True
            return self.instance(name, depth + 1)
        return None


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""

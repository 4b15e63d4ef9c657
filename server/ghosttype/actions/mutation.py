"""Simple changes to a Python function (an operator, a comparison, a constant, a returned value),
for checking that generated tests notice them: a test that still passes when `value > high`
becomes `value >= high` does not check the boundary. Pure: the runs are testgen's."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from .target import Target

# Runs of the tests against changed code that an action may spend (each is one test run).
MUTANTS_MAX = 6

_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


@dataclass(frozen=True)
class Mutant:
    change: str  # "line 4: `value > high` became `value >= high`", told to the model
    source: str  # the whole file with the change


def mutants(text: str, target: Target, limit: int = MUTANTS_MAX) -> list[Mutant]:
    """The file `text` with one change each in `target` (a Python function or class), spread
    over its body; [] where it does not parse alone (a selection) or offers nothing to change."""
    line_start = text.rfind("\n", 0, target.start) + 1
    indent = text[line_start : target.start]
    if indent.strip():
        return []  # the definition shares its line with other code
    block = textwrap.dedent(text[line_start : target.end])
    try:
        count = len(_sites(ast.parse(block)))
    except SyntaxError:
        return []
    chosen = range(count) if count <= limit else [i * count // limit for i in range(limit)]
    first_line = text.count("\n", 0, line_start) + 1
    found: list[Mutant] = []
    for index in chosen:
        tree = ast.parse(block)  # afresh: each mutant has one change
        node = _sites(tree)[index]
        before = ast.unparse(node)
        _change(node)
        after = ast.unparse(node)
        changed = textwrap.indent(ast.unparse(tree), indent)
        source = text[:line_start] + changed + text[target.end :]
        line = first_line + node.lineno - 1
        found.append(Mutant(f"line {line}: `{before}` became `{after}`", source))
    return found


def _sites(tree: ast.Module) -> list[ast.expr | ast.stmt]:
    """What can be changed, in source order (mutants picks a spread of them); docstrings and
    other bare literals that open a body are left alone."""
    docs = {
        id(body[0].value)
        for node in ast.walk(tree)
        if isinstance(body := getattr(node, "body", None), list)
        and body
        and isinstance(body[0], ast.Expr)
    }
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.expr | ast.stmt) and _changeable(node) and id(node) not in docs
    ]
    return sorted(found, key=lambda node: (node.lineno, node.col_offset))


def _changeable(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp | ast.BoolOp):
        return type(node.op) in _SWAPS
    if isinstance(node, ast.Compare):
        return type(node.ops[0]) in _SWAPS
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | str) and not isinstance(node.value, bool)
    return isinstance(node, ast.Return) and node.value is not None


def _change(node: ast.AST) -> None:
    if isinstance(node, ast.BinOp | ast.BoolOp):
        node.op = _SWAPS[type(node.op)]()
    elif isinstance(node, ast.Compare):
        node.ops = [_SWAPS[type(node.ops[0])](), *node.ops[1:]]
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, int):
            node.value += 1
        elif isinstance(node.value, str):
            node.value += "x"
    elif isinstance(node, ast.Return):
        node.value = ast.Constant(None)

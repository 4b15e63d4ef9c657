"""What an action works on: the function or class at a range (tree-sitter, through the context's
SyntaxIndex), or the selected code where there is none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from ..context.syntax import Parsed, SyntaxIndex, call_sites, related_outline
from ..documents import Document
from .arguments import example_call

# Wrappers whose range is the definition's own (decorators belong to the function).
_OUTER = frozenset({"decorated_definition", "export_statement"})


@dataclass(frozen=True)
class Target:
    kind: Literal["function", "class", "selection"]
    name: str  # "" for a selection
    start: int  # code-point offsets of the whole definition (decorators included)
    end: int
    text: str
    # Where the body starts (a docstring goes there), -1 where there is none.
    body_start: int = -1
    # Not inside another function or class: a test file can import it by its name.
    top_level: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}" if self.name else "the selection"


def find_target(syntax: SyntaxIndex, document: Document, start: int, end: int) -> Target | None:
    """The innermost function or class holding the range; the selection when the range holds
    code but no definition does; None for an empty range outside any definition."""
    parsed = syntax.parsed(document)
    if parsed is not None:
        node = _definition_at(parsed, start, end)
        if node is None and start == end > 0:
            # A cursor at the very end of a definition's last line is just past its last byte.
            node = _definition_at(parsed, start - 1, start - 1)
        if node is not None:
            return _definition(parsed, node)
    if end > start and document.text[start:end].strip():
        return Target("selection", "", start, end, document.text[start:end])
    return None


def _definition_at(parsed: Parsed, start: int, end: int) -> Node | None:
    spec = parsed.spec
    wanted = spec.functions | spec.classes
    low, high = parsed.byte_at(start), parsed.byte_at(end)
    node: Node | None = parsed.tree.root_node.descendant_for_byte_range(low, high)
    # A range that starts at a line's indentation before `def` starts in the parent block: take
    # the first definition that starts within the range.
    if node is not None and node.type not in wanted and high > low:
        for child in node.named_children:
            if low <= child.start_byte < high:
                inner = _first_definition(child, wanted)
                if inner is not None:
                    return inner
    while node is not None and node.type not in wanted:
        node = node.parent
    return node


def _first_definition(node: Node, wanted: frozenset[str]) -> Node | None:
    if node.type in wanted:
        return node
    if node.type in _OUTER:
        for child in node.named_children:
            if child.type in wanted:
                return child
    return None


def _definition(parsed: Parsed, node: Node) -> Target:
    outer = node.parent if node.parent is not None and node.parent.type in _OUTER else node
    name_node = node.child_by_field_name("name")
    name = parsed.node_text(name_node) if name_node is not None else ""
    kind: Literal["function", "class"] = "class" if node.type in parsed.spec.classes else "function"
    body = node.child_by_field_name("body")
    start, end = parsed.offset_at(outer.start_byte), parsed.offset_at(outer.end_byte)
    body_start = parsed.offset_at(body.start_byte) if body is not None else -1
    wanted = parsed.spec.functions | parsed.spec.classes
    top_level = True
    ancestor = outer.parent
    while ancestor is not None:
        top_level = top_level and ancestor.type not in wanted
        ancestor = ancestor.parent
    return Target(kind, name, start, end, parsed.text[start:end], body_start, top_level)


@dataclass(frozen=True)
class Related:
    """What a test of a target has to know from the rest of its file."""

    uses: str = ""  # the outline of what it uses: the class of a method, the names it calls
    calls: str = ""  # how the file calls it: the arguments it is built with
    example: str = ""  # a call with arguments of its annotated types (Python; arguments.py)


def related(syntax: SyntaxIndex, document: Document, target: Target) -> Related:
    """What `target` uses from its file and how the file calls it: a test has to build the same
    arguments (a small model shown only the signature calls `parse(reader)` with a string)."""
    parsed = syntax.parsed(document)
    if parsed is None or target.kind == "selection":
        return Related()
    return Related(
        related_outline(parsed, target.start, target.end),
        call_sites(parsed, target.name, target.start, target.end) if target.name else "",
        example_call(document.text, target.name) if document.language_id == "python" else "",
    )

"""The code actions ghosttype offers, as data: each one's id, title and LSP code action kind.

Kinds are hierarchical (LSP): a client that asks only for `refactor` gets every
`refactor.rewrite.ghosttype.*` action, one that asks for `quickfix` gets Fix only."""

from __future__ import annotations

from dataclasses import dataclass

QUICKFIX = "quickfix"
PREFIX = "refactor.rewrite.ghosttype"


@dataclass(frozen=True)
class ActionKind:
    id: str
    title: str  # after "ghosttype: "
    kind: str
    # Needs a function or class (False: a selection of any code will do).
    needs_definition: bool = True


TESTS = ActionKind("tests", "Generate tests", f"{PREFIX}.tests")
FIX = ActionKind("fix", "Fix", QUICKFIX, needs_definition=False)
DOCSTRING = ActionKind("docstring", "Write docstring", f"{PREFIX}.docstring")
EXPLAIN = ActionKind("explain", "Explain", f"{PREFIX}.explain", needs_definition=False)
TRANSLATE = ActionKind("translate", "Translate to", f"{PREFIX}.translate")
REFACTOR = ActionKind(
    "refactor", "Refactor with an instruction", f"{PREFIX}.instruction", needs_definition=False
)
ACTIONS = {a.id: a for a in (TESTS, FIX, DOCSTRING, EXPLAIN, TRANSLATE, REFACTOR)}
ALL_KINDS = tuple(dict.fromkeys(a.kind for a in ACTIONS.values()))

# Target languages of Translate to...: languages ghosttype parses and can run tests in.
TRANSLATE_TO = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "go": "Go",
    "rust": "Rust",
}


def wanted(kind: str, only: list[str] | None) -> bool:
    """Whether a client that asked for `only` kinds wants `kind` (a prefix at a dot matches)."""
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") for o in only)

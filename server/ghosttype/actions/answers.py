"""The code in a model's answer: the fenced block (or the whole answer where it is bare code),
checked to parse in its language. Pure."""

from __future__ import annotations

import re

from ..context.syntax import parses_cleanly

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


def code_in(answer: str, language_id: str) -> str | None:
    """The answer's code, or None when the answer holds no code that parses (prose, a refusal,
    a cut-off block)."""
    blocks: list[str] = [str(b).strip("\n") for b in _FENCE.findall(answer)]
    candidates = [b for b in blocks if b.strip()] or [answer.strip("\n")]
    # The longest block that parses: models put a usage example or the function again next to
    # the answer.
    for code in sorted(candidates, key=len, reverse=True):
        if code.strip() and parses_cleanly(language_id, code + "\n") is not False:
            if not blocks and not _looks_like_code(code):
                continue
            return code + "\n"
    return None


def prose_in(answer: str) -> str:
    """A prose answer without the fences and quotes small models wrap it in."""
    text = answer.strip()
    text = re.sub(r"^```[^\n]*\n|\n?```$", "", text).strip()
    return text.strip('"').strip("'").strip()


def _looks_like_code(text: str) -> bool:
    """A bare answer (no fence) that a grammar might accept although it is prose: tree-sitter
    parses many sentences as expressions. Code has a line that ends like code or is indented."""
    lines = [line for line in text.splitlines() if line.strip()]
    return any(
        line.rstrip().endswith((":", "{", "}", ";", ")", "]")) or line.startswith((" ", "\t"))
        for line in lines
    )

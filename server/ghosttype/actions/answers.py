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
        whole = _whole(_without_repeats(code), language_id)
        if whole is not None:
            if not blocks and not _looks_like_code(whole):
                continue
            return whole + "\n"
    return None


def code_blocks(answer: str, language_id: str) -> list[str]:
    """Each fenced block of the answer that holds code that parses, in the answer's order (an
    answer asked for two blocks: a translation and its tests)."""
    found = []
    for block in _FENCE.findall(answer):
        whole = _whole(_without_repeats(str(block).strip("\n")), language_id)
        if whole is not None:
            found.append(whole + "\n")
    return found


# A block the token limit cut off is trimmed back by at most this share of its lines.
TRIM_SHARE = 0.3


def _whole(code: str, language_id: str) -> str | None:
    """`code` if it parses, else its longest start that does: cut back line by line (a
    statement the token limit cut off), then back to a line at the left margin (a definition
    cut off in the middle); None when none does."""
    lines = code.rstrip("\n").split("\n")
    floor = max(0, int(len(lines) * (1 - TRIM_SHARE)))
    margins = [i for i, line in enumerate(lines) if line[:1].strip() and i < floor]
    for keep in [*range(len(lines), floor - 1, -1), *reversed(margins)]:
        text = "\n".join(lines[:keep]).rstrip()
        if text.strip() and parses_cleanly(language_id, text + "\n") is not False:
            return text
    return None


def _without_repeats(code: str) -> str:
    """A small model stuck in a loop writes one line again and again: keep its first run."""
    lines = code.split("\n")
    kept: list[str] = []
    for line in lines:
        if line.strip() and len(kept) >= 2 and kept[-1] == kept[-2] == line:
            continue
        kept.append(line)
    return "\n".join(kept)


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

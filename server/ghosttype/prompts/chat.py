"""Fill-in-the-hole for chat-only models (`promptFormat = "chat"`): the instruction as data, and
the extraction of the code from an answer that may wrap it in prose and fences, repeat the lines
before the hole or the ones after it. Pure: no I/O."""

from __future__ import annotations

import re

from ..context.types import PromptContext

HOLE = "{{FILL_HERE}}"

SYSTEM = (
    "You are a code completion engine. You receive a source file with one hole marked "
    f"{HOLE}. Reply with exactly the code that replaces the hole, in one fenced code block, "
    "and nothing else: no explanation, no code from before or after the hole. Keep the "
    "file's indentation. If nothing fits, reply with an empty code block."
)

SNIPPETS = "Related code from other files of the project:\n{snippets}\n\n"
SNIPPET = "File {path}:\n```\n{text}\n```\n"
USER = "{snippets}File {path} ({language}):\n```\n{prefix}{hole}{suffix}\n```"


def chat_messages(context: PromptContext) -> list[dict[str, str]]:
    """The OpenAI chat messages for one completion."""
    snippets = "".join(SNIPPET.format(path=s.path, text=s.text) for s in context.snippets)
    user = USER.format(
        snippets=SNIPPETS.format(snippets=snippets) if snippets else "",
        path=context.path or "untitled",
        language=context.language or "text",
        prefix=context.prefix,
        hole=HOLE,
        suffix=context.suffix,
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n?```|\Z)", re.DOTALL)


def extract_code(answer: str, context: PromptContext) -> str:
    """The code for the hole from a chat answer."""
    match = _FENCE.search(answer)
    code = match.group(1) if match else answer.strip("\n")
    code = code.replace(HOLE, "")
    code = _drop_repeated_prefix(code, context.prefix)
    code = _drop_repeated_suffix(code, context.suffix)
    # Trailing blank lines and spaces are the answer's layout, not code.
    return code.rstrip()


def _drop_repeated_prefix(code: str, prefix: str) -> str:
    """Models often rewrite the lines before the hole, or the cursor line's start."""
    line_start = prefix.rfind("\n") + 1
    current = prefix[line_start:]
    # Whole lines before the hole, ending with the cursor line's start (longest first).
    starts = [0] + [i + 1 for i, c in enumerate(prefix) if c == "\n"]
    for start in starts:
        tail = prefix[start:]
        if tail.strip() and code.startswith(tail):
            return code[len(tail) :]
    # The cursor line's start without its indentation.
    stripped = current.lstrip()
    if stripped and code.startswith(stripped):
        return code[len(stripped) :]
    return code


def _drop_repeated_suffix(code: str, suffix: str) -> str:
    """...or repeat the lines after it."""
    ends = [i for i, c in enumerate(suffix) if c == "\n"] + [len(suffix)]
    for end in reversed(ends):
        head = suffix[:end]
        if head.strip() and code.endswith(head) and len(head) < len(code):
            return code[: len(code) - len(head)]
        head_stripped = head.strip()
        if head_stripped and "\n" in head and code.rstrip().endswith(head_stripped):
            return code.rstrip()[: len(code.rstrip()) - len(head_stripped)].rstrip()
    return code

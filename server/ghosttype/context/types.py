"""Plain data that flows from the context builder to the prompt builder."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    """Code from another file: a whole small file or a window of a larger one."""

    path: str  # workspace-relative, shown to the model
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class PromptContext:
    path: str  # workspace-relative path of the current file
    language: str
    prefix: str  # text before the cursor, within the budget
    suffix: str  # text after the cursor, within the budget
    snippets: tuple[Snippet, ...] = ()
    repo_name: str = ""

    @property
    def has_other_files(self) -> bool:
        """Whether a snippet comes from another file (the outline is the current file's)."""
        return any(snippet.path != self.path for snippet in self.snippets)

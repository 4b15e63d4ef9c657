"""The task record shared by extraction, runners and scoring."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Kinds, as the README explains them.
LINE = "line"  # (a) in-file single line, cursor after the indentation; match-scored
XFILE = "xfile"  # (b) line whose target uses a symbol defined in another project file
BODY = "body"  # (c) function body from its signature/docstring; executed
EXEC_LINE = "exec_line"  # (d) one line missing, an empty line in its place; executed
EXEC_MULTI = "exec_multi"  # (d) 2-6 lines missing, one empty line in their place; executed
KINDS = (LINE, XFILE, BODY, EXEC_LINE, EXEC_MULTI)
LINE_KINDS = (LINE, XFILE, EXEC_LINE)  # the baseline keeps only the first generated line


@dataclass(frozen=True)
class Task:
    id: str
    project: str
    language: str  # LSP language id: python | javascript | typescript
    kind: str
    path: str  # relative to the project root
    prefix: str  # document text before the cursor
    suffix: str  # document text after the cursor
    target: str  # the original text that belongs at the cursor
    executed: bool  # scored by running the project's tests
    tests: list[str] = field(default_factory=list)  # test selection (see execution.py)
    symbol: str = ""  # xfile: the cross-file name the target uses
    symbol_file: str = ""  # xfile: where that name is defined

    @property
    def document(self) -> str:
        return self.prefix + self.suffix

    @property
    def original(self) -> str:
        return self.prefix + self.target + self.suffix

    @property
    def multiline(self) -> bool:
        return self.kind not in LINE_KINDS


def save_tasks(tasks: list[Task], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for task in tasks:
            handle.write(json.dumps(asdict(task)) + "\n")


def load_tasks(path: Path) -> list[Task]:
    with path.open() as handle:
        return [Task(**json.loads(line)) for line in handle if line.strip()]

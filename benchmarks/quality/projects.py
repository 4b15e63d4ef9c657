"""What the benchmark knows about each pinned project: its language, which files are its source,
and how its tests run. Names match manifest.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Project:
    name: str
    language: str  # python | javascript | typescript
    # Folders (relative to the project root) whose files tasks are drawn from.
    source_dirs: tuple[str, ...]
    # Files that never give tasks (relative paths, or name prefixes).
    skip: tuple[str, ...] = ()
    # Python: PYTHONPATH entry (relative); tests run with pytest from the project root.
    python_path: str = "."
    # Python: the test files for a source file; {stem} is the source file's stem.
    test_pattern: str = ""
    test_fallback: tuple[str, ...] = ()  # when no file matches test_pattern
    # JavaScript: test files run by the tape stand-in (relative, globbed).
    js_tests: str = ""
    # Kinds this project gives (its language must support execution for the executed ones).
    kinds: tuple[str, ...] = ()
    # Workspace for cross-file tasks: the files of these folders with these suffixes.
    workspace_suffixes: tuple[str, ...] = field(default=(".py",))

    @property
    def suffix(self) -> str:
        return {"python": ".py", "javascript": ".js", "typescript": ".ts"}[self.language]

    def source_files(self, root: Path) -> list[Path]:
        files: list[Path] = []
        for folder in self.source_dirs:
            files += sorted((root / folder).rglob(f"*{self.suffix}"))
        return [
            f
            for f in files
            if not any(
                f.relative_to(root).as_posix().startswith(s) or f.name.startswith(s)
                for s in self.skip
            )
        ]


ALL = ("line", "xfile", "body", "exec_line", "exec_multi")
MATCH_ONLY = ("line", "xfile")
XFILE_ONLY = ("xfile",)

PROJECTS: tuple[Project, ...] = (
    Project(
        name="toolz",
        language="python",
        source_dirs=("toolz",),
        skip=(
            "toolz/tests",
            "toolz/sandbox",
            "toolz/curried",
            "_version",
            "_signatures",
            "toolz/__init__",
        ),
        test_pattern="toolz/tests/test_{stem}.py",
        test_fallback=("toolz/tests",),
        kinds=ALL,
    ),
    Project(
        name="more-itertools",
        language="python",
        source_dirs=("more_itertools",),
        skip=("more_itertools/__init__",),
        test_pattern="tests/test_{stem}.py",
        kinds=ALL,
    ),
    Project(
        name="boltons",
        language="python",
        source_dirs=("boltons",),
        skip=("boltons/__init__", "socketutils", "gcutils", "debugutils", "deprutils", "ecoutils"),
        test_pattern="tests/test_{stem}.py",
        kinds=ALL,
    ),
    Project(
        name="inflection",
        language="python",
        source_dirs=("inflection",),
        test_pattern="test_inflection.py",
        kinds=ALL,
    ),
    Project(
        name="cachetools",
        language="python",
        source_dirs=("src/cachetools",),
        python_path="src",
        test_pattern="tests/test_{stem}.py",
        test_fallback=("tests",),
        kinds=ALL,
    ),
    Project(
        name="qs",
        language="javascript",
        source_dirs=("lib",),
        js_tests="test/*.js",
        kinds=ALL,
        workspace_suffixes=(".js",),
    ),
    Project(
        name="minimist",
        language="javascript",
        source_dirs=(".",),
        skip=("test", "example", "node_modules"),
        js_tests="test/*.js",
        kinds=("line", "body", "exec_line", "exec_multi"),
        workspace_suffixes=(".js",),
    ),
    Project(
        name="underscore",
        language="javascript",
        source_dirs=("modules",),
        skip=("modules/index", "modules/index-all", "modules/index-default"),
        kinds=MATCH_ONLY,
        workspace_suffixes=(".js",),
    ),
    Project(
        name="rxjs",
        language="typescript",
        source_dirs=("src/internal",),
        kinds=MATCH_ONLY,
        workspace_suffixes=(".ts",),
    ),
    # Cross-file only (added 2026-11-22 for statistical power; chosen for their structure before
    # any measurement: packages of many files that import each other). A TypeScript one was tried
    # too (immer 10.1.1): it gives no tasks, because the JS/TS extractor finds statements by their
    # semicolons and immer writes none.
    Project(
        name="click",
        language="python",
        source_dirs=("src/click",),
        python_path="src",
        kinds=XFILE_ONLY,
    ),
    Project(
        name="marshmallow",
        language="python",
        source_dirs=("src/marshmallow",),
        python_path="src",
        kinds=XFILE_ONLY,
    ),
    Project(
        name="jinja2",
        language="python",
        source_dirs=("src/jinja2",),
        python_path="src",
        kinds=XFILE_ONLY,
    ),
    Project(
        name="axios",
        language="javascript",
        source_dirs=("lib",),
        kinds=XFILE_ONLY,
        workspace_suffixes=(".js",),
    ),
)

BY_NAME = {p.name: p for p in PROJECTS}

"""Which files may be read as context: `context.exclude` globs, and `.gitignore`d files.

Globs match workspace-relative and absolute paths (`**` any number of folders, `*` and `?` within
one name, a glob with no `/` matches a file's name anywhere). `.gitignore` files (nested ones too,
and `.git/info/exclude`) are read with a small matcher of gitignore's rules: negation, folder-only
patterns, anchored patterns, and "a file in an ignored folder is ignored". Reading a `.gitignore`
is the only I/O here; each is read once per Excluder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath


def glob_to_regex(glob: str) -> str:
    """A regular expression for a glob over '/'-separated paths."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("(?:/.*)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            close = glob.find("]", i + 2)
            if close == -1:
                out.append(re.escape(char))
                i += 1
            else:
                body = glob[i + 1 : close].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = close + 1
        elif char == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _compile_globs(globs: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for glob in globs:
        glob = glob.strip()
        if not glob:
            continue
        body = glob_to_regex(glob.lstrip("/"))
        # A glob without '/' names a file anywhere; one ending in '/**' or naming a folder covers
        # what is inside it.
        prefix = "(?:.*/)?" if "/" not in glob.rstrip("/") else ""
        parts.append(f"{prefix}{body}(?:/.*)?")
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    negated: bool
    folder_only: bool


def parse_gitignore(text: str) -> tuple[_Rule, ...]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            line += " "  # an escaped trailing space is kept
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        elif line.startswith("\\"):
            line = line[1:]
        folder_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        body = glob_to_regex(line.lstrip("/"))
        regex = body if anchored else f"(?:.*/)?{body}"
        rules.append(_Rule(re.compile(regex), negated, folder_only))
    return tuple(rules)


def _ignored_by(rules: tuple[_Rule, ...], relative: str, is_folder: bool) -> bool | None:
    """The last matching rule's verdict, or None when no rule matches."""
    verdict = None
    for rule in rules:
        if rule.folder_only and not is_folder:
            continue
        if rule.pattern.fullmatch(relative):
            verdict = not rule.negated
    return verdict


@dataclass
class Excluder:
    """Answers "may this file be read as context?" for the workspace roots.

    `gitignore=False` (tests, or a workspace without git) only applies the globs."""

    roots: tuple[str, ...]
    globs: tuple[str, ...]
    gitignore: bool = True
    _globs: re.Pattern[str] | None = field(init=False, default=None)
    _ignore_files: dict[str, tuple[_Rule, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.roots = tuple(str(PurePosixPath(r)) for r in self.roots)
        self._globs = _compile_globs(self.globs)

    def relative(self, path: str) -> tuple[str, str] | None:
        """(root, path relative to it) for the innermost root that holds `path`."""
        best: tuple[str, str] | None = None
        for root in self.roots:
            prefix = root.rstrip("/") + "/"
            if path.startswith(prefix) and (best is None or len(root) > len(best[0])):
                best = (root, path[len(prefix) :])
        return best

    def excluded(self, path: str) -> bool:
        """True for a file matched by an exclude glob (never read it)."""
        if self._globs is None:
            return False
        if self._globs.fullmatch(path.lstrip("/")):
            return True
        located = self.relative(path)
        return located is not None and self._globs.fullmatch(located[1]) is not None

    def ignored(self, path: str) -> bool:
        """True for a file git ignores (or inside `.git`): not a neighbour."""
        located = self.relative(path)
        if located is None:
            return False
        root, relative = located
        parts = relative.split("/")
        if ".git" in parts[:-1]:
            return True
        if not self.gitignore:
            return False
        # A file inside an ignored folder is ignored whatever later rules say (git's rule).
        for depth in range(1, len(parts) + 1):
            if self._ignored_at(root, parts, depth):
                return True
        return False

    def allowed(self, path: str) -> bool:
        """May be read and used as a neighbour."""
        return not self.excluded(path) and not self.ignored(path)

    def _ignored_at(self, root: str, parts: list[str], depth: int) -> bool:
        is_folder = depth < len(parts)
        verdict: bool | None = None
        # Deeper .gitignore files override shallower ones; info/exclude is the lowest.
        sources = [(f"{root}/.git/info/exclude", 0)] + [
            ("/".join([root, *parts[:level], ".gitignore"]), level) for level in range(depth)
        ]
        for source, level in sources:
            rules = self._rules(source)
            if rules:
                result = _ignored_by(rules, "/".join(parts[level:depth]), is_folder)
                if result is not None:
                    verdict = result
        return bool(verdict)

    def _rules(self, source: str) -> tuple[_Rule, ...]:
        rules = self._ignore_files.get(source)
        if rules is None:
            try:
                with open(source, encoding="utf-8", errors="replace") as handle:
                    rules = parse_gitignore(handle.read())
            except OSError:
                rules = ()
            self._ignore_files[source] = rules
        return rules

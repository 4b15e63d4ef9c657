"""Runs a project's own tests against a file with a completion applied.

Each project is copied once into benchmarks/data/work/NAME; a run writes the candidate file there,
runs the task's test selection in a subprocess (pytest for Python, node with a tape stand-in for
JavaScript), and puts the original back. Results are cached by content hash on disk, so identical
candidates (often the same across runners) run once."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .fetch import DATA, source_dir
from .projects import BY_NAME, Project

WORK = DATA / "work"
CACHE_FILE = DATA / "exec_cache.json"
JS_DIR = Path(__file__).resolve().parent / "js"
TIMEOUT_S = 60


def test_python() -> str:
    """An interpreter with pytest: this one if it has it, else python3 from PATH."""
    if importlib.util.find_spec("pytest") is not None:
        return sys.executable
    return shutil.which("python3") or "python3"


def work_dir(project: Project) -> Path:
    dest = WORK / project.name
    marker = dest / ".ghosttype-bench-sha256"
    src = source_dir(project.name)
    want = (src / ".ghosttype-bench-sha256").read_text()
    if not (marker.exists() and marker.read_text() == want):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if project.language == "javascript":
            tape = dest / "node_modules" / "tape"
            tape.mkdir(parents=True, exist_ok=True)
            shutil.copy(JS_DIR / "tape.js", tape / "index.js")
    return dest


def _command(project: Project, root: Path, tests: list[str]) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if project.language == "python":
        env["PYTHONPATH"] = str(root / project.python_path)
        cmd = [test_python(), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "--noconftest", "-W", "ignore", *tests]  # fmt: skip
        return cmd, env
    files = sorted(str(p.relative_to(root)) for p in root.glob(project.js_tests))
    return ["node", str(JS_DIR / "run.js"), *(tests or files)], env


class Executor:
    """Runs tests with a persistent result cache."""

    def __init__(self) -> None:
        self._cache: dict[str, bool] = {}
        if CACHE_FILE.exists():
            self._cache = json.loads(CACHE_FILE.read_text())
        self.runs = 0

    def save(self) -> None:
        CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
        CACHE_FILE.write_text(json.dumps(self._cache))

    def passes(self, project_name: str, path: str, content: str, tests: list[str]) -> bool:
        key = hashlib.sha256(json.dumps([project_name, path, content, tests]).encode()).hexdigest()
        if key not in self._cache:
            self._cache[key] = self._run(BY_NAME[project_name], path, content, tests)
        return self._cache[key]

    def _run(self, project: Project, path: str, content: str, tests: list[str]) -> bool:
        root = work_dir(project)
        target = root / path
        original = (source_dir(project.name) / path).read_text()
        cmd, env = _command(project, root, tests)
        self.runs += 1
        # One run at a time in a project's copy, across processes: two benchmark runs at once
        # would otherwise test each other's candidate files.
        with open(root.parent / f".{project.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                target.write_text(content)
                done = subprocess.run(
                    cmd, cwd=root, env=env, capture_output=True, timeout=TIMEOUT_S, check=False
                )
                return done.returncode == 0
            except subprocess.TimeoutExpired:
                return False
            finally:
                target.write_text(original)


def python_test_files(project: Project, path: str) -> list[str]:
    """The test files for a source file: test_<stem>.py when it exists, else the fallback."""
    root = source_dir(project.name)
    stem = Path(path).stem
    if stem == "__init__":
        stem = Path(path).parent.name
    candidate = project.test_pattern.format(stem=stem)
    if (root / candidate).exists():
        return [candidate]
    return [f for f in project.test_fallback if (root / f).exists()]

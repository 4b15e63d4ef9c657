"""Exclude globs and the gitignore matcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghosttype.config import DEFAULT_EXCLUDE
from ghosttype.context.exclude import Excluder

ROOT = "/work/project"


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        pytest.param(f"{ROOT}/.env", True, id="env-at-root"),
        pytest.param(f"{ROOT}/app/.env", True, id="env-nested"),
        pytest.param(f"{ROOT}/app/.envrc", False, id="envrc-is-not-env"),
        pytest.param(f"{ROOT}/certs/server.pem", True, id="pem"),
        pytest.param(f"{ROOT}/deploy/id_rsa.pub", True, id="id-rsa-prefix"),
        pytest.param(f"{ROOT}/config/secrets/db.yaml", True, id="secrets-folder"),
        pytest.param(f"{ROOT}/src/secrets.py", False, id="secrets-module-is-code"),
        pytest.param(f"{ROOT}/src/main.py", False, id="plain-code"),
        pytest.param("/elsewhere/.env", True, id="absolute-outside-roots"),
    ],
)
def test_default_globs(path: str, excluded: bool) -> None:
    assert Excluder((ROOT,), DEFAULT_EXCLUDE, gitignore=False).excluded(path) is excluded


@pytest.mark.parametrize(
    ("globs", "path", "excluded"),
    [
        pytest.param(("vendor/**",), f"{ROOT}/vendor/lib/a.js", True, id="relative-folder"),
        pytest.param(("vendor/**",), f"{ROOT}/src/vendor/a.js", False, id="relative-is-anchored"),
        pytest.param(("/work/project/gen/*.py",), f"{ROOT}/gen/x.py", True, id="absolute-glob"),
        pytest.param(("*.min.js",), f"{ROOT}/a/b/c.min.js", True, id="name-anywhere"),
        pytest.param(("src/?.py",), f"{ROOT}/src/a.py", True, id="question-mark"),
        pytest.param(("src/[ab].py",), f"{ROOT}/src/c.py", False, id="class"),
        pytest.param((), f"{ROOT}/.env", False, id="no-globs"),
    ],
)
def test_custom_globs(globs: tuple[str, ...], path: str, excluded: bool) -> None:
    assert Excluder((ROOT,), globs, gitignore=False).excluded(path) is excluded


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / ".gitignore").write_text(
        "# build output\nbuild/\n*.log\n!keep.log\n/top_only.py\nnode_modules\ndocs/*.html\n"
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / ".gitignore").write_text("generated_*.py\n!generated_keep.py\n")
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("scratch.py\n")
    return tmp_path


@pytest.mark.parametrize(
    ("relative", "ignored"),
    [
        pytest.param("build/out.py", True, id="folder-pattern"),
        pytest.param("src/build/out.py", True, id="folder-pattern-anywhere"),
        pytest.param("app.log", True, id="glob"),
        pytest.param("keep.log", False, id="negated"),
        pytest.param("top_only.py", True, id="anchored"),
        pytest.param("sub/top_only.py", False, id="anchored-not-deeper"),
        pytest.param("node_modules/x/index.js", True, id="name-matches-folder"),
        pytest.param("docs/a.html", True, id="slash-glob"),
        pytest.param("docs/sub/a.html", False, id="star-stays-in-folder"),
        pytest.param("pkg/generated_a.py", True, id="nested-gitignore"),
        pytest.param("pkg/generated_keep.py", False, id="nested-negation"),
        pytest.param("generated_a.py", False, id="nested-rules-stay-nested"),
        pytest.param("scratch.py", True, id="info-exclude"),
        pytest.param(".git/config", True, id="git-folder"),
        pytest.param("src/main.py", False, id="tracked"),
    ],
)
def test_gitignore(workspace: Path, relative: str, ignored: bool) -> None:
    excluder = Excluder((str(workspace),), ())
    assert excluder.ignored(f"{workspace}/{relative}") is ignored
    assert excluder.allowed(f"{workspace}/{relative}") is not ignored


def test_file_in_ignored_folder_cannot_be_re_included(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("out/\n!out/keep.py\n")
    assert Excluder((str(tmp_path),), ()).ignored(f"{tmp_path}/out/keep.py")


def test_innermost_root_wins(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / ".gitignore").write_text("*.py\n")
    excluder = Excluder((str(tmp_path), str(inner)), ())
    assert excluder.relative(f"{inner}/a.py") == (str(inner), "a.py")
    assert excluder.ignored(f"{inner}/a.py")
    assert not excluder.ignored("/not/in/any/root.py")

"""A grammar that fails to load: completions still come (without the syntax-based shape), and the
failure is logged once, not once per keystroke."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ghosttype.context import syntax
from tests.engine.test_engine import make_engine, open_doc


async def test_a_grammar_that_fails_to_load_costs_the_syntax_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(name: str) -> object:
        raise OSError(f"cannot load the {name} grammar: file is truncated")

    monkeypatch.setattr(syntax, "get_language", broken)
    monkeypatch.setattr(syntax, "_PARSERS", {})  # no parser loaded before the fault
    caplog.set_level(logging.INFO)
    engine = make_engine(tmp_path)
    texts = ["x = ", "import os\n\nx = ", "def f():\n    x = ", "class A:\n    x = "]
    for text in texts:
        reply = await engine.complete(open_doc(engine, text), len(text))
        assert [item.text for item in reply.items] == ["compute(1, 2)"]
    assert syntax.api_outline("python", "def f(a):\n    pass\n") == []
    told = [r for r in caplog.records if "grammar failed to load" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.exc_info]
    await engine.close()

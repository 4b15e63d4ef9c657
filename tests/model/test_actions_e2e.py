"""Code actions on the real embedded model (Qwen2.5-Coder-0.5B Instruct, the typing model, one
thread): Write docstring gives a docstring, Generate tests gives tests that pass in the sandbox
(the write-run loop, real pytest in bubblewrap, then the check against changes of the function).
Seconds each."""

from __future__ import annotations

import pytest

from ghosttype.actions.service import Actions
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine
from tests.actions.helpers import open_source, workspace

pytestmark = pytest.mark.model


@pytest.fixture
async def engine(tmp_path):
    root = workspace(tmp_path)
    settings = with_overrides(Settings(), backend={"threads": 1}, actions={"model": "typing"})
    engine = Engine(settings, workspace_root=root)
    engine.context.set_roots([root])
    engine.start()
    assert await engine.wait_ready() is None
    yield engine, root
    await engine.close()


async def test_write_docstring_with_the_real_model(engine):
    engine, root = engine
    document = open_source(engine, root)
    outcome = await Actions(engine).run(
        {"action": "docstring", "uri": document.uri, "start": 5, "end": 5}, lambda _: None
    )
    (edit,) = outcome.edits
    assert edit.start == document.text.index("return a + b")
    assert edit.text.startswith('"""') and edit.text.rstrip().endswith('"""')
    assert len(edit.text.strip('"\n ')) > 10


async def test_generate_tests_with_the_real_model(engine):
    engine, root = engine
    document = open_source(engine, root)
    outcome = await Actions(engine).run(
        {"action": "tests", "uri": document.uri, "start": 5, "end": 5}, lambda _: None
    )
    (edit,) = outcome.edits
    assert edit.uri == (root / "tests" / "test_calc.py").as_uri()
    assert "from calc import add" in edit.text and "assert add(" in edit.text
    assert "tests pass (pytest" in outcome.message and "sandbox: bubblewrap" in outcome.message
    assert "passed" in outcome.report
    # ... and checked against small changes of `a + b` (actions.mutants, on by default).
    assert "small changes of the function" in outcome.message

"""Latency guards (issue 3): the speculative prefetch costs nothing while the person types, and its
parse of the accepted state never replaces the open document's incrementally kept syntax tree."""

from __future__ import annotations

import asyncio

from ghosttype.documents import TextEdit
from ghosttype.engine import PREFETCH_IDLE_S
from tests.engine.test_engine import make_engine

SOURCE = "def f(a):\n    x = \n    return a\n"


async def test_prefetch_keeps_the_open_documents_tree(tmp_path):
    engine = make_engine(tmp_path)
    uri = "file:///w/a.py"
    document = engine.documents.open(uri, SOURCE, "python", 1)
    reply = await engine.complete(document, SOURCE.index("x = ") + 4)
    assert reply.items
    await asyncio.sleep(PREFETCH_IDLE_S + 0.1)  # the prefetch planned (parsed) and ran
    entry = engine.context.syntax._entries[uri]
    assert entry.revision == document.revision
    # The next keystroke re-parses incrementally from that tree (it was not dropped).
    changed = engine.documents.change(uri, [TextEdit("q", (1, 8), (1, 8))], 2)
    assert engine.context.syntax._entries[uri].revision == changed.revision


async def test_a_keystroke_before_the_idle_wait_cancels_the_prefetch_for_free(tmp_path):
    engine = make_engine(tmp_path)
    text = "x = "
    await engine.complete(engine.documents.open("file:///w/a.py", text, "python", 1), 4)
    calls = engine.stats.model_calls
    assert engine._prefetch is not None
    # Typed something other than the suggestion at once: the prefetch never reached the model.
    other = engine.documents.open("file:///w/a.py", "x = q", "python", 2)
    await engine.complete(other, 5)
    await asyncio.sleep(PREFETCH_IDLE_S + 0.1)
    assert engine.stats.model_calls == calls + 1  # the new request's own call only


async def test_the_prefetch_leaves_the_typing_anchor_alone(tmp_path):
    from ghosttype.config import with_overrides

    engine = make_engine(tmp_path)
    engine.settings = with_overrides(engine.settings, context={"max_prompt_tokens": 96})
    lines = "".join(f"value_{n} = compute_{n}(argument_{n})\n" for n in range(40))
    text = lines + "x = "
    document = engine.documents.open("file:///w/a.py", text, "python", 1)
    await engine.complete(document, len(text))
    anchor = engine.context._anchors["file:///w/a.py"]
    await asyncio.sleep(PREFETCH_IDLE_S + 0.1)  # the prefetch planned the accepted state
    assert engine.context._anchors["file:///w/a.py"] == anchor

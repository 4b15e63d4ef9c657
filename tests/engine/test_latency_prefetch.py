"""Latency guards: the speculative prefetch costs nothing while the person types, and its work on
the accepted state never replaces what the open document keeps for its keystrokes (its
incrementally kept syntax tree, its prefix window's anchor)."""

from __future__ import annotations

from ghosttype.config import with_overrides
from ghosttype.documents import TextEdit
from ghosttype.prefetch import PREFETCH_IDLE_S
from tests.engine.manual_clock import ManualClock, until
from tests.engine.test_engine import SlowLoadingCountingBackend, engine_with_backend, make_engine

SOURCE = "def f(a):\n    x = \n    return a\n"


async def test_prefetch_keeps_the_open_documents_tree(tmp_path):
    clock = ManualClock()
    engine = make_engine(tmp_path, clock=clock)
    syntax = engine.context.syntax
    uri = "file:///w/a.py"
    document = engine.documents.open(uri, SOURCE, "python", 1)
    reply = await engine.complete(document, SOURCE.index("x = ") + 4)
    assert reply.items
    calls = engine.stats.model_calls
    await clock.advance(PREFETCH_IDLE_S)  # the prefetch planned (parsed) and ran
    assert engine.stats.model_calls == calls + 1
    full = syntax.full_parses
    # The next keystroke re-parses incrementally from the document's own tree.
    changed = engine.documents.change(uri, [TextEdit("q", (1, 8), (1, 8))], 2)
    await engine.complete(changed, SOURCE.index("x = ") + 5)
    assert syntax.full_parses == full and syntax.incremental_parses >= 1


async def test_a_keystroke_before_the_idle_wait_cancels_the_prefetch_for_free(tmp_path):
    clock = ManualClock()
    engine = make_engine(tmp_path, clock=clock)
    await engine.complete(engine.documents.open("file:///w/a.py", "x = ", "python", 1), 4)
    calls = engine.stats.model_calls
    assert engine.stats.prefetches == 1
    # Typed something other than the suggestion at once: the prefetch never reached the model.
    other = engine.documents.open("file:///w/a.py", "x = q", "python", 2)
    await engine.complete(other, 5)
    await clock.advance(PREFETCH_IDLE_S)
    assert engine.stats.model_calls == calls + 1  # the new request's own call only


async def test_the_prefetch_leaves_the_typing_anchor_alone(tmp_path):
    clock = ManualClock()
    engine, backends = engine_with_backend(tmp_path, SlowLoadingCountingBackend, clock)
    engine.settings = with_overrides(engine.settings, context={"max_prompt_tokens": 96})
    loading = engine.start()
    await until(lambda: bool(backends))
    backends[0].loaded.set()
    await loading
    lines = "".join(f"value_{n} = compute_{n}(argument_{n})\n" for n in range(40))
    text = lines + "x = "
    await engine.complete(engine.documents.open("file:///w/a.py", text, "python", 1), len(text))
    await clock.advance(PREFETCH_IDLE_S)  # the prefetch planned the accepted state
    assert len(backends[0].prompts) == 2
    typed = engine.documents.open("file:///w/a.py", text + "q", "python", 2)
    await engine.complete(typed, len(text) + 1)
    first, _prefetched, after = (p.context.prefix for p in backends[0].prompts)
    window_start = first.split("\n", 1)[0]
    assert not text.startswith(window_start + "\n")  # the window starts inside the file...
    assert after.split("\n", 1)[0] == window_start  # ...and still at the same line

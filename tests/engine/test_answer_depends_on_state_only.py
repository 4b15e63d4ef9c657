"""The answer is a function of the document's text, the cursor and the settings alone, not of how
that state was reached: edits in another order, a second open without a close, a cached
neighbouring state in between. (The typed-through cache follows a shown suggestion by design and
is outside this: the property compares first answers at a state.) The scripted backend is
deterministic, so any difference is the engine's own state leaking into an answer.

Documents here fit the prompt budget whole: a long file's prefix window starts at an anchor that
deliberately stays put while the person types, so its prompt does depend on the path there."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghosttype.config import Settings, with_overrides
from ghosttype.documents import TextEdit
from ghosttype.engine import Engine
from tests.conftest import write_script
from tests.engine.manual_clock import ManualClock

URI = "file:///w/steps.py"
RULES = [
    # On a blank line in a body: a statement, then one the code below may already have.
    {"regex": "^    $", "text": "step_one()\n    step_two_is_long()\n"},
    {"default": True, "regex": "", "text": "value + 1\nnext_line()"},
]


def engine_for(folder: Path, clock: ManualClock | None = None) -> Engine:
    script = write_script(folder, {"rules": RULES})
    configured = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0},
        context={"neighbours": False},
    )
    return Engine(configured, clock=clock or ManualClock())


async def first_answer(folder: Path, text: str, offset: int) -> list[str]:
    """What a fresh engine answers at this state."""
    engine = engine_for(folder)
    reply = await engine.complete(engine.documents.open(URI, text, "python", 1), offset)
    await engine.close()
    return [item.text for item in reply.items]


FILLER = "".join(f"    filler_statement_number_{n}()\n" for n in range(4))


def body(last: str) -> str:
    # The cursor's blank line, then more than the 16-token suffix window, then `last`.
    return f"def run():\n    first()\n    \n{FILLER}    {last}\n"


CURSOR = body("x").index("    \n") + 4


async def test_code_far_below_the_suffix_window_is_not_served_from_another_states_cache(tmp_path):
    # Two states whose prompts agree (the difference is below the suffix window) but whose
    # clean-up reads different code: only one of them already has step_two_is_long().
    repeats, differs = body("step_two_is_long()"), body("something_else()")
    engine = engine_for(tmp_path)
    engine.documents.open(URI, repeats, "python", 1)
    first = await engine.complete(engine.documents.get(URI), CURSOR)
    assert [i.text for i in first.items] == ["step_one()"]  # the repeat was cut
    changed = engine.documents.change(URI, [TextEdit(differs)], 2)
    second = await engine.complete(changed, CURSOR)
    assert [i.text for i in second.items] == await first_answer(tmp_path, differs, CURSOR)
    assert [i.text for i in second.items] == ["step_one()\n    step_two_is_long()"]


async def test_a_document_opened_again_without_a_close_is_parsed_anew(tmp_path):
    # Clients re-open a document after a reload without closing it. The first text's tree says
    # "inside an expression" (one line) where the second's says "a body goes here" (several).
    single = "def run():\n    x = [1,\n    \n" + FILLER + "    ]\n"
    multi = body("y")
    assert single.index("    \n") + 4 == CURSOR
    fresh = await first_answer(tmp_path, multi, CURSOR)
    assert fresh != await first_answer(tmp_path, single, CURSOR)
    engine = engine_for(tmp_path)
    await engine.complete(engine.documents.open(URI, single, "python", 1), CURSOR)
    reopened = engine.documents.open(URI, multi, "python", 1)
    reply = await engine.complete(reopened, CURSOR)
    assert [i.text for i in reply.items] == fresh


# States built to collide: one cursor line (the blank line after the header), headers of one
# length whose trees disagree about it, and bodies that differ above and below the suffix window.
HEADERS = ["    first()", "    x = [1,"]
LINES = [
    "    step_two_is_long()",
    "    something_else()",
    "    filler_statement_number_1()",
    "    return value",
    "    ]",
]
documents = st.builds(
    lambda header, lines: "def run():\n" + "\n".join([header, "    ", *lines]) + "\n",
    st.sampled_from(HEADERS),
    st.lists(st.sampled_from(LINES), min_size=3, max_size=7),
)
# An action on the way to the final state: request at a state, open (again) with a state's
# text, edit into a state (the whole text, or a ranged edit), close, a pause (prefetch runs).
actions = st.lists(
    st.tuples(
        st.sampled_from(["request"] * 3 + ["open", "replace", "edit", "close", "pause"]), documents
    ),
    max_size=6,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=actions, final=documents, data=st.data())
def test_the_answer_depends_on_the_state_not_the_path_there(tmp_path, path, final, data):
    asyncio.run(_check_path(tmp_path, path, final, data))


async def _check_path(folder: Path, path, final: str, data) -> None:
    clock = ManualClock()
    engine = engine_for(folder, clock)
    store = engine.documents
    requested = ""

    def cursor_in(text: str) -> int:
        anywhere = st.integers(CURSOR, len(text) - 1)
        return data.draw(st.one_of(st.just(CURSOR), st.just(CURSOR), st.just(CURSOR), anywhere))

    for action, text in path:
        current = store.get(URI)
        if action == "open" or current is None:
            store.open(URI, text, "python", 1)
        elif action == "replace":
            store.change(URI, [TextEdit(text)], current.version + 1)
        elif action == "edit":  # the same state reached by a ranged edit of the lines that differ
            old_lines, new_lines = current.text.split("\n"), text.split("\n")
            keep = 0
            while (
                keep < min(len(old_lines), len(new_lines)) - 1
                and old_lines[keep] == new_lines[keep]
            ):
                keep += 1
            start, end = (keep, 0), (len(old_lines) - 1, len(old_lines[-1]))
            store.change(
                URI, [TextEdit("\n".join(new_lines[keep:]), start, end)], current.version + 1
            )
            assert store.get(URI).text == text
        elif action == "close":
            store.close(URI)
            engine.forget(URI)
        elif action == "pause":
            await clock.advance(1.0)
        if action == "request" and store.get(URI) is not None:
            document = store.get(URI)
            await engine.complete(document, cursor_in(document.text))
            requested = document.text
    if requested and data.draw(st.booleans()):
        # A neighbour of a state asked about: its last line changed, below the suffix window.
        lines = requested.rstrip("\n").split("\n")
        final = "\n".join([*lines[:-1], data.draw(st.sampled_from(LINES))]) + "\n"
    document = store.get(URI)
    if document is None:
        document = store.open(URI, final, "python", 1)
    else:
        document = store.change(URI, [TextEdit(final)], document.version + 1)
    offset = cursor_in(final)
    engine.shown.clear()  # the typed-through cache follows what was shown, by design
    reply = await engine.complete(document, offset)
    await engine.close()
    assert [i.text for i in reply.items] == await first_answer(folder, final, offset)

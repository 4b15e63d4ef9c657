"""The cascade (engine.py, the pause role), deterministic: two scripted backends, one per role,
that answer differently, and a manual clock for the pause."""

from __future__ import annotations

from pathlib import Path

from ghosttype.config import PAUSE_MODEL, Settings, pause_role, with_overrides
from ghosttype.documents import TextEdit
from ghosttype.engine import PAUSE_AFTER_S, Engine
from tests.conftest import write_script
from tests.engine.manual_clock import ManualClock, settle, until

TYPING = [{"endsWith": "x = ", "text": "typing_answer()"}, {"endsWith": "y = ", "text": "same()"}]
PAUSE = [{"endsWith": "x = ", "text": "pause_answer()"}, {"endsWith": "y = ", "text": "same()"}]


def cascade(tmp_path: Path, clock: ManualClock) -> tuple[Engine, list[tuple[str, int]]]:
    """An engine with both roles scripted; the refreshes it asks for, as (uri, offset)."""
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(write_script(tmp_path, {"rules": TYPING}))},
        pause_backend={
            "kind": "scripted",
            "script": str(write_script(tmp_path, {"rules": PAUSE}, "pause.json")),
        },
        completion={"debounce_ms": 0},
    )
    refreshes: list[tuple[str, int]] = []
    engine = Engine(
        settings,
        clock=clock,
        refresh=lambda document, offset: refreshes.append((document.uri, offset)),
    )
    return engine, refreshes


async def test_in_a_pause_a_different_answer_is_kept_and_the_client_asked_to_ask_again(tmp_path):
    clock = ManualClock()
    engine, refreshes = cascade(tmp_path, clock)
    document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
    typed = await engine.complete(document, 4)
    assert [item.text for item in typed.items] == ["typing_answer()"]
    assert refreshes == []
    await clock.advance(PAUSE_AFTER_S)
    await until(lambda: bool(refreshes))
    assert refreshes == [("file:///w/a.py", 4)]
    again = await engine.complete(document, 4)  # what the refresh brings
    assert (again.source, [item.text for item in again.items]) == ("pause", ["pause_answer()"])
    stats = engine.stats_snapshot()
    assert (stats["pauseAnswers"], stats["pauseReplaced"]) == (1, 1)
    # Typing through the pause role's suggestion keeps it.
    typed_on = engine.documents.change("file:///w/a.py", [_append("pause_")], 2)
    through = await engine.complete(typed_on, 10)
    assert (through.source, through.items[0].text) == ("typed-through", "answer()")


async def test_the_same_answer_in_a_pause_changes_nothing(tmp_path):
    clock = ManualClock()
    engine, refreshes = cascade(tmp_path, clock)
    document = engine.documents.open("file:///w/a.py", "y = ", "python", 1)
    await engine.complete(document, 4)
    await clock.advance(PAUSE_AFTER_S)
    await until(lambda: engine.stats.pause_answers == 1)
    await settle()
    assert refreshes == []  # no flicker: the shown suggestion stays


async def test_typing_before_the_pause_ends_leaves_the_pause_model_alone(tmp_path):
    clock = ManualClock()
    engine, refreshes = cascade(tmp_path, clock)
    document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
    await engine.complete(document, 4)
    await clock.advance(PAUSE_AFTER_S / 2)
    edited = engine.documents.change("file:///w/a.py", [_append("t")], 2)
    engine.edited(edited, 5)
    await clock.advance(PAUSE_AFTER_S)
    assert engine.stats.pause_answers == 0 and refreshes == []


async def test_a_better_answer_for_an_older_state_is_not_served(tmp_path):
    clock = ManualClock()
    engine, refreshes = cascade(tmp_path, clock)
    document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
    await engine.complete(document, 4)
    await clock.advance(PAUSE_AFTER_S)
    await until(lambda: bool(refreshes))
    # The person typed and deleted: same text, a newer snapshot, the refresh was for the old one.
    newer = engine.documents.change("file:///w/a.py", [_append("")], 2)
    reply = await engine.complete(newer, 4)
    assert reply.source != "pause"


async def test_an_invoked_request_is_the_pause_roles(tmp_path):
    clock = ManualClock()
    engine, refreshes = cascade(tmp_path, clock)
    document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
    invoked = await engine.complete(document, 4, invoked=True)
    assert [item.text for item in invoked.items] == ["pause_answer()"]
    await clock.advance(PAUSE_AFTER_S)
    assert refreshes == [] and engine.stats.pause_answers == 1  # no second pause answer
    await settle()


def test_the_pause_role_by_default_is_the_larger_model_behind_the_default_one():
    role = pause_role(Settings())
    assert role is not None
    assert (role.kind, role.model, role.lanes) == ("embedded", PAUSE_MODEL, 1)


def test_behind_a_model_of_the_persons_choice_there_is_no_pause_role_unless_asked():
    served = with_overrides(Settings(), backend={"kind": "openai"})
    assert pause_role(served) is None
    chosen = with_overrides(Settings(), backend={"model": "qwen2.5-coder-1.5b"})
    assert pause_role(chosen) is None
    off = with_overrides(Settings(), pause_backend={"kind": "off"})
    assert pause_role(off) is None
    asked = with_overrides(served, pause_backend={"kind": "llamacpp", "url": "http://h:1"})
    role = pause_role(asked)
    assert role is not None and (role.kind, role.url) == ("llamacpp", "http://h:1")


def test_the_pause_role_writes_to_the_backends_audit_log_unless_it_has_its_own():
    settings = with_overrides(Settings(), backend={"audit_log": "/tmp/a.jsonl"})
    role = pause_role(settings)
    assert role is not None and role.audit_log == "/tmp/a.jsonl"


def _append(text: str) -> TextEdit:
    """Typed after "x = " (the end of the one-line documents here)."""
    return TextEdit(text, (0, 4), (0, 4))


async def test_a_deterministic_invoked_request_asks_the_pause_model_every_time(tmp_path):
    engine, _ = cascade(tmp_path, ManualClock())
    engine.settings = with_overrides(engine.settings, completion={"deterministic": True})
    document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
    for _ in range(2):
        reply = await engine.complete(document, 4, invoked=True)
        assert (reply.source, reply.items[0].text) == ("model", "pause_answer()")
    assert engine.stats.pause_answers == 2


async def test_the_pause_model_is_given_the_shown_answer_to_draft_from(tmp_path):
    """Its greedy answer often repeats the typing model's: verified in batches, not generated
    token by token (the embedded backend; tests/model/test_prompt_lookup.py)."""
    clock = ManualClock()
    engine, refreshes = cascade(tmp_path, clock)
    document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
    await engine.complete(document, 4)
    assert engine.pause is not None
    pause_backend = await engine.pause.host.ready()
    drafts = _record_drafts(pause_backend)
    await clock.advance(PAUSE_AFTER_S)
    await until(lambda: bool(refreshes))
    assert drafts == ["typing_answer()"]


async def test_an_invoked_request_drafts_from_the_answer_shown_at_its_place_only(tmp_path):
    clock = ManualClock()
    engine, _ = cascade(tmp_path, clock)
    assert engine.pause is not None
    drafts = _record_drafts(await engine.pause.host.ready())
    document = engine.documents.open("file:///w/a.py", "x = \n", "python", 1)
    await engine.complete(document, 4)
    engine.pauses.cancel()
    await engine.complete(document, 4, invoked=True)
    moved = engine.documents.change("file:///w/a.py", [TextEdit("y = ", (1, 0), (1, 0))], 2)
    await engine.complete(moved, len(moved.text), invoked=True)  # nothing shown there
    assert drafts == ["typing_answer()", ""]


def _record_drafts(backend):
    """Wraps a scripted backend's generate to note each greedy call's GenerationParams.draft."""
    drafts: list[str] = []
    generate = backend.generate

    def recording(prompt, params, usage):
        if params.candidate == 0:
            drafts.append(params.draft)
        return generate(prompt, params, usage)

    backend.generate = recording
    return drafts

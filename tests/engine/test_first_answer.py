"""A new place (first_answer.py), deterministic: a stand-in backend that keeps prompts like the
embedded one (a KV cache per lane, a prefill rate) and answers from the scripted backend, so the
tests see which prompt ran in which lane and when."""

from __future__ import annotations

import asyncio

from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import CUE_AFTER_S, FAR_EDIT_LINES, PAUSE_AFTER_S, Engine
from ghosttype.first_answer import FIRST_ANSWER_PREFILL_S, PAUSE_ANSWER_PREFILL_S
from tests.conftest import write_script
from tests.engine.manual_clock import ManualClock, settle, until
from tests.engine.test_engine import WarmRecordingBackend, engine_with_backend

RATE = 200.0  # prompt tokens a second: a first answer may cost RATE * FIRST_ANSWER_PREFILL_S
SHORT_ANSWER = "short_answer()"


def text_of(prompt) -> str:
    return "".join(segment.text for segment in prompt.segments)


class KvBackend(WarmRecordingBackend):
    """Counts a token per character and keeps, per lane, the last prompt it evaluated. Lane 1
    answers SHORT_ANSWER, so the tests can tell which prompt an answer came from."""

    def __init__(self, settings):
        super().__init__(settings)
        self.held: dict[int, str] = {}
        self.runs: list[tuple[str, int, int]] = []  # (what, lane, prompt length)
        self.drafts: list[str] = []  # GenerationParams.draft of each generation
        self.count_tokens = len  # type: ignore[assignment]
        self.generate = self.generate_in_lane  # type: ignore[assignment]

    def uncached_tokens(self, prompt, lane: int) -> int:
        text, held = text_of(prompt), self.held.get(lane, "")
        common = 0
        while common < min(len(text), len(held)) and text[common] == held[common]:
            common += 1
        return max(1, len(text) - common)

    def prefill_rate(self) -> float:
        return RATE

    async def warm(self, prompt, lane: int = 0) -> None:
        self.runs.append(("warm", lane, len(text_of(prompt))))
        self.held[lane] = text_of(prompt)

    async def generate_in_lane(self, prompt, params: GenerationParams, usage: Usage):
        self.runs.append(("generate", params.lane, len(text_of(prompt))))
        self.drafts.append(params.draft)
        self.held[params.lane] = text_of(prompt)
        if params.lane == 1:
            yield SHORT_ANSWER
            return
        async for piece in self.inner.generate(prompt, params, usage):
            yield piece


def long_file(lines: int = 200) -> str:
    return "".join(f"value_{n} = compute_{n}(argument_{n})\n" for n in range(lines))


async def started(tmp_path, **completion):
    clock = ManualClock()
    engine, backends = engine_with_backend(tmp_path, KvBackend, clock)
    if completion:
        engine.settings = with_overrides(engine.settings, completion=completion)
    await engine.wait_ready()
    return engine, backends[0], clock


async def test_a_new_place_is_answered_from_a_short_prompt_then_the_full_one_grows(tmp_path):
    engine, backend, _ = await started(tmp_path)
    text = long_file() + "x = "
    document = engine.documents.open("file:///w/a.py", text, "python", 1)
    reply = await engine.complete(document, len(text))
    assert [item.text for item in reply.items] == [SHORT_ANSWER]
    first = backend.runs[0]
    assert first[:2] == ("generate", 1)
    assert first[2] <= RATE * FIRST_ANSWER_PREFILL_S + 16  # the short prompt fits the budget
    # In the background, the full prompt in lane 0, to its answer.
    await until(lambda: engine.stats.grown == 1)
    assert backend.runs[1][:2] == ("generate", 0) and backend.runs[1][2] > 5 * first[2]
    assert backend.drafts[:2] == ["", SHORT_ANSWER]  # the shown answer drafts the full one's
    assert engine.stats.first_answers == 1 and engine.stats.grown_differs == 1
    # The same state again gets the full prompt's answer, from the cache.
    again = await engine.complete(document, len(text))
    assert again.source == "cache" and again.items[0].text == "compute(1, 2)"
    # The next keystroke finds lane 0 holding its prompt: the full prompt runs, and only it.
    runs = len(backend.runs)
    typed = engine.documents.open("file:///w/a.py", long_file() + "y = ", "python", 2)
    reply = await engine.complete(typed, len(typed.text))
    assert [r[1] for r in backend.runs[runs:]] == [0]
    assert [item.text for item in reply.items] == ["1"]


async def test_a_place_the_cache_holds_gets_the_full_prompt_at_once(tmp_path):
    engine, backend, _ = await started(tmp_path)
    text = "x = "  # a prompt cheaper than the budget, even cold
    reply = await engine.complete(engine.documents.open("file:///w/a.py", text, "python", 1), 4)
    assert reply.items[0].text == "compute(1, 2)"
    assert [r[:2] for r in backend.runs] == [("generate", 0)]
    assert engine.stats.first_answers == 0


async def test_a_short_answer_is_one_candidate_even_when_cycling_asks_for_more(tmp_path):
    engine, _, _ = await started(tmp_path, candidates=3)
    text = long_file() + "y = "
    reply = await engine.complete(
        engine.documents.open("file:///w/a.py", text, "python", 1), len(text)
    )
    assert [item.text for item in reply.items] == [SHORT_ANSWER]
    await until(lambda: engine.stats.grown == 1)
    again = await engine.complete(engine.documents.get("file:///w/a.py"), len(text))
    assert [item.text for item in again.items] == ["1", "2", "3"]


async def test_the_debounce_wait_prefills_the_prompt_the_request_will_run(tmp_path):
    engine, backend, clock = await started(tmp_path, debounce_ms=200)
    text = long_file() + "x = "
    request = engine.complete(engine.documents.open("file:///w/a.py", text, "python", 1), len(text))
    task = asyncio.ensure_future(request)
    await settle()
    assert [r[:2] for r in backend.runs] == [("warm", 1)]  # during the debounce: the short prompt
    await clock.advance(0.2)
    reply = await task
    assert reply.items[0].text == SHORT_ANSWER
    assert backend.runs[1][:2] == ("generate", 1)


async def test_a_cursor_move_prepares_both_prompts_there(tmp_path):
    engine, backend, clock = await started(tmp_path)
    text = long_file() + "x = \n" + long_file(50)
    document = engine.documents.open("file:///w/a.py", text, "python", 1)
    engine.cursor_moved(document, text.index("x = ") + 4)
    await clock.advance(CUE_AFTER_S)
    await until(lambda: len(backend.runs) == 2)
    assert [r[:2] for r in backend.runs] == [("warm", 1), ("warm", 0)]
    assert engine.stats_snapshot()["cursorMoves"] == 1
    # The first keystroke there finds lane 0 ready: the full prompt answers.
    reply = await engine.complete(document, text.index("x = ") + 4)
    assert reply.items[0].text == "compute(1, 2)" and engine.stats.first_answers == 0


async def test_an_edit_far_from_the_last_request_is_a_cue_and_a_near_one_is_not(tmp_path):
    engine, backend, clock = await started(tmp_path)
    text = "x = \n" + long_file()
    document = engine.documents.open("file:///w/a.py", text, "python", 1)
    await engine.complete(document, 4)
    await clock.advance(1.0)  # the prefetch after the reply runs
    runs = len(backend.runs)
    engine.edited(document, text.index("value_3 "))  # a few lines away: the same place
    await clock.advance(CUE_AFTER_S)
    assert len(backend.runs) == runs
    far = text.index(f"value_{FAR_EDIT_LINES + 5} ")
    engine.edited(document, far)
    await until(lambda: len(backend.runs) > runs)
    assert backend.runs[runs][0] == "warm"


async def test_in_a_pause_the_pause_model_answers_from_a_short_prompt_where_it_lacks_the_full(
    tmp_path,
):
    # The pause role's model (the 1.5B, ~80 prompt tokens/s) took 11 s for a place's full prompt;
    # where its KV cache lacks it, a pause answer comes from the lines around the cursor.
    clock = ManualClock()
    script = write_script(tmp_path, {"rules": [{"endsWith": "x = ", "text": "full_answer()"}]})
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        pause_backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0},
    )
    backends: list[KvBackend] = []
    engine = Engine(
        settings,
        backend_factory=lambda s: backends.append(KvBackend(s)) or backends[-1],
        clock=clock,
    )
    await engine.wait_ready()
    await engine.wait_pause_ready()
    pause = backends[1]
    text = long_file() + "x = "
    document = engine.documents.open("file:///w/a.py", text, "python", 1)
    await engine.complete(document, len(text))
    await clock.advance(PAUSE_AFTER_S)
    await until(lambda: engine.stats.pause_answers == 1)
    (what, lane, length), *_ = pause.runs
    assert (what, lane) == ("generate", 1)  # the short prompt's plan (one lane: lane 0's cache)
    assert length <= RATE * PAUSE_ANSWER_PREFILL_S + 16

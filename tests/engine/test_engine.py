"""The engine's flow, deterministic: the scripted backend plays tokens, delays and errors, and a
manual clock stands in for time (debounce, prefetch, warm-up and backoff waits)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ghosttype.backend_host import BACKOFF_START_S
from ghosttype.backends.scripted import ScriptedBackend
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine
from ghosttype.prefetch import PREFETCH_IDLE_S, WARM_AFTER_S
from tests.conftest import write_script
from tests.engine.manual_clock import ManualClock, settle, until

RULES = [
    {"endsWith": "x = ", "text": "compute(1, 2)"},
    {"endsWith": "slow = ", "text": "a" * 400, "tokenDelayMs": 5},
    {"endsWith": "boom = ", "error": "the scripted server failed"},
    {"endsWith": "call(", "text": "a, b)"},
    {"endsWith": "y = ", "candidates": ["1", "2", "3"]},
    {"endsWith": "    else:\n", "text": "    return 0"},
    {"regex": "^def add\\(a, b\\):$", "text": "\n    return a + b\n\n\ndef other():\n    pass\n"},
]


def make_engine(
    tmp_path: Path, statuses: list | None = None, clock: ManualClock | None = None, **completion
) -> Engine:
    script = write_script(tmp_path, {"rules": RULES})
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0, **completion},
    )
    sink = (
        (lambda state, message: statuses.append((state, message))) if statuses is not None else None
    )
    return Engine(settings, status=sink, clock=clock or ManualClock())


def open_doc(engine: Engine, text: str, uri: str = "file:///w/a.py"):
    return engine.documents.open(uri, text, "python", 1)


async def test_completes_from_the_backend(tmp_path):
    engine = make_engine(tmp_path)
    document = open_doc(engine, "x = ")
    reply = await engine.complete(document, 4)
    assert [i.text for i in reply.items] == ["compute(1, 2)"]
    assert reply.source == "model" and engine.stats.model_calls >= 1


async def test_newer_request_supersedes_the_older_one_which_stops_generating(tmp_path):
    engine = make_engine(tmp_path)
    await engine.wait_ready()
    document = open_doc(engine, "slow = ")
    older = asyncio.create_task(engine.complete(document, 7))
    await until(lambda: engine.stats.model_calls == 1)  # the older one is generating
    newer_document = open_doc(engine, "x = ")
    newer = await engine.complete(newer_document, 4)
    assert (await older).source == "superseded"
    assert newer.items[0].text == "compute(1, 2)"
    stats = engine.stats_snapshot()
    assert stats["cancelled"] == 1
    # It stopped at once: far fewer than the 100 tokens it would have streamed.
    assert stats["generatedTokens"] < 40
    assert stats["wastedTokens"] <= 1


async def test_client_cancellation_propagates(tmp_path):
    engine = make_engine(tmp_path)
    await engine.wait_ready()
    task = asyncio.create_task(engine.complete(open_doc(engine, "slow = "), 7))
    await until(lambda: engine.stats.model_calls == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.stats.cancelled == 1


async def test_typing_the_start_of_a_suggestion_is_served_without_a_model_call(tmp_path):
    engine = make_engine(tmp_path)
    await engine.complete(open_doc(engine, "x = "), 4)
    calls = engine.stats.model_calls
    for typed in ["c", "co", "com", "comp"]:
        document = open_doc(engine, "x = " + typed)
        reply = await engine.complete(document, len(document.text))
        assert reply.source == "typed-through"
        assert reply.items[0].text == "compute(1, 2)"[len(typed) :]
    assert engine.stats.model_calls == calls


async def test_typing_something_else_asks_the_model_again(tmp_path):
    engine = make_engine(tmp_path)
    await engine.complete(open_doc(engine, "x = "), 4)
    reply = await engine.complete(open_doc(engine, "x = q"), 5)
    assert reply.source != "typed-through"


async def test_coming_back_to_a_state_is_an_exact_cache_hit(tmp_path):
    engine = make_engine(tmp_path)
    await engine.complete(open_doc(engine, "x = "), 4)
    await engine.complete(open_doc(engine, "x = q"), 5)  # not the suggestion: a model call
    calls = engine.stats.model_calls
    reply = await engine.complete(open_doc(engine, "x = "), 4)  # deleted the q
    assert reply.source == "cache" and reply.items[0].text == "compute(1, 2)"
    assert engine.stats.model_calls == calls


async def test_accepting_shows_the_prefetched_next_suggestion(tmp_path):
    clock = ManualClock()
    engine = make_engine(tmp_path, clock=clock)
    await engine.complete(open_doc(engine, "x = "), 4)
    assert engine.stats.prefetches == 1
    calls = engine.stats.model_calls
    await clock.advance(PREFETCH_IDLE_S)  # a pause: the prefetch runs
    assert engine.stats.model_calls == calls + 1
    accepted = open_doc(engine, "x = compute(1, 2)")
    reply = await engine.complete(accepted, len(accepted.text))
    assert reply.source == "cache" and engine.stats.model_calls == calls + 1


async def test_the_prefetch_waits_for_a_pause_as_long_as_the_debounce(tmp_path):
    # A prefetch started in a gap shorter than the debounce is a model call the next keystroke
    # would cancel: it waits the debounce delay (here 300 ms), not only its 100 ms minimum.
    clock = ManualClock()
    engine = make_engine(tmp_path, clock=clock, debounce_ms=300)
    await engine.wait_ready()
    request = asyncio.create_task(engine.complete(open_doc(engine, "x = "), 4))
    await clock.advance(0.3)  # the request's own debounce
    await request
    calls = engine.stats.model_calls
    await clock.advance(0.15)
    assert engine.stats.model_calls == calls
    await clock.advance(0.15)
    assert engine.stats.model_calls == calls + 1


async def test_backend_error_is_one_status_message_and_backs_off(tmp_path):
    statuses: list = []
    clock = ManualClock()
    engine = make_engine(tmp_path, statuses, clock)
    document = open_doc(engine, "boom = ")
    first = await engine.complete(document, 7)
    assert first.source == "error" and first.items == ()
    errors = [s for s in statuses if s[0] == "error"]
    assert errors == [("error", "the scripted server failed")]
    calls = engine.stats.model_calls
    second = await engine.complete(open_doc(engine, "boom = 1\nboom = "), 16)
    assert second.source == "error" and engine.stats.model_calls == calls  # backing off
    # A healthy request after the backoff recovers by itself.
    await clock.advance(BACKOFF_START_S)
    reply = await engine.complete(open_doc(engine, "x = "), 4)
    assert reply.items and statuses[-1][0] == "ready"


async def test_auto_closed_bracket_is_replaced_not_doubled(tmp_path):
    engine = make_engine(tmp_path)
    document = open_doc(engine, "call()\n")
    reply = await engine.complete(document, 5)
    (item,) = reply.items
    assert item.text == "a, b)" and item.replace_after == 1


async def test_several_candidates_for_cycling(tmp_path):
    engine = make_engine(tmp_path, candidates=3)
    reply = await engine.complete(open_doc(engine, "y = "), 4)
    assert [i.text for i in reply.items] == ["1", "2", "3"]


async def test_multiline_body_stops_at_the_end_of_the_function(tmp_path):
    engine = make_engine(tmp_path)
    text = "def add(a, b):\n\nprint(add(1, 2))\n"
    reply = await engine.complete(open_doc(engine, text), len("def add(a, b):"))
    assert reply.items[0].text == "\n    return a + b"


async def test_a_statement_under_an_opener_is_indented_into_its_block(tmp_path):
    engine = make_engine(tmp_path)
    text = "def sign(x):\n    if x > 0:\n        return 1\n    else:\n\n"
    reply = await engine.complete(open_doc(engine, text), len(text) - 1, invoked=True)
    assert reply.items[0].text == "        return 0"


async def test_disabled_language_gets_nothing(tmp_path):
    engine = make_engine(tmp_path)
    document = engine.documents.open("file:///w/notes.md", "x = ", "markdown", 1)
    reply = await engine.complete(document, 4)
    assert reply.items == () and engine.stats.model_calls == 0


async def test_keystrokes_faster_than_the_debounce_make_one_model_call(tmp_path):
    clock = ManualClock()
    engine = make_engine(tmp_path, clock=clock, debounce_ms=80)
    await engine.wait_ready()
    tasks = []
    for typed in ["q", "qu", "qua", "quar"]:
        document = open_doc(engine, "z = " + typed)
        tasks.append(asyncio.create_task(engine.complete(document, len(document.text))))
        await clock.advance(0.02)
    assert engine.stats.model_calls == 0
    await clock.advance(0.08)
    replies = await asyncio.gather(*tasks)
    assert [r.source for r in replies[:-1]] == ["superseded"] * 3
    assert engine.stats.model_calls == 1  # the last one, after the pause


async def test_invoked_requests_skip_the_debounce(tmp_path):
    engine = make_engine(tmp_path, debounce_ms=30000)
    await engine.wait_ready()
    # Well under the debounce: an invoked request may still wait (up to 2 s) for the symbol
    # index's first build, and the machine may be loaded.
    reply = await asyncio.wait_for(engine.complete(open_doc(engine, "x = "), 4, invoked=True), 10)
    assert reply.items


async def test_missing_script_is_a_clear_startup_error(tmp_path):
    statuses: list = []
    settings = with_overrides(
        Settings(), backend={"kind": "scripted", "script": str(tmp_path / "none.json")}
    )
    engine = Engine(settings, status=lambda s, m: statuses.append((s, m)))
    error = await engine.wait_ready()
    assert error is not None and "cannot read the script" in str(error)
    reply = await engine.complete(open_doc(engine, "x = "), 4, invoked=True)
    assert reply.items == () and statuses[-1][0] == "error"


class WarmRecordingBackend:
    """The scripted backend plus the `warm` hook the embedded backend has."""

    def __init__(self, settings):
        self.inner = ScriptedBackend(settings)
        self.warmed: list = []
        self.name, self.prompt_format = self.inner.name, self.inner.prompt_format
        self.start, self.count_tokens = self.inner.start, self.inner.count_tokens
        self.generate, self.check, self.close = (
            self.inner.generate,
            self.inner.check,
            self.inner.close,
        )

    async def warm(self, prompt) -> None:
        self.warmed.append(prompt)


def engine_with_backend(
    tmp_path: Path, backend_class, clock: ManualClock | None = None
) -> tuple[Engine, list]:
    """An engine whose backend (the scripted one, wrapped) the test can reach."""
    script = write_script(tmp_path, {"rules": RULES})
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0},
    )
    backends: list = []
    engine = Engine(
        settings,
        backend_factory=lambda s: backends.append(backend_class(s)) or backends[-1],
        clock=clock or ManualClock(),
    )
    return engine, backends


async def test_opening_a_file_warms_its_prompt_and_a_request_cancels_warming(tmp_path):
    clock = ManualClock()
    engine, backends = engine_with_backend(tmp_path, WarmRecordingBackend, clock)
    await engine.wait_ready()
    text = "import os\n\nx = 1\n"
    engine.opened(engine.documents.open("file:///w/a.py", text, "python", 1))
    await clock.advance(WARM_AFTER_S)
    (prompt,) = backends[0].warmed
    assert prompt.context.prefix == text  # the file from its first line
    assert engine.stats_snapshot()["prewarms"] == 1
    # A request right after an open outranks the warming.
    engine.opened(engine.documents.open("file:///w/b.py", "x = ", "python", 1))
    await engine.complete(engine.documents.get("file:///w/b.py"), 4)
    await clock.advance(WARM_AFTER_S)
    assert len(backends[0].warmed) == 1


class SlowLoadingCountingBackend(WarmRecordingBackend):
    """Loads only when told to, and counts a token per character (four times the estimate)."""

    def __init__(self, settings):
        super().__init__(settings)
        self.loaded = asyncio.Event()
        self.prompts: list = []
        self.start, self.count_tokens, self.generate = (
            self.start_when_told,
            self.count_chars,
            self.recorded,
        )

    async def start_when_told(self, progress) -> None:
        await self.loaded.wait()
        await self.inner.start(progress)

    def count_chars(self, text: str) -> int:
        return len(text)

    def recorded(self, prompt, params, usage):
        self.prompts.append(prompt)
        return self.inner.generate(prompt, params, usage)


async def test_a_request_made_while_the_model_loads_is_planned_with_its_tokenizer(tmp_path):
    engine, backends = engine_with_backend(tmp_path, SlowLoadingCountingBackend)
    text = "".join(f"value_{n} = {n}\n" for n in range(200)) + "x = "
    request = asyncio.ensure_future(
        engine.complete(open_doc(engine, text), len(text), invoked=True)
    )
    await settle()  # planned, and waiting for the model
    backends[0].loaded.set()
    await request
    # The first prompt (more may follow where the name check asks for other answers).
    prompt = backends[0].prompts[0]
    # Counted a token per character, the 1,024-token budget holds ~1,000 characters of the file;
    # estimated (as while the model loaded), it took 2,150.
    assert 500 < len(prompt.context.prefix) < 1024
    await engine.close()


def engine_with_neighbour(
    tmp_path: Path,
    sure_with: float | list[float] | None,
    sure_without: float | None,
    with_tokens: list | None = None,
    failing_second: bool = False,
) -> Engine:
    answer = {"tokens": with_tokens} if with_tokens else {"text": "helper(values)"}
    rules = [
        {"endsWith": "total = ", "otherFiles": True, **answer, "logprob": sure_with},
        {
            "endsWith": "total = ",
            "otherFiles": False,
            "text": "sum(values)",
            "logprob": sure_without,
        },
    ]
    for rule in rules:  # None: a backend that reports no log-probabilities (the HTTP ones)
        if rule["logprob"] is None:
            del rule["logprob"]
    if failing_second:
        rules[1] = {"otherFiles": False, "regex": "", "error": "lane 1 died"}
    script = write_script(tmp_path, {"rules": rules})
    # The ranking by confidence alone: `helpers.py` is not on disk, so the name check (which
    # would put `sum(values)` first, `helper` being defined nowhere it reads) is off.
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0, "check_names": False},
    )
    engine = Engine(settings, workspace_root=tmp_path, clock=ManualClock())
    helpers = (
        "def helper(values):\n    total = 0\n    for value in values:\n        total += value\n"
    )
    engine.documents.open((tmp_path / "helpers.py").as_uri(), helpers, "python", 1)
    return engine


@pytest.mark.parametrize(
    ("sure_with", "sure_without", "expected"),
    [
        (-0.9, -0.2, ["sum(values)", "helper(values)"]),
        (-0.2, -0.9, ["helper(values)", "sum(values)"]),
    ],
)
async def test_an_invoked_request_puts_first_the_answer_the_model_is_surer_of(
    tmp_path, sure_with, sure_without, expected
):
    engine = engine_with_neighbour(tmp_path, sure_with, sure_without)
    text = "values = [1, 2]\ntotal = "
    document = engine.documents.open((tmp_path / "main.py").as_uri(), text, "python", 1)
    reply = await engine.complete(document, len(text), invoked=True)
    # One prompt with the other file, one without it.
    assert [i.text for i in reply.items] == expected
    assert engine.stats.model_calls == 2


async def test_a_typing_request_asks_only_the_prompt_with_the_other_files(tmp_path):
    engine = engine_with_neighbour(tmp_path, -0.9, -0.2)
    text = "values = [1, 2]\ntotal = "
    document = engine.documents.open((tmp_path / "main.py").as_uri(), text, "python", 1)
    reply = await engine.complete(document, len(text))
    assert [i.text for i in reply.items] == ["helper(values)"]
    assert engine.stats.model_calls == 1


async def test_without_a_confidence_only_the_prompt_with_other_files_is_asked(tmp_path):
    # A backend that reports no log-probabilities (the HTTP ones): nothing to rank them by.
    engine = engine_with_neighbour(tmp_path, None, None)
    text = "values = [1, 2]\ntotal = "
    document = engine.documents.open((tmp_path / "main.py").as_uri(), text, "python", 1)
    reply = await engine.complete(document, len(text), invoked=True)
    assert [i.text for i in reply.items] == ["helper(values)"]
    assert engine.stats.model_calls == 1


async def test_the_piece_a_stop_rule_cuts_through_does_not_count_in_the_confidence(tmp_path):
    # The newline ending the line was unlikely (-5): that was the model choosing where to stop,
    # not the line it wrote (-0.1 a token), which it was surer of than of the other (-0.5).
    engine = engine_with_neighbour(
        tmp_path, [-0.1, -0.1, -5.0], -0.5, with_tokens=["help", "er(values)", "\nmore"]
    )
    text = "values = [1, 2]\ntotal = "
    document = engine.documents.open((tmp_path / "main.py").as_uri(), text, "python", 1)
    reply = await engine.complete(document, len(text), invoked=True)
    assert [i.text for i in reply.items] == ["helper(values)", "sum(values)"]


async def test_a_failed_second_prompt_leaves_the_first_ones_answer(tmp_path):
    engine = engine_with_neighbour(tmp_path, -0.9, -0.2, failing_second=True)
    text = "values = [1, 2]\ntotal = "
    document = engine.documents.open((tmp_path / "main.py").as_uri(), text, "python", 1)
    reply = await engine.complete(document, len(text), invoked=True)
    assert [i.text for i in reply.items] == ["helper(values)"]
    assert engine.last_error() == "lane 1 died"  # reported, once, as any backend failure


async def test_a_backend_that_failed_to_start_is_started_again_once_the_fault_is_gone(tmp_path):
    # Disk full, a bad model file, a server not up yet: no restart of the server should be needed.
    from ghosttype.backend_host import START_RETRY_S

    statuses: list = []
    clock = ManualClock()
    script = tmp_path / "later.json"
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script)},
        completion={"debounce_ms": 0},
    )
    engine = Engine(settings, status=lambda s, m: statuses.append((s, m)), clock=clock)
    assert await engine.wait_ready() is not None
    assert (await engine.complete(open_doc(engine, "x = "), 4, invoked=True)).items == ()
    write_script(tmp_path, {"rules": RULES}, "later.json")  # the fault is gone
    await clock.advance(START_RETRY_S / 2)
    assert (await engine.complete(open_doc(engine, "x = 1\nx = "), 10, invoked=True)).items == ()
    await clock.advance(START_RETRY_S / 2)
    await engine.complete(open_doc(engine, "x = 2\nx = "), 10, invoked=True)  # starts it again
    reply = await engine.complete(open_doc(engine, "x = "), 4, invoked=True)
    assert [i.text for i in reply.items] == ["compute(1, 2)"]
    assert statuses[-1][0] == "ready"


@pytest.mark.parametrize("name", [".env", "deploy/secrets/prod.py", "id_rsa"])
async def test_an_excluded_file_is_never_sent_not_even_to_complete_it(tmp_path, name):
    engine = make_engine(tmp_path)
    document = engine.documents.open((tmp_path / name).as_uri(), "x = ", "python", 1)
    reply = await engine.complete(document, 4, invoked=True)
    assert reply.items == () and engine.stats.model_calls == 0
    allowed = engine.documents.open((tmp_path / "app.py").as_uri(), "x = ", "python", 1)
    assert (await engine.complete(allowed, 4, invoked=True)).items


async def test_a_request_cancelled_while_the_model_loads_leaves_the_load_going(tmp_path):
    # The client gives up on its first request (typing on, $/cancelRequest) while the model
    # loads: the load goes on, and the next request is answered once it is done.
    engine, backends = engine_with_backend(tmp_path, SlowLoadingCountingBackend)
    engine.start()
    document = open_doc(engine, "x = ")
    first = asyncio.create_task(engine.complete(document, 4))
    await until(lambda: bool(backends))
    await settle()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    backends[0].loaded.set()
    reply = await asyncio.wait_for(engine.complete(document, 4), 5)
    assert [item.text for item in reply.items] == ["compute(1, 2)"]

"""backend.auditLog through the engine and the scripted backend: one JSON line per generation
holding the prompt the backend was given; nothing at all when it is off; a file that cannot be
written is told once and completions go on; new settings start it afresh without reloading the
backend."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ghosttype.audit import AuditLog
from ghosttype.backend_host import BackendHost, StatusLine
from ghosttype.backends.base import GenerationParams, Usage
from ghosttype.backends.scripted import ScriptedBackend
from ghosttype.config import BackendSettings, Settings, with_overrides
from ghosttype.context.types import PromptContext
from ghosttype.engine import Engine
from ghosttype.prompts import Prompt, build_prompt
from ghosttype.prompts.formats import QWEN_CODER
from tests.conftest import write_script
from tests.engine.manual_clock import ManualClock

RULES = [
    {"endsWith": "x = ", "text": "compute(1, 2)"},
    {"endsWith": "y = ", "candidates": ["1", "2", "3"]},
    {"endsWith": "boom = ", "error": "the scripted server failed"},
]


class Recording:
    """A factory of scripted backends that remembers every prompt and parameters generated."""

    def __init__(self) -> None:
        self.created = 0
        self.calls: list[tuple[Prompt, GenerationParams]] = []

    def __call__(self, settings: BackendSettings) -> ScriptedBackend:
        self.created += 1
        calls = self.calls

        class Backend(ScriptedBackend):
            def generate(
                self, prompt: Prompt, params: GenerationParams, usage: Usage
            ) -> AsyncIterator[str]:
                calls.append((prompt, params))
                return super().generate(prompt, params, usage)

        return Backend(settings)


def make_engine(
    tmp_path: Path,
    audit_log: str,
    factory: Recording,
    statuses: list[tuple[str, str]] | None = None,
    **completion: Any,
) -> Engine:
    script = write_script(tmp_path, {"rules": RULES})
    settings = with_overrides(
        Settings(),
        backend={"kind": "scripted", "script": str(script), "audit_log": audit_log},
        completion={"debounce_ms": 0, **completion},
    )
    sink = (lambda s, m: statuses.append((s, m))) if statuses is not None else None
    return Engine(settings, status=sink, clock=ManualClock(), backend_factory=factory)


def lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def joined(prompt: Prompt) -> str:
    return "".join(segment.text for segment in prompt.segments)


async def test_one_line_per_generation_with_the_prompt_sent(tmp_path):
    audit = tmp_path / "audit.jsonl"
    factory = Recording()
    engine = make_engine(tmp_path, str(audit), factory)
    try:
        document = engine.documents.open("file:///w/a.py", "import os\nx = ", "python", 1)
        reply = await engine.complete(document, len(document.text))
        assert [item.text for item in reply.items] == ["compute(1, 2)"]
        (line,) = lines(audit)
        ((prompt, params),) = factory.calls
        assert line["prompt"] == joined(prompt)
        assert "import os\nx = " in line["prompt"]
        assert line["purpose"] == "completion"
        assert line["backend"] == "scripted" and line["url"] is None
        assert line["promptFormat"] == prompt.format.name
        assert line["maxTokens"] == params.max_tokens
        assert line["temperature"] == params.temperature == 0.0
        assert line["lane"] == 0 and line["candidate"] == 0
        assert "request" not in line
        assert line["time"].endswith("Z")
        assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 0
        # The answer served from the cache asks the backend nothing: no line.
        again = await engine.complete(document, len(document.text))
        assert again.source == "cache"
        assert len(lines(audit)) == 1
    finally:
        await engine.close()


async def test_each_candidate_is_a_line_of_its_own(tmp_path):
    audit = tmp_path / "audit.jsonl"
    factory = Recording()
    engine = make_engine(tmp_path, str(audit), factory, candidates=3, temperature=0.0)
    try:
        document = engine.documents.open("file:///w/a.py", "y = ", "python", 1)
        reply = await engine.complete(document, 4, invoked=True)
        assert len(reply.items) == 3
        written = lines(audit)
        assert len(factory.calls) == 3
        assert len(written) == len(factory.calls)
        assert sorted(line["candidate"] for line in written) == [0, 1, 2]
        by_candidate = {params.candidate: (prompt, params) for prompt, params in factory.calls}
        for line in written:
            prompt, params = by_candidate[line["candidate"]]
            assert line["prompt"] == joined(prompt)
            assert line["temperature"] == params.temperature
            assert line["seed"] == params.seed
    finally:
        await engine.close()


async def test_off_by_default_writes_nothing(tmp_path):
    assert Settings().backend.audit_log == ""
    factory = Recording()
    engine = make_engine(tmp_path, "", factory)
    try:
        document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
        reply = await engine.complete(document, 4)
        assert reply.items and len(factory.calls) == 1
    finally:
        await engine.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.json"]


async def test_text_beyond_ascii_is_logged_exactly_on_one_line(tmp_path):
    # Non-ASCII text and the line separators JSON readers may split on: the line is one line of
    # ASCII JSON that gives back exactly the prompt the backend got.
    audit = tmp_path / "audit.jsonl"
    factory = Recording()
    engine = make_engine(tmp_path, str(audit), factory)
    try:
        text = 'name = "Zo\u00eb \U0001f600"\n# \u2028 \u2029 \x85 separators\nx = '
        document = engine.documents.open("file:///w/a.py", text, "python", 1)
        reply = await engine.complete(document, len(text))
        assert reply.items
        raw = audit.read_text(encoding="utf-8")
        assert raw.count("\n") == 1 and raw.endswith("\n") and raw.isascii()
        ((prompt, _),) = factory.calls
        assert json.loads(raw)["prompt"] == joined(prompt)
        assert "Zo\u00eb \U0001f600" in joined(prompt)
    finally:
        await engine.close()


def test_a_lone_surrogate_is_written_not_fatal(tmp_path):
    # What an editor's broken UTF-16 may leave in a string: still one exact line.
    audit = tmp_path / "audit.jsonl"
    log = AuditLog(str(audit))
    log.write({"prompt": "a\ud83db"})
    log.close()
    assert log.problem == ""
    assert json.loads(audit.read_text(encoding="utf-8")) == {"prompt": "a\ud83db"}


async def test_a_file_that_cannot_be_written_is_told_once_and_completions_go_on(tmp_path, caplog):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    statuses: list[tuple[str, str]] = []
    factory = Recording()
    engine = make_engine(tmp_path, str(folder), factory, statuses)
    try:
        with caplog.at_level(logging.WARNING, logger="ghosttype"):
            for text in ["x = ", "y = ", "z = 1\nx = "]:
                document = engine.documents.open("file:///w/a.py", text, "python", 1)
                reply = await engine.complete(document, len(text))
                assert reply.source == "model" and reply.items, text
        errors = [message for state, message in statuses if state == "error"]
        assert len(errors) == 1
        assert str(folder) in errors[0] and "cannot write" in errors[0]
        assert "until the settings change" in errors[0]
        warned = [r.getMessage() for r in caplog.records if "audit log" in r.getMessage()]
        assert warned == errors
        # The status line keeps saying so after the error.
        assert statuses[-1][0] == "ready" and "audit log off" in statuses[-1][1]
        assert len(factory.calls) == 3
        assert list(folder.iterdir()) == []

        # New settings (a file that can be written) start it again, without reloading the backend.
        audit = tmp_path / "audit.jsonl"
        await engine.apply_settings(
            with_overrides(engine.settings, backend={"audit_log": str(audit)})
        )
        document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
        reply = await engine.complete(document, 4)
        assert reply.source == "model" and reply.items
        (line,) = lines(audit)
        assert line["prompt"] == joined(factory.calls[-1][0])
        assert factory.created == 1
        assert statuses[-1] == ("ready", engine.host.loaded.name)  # type: ignore[union-attr]
    finally:
        await engine.close()


async def test_turning_it_off_stops_writing(tmp_path):
    audit = tmp_path / "audit.jsonl"
    factory = Recording()
    engine = make_engine(tmp_path, str(audit), factory)
    try:
        document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
        await engine.complete(document, 4)
        assert len(lines(audit)) == 1
        await engine.apply_settings(with_overrides(engine.settings, backend={"audit_log": ""}))
        document = engine.documents.open("file:///w/a.py", "y = ", "python", 1)
        reply = await engine.complete(document, 4)
        assert reply.items and len(factory.calls) == 2
        assert len(lines(audit)) == 1
        assert factory.created == 1
    finally:
        await engine.close()


async def test_the_file_is_appended_to_and_private(tmp_path):
    audit = tmp_path / "audit.jsonl"
    audit.write_text('{"earlier": true}\n', encoding="utf-8")
    audit.chmod(0o600)
    fresh = tmp_path / "fresh.jsonl"
    for path in (audit, fresh):
        factory = Recording()
        engine = make_engine(tmp_path, str(path), factory)
        try:
            document = engine.documents.open("file:///w/a.py", "x = ", "python", 1)
            await engine.complete(document, 4)
        finally:
            await engine.close()
    assert [("earlier" in line) for line in lines(audit)] == [True, False]
    assert len(lines(fresh)) == 1
    assert fresh.stat().st_mode & 0o777 == 0o600


async def test_a_failed_generation_is_logged_and_its_error_is_the_one_kept(tmp_path):
    audit = tmp_path / "audit.jsonl"
    factory = Recording()
    engine = make_engine(tmp_path, str(audit), factory)
    try:
        document = engine.documents.open("file:///w/a.py", "boom = ", "python", 1)
        reply = await engine.complete(document, 7)
        assert reply.source == "error"
        (line,) = lines(audit)
        assert line["prompt"] == joined(factory.calls[0][0])
    finally:
        await engine.close()


async def test_when_both_fail_the_status_keeps_the_backends_error(tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    statuses: list[tuple[str, str]] = []
    engine = make_engine(tmp_path, str(folder), Recording(), statuses)
    try:
        document = engine.documents.open("file:///w/a.py", "boom = ", "python", 1)
        reply = await engine.complete(document, 7)
        assert reply.source == "error"
        errors = [message for state, message in statuses if state == "error"]
        assert len(errors) == 2 and "audit log" in errors[0]
        assert engine.last_error() == "the scripted server failed"
    finally:
        await engine.close()


async def test_a_prewarm_is_logged_with_its_prompt(tmp_path):
    # The embedded backend evaluates a just-opened file's prompt ahead of requests: logged too.
    warmed: list[Prompt] = []

    class Warmable(ScriptedBackend):
        async def warm(self, prompt: Prompt) -> None:
            warmed.append(prompt)

    audit = tmp_path / "audit.jsonl"
    script = write_script(tmp_path, {"rules": RULES})
    settings = BackendSettings(kind="scripted", script=str(script), audit_log=str(audit))
    host = BackendHost(settings, StatusLine(), ManualClock(), Warmable)
    try:
        context = PromptContext(path="a.py", language="python", prefix="x = ", suffix="\n")
        prompt = build_prompt(QWEN_CODER, context)
        assert await host.warm(prompt) is True
    finally:
        await host.close()
    assert warmed == [prompt]
    (line,) = lines(audit)
    assert line["purpose"] == "prewarm" and line["prompt"] == joined(prompt)
    assert line["maxTokens"] is None and line["temperature"] is None

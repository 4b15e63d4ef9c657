"""The model store and the embedded backend's start when the cache folder cannot be written (disk
full, no permission) or the model file is not a model: one clear status error naming the file or
folder and what to do, no traceback at the default log level, empty replies meanwhile, no partial
file left behind, and the next start works once the fault is gone."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from ghosttype.backends import model_store
from ghosttype.backends.base import BackendError
from ghosttype.config import Settings, with_overrides
from ghosttype.engine import Engine
from tests.engine.manual_clock import ManualClock

CHUNKS = (b"GGUF" + b"a" * 3000, b"b" * 2500)
NAME = "fault-test-model"


@pytest.fixture
def packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> model_store.PackagedModel:
    """A packaged model of two small chunk modules, and a cache folder of its own."""
    modules = []
    for index, data in enumerate(CHUNKS):
        part = tmp_path / f"part{index}.bin"
        part.write_bytes(data)
        module = types.ModuleType(f"ghosttype_fault_chunk{index}")
        module.get_part_path = lambda part=part: str(part)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        modules.append(module.__name__)
    model = model_store.PackagedModel(
        name=NAME,
        file_name="fault-test.gguf",
        size=sum(map(len, CHUNKS)),
        sha256=hashlib.sha256(b"".join(CHUNKS)).hexdigest(),
        chunk_modules=tuple(modules),
        chunk_packages=("fault-chunk0==1", "fault-chunk1==1"),
    )
    monkeypatch.setitem(model_store.MODELS, NAME, model)
    monkeypatch.setenv("GHOSTTYPE_CACHE_DIR", str(tmp_path / "cache"))
    return model


class FullDisk:
    """A file whose writes fail as on a full disk after the first."""

    def __init__(self, real: Any):
        self.real = real
        self.writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self.writes > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return int(self.real.write(data))

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(model_store.os, "fdopen", lambda *a, **k: FullDisk(real_fdopen(*a, **k)))


def no_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kwargs.get("dir"))

    # tempfile.mkstemp, not chmod: the tests may run as root, which chmod does not stop.
    monkeypatch.setattr(model_store.tempfile, "mkstemp", refuse)


FAULTS = {"disk-full": (disk_full, "No space left"), "no-permission": (no_permission, "denied")}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_an_unwritable_cache_is_one_clear_error_and_the_next_start_works(
    packaged: model_store.PackagedModel, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    inject, said = FAULTS[fault]
    folder = Path(os.environ["GHOSTTYPE_CACHE_DIR"]) / "models"
    with monkeypatch.context() as during:
        inject(during)
        with pytest.raises(BackendError) as raised:
            model_store.ensure_model(NAME)
    error = raised.value
    assert said in error.message and str(folder) in error.message
    assert packaged.file_name in error.message
    assert "GHOSTTYPE_CACHE_DIR" in error.hint and "free disk space" in error.hint
    # Nothing half-written stays behind to be taken for the model later.
    assert not folder.exists() or list(folder.iterdir()) == []
    # The fault is gone: the next start assembles a verified file.
    path = model_store.ensure_model(NAME)
    assert path.read_bytes() == b"".join(CHUNKS)
    assert [p.name for p in folder.iterdir()] == [packaged.file_name]


def embedded_engine(tmp_path: Path, statuses: list[tuple[str, str]], **backend: Any) -> Engine:
    settings = with_overrides(
        Settings(), backend={"kind": "embedded", **backend}, completion={"debounce_ms": 0}
    )
    return Engine(settings, status=lambda s, m: statuses.append((s, m)), clock=ManualClock())


async def complete_twice(engine: Engine) -> None:
    for n in range(2):  # the server keeps answering, with empty lists
        document = engine.documents.open("file:///w/a.py", "x = " + "y" * n, "python", n + 1)
        reply = await engine.complete(document, len(document.text))
        assert reply.items == ()


async def test_a_full_disk_fails_the_embedded_start_with_one_message_and_no_traceback(
    packaged: model_store.PackagedModel,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    disk_full(monkeypatch)
    statuses: list[tuple[str, str]] = []
    engine = embedded_engine(tmp_path, statuses, model=NAME)
    caplog.set_level(logging.INFO)
    error = await engine.wait_ready()
    assert error is not None and "No space left" in error.message
    await complete_twice(engine)
    await engine.close()
    errors = [m for s, m in statuses if s == "error"]
    assert len(errors) == 1 and "cache folder" in errors[0] and "GHOSTTYPE_CACHE_DIR" in errors[0]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        pytest.param(b"<html>not found</html>", "is not a GGUF file", id="not-gguf"),
        pytest.param(b"", "is not a GGUF file", id="empty"),
        pytest.param(None, "does not exist", id="missing"),
    ],
)
async def test_a_bad_model_file_is_one_status_error_and_new_settings_recover(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes | None, said: str
) -> None:
    bad = tmp_path / "model.gguf"
    if content is not None:
        bad.write_bytes(content)
    statuses: list[tuple[str, str]] = []
    engine = embedded_engine(tmp_path, statuses, model_path=str(bad))
    caplog.set_level(logging.INFO)
    error = await engine.wait_ready()
    assert error is not None and said in error.message and str(bad) in error.message
    assert "backend.modelPath" in error.hint
    await complete_twice(engine)
    errors = [m for s, m in statuses if s == "error"]
    assert errors == [str(error)]
    assert not [r for r in caplog.records if r.exc_info]
    # New settings restart the backend without restarting the server: here another bad path,
    # told once as well (the packaged model's recovery is tests/model, marked `model`).
    other = tmp_path / "other.bin"
    other.write_bytes(b"NOPE")
    settings = with_overrides(engine.settings, backend={"model_path": str(other)})
    await engine.apply_settings(settings)
    error = await engine.wait_ready()
    assert error is not None and str(other) in error.message
    await complete_twice(engine)
    await engine.close()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_evaluation_check_passes_when_the_cache_cannot_remember_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    from ghosttype.backends.embedded import check_runs_here

    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("GHOSTTYPE_CACHE_DIR", str(tmp_path / "cache"))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        code = errno.ENOSPC if fault == "disk-full" else errno.EACCES
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(Path, "write_text", refuse)
    check_runs_here(model, probe="pass")  # the check passed: a stamp it cannot write is no error

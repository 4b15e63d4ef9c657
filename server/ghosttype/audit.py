"""`backend.auditLog`: what leaves the machine, visible. One JSON line per backend request says
what was sent, so a person or an auditor can check the redaction (the backend host writes it)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .backends import Backend, GenerationParams
from .config import BackendSettings, without_credentials
from .prompts import Prompt

# Backends that run in this process: what they get is the prompt's text (nothing goes on a wire).
LOCAL_KINDS = frozenset({"embedded", "scripted"})


class AuditLog:
    """`backend.auditLog`: one JSON line per backend request, saying what was sent, so a person
    or an auditor can check the redaction. The file is opened once (appending, created readable
    by its owner only) and flushed after every line. A failure never breaks a completion: it is
    reported once, and nothing more is written until the settings change (a new AuditLog)."""

    def __init__(self, path: str, report: Callable[[str], None] = lambda message: None):
        self.path = path
        self.problem = ""
        self._report = report
        self._file: TextIO | None = None

    @property
    def active(self) -> bool:
        return bool(self.path) and not self.problem

    def write(self, record: Mapping[str, Any]) -> None:
        if not self.active:
            return
        try:
            # ASCII JSON: exact (any lone surrogate from an editor included) and one line.
            line = json.dumps(record) + "\n"
            if self._file is None:
                self._file = _open_for_appending(self.path)
            self._file.write(line)
            self._file.flush()
        except Exception as error:  # the audit log must never break a completion
            reason = error.strerror if isinstance(error, OSError) else None
            self.problem = f"cannot write ({reason or type(error).__name__})"
            self.close()
            self._report(
                f"audit log {self.path}: {self.problem}; no more requests are logged until the "
                "settings change"
            )

    def close(self) -> None:
        if self._file is not None:
            handle, self._file = self._file, None
            with contextlib.suppress(Exception):
                handle.close()


def _open_for_appending(path: str) -> TextIO:
    # O_NONBLOCK: a FIFO nobody reads fails at once instead of blocking the event loop; it
    # changes nothing for a regular file.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        return os.fdopen(descriptor, "a", encoding="utf-8", newline="\n")
    except BaseException:
        os.close(descriptor)
        raise


def audit_log_check(path: str) -> tuple[bool, str]:
    """`doctor`: (ok, line) saying where the audit log goes and whether it can be written there."""
    if not path:
        return True, "audit log: off"
    where = Path(path)
    if where.is_dir():
        return False, f"audit log: {path} is a folder, not a file"
    if where.exists():
        if not os.access(where, os.W_OK):
            return False, f"audit log: {path} is not writable"
    elif not where.parent.is_dir():
        return False, f"audit log: {path}: the folder {where.parent} does not exist"
    elif not os.access(where.parent, os.W_OK):
        return False, f"audit log: {path}: the folder {where.parent} is not writable"
    return True, f"audit log: {path} (one JSON line per backend request: what was sent)"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audit_record(
    settings: BackendSettings,
    time: str,
    purpose: str,
    backend: Backend,
    prompt: Prompt,
    params: GenerationParams | None,
    sent: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """One line: what was sent. An HTTP backend's request as it went out (the JSON body:
    the prompt it built, or the prefix and suffix apart for a server that applies the
    template); for a backend in this process, the prompt's text (its segments joined). An
    HTTP backend that refused before it built a request sent nothing: no line."""
    local = settings.kind in LOCAL_KINDS
    if sent is None and not local:
        return None
    record: dict[str, Any] = {
        "time": time,
        "purpose": purpose,
        "backend": settings.kind,
        "url": None if local else _shown_url(settings.effective_url),
        "model": getattr(backend, "model", None)
        or getattr(backend, "model_name", None)
        or settings.model,
        "promptFormat": getattr(backend, "format_name", None) or prompt.format.name,
        "maxTokens": params.max_tokens if params else None,
        "temperature": params.temperature if params else None,
        "lane": params.lane if params else 0,
        "candidate": params.candidate if params else 0,
        "seed": params.seed if params else None,
    }
    if sent is not None:
        record["request"] = sent
    else:
        record["prompt"] = "".join(segment.text for segment in prompt.segments)
    return record


def _shown_url(url: str) -> str:
    """A URL for the audit log: without credentials, query or fragment (a key may sit there)."""
    return without_credentials(url).split("#", 1)[0].split("?", 1)[0]

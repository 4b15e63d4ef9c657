"""The backend's lifecycle, health and backoff, in one place.

The host starts the backend in the background (requests wait for it), restarts it when its
settings change, tells the client its state through one status line, and after a failure refuses
requests for a short, growing while (or the server's Retry-After) so a dead server is not asked on
every keystroke; the first request after the pause goes through, and one success ends it. With
`backend.auditLog` set it also writes, for every backend request, what was sent (audit.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from .audit import AuditLog, audit_record, utc_now
from .backends import Backend, BackendError, GenerationParams, Usage, create_backend
from .clock import Clock, SystemClock
from .config import BackendSettings
from .prompts import Prompt, PromptFormat, pick_format

log = logging.getLogger(__name__)

StatusSink = Callable[[str, str], None]
# Doubling per consecutive failure: short, so a server that comes back is used again within
# seconds, yet a dead one is not asked on every keystroke.
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 8.0
# A Retry-After longer than this is capped: the user would rather see the server tried again.
RETRY_AFTER_MAX_S = 120.0
# A backend that failed to start (disk full, a bad model file, a server not up yet) is started
# again after this pause, doubling up to the cap: the fault may be gone, and a restart of the
# server should not be what it takes. Long, since a start may assemble or load a model.
START_RETRY_S = 30.0
START_RETRY_MAX_S = 300.0
# "busy" only for generations that last: a status line need not flicker per keystroke.
BUSY_AFTER_S = 0.3


class Backoff:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.failures = 0
        self.until_s = 0.0

    def remaining_s(self) -> float:
        return max(0.0, self.until_s - self.clock.now())

    def failed(self, error: BackendError) -> float:
        """Records a failure; returns the pause it starts."""
        self.failures += 1
        pause = min(BACKOFF_START_S * 2.0 ** (self.failures - 1), BACKOFF_MAX_S)
        if error.retry_after_s is not None:
            pause = max(pause, min(error.retry_after_s, RETRY_AFTER_MAX_S))
        self.until_s = self.clock.now() + pause
        return pause

    def succeeded(self) -> None:
        self.failures = 0
        self.until_s = 0.0


class StatusLine:
    """The `ghosttype/status` state: each change is sent once."""

    def __init__(self, sink: StatusSink | None = None):
        self._sink = sink or (lambda state, message: None)
        self._last: tuple[str, str] | None = None
        self.last_error = ""

    def __call__(self, state: str, message: str) -> None:
        if state == "error":
            self.last_error = message
        if (state, message) != self._last:
            self._last = (state, message)
            self._sink(state, message)


class BackendHost:
    def __init__(
        self,
        settings: BackendSettings,
        status: StatusLine,
        clock: Clock | None = None,
        factory: Callable[[BackendSettings], Backend] = create_backend,
    ):
        self.settings = settings
        self.status = status
        self.clock = clock or SystemClock()
        self.backoff = Backoff(self.clock)
        self._factory = factory
        self._backend: Backend | None = None
        self._start_error: BackendError | None = None
        self._loading: asyncio.Task[None] | None = None
        self._start_failures = 0
        self._retry_start_at = 0.0
        self.audit = AuditLog(settings.audit_log, self._audit_failed)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Loads the backend in the background (once); `ready` waits for it."""
        if self._loading is None:
            self._loading = asyncio.create_task(self._load())
        return self._loading

    async def _started(self) -> None:
        """Waits for the load. A waiter that is cancelled (a request the client gave up on, a
        pause that ended) leaves the load going: it is everyone's."""
        await asyncio.shield(self.start())

    async def _load(self) -> None:
        self._start_error = None
        try:
            await self._start_backend()
        finally:
            if self._start_error is None:
                self._start_failures = 0
            else:
                self._start_failures += 1
                pause = START_RETRY_S * 2.0 ** (self._start_failures - 1)
                self._retry_start_at = self.clock.now() + min(pause, START_RETRY_MAX_S)

    async def _start_backend(self) -> None:
        try:
            self.status("loading", f"starting the {self.settings.kind} backend")
            backend = self._factory(self.settings)
            await backend.start(lambda message: self.status("loading", message))
        except BackendError as error:
            self._start_error = error
            self.status("error", str(error))
        except Exception as error:  # a broken model runtime must not take the server down
            log.exception("backend failed to start")
            self._start_error = BackendError(f"the backend failed to start: {error}")
            self.status("error", str(self._start_error))
        else:
            self._backend = backend
            self.status("ready", backend.name)

    async def start_error(self) -> BackendError | None:
        """Waits for the start; the error it ended with, if any."""
        await self._started()
        return self._start_error

    async def ready(self) -> Backend | None:
        """The started backend, or None when it failed to start or is in a backoff pause. A
        failed start is tried again once its pause is over (in the background: this request
        gets None, the next ones wait for the start)."""
        await self._started()
        if self._start_error is not None and self.clock.now() >= self._retry_start_at:
            self._loading = asyncio.create_task(self._load())
            return None
        if self._backend is None or self.backoff.remaining_s() > 0:
            return None
        return self._backend

    @property
    def loaded(self) -> Backend | None:
        """The backend when it has started (planning uses its tokenizer), without waiting."""
        return self._backend

    async def restart(self, settings: BackendSettings) -> None:
        previous, self.settings = self.settings, settings
        self.audit.close()
        self.audit = AuditLog(settings.audit_log, self._audit_failed)
        if self._loading is None:
            return  # never started: the next start uses the new settings
        if _without_audit(previous) == _without_audit(settings):
            return  # only the audit log changed: the backend (a loaded model) stays
        with contextlib.suppress(asyncio.CancelledError):
            await self._loading
        await self._close_backend()
        self.backoff = Backoff(self.clock)
        self._start_failures = 0
        self._loading = asyncio.create_task(self._load())

    async def close(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loading
        await self._close_backend()
        self.audit.close()

    async def _close_backend(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            await backend.close()

    async def check(self) -> list[str]:
        """`doctor`: what the backend says about itself (raises BackendError when unwell)."""
        await self._started()
        if self._backend is None:
            raise self._start_error or BackendError("the backend did not start")
        return await self._backend.check()

    # --- what requests use -----------------------------------------------------------------

    @property
    def prompt_format(self) -> PromptFormat:
        if self._backend is not None:
            return self._backend.prompt_format
        return pick_format(self.settings.prompt_format, self.settings.model)

    @property
    def count_tokens(self) -> Callable[[str], int | None] | None:
        return self._backend.count_tokens if self._backend is not None else None

    async def generate(
        self, backend: Backend, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        """The backend's stream. A failure starts a backoff pause and is told once, then raised;
        a whole stream ends the pause."""
        busy = asyncio.get_running_loop().call_later(
            BUSY_AFTER_S, self.status, "busy", backend.name
        )
        started = utc_now() if self.audit.active else ""
        stream = backend.generate(prompt, params, usage)
        failed = False
        try:
            answered = False
            async for piece in stream:
                if not answered:  # the backend works: end any pause
                    answered = True
                    self.backoff.succeeded()
                yield piece
            self.backoff.succeeded()
        except BackendError as error:
            failed = True
            if started:  # before the status, so the error it keeps is the backend's
                self._audit(started, "completion", backend, prompt, params, usage.sent)
                started = ""
            self.backoff.failed(error)
            self.status("error", str(error))
            raise
        finally:
            busy.cancel()
            await stream.aclose()  # type: ignore[attr-defined]
            if started:
                self._audit(started, "completion", backend, prompt, params, usage.sent)
            if not failed:
                self.status("ready", self._ready_message(backend))

    async def warm(self, prompt: Prompt, lane: int = 0) -> bool:
        """Evaluates a prompt ahead of requests in a lane (see GenerationParams.lane), where the
        backend can (the embedded one); False where it cannot."""
        backend = await self.ready()
        warm = getattr(backend, "warm", None)
        if warm is None:
            return False
        assert backend is not None
        if self.audit.active:
            self._audit(utc_now(), "prewarm", backend, prompt, None, None)
        await (warm(prompt, lane) if lane else warm(prompt))
        return True

    # --- the audit log ---------------------------------------------------------------------

    def _audit(
        self,
        time: str,
        purpose: str,
        backend: Backend,
        prompt: Prompt,
        params: GenerationParams | None,
        sent: dict[str, Any] | None,
    ) -> None:
        record = audit_record(self.settings, time, purpose, backend, prompt, params, sent)
        if record is not None:
            self.audit.write(record)

    def _audit_failed(self, message: str) -> None:
        log.warning(message)
        self.status("error", message)

    def _ready_message(self, backend: Backend) -> str:
        if self.audit.problem:
            return f"{backend.name} (audit log off: {self.audit.problem})"
        return backend.name


def _without_audit(settings: BackendSettings) -> BackendSettings:
    return dataclasses.replace(settings, audit_log="")

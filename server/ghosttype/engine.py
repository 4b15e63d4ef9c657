"""The order of one request, and nothing else; each step is a module of its own.

    newest request per document wins -> typed-through cache -> prefetched answer -> plan
    (planner) -> exact cache -> debounce -> backend (backend_host) -> candidates: generate with
    the stop rules, clean up (postprocess.pipeline), rank (candidates) -> cache -> reply
    -> speculative prefetch of the next suggestion (prefetch)

Every request gets exactly one Reply. A backend failure becomes an empty reply, one status
message and a backoff; cancellation (a newer request, or the client's $/cancelRequest) stops the
generation.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import candidates
from .backend_host import BackendHost, StatusLine, StatusSink
from .backends import Backend, BackendError, create_backend
from .caches import ExactCache, ShownSuggestions
from .clock import Clock, SystemClock
from .config import BackendSettings, Settings
from .context import ContextBuilder
from .debounce import AdaptiveDebounce
from .documents import Document, DocumentStore
from .generation import Generator
from .planner import Plan, Planner
from .postprocess import Completion
from .prefetch import Prefetcher, Prewarmer
from .stats import Stats

Answers = tuple[Completion, ...]


@dataclass(frozen=True)
class Suggestion:
    id: str
    text: str
    # Characters after the cursor that `text` replaces (auto-closed brackets), 0 for none.
    replace_after: int = 0


@dataclass(frozen=True)
class Reply:
    items: tuple[Suggestion, ...] = ()
    source: str = "none"  # model | cache | typed-through | none | superseded | error


class Engine:
    def __init__(
        self,
        settings: Settings,
        status: StatusSink | None = None,
        workspace_root: Path | None = None,
        backend_factory: Callable[[BackendSettings], Backend] = create_backend,
        clock: Clock | None = None,
    ):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.documents = DocumentStore()
        self.stats = Stats()
        self.context = ContextBuilder(self.documents, workspace_root)
        self.status = StatusLine(status)
        self.host = BackendHost(settings.backend, self.status, self.clock, backend_factory)
        self.planner = Planner(self.context)
        self.generator = Generator(self.host, self.stats)
        self.cache = ExactCache()
        self.shown = ShownSuggestions()
        self.prefetcher = Prefetcher(self.clock, self.stats, self.context.speculate, self._prefetch)
        self.prewarmer = Prewarmer(self.clock, self.stats, self.host)
        self._inflight: dict[str, asyncio.Task[Reply]] = {}
        self._debounce: dict[str, AdaptiveDebounce] = {}
        self._ids = itertools.count(1)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Loads the backend in the background; requests wait for it."""
        return self.host.start()

    async def wait_ready(self) -> BackendError | None:
        return await self.host.start_error()

    async def apply_settings(self, settings: Settings) -> None:
        """New settings take effect at once; a changed backend is restarted. Nothing computed
        under the old settings is served under the new ones."""
        backend_changed = settings.backend != self.settings.backend
        self.settings = settings
        self.cache.clear()
        self.shown.clear()
        self._debounce.clear()
        self.prefetcher.cancel()
        if backend_changed:
            for task in list(self._inflight.values()):
                task.cancel()
            await self.host.restart(settings.backend)

    async def close(self) -> None:
        self.prefetcher.cancel()
        self.prewarmer.cancel()
        for task in list(self._inflight.values()):
            task.cancel()
        await self.host.close()

    def last_error(self) -> str:
        return self.status.last_error

    def prompt_format_name(self) -> str:
        return self.host.prompt_format.name

    async def check_backend(self) -> list[str]:
        """`doctor`: what the backend says about itself (raises BackendError when unwell)."""
        return await self.host.check()

    # --- requests --------------------------------------------------------------------------

    async def complete(self, document: Document, offset: int, invoked: bool = False) -> Reply:
        """The reply for one request. A newer request for the same document supersedes this one:
        it then returns at once with source 'superseded'."""
        started = self.clock.now()
        self.stats.requests += 1
        uri = document.uri
        older = self._inflight.pop(uri, None)
        if older is not None:
            older.cancel()
        debounce = self._debounce.setdefault(uri, self._new_debounce())
        debounce.observe(started)
        self.prewarmer.cancel()  # a request outranks warming
        task = asyncio.create_task(self._complete(document, offset, invoked, debounce))
        self._inflight[uri] = task
        try:
            reply = await task
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the client cancelled this request
            return Reply(source="superseded")
        finally:
            if self._inflight.get(uri) is task:
                del self._inflight[uri]
        if reply.items:
            self.stats.latencies_ms.append((self.clock.now() - started) * 1000)
        return reply

    async def _complete(
        self, document: Document, offset: int, invoked: bool, debounce: AdaptiveDebounce
    ) -> Reply:
        settings = self.settings
        if not settings.enable.allows(document.language_id):
            return Reply(source="none")
        if self.context.excluded(document, settings.context):
            return Reply(source="none")  # never sent: not even to complete it
        deterministic = settings.completion.deterministic
        if not deterministic:
            typed = self.shown.typed_through(document, offset)
            if typed is not None:
                # The prefetch (for the state after the whole suggestion) stays: the way there.
                return self._reply(document, offset, typed, "typed-through")
            prefetched = await self.prefetcher.answer_for(document, offset)
            if prefetched is not None:
                return self._reply(document, offset, prefetched, "cache")
        plan = self._plan(document, offset, invoked)
        cached = None if deterministic else self.cache.get(plan.key)
        self.prefetcher.cancel()
        if cached is not None:
            return self._reply(document, offset, cached, "cache")
        if not invoked:
            await self.clock.sleep(debounce.delay_ms() / 1000)
        backend = await self.host.ready()
        if backend is None:
            return Reply(source="error")
        if not plan.counted:  # planned while the model loaded, with estimated token counts
            plan = self._plan(document, offset, invoked)
        answers = await candidates.collect(self.generator, backend, plan, settings.completion)
        if answers is None:
            return Reply(source="error")
        self.cache.put(plan.key, answers)
        return self._reply(document, offset, answers, "model")

    def _plan(
        self, document: Document, offset: int, invoked: bool = False, speculative: bool = False
    ) -> Plan:
        host = self.host
        return self.planner.plan(
            document,
            offset,
            self.settings,
            host.prompt_format,
            host.loaded,
            self.clock.now(),
            invoked=invoked,
            speculative=speculative,
        )

    def _reply(self, document: Document, offset: int, answers: Answers, source: str) -> Reply:
        if source != "model":
            self.stats.cache_hits += 1
        if not self.settings.completion.deterministic:
            self.shown.remember(document, offset, answers)
        if not answers:
            return Reply(source=source if source != "model" else "none")
        items = tuple(Suggestion(f"gt-{next(self._ids)}", a.text, a.replace_after) for a in answers)
        if source != "typed-through":
            self._start_prefetch(document, offset, answers[0])
        return Reply(items, source)

    def _new_debounce(self) -> AdaptiveDebounce:
        setting = self.settings.completion.debounce_ms
        return AdaptiveDebounce(fixed_ms=None if setting == "auto" else float(setting))

    # --- speculative work ------------------------------------------------------------------

    def _start_prefetch(self, document: Document, offset: int, shown: Completion) -> None:
        completion = self.settings.completion
        if self.host.loaded is None or completion.candidates > 1 or completion.deterministic:
            return
        debounce = self._debounce.get(document.uri)
        delay_s = debounce.delay_ms() / 1000 if debounce is not None else 0.0
        self.prefetcher.start(document, offset, shown, delay_s)

    async def _prefetch(self, future: Document, offset: int) -> Answers | None:
        """The answer for the state after accepting a suggestion (see prefetch.py)."""
        plan = self._plan(future, offset, speculative=True)
        cached = self.cache.get(plan.key)
        if cached is not None:
            return cached
        backend = await self.host.ready()
        if backend is None:
            return None
        answers = await candidates.collect(self.generator, backend, plan, self.settings.completion)
        if answers is not None:
            self.cache.put(plan.key, answers)
        return answers

    def opened(self, document: Document) -> None:
        """A file was opened: warm the stable start of its prompt (the file from its first
        line, as far as a prefix window reaches) so the first request finds it in the KV cache."""
        if not self.settings.enable.allows(document.language_id):
            return
        text = document.text
        reach = min(len(text), self.settings.context.max_prompt_tokens * 3)
        offset = document.line_start(reach) if reach < len(text) else reach
        self.prewarmer.opened(lambda: self._plan(document, offset).prompt)

    def forget(self, uri: str) -> None:
        """A closed document: nothing of it is kept."""
        self.context.forget(uri)
        self.shown.forget(uri)
        self._debounce.pop(uri, None)
        self.prefetcher.cancel(uri)

    def accepted(self, suggestion_id: str) -> None:
        self.stats.accepted += 1

    def stats_snapshot(self) -> dict[str, object]:
        self.generator.fold_waste()
        return self.stats.as_dict()

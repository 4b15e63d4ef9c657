"""The order of one request, and nothing else; each step is a module of its own.

    newest request per document wins -> typed-through cache -> prefetched answer -> plan
    (planner) -> exact cache -> debounce (the model prefills meanwhile) -> backend
    (backend_host) -> at a new place, the short prompt's first answer and the full prompt grown
    behind it (first_answer) -> candidates: generate with the stop rules, clean up
    (postprocess.pipeline), rank (candidates) -> cache -> reply -> speculative prefetch of the
    next suggestion (prefetch)

Cues that the cursor is going somewhere new (an opened file, ghosttype/didMoveCursor, an edit far
from the last request) start the model's work there before the first request.

Every request gets exactly one Reply. A backend failure becomes an empty reply, one status
message and a backoff; cancellation (a newer request, or the client's $/cancelRequest) stops the
generation.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from . import candidates, first_answer
from .backend_host import BackendHost, StatusLine, StatusSink
from .backends import Backend, BackendError, KeepsPrompts, create_backend
from .caches import ExactCache, ShownSuggestions
from .clock import Clock, SystemClock
from .config import BackendSettings, Settings
from .context import ContextBuilder
from .debounce import AdaptiveDebounce
from .documents import Document, DocumentStore
from .generation import Generator
from .planner import Plan, Planner
from .postprocess import Completion
from .prefetch import WARM_AFTER_S, Background, Prefetcher
from .prompts import Prompt
from .stats import Stats
from .symbols import Symbols

Answers = tuple[Completion, ...]
# A cursor that moved waits this long before the work there starts: it may be passing through.
CUE_AFTER_S = 0.1
# An edit this many lines from the last request's place is at a new place.
FAR_EDIT_LINES = 20


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
        # The workspace's symbols, indexed in the background: the candidates' name check.
        self.symbols = Symbols(self.documents)
        self.status = StatusLine(status)
        self.host = BackendHost(settings.backend, self.status, self.clock, backend_factory)
        self.planner = Planner(self.context)
        self.generator = Generator(self.host, self.stats)
        self.cache = ExactCache()
        self.shown = ShownSuggestions()
        self.prefetcher = Prefetcher(self.clock, self.stats, self.context.speculate, self._prefetch)
        self.background = Background(self.clock)
        self._places: dict[str, int] = {}  # per document: the offset of its last request
        self._inflight: dict[str, asyncio.Task[Reply]] = {}
        self._debounce: dict[str, AdaptiveDebounce] = {}
        self._ids = itertools.count(1)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Loads the backend in the background; requests wait for it."""
        self.symbols.start(self.settings, self.context.workspace_roots)  # built meanwhile
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
        self.symbols.close()
        self.prefetcher.cancel()
        self.background.cancel()
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
        self._places[uri] = offset
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
        delay_s = 0.0 if invoked else debounce.delay_ms() / 1000
        if delay_s > 0:
            self._prefill_during_debounce(document, offset, plan)
            await self.clock.sleep(delay_s)
        backend = await self.host.ready()
        if backend is None:
            return Reply(source="error")
        self.background.cancel()  # the model is needed now (what it evaluated stays cached)
        if not plan.counted:  # planned while the model loaded, with estimated token counts
            plan = self._plan(document, offset, invoked)
        short = None if invoked or deterministic else self._short_plan(document, offset, plan)
        if short is not None:
            return await self._first_answer(document, offset, plan, short, backend)
        roots = self.context.workspace_roots
        check = self.symbols.check(document, offset, settings, roots, invoked)
        answers = await candidates.collect(
            self.generator, backend, plan, settings.completion, check
        )
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

    # --- a new place (first_answer.py) -----------------------------------------------------

    def _short_plan(self, document: Document, offset: int, full: Plan) -> Plan | None:
        """The short prompt's plan when the full one cannot be evaluated in time here."""
        backend = self.host.loaded
        if backend is None:
            return None
        budget = first_answer.short_budget(backend, full.prompt)
        if budget is None:
            return None
        completion = self.settings.completion
        return self.planner.short(full, document, offset, budget, backend, completion)

    async def _first_answer(
        self, document: Document, offset: int, full: Plan, short: Plan, backend: Backend
    ) -> Reply:
        """Answers from the short prompt (one candidate: the first answer is about time), then
        grows the full prompt in the background. The prefetch of the state after accepting the
        answer starts as after any reply: its full prompt shares the growth's start."""
        completion = replace(self.settings.completion, candidates=1)
        answers = self.cache.get(short.key)
        if answers is None:
            roots = self.context.workspace_roots
            check = self.symbols.check(document, offset, self.settings, roots, False)
            answers = await candidates.collect(self.generator, backend, short, completion, check)
            if answers is None:
                return Reply(source="error")
            self.cache.put(short.key, answers)
        self.stats.first_answers += 1
        self.background.start(lambda: self._grow(full, answers))
        return self._reply(document, offset, answers, "model")

    async def _grow(self, full: Plan, shown: Answers) -> None:
        """The full prompt's answer for the state a first answer was shown at: it fills lane 0's
        KV cache for the next requests, and is cached, so a request for that state again gets it."""
        backend = await self.host.ready()
        if backend is None:
            return
        answers = await candidates.collect(self.generator, backend, full, self.settings.completion)
        if answers is None:
            return
        self.cache.put(full.key, answers)
        self.stats.grown += 1
        if answers[:1] != shown[:1]:
            self.stats.grown_differs += 1

    def _prefill_during_debounce(self, document: Document, offset: int, plan: Plan) -> None:
        """While the request waits out its debounce the model is idle: evaluate the prompt it will
        run (the short one at a new place). A keystroke in that time costs nothing the next
        request needs: it shares the prompt up to the cursor."""
        backend = self.host.loaded
        if not isinstance(backend, KeepsPrompts) or self.settings.completion.deterministic:
            return
        chosen = self._short_plan(document, offset, plan) or plan
        self.background.start(lambda: self._warm(chosen.prompt, chosen.lane))

    async def _warm(self, prompt: Prompt, lane: int) -> None:
        if await self.host.warm(prompt, lane):
            self.stats.prewarms += 1  # counted once done: a cancelled warm is not one

    def opened(self, document: Document) -> None:
        """A file was opened: warm the stable start of its prompt (the file from its first
        line, as far as a prefix window reaches) so the first request finds it in the KV cache."""
        self.symbols.opened(document, self.settings, self.context.workspace_roots)
        if not self.settings.enable.allows(document.language_id):
            return
        text = document.text
        reach = min(len(text), self.settings.context.max_prompt_tokens * 3)
        offset = document.line_start(reach) if reach < len(text) else reach
        self.background.start(
            lambda: self._warm(self._plan(document, offset).prompt, 0), WARM_AFTER_S
        )

    def cursor_moved(self, document: Document, offset: int) -> None:
        """The client says the cursor went to another place without typing there
        (ghosttype/didMoveCursor): prepare the prompts there before the first keystroke."""
        self.stats.cursor_moves += 1
        if self.settings.enable.allows(document.language_id):
            self.background.start(lambda: self._prepare(document, offset), CUE_AFTER_S)

    def edited(self, document: Document, offset: int) -> None:
        """An edit at `offset`. Far from the document's last request it is a cue like a cursor
        move: the request that follows it gets its debounce's worth of prefill, no more."""
        last = self._places.get(document.uri)
        if last is None or not self.settings.enable.allows(document.language_id):
            return
        text = document.text
        low, high = sorted((min(last, len(text)), min(offset, len(text))))
        if text.count("\n", low, high) > FAR_EDIT_LINES:
            self._places[document.uri] = offset
            self.background.start(lambda: self._prepare(document, offset))

    async def _prepare(self, document: Document, offset: int) -> None:
        """The short prompt first (a first answer's, if one is needed), then the full one."""
        backend = await self.host.ready()
        if not isinstance(backend, KeepsPrompts):
            return
        full = self._plan(document, offset)
        short = self._short_plan(document, offset, full)
        if short is not None:
            await self._warm(short.prompt, short.lane)
        await self._warm(full.prompt, full.lane)

    def forget(self, uri: str) -> None:
        """A closed document: nothing of it is kept."""
        self.context.forget(uri)
        self.symbols.forget(uri)
        self.shown.forget(uri)
        self._debounce.pop(uri, None)
        self.prefetcher.cancel(uri)
        self._places.pop(uri, None)

    def accepted(self, suggestion_id: str) -> None:
        self.stats.accepted += 1

    def stats_snapshot(self) -> dict[str, object]:
        self.generator.fold_waste()
        return {**self.stats.as_dict(), "symbols": self.symbols.stats()}

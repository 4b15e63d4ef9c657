"""The order of one request, and nothing else; each step is a module of its own.

    newest request per document wins -> the pause role's better answer -> typed-through cache
    -> prefetched answer -> plan (planner) -> exact cache -> debounce (the model prefills
    meanwhile) -> backend (backend_host) -> at a new place, the short prompt's first answer and
    the full prompt grown behind it (first_answer) -> candidates: generate with the stop rules,
    clean up (postprocess.pipeline), rank (candidates) -> cache -> reply -> speculative prefetch
    of the next suggestion (prefetch) -> in a pause, the pause role's answer

Two model roles (the cascade): the typing role answers while the person types; the pause role (a
larger model, config.pause_role) answers invoked requests, and in a pause after a typing reply it
answers the same place; where its answer differs, the client is asked to ask again
(ghosttype/refreshInlineCompletion) and gets it from here.

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
from .config import BackendSettings, Settings, pause_role
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
# After a typing reply, the pause role starts on the place once no keystroke came for this long:
# typing at 80 ms a key never waits this long, reading a suggestion does.
PAUSE_AFTER_S = 0.3
# Told a better answer is ready for (document, offset): the client should ask there again.
Refresh = Callable[[Document, int], None]


@dataclass(frozen=True)
class Suggestion:
    id: str
    text: str
    # Characters after the cursor that `text` replaces (auto-closed brackets), 0 for none.
    replace_after: int = 0


@dataclass(frozen=True)
class Reply:
    items: tuple[Suggestion, ...] = ()
    # model | cache | typed-through | pause (the pause role's answer, asked again for) | none |
    # superseded | error
    source: str = "none"


class Role:
    """A model role's backend, its generations and its answers: each role caches its own, so
    one model's answer is never served as the other's."""

    def __init__(
        self,
        settings: BackendSettings,
        status: StatusLine,
        clock: Clock,
        stats: Stats,
        factory: Callable[[BackendSettings], Backend],
    ):
        self.host = BackendHost(settings, status, clock, factory)
        self.generator = Generator(self.host, stats)
        self.cache = ExactCache()


class Engine:
    def __init__(
        self,
        settings: Settings,
        status: StatusSink | None = None,
        workspace_root: Path | None = None,
        backend_factory: Callable[[BackendSettings], Backend] = create_backend,
        clock: Clock | None = None,
        refresh: Refresh | None = None,
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
        self._backend_factory = backend_factory
        self._refresh = refresh or (lambda document, offset: None)
        self.pause: Role | None = self._pause_role(settings)
        self.pauses = Background(self.clock)  # the pause role's answer for the last place
        # Per document: the pause role's answer that differs from the one shown, for the request
        # the refresh brings, as (revision, offset, answers).
        self._better: dict[str, tuple[int, int, Answers]] = {}
        self._places: dict[str, int] = {}  # per document: the offset of its last request
        self._inflight: dict[str, asyncio.Task[Reply]] = {}
        self._debounce: dict[str, AdaptiveDebounce] = {}
        self._ids = itertools.count(1)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Loads the backend in the background; requests wait for it. The pause role's loads
        after it: the typing role's first answer must not share the CPU with a second load."""
        self.symbols.start(self.settings, self.context.workspace_roots)  # built meanwhile
        loading = self.host.start()
        loading.add_done_callback(lambda _: self._start_pause())
        return loading

    def _start_pause(self) -> None:
        if self.pause is not None:
            self.pause.host.start()

    def _pause_role(self, settings: Settings) -> Role | None:
        pause = pause_role(settings)
        if pause is None:
            return None
        # Its faults reach the status line (typing goes on without it); its loading and busy
        # states do not: the typing role is what the person waits for.
        status = StatusLine(
            lambda state, message: (
                self.status("error", f"pause model: {message}") if state == "error" else None
            )
        )
        return Role(pause, status, self.clock, self.stats, self._backend_factory)

    async def wait_ready(self) -> BackendError | None:
        return await self.host.start_error()

    async def apply_settings(self, settings: Settings) -> None:
        """New settings take effect at once; a changed backend is restarted. Nothing computed
        under the old settings is served under the new ones."""
        if settings == self.settings:
            return  # a pull that changes nothing (the first one, mostly) keeps what is computed
        backend_changed = settings.backend != self.settings.backend
        pause_changed = pause_role(settings) != pause_role(self.settings)
        self.settings = settings
        self.cache.clear()
        self.shown.clear()
        self._debounce.clear()
        self.prefetcher.cancel()
        self.pauses.cancel()
        self._better.clear()
        if self.pause is not None:
            self.pause.cache.clear()
        if backend_changed or pause_changed:
            for task in list(self._inflight.values()):
                task.cancel()
        if backend_changed:
            await self.host.restart(settings.backend)
        if pause_changed:
            if self.pause is not None:
                await self.pause.host.close()
            self.pause = self._pause_role(settings)
            if self.host.loaded is not None:
                self._start_pause()

    async def close(self) -> None:
        self.symbols.close()
        self.prefetcher.cancel()
        self.background.cancel()
        self.pauses.cancel()
        for task in list(self._inflight.values()):
            task.cancel()
        await self.host.close()
        if self.pause is not None:
            await self.pause.host.close()

    def last_error(self) -> str:
        return self.status.last_error

    def prompt_format_name(self) -> str:
        return self.host.prompt_format.name

    async def check_backend(self) -> list[str]:
        """`doctor`: what the backend says about itself (raises BackendError when unwell)."""
        return await self.host.check()

    async def wait_pause_ready(self) -> BackendError | None:
        """Loads the pause role's backend (if there is one); the error its start ended with."""
        return await self.pause.host.start_error() if self.pause is not None else None

    async def check_pause_backend(self) -> list[str]:
        """`doctor`: the same for the pause role; no lines when there is none."""
        return await self.pause.host.check() if self.pause is not None else []

    # --- requests --------------------------------------------------------------------------

    async def complete(self, document: Document, offset: int, invoked: bool = False) -> Reply:
        """The reply for one request. A newer request for the same document supersedes this one:
        it then returns at once with source 'superseded'."""
        started = self.clock.now()
        self.stats.requests += 1
        uri = document.uri
        self.pauses.cancel()  # not a pause
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
        better = self._better_answer(document, offset)
        if better is not None:
            return self._reply(document, offset, better, "pause")
        deterministic = settings.completion.deterministic
        # An invoked request is the pause role's: the person asked for the better model's answer.
        role = self.pause if invoked and self.pause is not None else None
        if role is not None:
            return await self._pause_reply(document, offset, role)
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
        if invoked:
            await self.symbols.settle_for(document, settings, roots)
        check = self.symbols.check(document, offset, settings, roots, invoked)
        answers = await candidates.collect(
            self.generator, backend, plan, settings.completion, check
        )
        if answers is None:
            return Reply(source="error")
        self.cache.put(plan.key, answers)
        return self._reply(document, offset, answers, "model")

    def _plan(
        self,
        document: Document,
        offset: int,
        invoked: bool = False,
        speculative: bool = False,
        host: BackendHost | None = None,
    ) -> Plan:
        host = host or self.host
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

    def _reply(
        self, document: Document, offset: int, answers: Answers, source: str, by_pause: bool = False
    ) -> Reply:
        """`by_pause`: the pause role's answer (it then needs no pause answer of its own)."""
        if source != "model":
            self.stats.cache_hits += 1
        if not self.settings.completion.deterministic:
            self.shown.remember(document, offset, answers)
        if answers and source != "typed-through":
            self._start_prefetch(document, offset, answers[0])
        if self.pause is not None and not by_pause and source != "pause":
            shown_at = self.clock.now()
            self.pauses.start(
                lambda: self._pause_answer(document, offset, answers, shown_at), PAUSE_AFTER_S
            )
        if not answers:
            return Reply(source=source if source != "model" else "none")
        items = tuple(Suggestion(f"gt-{next(self._ids)}", a.text, a.replace_after) for a in answers)
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

    # --- the pause role ---------------------------------------------------------------------

    async def _pause_reply(self, document: Document, offset: int, role: Role) -> Reply:
        """An invoked request, answered by the pause role (its cache, else its model)."""
        backend = await role.host.ready()
        if backend is None:
            return Reply(source="error")
        self.background.cancel()  # the CPU is the pause model's now
        shown = self.shown.here(document, offset)
        draft = shown[0].text if shown else ""
        answers, source = await self._pause_answers(
            document, offset, role, backend, invoked=True, draft=draft
        )
        if answers is None:
            return Reply(source="error")
        return self._reply(document, offset, answers, source, by_pause=True)

    async def _pause_answers(
        self,
        document: Document,
        offset: int,
        role: Role,
        backend: Backend,
        invoked: bool,
        draft: str = "",
    ) -> tuple[Answers | None, str]:
        """In a pause, the typing role's prompt (the pause model's KV cache then holds what the
        next pause at this place shares), or where the pause model's KV cache lacks too much of
        it, the lines around the cursor (first_answer.py); invoked, the invoked request's.
        `draft`: the typing model's answer here, which the pause model's greedy answer often
        repeats (verified in batches: GenerationParams.draft)."""
        plan = self._plan(document, offset, invoked=invoked, host=role.host)
        prefill_s = first_answer.PAUSE_ANSWER_PREFILL_S
        budget = None if invoked else first_answer.short_budget(backend, plan.prompt, prefill_s)
        if budget is not None:
            completion = self.settings.completion
            plan = self.planner.short(plan, document, offset, budget, backend, completion)
        deterministic = self.settings.completion.deterministic
        answers = None if deterministic else role.cache.get(plan.key)
        if answers is not None:
            return answers, "cache"
        roots = self.context.workspace_roots
        if invoked:
            await self.symbols.settle_for(document, self.settings, roots)
        check = self.symbols.check(document, offset, self.settings, roots, invoked)
        answers = await candidates.collect(
            role.generator, backend, plan, self.settings.completion, check, draft
        )
        if answers is not None:
            role.cache.put(plan.key, answers)
            self.stats.pause_answers += 1
        return answers, "model"

    async def _pause_answer(
        self, document: Document, offset: int, shown: Answers, shown_at: float
    ) -> None:
        """The person paused at a place the typing role answered: the pause role answers it too,
        once the typing role's own follow-up work is done (both models at once on the CPU would
        slow both). An answer that differs from the one shown is kept for the request the
        refresh brings."""
        role = self.pause
        if role is None or self.settings.completion.deterministic:
            return
        await self.background.wait()
        await self.prefetcher.wait()
        backend = await role.host.ready()
        if backend is None:
            return
        draft = shown[0].text if shown else ""
        answers, _ = await self._pause_answers(
            document, offset, role, backend, invoked=False, draft=draft
        )
        if answers is None:
            return  # the backend failed (the host has told the client)
        self.stats.pause_answer_ms.append((self.clock.now() - shown_at) * 1000)
        if not answers or answers[:1] == shown[:1]:
            return  # nothing better to show: the shown suggestion stays, no flicker
        if self.documents.get(document.uri) is not document:
            return  # edited meanwhile (any edit cancels this; a re-open replaces the snapshot)
        self._better[document.uri] = (document.revision, offset, answers)
        self.stats.pause_replaced += 1
        self._refresh(document, offset)

    def _better_answer(self, document: Document, offset: int) -> Answers | None:
        better = self._better.pop(document.uri, None)
        if better is None or better[:2] != (document.revision, offset):
            return None
        return better[2]

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
        KV cache for the next requests, and is cached, so a request for that state again gets it.
        The shown answer is its draft: the two prompts seldom answer differently."""
        backend = await self.host.ready()
        if backend is None:
            return
        draft = shown[0].text if shown else ""
        answers = await candidates.collect(
            self.generator, backend, full, self.settings.completion, draft=draft
        )
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
        self.pauses.cancel()  # the person left the place
        if self.settings.enable.allows(document.language_id):
            self.background.start(lambda: self._prepare(document, offset), CUE_AFTER_S)

    def edited(self, document: Document, offset: int | None) -> None:
        """An edit at `offset` (None: the whole text was sent). Far from the document's last
        request it is a cue like a cursor move: the request that follows it gets its debounce's
        worth of prefill, no more."""
        self.pauses.cancel()  # typing: the typing role's turn
        last = self._places.get(document.uri)
        if offset is None or last is None or not self.settings.enable.allows(document.language_id):
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
        self._better.pop(uri, None)

    def accepted(self, suggestion_id: str) -> None:
        self.stats.accepted += 1

    def stats_snapshot(self) -> dict[str, object]:
        self.generator.fold_waste()
        if self.pause is not None:
            self.pause.generator.fold_waste()
        return {**self.stats.as_dict(), "symbols": self.symbols.stats()}

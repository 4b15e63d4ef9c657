"""One pass of the completion flow per request; the newest request per document wins.

    request -> supersede the document's older request -> typed-through cache -> context and prompt
    -> exact cache / in-flight prefetch -> debounce -> backend stream with stop rules -> finalize
    -> cache -> reply -> speculative prefetch of the next suggestion

Every request gets exactly one Reply. Backend failures become an empty reply and one status
message; cancellation (a newer request, or the client's $/cancelRequest) stops the generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cachetools import LRUCache

from .backends import Backend, BackendError, GenerationParams, Usage, create_backend
from .config import Settings
from .context import ContextBuilder
from .debounce import AdaptiveDebounce
from .documents import Document, DocumentStore
from .postprocess import (
    Completion,
    CursorLine,
    StopRule,
    block_end,
    block_repeat,
    decide_multiline,
    drop_repeated_indent,
    finalize,
    first_cut,
    markdown_fence,
    paragraph_end,
    repetition,
    single_line,
    suffix_reached,
)
from .postprocess.syntax import (
    code_lines_after_cursor_line,
    indent_under_opener,
    polish,
    trim_unfinished,
)
from .prompts import Prompt, PromptFormat, build_prompt, pick_format, strip_special
from .stats import Stats

log = logging.getLogger(__name__)

StatusSink = Callable[[str, str], None]
SAMPLED_TEMPERATURE = 0.8  # candidates beyond the first are sampled (as Tabby does)
BACKOFF_MAX_S = 30.0
BUSY_AFTER_S = 0.3
WARM_AFTER_S = 0.3  # an editor restoring many tabs opens them in a burst: warm only the last
# The speculative prefetch waits at least this long, and at least the document's debounce delay,
# before it plans and runs: a keystroke in that time (the usual case while typing) cancels it
# before it has cost anything.
PREFETCH_IDLE_S = 0.1


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


@dataclass
class _Shown:
    """The last suggestions shown for a document, for serving typed-through keystrokes."""

    before: str
    after: str
    completions: tuple[Completion, ...]


@dataclass
class _Prefetch:
    # The document state after accepting: (uri, cursor offset, text).
    state: tuple[str, int, str]
    task: asyncio.Task[tuple[Completion, ...] | None]


@dataclass
class _Backoff:
    failures: int = 0
    until_s: float = 0.0


@dataclass
class _Plan:
    """Everything a model call needs, derived from the document state."""

    prompt: Prompt
    cursor: CursorLine
    suffix: str
    multiline: bool
    key: object = field(default=None)
    # Planned with the backend at hand (while it loads, token counts are only estimates).
    counted: bool = True
    # An invoked request whose prompt holds other files also asks the prompt without them; the
    # answer the model is surer of comes first (see `_model_completions`).
    alternative: _Plan | None = None


class Engine:
    def __init__(
        self,
        settings: Settings,
        status: StatusSink | None = None,
        workspace_root: Path | None = None,
        backend_factory: Callable[..., Backend] = create_backend,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.documents = DocumentStore()
        self.stats = Stats()
        self.workspace_root = workspace_root
        self.context = ContextBuilder(self.documents, workspace_root)
        self._status_sink = status or (lambda state, message: None)
        self._last_status: tuple[str, str] | None = None
        self._backend_factory = backend_factory
        self._clock = clock
        self._backend: Backend | None = None
        self._backend_error: BackendError | None = None
        self._ready = asyncio.Event()
        self._load_task: asyncio.Task[None] | None = None
        self._inflight: dict[str, asyncio.Task[Reply]] = {}
        self._shown: dict[str, _Shown] = {}
        self._debounce: dict[str, AdaptiveDebounce] = {}
        self._cache: LRUCache[object, tuple[Completion, ...]] = LRUCache(maxsize=512)
        self._prefetch: _Prefetch | None = None
        self._backoff = _Backoff()
        self._cancelled_usages: list[Usage] = []
        self._ids = itertools.count(1)
        self._last_error = ""
        self._warm: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Loads the backend in the background; requests wait for it."""
        if self._load_task is None:
            self._load_task = asyncio.create_task(self._load())
        return self._load_task

    async def wait_ready(self) -> BackendError | None:
        await self.start()
        return self._backend_error

    async def _load(self) -> None:
        self._ready.clear()
        self._backend_error = None
        try:
            self.status("loading", f"starting the {self.settings.backend.kind} backend")
            backend = self._backend_factory(self.settings.backend)
            await backend.start(lambda message: self.status("loading", message))
        except BackendError as error:
            self._backend_error = error
            self._last_error = str(error)
            self.status("error", str(error))
        except Exception as error:  # a broken model runtime must not take the server down
            log.exception("backend failed to start")
            self._backend_error = BackendError(f"the backend failed to start: {error}")
            self._last_error = str(self._backend_error)
            self.status("error", self._last_error)
        else:
            self._backend = backend
            self.status("ready", backend.name)
        finally:
            self._ready.set()

    async def apply_settings(self, settings: Settings) -> None:
        """New settings take effect at once; a changed backend is restarted."""
        backend_changed = settings.backend != self.settings.backend
        self.settings = settings
        self._cache.clear()
        self._shown.clear()
        self._debounce.clear()
        if backend_changed and self._load_task is not None:
            await self._restart_backend()

    async def _restart_backend(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        self._cancel_prefetch()
        if self._load_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._load_task
        if self._backend is not None:
            await self._backend.close()
            self._backend = None
        self._backoff = _Backoff()
        self._load_task = asyncio.create_task(self._load())

    async def close(self) -> None:
        self._cancel_prefetch()
        if self._warm is not None:
            self._warm.cancel()
        for task in list(self._inflight.values()):
            task.cancel()
        if self._load_task is not None:
            self._load_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._load_task
        if self._backend is not None:
            await self._backend.close()

    def status(self, state: str, message: str) -> None:
        if (state, message) != self._last_status:
            self._last_status = (state, message)
            self._status_sink(state, message)

    def last_error(self) -> str:
        return self._last_error

    def prompt_format_name(self) -> str:
        return self._prompt_format().name

    async def check_backend(self) -> list[str]:
        """`doctor`: what the backend says about itself (raises BackendError when unwell)."""
        await self.start()
        if self._backend is None:
            raise self._backend_error or BackendError("the backend did not start")
        return await self._backend.check()

    # --- requests --------------------------------------------------------------------------

    async def complete(self, document: Document, offset: int, invoked: bool = False) -> Reply:
        """The reply for one request. A newer request for the same document supersedes this one:
        it then returns at once with source 'superseded'."""
        started = self._clock()
        self.stats.requests += 1
        uri = document.uri
        older = self._inflight.pop(uri, None)
        if older is not None:
            older.cancel()
        debounce = self._debounce.setdefault(uri, self._new_debounce())
        debounce.observe(started)
        if self._warm is not None:
            self._warm.cancel()  # a request outranks warming
            self._warm = None
        task = asyncio.create_task(self._complete(document, offset, invoked, debounce))
        self._inflight[uri] = task
        try:
            reply = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                self.stats.cancelled += 1
                raise  # the client cancelled this request
            self.stats.cancelled += 1
            return Reply(source="superseded")
        finally:
            if self._inflight.get(uri) is task:
                del self._inflight[uri]
        if reply.items:
            self.stats.latencies_ms.append((self._clock() - started) * 1000)
        return reply

    def _new_debounce(self) -> AdaptiveDebounce:
        setting = self.settings.completion.debounce_ms
        return AdaptiveDebounce(fixed_ms=None if setting == "auto" else float(setting))

    async def _complete(
        self, document: Document, offset: int, invoked: bool, debounce: AdaptiveDebounce
    ) -> Reply:
        if not self.settings.enable.allows(document.language_id):
            return Reply(source="none")
        typed = self._typed_through(document, offset)
        if typed is not None:
            # The prefetch (for the state after the whole suggestion) stays: this is the way there.
            self.stats.cache_hits += 1
            return self._reply(document, offset, typed, "typed-through")
        prefetch = self._prefetch
        if prefetch is not None and prefetch.state == (document.uri, offset, document.text):
            # The speculative request for exactly this state is under way (or done): wait for it.
            with contextlib.suppress(asyncio.CancelledError):
                completions = await asyncio.shield(prefetch.task)
                if completions is not None:
                    self.stats.cache_hits += 1
                    return self._reply(document, offset, completions, "cache", prefetch=True)
            if not prefetch.task.cancelled():
                raise asyncio.CancelledError  # this request itself was cancelled
        plan = self._plan(document, offset, invoked=invoked)
        cached = self._cache.get(plan.key)
        if cached is not None:
            self.stats.cache_hits += 1
            self._cancel_prefetch()
            return self._reply(document, offset, cached, "cache", prefetch=True)
        self._cancel_prefetch()
        if not invoked:
            await asyncio.sleep(debounce.delay_ms() / 1000)
        if self._load_task is None:
            self.start()
        await self._ready.wait()
        if self._backend is None or self._clock() < self._backoff.until_s:
            return Reply(source="error")
        if not plan.counted:  # planned while the model loaded, with estimated token counts
            plan = self._plan(document, offset, invoked=invoked)
        completions = await self._model_completions(plan)
        if completions is None:
            return Reply(source="error")
        return self._reply(document, offset, completions, "model", prefetch=True)

    def _reply(
        self,
        document: Document,
        offset: int,
        completions: tuple[Completion, ...],
        source: str,
        prefetch: bool = False,
    ) -> Reply:
        if not completions:
            self._shown.pop(document.uri, None)
            return Reply(source=source if source != "model" else "none")
        self._shown[document.uri] = _Shown(
            document.text[:offset], document.text[offset:], completions
        )
        items = tuple(
            Suggestion(f"gt-{next(self._ids)}", c.text, c.replace_after) for c in completions
        )
        if prefetch and source != "typed-through":
            self._start_prefetch(document, offset, completions[0])
        return Reply(items, source)

    def _typed_through(self, document: Document, offset: int) -> tuple[Completion, ...] | None:
        """The rest of the shown suggestions when the person typed their start."""
        shown = self._shown.get(document.uri)
        if shown is None:
            return None
        text = document.text
        start = len(shown.before)
        if offset < start or not text.startswith(shown.before):
            return None
        typed = text[start:offset]
        after = text[offset:]
        if not typed or not after.endswith(shown.after):
            return None
        cursor = _cursor_line(text, offset)
        remaining = []
        for completion in shown.completions:
            if completion.text.startswith(typed) and len(completion.text) > len(typed):
                finished = finalize(completion.text[len(typed) :], cursor, after)
                if finished is not None:
                    remaining.append(finished)
        return tuple(remaining) or None

    def _plan(
        self, document: Document, offset: int, speculative: bool = False, invoked: bool = False
    ) -> _Plan:
        """`speculative`: a state that is not the store's (the prefetch's), whose parse must not
        replace the open document's incrementally kept syntax tree."""
        settings = self.settings
        backend = self._backend
        counter = backend.count_tokens if backend is not None else None
        # issue 4 (context/syntax): neighbours need the clock to re-rank only in pauses.
        context = self.context.build(
            document, offset, settings.context, counter, self._clock(), speculative, invoked
        )
        cursor = _cursor_line(document.text, offset)
        fmt = self._prompt_format()
        prompt = build_prompt(fmt, context)
        multiline = decide_multiline(settings.completion.multiline, cursor)
        # issue 4 (context/syntax): the tree decides single vs multi-line where a grammar exists.
        shape = self.context.shape(document, offset, speculative)
        if settings.completion.multiline == "auto" and shape is not None:
            multiline = shape == "multi"
        completion = settings.completion
        key = (
            prompt.segments,
            fmt.name,
            multiline,
            completion.candidates,
            completion.max_tokens,
            completion.temperature,
        )
        suffix = document.text[offset:]
        alternative = None
        if invoked and context.has_other_files:
            in_file = self.context.build(
                document,
                offset,
                replace(settings.context, neighbours=False),
                counter,
                invoked=True,
            )
            alternative = _Plan(build_prompt(fmt, in_file), cursor, suffix, multiline)
        return _Plan(prompt, cursor, suffix, multiline, key, counter is not None, alternative)

    def _prompt_format(self) -> PromptFormat:
        if self._backend is not None:
            return self._backend.prompt_format
        backend = self.settings.backend
        return pick_format(backend.prompt_format, backend.model)

    async def _model_completions(self, plan: _Plan) -> tuple[Completion, ...] | None:
        """The finished candidates, cached; None when the backend failed (nothing cached).

        With an alternative plan (the prompt without other files) and a backend that reports
        log-probabilities, its greedy answer joins them: first if the model was surer of it, a
        token on average, than of the greedy answer with the other files, second otherwise.
        Neither prompt wins everywhere: other files help where the line calls into them and
        mislead where it does not, and the model's own certainty tells which more often than
        not (benchmarks/RESULTS.md, session 10)."""
        completion = self.settings.completion
        results: list[Completion] = []
        greedy_confidence: float | None = None
        for candidate in range(completion.candidates):
            temperature = completion.temperature
            if candidate > 0:
                temperature = max(temperature, SAMPLED_TEMPERATURE)
            params = GenerationParams(
                max_tokens=completion.max_tokens,
                temperature=temperature,
                seed=candidate,
                candidate=candidate,
                avoid_line=_line_after_blank(plan.cursor),
            )
            found = await self._candidate(plan, params)
            if found is None:
                return None
            finished, confidence = found
            if candidate == 0:
                greedy_params, greedy_confidence = params, confidence
            if finished is not None and finished not in results:
                results.append(finished)
        # Only a backend that reports its log-probabilities can rank the two (the embedded one).
        if plan.alternative is not None and greedy_confidence is not None:
            found = await self._candidate(plan.alternative, replace(greedy_params, lane=1))
            # A failed second prompt (already reported) leaves the first one's answers standing.
            finished, confidence = found if found is not None else (None, None)
            if finished is not None and finished not in results:
                surer = confidence is not None and confidence > greedy_confidence
                results.insert(0 if surer else 1, finished)
        completions = tuple(results)
        self._cache[plan.key] = completions
        return completions

    async def _candidate(
        self, plan: _Plan, params: GenerationParams
    ) -> tuple[Completion | None, float | None] | None:
        """One generation, post-processed, and the model's confidence in it (the mean
        log-probability of its tokens, where the backend reports them); None when the backend
        failed."""
        generated = await self._generate(plan, params)
        if generated is None:
            return None
        raw, hit_limit, confidence = generated
        if hit_limit and plan.multiline:
            raw = trim_unfinished(raw)
        prefix = plan.prompt.context.prefix
        raw = drop_repeated_indent(raw, plan.cursor.before)
        raw = indent_under_opener(raw, plan.cursor.before, prefix, plan.suffix)
        if plan.multiline:  # issue 4 (context/syntax): block end, brackets, repeats, indent
            raw = polish(raw, plan.cursor.before, prefix, plan.suffix)
        return finalize(raw, plan.cursor, plan.suffix), confidence

    def _stop_rules(self, plan: _Plan) -> list[StopRule]:
        fmt = plan.prompt.format
        rules = [_stop_strings(fmt.special_tokens + fmt.stop), repetition(), markdown_fence()]
        if plan.multiline:
            rules += [
                block_end(plan.cursor),
                suffix_reached(plan.cursor),
                block_repeat(plan.cursor, plan.suffix),
                paragraph_end(plan.cursor),
            ]
        else:
            rules.append(single_line())
        return rules

    async def _generate(
        self, plan: _Plan, params: GenerationParams
    ) -> tuple[str, bool, float | None] | None:
        """The raw completion, stopped early by the stop rules, whether the token limit cut it
        off, and the model's confidence in the pieces taken; None when the backend failed."""
        assert self._backend is not None
        self._fold_waste()
        rules = self._stop_rules(plan)
        usage = Usage()
        text = ""
        self.stats.model_calls += 1
        # "busy" only for generations that last: a status line need not flicker per keystroke.
        busy = asyncio.get_running_loop().call_later(
            BUSY_AFTER_S, self.status, "busy", self._backend.name
        )
        stream = self._backend.generate(plan.prompt, params, usage)
        finished = False
        scored = [(0, 0.0, 0)]  # after each piece: (text length, log-probability, tokens)
        try:
            async for piece in stream:
                text += piece
                scored.append((len(text), usage.logprob, usage.scored_tokens))
                cut = first_cut(rules, text)
                if cut is not None:
                    text = text[:cut]
                    break
            finished = True
        except BackendError as error:
            self._failed(error)
            return None
        finally:
            busy.cancel()
            await stream.aclose()  # type: ignore[attr-defined]
            self.stats.generated_tokens += usage.generated_tokens
            self.stats.prompt_tokens += usage.prompt_tokens
            self.stats.evaluated_tokens += usage.evaluated_tokens
            if not finished:
                self._cancelled_usages.append(usage)
        self._backoff = _Backoff()
        self.status("ready", self._backend.name)
        cut = first_cut(rules, text)
        hit_limit = cut is None and usage.generated_tokens >= params.max_tokens
        kept = text if cut is None else text[:cut]
        # The pieces wholly inside the kept text: one the cut went through (the newline ending a
        # line) was the model choosing to stop there, not the completion.
        _, logprob, tokens = [point for point in scored if point[0] <= len(kept)][-1]
        confidence = logprob / tokens if tokens else None
        return strip_special(kept, plan.prompt.format), hit_limit, confidence

    def _failed(self, error: BackendError) -> None:
        """One status message per distinct error; back off so a dead server is not hammered."""
        self.stats.errors += 1
        self._backoff.failures += 1
        delay = min(BACKOFF_MAX_S, 0.5 * 2 ** (self._backoff.failures - 1))
        if error.retry_after_s is not None:
            delay = max(delay, error.retry_after_s)
        self._backoff.until_s = self._clock() + delay
        self._last_error = str(error)
        self.status("error", self._last_error)

    def _fold_waste(self) -> None:
        # Tokens a backend produced after its request was cancelled; counted once the backend has
        # finished with them (the embedded model's worker stops within one token).
        for usage in self._cancelled_usages:
            self.stats.wasted_tokens += usage.wasted_tokens
        self._cancelled_usages.clear()

    def stats_snapshot(self) -> dict[str, object]:
        self._fold_waste()
        return self.stats.as_dict()

    def opened(self, document: Document) -> None:
        """A file was opened: after a short quiet spell, evaluate the stable start of its prompt
        (neighbours, outline, the file from its first line) so the first request finds it in the
        model's KV cache. Any request cancels it; a newer open replaces it."""
        if self._warm is not None:
            self._warm.cancel()
        self._warm = asyncio.create_task(self._prewarm(document))

    async def _prewarm(self, document: Document) -> None:
        await asyncio.sleep(WARM_AFTER_S)
        await self._ready.wait()
        backend = self._backend
        warm = getattr(backend, "warm", None)
        if warm is None or not self.settings.enable.allows(document.language_id):
            return
        # As far into the file as a prefix window reaches from its first line: requests whose
        # window starts there share all of it.
        reach = min(len(document.text), self.settings.context.max_prompt_tokens * 3)
        offset = document.text.rfind("\n", 0, reach) + 1 if reach < len(document.text) else reach
        plan = self._plan(document, offset)
        self.stats.prewarms += 1
        await warm(plan.prompt)

    def forget(self, uri: str) -> None:
        """A closed document: nothing of it is kept."""
        self.context.forget(uri)
        self._shown.pop(uri, None)
        self._debounce.pop(uri, None)
        if self._prefetch is not None and self._prefetch.state[0] == uri:
            self._cancel_prefetch()

    def accepted(self, suggestion_id: str) -> None:
        self.stats.accepted += 1

    # --- speculative prefetch ---------------------------------------------------------------

    def _start_prefetch(self, document: Document, offset: int, shown: Completion) -> None:
        """Computes the suggestion for the state after accepting `shown`, at low priority (it
        waits for idle time and any keystroke cancels it), so an accept shows the next one at once."""
        if self._backend is None or self.settings.completion.candidates > 1:
            return
        end = offset + shown.replace_after
        accepted_text = self.context.speculate(document, offset, end, shown.text)
        state = (document.uri, offset + len(shown.text), accepted_text)
        if self._prefetch is not None and self._prefetch.state == state:
            return
        self._cancel_prefetch()
        self.stats.prefetches += 1
        task = asyncio.create_task(self._prefetched(document, state))
        self._prefetch = _Prefetch(state, task)

    async def _prefetched(
        self, document: Document, state: tuple[str, int, str]
    ) -> tuple[Completion, ...] | None:
        # Only once the person has paused, as the debounce sees pauses: a prefetch started in a
        # shorter gap is a model call the next keystroke cancels.
        uri, offset, text = state
        debounce = self._debounce.get(uri)
        delay_s = debounce.delay_ms() / 1000 if debounce is not None else 0.0
        await asyncio.sleep(max(PREFETCH_IDLE_S, delay_s))
        future = Document(uri, text, document.language_id, -1, -1)
        plan = self._plan(future, offset, speculative=True)
        cached = self._cache.get(plan.key)
        if cached is not None:
            return cached
        return await self._model_completions(plan)

    def _cancel_prefetch(self) -> None:
        if self._prefetch is not None:
            if not self._prefetch.task.done():
                self._prefetch.task.cancel()
            self._prefetch = None


def _cursor_line(text: str, offset: int) -> CursorLine:
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end == -1:
        line_end = len(text)
    position = line_end + 1
    next_end = text.find("\n", position)
    next_is_blank = (
        position < len(text) and not text[position : None if next_end == -1 else next_end].strip()
    )
    following = tuple(itertools.islice(code_lines_after_cursor_line(text, offset), 3))
    return CursorLine(
        text[line_start:offset], text[offset:line_end].rstrip("\r"), following, next_is_blank
    )


def _line_after_blank(cursor: CursorLine) -> str:
    """On a blank line, the code that follows it: repeating that line is no suggestion."""
    if cursor.before.strip() or cursor.after.strip() or not cursor.next_lines:
        return ""
    return cursor.next_lines[0]


def _stop_strings(stops: tuple[str, ...]) -> StopRule:
    def rule(text: str) -> int | None:
        cuts = [index for stop in stops if (index := text.find(stop)) != -1]
        return min(cuts) if cuts else None

    return rule

"""The embedded backend: llama.cpp in-process through llama-cpp-python, no server needed.

One `Llama` lives for the server's life and runs on one worker thread, so generations are
serialised. Each generation reuses the KV cache for the longest token prefix it shares with the
previous one (the prompt puts its stable part first), evaluates the rest in small batches, and
checks for cancellation between batches and before every token: a cancelled request frees the
model within one batch or one token.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import BackendSettings
from ..prompts import Prompt, pick_format
from .base import BackendError, GenerationParams, Progress, Usage
from .model_store import DEFAULT_MODEL, check_model_file, ensure_model

# Prompt evaluation can stop only between batches. Measured on 2 quiet cores (1 thread): 16-token
# batches run at 129 prompt tokens/s (124 ms a batch), 64-token ones at 208/s. A keystroke's few
# pending tokens (~50, mostly the suffix window) go in one batch, since that sets the latency; a cold
# prompt goes in 32-token batches, so a newer request waits at most ~0.2 s for the model.
ONE_BATCH_MAX = 64
EVAL_BATCH = 32
# While the person types, the prompt changes just in front of the suffix window; the window's
# cached tokens are moved instead of re-evaluated (llama.cpp's server calls this cache reuse) when
# the run found again is at least this long, and while the tokens that changed in front of it since
# it was last evaluated stay within the drift bound (its keys were computed with those in front).
SHIFT_MIN_TOKENS = 8
SHIFT_MAX_DRIFT = 64
CONTEXT_TOKENS = 4096
LLAMA_TOKEN_ATTR_CONTROL = 1 << 3

Emit = Callable[[object], None]


def default_threads() -> int:
    """One core fewer than the machine has (at most 8): the editor and this server's event loop
    run while the person types, and llama.cpp's workers spin-wait, so a worker on every core
    collapses under that load (measured on 2 cores: decode 3-5x slower with 2 threads under load,
    only 28% faster with 2 when quiet; prompt evaluation the same with 1 or 2)."""
    return max(1, min((os.cpu_count() or 2) - 1, 8))


_DONE = object()


@dataclass(frozen=True)
class _Reuse:
    """How a prompt uses the KV cache: `common` tokens kept in place, then optionally `length`
    cached tokens moved from position `source` to `target`."""

    common: int
    source: int = 0
    target: int = 0
    length: int = 0
    drift: int = 0

    def evaluated(self, prompt_tokens: int) -> int:
        return prompt_tokens - self.common - self.length


class EmbeddedBackend:
    def __init__(self, settings: BackendSettings):
        self.settings = settings
        self.model_name = settings.model or DEFAULT_MODEL
        self.name = (
            f"embedded:{Path(settings.model_path).name if settings.model_path else self.model_name}"
        )
        self.prompt_format = pick_format(settings.prompt_format, self.model_name)
        self._llm: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ghosttype-llama")
        self._control_cache: dict[int, bool] = {}
        # Runs of the KV cache that were moved, and their drift: (start, end, drift).
        self._shifted: list[tuple[int, int, int]] = []
        self._can_shift = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, progress: Progress) -> None:
        loop = asyncio.get_running_loop()
        self._llm = await loop.run_in_executor(self._executor, self._load, progress)
        import llama_cpp

        self._can_shift = bool(llama_cpp.llama_memory_can_shift(self._llm._ctx.memory))

    def _load(self, progress: Progress) -> Any:
        if self.settings.model_path:
            path = Path(self.settings.model_path).expanduser()
        else:
            path = ensure_model(self.model_name, progress)
        check_model_file(path)
        progress(f"loading {path.name}")
        try:
            from llama_cpp import Llama
        except ImportError as error:
            raise BackendError(
                f"llama-cpp-python is not importable ({error})",
                "reinstall it: pip install --force-reinstall llama-cpp-python==0.3.36",
            ) from None
        try:
            return _with_two_sequences(
                Llama(
                    model_path=str(path),
                    n_ctx=CONTEXT_TOKENS,
                    n_batch=256,
                    n_threads=self.settings.threads or default_threads(),
                    verbose=False,
                )
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise BackendError(
                f"llama.cpp could not load the model file {path} ({error})",
                "the file is damaged or not a model llama.cpp supports: "
                "point backend.modelPath at a good GGUF file, or unset it",
            ) from None

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._llm = None

    async def check(self) -> list[str]:
        if self._llm is None:
            raise BackendError("the embedded model is not loaded")
        return [f"embedded model loaded: {self.name} (n_ctx {CONTEXT_TOKENS})"]

    # --- tokens ------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int | None:
        if self._llm is None:
            return None
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def tokenize(self, prompt: Prompt) -> list[int]:
        """Template text may hold special tokens; the user's text never does (a file that
        contains `<|fim_suffix|>` is tokenized as plain text)."""
        tokens: list[int] = []
        for segment in prompt.segments:
            data = segment.text.encode("utf-8")
            tokens += self._llm.tokenize(data, add_bos=False, special=segment.special)
        return tokens

    def _is_control(self, token: int) -> bool:
        known = self._control_cache.get(token)
        if known is None:
            import llama_cpp

            vocab = self._llm._model.vocab
            known = bool(
                llama_cpp.llama_vocab_is_eog(vocab, token)
                or llama_cpp.llama_vocab_get_attr(vocab, token) & LLAMA_TOKEN_ATTR_CONTROL
            )
            self._control_cache[token] = known
        return known

    # --- generation --------------------------------------------------------------------------

    async def generate(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        if self._llm is None:
            raise BackendError("the embedded model is not loaded")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone (shutdown)
                stop.set()

        tokens = self.tokenize(prompt)
        loop.run_in_executor(self._executor, self._run, tokens, params, usage, stop, emit)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, str)
                yield item
        finally:
            stop.set()

    def _run(
        self,
        tokens: list[int],
        params: GenerationParams,
        usage: Usage,
        stop: threading.Event,
        emit: Emit,
    ) -> None:
        try:
            if not stop.is_set():
                self._evaluate_and_sample(tokens, params, usage, stop, emit)
        except Exception as error:  # llama.cpp failures become one clear message
            emit(BackendError(f"the embedded model failed: {error}"))
        finally:
            emit(_DONE)

    def _evaluate_and_sample(
        self,
        tokens: list[int],
        params: GenerationParams,
        usage: Usage,
        stop: threading.Event,
        emit: Emit,
    ) -> None:
        llm = self._llm
        room = CONTEXT_TOKENS - params.max_tokens - 1
        if len(tokens) > room:  # never overflow the context: keep the end, nearest the cursor
            tokens = tokens[-room:]
        reuse = self._plan_reuse(tokens, shift=params.reuse_shifted)
        usage.prompt_tokens = len(tokens)
        usage.evaluated_tokens = reuse.evaluated(len(tokens))
        if not self._evaluate(tokens, reuse, stop):
            return

        llm.set_seed(params.seed if params.seed is not None else 0)
        llm._sampler = llm._init_sampler(temp=params.temperature, repeat_penalty=1.0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            for _ in range(params.max_tokens):
                if stop.is_set():
                    return
                token = llm.sample()
                if stop.is_set():
                    usage.wasted_tokens += 1
                    return
                usage.generated_tokens += 1
                if self._is_control(token):
                    return
                piece = decoder.decode(llm.detokenize([token], special=False))
                if piece:
                    emit(piece)
                llm.eval([token])
        finally:
            llm._sampler = None

    # --- the KV cache ------------------------------------------------------------------------

    def _plan_reuse(self, tokens: list[int], shift: bool = True) -> _Reuse:
        """What of the KV cache serves `tokens`: the longest common prefix, kept in place, and
        after it at most one further run of cached tokens (the suffix window, after the person
        typed in front of it), moved to its new position instead of re-evaluated. At least the
        last prompt token is always evaluated, for fresh logits."""
        llm = self._llm
        cached = llm.input_ids[: llm.n_tokens].tolist()
        limit = min(len(cached), len(tokens) - 1)
        common = 0
        while common < limit and cached[common] == tokens[common]:
            common += 1
        reuse = _Reuse(common)
        if not shift or not self._can_shift:
            return reuse
        # The run's cached keys were computed with the old tokens in front of it: bound how many
        # tokens in front may differ (its drift, summed over the shifts since it was evaluated).
        starts: dict[tuple[int, ...], int] = {}
        for old in range(common, min(len(cached), common + SHIFT_MAX_DRIFT) - SHIFT_MIN_TOKENS + 1):
            starts.setdefault(tuple(cached[old : old + SHIFT_MIN_TOKENS]), old)
        for new in range(common, min(len(tokens) - 1, common + SHIFT_MAX_DRIFT) - SHIFT_MIN_TOKENS + 1):
            old = starts.get(tuple(tokens[new : new + SHIFT_MIN_TOKENS]))
            if old is None:
                continue
            drift = self._drift_at(old) + (old - common) + (new - common)
            if drift > SHIFT_MAX_DRIFT:
                continue
            length = SHIFT_MIN_TOKENS
            while (
                old + length < len(cached)
                and new + length < len(tokens) - 1
                and cached[old + length] == tokens[new + length]
            ):
                length += 1
            return _Reuse(common, old, new, length, drift)
        return reuse

    def _drift_at(self, position: int) -> int:
        return max((d for start, end, d in self._shifted if start <= position < end), default=0)

    def _evaluate(self, tokens: list[int], reuse: _Reuse, stop: threading.Event) -> bool:
        """Brings the KV cache to `tokens` as planned; False when stopped (the cache then holds
        only the common prefix)."""
        llm = self._llm
        memory = llm._ctx
        common = reuse.common
        self._shifted = [(s, min(e, common), d) for s, e, d in self._shifted if s < common]
        start = common
        if reuse.length:
            old, new, length = reuse.source, reuse.target, reuse.length
            memory.kv_cache_seq_rm(-1, common, old)
            memory.kv_cache_seq_rm(-1, old + length, -1)
            if new != old:
                memory.kv_cache_seq_shift(0, old, old + length, new - old)
            if new > common:
                # llama.cpp appends only at a sequence's end, and the moved run now ends it: the
                # tokens in front of the run are evaluated in a second sequence sharing the prefix,
                # then handed to the first.
                memory.kv_cache_seq_cp(0, 1, 0, common)
                done = self._decode(tokens[common:new], common, 1, stop)
                if done:
                    memory.kv_cache_seq_cp(1, 0, common, new)
                memory.kv_cache_seq_rm(1, -1, -1)
                if not done:
                    return self._keep_only(common)
            llm.input_ids[common : new + length] = tokens[common : new + length]
            self._shifted.append((new, new + length, reuse.drift))
            start = new + length
        else:
            memory.kv_cache_seq_rm(-1, common, -1)
        llm.n_tokens = start
        if not self._decode(tokens[start:], start, 0, stop):
            return self._keep_only(common)
        llm.input_ids[start : len(tokens)] = tokens[start:]
        llm.n_tokens = len(tokens)
        return True

    def _decode(self, tokens: list[int], position: int, sequence: int, stop: threading.Event) -> bool:
        """Evaluates `tokens` from `position` in `sequence`, in batches with a stop check between
        them (a keystroke's few tokens in one batch: that sets the latency)."""
        llm = self._llm
        size = len(tokens) if len(tokens) <= ONE_BATCH_MAX else EVAL_BATCH
        for first in range(0, len(tokens), max(size, 1)):
            if stop.is_set():
                return False
            part = tokens[first : first + size]
            batch = llm._batch.batch
            batch.n_tokens = len(part)
            for k, token in enumerate(part):
                batch.token[k] = token
                batch.pos[k] = position + first + k
                batch.seq_id[k][0] = sequence
                batch.n_seq_id[k] = 1
                batch.logits[k] = k == len(part) - 1
            llm._ctx.decode(llm._batch)
        return True

    def _keep_only(self, common: int) -> bool:
        self._llm._ctx.kv_cache_seq_rm(-1, common, -1)
        self._llm.n_tokens = common
        self._shifted = [(s, min(e, common), d) for s, e, d in self._shifted if s < common]
        return False

    async def warm(self, prompt: Prompt) -> None:
        """Evaluates a prompt ahead of time (a file was opened), so the first request finds its
        stable part in the KV cache. Low priority: any generation queued behind it waits at most
        one batch, since a newer generation sets `stop` through cancellation of this one."""
        if self._llm is None:
            return
        stream = self.generate(prompt, GenerationParams(max_tokens=1), Usage())
        try:
            async for _ in stream:
                break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


def _with_two_sequences(llm: Any) -> Any:
    """Gives `llm` a context with a second sequence sharing one KV cache (see `_evaluate`);
    llama-cpp-python's constructor has no setting for it."""
    from llama_cpp import _internals

    llm.context_params.n_seq_max = 2
    llm.context_params.kv_unified = True
    single = llm._ctx
    llm._ctx = _internals.LlamaContext(model=llm._model, params=llm.context_params, verbose=False)
    single.close()
    return llm


def create(settings: BackendSettings) -> EmbeddedBackend:
    return EmbeddedBackend(settings)

"""The embedded backend: llama.cpp in-process through llama-cpp-python, no server needed.

One `Llama` lives for the server's life and runs on one worker thread, so generations are
serialised. Each generation reuses the KV cache for the longest token prefix it shares with the
previous one (the prompt puts its stable part first), evaluates the rest in small batches, and
checks for cancellation between batches and before every token: a cancelled request frees the
model within one batch or one token.

On a blank line, a model that thinks nothing belongs there writes the next line of the code again,
which the finaliser drops: the person asked and got nothing. The backend holds the first line back
until it can tell, and on such a repeat steps back to where its content began and samples again
without the tokens that would begin the same line (once per generation).

Greedy generations draft from their own context (prompt lookup): code repeats itself, so the tokens
that followed the last few tokens' previous occurrence (in the document window, a neighbour file or
the completion so far) are a guess at what comes next. The chosen token and that guess are
evaluated in one batch, which costs little more than the token alone, and every guessed token the
model would have chosen itself is taken without a step of its own. The output is the same.
Another model's answer at the place (GenerationParams.draft: the cascade's 0.5B for the 1.5B) is
drafted the same way, and since that answer is already written, its drafts cost nothing to make.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from ..config import BackendSettings, cache_dir
from ..prompts import Prompt, pick_format
from ..prompts.chatml import ChatMessage, chatml_prompt
from .base import BackendError, GenerationParams, Progress, Usage
from .guide import MemberMonitor, NameGuide, best_allowed
from .model_store import DEFAULT_MODEL, check_model_file, ensure_model

# Prompt evaluation can stop only between batches. Measured on 2 quiet cores (1 thread): 16-token
# batches run at 129 prompt tokens/s (124 ms a batch), 64-token ones at 208/s. A keystroke's few
# pending tokens (~50, mostly the suffix window) go in one batch, since that sets the latency; a cold
# prompt goes in 32-token batches, so a newer request waits at most ~0.2 s for the model.
ONE_BATCH_MAX = 64
EVAL_BATCH = 32
# Prompt tokens a second before anything is measured (the 0.5B on 2 quiet cores does ~210), and
# how much each batch measured moves the estimate. Batches under MEASURED_BATCH_MIN tokens are
# dominated by their fixed cost and not counted.
INITIAL_PREFILL_RATE = 150.0
RATE_WEIGHT = 0.3
MEASURED_BATCH_MIN = 16
CONTEXT_TOKENS = 4096
# Prompt lookup (greedy generations only): the last DRAFT_NGRAMS tokens (the longest that occurs
# earlier first) are looked up in the context, and the tokens that followed go with the chosen
# token into one batch. On 2 quiet cores a drafted token adds ~8 ms to a token's ~35 ms, so a
# rejected draft costs: drafts start at one token, double while whole drafts are accepted (up to
# DRAFT_MAX) and halve on a rejection (on benchmarks/speculative.py's tokens, a fixed 8-token
# draft would be 32% accepted and gain ~7%; this is ~55% accepted).
# Off by default: which tokens go into one batch is timed (below), and llama.cpp's logits move a
# little with the batching, so the same prompt could give another answer on a busy machine (a
# near-tie flipped in tests/model/test_embedded_backend.py; 3 of benchmarks/speculative.py's 30
# outputs part at near-ties). The gain, 1.3x on multi-line text when quiet, does not buy that.
PROMPT_LOOKUP = False
DRAFT_NGRAMS = (3, 2)
DRAFT_MAX = 8
# Another model's answer (GenerationParams.draft) is a better guess than a lookup, and is often the
# whole line: its first draft is larger.
HINT_FIRST_DRAFT = 4
# A batch runs on llama.cpp's batch threads (one per core), a lone token on `threads` (one): with
# another process busy on a core, the batch's threads wait for each other, and a drafted token adds
# 1-3 tokens' time, which no draft pays back. So both are timed, and drafting stops while a
# drafted token adds over DRAFT_COST_MAX of a token's time; a 1-token draft checks again after
# DRAFT_PROBE_EVERY tokens evaluated alone, twice as many after each check that failed (up to
# DRAFT_PROBE_MAX), since under heavy load one check can cost as much as those tokens.
DRAFT_COST_MAX = 0.5
DRAFT_PROBE_EVERY = 64
DRAFT_PROBE_MAX = 1024
LLAMA_TOKEN_ATTR_CONTROL = 1 << 3

log = logging.getLogger(__name__)

Emit = Callable[[object], None]


# Prompt batches run on a llama.cpp thread per core, whose OpenMP workers spin while they wait for
# each other: next to a busy process (an editor, a build) the spinning takes the core the other
# worker needs. Measured on 2 cores, 32-token batches, prompt tokens/s quiet / one core busy:
# spinning 175 / 61, passive 153 / 87, one thread 105 / 102 (with both cores busy, spinning fell
# to 4). Read when libgomp loads, so set before llama_cpp is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def default_threads() -> int:
    """One core fewer than the machine has (at most 8): the editor and this server's event loop
    run while the person types, and llama.cpp's workers spin-wait, so a worker on every core
    collapses under that load (measured on 2 cores: decode 3-5x slower with 2 threads under load,
    only 28% faster with 2 when quiet; prompt evaluation the same with 1 or 2)."""
    return max(1, min((os.cpu_count() or 2) - 1, 8))


def gpu_layers(setting: int, can_offload: bool) -> int:
    """The `n_gpu_layers` for llama.cpp: backend.gpuLayers (-1: all) where the build can offload
    to a GPU, else 0, so a CPU-only build loads as it always did."""
    return setting if can_offload else 0


# `doctor` evaluates a few tokens in a child process: a llama.cpp build the CPU cannot run (its
# AMX kernels on a virtual machine that reports AMX without enabling it) kills the process that
# evaluates, so the check cannot run in the doctor's own.
_EVALUATION_PROBE = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, verbose=False)
llm.eval(llm.tokenize(b"def add(a, b):\\n    return a + b\\n"))
"""
_NO_AMX_REBUILD = (
    "rebuild llama-cpp-python without AMX: CMAKE_ARGS='-DCMAKE_C_FLAGS=\"-mno-amx-tile "
    '-mno-amx-int8 -mno-amx-bf16" -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"\' '
    "pip install --no-cache-dir --force-reinstall --no-deps llama-cpp-python==0.3.36"
)


def evaluation_failure(path: Path, probe: str = _EVALUATION_PROBE) -> str | None:
    """Why llama.cpp cannot evaluate a prompt with the model file at `path`; None if it can."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        return "llama.cpp took over 300 s to evaluate a short prompt"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        return (
            f"llama.cpp died of {signal.Signals(-done.returncode).name} evaluating a prompt: "
            f"this build cannot run on this CPU; {_NO_AMX_REBUILD}"
        )
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return f"llama.cpp could not evaluate a prompt (exit {done.returncode}: {last})"


def check_runs_here(path: Path, probe: str = _EVALUATION_PROBE) -> None:
    """Raises BackendError when llama.cpp dies evaluating a prompt with this model on this CPU,
    instead of letting the first keystroke kill the server (and the editor restart it in a
    loop). The check runs in a child process once per llama.cpp build and model file; a pass is
    remembered in the cache folder. Failures other than a death are left to the load itself,
    which explains them better."""
    import llama_cpp

    library = Path(llama_cpp.__file__).parent
    parts = [llama_cpp.__version__, str(path.resolve()), str(path.stat().st_size)]
    for item in sorted(library.glob("lib/*")):
        parts.append(f"{item.name}:{item.stat().st_size}:{item.stat().st_mtime_ns}")
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    stamp = cache_dir() / "checks" / f"evaluates-{key}"
    if stamp.exists():
        return
    failure = evaluation_failure(path, probe)
    if failure is not None and "died of" in failure:
        raise BackendError(failure)
    if failure is None:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text("llama.cpp evaluated a prompt with this build and model file\n")
        except OSError as error:  # a full disk or a read-only cache: the check runs next time
            log.info("could not remember the evaluation check in %s: %s", stamp.parent, error)


_DONE = object()


class EmbeddedBackend:
    def __init__(self, settings: BackendSettings, prompt_lookup: bool = PROMPT_LOOKUP):
        self.settings = settings
        self.prompt_lookup = prompt_lookup  # draft greedy generations from their own context
        # Every generated token evaluated in a batch of this size (0: as it comes). llama.cpp's
        # logits move a little with the batch's size (its kernels for one token and for several
        # sum in other orders), so a near-tie can part drafted and undrafted output; at a fixed
        # size they are the same token for token (tests/model/test_prompt_lookup.py).
        self.pad_batches_to = 0
        self.model_name = settings.model or DEFAULT_MODEL
        self.name = (
            f"embedded:{Path(settings.model_path).name if settings.model_path else self.model_name}"
        )
        self.prompt_format = pick_format(settings.prompt_format, self.model_name)
        self._llm: Any = None  # lane 0: the person's flow
        # Guided decoding's looks at tokens' texts, and at which token spells a text.
        self._token_texts: dict[int, str] = {}
        self._text_tokens: dict[str, int | None] = {}
        # Lane 1, for short and alternative prompts (GenerationParams.lane): a second context on
        # the same weights, so they never evict lane 0's KV cache. Made with lane 0: the first
        # answer at a new place needs it at once.
        self._alternative: Any = None
        self._path: Path | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ghosttype-llama")
        self._control_cache: dict[int, bool] = {}
        self._by_first_char: dict[str, list[tuple[int, str]]] | None = None
        self._prefill_rate = INITIAL_PREFILL_RATE
        self._token_s = 0.0  # a generated token evaluated alone, measured (0: not yet)
        self._draft_token_s = 0.0  # what a drafted token added to its batch, last measured
        self._undrafted = 0  # generated tokens evaluated alone since the last draft
        self._probe_after = DRAFT_PROBE_EVERY  # of those, before a draft checks the cost again
        # The last prompts tokenized: a request asks what its full prompt costs, runs the short
        # one instead, and asks again after its debounce; each prompt is tokenized once.
        self._tokenized: LRUCache[tuple[object, ...], list[int]] = LRUCache(maxsize=4)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, progress: Progress) -> None:
        loop = asyncio.get_running_loop()
        self._llm = await loop.run_in_executor(self._executor, self._load, progress)

    def _load(self, progress: Progress) -> Any:
        if self.settings.model_path:
            path = Path(self.settings.model_path).expanduser()
        else:
            path = ensure_model(self.model_name, progress)
        check_model_file(path)
        progress(f"checking that llama.cpp runs {path.name} on this CPU")
        check_runs_here(path)
        progress(f"loading {path.name}")
        self._path = path
        first = self._new_context(path)
        if self.settings.lanes > 1:
            self._alternative = second_context(first)
        return first

    def _new_context(self, path: Path) -> Any:
        try:
            from llama_cpp import Llama, llama_supports_gpu_offload
        except ImportError as error:
            raise BackendError(
                f"llama-cpp-python is not importable ({error})",
                "reinstall it: pip install --force-reinstall llama-cpp-python==0.3.36",
            ) from None
        try:
            return Llama(
                model_path=str(path),
                n_ctx=CONTEXT_TOKENS,
                n_batch=256,
                n_threads=self.settings.threads or default_threads(),
                n_gpu_layers=gpu_layers(self.settings.gpu_layers, llama_supports_gpu_offload()),
                # llama.cpp's CPU backend copies the weights into its own layout for its kernels:
                # mapped, the file's pages stayed resident beside the copy (the 1.5B: 1,873 MB of
                # RSS mapped, 1,281 MB read).
                use_mmap=False,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise BackendError(
                f"llama.cpp could not load the model file {path} ({error})",
                "the file is damaged or not a model llama.cpp supports: "
                "point backend.modelPath at a good GGUF file, or unset it",
            ) from None

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._llm = self._alternative = None

    def _lane(self, lane: int) -> Any:
        """The model context for a lane (lane 0's where the backend keeps one lane)."""
        return self._alternative if lane and self._alternative is not None else self._llm

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
        tokens = self._tokenized.get(prompt.segments)
        if tokens is None:
            tokens = self._tokenized[prompt.segments] = tokenize_prompt(self._llm, prompt)
        return tokens

    # --- what a prompt costs (KeepsPrompts) ----------------------------------------------------

    def uncached_tokens(self, prompt: Prompt, lane: int) -> int:
        """Read from the event loop while the worker may be evaluating: an estimate, which is
        all the engine needs to choose a prompt."""
        tokens = self.tokenize(prompt)
        llm = self._lane(lane)
        if llm is None:
            return len(tokens)
        # At least the last token is evaluated again, for fresh logits (see _reuse_prefix).
        return len(tokens) - _common_prefix(llm.input_ids[: llm.n_tokens], tokens[:-1])

    def prefill_rate(self) -> float:
        return self._prefill_rate

    def _timed_eval(self, llm: Any, batch: list[int]) -> None:
        started = time.perf_counter()
        llm.eval(batch)
        elapsed = time.perf_counter() - started
        if len(batch) >= MEASURED_BATCH_MIN and elapsed > 0:
            self._prefill_rate += RATE_WEIGHT * (len(batch) / elapsed - self._prefill_rate)

    def is_control(self, token: int) -> bool:
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
                assert isinstance(item, tuple)
                piece, logprob, tokens_in_piece = item
                usage.logprob += logprob
                usage.scored_tokens += tokens_in_piece
                yield piece
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
        llm = self._lane(params.lane)
        room = CONTEXT_TOKENS - params.max_tokens - 1
        if len(tokens) > room:  # never overflow the context: keep the end, nearest the cursor
            tokens = tokens[-room:]
        if params.cold:
            llm.reset()
        reused = 0 if params.cold else _reuse_prefix(llm, tokens)
        usage.prompt_tokens = len(tokens)
        pending = tokens[reused:]
        batch = len(pending) if len(pending) <= ONE_BATCH_MAX else EVAL_BATCH
        for start in range(0, len(pending), max(batch, 1)):
            if stop.is_set():
                return
            self._timed_eval(llm, pending[start : start + batch])
            # Counted as evaluated: a cancelled request's batches stay in the KV cache and are
            # not evaluated again by the next request.
            usage.evaluated_tokens += len(pending[start : start + batch])

        llm.set_seed(params.seed if params.seed is not None else 0)
        llm._sampler = llm._init_sampler(temp=params.temperature, repeat_penalty=1.0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        avoid = params.avoid_line.strip()
        monitor = params.member_monitor if params.temperature == 0 else None
        guide = None
        if params.known_names is not None and params.temperature == 0:
            guide = NameGuide(params.known_names, optional=True)
        elif params.members and params.temperature == 0 and monitor is None:
            guide = NameGuide(params.members, params.member_typed)
        written = ""  # the text of `generated`, for the monitor
        banned: list[int] = []  # after a step back: tokens that would begin `avoid` again
        generated: list[int] = []
        logprobs: list[float] = []  # of each token in `generated`
        held = ""  # the first line, held back while it may still repeat `avoid`
        # Not for a deterministic request: whether a draft is evaluated depends on the load, and
        # a batch's numerics can tip a near-tie (see benchmarks/speculative.py).
        greedy = params.temperature == 0 and not params.cold
        lookup = self.prompt_lookup and greedy
        hint = self._hint(llm, params.draft) if greedy else []
        # The model's next choices, known from a verified draft: (token, the row of the last
        # batch's logits it was chosen from). All but the last are evaluated already.
        known: list[tuple[int, int]] = []
        draft_size = HINT_FIRST_DRAFT if hint else 1
        try:
            while len(generated) < params.max_tokens:
                if stop.is_set():
                    return
                if known:
                    token, row = known.pop(0)
                else:
                    if banned:
                        _ban(llm, banned)
                    token, row = llm.sample(), -1
                    if (guide is not None and guide.active) or monitor is not None:
                        token = self._guided(llm, token, guide, monitor, written)
                if stop.is_set():
                    usage.wasted_tokens += 1
                    return
                usage.generated_tokens += 1
                control = self.is_control(token)
                piece = "" if control else decoder.decode(llm.detokenize([token], special=False))
                logprob = _logprob(llm, token, row)
                if not control:
                    generated.append(token)
                    logprobs.append(logprob)
                    written += piece
                if piece.strip():
                    banned = []
                if guide is not None and guide.active and piece:
                    guide.advance(piece)
                if avoid:
                    held += piece
                    verdict = _first_line_verdict(held, avoid, finished=control)
                    if verdict == "repeat":
                        # Step back to where the repeat's content began and take the model's
                        # best choice there that does not begin the same line, once.
                        start = _content_start(llm, generated)
                        del generated[start:], logprobs[start:]
                        known.clear()
                        _step_back(llm, len(tokens) + start)
                        banned = self._tokens_beginning(avoid)
                        held = llm.detokenize(generated, special=False).decode("utf-8", "replace")
                        written = held
                        decoder.reset()
                        avoid = ""
                        if held:
                            emit((held, sum(logprobs), len(logprobs)))
                        continue
                    if verdict == "other":
                        avoid = ""
                        if held:
                            emit((held, sum(logprobs), len(logprobs)))
                    if control:
                        return
                elif control:
                    return
                elif piece:
                    emit((piece, logprob, 1))
                if known:  # a verified draft token: evaluated with the batch that verified it
                    continue
                # Drafts are checked against the model's own greedy choice: not while tokens are
                # banned from the next one. Never past max_tokens: the choice after the draft is
                # a token too.
                draft: list[int] | None = None  # None: the next token is sampled, not verified
                if (
                    greedy
                    and not banned
                    and not (guide is not None and guide.active)
                    and not (monitor is not None and monitor.mid_access(written))
                ):
                    room = params.max_tokens - len(generated) - 1
                    limit = min(self._draft_limit(draft_size), room)
                    draft = _continuing(hint, generated, limit)
                    if not draft and lookup:
                        draft = _draft(llm.input_ids[: llm.n_tokens], token, limit)
                    if draft and monitor is not None:
                        draft = self._undotted(draft)
                known, drafted = self._evaluate(llm, token, draft, usage)
                if drafted:
                    whole = len(known) - 1 == drafted
                    draft_size = (
                        min(DRAFT_MAX, draft_size * 2) if whole else max(1, draft_size // 2)
                    )
        finally:
            llm._sampler = None

    def _guided(
        self,
        llm: Any,
        first: int,
        guide: NameGuide | None,
        monitor: MemberMonitor | None,
        written: str,
    ) -> int:
        """The token guided decoding takes for the model's choice `first` (backends/guide.py):
        a name kept on one that exists where `guide` is active (an expression's first name, or
        the member at the cursor), every member access kept on the receiver's members where
        there is a `monitor`."""
        naming = guide if guide is not None and guide.active else None
        if monitor is None:
            assert naming is not None
            return naming.choose(first, _logits(llm, -1), self._token_text, self._text_token)

        def allows(piece: str) -> bool:
            return (naming is None or naming.allows(piece)) and monitor.allows(written, piece)

        text = self._token_text(first)
        if allows(text):
            return first
        shape = monitor.same_shape(written, text)
        spellings = (naming.spellings() if naming is not None else []) + monitor.spellings(written)
        chosen = best_allowed(
            _logits(llm, -1),
            self._token_text,
            self._text_token,
            lambda piece: shape(piece) and allows(piece),
            [spelled for spelled in spellings if shape(spelled)],
        )
        if chosen is None:
            if naming is not None:
                naming.active = False
            return first
        return chosen

    def _undotted(self, draft: list[int]) -> list[int]:
        """The draft up to its first token that may start a member access: the monitor judges
        each of those, so it is sampled, not taken from a verified draft."""
        for at, token in enumerate(draft):
            text = self._token_text(token)
            if "." in text or ">" in text:
                return draft[:at]
        return draft

    def _token_text(self, token: int) -> str:
        """A token's text (guided decoding looks at the top choices' texts), cached."""
        text = self._token_texts.get(token)
        if text is None:
            text = "" if self.is_control(token) else self._detokenize_one(token)
            self._token_texts[token] = text
        return text

    def _text_token(self, text: str) -> int | None:
        """The one token that spells `text`, if there is one (cached)."""
        if text not in self._text_tokens:
            tokens = self._lane(0).tokenize(text.encode("utf-8"), add_bos=False, special=False)
            self._text_tokens[text] = tokens[0] if len(tokens) == 1 else None
        return self._text_tokens[text]

    def _detokenize_one(self, token: int) -> str:
        llm = self._lane(0)
        return str(llm.detokenize([token], special=False).decode("utf-8", "replace"))

    def _hint(self, llm: Any, text: str) -> list[int]:
        """GenerationParams.draft's tokens (none for no text)."""
        if not text:
            return []
        return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _evaluate(
        self, llm: Any, token: int, draft: list[int] | None, usage: Usage
    ) -> tuple[list[tuple[int, int]], int]:
        """Evaluates `token`, with `draft` after it in the same batch where there is one.
        Returns the model's choices the draft showed (see _eval_verifying; none without a
        draft) and how many tokens were drafted. `draft` None: the next token will be sampled
        (at a temperature, or with tokens banned), so it is never chosen here."""
        started = time.perf_counter()
        if not draft and (draft is None or not self.pad_batches_to):
            llm.eval([token])
            self._measure_token(time.perf_counter() - started)
            return [], 0
        known = _eval_verifying(llm, token, draft, self.pad_batches_to)
        if not draft:  # padded to the fixed size: the model's choice after `token`
            self._measure_token(time.perf_counter() - started)
            return known, 0
        self._draft_token_s = (time.perf_counter() - started - self._token_s) / len(draft)
        self._undrafted = 0
        if self._drafts_pay():
            self._probe_after = DRAFT_PROBE_EVERY
        else:
            self._probe_after = min(2 * self._probe_after, DRAFT_PROBE_MAX)
        usage.drafted_tokens += len(draft)
        usage.accepted_tokens += len(known) - 1
        return known, len(draft)

    def _draft_limit(self, size: int) -> int:
        """How many tokens to draft: `size` while drafting pays, 1 when it is time to check
        again, else none."""
        if self._token_s == 0:
            return 0
        if self._drafts_pay():
            return size
        return 1 if self._undrafted >= self._probe_after else 0

    def _drafts_pay(self) -> bool:
        return self._draft_token_s < DRAFT_COST_MAX * self._token_s

    def _measure_token(self, elapsed: float) -> None:
        self._undrafted += 1
        if self._token_s == 0:
            self._token_s = elapsed
        self._token_s += RATE_WEIGHT * (elapsed - self._token_s)

    def _tokens_beginning(self, line: str) -> list[int]:
        """The tokens whose text, leading whitespace aside, is a beginning of `line` (up to a
        newline): what could start writing that line. The vocabulary is indexed on first use."""
        if self._by_first_char is None:
            index: dict[str, list[tuple[int, str]]] = {}
            for token in range(self._llm.n_vocab()):
                text = self._llm.detokenize([token], special=False).decode("utf-8", "replace")
                content = text.lstrip().split("\n", 1)[0]
                if content:
                    index.setdefault(content[0], []).append((token, content))
            self._by_first_char = index
        return [
            t for t, content in self._by_first_char.get(line[0], ()) if line.startswith(content)
        ]

    def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        """Chat/instruct prompts (code actions): ChatML, which the Qwen2.5 Instruct models were
        tuned on, generated like any prompt; `<|im_end|>` is an end-of-generation token."""
        return self.generate(chatml_prompt(messages, self.prompt_format), params, usage)

    async def warm(self, prompt: Prompt, lane: int = 0) -> None:
        """Evaluates a prompt ahead of time in a lane (a file was opened, a cue), so the first
        request finds it in the KV cache. Low priority: any generation queued behind it waits at
        most one batch, since a newer generation sets `stop` through cancellation of this one."""
        if self._llm is None:
            return
        stream = self.generate(prompt, GenerationParams(max_tokens=1, lane=lane), Usage())
        try:
            async for _ in stream:
                break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


def second_context(first: Any) -> Any:
    """A `Llama` with a context of its own (KV cache, batch, token history) on `first`'s weights.
    llama.cpp runs several contexts on one model, but llama-cpp-python's `Llama` loads the model
    with its context: two of them map the file twice (RSS 1,244 MB against 787 MB of PSS) and
    would hold offloaded layers twice on a GPU. Built from the parts `Llama.__init__` (0.3)
    builds its own context from; it keeps `first`, so the model outlives this context."""
    import contextlib
    import ctypes

    import numpy as np
    from llama_cpp import _internals as internals

    # Not copy.copy: Llama's pickling state re-runs __init__, which loads the model again.
    second = object.__new__(type(first))
    second.__dict__.update(first.__dict__)
    second._first = first
    second._stack = contextlib.ExitStack()
    second._ctx = second._stack.enter_context(
        contextlib.closing(
            internals.LlamaContext(model=first._model, params=first.context_params, verbose=False)
        )
    )
    second._batch = second._stack.enter_context(
        contextlib.closing(
            internals.LlamaBatch(
                n_tokens=first.n_batch, embd=0, n_seq_max=first.context_params.n_ctx, verbose=False
            )
        )
    )
    second._candidates = internals.LlamaTokenDataArray(n_vocab=first._n_vocab)
    second.n_tokens = 0
    second._requires_eval = True
    second.input_ids = np.ndarray((first._n_ctx,), dtype=np.intc)
    second.scores = np.ndarray((first.n_batch, first._n_vocab), dtype=np.single)
    second._sampler = None
    second._mirostat_mu = ctypes.c_float(10.0)
    return second


def _reuse_prefix(llm: Any, tokens: list[int]) -> int:
    """Keeps the KV cache for the longest prefix shared with what is evaluated; returns its
    length. At least one prompt token is always re-evaluated, for fresh logits."""
    common = _common_prefix(llm.input_ids[: llm.n_tokens], tokens[:-1])
    if log.isEnabledFor(logging.DEBUG):  # why a call was slow: what it had to evaluate
        log.debug(
            "prompt of %d tokens, %d from the KV cache; evaluating from %r",
            len(tokens),
            common,
            llm.detokenize(tokens[common : common + 16]).decode("utf-8", "replace"),
        )
    if common > 0 and llm._ctx.kv_cache_seq_rm(-1, common, -1):
        llm.n_tokens = common
        return common
    llm.reset()
    return 0


def _common_prefix(previous: Any, tokens: list[int]) -> int:
    """How many tokens `previous` (llama.cpp's evaluated ids) and `tokens` share from the start."""
    limit = min(len(previous), len(tokens))
    common = 0
    while common < limit and previous[common] == tokens[common]:
        common += 1
    return common


def _logits(llm: Any, row: int) -> Any:
    """The logits at `row` of the last batch evaluated (-1: its last token), in place."""
    import numpy as np

    return np.ctypeslib.as_array(llm._ctx.get_logits_ith(row), shape=(llm.n_vocab(),))


def _logprob(llm: Any, token: int, row: int = -1) -> float:
    """The log-probability the model gave `token` (from the logits it was chosen from)."""
    import numpy as np

    logits = _logits(llm, row)
    top = float(logits.max())
    return float(logits[token]) - top - math.log(float(np.exp(logits - top).sum()))


def _first_line_verdict(text: str, avoid: str, finished: bool) -> str | None:
    """Whether the completion's first line of content is `avoid` or a beginning of it (what the
    finaliser drops as code the suffix already has): "repeat", "other" once it cannot be, None
    while it still may."""
    line, newline, _ = text.lstrip().partition("\n")
    if newline or finished:
        return "repeat" if line.strip() and avoid.startswith(line.strip()) else "other"
    return None if avoid.startswith(line) else "other"


def _content_start(llm: Any, generated: list[int]) -> int:
    """The index of the first generated token that holds more than whitespace."""
    for index, token in enumerate(generated):
        if llm.detokenize([token], special=False).strip():
            return index
    return 0


def _step_back(llm: Any, keep: int) -> None:
    """Forgets every token after the first `keep` and re-evaluates the last kept one, so the
    logits are those for position `keep` again."""
    last = int(llm.input_ids[keep - 1])
    llm.n_tokens = keep - 1  # eval drops the KV cache from here
    llm.eval([last])


def _ban(llm: Any, tokens: list[int]) -> None:
    """Excludes `tokens` from the next sample: the sampler reads the context's logits in place."""
    import numpy as np

    _logits(llm, -1)[tokens] = -np.inf


def _draft(context: Any, token: int, limit: int) -> list[int]:
    """What followed the last few tokens of `context` + `token` where they occurred before (the
    most recent occurrence, of the longest of DRAFT_NGRAMS that has one): at most `limit` tokens.
    `context`: llama.cpp's evaluated ids."""
    import numpy as np

    if limit <= 0:
        return []
    sequence = np.append(context, token)
    for n in DRAFT_NGRAMS:
        starts = len(sequence) - n  # occurrences start before the last n tokens
        if starts <= 0:
            continue
        found = np.ones(starts, dtype=bool)
        for offset in range(n):
            found &= sequence[offset : starts + offset] == sequence[starts + offset]
        hits = np.flatnonzero(found)
        if len(hits):
            after = int(hits[-1]) + n
            return [int(t) for t in sequence[after : after + limit]]
    return []


def _continuing(hint: list[int], generated: list[int], limit: int) -> list[int]:
    """The next `limit` tokens of `hint` while what was generated is its beginning."""
    if limit <= 0 or len(hint) <= len(generated) or hint[: len(generated)] != generated:
        return []
    return hint[len(generated) : len(generated) + limit]


def _eval_verifying(
    llm: Any, token: int, draft: list[int], pad_to: int = 0
) -> list[tuple[int, int]]:
    """Evaluates `token` and `draft` in one batch, with logits at every position (Llama.eval
    keeps only the last one's), and keeps the draft's longest run the model would have chosen
    greedily. Returns the model's choices after `token`, each with the batch row it was chosen
    from: the accepted draft tokens (evaluated) and the choice after them (not yet). `pad_to`:
    the batch's size, filled with copies of `token` that are dropped with the rejected draft."""
    import numpy as np

    batch = [token, *draft]
    batch += [token] * (pad_to - len(batch))
    past = llm.n_tokens
    llm._ctx.kv_cache_seq_rm(-1, past, -1)  # as Llama.eval does
    llm._batch.set_batch(batch=batch, n_past=past, logits_all=True)
    llm._ctx.decode(llm._batch)
    llm.input_ids[past : past + len(batch)] = batch
    choices: list[tuple[int, int]] = []
    for row, guess in enumerate([*draft, None]):
        choice = int(np.argmax(_logits(llm, row)))  # the greedy sampler's choice there
        choices.append((choice, row))
        if choice != guess:
            break
    # Keep the token and the accepted draft; forget the rest.
    llm.n_tokens = past + len(choices)
    llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
    return choices


def tokenize_prompt(tokenizer: Any, prompt: Prompt) -> list[int]:
    """Template text may hold special tokens; the user's text never does (a file that contains
    `<|fim_suffix|>` is tokenized as plain text). `tokenizer`: llama.cpp's `Llama`."""
    tokens: list[int] = []
    for segment in prompt.segments:
        data = segment.text.encode("utf-8")
        tokens += tokenizer.tokenize(data, add_bos=False, special=segment.special)
    return tokens


def create(settings: BackendSettings) -> EmbeddedBackend:
    return EmbeddedBackend(settings)

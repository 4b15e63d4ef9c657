"""What every backend provides. Backends are the only code that touches the network or the model
runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..prompts import Prompt, PromptFormat
from ..prompts.chatml import ChatMessage

if TYPE_CHECKING:
    from .guide import MemberMonitor, SortedNames


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int
    temperature: float = 0.0
    seed: int | None = None
    # Which of the request's candidates this is (0 is the greedy first one).
    candidate: int = 0
    # Which KV cache to use, for a backend that keeps more than one (the embedded one): 0 is
    # the person's flow, whose prompts share their start from request to request; 1 is for an
    # alternative prompt, which must not evict it. Others ignore it.
    lane: int = 0
    # The line of code right after a blank cursor line. A completion whose first line repeats it
    # says "nothing goes here", which the finaliser drops; a backend that can steer the sampling
    # (the embedded one) takes the model's next choice for that first token instead. Others
    # ignore it.
    avoid_line: str = ""
    # Evaluate the prompt from an empty KV cache, in the same batches every time, so one prompt
    # always gives one answer (completion.deterministic; llama.cpp's numerics depend on how a
    # prompt was split into batches). Backends without a cache of their own ignore it.
    cold: bool = False
    # At a member access whose receiver resolves (symbols/check.py): its members' names, and the
    # part of one the person typed. A backend that can steer the sampling (the embedded one)
    # keeps the next identifier on one of them (backends/guide.py). Others ignore it.
    members: frozenset[str] = frozenset()
    member_typed: str = ""
    # Where an expression starts (`x = ‸`, `raise ‸`) on an invoked request: the names that
    # exist (symbols/check.py). A backend that can steer the sampling (the embedded one) keeps
    # the first identifier on one of them, or lets the text start with none. Others ignore it.
    known_names: SortedNames | None = field(default=None, compare=False, repr=False)
    # On an invoked request whose file the symbol index holds: the monitor of every member access
    # the model writes on a resolved receiver, the cursor's and later ones (`self.client.send`).
    # A backend that can steer the sampling (the embedded one, greedy) keeps each name on one of
    # the receiver's members (backends/guide.py). Others ignore it.
    member_monitor: MemberMonitor | None = field(default=None, compare=False, repr=False)
    # Text the model is likely to write here: another model's answer at this place (the cascade's
    # typing model, for the pause model). A backend that verifies drafts (the embedded one,
    # greedy) evaluates its tokens in batches and keeps those it would have chosen itself; the
    # text it writes is its own either way. Others ignore it.
    draft: str = ""


@dataclass
class Usage:
    """Filled in by the backend while it generates (what the benchmarks and stats report)."""

    prompt_tokens: int = 0
    # Prompt tokens evaluated (not reused from the KV cache; a cancelled generation's, as far as
    # it got); equal to prompt_tokens where the backend cannot tell.
    evaluated_tokens: int = 0
    generated_tokens: int = 0
    # Tokens generated after the request was cancelled (work nobody will see).
    wasted_tokens: int = 0
    # Drafting (the embedded backend, greedy): tokens guessed (from the context, or
    # GenerationParams.draft) and evaluated with the chosen token, and those of them the model
    # chose as well.
    drafted_tokens: int = 0
    accepted_tokens: int = 0
    # The model's log-probability of the text streamed so far and the tokens it covers, where
    # the backend can tell (the embedded one): updated before each piece is handed on, so at any
    # point it is that of the pieces received. How sure the model was, to rank candidates.
    logprob: float = 0.0
    scored_tokens: int = 0
    # What an HTTP backend put on the wire, recorded as it hands the request to the connection:
    # {"path": ..., "body": ...} (the JSON body exactly as sent; headers, and so the API key,
    # are not in it). None for a local backend, or one that refused before building a request.
    # backend.auditLog writes it.
    sent: dict[str, Any] | None = None


class BackendError(Exception):
    """A failure the user should hear about once: what happened, and what to do about it.
    Messages never contain prompts, code or keys."""

    def __init__(self, message: str, hint: str = "", retry_after_s: float | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


# Progress while a backend starts (loading a model): a message for the status line.
Progress = Callable[[str], None]


class Backend(Protocol):
    """A source of completions.

    `generate` is an async generator of text pieces (about one token each). The caller may stop
    early: closing the generator (`aclose`, or cancelling the task that iterates it) must stop the
    generation within one token, on the model or on the wire.
    """

    name: str
    prompt_format: PromptFormat

    async def start(self, progress: Progress) -> None:
        """Load or connect. Raises BackendError with a message the user can act on."""

    def count_tokens(self, text: str) -> int | None:
        """Tokens in `text` with the model's tokenizer, or None when there is none at hand."""

    def generate(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        """Streams the completion of `prompt`."""

    async def check(self) -> list[str]:
        """`doctor`: lines that describe a working backend; raises BackendError otherwise."""

    async def close(self) -> None:
        """Releases the model or the connections."""


@runtime_checkable
class KeepsPrompts(Protocol):
    """A backend that keeps evaluated prompts in a KV cache it can look into (the embedded one):
    the engine asks what a prompt would cost before it runs it (see first_answer.py)."""

    def uncached_tokens(self, prompt: Prompt, lane: int) -> int:
        """The prompt tokens that lane's KV cache does not hold (what must be evaluated)."""

    def prefill_rate(self) -> float:
        """Prompt tokens evaluated per second, as measured on this machine."""


@runtime_checkable
class Chats(Protocol):
    """A backend that answers chat/instruct prompts (every kind: the embedded model's ChatML,
    OpenAI's /v1/chat/completions, Ollama's /api/chat). Streams the answer like `generate`."""

    def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        """Streams the assistant's answer to `messages`."""

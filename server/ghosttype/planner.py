"""The plan of one request: single or multi-line, the prompt within the budget, what post-
processing will read, and the cache key derived from all of it. Pure apart from the context
builder's kept anchors and trees."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from .backends import Backend
from .config import CompletionSettings, Settings
from .context import ContextBuilder
from .documents import Document
from .first_answer import SHORT_LANE
from .postprocess import decide_multiline
from .postprocess.pipeline import Surroundings
from .prompts import Prompt, PromptFormat, build_prompt


@dataclass(frozen=True)
class Plan:
    prompt: Prompt
    at: Surroundings
    # Everything the answer depends on besides the model: the prompts, what post-processing
    # reads, and the completion settings. Two document states with one key get one answer.
    key: Any
    # Planned with the backend's tokenizer (while it loads, token counts are only estimates).
    counted: bool = True
    # An invoked request whose prompt holds other files also asks the prompt without them; the
    # answer the model is surer of comes first (candidates.py).
    alternative: Prompt | None = None
    # The backend's KV cache it runs in (GenerationParams.lane): 1 for a short prompt.
    lane: int = 0


class Planner:
    def __init__(self, context: ContextBuilder):
        self.context = context

    def plan(
        self,
        document: Document,
        offset: int,
        settings: Settings,
        fmt: PromptFormat,
        backend: Backend | None,
        now: float,
        invoked: bool = False,
        speculative: bool = False,
    ) -> Plan:
        """`speculative`: a state that is not the store's (the prefetch's), whose parse must not
        replace the open document's incrementally kept syntax tree."""
        counter = backend.count_tokens if backend is not None else None
        context = self.context.build(
            document, offset, settings.context, counter, now, speculative, invoked
        )
        prompt = build_prompt(fmt, context)
        completion = settings.completion
        at = Surroundings.of(document, offset, context.prefix, False)
        multiline = decide_multiline(completion.multiline, at.cursor)
        shape = self.context.shape(document, offset, speculative)
        if completion.multiline == "auto" and shape is not None:
            multiline = shape == "multi"  # the syntax tree knows better where it can tell
        at = replace(at, multiline=multiline)
        alternative = None
        if invoked and context.has_other_files:
            in_file = self.context.build(
                document,
                offset,
                replace(settings.context, neighbours=False),
                counter,
                invoked=True,
            )
            alternative = build_prompt(fmt, in_file)
        key = _key(prompt, alternative, at, completion)
        return Plan(prompt, at, key, counter is not None, alternative)

    def short(
        self,
        full: Plan,
        document: Document,
        offset: int,
        budget: int,
        backend: Backend,
        completion: CompletionSettings,
    ) -> Plan:
        """The short prompt's plan for the place `full` was planned for (first_answer.py): the
        lines around the cursor within `budget` tokens, run in its own lane."""
        context = self.context.build_short(document, offset, budget, backend.count_tokens)
        prompt = build_prompt(full.prompt.format, context)
        at = replace(full.at, prefix=context.prefix)
        key = _key(prompt, None, at, completion)
        return Plan(prompt, at, key, full.counted, lane=SHORT_LANE)


def _key(
    prompt: Prompt, alternative: Prompt | None, at: Surroundings, completion: CompletionSettings
) -> Any:
    return (
        prompt.segments,
        alternative.segments if alternative is not None else None,
        prompt.format.name,
        at.cursor,
        at.prefix,  # the prompt's own string: no copy
        # What post-processing reads after the cursor, as a digest: 512 cached answers would
        # otherwise hold 16 KB of text each (benchmarks/soak.py: +12 MB).
        hashlib.blake2b(at.suffix.encode("utf-8", "surrogatepass"), digest_size=16).digest(),
        at.multiline,
        completion,
    )

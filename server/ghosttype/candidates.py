"""Candidates: collect the request's answers (the greedy one, sampled ones for cycling, the
in-file prompt's on an invoked request), clean each up, de-duplicate, rank.

Ranking is a list of steps over the collected candidates; adding one (a check of the names a
candidate uses, say) is one line in RANKING."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .backends import Backend, GenerationParams
from .config import CompletionSettings
from .generation import Generator
from .planner import Plan
from .postprocess import Completion
from .postprocess.pipeline import clean_up, line_to_avoid, stop_rules
from .prompts import Prompt

SAMPLED_TEMPERATURE = 0.8  # candidates beyond the first are sampled (as Tabby does)


@dataclass(frozen=True)
class Candidate:
    # None: nothing worth showing (kept until ranked: its confidence still counts).
    completion: Completion | None
    # The mean log-probability of its tokens, where the backend reports them.
    confidence: float | None
    # Asked with the in-file prompt (the invoked request's alternative), not the main one.
    in_file: bool = False


RankStep = Callable[[list[Candidate]], list[Candidate]]


def surer_prompt_first(candidates: list[Candidate]) -> list[Candidate]:
    """The in-file prompt's answer goes first when the model was surer of it than of the main
    prompt's greedy answer, second otherwise. Neither prompt wins everywhere: other files help
    where the line calls into them and mislead where it does not, and the model's own certainty
    tells which more often than not (benchmarks/RESULTS.md)."""
    in_file = next((c for c in candidates if c.in_file), None)
    if in_file is None:
        return candidates
    rest = [c for c in candidates if c is not in_file]
    greedy = rest[0].confidence if rest else None
    if in_file.confidence is not None and greedy is not None and in_file.confidence > greedy:
        return [in_file, *rest]
    shown = [i for i, c in enumerate(rest) if c.completion is not None]
    at = shown[0] + 1 if shown else len(rest)
    return [*rest[:at], in_file, *rest[at:]]


def distinct(candidates: list[Candidate]) -> list[Candidate]:
    """Drops the empty ones and all but the first of those with the same text."""
    seen: set[Completion] = set()
    kept = []
    for candidate in candidates:
        if candidate.completion is not None and candidate.completion not in seen:
            seen.add(candidate.completion)
            kept.append(candidate)
    return kept


RANKING: tuple[RankStep, ...] = (surer_prompt_first, distinct)


def rank(candidates: list[Candidate]) -> tuple[Completion, ...]:
    for step in RANKING:
        candidates = step(candidates)
    return tuple(c.completion for c in candidates if c.completion is not None)


async def collect(
    generator: Generator, backend: Backend, plan: Plan, settings: CompletionSettings
) -> tuple[Completion, ...] | None:
    """The ranked answers; None when the backend failed on the main prompt."""
    found: list[Candidate] = []
    for index in range(settings.candidates):
        temperature = settings.temperature
        if index > 0:
            temperature = max(temperature, SAMPLED_TEMPERATURE)
        params = GenerationParams(
            max_tokens=settings.max_tokens,
            temperature=temperature,
            seed=index,
            candidate=index,
            lane=plan.lane,
            avoid_line=line_to_avoid(plan.at, settings),
            cold=settings.deterministic,
        )
        candidate = await _one(generator, backend, plan.prompt, plan, params, settings)
        if candidate is None:
            return None
        found.append(candidate)
        if index == 0:
            greedy = params
    # Only a backend that reports how sure it was can rank the two prompts (the embedded one).
    if plan.alternative is not None and found[0].confidence is not None:
        # Lane 1: the in-file prompt must not evict the typing flow's KV cache in lane 0.
        params = replace(greedy, lane=1)
        candidate = await _one(generator, backend, plan.alternative, plan, params, settings)
        # A failed second prompt (already reported) leaves the first one's answers standing.
        if candidate is not None:
            found.append(replace(candidate, in_file=True))
    return rank(found)


async def _one(
    generator: Generator,
    backend: Backend,
    prompt: Prompt,
    plan: Plan,
    params: GenerationParams,
    settings: CompletionSettings,
) -> Candidate | None:
    """A cleaned-up candidate, or None when the backend failed."""
    at = plan.at if prompt is plan.prompt else replace(plan.at, prefix=prompt.context.prefix)
    rules = stop_rules(at, prompt.format, settings)
    generated = await generator.run(backend, prompt, params, rules)
    if generated is None:
        return None
    completion = clean_up(generated.text, at, generated.hit_limit, settings)
    return Candidate(completion, generated.confidence)

"""Candidates: collect the request's answers (the greedy one, sampled ones for cycling, the
in-file prompt's on an invoked request), clean each up, de-duplicate, rank.

Ranking is a list of steps over the collected candidates; adding one (a check of the names a
candidate uses, say) is one line in RANKING."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from .backends import Backend, GenerationParams
from .backends.guide import MemberMonitor, SortedNames
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
    # Names it uses that exist nowhere (NameCheck): a member its receiver lacks, a function
    # defined nowhere. 0 where nothing could be checked.
    invented: int = 0


class NameCheck(Protocol):
    """Counts the names a candidate invents (symbols.NameCheck: dictionary lookups)."""

    # How many more (sampled) candidates to ask when every one so far invents a name.
    retries: int

    def invented(self, text: str) -> int: ...

    # At a member access on a resolved receiver: its members and the part of one typed.
    def guide(self) -> tuple[frozenset[str], str] | None: ...

    # Where an expression starts, on an invoked request: the names that exist.
    def expression_names(self) -> SortedNames | None: ...

    # On an invoked request: the monitor of every member access the model writes.
    def member_monitor(self) -> MemberMonitor | None: ...


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


def fewer_inventions_first(candidates: list[Candidate]) -> list[Candidate]:
    """A candidate that invents no name goes before one that does, whatever the model's
    confidence: a small model's surest answer is often a method the class does not have."""
    return sorted(candidates, key=lambda c: c.invented > 0)


def distinct(candidates: list[Candidate]) -> list[Candidate]:
    """Drops the empty ones and all but the first of those with the same text."""
    seen: set[Completion] = set()
    kept = []
    for candidate in candidates:
        if candidate.completion is not None and candidate.completion not in seen:
            seen.add(candidate.completion)
            kept.append(candidate)
    return kept


RANKING: tuple[RankStep, ...] = (surer_prompt_first, fewer_inventions_first, distinct)


def rank(candidates: list[Candidate]) -> tuple[Completion, ...]:
    for step in RANKING:
        candidates = step(candidates)
    return tuple(c.completion for c in candidates if c.completion is not None)


async def collect(
    generator: Generator,
    backend: Backend,
    plan: Plan,
    settings: CompletionSettings,
    check: NameCheck | None = None,
    draft: str = "",
) -> tuple[Completion, ...] | None:
    """The ranked answers; None when the backend failed on the main prompt. With a `check`,
    each candidate's invented names are counted, and while every one invents, up to
    `check.retries` sampled ones more are asked. `draft`: what the greedy answer is likely to
    be (GenerationParams.draft)."""
    found: list[Candidate] = []
    guided = check.guide() if check is not None else None
    members, typed = guided if guided is not None else (frozenset[str](), "")
    known = check.expression_names() if check is not None and guided is None else None
    monitor = check.member_monitor() if check is not None else None
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
            members=members,
            member_typed=typed,
            known_names=known,
            member_monitor=monitor,
            draft=draft if index == 0 else "",
        )
        candidate = await _one(generator, backend, plan.prompt, plan, params, settings, check)
        if candidate is None:
            return None
        found.append(candidate)
        if index == 0:
            greedy = params
    # Only a backend that reports how sure it was can rank the two prompts (the embedded one).
    if plan.alternative is not None and found[0].confidence is not None:
        # Lane 1: the in-file prompt must not evict the typing flow's KV cache in lane 0.
        params = replace(greedy, lane=1)
        candidate = await _one(generator, backend, plan.alternative, plan, params, settings, check)
        # A failed second prompt (already reported) leaves the first one's answers standing.
        if candidate is not None:
            found.append(replace(candidate, in_file=True))
    if check is not None:
        await _until_one_invents_nothing(generator, backend, plan, greedy, settings, check, found)
    return rank(found)


async def _until_one_invents_nothing(
    generator: Generator,
    backend: Backend,
    plan: Plan,
    greedy: GenerationParams,
    settings: CompletionSettings,
    check: NameCheck,
    found: list[Candidate],
) -> None:
    """Sampled candidates, up to `check.retries`, while every answer so far invents a name: the
    check then has one to put first. Nothing more is asked where one invents nothing."""
    shown = [c for c in found if c.completion is not None]
    if not shown or any(c.invented == 0 for c in shown):
        return
    for index in range(settings.candidates, settings.candidates + check.retries):
        temperature = max(settings.temperature, SAMPLED_TEMPERATURE)
        params = replace(greedy, temperature=temperature, seed=index, candidate=index)
        candidate = await _one(generator, backend, plan.prompt, plan, params, settings, check)
        if candidate is None:
            return
        found.append(candidate)
        if candidate.completion is not None and candidate.invented == 0:
            return


async def _one(
    generator: Generator,
    backend: Backend,
    prompt: Prompt,
    plan: Plan,
    params: GenerationParams,
    settings: CompletionSettings,
    check: NameCheck | None = None,
) -> Candidate | None:
    """A cleaned-up candidate, or None when the backend failed."""
    at = plan.at if prompt is plan.prompt else replace(plan.at, prefix=prompt.context.prefix)
    rules = stop_rules(at, prompt.format, settings)
    generated = await generator.run(backend, prompt, params, rules)
    if generated is None:
        return None
    completion = clean_up(generated.text, at, generated.hit_limit, settings)
    invented = 0 if check is None or completion is None else check.invented(completion.text)
    return Candidate(completion, generated.confidence, invented=invented)

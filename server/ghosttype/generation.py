"""One generation: the backend's stream, stopped early by the stop rules, with what it cost
counted in the stats and how sure the model was of the text kept."""

from __future__ import annotations

from dataclasses import dataclass

from .backend_host import BackendHost
from .backends import Backend, BackendError, GenerationParams, Usage
from .postprocess import StopRule, first_cut
from .prompts import Prompt, strip_special
from .stats import Stats


@dataclass(frozen=True)
class Generated:
    text: str  # stopped at the first cut a rule made, special tokens removed
    hit_limit: bool  # the token limit ended it, not a rule or the model
    # The mean log-probability of the tokens kept, where the backend reports them.
    confidence: float | None


class Generator:
    def __init__(self, host: BackendHost, stats: Stats):
        self.host = host
        self.stats = stats
        self._cancelled: list[Usage] = []

    async def run(
        self, backend: Backend, prompt: Prompt, params: GenerationParams, rules: list[StopRule]
    ) -> Generated | None:
        """None when the backend failed (the host has told the client and started a pause)."""
        self.fold_waste()
        usage = Usage()
        text = ""
        self.stats.model_calls += 1
        stream = self.host.generate(backend, prompt, params, usage)
        scored = [(0, 0.0, 0)]  # after each piece: (text length, log-probability, tokens)
        finished = False
        try:
            async for piece in stream:
                text += piece
                scored.append((len(text), usage.logprob, usage.scored_tokens))
                cut = first_cut(rules, text)
                if cut is not None:
                    text = text[:cut]
                    break
            finished = True
        except BackendError:
            self.stats.errors += 1
            return None
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            self.stats.generated_tokens += usage.generated_tokens
            self.stats.prompt_tokens += usage.prompt_tokens
            self.stats.drafted_tokens += usage.drafted_tokens
            self.stats.accepted_tokens += usage.accepted_tokens
            if finished:
                self.stats.evaluated_tokens += usage.evaluated_tokens
            else:  # the backend may still be evaluating its last batch: counted when done
                self._cancelled.append(usage)
        cut = first_cut(rules, text)
        hit_limit = cut is None and usage.generated_tokens >= params.max_tokens
        kept = text if cut is None else text[:cut]
        # The pieces wholly inside the kept text: one the cut went through (the newline ending a
        # line) was the model choosing to stop there, not the completion.
        _, logprob, tokens = [point for point in scored if point[0] <= len(kept)][-1]
        confidence = logprob / tokens if tokens else None
        return Generated(strip_special(kept, prompt.format), hit_limit, confidence)

    def fold_waste(self) -> None:
        """What cancelled requests cost: tokens produced after the cancellation, and the prompt
        tokens evaluated; counted once the backend has finished with them (the embedded model's
        worker stops within one token or one batch)."""
        for usage in self._cancelled:
            self.stats.wasted_tokens += usage.wasted_tokens
            self.stats.evaluated_tokens += usage.evaluated_tokens
        self._cancelled.clear()

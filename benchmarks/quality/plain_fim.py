"""The baseline: the same model file with a plain file-level FIM prompt, greedy, no
post-processing.

    <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>

Windows follow ghosttype's default split of the 1,024-token budget (context/__init__.py and
context/windows.py at the time of writing): 16 tokens kept for the template, a suffix of whole
lines (at most 12 after the cursor's line) within min(64, 15% of the rest) tokens, and a prefix of
whole lines within what remains of that split, counted with the model's own tokenizer. User text is
tokenized with special-token parsing off; only the three markers are special."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUDGET = 1024
TEMPLATE_TOKENS = 16
SUFFIX_SHARE = 0.15
SUFFIX_MAX_TOKENS = 64
SUFFIX_MAX_LINES = 12
MAX_TOKENS = 128
STOP_TOKENS = {151643, 151645, 151659, 151660, 151661, 151662, 151663, 151664}


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    seconds: float


class PlainFim:
    def __init__(self, model_path: Path, threads: int = 1):
        from llama_cpp import Llama

        self.llm: Any = Llama(
            model_path=str(model_path), n_ctx=2048, n_threads=threads, verbose=False
        )
        self._markers = {
            name: self.llm.tokenize(f"<|fim_{name}|>".encode(), add_bos=False, special=True)
            for name in ("prefix", "suffix", "middle")
        }
        for name, ids in self._markers.items():
            assert len(ids) == 1, f"<|fim_{name}|> is not one special token: {ids}"

    def tokens(self, text: str) -> list[int]:
        if not text:
            return []
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def suffix_window(self, suffix: str) -> list[int]:
        budget = min(SUFFIX_MAX_TOKENS, int((BUDGET - TEMPLATE_TOKENS) * SUFFIX_SHARE))
        lines = suffix.splitlines(keepends=True)
        kept = self.tokens(lines[0]) if lines else []
        if len(kept) > budget:  # the cursor's own line alone is too long
            return kept[:budget]
        for count in range(2, min(len(lines), SUFFIX_MAX_LINES + 1) + 1):
            candidate = self.tokens("".join(lines[:count]))
            if len(candidate) > budget:
                break
            kept = candidate
        return kept

    def prefix_window(self, prefix: str, budget: int) -> list[int]:
        """Whole lines before the cursor (the cursor's line always) within `budget` tokens."""
        lines = prefix.splitlines(keepends=True)
        if prefix.endswith("\n") or not lines:
            lines.append("")  # the cursor's (empty) line
        start, used = len(lines) - 1, len(self.tokens(lines[-1]))
        while start > 0:
            cost = len(self.tokens(lines[start - 1]))
            if used + cost > budget:
                break
            used += cost
            start -= 1
        kept = self.tokens("".join(lines[start:]))
        while len(kept) > budget and start < len(lines) - 1:  # merges across lines can differ
            start += 1
            kept = self.tokens("".join(lines[start:]))
        return kept[-budget:]

    def prompt(self, prefix: str, suffix: str) -> list[int]:
        budget = BUDGET - TEMPLATE_TOKENS
        suffix_budget = min(SUFFIX_MAX_TOKENS, int(budget * SUFFIX_SHARE))
        suffix_ids = self.suffix_window(suffix)
        prefix_ids = self.prefix_window(prefix, budget - suffix_budget)
        m = self._markers
        return [*m["prefix"], *prefix_ids, *m["suffix"], *suffix_ids, *m["middle"]]

    def complete(self, prefix: str, suffix: str, first_line_only: bool) -> Generation:
        started = time.monotonic()
        prompt = self.prompt(prefix, suffix)
        out: list[int] = []
        text = ""
        for token in self.llm.generate(
            prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0
        ):
            if token in STOP_TOKENS or token == self.llm.token_eos():
                break
            out.append(token)
            text = self.llm.detokenize(out, special=False).decode("utf-8", errors="ignore")
            if len(out) >= MAX_TOKENS or (first_line_only and "\n" in text):
                break
        if first_line_only:
            text = text.split("\n", 1)[0]  # the first line; stopping at it changes nothing
        return Generation(text, len(prompt), time.monotonic() - started)

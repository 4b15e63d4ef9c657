"""A backend that plays back a script: deterministic tokens, delays and errors for tests and
benchmarks (no model). The script is a JSON file named by `backend.script`:

    {
      "delayMs": 0,            # before the first token of every generation
      "tokenDelayMs": 0,       # between tokens
      "rules": [               # the first rule that matches the text before the cursor wins
        {"endsWith": "x = ", "text": "compute(1, 2)"},
        {"regex": "def \\w+\\($", "tokens": ["a", ", b", "):"]},
        {"endsWith": "y = ", "candidates": ["1", "2", "3"]},
        {"endsWith": "boom", "error": "the scripted server failed"}
      ],
      "default": {"text": ""}  # when no rule matches (optional)
    }

`text` is streamed in pieces of up to four characters (one "token" each); `tokens` gives the pieces
explicitly; `candidates` gives one text per candidate index. A rule may override the delays.
`regex` is searched in the line before the cursor. `"otherFiles": true` (or false) makes a rule
match only prompts with (or without) other files' snippets; `"logprob": -0.5` reports that
log-probability for every token (or a list, one a token: how sure a model was; none reported
without it).

Chat prompts (code actions) follow `"chat"`: a list of rules, the first whose `contains` is in
the messages (not the model's own) wins; `"answers"` are given in turn to the calls that rule matches (the
last one again after that), or `"text"` every time; `"error"` fails the call. Each chat call's
messages are kept in `chats` (what the tests assert was sent).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from ..config import BackendSettings
from ..prompts import Prompt, pick_format
from ..prompts.chatml import ChatMessage
from ..tokens import estimate_tokens
from .base import BackendError, GenerationParams, Progress, Usage


def split_tokens(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def read_script(name: str) -> dict[str, Any]:
    path = Path(name).expanduser()
    try:
        script = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackendError(f"cannot read the script {path}: {error}") from None
    if not isinstance(script, dict):
        raise BackendError(f"the script {path} must be a JSON object")
    return script


class ScriptedBackend:
    def __init__(self, settings: BackendSettings):
        self.settings = settings
        self.name = f"scripted:{settings.script or '(no script)'}"
        self.prompt_format = pick_format(settings.prompt_format, settings.model)
        self.script: dict[str, Any] = {}
        self.calls = 0
        self.chats: list[list[ChatMessage]] = []
        self._chat_calls: dict[int, int] = {}  # per chat rule: the calls it answered

    async def start(self, progress: Progress) -> None:
        if not self.settings.script:
            raise BackendError(
                "backend.kind is 'scripted' but backend.script names no file",
                "set backend.script to a JSON script",
            )
        self.script = await asyncio.to_thread(read_script, self.settings.script)

    def count_tokens(self, text: str) -> int | None:
        return None

    def _rule(self, prompt: Prompt) -> dict[str, Any]:
        prefix = prompt.context.prefix
        line = prefix[prefix.rfind("\n") + 1 :]
        others = prompt.context.has_other_files
        for rule in self.script.get("rules", []):
            if rule.get("otherFiles", others) != others:
                continue
            if "endsWith" in rule and prefix.endswith(rule["endsWith"]):
                return dict(rule)
            if "regex" in rule and re.search(rule["regex"], line):
                return dict(rule)
        return dict(self.script.get("default", {}))

    async def generate(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        self.calls += 1
        rule = self._rule(prompt)
        usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(
            "".join(s.text for s in prompt.segments)
        )
        token_delay = await self._start_rule(rule)
        if "tokens" in rule:
            tokens = list(rule["tokens"])
        elif "candidates" in rule:
            candidates = rule["candidates"]
            tokens = split_tokens(candidates[params.candidate % len(candidates)])
        else:
            tokens = split_tokens(rule.get("text", ""))
        for index, token in enumerate(tokens[: params.max_tokens]):
            if index and token_delay:
                await asyncio.sleep(token_delay)
            usage.generated_tokens += 1
            if "logprob" in rule:
                logprob = rule["logprob"]
                usage.logprob += float(logprob[index] if isinstance(logprob, list) else logprob)
                usage.scored_tokens += 1
            yield token

    async def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        self.chats.append(list(messages))
        asked = "\n".join(m.content for m in messages if m.role != "assistant")
        rules: list[dict[str, Any]] = self.script.get("chat", [])
        empty: dict[str, Any] = {}
        index, rule = next(
            ((i, r) for i, r in enumerate(rules) if str(r.get("contains", "")) in asked),
            (-1, empty),
        )
        usage.prompt_tokens = usage.evaluated_tokens = estimate_tokens(
            "".join(m.content for m in messages)
        )
        token_delay = await self._start_rule(rule)
        calls = self._chat_calls[index] = self._chat_calls.get(index, 0) + 1
        answers = rule.get("answers")
        text = answers[min(calls, len(answers)) - 1] if answers else rule.get("text", "")
        for position, token in enumerate(split_tokens(str(text))[: params.max_tokens]):
            if position and token_delay:
                await asyncio.sleep(token_delay)
            usage.generated_tokens += 1
            yield token

    async def _start_rule(self, rule: dict[str, Any]) -> float:
        """Waits the rule's delay and raises its error; the delay between its tokens (seconds)."""
        delay = rule.get("delayMs", self.script.get("delayMs", 0)) / 1000
        if delay:
            await asyncio.sleep(delay)
        if "error" in rule:
            raise BackendError(str(rule["error"]))
        return float(rule.get("tokenDelayMs", self.script.get("tokenDelayMs", 0))) / 1000

    async def check(self) -> list[str]:
        rules = len(self.script.get("rules", []))
        return [f"scripted backend: {self.settings.script} ({rules} rules)"]

    async def close(self) -> None:
        return None


def create(settings: BackendSettings) -> ScriptedBackend:
    return ScriptedBackend(settings)

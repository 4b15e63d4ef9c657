"""`ghosttype serve` with one extra command, `ghosttype.bench.raw` (arguments: [true|"line"|false]), that
turns ghosttype's post-processing off and on: while off, generation stops only at the format's
special tokens (no single-line, block-end, suffix or repetition stops) and the finaliser returns
the raw text unchanged ("line": also stop at the first newline, for tasks scored on the first
line only; the first line is the same either way). Context, prompt, backend and the indentation hand-off between prompt and
completion stay as they are, so the difference between the two modes is post-processing alone.

Raw also means no steering away from a first line that repeats the code after a blank line (the
embedded backend's re-sampling; see ARCHITECTURE.md): that is post-processing done while sampling.

The server has no such setting yet; this launcher patches it in from outside, only for the
benchmark. With the switch off (the default) every patched function delegates to the original,
so the server behaves as `ghosttype serve`, except for one thing in both modes: every prompt is
evaluated from an empty KV cache, in the same batches. Reusing the cache is a latency feature, and
llama.cpp's numerics differ slightly with how a prompt was split into batches, so the same prompt
could come out differently in the two modes (seen in session 3); cold, it cannot.

Run: python -m benchmarks.quality.raw_serve [serve options]
"""

from __future__ import annotations

import sys
from typing import Any

from ghosttype import engine as _engine
from ghosttype.backends import embedded as _embedded
from ghosttype.lsp import server as _server
from ghosttype.postprocess import Completion

RAW_COMMAND = "ghosttype.bench.raw"
_state: dict[str, bool | str] = {"raw": False}  # False | True | "line"

_original_rules = _engine.Engine._stop_rules
_original_finalize = _engine.finalize
_original_create = _server.create_server
_original_avoid = _engine._line_after_blank


def _first_newline(text: str) -> int | None:
    index = text.find("\n")
    return None if index == -1 else index


def _stop_rules(self: Any, plan: Any) -> Any:
    if _state["raw"]:
        rules = [_engine._stop_strings(plan.prompt.format.special_tokens)]
        if _state["raw"] == "line":  # the benchmark keeps the first line: no need to go on
            rules.append(_first_newline)
        return rules
    return _original_rules(self, plan)


def _finalize(raw: str, cursor: Any, suffix: str) -> Any:
    if _state["raw"]:
        return Completion(raw) if raw else None
    return _original_finalize(raw, cursor, suffix)


def _line_after_blank(cursor: Any) -> str:
    return "" if _state["raw"] else _original_avoid(cursor)


def _cold(llm: Any, tokens: list[int]) -> int:
    llm.reset()
    return 0


def _create_server(*args: Any, **kwargs: Any) -> Any:
    server = _original_create(*args, **kwargs)

    @server.command(RAW_COMMAND)
    def raw(ls: Any, *arguments: Any) -> bool | str:
        value = arguments[0] if arguments else False
        if isinstance(value, list):  # pygls versions differ in how they pass the arguments
            value = value[0] if value else False
        _state["raw"] = value if value == "line" else bool(value)
        engine = ls.engine
        if engine is not None:  # nothing computed in the other mode may be served in this one
            engine._cache.clear()
            engine._shown.clear()
            engine._cancel_prefetch()
        return _state["raw"]

    return server


_engine.Engine._stop_rules = _stop_rules  # type: ignore[method-assign]
_engine.finalize = _finalize  # type: ignore[assignment]
_server.create_server = _create_server
_engine._line_after_blank = _line_after_blank
# Assigning a name the module no longer has would patch nothing, silently (session 10 moved it).
assert callable(getattr(_embedded, "_reuse_prefix", None)), "embedded._reuse_prefix moved"
_embedded._reuse_prefix = _cold


def main() -> int:
    from ghosttype.cli import main as cli_main

    result = cli_main(["serve", *sys.argv[1:]])
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

"""Typing while a code action runs (issue 29: "while an action runs, ghost text keeps its latency
targets: report typing p50 with an action running").

Through the real `ghosttype serve` in the default configuration (the cascade: the 0.5B answers
typing, the 1.5B answers pauses and serves the actions), latency.py's typist types lines back at
places in real files (CPython's json package: decoder.py, encoder.py, __init__.py; up to 11
places a half), alternately with no action and while Generate tests runs on a function of another
file (a copy of colorsys, as `colors.py`), started with `codeAction/resolve` as VS Code's client
sends it, started again whenever it ends and cancelled when the place is typed, so an action runs the whole time the typist types there (its model
work, and its pytest runs in the sandbox). One server; the halves alternate place by place, so
neither gets the warm-up or the machine's quieter minutes to itself, and every place is typed
once (a place typed again would be served from the caches).

Reported for each half: typing pauses (last keystroke -> ghost text; latency.py's headline
figure) p50 and p95, every keystroke's reply p50, and for the second half the actions run (how
many, how long, how they ended) and the share of the typing time an action was in flight.

    PYTHONPATH=server .venv/bin/python benchmarks/action_typing.py [--sites 4] [--seed 3]
        [--scripted]   (the scripted backend: the plumbing only, no model; no figure to report)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from latency import (  # the benchmarks folder is no package
    STDLIB,
    LspClient,
    RunResult,
    copy_package,
    embedded_config,
    open_document,
    pct,
    pick_sites,
    start_client,
    type_sites,
)

ACTION_TARGET = "def rgb_to_hls("
ACTION_LIMIT_S = 900.0


# The json package's files typed into (one file gives only about 7 places 40 lines apart).
TYPED_FILES = ("decoder.py", "encoder.py", "__init__.py")


def workspace(scratch: Path) -> tuple[Path, list[Path], Path]:
    """A project with pytest: the json package (typed into) and colors.py (tested)."""
    root = scratch / "project"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    colors = root / "colors.py"
    colors.write_text((STDLIB / "colorsys.py").read_text(encoding="utf-8"))
    package = copy_package(STDLIB / "json", root, "json")
    return root, [package / name for name in TYPED_FILES], colors


def scripted_config(scratch: Path) -> Path:
    """No model: completions and the action's tests come from a script, slowly enough that the
    action runs for a while."""
    tests = "from colors import rgb_to_hls\n\n\ndef test_grey():\n"
    tests += "    assert rgb_to_hls(0.5, 0.5, 0.5) == (0.0, 0.5, 0.0)\n"
    script = scratch / "script.json"
    script.write_text(
        json.dumps(
            {
                "default": {"text": "self._apply(value)"},
                "chat": [{"contains": "unit tests", "text": f"```python\n{tests}```\n"}],
                "tokenDelayMs": 20,
            }
        )
    )
    config = scratch / "ghosttype.toml"
    config.write_text(f'[backend]\nkind = "scripted"\nscript = "{script}"\n')
    return config


class ActionLoop:
    """Generate tests, again and again, until stopped (the running one is cancelled then)."""

    def __init__(self, client: LspClient, data: dict[str, Any]):
        self.client = client
        self.data = data
        self.runs: list[dict[str, Any]] = []
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self.stopping.set()
        if self.task is not None:
            await self.task

    async def _loop(self) -> None:
        action = {"title": "ghosttype: Generate tests", "kind": "refactor", "data": self.data}
        while not self.stopping.is_set():
            started = time.perf_counter()
            request_id, future = self.client.request("codeAction/resolve", action)
            stop = asyncio.create_task(self.stopping.wait())
            await asyncio.wait(
                {future, stop}, timeout=ACTION_LIMIT_S, return_when="FIRST_COMPLETED"
            )
            stop.cancel()
            if not future.done():
                self.client.notify("$/cancelRequest", {"id": request_id})
                await asyncio.wait({future}, timeout=30)
            ended = time.perf_counter()
            outcome = "cancelled at the end"
            if future.done():
                _, reply = future.result()
                if "error" in reply:
                    if not self.stopping.is_set():
                        outcome = f"error: {reply['error'].get('message', '')}"
                else:
                    outcome = "an edit" if (reply.get("result") or {}).get("edit") else "no edit"
            self.runs.append({"started": started, "ended": ended, "outcome": outcome})


async def type_half(
    client: LspClient, result: RunResult, typed: Path, sites: Any, args: argparse.Namespace
) -> tuple[float, float]:
    text = await asyncio.to_thread(typed.read_text, encoding="utf-8")
    # The typist does not hold still for the pause model at the end of each place ("off" here
    # says only that): the action would get the machine to itself then.
    how = argparse.Namespace(verbose=args.verbose, pause="off")
    started = time.perf_counter()
    await type_sites(client, result, typed, text, sites, random.Random(args.seed), how, False)
    client.notify("textDocument/didClose", {"textDocument": {"uri": typed.as_uri()}})
    return started, time.perf_counter()


def figures(result: RunResult) -> dict[str, Any]:
    pauses = [p.latency_ms for p in result.pauses if p.latency_ms is not None]
    return {
        "pauses": len(result.pauses),
        "pausesWithGhost": len(pauses),
        "pauseMsP50": pct(pauses, 0.5),
        "pauseMsP95": pct(pauses, 0.95),
        "keystrokeReplyMsP50": pct(result.keystroke_ms, 0.5),
        "keystrokes": result.keystrokes,
    }


def in_flight_share(runs: list[dict[str, Any]], spans: list[tuple[float, float]]) -> float:
    typing = sum(end - start for start, end in spans)
    covered = sum(
        max(0.0, min(r["ended"], end) - max(r["started"], start))
        for r in runs
        for start, end in spans
    )
    return covered / typing if typing > 0 else 0.0


async def main_async(args: argparse.Namespace) -> None:
    load_start = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="ghosttype-action-typing-"))
    try:
        root, typed_files, colors = workspace(scratch)
        config = scripted_config(scratch) if args.scripted else embedded_config(scratch)
        client = await start_client(config, root, scratch)
        try:
            source = colors.read_text(encoding="utf-8")
            open_document(client, colors.as_uri(), source)
            at = source.index(ACTION_TARGET) + 4
            data = {"action": "tests", "uri": colors.as_uri(), "start": at, "end": at}
            rng = random.Random(args.seed)
            places = [
                (typed, site)
                for typed in typed_files
                for site in pick_sites(typed.read_text(encoding="utf-8"), 99, rng, (2, 3))
            ][: 2 * args.sites]
            quiet, busy = RunResult("no action"), RunResult("action running")
            runs: list[dict[str, Any]] = []
            spans = []
            for (quiet_file, quiet_site), (busy_file, site) in zip(
                places[::2], places[1::2], strict=False
            ):
                await type_half(client, quiet, quiet_file, [quiet_site], args)
                loop = ActionLoop(client, data)
                loop.start()
                spans.append(await type_half(client, busy, busy_file, [site], args))
                await loop.stop()
                runs += loop.runs
        finally:
            await client.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    halves = {"noAction": figures(quiet), "actionRunning": figures(busy)}
    summary: dict[str, Any] = {
        "command": " ".join(["benchmarks/action_typing.py", *sys.argv[1:]]),
        "backend": "scripted" if args.scripted else "embedded (default cascade)",
        "loadStart": [round(x, 2) for x in load_start],
        "loadEnd": [round(x, 2) for x in os.getloadavg()],
        **halves,
        "actions": {
            "runs": len(runs),
            "seconds": [round(r["ended"] - r["started"], 1) for r in runs],
            "outcomes": [r["outcome"] for r in runs],
            "inFlightShareOfTyping": round(in_flight_share(runs, spans), 3),
        },
    }
    for name, shown in halves.items():
        print(
            f"{name}: typing pauses p50 {shown['pauseMsP50']} ms, p95 {shown['pauseMsP95']} ms "
            f"({shown['pausesWithGhost']} of {shown['pauses']} with ghost text); keystroke reply "
            f"p50 {shown['keystrokeReplyMsP50']} ms ({shown['keystrokes']} keystrokes)"
        )
    print(json.dumps(summary, indent=2, default=str))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=4, help="places typed at, in each half")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--scripted", action="store_true", help="no model: the plumbing only")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every pause")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()

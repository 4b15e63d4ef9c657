"""The first ghost text at a place the model's KV cache does not hold: what a person meets most.

Real code nobody here wrote (the files of `latency.py`'s embedded run, their packages as the
workspace, the files open in the editor). Sites are lines inside function bodies, emptied to their
indentation when the files are opened; at a site the person types the first three characters of
the real line, 80 ms apart, a request per keystroke (cancelling the previous one), and the figure is
the last keystroke -> the reply. Two cases:

  opened  the file was just opened (didClose, didOpen), the cursor put on the site (with the
          ghosttype/didMoveCursor notification both clients send), about a second of looking,
          then the typing;
  jump    inside files already open, no cue but the first keystroke (no notification).

Between sites the person reads the suggestion for 1.5 s. The same states are then recomputed the
naive way in the same run (latency.run_naive: the full prompt from an empty KV cache). The server's
CPU time is read from /proc while typing and over an idle spell after the last site.

With --busy (the cascade) the 1.5B is in the middle of an answer when each new place starts: after
reading, the person invokes completion at the site (the 1.5B answers invoked requests) and moves
on BUSY_S later, the client cancelling that request as editors do when the cursor leaves.

    .venv/bin/python benchmarks/latency.py --runs newplace,naive [--quick] [--busy]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import (
    EMBEDDED_FILES,
    Editor,
    LspClient,
    PauseRecord,
    RunResult,
    copy_package,
    embedded_config,
    open_document,
    pick_sites,
    reply_of,
    site_packages,
    start_client,
)

KEY_GAP_S = 0.08
LOOK_S = 1.0  # after opening, before typing
READ_S = 1.5  # reading the suggestion before the next site
BUSY_S = 0.6  # --busy: from invoking completion to moving on (the 1.5B mid-prefill)
IDLE_S = 30.0  # the idle spell whose CPU time is measured


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workspace_files(scratch: Path) -> tuple[Path, list[tuple[Path, list[Path]]]]:
    workspace = scratch / "ws-newplace"
    workspace.mkdir()
    targets = []
    for folder, name in EMBEDDED_FILES:
        if folder is not None:
            target = copy_package(folder, workspace, folder.name) / name
        else:
            package, file_name = name.split("/")
            target = copy_package(site_packages() / package, workspace, package) / file_name
        siblings = sorted(p for p in target.parent.glob("*.py") if p != target)[:3]
        targets.append((target, siblings))
    return workspace, targets


async def run_new_place(args: argparse.Namespace, scratch: Path) -> RunResult:
    result = RunResult("newplace")
    workspace, targets = workspace_files(scratch)
    client = await start_client(
        embedded_config(scratch, args.threads, args.pause), workspace, scratch
    )
    rng = random.Random(args.seed)
    opened_count, jump_count = (3, 8) if args.quick else (8, 40)
    editors: list[tuple[Editor, list[str], list[int], str]] = []
    try:
        for target, siblings in targets:
            for path in siblings:
                open_document(client, path.as_uri(), path.read_text(encoding="utf-8"))
            lines = target.read_text(encoding="utf-8").split("\n")
            sites = [s.line for s in pick_sites("\n".join(lines), 40, rng, (1, 1), spacing=12)]
            real = list(lines)
            for number in sites:  # emptied to its indentation: the line to type at the site
                lines[number] = lines[number][: len(lines[number]) - len(lines[number].lstrip())]
            text = "\n".join(lines)
            open_document(client, target.as_uri(), text)
            label = f"{target.parent.name}/{target.name}"
            editors.append((Editor(client, target.as_uri(), text, 0), real, sites, label))
        await asyncio.sleep(5)  # the opens' warm-up done: the runs start from a settled server
        plan = [("opened", i % len(editors)) for i in range(opened_count)]
        plan += [("jump", rng.randrange(len(editors))) for _ in range(jump_count)]
        if args.busy:
            result.extra["busy_cancelled"] = 0
        cpu_start, wall_start = cpu_seconds(client.process.pid), time.perf_counter()
        for where, index in plan:
            editor, real, sites, label = editors[index]
            if not sites:
                continue
            number = sites.pop(rng.randrange(len(sites)))
            await type_at(client, editor, real, number, where, label, result, args)
            await asyncio.sleep(READ_S)
            if args.busy:  # invoked there; the cursor leaves while the 1.5B answers
                editor.ask(trigger=1)
                await asyncio.sleep(BUSY_S)
                if editor.pending is not None and not editor.pending[1].done():
                    client.notify("$/cancelRequest", {"id": editor.pending[0]})
                    result.extra["busy_cancelled"] += 1
        typing_cpu = cpu_seconds(client.process.pid) - cpu_start
        typing_wall = time.perf_counter() - wall_start
        await asyncio.sleep(10)  # the last growth ends
        idle_start = cpu_seconds(client.process.pid)
        await asyncio.sleep(IDLE_S)
        idle_cpu = cpu_seconds(client.process.pid) - idle_start
        result.stats = await client.stats()
        result.extra.update(
            cpu_s_per_typing_minute=round(60 * typing_cpu / typing_wall, 1),
            cpu_s_per_idle_minute=round(60 * idle_cpu / IDLE_S, 2),
            workspace=str(workspace),
            open_documents={
                str(t.relative_to(workspace)): [str(s.relative_to(workspace)) for s in sib]
                for t, sib in targets
            },
        )
    finally:
        await client.close()
    return result


async def type_at(
    client: LspClient,
    editor: Editor,
    real: list[str],
    number: int,
    where: str,
    label: str,
    result: RunResult,
    args: argparse.Namespace,
) -> None:
    """Puts the cursor at the end of the emptied line `number` and types three characters of
    the real line there; records the last keystroke's reply."""
    lines = editor.text.split("\n")
    editor.move(sum(len(line) + 1 for line in lines[:number]) + len(lines[number]))
    if where == "opened":
        client.notify("textDocument/didClose", {"textDocument": {"uri": editor.uri}})
        open_document(client, editor.uri, editor.text)
        editor.version = 1
        client.notify(
            "ghosttype/didMoveCursor",
            {"textDocument": {"uri": editor.uri}, "position": editor.position()},
        )
        await asyncio.sleep(LOOK_S)
    before = await client.stats()
    content = real[number].lstrip()
    future: asyncio.Future[Any] | None = None
    sent = 0.0
    for index, char in enumerate(content[:3]):
        if index:
            await asyncio.sleep(KEY_GAP_S)
        editor.insert(char)
        future, sent = editor.ask()
    assert future is not None
    try:
        ms, ghost = await reply_of(future, sent, 60)
    except TimeoutError:
        ms, ghost = 60_000.0, ""
    after = await client.stats()
    evaluated = after["evaluatedPromptTokens"] - before["evaluatedPromptTokens"]
    result.extra.setdefault("reply_ms", []).append(ms)
    result.extra.setdefault("evaluated", []).append(evaluated)
    result.cold_ms.append(ms)
    result.pauses.append(
        PauseRecord(
            "newplace",
            label,
            where,
            ms if ghost else None,
            ghost,
            after["modelCalls"] - before["modelCalls"],
            bool(ghost) and ghost.split("\n", 1)[0].rstrip() == content[3:].rstrip(),
            editor.text,
            editor.offset,
            editor.uri,
            content[3:],
        )
    )
    if args.verbose:
        print(
            f"  [newplace] {where:6} {label}:{number + 1}: {ms:.0f} ms, {evaluated} tokens "
            f"evaluated, {ghost[:40]!r}",
            flush=True,
        )


def _pct(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None


def summarize_new_place(result: RunResult, naive: RunResult | None) -> dict[str, Any]:
    by_case: dict[str, Any] = {}
    for case in ("opened", "jump"):
        pauses = [p for p in result.pauses if p.where == case]
        times = [p.latency_ms for p in pauses if p.latency_ms is not None]
        by_case[case] = {
            "places": len(pauses),
            "withGhost": len(times),
            "p50": _pct(times, 0.5),
            "p90": _pct(times, 0.9),
            "right": sum(p.right for p in pauses),
        }
    stats = result.stats
    summary: dict[str, Any] = {
        **by_case,
        "evaluatedP50": _pct(result.extra.get("evaluated", []), 0.5),
        "firstAnswers": stats.get("firstAnswers"),
        "grown": stats.get("grown"),
        "grownDiffers": stats.get("grownDiffers"),
        "cpuPerTypingMinute": result.extra.get("cpu_s_per_typing_minute"),
        "cpuPerIdleMinute": result.extra.get("cpu_s_per_idle_minute"),
        # --busy: places reached while the 1.5B was answering an invoked request (cancelled then)
        "busyCancelled": result.extra.get("busy_cancelled"),
    }
    if naive is not None and naive.keystroke_ms:
        ours = [p.latency_ms for p in result.pauses if p.latency_ms is not None]
        summary["naiveP50"] = _pct(naive.keystroke_ms, 0.5)
        summary["naiveSameP50"] = _pct(naive.extra.get("same_ms", []), 0.5)
        summary["naivePairs"] = len(naive.keystroke_ms)
        summary["speedup"] = (summary["naiveP50"] / _pct(ours, 0.5)) if ours else None
        # The same states: how often the shown ghost text, and the full prompt's raw answer, is
        # the file's own line (the short prompt's cost in quality, where it answered).
        naive_right = naive.extra.get("right", [])
        # run_naive replays the states with ghost text in order: the same states.
        replayed = [p for p in result.pauses if p.latency_ms is not None][: len(naive_right)]
        summary["rightShown"] = sum(p.right for p in replayed)
        summary["rightFull"] = sum(naive_right)
    return summary


def new_place_rows(s: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    rows: list[tuple[str, str, str, bool | None]] = []
    busy = "" if s.get("busyCancelled") is None else ", the 1.5B mid-answer"
    for case, name in (("opened", "a file just opened"), ("jump", "a jump, no cue")):
        name += busy
        c = s[case]
        met = c["p50"] is not None and c["p50"] <= 1000 and (c["p90"] or 1e9) <= 2000
        rows.append(
            (
                f"new place, {name}: last keystroke -> ghost text p50 / p90",
                f"{ms(c['p50'])} / {ms(c['p90'])} ms ({c['withGhost']} of {c['places']} with ghost"
                f" text, {c['right']} the file's own line)",
                "<= 1000 / 2000 ms",
                met if c["places"] else None,
            )
        )
    rows.append(
        ("new place: prompt tokens evaluated per place, p50", ms(s["evaluatedP50"]), "", None)
    )
    if s.get("naiveP50") is not None:
        speedup = s["speedup"]
        rows.append(
            (
                "new place: naive (full prompt, empty KV cache) p50, same states",
                f"{ms(s['naiveP50'])} ms ({s['naivePairs']} states; stopped at the same text "
                f"{ms(s['naiveSameP50'])} ms)",
                "",
                None,
            )
        )
        rows.append(
            (
                "new place: the file's own line: shown / the full prompt's answer, same states",
                f"{s['rightShown']} / {s['rightFull']} of {s['naivePairs']}",
                "",
                None,
            )
        )
        rows.append(
            (
                "new place: naive / ghosttype, medians",
                "-" if speedup is None else f"{speedup:.1f}x",
                ">= 4x",
                speedup is not None and speedup >= 4,
            )
        )
    rows.append(
        (
            "new place: first answers from the short prompt / full prompts grown / differing",
            f"{s['firstAnswers']} / {s['grown']} / {s['grownDiffers']}",
            "",
            None,
        )
    )
    if s.get("busyCancelled") is not None:
        rows.append(
            (
                "new place: places reached while the 1.5B's invoked answer was still running",
                str(s["busyCancelled"]),
                "",
                None,
            )
        )
    rows.append(
        (
            "server CPU seconds per minute: typing new places / idle",
            f"{s['cpuPerTypingMinute']} / {s['cpuPerIdleMinute']}",
            "idle ~0",
            None,
        )
    )
    return rows


__all__ = ["new_place_rows", "run_new_place", "summarize_new_place"]

"""Soak (issue 28, part 4): 50 open documents, 10,000 completion requests with realistic edits,
cancellations and faults, against the real `ghosttype serve` and the scripted backend.

A typist first looks at each of 50 open documents (real source files of installed packages: click,
httpx and CPython's stdlib, copied into a scratch workspace; a request at a line's end in each),
then moves between them. At a line inside the file it types a new
line after it: Enter with the indent, then a line of the file's own code (or a fault line, below),
character by character with a typo and its backspace now and then. Every keystroke is an
incremental `didChange` and a `textDocument/inlineCompletion`. Of the requests, about 55% are
awaited; 15% are left pending and cancelled by the next keystroke when still unanswered (as editors
do); 15% get `$/cancelRequest` at once, before the reply; 15% get it after the reply. Now and then
a document is closed and opened again with its current text. After about a third of the lines the
typist stops to read for 0.8-1.2 s (`--without pauses`: never; the server then runs its cyclic
garbage collection only after 30 s of uninterrupted traffic, see idle_gc.py, and its RSS peaks
with the garbage of 30 s of keystrokes replayed 20 times faster than a person types).

Faults along the way:
  backend   lines that end in FAULT_ERR (the scripted backend raises), FAULT_SLOW (a 3 s delay:
            the request is cancelled 20 ms later) and FAULT_GARBAGE (control characters, escape
            sequences, a frame header, NULs, RTL marks and astral characters as the completion);
            lines with non-ASCII text (combining marks, emoji: surrogate pairs in UTF-16).
  protocol  about 1% of the keystrokes also send one of: a body that is not JSON, a header block
            without Content-Length, a JSON array, a request with params of the wrong type (must get
            InvalidParams), an unknown method (MethodNotFound), a didChange whose params do not fit
            (dropped).

Counted: requests sent; replies per id (every request answered exactly once: none unanswered,
none twice); cancelled requests and what they got (their result or RequestCancelled, exactly one
reply); replies that are errors other than RequestCancelled; tracebacks and ERROR lines in the
server's stderr; the server's RSS every 500 requests (reported at request 1,000 and at the end);
the time. Exits 1 when a target is missed.

    .venv/bin/python benchmarks/soak.py [--quick] [--requests N] [--documents N] [--seed N] [--json PATH] [--keep]

--quick: 2,000 requests (the pass/fail test in tests/lsp/test_soak.py; RSS growth is reported but
only a target of the full run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import (
    STDLIB,
    LspClient,
    copy_package,
    open_document,
    render_table,
    rss_mb,
    site_packages,
    utf16,
)

DOCUMENTS = 50
REQUEST_CANCELLED, INVALID_PARAMS, METHOD_NOT_FOUND = -32800, -32602, -32601
GARBAGE = (
    "\x00\x1b[31mred\x1b[0m\u202e\u200b}{\"'\\\r\nContent-Length: 5\r\n\r\n\ufffd\U0001f600"
    "\u0301\x7f\x08tail"
)


def soak_config(folder: Path) -> Path:
    rules = [
        {"regex": "FAULT_ERR$", "error": "scripted failure (soak)"},
        {"regex": "FAULT_SLOW$", "delayMs": 3000, "text": "too_late()"},
        {"regex": "FAULT_GARBAGE$", "text": GARBAGE},
        {"regex": "return $", "tokens": ["self", ".", "value"], "tokenDelayMs": 1},
        {"regex": "= $", "candidates": ["None", "[]", "{}"]},
    ]
    script = folder / "soak-script.json"
    script.write_text(
        json.dumps({"delayMs": 0, "rules": rules, "default": {"text": "self._apply(value)"}})
    )
    config = folder / "ghosttype.toml"
    config.write_text(
        f'[backend]\nkind = "scripted"\nscript = "{script}"\n\n[completion]\ndebounceMs = 0\n'
    )
    return config


def pick_documents(workspace: Path, count: int) -> list[Path]:
    """click and httpx (every module over 2 kB), then CPython's stdlib modules of 5-100 kB."""
    files: list[Path] = []
    for name in ("click", "httpx"):
        copied = copy_package(site_packages() / name, workspace, name)
        files += sorted(p for p in copied.glob("*.py") if p.stat().st_size > 2000)
    stdlib = workspace / "stdlib"
    stdlib.mkdir()
    for source in sorted(STDLIB.glob("*.py")):
        if len(files) >= count:
            break
        if not 5000 <= source.stat().st_size <= 100_000:
            continue
        text = source.read_text(encoding="utf-8", errors="replace")
        target = stdlib / source.name
        target.write_text(text, encoding="utf-8")
        files.append(target)
    files = [p for p in files if "\r" not in p.read_text(encoding="utf-8")]
    return files[:count]


class CountingClient(LspClient):
    """LspClient that counts every reply per id (a second reply is seen whenever it comes) and can
    write raw bytes."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.replies: Counter[Any] = Counter()
        self.reply_messages: dict[Any, list[dict[str, Any]]] = {}
        super().__init__(process)

    def raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def on_reply(self, arrived: float, message: dict[str, Any]) -> None:
        ident = message.get("id")
        self.replies[ident] += 1
        self.reply_messages.setdefault(ident, []).append(message)
        super().on_reply(arrived, message)


@dataclass
class Doc:
    uri: str
    text: str
    version: int = 1

    def position(self, offset: int) -> dict[str, int]:
        line_start = self.text.rfind("\n", 0, offset) + 1
        return {
            "line": self.text.count("\n", 0, offset),
            "character": utf16(self.text[line_start:offset]),
        }

    def change(self, start: int, end: int, chars: str) -> dict[str, Any]:
        params = {
            "textDocument": {"uri": self.uri, "version": self.version + 1},
            "contentChanges": [
                {
                    "range": {"start": self.position(start), "end": self.position(end)},
                    "text": chars,
                }
            ],
        }
        self.text = self.text[:start] + chars + self.text[end:]
        self.version += 1
        return params


@dataclass
class Soak:
    client: CountingClient
    rng: random.Random
    total: int
    pid: int
    sent: int = 0
    completion_ids: list[int] = field(default_factory=list)
    cancelled_before: set[int] = field(default_factory=set)  # cancel sent, no reply yet
    cancelled_after: set[int] = field(default_factory=set)  # cancel sent after the reply
    invalid_params_ids: list[int] = field(default_factory=list)
    unknown_method_ids: list[int] = field(default_factory=list)
    protocol_faults: Counter[str] = field(default_factory=Counter)
    backend_faults: Counter[str] = field(default_factory=Counter)
    reopened: int = 0
    pauses: int = 0
    rss: dict[int, float] = field(default_factory=dict)
    outstanding: list[asyncio.Future[Any]] = field(default_factory=list)
    pending: dict[str, tuple[int, asyncio.Future[Any]]] = field(default_factory=dict)
    without: frozenset[str] = frozenset()  # parts left out (diagnosis): see --without

    def cancel(self, request_id: int, future: asyncio.Future[Any]) -> None:
        (self.cancelled_after if future.done() else self.cancelled_before).add(request_id)
        self.client.notify("$/cancelRequest", {"id": request_id})

    async def keystroke(self, doc: Doc, start: int, end: int, chars: str) -> None:
        previous = self.pending.pop(doc.uri, None)
        if previous is not None and not previous[1].done():
            self.cancel(*previous)  # the editor cancels what the keystroke makes stale
        self.client.notify("textDocument/didChange", doc.change(start, end, chars))
        cursor = start + len(chars)
        if self.rng.random() < 0.01 and "protocol-faults" not in self.without:
            self.protocol_fault(doc)
        request_id, future = self.client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": doc.uri},
                "position": doc.position(cursor),
                "context": {"triggerKind": 2},
            },
        )
        self.completion_ids.append(request_id)
        self.outstanding.append(future)
        self.sent += 1
        if self.sent % 500 == 0 or self.sent in (1000, self.total):
            self.rss[self.sent] = rss_mb(self.pid)
        line = doc.text[doc.text.rfind("\n", 0, cursor) + 1 : cursor]
        if line.endswith("FAULT_SLOW"):
            self.backend_faults["slow, cancelled"] += 1
            await asyncio.sleep(0.02)
            self.cancel(request_id, future)
            await self.wait(future)
            return
        for fault in ("FAULT_ERR", "FAULT_GARBAGE"):
            if line.endswith(fault):
                self.backend_faults[fault] += 1
        mode = self.rng.random()
        if (
            "cancel" in self.without
            or ("cancel-before" in self.without and 0.55 <= mode < 0.85)
            or ("cancel-after" in self.without and mode >= 0.85)
        ):
            mode = 0.0
        if mode < 0.55:
            await self.wait(future)
        elif mode < 0.70:
            self.pending[doc.uri] = (request_id, future)
        elif mode < 0.85:
            self.cancel(request_id, future)
            await self.wait(future)
        else:
            await self.wait(future)
            self.cancel(request_id, future)
        # Bound what is in flight: await the oldest beyond eight.
        self.outstanding = [f for f in self.outstanding if not f.done()]
        while len(self.outstanding) > 8:
            await self.wait(self.outstanding.pop(0))

    async def wait(self, future: asyncio.Future[Any], limit_s: float = 30) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(future), limit_s)
        except TimeoutError:
            pass  # counted as unanswered at the end if it never comes

    def protocol_fault(self, doc: Doc) -> None:
        kind = self.rng.choice(
            ["not-json", "no-length", "array", "invalid-params", "unknown-method", "bad-change"]
        )
        self.protocol_faults[kind] += 1
        if kind == "not-json":
            self.client.raw(b"Content-Length: 9\r\n\r\n{'broken'")
        elif kind == "no-length":
            self.client.raw(b"Content-Type: application/json\r\n\r\n{}")
        elif kind == "array":
            self.client.raw(b"Content-Length: 6\r\n\r\n[1, 2]")
        elif kind == "invalid-params":
            request_id, future = self.client.request(
                "textDocument/inlineCompletion",
                {"textDocument": {"uri": doc.uri}, "position": {"line": "x", "character": -1}},
            )
            self.invalid_params_ids.append(request_id)
            self.outstanding.append(future)
        elif kind == "unknown-method":
            request_id, future = self.client.request("ghosttype/noSuchMethod", {"a": 1})
            self.unknown_method_ids.append(request_id)
            self.outstanding.append(future)
        else:
            self.client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": doc.uri, "version": "one"}, "contentChanges": "oops"},
            )

    def new_line(self, doc: Doc, lines: list[str]) -> str:
        roll = self.rng.random()
        if "backend-faults" in self.without:
            roll = 1.0
        if roll < 0.05:
            return "result = FAULT_ERR"
        if roll < 0.10:
            return "value = FAULT_SLOW"
        if roll < 0.15:
            return "text = FAULT_GARBAGE"
        if roll < 0.20:
            return self.rng.choice(
                ['name = "café"  # e\u0301 😀', "emoji = '👩\u200d💻🏳️\u200d🌈'", "# 漢字 — ½ ∑"]
            )
        code = [x.strip() for x in lines if 8 <= len(x.strip()) <= 70]
        return self.rng.choice(code) if code else "pass"

    async def session(self, doc: Doc) -> None:
        """A new line after a line of the file, typed character by character."""
        lines = doc.text.split("\n")
        number = self.rng.randrange(len(lines))
        offset = sum(len(x) + 1 for x in lines[: number + 1]) - 1
        offset = min(offset, len(doc.text))
        current = lines[number]
        indent = current[: len(current) - len(current.lstrip())]
        if self.sent >= self.total:
            return
        await self.keystroke(doc, offset, offset, "\n" + indent)
        offset += 1 + len(indent)
        for char in self.new_line(doc, lines):
            if self.sent >= self.total:
                return
            if self.rng.random() < 0.04 and char.isalpha() and self.sent + 3 <= self.total:
                await self.keystroke(doc, offset, offset, "q")  # a typo and its backspace
                await self.keystroke(doc, offset, offset + 1, "")
            await self.keystroke(doc, offset, offset, char)
            offset += len(char)

    async def tour(self, docs: list[Doc]) -> None:
        """The person looks at every open document first: a request at the end of a line of each
        (so per-document state exists before RSS is first measured)."""
        for doc in self.rng.sample(docs, len(docs)):
            if self.sent >= self.total:
                return
            lines = doc.text.split("\n")
            number = self.rng.randrange(len(lines))
            offset = sum(len(x) + 1 for x in lines[: number + 1]) - 1
            request_id, future = self.client.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": doc.uri},
                    "position": doc.position(min(offset, len(doc.text))),
                    "context": {"triggerKind": 2},
                },
            )
            self.completion_ids.append(request_id)
            self.sent += 1
            await self.wait(future)

    async def run(self, docs: list[Doc]) -> None:
        await self.tour(docs)
        while self.sent < self.total:
            doc = self.rng.choice(docs)
            if self.rng.random() < 0.05 and "reopen" not in self.without:
                # Closed and opened again (its pending request goes stale with it).
                self.client.notify("textDocument/didClose", {"textDocument": {"uri": doc.uri}})
                if self.rng.random() < 0.5:
                    await asyncio.sleep(0.01)
                doc.version = 1
                open_document(self.client, doc.uri, doc.text)
                self.reopened += 1
            await self.session(doc)
            # Now and then the person stops to read (drawn either way: the same requests with and
            # without pauses). The server collects cyclic garbage in such pauses (idle_gc.py).
            pause, length = self.rng.random() < 0.3, self.rng.uniform(0.8, 1.2)
            if pause and "pauses" not in self.without:
                self.pauses += 1
                await asyncio.sleep(length)


def log_findings(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    lines = text.splitlines()
    errors = [x for x in lines if " ERROR " in x or " CRITICAL " in x]
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "errorLines": len(errors),
        "warningLines": sum(" WARNING " in x for x in lines),
        "firstErrors": errors[:5],
        "bytes": len(text),
    }


async def soak(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    total = args.requests or (2000 if args.quick else 10_000)
    workspace = scratch / "ws-soak"
    workspace.mkdir()
    paths = pick_documents(workspace, args.documents)
    log = scratch / "server-stderr.log"
    process_client = await CountingClient.start(soak_config(scratch), log)
    assert isinstance(process_client, CountingClient)
    client = process_client
    started = time.perf_counter()
    await client.initialize(workspace)
    await asyncio.wait_for(client.ready.wait(), 300)
    docs = [Doc(p.as_uri(), p.read_text(encoding="utf-8")) for p in paths]
    for doc in docs:
        open_document(client, doc.uri, doc.text)
    run = Soak(client, random.Random(args.seed), total, client.process.pid)
    run.without = frozenset(x.strip() for x in args.without.split(",") if x.strip())
    try:
        await run.run(docs)
        # Every request still in flight gets its reply (or is counted unanswered).
        for future in list(client._pending.values()):
            await run.wait(future, 30)
        stats = await client.stats()
        await asyncio.sleep(1.0)  # a late second reply would arrive here
        run.rss[run.sent] = rss_mb(run.pid)
        alive = client.process.returncode is None
    finally:
        await client.close()
    seconds = time.perf_counter() - started
    replies = client.replies
    all_ids = run.completion_ids + run.invalid_params_ids + run.unknown_method_ids
    cancelled = run.cancelled_before | run.cancelled_after

    def error_code(ident: int) -> int | None:
        messages = client.reply_messages.get(ident) or [{}]
        error = messages[0].get("error")
        return error.get("code") if isinstance(error, dict) else None

    codes = Counter(error_code(i) for i in run.completion_ids)
    marks = sorted(run.rss)
    first = run.rss.get(1000, run.rss[marks[0]])
    last = run.rss[marks[-1]]
    return {
        "requests": run.sent,
        "documents": len(docs),
        "seconds": round(seconds, 1),
        "unanswered": sum(1 for i in all_ids if replies[i] == 0),
        "answeredTwice": sum(1 for i in replies if replies[i] > 1),
        "cancelled": len(cancelled),
        "cancelledBeforeReply": len(run.cancelled_before),
        "cancelledAfterReply": len(run.cancelled_after),
        "cancelledNotExactlyOneReply": sum(1 for i in cancelled if replies[i] != 1),
        "cancelledGotRequestCancelled": sum(
            1 for i in cancelled if error_code(i) == REQUEST_CANCELLED
        ),
        "unexpectedErrors": sum(n for c, n in codes.items() if c not in (None, REQUEST_CANCELLED)),
        "errorCodes": {str(c): n for c, n in codes.items()},
        "invalidParams": {
            "sent": len(run.invalid_params_ids),
            "answeredInvalidParams": sum(
                1 for i in run.invalid_params_ids if error_code(i) == INVALID_PARAMS
            ),
        },
        "unknownMethod": {
            "sent": len(run.unknown_method_ids),
            "answeredMethodNotFound": sum(
                1 for i in run.unknown_method_ids if error_code(i) == METHOD_NOT_FOUND
            ),
        },
        "protocolFaults": dict(run.protocol_faults),
        "backendFaults": dict(run.backend_faults),
        "reopened": run.reopened,
        "pauses": run.pauses,
        "without": sorted(run.without),
        "aliveAtEnd": alive,
        "rssMb": {str(k): round(v, 1) for k, v in sorted(run.rss.items())},
        "rssFirstMark": marks[0] if 1000 not in run.rss else 1000,
        "rssFirstMb": round(first, 1),
        "rssLastMb": round(last, 1),
        "rssGrowth": (last - first) / first,
        "log": log_findings(log),
        "serverStats": {k: v for k, v in stats.items() if isinstance(v, int | float)},
    }


def targets(result: dict[str, Any], quick: bool) -> list[tuple[str, str, str, bool | None]]:
    r = result
    ip, um = r["invalidParams"], r["unknownMethod"]
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            "unanswered requests",
            f"{r['unanswered']} of {r['requests']:,} (+{ip['sent'] + um['sent']} faulty)",
            "0",
            r["unanswered"] == 0,
        ),
        ("requests answered twice", str(r["answeredTwice"]), "0", r["answeredTwice"] == 0),
        (
            "cancelled: not exactly one reply",
            f"{r['cancelledNotExactlyOneReply']} of {r['cancelled']:,} "
            f"({r['cancelledBeforeReply']} before, {r['cancelledAfterReply']} after the reply; "
            f"{r['cancelledGotRequestCancelled']} RequestCancelled)",
            "0",
            r["cancelledNotExactlyOneReply"] == 0,
        ),
        (
            "errors other than RequestCancelled",
            str(r["unexpectedErrors"]),
            "0",
            r["unexpectedErrors"] == 0,
        ),
        (
            "wrong params answered InvalidParams",
            f"{ip['answeredInvalidParams']} of {ip['sent']}",
            "all",
            ip["answeredInvalidParams"] == ip["sent"],
        ),
        (
            "unknown method answered MethodNotFound",
            f"{um['answeredMethodNotFound']} of {um['sent']}",
            "all",
            um["answeredMethodNotFound"] == um["sent"],
        ),
        (
            "tracebacks / ERROR lines in the server's log",
            f"{r['log']['tracebacks']} / {r['log']['errorLines']}",
            "0 / 0",
            r["log"]["tracebacks"] == 0 and r["log"]["errorLines"] == 0,
        ),
        ("server alive at the end", str(r["aliveAtEnd"]), "True", r["aliveAtEnd"]),
        (
            f"RSS at request {r['rssFirstMark']:,} / {r['requests']:,}",
            f"{r['rssFirstMb']:.1f} / {r['rssLastMb']:.1f} MB",
            "",
            None,
        ),
        (
            "RSS growth",
            f"{100 * r['rssGrowth']:+.1f}%",
            "<= 10% (full run)",
            None if quick else r["rssGrowth"] <= 0.10,
        ),
        (
            "faults injected",
            f"protocol {sum(r['protocolFaults'].values())}, backend "
            f"{sum(r['backendFaults'].values())}; {r['reopened']} re-opens; {r['pauses']} pauses; "
            f"{r['log']['warningLines']} warnings logged",
            "",
            None,
        ),
        ("time", f"{r['seconds']} s", "", None),
    ]
    return rows


def table(rows: list[tuple[str, str, str, bool | None]], header: str) -> str:
    cells = [(a, b, c, "-" if d is None else ("met" if d else "MISSED")) for a, b, c, d in rows]
    return render_table(header, cells)


async def main_async(args: argparse.Namespace) -> int:
    load_start = tuple(round(x, 2) for x in os.getloadavg())
    scratch = Path(tempfile.mkdtemp(prefix="ghosttype-soak-"))
    try:
        result = await soak(args, scratch)
    finally:
        if args.keep:
            print(f"scratch folder kept: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    rows = targets(result, args.quick and not args.requests)
    command = " ".join(["python benchmarks/soak.py", *sys.argv[1:]])
    header = (
        f"ghosttype soak  ({command})\nmachine: {platform.machine()}, {os.cpu_count()} cores; "
        f"load average at start {load_start}, at end {tuple(round(x, 2) for x in os.getloadavg())}"
    )
    print(table(rows, header))
    if result["log"]["firstErrors"]:
        print("\nfirst ERROR lines:\n" + "\n".join(result["log"]["firstErrors"]))
    result["targetsMet"] = all(row[3] is not False for row in rows)
    if args.json:
        text = json.dumps({"command": command, "results": result}, indent=2)
        await asyncio.to_thread(Path(args.json).write_text, text)
    return 0 if result["targetsMet"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2,000 requests (the test's form)")
    parser.add_argument("--requests", type=int, default=0, help="how many requests (overrides)")
    parser.add_argument("--seed", type=int, default=28)
    parser.add_argument("--documents", type=int, default=DOCUMENTS, help="how many open documents")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument(
        "--without",
        default="",
        help="leave parts out, to find what costs memory: cancel (or cancel-before, cancel-after), backend-faults, protocol-faults, reopen, pauses",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and log")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

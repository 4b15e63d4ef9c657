"""First figures for the embedded model through the real `ghosttype serve` over stdio: model load
time, a cold single-line completion (nothing in the KV cache), and warm ones (the same file after a
one-character edit, so the prompt shares all but its end with the previous one).

    .venv/bin/python benchmarks/embedded_basics.py [--repeat 5]

The file is CPython's json/decoder.py (nobody here wrote it), cursor at the end of a line inside
a function, invoked requests (no debounce), default settings (1,024-token budget).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SOURCE = Path(json.__file__).parent / "decoder.py"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    text = SOURCE.read_text()
    lines = text.split("\n")
    # A line inside a function body, cut after its first token: a single-line completion.
    target = next(i for i, line in enumerate(lines) if line.strip().startswith("end = ") and i > 200)
    head = lines[target][: lines[target].index("=") + 2]
    lines[target] = head
    text = "\n".join(lines)
    position = types.Position(target, len(head))

    client = LanguageClient("bench", "1")
    ready = asyncio.Event()

    @client.feature("ghosttype/status")
    def on_status(params):  # type: ignore[no-untyped-def]
        if getattr(params, "state", "") in ("ready", "error"):
            ready.set()

    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "ghosttype", "serve")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    await asyncio.wait_for(ready.wait(), 300)
    load_s = time.perf_counter() - started

    uri = SOURCE.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )

    async def request() -> tuple[float, str]:
        begin = time.perf_counter()
        result = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=position,
            )
        )
        return time.perf_counter() - begin, result.items[0].insert_text if result.items else ""

    cold_s, cold_text = await request()
    warm: list[float] = []
    version = 1
    for index in range(args.repeat):
        # One more character typed at the end of the line above the cursor's: every request is a
        # new state (no cache hit) whose prompt changes only near its end, as while typing.
        version += 1
        line = target - 1
        column = len(lines[line]) + index
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangePartial(
                    types.Range(types.Position(line, column), types.Position(line, column)), " "
                )],
            )
        )
        elapsed, _ = await request()
        warm.append(elapsed)
    stats = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghosttype.stats"))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    calls = max(1, stats["modelCalls"])
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    print(f"server start to model ready (load):   {load_s * 1000:8.0f} ms")
    print(f"cold single-line completion:          {cold_s * 1000:8.0f} ms  -> {cold_text!r}")
    print(f"warm single-line completion, median:  {statistics.median(warm) * 1000:8.0f} ms  "
          f"(min {min(warm) * 1000:.0f}, max {max(warm) * 1000:.0f}, n={len(warm)})")
    print(f"prompt tokens evaluated per model call: {stats['evaluatedPromptTokens'] / calls:.0f} "
          f"of {stats['promptTokens'] / calls:.0f}")


if __name__ == "__main__":
    asyncio.run(main())

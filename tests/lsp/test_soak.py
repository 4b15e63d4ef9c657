"""The soak's short form (issue 28, part 4): `benchmarks/soak.py --quick`, 2,000 completion
requests over 50 open documents with incremental edits, cancellations (before and after the
reply), close and re-open, backend faults (errors, a slow generation that is cancelled, garbage
text) and protocol faults (broken frames, wrong params, unknown methods), against the real
`ghosttype serve` and the scripted backend. Seeded, so the same requests every run; no timing is
asserted (the replies are awaited with generous bounds), and RSS growth is a target of the full
run only (`benchmarks/RESULTS.md`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_soak_quick_every_request_answered_once(tmp_path: Path) -> None:
    figures = tmp_path / "soak.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--quick", "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert figures.exists(), run.stdout + run.stderr
    r = json.loads(figures.read_text())["results"]
    report = run.stdout
    assert r["requests"] == 2000, report
    assert r["unanswered"] == 0, report
    assert r["answeredTwice"] == 0, report
    assert r["cancelled"] > 100 and r["cancelledBeforeReply"] and r["cancelledAfterReply"], report
    assert r["cancelledNotExactlyOneReply"] == 0, report
    assert r["unexpectedErrors"] == 0, report
    assert r["invalidParams"]["sent"] > 0, report
    assert r["invalidParams"]["answeredInvalidParams"] == r["invalidParams"]["sent"], report
    assert r["unknownMethod"]["answeredMethodNotFound"] == r["unknownMethod"]["sent"], report
    assert sum(r["backendFaults"].values()) > 0 and sum(r["protocolFaults"].values()) > 0, report
    assert r["log"]["tracebacks"] == 0 and r["log"]["errorLines"] == 0, report
    assert r["aliveAtEnd"], report
    assert run.returncode == 0, report + run.stderr

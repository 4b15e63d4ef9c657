"""Redaction cost per prompt (issue 28, part 5: target p99 <= 0.5 ms for a 1,024-token prompt).

Redaction runs on every keystroke's prompt, uncached: the context builder calls `redact_prefix`
on the prefix window and `redact` on the suffix window and on each neighbour snippet and outline
(`server/ghosttype/context/__init__.py`). This times exactly those calls for a typical prompt of
about 4 KB of real code (a prefix window of click's core.py, a suffix of one line and a bit, two
neighbour snippets from click and jinja2; and the same for JavaScript from axios), then for the
same prompts with 10 fake secrets planted in the prefix (made from a seeded generator).

Run: PYTHONPATH=server .venv/bin/python benchmarks/redaction_cost.py
"""

from __future__ import annotations

import random
import statistics
import string
import tarfile
import time
from pathlib import Path

from ghosttype.context.secrets import redact, redact_prefix

ARCHIVES = Path(__file__).resolve().parent / "data" / "archives"
RUNS = 3000
ALNUM = string.ascii_letters + string.digits


def member(archive: str, name: str) -> str:
    with tarfile.open(ARCHIVES / archive) as tar:
        extracted = tar.extractfile(name)
        assert extracted is not None
        return extracted.read().decode("utf-8")


def window(text: str, start_line: int, chars: int) -> str:
    """`chars` characters of whole lines from `start_line` on."""
    lines = text.splitlines(keepends=True)[start_line:]
    out, size = [], 0
    for line in lines:
        if size + len(line) > chars:
            break
        out.append(line)
        size += len(line)
    return "".join(out)


def prompts() -> dict[str, tuple[str, str, list[str]]]:
    """name -> (prefix, suffix, snippets), about 4 KB in all."""
    core = member("click-8.1.7.tar.gz", "click-8.1.7/src/click/core.py")
    utils = member("click-8.1.7.tar.gz", "click-8.1.7/src/click/utils.py")
    env = member("jinja2-3.1.4.tar.gz", "jinja2-3.1.4/src/jinja2/environment.py")
    axios = member("axios-1.7.9.tgz", "package/lib/core/Axios.js")
    headers = member("axios-1.7.9.tgz", "package/lib/core/AxiosHeaders.js")
    adapters = member("axios-1.7.9.tgz", "package/lib/adapters/adapters.js")
    python = window(core, 1200, 3000)
    javascript = window(axios, 40, 3000)
    return {
        "python": (
            python,
            window(core, 1290, 70),
            [window(utils, 100, 500), window(env, 300, 500)],
        ),
        "javascript": (
            javascript,
            window(axios, 140, 70),
            [window(headers, 60, 500), window(adapters, 10, 500)],
        ),
    }


def fake_secrets(rng: random.Random) -> list[str]:
    """Ten assignments of made-up secrets of common shapes (nothing here is a real key)."""

    def draw(alphabet: str, length: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(length))

    upper = string.ascii_uppercase + string.digits
    return [
        f'    aws_access_key_id = "AKIA{draw(upper, 16)}"',
        f'    aws_secret_access_key = "{draw(ALNUM + "+/", 40)}"',
        f'    github_token = "ghp_{draw(ALNUM, 36)}"',
        f'    slack = "xoxb-{draw(string.digits, 12)}-{draw(string.digits, 13)}-{draw(ALNUM, 24)}"',
        f'    stripe_key = "sk_live_{draw(ALNUM, 24)}"',
        f'    VENDOR_API_KEY_ID = "{draw(string.ascii_uppercase, 32)}"',
        f'    PAYMENTS_AUTH = "{draw("0123456789abcdef", 32)}"',
        f'    db_url = "postgres://app:{draw(ALNUM, 16)}@db.internal:5432/app"',
        f'    password = "{draw(string.ascii_lowercase, 7)}42!"',
        f'    session = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ7{draw(ALNUM, 10)}In0.{draw(ALNUM, 43)}"',
    ]


def planted(prefix: str, secrets: list[str]) -> str:
    """The secrets spread over the prefix, one every few lines."""
    lines = prefix.splitlines(keepends=True)
    step = max(1, len(lines) // (len(secrets) + 1))
    for n, secret in enumerate(secrets):
        lines.insert((n + 1) * step + n, secret + "\n")
    return "".join(lines)


def redact_prompt(prefix: str, suffix: str, snippets: list[str]) -> None:
    """What ContextBuilder.build redacts for one prompt."""
    redact_prefix(prefix)
    redact(suffix)
    for snippet in snippets:
        redact(snippet)


def percentiles(prefix: str, suffix: str, snippets: list[str]) -> tuple[float, ...]:
    """p50 and p99 of the wall time and of the CPU time (ms). On a machine that runs something
    else too, the wall time's tail is the scheduler's (a preempted run waits a time slice); the
    thread's CPU time is what redaction costs."""
    for _ in range(100):
        redact_prompt(prefix, suffix, snippets)
    wall, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.thread_time()
        redact_prompt(prefix, suffix, snippets)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    wall.sort()
    cpu.sort()
    p99 = int(RUNS * 0.99)
    return statistics.median(wall), wall[p99], statistics.median(cpu), cpu[p99]


def main() -> None:
    rng = random.Random(28)
    print(f"redaction per prompt, {RUNS} runs each, ms (wall p50 / p99, CPU p50 / p99)")
    for name, (prefix, suffix, snippets) in prompts().items():
        secrets = fake_secrets(rng)
        with_secrets = planted(prefix, secrets)
        redacted = redact_prefix(with_secrets)
        kept = [s for s in secrets if s.strip() in redacted]
        assert not kept, f"not redacted: {kept}"
        for label, text in (("typical", prefix), ("10 secrets", with_secrets)):
            size = len(text) + len(suffix) + sum(map(len, snippets))
            figures = " / ".join(f"{f:.3f}" for f in percentiles(text, suffix, snippets))
            print(f"  {name:10} {label:10} {size:5} chars  {figures}")


if __name__ == "__main__":
    main()

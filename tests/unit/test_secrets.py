"""Secret redaction: golden files (tests/test_data/secrets/*.in → *.out) and edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghosttype.context.secrets import REDACTED, redact, redact_prefix

DATA = Path(__file__).resolve().parent.parent / "test_data" / "secrets"
CASES = sorted(DATA.glob("*.in"))


@pytest.mark.parametrize("path", CASES, ids=[p.name.removesuffix(".in") for p in CASES])
def test_golden(path: Path) -> None:
    expected = path.with_suffix(".out").read_text(encoding="utf-8")
    assert redact(path.read_text(encoding="utf-8")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nREDACTED",
            id="key-block-cut-by-window",
        ),
        pytest.param("x = 1\n", "x = 1\n", id="nothing"),
        pytest.param("", "", id="empty"),
        pytest.param(
            "Authorization: Bearer eyJabcdefghij.eyJabcdefghij.abcdefghijkl",
            f"Authorization: Bearer {REDACTED}",
            id="jwt-in-header",
        ),
    ],
)
def test_cases(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_secret_being_typed_at_end_of_prefix() -> None:
    assert redact_prefix('conn(password="hunt') == f'conn(password="{REDACTED}'
    assert redact_prefix('print("your password') == 'print("your password'


def test_idempotent_and_stable() -> None:
    for path in CASES:
        once = redact(path.read_text(encoding="utf-8"))
        assert redact(once) == once

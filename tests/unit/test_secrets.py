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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Issue 28's two measured leaks: a name ending in _ID, an uppercase value taken for an
        # environment variable's name; a name the old list did not know.
        pytest.param(
            'VENDOR_API_KEY_ID = "QWERTYUIOPASDFGHJKLZXCVBNMQAZWSX"',
            f'VENDOR_API_KEY_ID = "{REDACTED}"',
            id="uppercase-key-under-key-id",
        ),
        pytest.param(
            'PAYMENTS_AUTH = "9f86d081884c7d659a2feaa0c55ad015"',
            f'PAYMENTS_AUTH = "{REDACTED}"',
            id="hex-token-under-auth",
        ),
        pytest.param(
            'api_key_env = "OPENAI_API_KEY"', 'api_key_env = "OPENAI_API_KEY"', id="env-name-kept"
        ),
        pytest.param(
            "redis_url: redis://:s3cr3t-Pa55@cache:6379/0",
            f"redis_url: redis://:{REDACTED}@cache:6379/0",
            id="url-password-without-user",
        ),
        pytest.param(
            "db:\n  - name: DB_PASSWORD\n    value: hunter2!\n",
            f"db:\n  - name: DB_PASSWORD\n    value: {REDACTED}\n",
            id="name-value-list",
        ),
        pytest.param(
            'headers = {"Authorization": "Bearer 8Xk2pQ9rT4vW7yZ1bN3mC6dF"}',
            f'headers = {{"Authorization": "Bearer {REDACTED}"}}',
            id="bearer-token",
        ),
        pytest.param(
            'headers = {"Authorization": f"Bearer {token}"}',
            'headers = {"Authorization": f"Bearer {token}"}',
            id="bearer-template-kept",
        ),
        pytest.param(
            "conn = 'Server=db;Database=app;User Id=sa;Password=Tr0ub4dor&3;'",
            f"conn = 'Server=db;Database=app;User Id=sa;Password={REDACTED};'",
            id="connection-string-password",
        ),
        pytest.param(
            "def login(username: str, password: str) -> Token:",
            "def login(username: str, password: str) -> Token:",
            id="annotation-kept",
        ),
        pytest.param(
            'STRIPE_KEY = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"',
            'STRIPE_KEY = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"',
            id="masked-key-kept",
        ),
    ],
)
def test_shape_and_entropy_count_as_much_as_the_name(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_key_block_cut_at_its_start_by_a_window() -> None:
    text = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\nx = 1\n"
    assert redact(text) == f"{REDACTED}\n-----END PRIVATE KEY-----\nx = 1\n"


def test_key_body_lines_without_their_markers() -> None:
    body = "MIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH"
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert redact(f"    {body}\n{digest}\n") == f"    {REDACTED}\n{digest}\n"


def test_token_being_typed_at_the_end_of_a_prefix() -> None:
    assert redact_prefix('GH = "ghp_a1B2c3D4e5') == f'GH = "{REDACTED}'
    assert redact_prefix("url = 'postgres://app:hunt") == f"url = 'postgres://app:{REDACTED}"
    assert redact_prefix("name = user_profile_settin") == "name = user_profile_settin"

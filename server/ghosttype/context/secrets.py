"""Redaction of strings that look like secrets, from any text sent to a model.

Deterministic (the same text always redacts the same way, so prompts stay stable for the KV cache)
and shape-keeping: the key's name, quotes and the block markers stay, only the secret becomes
`REDACTED`, so the model still sees valid code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

REDACTED = "REDACTED"

# Private key blocks (PEM, OpenSSH, PGP), also inside JSON strings with literal "\n"; an
# unterminated block (a window cut through it) is redacted to the end of the text.
_KEY_BLOCK = re.compile(
    r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"
    r"(?:.*?)"
    r"(-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)

# Tokens recognisable by their own shape, wherever they appear.
_TOKENS = re.compile(
    "|".join(
        (
            r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b",  # AWS key ids
            r"\bAIza[0-9A-Za-z_\-]{35}\b",  # Google / GCP API keys
            r"\bya29\.[0-9A-Za-z_\-]{20,}",  # Google OAuth access tokens
            r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
            r"\bglpat-[A-Za-z0-9_\-]{20,}\b",  # GitLab
            r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack tokens
            r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+",  # Slack webhooks
            # OpenAI, Anthropic
            r"\bsk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d*-)?[A-Za-z0-9_\-]{20,}",
            r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b",  # Stripe
            r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
            r"\bnpm_[A-Za-z0-9]{36}\b",  # npm
            r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",  # SendGrid
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWTs
        )
    )
)

# A name that says "secret", assigned a literal: `password = "…"`, `"apiKey": "…"`,
# `token: str = '…'`, `PASSWORD=… ` (.env), `api_key => "…"`. Only the literal is redacted.
_SECRET_NAME = (
    r"[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_\-]?key|apikey"
    r"|access[_\-]?key|private[_\-]?key|client[_\-]?secret|authorization|auth[_\-]?token"
    r"|credentials?)[A-Za-z0-9_.\-]*"
)
# An optional type annotation, then the assignment operator (Python, TS, Go, PHP, YAML, JSON).
_ASSIGN = r"\s*(?::\s*[A-Za-z_][\w\[\]., |]*)?\s*(?::=|=>|=|:)\s*"
_QUOTED_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<head>["']?(?P<name>{_SECRET_NAME})["']?{_ASSIGN})
    (?P<quote>["'`])(?P<value>[^"'`\n]{{4,}})(?P=quote)
    """
)
_ENV_ASSIGNMENT = re.compile(
    rf"""(?imx)
    ^(?P<head>[ \t]*(?:export[ \t]+)?(?P<name>{_SECRET_NAME})[ \t]*=[ \t]*)
    (?P<value>[^\s"'`#$(){{}}]{{4,}})[ \t]*$
    """
)
# The value being typed at the end of a prefix: `password = "hunt` (no closing quote yet).
_OPEN_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<head>["']?(?P<name>{_SECRET_NAME})["']?{_ASSIGN})
    (?P<quote>["'`])(?P<value>[^"'`\n]+)\Z
    """
)
# Credentials in URLs: scheme://user:password@host
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:)(?P<value>[^@\s/]{3,})@")
# Values that are clearly not secrets (placeholders, references) stay, so the code reads naturally.
_PLACEHOLDER = re.compile(
    r"(?i)^(?:REDACTED|x+|\*+|changeme|password|secret|token|your[_\- ].*|<.*>|\{.*\}|\$\{.*\}"
    r"|%\(.*\)s|example.*|test|dummy|none|null|true|false)$"
)


# Cheap tests first: this runs on every prompt, and most lines mention no secret.
_NAME_HINT = re.compile(
    r"(?i)passw|passphrase|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key"
    r"|authorization|auth[_\-]?token|credential"
)


def redact(text: str) -> str:
    """The text with anything that looks like a secret replaced by REDACTED."""
    if not text:
        return text
    if "PRIVATE KEY" in text:
        text = _KEY_BLOCK.sub(_key_block, text)
    text = _TOKENS.sub(REDACTED, text)
    text = _by_line(text, _assignments)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{REDACTED}@", text)
    return text


def _assignments(line: str) -> str:
    line = _QUOTED_ASSIGNMENT.sub(_quoted, line)
    return _ENV_ASSIGNMENT.sub(_plain, line)


def _by_line(text: str, change: Callable[[str], str]) -> str:
    """Applies `change` only to the lines that mention a secret-like name."""
    parts: list[str] = []
    position = 0
    for match in _NAME_HINT.finditer(text):
        if match.start() < position:
            continue  # same line as the previous hit
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        end = len(text) if end == -1 else end
        parts += [text[position:start], change(text[start:end])]
        position = end
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


def redact_prefix(text: str) -> str:
    """`redact`, and also a secret literal still being typed at the end of the text."""
    text = redact(text)
    last_line = text.rfind("\n") + 1
    if not _NAME_HINT.search(text, last_line):
        return text
    return text[:last_line] + _OPEN_ASSIGNMENT.sub(_open, text[last_line:])


def _key_block(match: re.Match[str]) -> str:
    end = match.group(2)
    separator = "\\n" if "\\n" in match.group(0) else "\n"
    return f"{match.group(1)}{separator}{REDACTED}{separator if end else ''}{end}"


# Names that mention a secret but hold something else: `tokenizer`, `api_key_env`, `secret_path`.
_NOT_A_SECRET_NAME = re.compile(
    r"(?i)(?:tokeni[sz]er|_?(?:url|uri|path|file|dir|name|env|type|header|id|len|length|count))$"
)
# Values that are references, not secrets: an environment variable's name, a path, a URL.
_REFERENCE = re.compile(r"^(?:[A-Z_][A-Z0-9_]*|\.{0,2}/.*|~/.*|https?://[^@]*)$")


def _is_secret(name: str, value: str) -> bool:
    value = value.strip()
    return not (
        _PLACEHOLDER.match(value)
        or " " in value  # prose: "Enter your password"
        or _REFERENCE.match(value)
        or _NOT_A_SECRET_NAME.search(name)
    )


def _quoted(match: re.Match[str]) -> str:
    if not _is_secret(match["name"], match["value"]):
        return match.group(0)
    return f"{match['head']}{match['quote']}{REDACTED}{match['quote']}"


def _plain(match: re.Match[str]) -> str:
    if not _is_secret(match["name"], match["value"]):
        return match.group(0)
    return f"{match['head']}{REDACTED}"


def _open(match: re.Match[str]) -> str:
    if match["value"] == REDACTED or not _is_secret(match["name"], match["value"]):
        return match.group(0)
    return f"{match['head']}{match['quote']}{REDACTED}"

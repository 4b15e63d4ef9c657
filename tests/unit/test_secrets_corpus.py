"""Secrets corpus (issue 28, part 5): fake secrets of the real shapes of the families gitleaks and
detect-secrets cover, planted in the open file (before and after the cursor), in a neighbour file
(open in the editor, and imported from disk) and in the repository-level context the prompt
carries (files of the same folder, the API outline of an imported file, the outline of the current
file), checked against what a backend actually receives through the real engine path. And a
corpus of near-misses (hashes, UUIDs, git SHAs, marked fixtures, environment variables'
names, placeholders, short base64, colours, long identifiers) that must reach the model unchanged.

The secrets are made at test time from a seeded generator: nothing here is a real key, and nothing
committed looks like a live one.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from ghosttype.backends.base import GenerationParams, Progress, Usage
from ghosttype.config import BackendSettings, Settings, with_overrides
from ghosttype.context.secrets import REDACTED, looks_random, redact, redact_prefix
from ghosttype.context.windows import SUFFIX_MAX_LINES
from ghosttype.engine import Engine
from ghosttype.prompts import FORMATS, Prompt
from tests.engine.manual_clock import ManualClock

UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
HEX = "0123456789abcdef"
WORDS = "harbor quill plum maple ember cobalt falcon lantern meadow orbit pepper saddle".split()


def draw(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


# --- secrets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """One kind of secret: its name (SCREAMING_SNAKE; each style spells it its own way), how to
    make one, and which of its parts must never reach the model. `random`: the value is
    random (a person's password is not), so the `,` form (`getenv("NAME", "value")`) applies."""

    name: str
    make: Made
    random: bool = True


Made = Callable[[random.Random], tuple[str, tuple[str, ...]]]


def whole(make: Callable[[random.Random], str]) -> Made:
    def made(rng: random.Random) -> tuple[str, tuple[str, ...]]:
        value = make(rng)
        return value, (value,)

    return made


def _jwt(rng: random.Random) -> str:
    def part(data: dict) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    header = part({"alg": "HS256", "typ": "JWT"})
    payload = part({"sub": draw(rng, HEX, 12), "iat": rng.randrange(1_600_000_000, 1_800_000_000)})
    return f"{header}.{payload}.{draw(rng, URLSAFE, 43)}"


def _password(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}{rng.randrange(10, 99)}{rng.choice('!%*?')}"


def _long_password(rng: random.Random) -> str:
    first, second = rng.sample(WORDS, 2)
    return (
        f"{first.title()}{rng.randrange(1, 9)}!{second}-{second[0].upper()}{rng.randrange(10, 99)}"
    )


def _url(template: str) -> Made:
    def made(rng: random.Random) -> tuple[str, tuple[str, ...]]:
        password = draw(rng, ALNUM, 18)
        return template.format(password), (password,)

    return made


def _azure_connection(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    key = draw(rng, B64, 86) + "=="
    return (
        f"DefaultEndpointsProtocol=https;AccountName=acme{draw(rng, HEX, 4)};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    ), (key,)


def _azure_sas(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    signature = quote(draw(rng, B64, 43) + "=", safe="")
    return (
        "https://acme.blob.core.windows.net/exports/report.csv?sv=2022-11-02&ss=b&srt=o&sp=r"
        f"&se=2030-01-01T00:00:00Z&spr=https&sig={signature}"
    ), (signature,)


def _slack_webhook(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    path = f"T{draw(rng, UPPER_DIGITS, 8)}/B{draw(rng, UPPER_DIGITS, 10)}/{draw(rng, ALNUM, 24)}"
    return f"https://hooks.slack.com/services/{path}", (path,)


def _digits(rng: random.Random, length: int) -> str:
    return draw(rng, string.digits, length)


FAMILIES: tuple[Family, ...] = (
    # Cloud keys and secrets.
    Family("AWS_ACCESS_KEY_ID", whole(lambda r: "AKIA" + draw(r, UPPER_DIGITS, 16))),
    Family("AWS_SESSION_KEY_ID", whole(lambda r: "ASIA" + draw(r, UPPER_DIGITS, 16))),
    Family("AWS_SECRET_ACCESS_KEY", whole(lambda r: draw(r, B64, 40))),
    Family("GOOGLE_MAPS_API", whole(lambda r: "AIza" + draw(r, URLSAFE, 35))),
    Family("AZURE_STORAGE_CONNECTION_STRING", _azure_connection),
    Family("AZURE_STORAGE_ACCOUNT_KEY", whole(lambda r: draw(r, B64, 86) + "==")),
    Family("EXPORT_BLOB_URL", _azure_sas),
    Family(
        "AZURE_CLIENT_SECRET",
        whole(lambda r: draw(r, ALNUM, 3) + draw(r, string.digits, 1) + "Q~" + draw(r, ALNUM, 34)),
    ),
    # VCS and CI tokens.
    Family("GH_PERSONAL", whole(lambda r: "ghp_" + draw(r, ALNUM, 36))),
    Family("GH_OAUTH", whole(lambda r: "gho_" + draw(r, ALNUM, 36))),
    Family("GH_APP_INSTALLATION", whole(lambda r: "ghs_" + draw(r, ALNUM, 36))),
    Family(
        "GH_FINE_GRAINED",
        whole(lambda r: "github_pat_" + draw(r, ALNUM, 22) + "_" + draw(r, ALNUM, 59)),
    ),
    Family("GITLAB_PAT", whole(lambda r: "glpat-" + draw(r, URLSAFE, 20))),
    Family("CIRCLECI_TOKEN", whole(lambda r: draw(r, HEX, 40))),
    Family(
        "CIRCLE_PERSONAL",
        whole(lambda r: "CCIPAT_" + draw(r, ALNUM, 22) + "_" + draw(r, HEX, 40)),
    ),
    Family("NPM_PUBLISH", whole(lambda r: "npm_" + draw(r, ALNUM, 36))),
    # Chat and payment keys.
    Family(
        "SLACK_BOT",
        whole(lambda r: f"xoxb-{_digits(r, 12)}-{_digits(r, 13)}-{draw(r, ALNUM, 24)}"),
    ),
    Family(
        "SLACK_USER",
        whole(
            lambda r: f"xoxp-{_digits(r, 12)}-{_digits(r, 12)}-{_digits(r, 13)}-{draw(r, HEX, 32)}"
        ),
    ),
    Family("SLACK_WEBHOOK_URL", _slack_webhook),
    Family("STRIPE_LIVE", whole(lambda r: "sk_live_" + draw(r, ALNUM, 24))),
    Family("STRIPE_RESTRICTED", whole(lambda r: "rk_live_" + draw(r, ALNUM, 24))),
    Family("TWILIO_API", whole(lambda r: "SK" + draw(r, HEX, 32))),
    Family("TWILIO_AUTH_TOKEN", whole(lambda r: draw(r, HEX, 32))),
    Family(
        "SENDGRID",
        whole(lambda r: "SG." + draw(r, URLSAFE, 22) + "." + draw(r, URLSAFE, 43)),
    ),
    # JWTs.
    Family("SESSION_JWT", whole(_jwt)),
    # Connection strings and URLs with passwords.
    Family("DATABASE_URL", _url("postgres://app_user:{}@db.internal:5432/app")),
    Family("MONGO_URI", _url("mongodb+srv://reporting:{}@cluster0.ab1cd.mongodb.net/app")),
    Family("REDIS_URL", _url("redis://:{}@cache.internal:6379/0")),
    Family("BROKER_URL", _url("amqp://worker:{}@mq.internal:5672/")),
    # Generic: random values under any name that mentions a secret, whatever else it says.
    Family("VENDOR_API_KEY_ID", whole(lambda r: draw(r, string.ascii_uppercase, 32))),
    Family("PAYMENTS_AUTH", whole(lambda r: draw(r, HEX, 32))),
    Family("ENCRYPTION_KEY", whole(lambda r: base64.b64encode(r.randbytes(32)).decode())),
    Family("OAUTH_CLIENT_SECRET", whole(lambda r: draw(r, ALNUM, 40))),
    Family(
        "REFRESH_TOKEN_V2", whole(lambda r: draw(r, string.ascii_lowercase + string.digits, 28))
    ),
    Family("PARTNER_CREDS_BLOB", whole(lambda r: draw(r, URLSAFE, 48))),
    Family("SIGNING_KEY_PRIMARY", whole(lambda r: draw(r, UPPER_DIGITS, 24))),
    Family("LEGACY_PWD_HASHED_KEY", whole(lambda r: draw(r, HEX, 24))),
    # People's passwords: no entropy to speak of, the name says it all.
    Family("DB_PASSWORD", whole(_password), random=False),
    Family("SMTP_PASS", whole(_long_password), random=False),
    Family("ADMIN_PASSWD", whole(_password), random=False),
)

# Private-key blocks: their own layout in every style (a multi-line literal).
KEY_KINDS = ("RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY")


def key_body(rng: random.Random) -> list[str]:
    return [draw(rng, B64, 64) for _ in range(5)] + [draw(rng, B64, 28) + "=="]


# --- styles ------------------------------------------------------------------------------------


def words_of(name: str) -> list[str]:
    return name.lower().split("_")


def snake(name: str) -> str:
    return name.lower()


def camel(name: str) -> str:
    first, *rest = words_of(name)
    return first + "".join(w.title() for w in rest)


def pascal(name: str) -> str:
    return "".join(w.title() for w in words_of(name))


def kebab(name: str) -> str:
    return "-".join(words_of(name))


# Per style: the language id, the file suffix, the ways a value is assigned (`{}` is the value),
# the forms only for random values (a function's default argument: `getenv("NAME", "value")`).
Form = Callable[[str], str]


@dataclass(frozen=True)
class Style:
    name: str
    language: str
    suffix: str
    forms: tuple[Callable[[str], Form], ...]
    random_forms: tuple[Callable[[str], Form], ...] = ()


def form(template: str) -> Callable[[str], Form]:
    """`template` with {N} {s} {c} {C} {k} (the name's spellings) and {v} (the value)."""

    def named(name: str) -> Form:
        spelled = template.format(
            N=name, s=snake(name), c=camel(name), C=pascal(name), k=kebab(name), v="{v}"
        )
        return lambda value: spelled.replace("{v}", value)

    return named


STYLES: tuple[Style, ...] = (
    Style(
        "python",
        "python",
        ".py",
        (
            form('{N} = "{v}"'),
            form('{s}: str = "{v}"'),
            form('client = Client({s}="{v}")'),
            form('SETTINGS = {{"{s}": "{v}"}}'),
            form("os.environ['{N}'] = '{v}'"),
        ),
        (form('{s} = os.environ.get("{N}", "{v}")'),),
    ),
    Style(
        "typescript",
        "typescript",
        ".ts",
        (
            form('const {c} = "{v}";'),
            form("export const {N}: string = '{v}';"),
            form('const config = {{ {c}: "{v}" }};'),
            form('const {c} = process.env.{N} || "{v}";'),
            form("this.{c} = `{v}`;"),
        ),
    ),
    Style(
        "go",
        "go",
        ".go",
        (
            form('const {C} = "{v}"'),
            form('{c} := "{v}"'),
            form('var {c} string = "{v}"'),
            form('cfg := Config{{{C}: "{v}"}}'),
        ),
        (form('os.Setenv("{N}", "{v}")'),),
    ),
    Style(
        "yaml",
        "yaml",
        ".yaml",
        (
            form("{s}: {v}"),
            form('{s}: "{v}"'),
            form("{k}: '{v}'"),
            form('- name: {N}\n  value: "{v}"'),
        ),
    ),
    Style(
        "json",
        "json",
        ".json",
        (
            form('"{c}": "{v}",'),
            form('"{s}": "{v}",'),
            form('{{"name": "{N}", "value": "{v}"}},'),
        ),
    ),
    Style(
        "dotenv",
        "dotenv",
        ".env.example",
        (form("{N}={v}"), form('{N}="{v}"'), form("export {N}='{v}'")),
    ),
    Style(
        "shell",
        "shellscript",
        ".sh",
        (
            form('export {N}="{v}"'),
            form("{N}='{v}' ./deploy.sh"),
            form("./deploy.sh --{k}={v}"),
            form("{N}={v}"),
        ),
    ),
)


def key_block_lines(style: str, kind: str, body: list[str]) -> str:
    begin, end = f"-----BEGIN {kind}-----", f"-----END {kind}-----"
    block = "\n".join([begin, *body, end])
    if style == "python":
        return f'DEPLOY_KEY = """{block}\n"""'
    if style == "typescript":
        return f"const deployKey = `{block}\n`;"
    if style == "go":
        return f"const deployKey = `{block}\n`"
    if style == "yaml":
        return "deploy_key: |\n" + "\n".join("  " + line for line in block.split("\n"))
    if style == "json":
        return '"private_key": "' + "\\n".join(block.split("\n")) + '\\n",'
    return f'DEPLOY_KEY="{block}\n"'


# HTTP authorization headers, per style.
HEADER_FORMS = {
    "python": 'headers = {{"Authorization": "Bearer {v}"}}',
    "typescript": "fetch(url, {{ headers: {{ Authorization: `Bearer {v}` }} }});",
    "go": 'req.Header.Set("Authorization", "Bearer {v}")',
    "yaml": "Authorization: Bearer {v}",
    "json": '"Authorization": "Bearer {v}",',
    "dotenv": 'AUTH_HEADER="Bearer {v}"',
    "shell": 'curl -H "Authorization: Bearer {v}" https://api.example.com/v1/me',
}
API_KEY_HEADER_FORMS = {
    "python": 'requests.get(url, headers={{"X-API-Key": "{v}"}})',
    "typescript": "headers.set('x-api-key', '{v}');",
    "go": 'req.Header.Set("X-Api-Key", "{v}")',
    "yaml": "x-api-key: {v}",
    "json": '"X-API-Key": "{v}",',
    "dotenv": "X_API_KEY={v}",
    "shell": "curl -H 'X-Api-Key: {v}' https://api.example.com/v1/me",
}
NPMRC = "//registry.npmjs.org/:_authToken={v}"


@dataclass(frozen=True)
class Planted:
    """A secret written into a file: its line(s), the parts that must not reach the model, and
    the text just before the secret that must (the line was sent, and redacted in place)."""

    family: str
    style: str
    text: str
    secrets: tuple[str, ...]
    markers: tuple[str, ...]


def _planted(family: str, style: str, text: str, secrets: tuple[str, ...]) -> Planted:
    first = secrets[0]
    at = text.index(first)
    line_start = text.rfind("\n", 0, at) + 1
    return Planted(family, style, text, secrets, (text[line_start:at] + REDACTED,))


def corpus(seed: int = 28) -> list[Planted]:
    rng = random.Random(seed)
    planted: list[Planted] = []
    for index, family in enumerate(FAMILIES):
        for turn, style in enumerate(STYLES):
            forms = style.forms + (style.random_forms if family.random else ())
            write = forms[(index + turn) % len(forms)](family.name)
            value, secrets = family.make(rng)
            planted.append(_planted(family.name, style.name, write(value), secrets))
    for turn, style in enumerate(STYLES):
        kind = KEY_KINDS[turn % len(KEY_KINDS)]
        body = key_body(rng)
        text = key_block_lines(style.name, kind, body)
        begin = f"-----BEGIN {kind}-----"
        marker = begin + ("\\n" if style.name == "json" else "\n") + REDACTED
        planted.append(Planted("private-key-block", style.name, text, tuple(body), (marker,)))
        for family, forms in (("bearer", HEADER_FORMS), ("x-api-key", API_KEY_HEADER_FORMS)):
            value = draw(rng, URLSAFE, 40)
            text = forms[style.name].format(v=value)
            planted.append(_planted(family, style.name, text, (value,)))
    for value in (
        f"npm_{draw(rng, ALNUM, 36)}",
        f"{draw(rng, HEX, 8)}-{draw(rng, HEX, 4)}-4{draw(rng, HEX, 3)}-a{draw(rng, HEX, 3)}-{draw(rng, HEX, 12)}",
    ):
        planted.append(_planted("npmrc", "dotenv", NPMRC.format(v=value), (value,)))
    return planted


def chunks(planted: list[Planted], lines: int = 14) -> Iterator[list[Planted]]:
    """Groups of entries of one style that fit one neighbour window (16 lines)."""
    for style in STYLES:
        group: list[Planted] = []
        size = 0
        for entry in (p for p in planted if p.style == style.name):
            height = entry.text.count("\n") + 1
            if group and size + height > lines:
                yield group
                group, size = [], 0
            group.append(entry)
            size += height
        if group:
            yield group


def suffix_parts(group: list[Planted]) -> Iterator[list[Planted]]:
    part: list[Planted] = []
    size = 0
    for entry in group:
        height = entry.text.count("\n") + 1
        if part and size + height > SUFFIX_MAX_LINES:
            yield part
            part, size = [], 0
        part.append(entry)
        size += height
    if part:
        yield part


# --- the engine with a recording backend -------------------------------------------------------


class RecordingBackend:
    """An OpenAI-compatible backend's view: every prompt it is asked to complete."""

    name = "recording"
    prompt_format = FORMATS["qwen2.5-coder"]

    def __init__(self) -> None:
        self.prompts: list[Prompt] = []

    async def start(self, progress: Progress) -> None:
        return None

    def count_tokens(self, text: str) -> int | None:
        return None

    async def generate(
        self, prompt: Prompt, params: GenerationParams, usage: Usage
    ) -> AsyncIterator[str]:
        self.prompts.append(prompt)
        yield "pass"

    async def check(self) -> list[str]:
        return ["recording"]

    async def close(self) -> None:
        return None

    def received(self) -> str:
        """Everything sent, as the wire would carry it, and forgets it."""
        sent = "\n".join("".join(s.text for s in p.segments) for p in self.prompts)
        self.prompts.clear()
        return sent


def make_engine(root: Path, max_prompt_tokens: int = 32768) -> tuple[Engine, RecordingBackend]:
    backend = RecordingBackend()
    settings = with_overrides(
        Settings(),
        backend={"kind": "openai", "url": "http://127.0.0.1:9"},
        context={"max_prompt_tokens": max_prompt_tokens},
        completion={"debounce_ms": 0},
    )

    def factory(_: BackendSettings) -> RecordingBackend:
        return backend

    return Engine(
        settings, workspace_root=root, backend_factory=factory, clock=ManualClock()
    ), backend


def names_line(group: list[Planted]) -> str:
    """A line near the cursor that uses the entries' names: what ranks their window first."""
    words = {w for p in group for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", p.markers[0])}
    return " ".join(sorted(words - {REDACTED}))


async def ask(
    engine: Engine, backend: RecordingBackend, uri: str, language: str, text: str, offset: int
) -> str:
    document = engine.documents.open(uri, text, language, 1)
    await engine.complete(document, offset, invoked=True)
    engine.documents.close(uri)  # as the editor does: an open document is everyone's neighbour
    engine.forget(uri)
    sent = backend.received()
    assert sent, "the backend was asked nothing"
    return sent


def leaks(secret: str, sent: str) -> bool:
    """The secret, or any 12 characters of it, in what was sent."""
    size = min(12, len(secret))
    return any(secret[i : i + size] in sent for i in range(len(secret) - size + 1))


def check(group: list[Planted], sent: str, where: str, failures: list[str]) -> None:
    for entry in group:
        for secret in entry.secrets:
            if leaks(secret, sent):
                failures.append(f"{where}: {entry.family} ({entry.style}) sent: {entry.text!r}")
        for marker in entry.markers:
            if marker not in sent:
                failures.append(
                    f"{where}: {entry.family} ({entry.style}) not sent redacted in place: "
                    f"{marker!r} missing"
                )


STYLE_BY_NAME = {s.name: s for s in STYLES}
COMMENT = {
    "python": "# ",
    "typescript": "// ",
    "go": "// ",
    "yaml": "# ",
    "shell": "# ",
    "dotenv": "# ",
}


def main_file(style: Style, group: list[Planted], module: str) -> str:
    """The open file for a neighbour placement: it imports `module` (where the language can) and
    uses the entries' names around the cursor."""
    uses = names_line(group)
    if style.name == "python":
        return f"import {module}\n\n\ndef configure():\n    # {uses}\n    return {module}.\n"
    if style.name == "typescript":
        return f'import * as cfg from "./{module}";\n\n// {uses}\nexport const value = cfg.\n'
    if style.name == "go":
        return f'package main\n\nimport "demo/{module}"\n\n// {uses}\nvar value = {module}.\n'
    if style.name == "json":
        return f'{{\n  "uses": "{uses}",\n  "value": \n}}\n'
    return f"{COMMENT[style.name]}{uses}\nvalue: \n"


@pytest.fixture(scope="module")
def planted() -> list[Planted]:
    return corpus()


def test_corpus_covers_every_family_in_every_style(planted: list[Planted]) -> None:
    families = {p.family for p in planted}
    assert {f.name for f in FAMILIES} <= families
    for family in {f.name for f in FAMILIES} | {"private-key-block", "bearer", "x-api-key"}:
        assert {p.style for p in planted if p.family == family} == {s.name for s in STYLES}
    assert len(planted) >= 250


async def test_no_planted_secret_reaches_the_backend_from_the_open_file(
    tmp_path: Path, planted: list[Planted]
) -> None:
    """(a) The open file: every entry before the cursor (the prefix window, and the secret being
    typed at its very end), then after it (the suffix window)."""
    engine, backend = make_engine(tmp_path)
    failures: list[str] = []
    for number, group in enumerate(chunks(planted)):
        style = STYLE_BY_NAME[group[0].style]
        text = "\n".join(p.text for p in group) + "\n"
        uri = (tmp_path / f"open_{number}{style.suffix}").as_uri()
        sent = await ask(engine, backend, uri, style.language, text, len(text))
        check(group, sent, "prefix", failures)
        for part in suffix_parts(group):  # the suffix window holds a few lines only
            at = text.index(part[0].text)
            sent = await ask(engine, backend, uri, style.language, text, at)
            check(part, sent, "suffix", failures)
        # Being typed: the cursor right after the first 20 characters of the secret.
        for entry in group:
            at = entry.text.index(entry.secrets[0]) + min(20, len(entry.secrets[0]))
            typed = f"{text}\n{entry.text[:at]}"
            sent = await ask(engine, backend, uri, style.language, typed, len(typed))
            if leaks(entry.secrets[0][:20], sent):
                failures.append(f"being typed: {entry.family} ({entry.style}): {entry.text[:at]!r}")
    await engine.close()
    assert not failures, "\n".join(failures)


async def test_no_planted_secret_reaches_the_backend_from_a_neighbour(
    tmp_path: Path, planted: list[Planted]
) -> None:
    """(b) A neighbour: open in the editor (every style), and imported from disk without being
    open (the languages whose imports are resolved)."""
    (tmp_path / "go.mod").write_text("module demo\n\ngo 1.22\n", encoding="utf-8")
    engine, backend = make_engine(tmp_path)
    failures: list[str] = []
    for number, group in enumerate(chunks(planted)):
        style = STYLE_BY_NAME[group[0].style]
        neighbour_text = "\n".join(p.text for p in group) + "\n"
        folder = tmp_path / f"open_{number}"
        folder.mkdir()
        module = f"settings_{number}"
        main = main_file(style, group, module)
        offset = main.index("\n", main.index("value")) if "value" in main else len(main)
        # Open in the editor (not on disk).
        neighbour_uri = (folder / f"{module}{style.suffix}").as_uri()
        engine.documents.open(neighbour_uri, neighbour_text, style.language, 1)
        sent = await ask(
            engine, backend, (folder / f"main{style.suffix}").as_uri(), style.language, main, offset
        )
        check(group, sent, "open neighbour", failures)
        engine.documents.close(neighbour_uri)
        engine.forget(neighbour_uri)
        if style.name in ("python", "typescript", "go"):
            imported = tmp_path / f"imported_{number}"
            imported.mkdir()
            if style.name == "go":
                (imported / module).mkdir()
                (imported / module / f"{module}.go").write_text(
                    f"package {module}\n\n{neighbour_text}", encoding="utf-8"
                )
                main = main.replace(f"demo/{module}", f"demo/imported_{number}/{module}")
            else:
                (imported / f"{module}{style.suffix}").write_text(neighbour_text, encoding="utf-8")
            sent = await ask(
                engine,
                backend,
                (imported / f"main{style.suffix}").as_uri(),
                style.language,
                main,
                offset,
            )
            check(group, sent, "imported neighbour", failures)
    await engine.close()
    assert not failures, "\n".join(failures)


def plain_main_file(style: Style, group: list[Planted]) -> str:
    """An open file that imports nothing and uses the entries' names around the cursor."""
    uses = names_line(group)
    if style.name == "json":
        return f'{{\n  "uses": "{uses}",\n  "value": \n}}\n'
    return f"{COMMENT.get(style.name, '// ')}{uses}\nvalue = \n"


SIGNATURE_FORMS = {
    "python": (
        'def connect_{i}(host: str, {s}: str = "{v}") -> None:\n'
        "    session = open_session(host)\n    session.login()\n    return session\n"
    ),
    "typescript": (
        'export function connect{i}(host: string, {c}: string = "{v}"): Session {{\n'
        "  const session = openSession(host);\n  session.login();\n  return session;\n}}\n"
    ),
}


def signatures(rng: random.Random, style: str) -> list[Planted]:
    """Functions whose default argument is a secret: what outlines and APIs show of a file."""
    made = []
    for i, family in enumerate(f for f in FAMILIES if f.random):
        value, secrets = family.make(rng)
        name = family.name
        text = SIGNATURE_FORMS[style].format(i=i, s=snake(name), c=camel(name), v=value)
        made.append(_planted(family.name, style, text, secrets))
    return made


async def test_no_planted_secret_reaches_the_backend_from_repository_context(
    tmp_path: Path, planted: list[Planted]
) -> None:
    """(c) What the prompt carries of the repository beyond the open and imported files: files of
    the same folder read from disk, the API outline (signatures) of an imported file, and the
    outline of a long current file (signatures it calls, beside a neighbour)."""
    engine, backend = make_engine(tmp_path)
    failures: list[str] = []
    for number, group in enumerate(chunks(planted)):
        style = STYLE_BY_NAME[group[0].style]
        folder = tmp_path / f"folder_{number}"
        folder.mkdir()
        neighbour = "\n".join(p.text for p in group) + "\n"
        (folder / f"defaults_{number}{style.suffix}").write_text(neighbour, encoding="utf-8")
        main = plain_main_file(style, group)
        offset = main.index("value") + len("value = ")
        sent = await ask(
            engine, backend, (folder / f"main{style.suffix}").as_uri(), style.language, main, offset
        )
        check(group, sent, "same-folder file", failures)
    rng = random.Random(2805)
    for language_name in ("python", "typescript"):
        suffix = STYLE_BY_NAME[language_name].suffix
        language = STYLE_BY_NAME[language_name].language
        made = signatures(rng, language_name)
        for start in range(len(made)):  # one per file: its API outline holds 480 characters
            group = made[start : start + 1]
            folder = tmp_path / f"api_{language_name}_{start}"
            folder.mkdir()
            numbers = [int(re.search(r"connect_?(\d+)", p.text)[1]) for p in group]  # type: ignore[index]
            names = [
                f"connect_{n}" if language_name == "python" else f"connect{n}" for n in numbers
            ]
            filler = "\n".join(
                f"# note {n}" if language_name == "python" else f"// note {n}" for n in range(40)
            )
            (folder / f"client{suffix}").write_text(
                "\n".join(p.text for p in group) + filler + "\n", encoding="utf-8"
            )
            if language_name == "python":
                main = f"from client import {', '.join(names)}\n\n\ndef run(host):\n    {names[-1]}(host)\n    return "
            else:
                main = f'import {{ {", ".join(names)} }} from "./client";\n\nexport function run(host: string) {{\n  {names[-1]}(host);\n  return '
            sent = await ask(
                engine, backend, (folder / f"main{suffix}").as_uri(), language, main, len(main)
            )
            check(group, sent, "API outline", failures)
    # The outline of a long current file, beside a neighbour: the signatures its cursor's code calls.
    outline_engine, outline_backend = make_engine(tmp_path, max_prompt_tokens=2048)
    made = signatures(rng, "python")[:3]
    head = "\n".join(p.text for p in made)
    body = "".join(
        f"\n\ndef step_{n}(session):\n    session.run({n})\n    return session\n"
        for n in range(300)
    )
    calls = "".join(f"    connect_{i}(host)\n" for i in range(len(made)))
    text = f"import os\n\n{head}{body}\n\ndef main(host):\n{calls}    return "
    outline_engine.documents.open(
        (tmp_path / "steps.py").as_uri(),
        "def helper(host):\n" + calls + "    return host\n",
        "python",
        1,
    )
    sent = await ask(
        outline_engine, outline_backend, (tmp_path / "long.py").as_uri(), "python", text, len(text)
    )
    assert "def step_0(" not in sent, "the file's start should be out of the prefix window"
    check(made, sent, "current file outline", failures)
    await engine.close()
    await outline_engine.close()
    assert not failures, "\n".join(failures)


# --- near-misses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearMiss:
    kind: str
    style: str
    text: str
    keep: str  # what must reach the model unchanged


def near_misses(seed: int = 2806) -> list[NearMiss]:
    rng = random.Random(seed)

    def sha512() -> str:
        return "sha512-" + base64.b64encode(rng.randbytes(64)).decode()

    def uuid() -> str:
        h = draw(rng, HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    sha256, git_sha, go_sum = (
        draw(rng, HEX, 64),
        draw(rng, HEX, 40),
        base64.b64encode(rng.randbytes(32)).decode(),
    )
    items = [
        # Hashes in lock files and manifests.
        ("lock-hash", "json", '"integrity": "{}",', sha512()),
        ("lock-hash", "yaml", "    resolution: {{integrity: {}}}", sha512()),
        ("lock-hash", "yaml", '  integrity "{}"', sha512()),
        ("lock-hash", "shell", "requests==2.32.3 --hash=sha256:{}", sha256),
        (
            "lock-hash",
            "python",
            'files = [{{file = "requests-2.32.3.tar.gz", hash = "sha256:{}"}}]',
            draw(rng, HEX, 64),
        ),
        ("lock-hash", "yaml", 'checksum = "{}"', draw(rng, HEX, 64)),
        ("lock-hash", "shell", "golang.org/x/net v0.25.0 h1:{}", go_sum),
        (
            "lock-hash",
            "typescript",
            'const sri = "sha384-{}";',
            base64.b64encode(rng.randbytes(48)).decode(),
        ),
        ("lock-hash", "python", 'EXPECTED_SHA256 = "{}"', draw(rng, HEX, 64)),
        ("lock-hash", "go", 'digest := "sha256:{}"', draw(rng, HEX, 64)),
        # UUIDs.
        ("uuid", "python", 'REQUEST_ID = "{}"', uuid()),
        ("uuid", "json", '"id": "{}",', uuid()),
        ("uuid", "python", 'NAMESPACE = uuid.UUID("{}")', uuid()),
        ("uuid", "typescript", 'const correlationId = "{}";', uuid()),
        ("uuid", "yaml", "tenant_id: {}", uuid()),
        ("uuid", "go", 'const projectID = "{}"', uuid()),
        # Git SHAs.
        ("git-sha", "yaml", "    rev: {}", git_sha),
        ("git-sha", "python", 'COMMIT = "{}"', draw(rng, HEX, 40)),
        ("git-sha", "dotenv", "GIT_SHA={}", draw(rng, HEX, 40)),
        ("git-sha", "json", '"sha": "{}",', draw(rng, HEX, 40)),
        (
            "git-sha",
            "go",
            "\tgolang.org/x/tools v0.0.0-20240101000000-{} // indirect",
            draw(rng, HEX, 12),
        ),
        ("git-sha", "shell", "git checkout {}", draw(rng, HEX, 40)),
        # Test fixtures that say so.
        ("fixture", "python", 'api_key = "{}"', "test-api-key"),
        ("fixture", "python", 'password = "{}"', "dummy-password"),
        ("fixture", "yaml", "token: {}", "fake-token-for-tests"),
        ("fixture", "typescript", 'const apiKey = "{}";', "sample-api-key"),
        ("fixture", "json", '"password": "{}",', "mock_password123"),
        ("fixture", "go", 'secret := "{}"', "dummy_secret"),
        ("fixture", "python", 'FAKE_API_KEY = "{}"', "fake_api_key_for_tests"),
        ("fixture", "dotenv", "STRIPE_KEY={}", "test_key_for_ci"),
        ("fixture", "python", 'AWS_SECRET_ACCESS_KEY = "{}"', "EXAMPLE_SECRET_ACCESS_KEY"),
        ("fixture", "python", 'client = Client(token="{}")', "test-token-123"),
        ("fixture", "typescript", "const password = '{}';", "example-password"),
        ("fixture", "shell", 'export API_TOKEN="{}"', "dummy"),
        # Environment variables' names: a reference, not the secret.
        ("env-name", "python", 'api_key = os.environ["{}"]', "API_KEY"),
        ("env-name", "python", 'token = os.getenv("{}")', "GITHUB_TOKEN"),
        ("env-name", "typescript", "const apiKey = process.env.{};", "API_KEY"),
        ("env-name", "python", 'api_key_env = "{}"', "OPENAI_API_KEY"),
        ("env-name", "json", '"apiKeyEnv": "{}",', "ANTHROPIC_API_KEY"),
        (
            "env-name",
            "yaml",
            "      - name: {}\n        valueFrom: {{secretKeyRef: {{name: db, key: password}}}}",
            "DB_PASSWORD",
        ),
        ("env-name", "python", 'password = os.environ.get("{}", "")', "DB_PASSWORD"),
        ("env-name", "go", 'token := os.Getenv("{}")', "SLACK_BOT_TOKEN"),
        ("env-name", "yaml", "token_var: {}", "CI_JOB_TOKEN"),
        ("env-name", "python", 'SECRET_KEY_SOURCE = "{}"', "DJANGO_SECRET_KEY"),
        ("env-name", "python", 'CREDENTIALS_ENV = "{}"', "GOOGLE_APPLICATION_CREDENTIALS"),
        # Placeholders and templates.
        ("placeholder", "python", 'api_key = "{}"', "<your-key>"),
        ("placeholder", "yaml", "token: {}", "${TOKEN}"),
        ("placeholder", "python", 'password = "{}"', "xxxx"),
        ("placeholder", "dotenv", "DB_PASSWORD={}", "changeme"),
        ("placeholder", "python", 'API_KEY = "{}"', "YOUR_API_KEY_HERE"),
        ("placeholder", "json", '"secret": "{}",', "********"),
        ("placeholder", "yaml", "api_key: {}", "{{ .Values.apiKey }}"),
        ("placeholder", "yaml", "    token: {}", "${{ secrets.GITHUB_TOKEN }}"),
        ("placeholder", "python", 'DSN = "postgres://%(user)s:{}@db/app"', "%(password)s"),
        ("placeholder", "shell", 'curl -u "admin:{}" https://ci.example.com', "$ADMIN_PASSWORD"),
        ("placeholder", "python", 'STRIPE_SECRET = "{}"', "sk_live_" + "x" * 24),
        ("placeholder", "python", 'AWS_ACCESS_KEY_ID = "{}"', "AKIA" + "X" * 16),
        ("placeholder", "typescript", "const token = '{}';", "REPLACE_ME"),
        (
            "placeholder",
            "python",
            'DATABASE_URL = "{}"',
            "postgres://user:password@localhost:5432/app",
        ),
        (
            "placeholder",
            "shell",
            "git clone {}",
            "https://oauth2:${GITLAB_TOKEN}@gitlab.example.com/group/repo.git",
        ),
        # Base64 of ordinary text, short values.
        ("short-base64", "python", 'GREETING = base64.b64decode("{}")', "aGVsbG8gd29ybGQ="),
        ("short-base64", "python", 'encoded_user = "{}"', "dXNlcm5hbWU="),
        ("short-base64", "yaml", "greeting_b64: {}", "SGVsbG8sIFdvcmxk"),
        ("short-base64", "typescript", 'const label = atob("{}");', "Zm9vYmFy"),
        ("short-base64", "json", '"icon": "data:image/gif;base64,{}",', "R0lGODlhAQABAAAAACw="),
        # CSS colours.
        ("colour", "typescript", 'const primary = "{}";', "#1a2b3c"),
        ("colour", "yaml", "  --accent-color: {};", "#ff00aa"),
        ("colour", "json", '"background": "{}",', "#0d1117"),
        ("colour", "python", 'KEY_COLOR = "{}"', "#c0ffee"),
        ("colour", "typescript", "const tokenHighlight = '{}';", "rgba(255, 196, 0, 0.35)"),
        # Long ordinary identifiers and names under sensitive-sounding names.
        ("identifier", "python", 'token_type = "{}"', "refresh_token_expires_in"),
        (
            "identifier",
            "python",
            'AUTH_BACKEND = "{}"',
            "django.contrib.auth.backends.ModelBackend",
        ),
        ("identifier", "python", 'cache_key = "{}"', "user_profile_settings_v2"),
        ("identifier", "yaml", "secret_name: {}", "prod/payments/stripe-webhook"),
        ("identifier", "json", '"sessionStorageKey": "{}",', "authenticationStateKey"),
        ("identifier", "typescript", 'const key = "{}";', "keyboardShortcutHandler"),
        (
            "identifier",
            "python",
            'PASSWORD_HASHER = "{}"',
            "django.contrib.auth.hashers.Argon2PasswordHasher",
        ),
        ("identifier", "go", 'const tokenHeader = "{}"', "X-Amz-Security-Token"),
        ("identifier", "python", 'sort_key = "{}"', "created_at_timestamp"),
        (
            "identifier",
            "typescript",
            "const authProvider = '{}';",
            "com.example.auth.TokenProvider",
        ),
        ("identifier", "yaml", "credentials_file: {}", "/etc/app/credentials.json"),
        ("identifier", "python", 'key_file = "{}"', "/etc/ssl/private/server.key"),
        ("identifier", "python", 'token_url = "{}"', "https://oauth2.googleapis.com/token"),
        ("identifier", "dotenv", "AUTH_ISSUER={}", "https://login.example.com/realms/main"),
        ("identifier", "python", 'PRIMARY_KEY_COLUMN = "{}"', "customer_account_identifier"),
        (
            "identifier",
            "typescript",
            'const passwordPolicy = "{}";',
            "MinimumLengthTwelveCharacters",
        ),
        ("identifier", "python", "max_tokens = {}", "4096"),
        ("identifier", "yaml", "token_expiry: {}", "2030-01-01T00:00:00Z"),
        ("identifier", "python", 'password_prompt = "{}"', "Enter the administrator password"),
        ("identifier", "go", 'Password string `json:"{}"`', "password"),
        ("identifier", "python", "def login(username: str, password: str) -> {}:", "Token"),
        ("identifier", "python", 'password = getpass.getpass("{}")', "Password: "),
        ("identifier", "json", '"tokenizer": "{}",', "Qwen/Qwen2.5-Coder-0.5B"),
        ("identifier", "python", 'API_KEY_HEADER = "{}"', "X-API-Key"),
        ("identifier", "typescript", 'const hotkey = "{}";', "ctrl+shift+k"),
        ("identifier", "yaml", "key_ring: {}", "projects/acme-prod/locations/global/keyRings/app"),
        (
            "identifier",
            "json",
            '"authorization_endpoint": "{}",',
            "https://accounts.example.com/o/oauth2/v2/auth",
        ),
        (
            "identifier",
            "python",
            'public_key = "{}"',
            "ssh-ed25519 " + base64.b64encode(rng.randbytes(51)).decode() + " deploy@ci",
        ),
        (
            "lock-hash",
            "json",
            '"resolved": "{}",',
            "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
        ),
        ("lock-hash", "yaml", "checksum: sha256:{}", draw(rng, HEX, 64)),
        ("lock-hash", "python", 'SHA1 = "{}"', draw(rng, HEX, 40)),
        ("uuid", "typescript", 'const _id = new ObjectId("{}");', draw(rng, HEX, 24)),
        ("uuid", "python", 'heroku_app_id = "{}"', uuid()),
        # Public material under a key's name: kept only where its shape says public.
        ("identifier", "python", 'GPG_KEY_FINGERPRINT = "{}"', draw(rng, "0123456789ABCDEF", 40)),
        (
            "identifier",
            "shell",
            "ssh-keygen -lf key.pub  # SHA256:{}",
            base64.b64encode(rng.randbytes(32)).decode().rstrip("="),
        ),
        (
            "identifier",
            "python",
            'STRIPE_PUBLISHABLE_KEY = "{}"',
            "pk_live_" + draw(rng, ALNUM, 24),
        ),
    ]
    return [NearMiss(kind, style, text.format(keep), keep) for kind, style, text, keep in items]


def test_near_miss_corpus_is_varied() -> None:
    made = near_misses()
    kinds = {m.kind for m in made}
    assert kinds == {
        "lock-hash",
        "uuid",
        "git-sha",
        "fixture",
        "env-name",
        "placeholder",
        "short-base64",
        "colour",
        "identifier",
    }
    assert len(made) >= 80


async def test_near_misses_reach_the_backend(tmp_path: Path) -> None:
    """>= 90% of near-misses are sent unchanged (before and after the cursor); the figure is
    printed (`pytest -s`)."""
    engine, backend = make_engine(tmp_path)
    made = near_misses()
    lost: list[str] = []
    for style in STYLES:
        group = [m for m in made if m.style == style.name]
        text = "\n".join(m.text for m in group) + "\n"
        uri = (tmp_path / f"near{style.suffix}").as_uri()
        before = await ask(engine, backend, uri, style.language, text, len(text))
        for start in range(0, len(group), SUFFIX_MAX_LINES // 2):
            part = group[start : start + SUFFIX_MAX_LINES // 2]
            after = await ask(engine, backend, uri, style.language, text, text.index(part[0].text))
            for miss in part:
                if miss.text not in before or miss.text not in after:
                    lost.append(f"{miss.kind} ({miss.style}): {miss.text!r}")
    await engine.close()
    kept = 1 - len(lost) / len(made)
    print(f"\nnear-misses kept: {len(made) - len(lost)} of {len(made)} ({kept:.1%})")
    for line in lost:
        print(f"  redacted: {line}")
    assert kept >= 0.9, "\n".join(lost)


# --- the random rule, measured -----------------------------------------------------------------

ALPHABETS = {
    "hex": HEX,
    "HEX": HEX.upper(),
    "base62": ALNUM,
    "base64": B64,
    "A-Z0-9": UPPER_DIGITS,
    "a-z0-9": string.ascii_lowercase + string.digits,
    "A-Z": string.ascii_uppercase,
    "a-z": string.ascii_lowercase,
}


def test_random_values_under_any_sensitive_name_are_caught() -> None:
    """Random values of every alphabet keys use, assigned to a name that only mentions a secret
    (`PAYMENTS_AUTH`: not one that says what it holds, under which any literal goes): the share
    the random rule redacts, by length (printed with `pytest -s`). 24 characters and more:
    >= 99.5%; 16, the shortest it takes: >= 98%."""
    rng = random.Random(16)
    print()
    for length in (16, 20, 24, 32, 40):
        rates = {}
        for name, alphabet in ALPHABETS.items():
            values = [draw(rng, alphabet, length) for _ in range(400)]
            caught = sum(
                redact(f'PAYMENTS_AUTH = "{v}"') == f'PAYMENTS_AUTH = "{REDACTED}"' for v in values
            )
            rates[name] = caught / len(values)
        print(f"  {length} characters: " + ", ".join(f"{k} {v:.1%}" for k, v in rates.items()))
        floor = 0.995 if length >= 24 else 0.98
        assert min(rates.values()) >= floor, rates


def test_words_are_not_random() -> None:
    """Identifiers, paths, headers' and models' names: as much entropy as keys, but words."""
    words = [
        "GOOGLE_APPLICATION_CREDENTIALS",
        "user_profile_settings_v2",
        "created_at_timestamp",
        "idempotency_key_header",
        "django.contrib.auth.backends.ModelBackend",
        "com.example.auth.TokenProvider",
        "ThisIsAVeryLongIdentifierName",
        "X-Amz-Security-Token",
        "refresh_token_expires_in",
        "/etc/ssl/private/server.key",
        "secrets/production/database",
        "keyboardShortcutHandler",
        "correct-horse-battery-staple",
        "MinimumLengthTwelveCharacters",
        "ANTHROPIC_API_KEY",
        "Qwen/Qwen2.5-Coder-0.5B",
        "s3_bucket_key_v2",
        "getHTTPResponseForAPIKey",
        "2030-01-01T00:00:00Z",
        "abcdefghijklmnopqrstuvwxyz012345",
        "https://oauth2.googleapis.com/token",
    ]
    assert [w for w in words if looks_random(w)] == []


def test_redaction_is_idempotent_and_keeps_the_line(planted: list[Planted]) -> None:
    """Redacting twice changes nothing more (REDACTED is a placeholder), and only the secret
    goes: the text before it on its line stays."""
    for entry in planted:
        once = redact(entry.text)
        assert redact(once) == once, entry.text
        assert redact_prefix(once) == once, entry.text
        assert all(marker in once for marker in entry.markers), (entry.text, once)

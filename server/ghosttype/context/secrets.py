"""Redaction of secrets from any text sent to a model: the context builder runs it on the prefix
and suffix windows, every neighbour snippet and the outline of every prompt
(`context/__init__.py`), uncached, on every keystroke.

Deterministic (the same text always redacts the same way, so prompts stay stable for the KV cache)
and shape-keeping: the key's name, quotes and the block markers stay, only the secret becomes
`REDACTED`, so the model still sees valid code.

A value's shape and entropy count as much as its name (issue 28: rules on names, with exceptions,
let an uppercase key assigned to `VENDOR_API_KEY_ID` and a hex token assigned to `PAYMENTS_AUTH`
through). All the rules are in `RULES`, at the end of this module, one named entry with a comment
each, in the order they run; their parameters are the tables above it (`SHAPES`,
`SENSITIVE_WORDS`, `STRONG_*`, `HOLDS_OTHER`, `PLACEHOLDER`, `FIXTURE_WORDS`, the entropy
thresholds). Measured in `tests/unit/test_secrets_corpus.py` (secrets of every family in every
assignment style, through the engine) and `benchmarks/redaction_cost.py` (the cost).

Cost: nothing scans the text with a pattern that tries many alternatives at every position (the
old rules did, 1.3 ms a 4 KB prompt): literal prefixes and sensitive words are found with
`str.find`, at C speed, and patterns run only where one was found (0.15 ms).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

REDACTED = "REDACTED"

# --- what a random value is --------------------------------------------------------------------

# A value of at least RANDOM_MIN_LENGTH characters, without whitespace, that is not made of words
# (`_wordlike`), not a URL, a date or a sequence, with a Shannon entropy (bits per character) of
# at least ENTROPY_HEX (hex digits only) or ENTROPY_OTHER. Measured, not borrowed: random values
# of 16 characters score at least 2.61 (hex) and 2.95 (A-Z) in 99 draws of 100, of 32 characters
# 3.23 and 3.61, so the thresholds only drop what has too little variety to be a key
# (`aaaabbbbaaaabbbb`). They cannot tell words from keys: English identifiers score 3.2 to 4.1,
# as high as random values of their length (detect-secrets' 4.5 for base64 is out of reach below
# 23 characters, where log2(length) is the ceiling, and its 3.0 for hex lets a quarter of random
# 16-character hex values through). `_wordlike` does that: words have vowels and no long runs of
# consonants, identifiers few digits and capitals only where words start. Of random values of
# the alphabets keys use (2,000 draws each), the rule catches 98.6-100% at 16 characters, 99.3-100%
# at 20, >= 99.8% from 24 on (test_random_values_under_any_sensitive_name_are_caught).
RANDOM_MIN_LENGTH = 16
ENTROPY_HEX = 2.5
ENTROPY_OTHER = 2.9
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_DATE = re.compile(r"[\d\s\-:.,TZ+/]+")  # dates, times, versions, addresses, numbers
_PIECE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_WORD_CHARS = re.compile(r"[A-Za-z0-9_\-./: @]+")
_UNSEPARATED = re.compile(r"[A-Za-z0-9]+")
_CONSONANTS = re.compile(r"[bcdfghjklmnpqrstvwxz]{4}")
_VOWEL = re.compile(r"[aeiouy]")
_DIGRAPHS = re.compile(r"[tcspgw]h|ng|ck")  # one sound: "length", "ANTHROPIC"
_NUMBERED = re.compile(r"(?:^|(?<=[_\-./: @]))[A-Za-z]{1,4}[0-9]{1,2}(?=$|[_\-./: @])")  # s3, v2
_VERSION = re.compile(r"\d+(?:\.\d+)+")  # 2.5, 3.11.7: one piece


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    length = len(value)
    return -sum(n / length * math.log2(n / length) for n in Counter(value).values())


def looks_random(value: str) -> bool:
    """Whether the value is random (see RANDOM_MIN_LENGTH); of its first 256 characters, enough
    to tell, so a huge value costs what a long one does."""
    if len(value) < RANDOM_MIN_LENGTH or " " in value or "\t" in value:
        return False  # prose, or `Bearer <token>` (the http-authorization rule takes the token)
    if "://" in value or _DATE.fullmatch(value):
        return False  # a URL (its password is the url-password rule's), a date, a number
    sample = value[:256]
    threshold = ENTROPY_HEX if _HEX.fullmatch(sample) else ENTROPY_OTHER
    if entropy(sample) < threshold:
        return False
    return not (_wordlike(value) or _sequential(value))


def _word(piece: str) -> bool:
    if len(piece) < 2 or len(piece) > 14:
        return False
    if piece.isupper() and len(piece) <= 4:
        return True  # an acronym: API, XML, AWS
    lower = _DIGRAPHS.sub("h", piece.lower())
    return bool(_VOWEL.search(lower)) and not _CONSONANTS.search(lower)


def _wordlike(value: str) -> bool:
    """Made of words (an identifier, a path, a header's name, a model's name) rather than of
    random characters."""
    if not _WORD_CHARS.fullmatch(value):
        return False  # + = ~ % and the like: base64, not words
    words = _VERSION.sub("0", value) if "." in value else value
    pieces = _PIECE.findall(_NUMBERED.sub("ver", words))
    letters = [p for p in pieces if not p[0].isdigit()]
    if not letters or len(pieces) - len(letters) > 2:
        return False
    if len(value) >= RANDOM_MIN_LENGTH and _UNSEPARATED.fullmatch(value):
        if value.isupper() or (value.islower() and len(pieces) > len(letters)):
            return False  # no `_` nor capital between words, and capitals or digits all through
    if sum(len(p) == 1 for p in letters) > 1:
        return False
    for segment in _UNSEPARATED.findall(value):
        if not segment.isupper() and not segment.islower():
            if sum(p.isupper() for p in _PIECE.findall(segment)) > 2:
                return False  # camelCase has an acronym or two, not capitals all through
    total = sum(map(len, letters))
    if total < 3 * len(letters):
        return False
    return sum(len(p) for p in letters if _word(p)) >= 0.8 * total


def _sequential(value: str) -> bool:
    """`abcdefghijklmnop`, `0123456789abcdef`, `ABCDEF…`: fixtures (their start tells)."""
    return value[:16].lower() in _SEQUENCES


_SEQUENCES = "|".join(
    (
        "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
        "0123456789abcdefghijklmnopqrstuvwxyz0123456789",
        "0123456789abcdef0123456789abcdef",
        "qwertyuiopasdfghjklzxcvbnm",
    )
)


# --- what is kept whatever the name ------------------------------------------------------------

# Templates and masks: `<your-key>`, `${TOKEN}`, `{{ .Values.key }}`, `%(password)s`, `$TOKEN`,
# `xxxx`, `****`.
PLACEHOLDER = re.compile(
    r"(?i)^(?:x{3,}|\*{3,}|\.{3,}|#{3,}|0{3,}|<[^<>]*>|\{[^{}]*\}|\{\{.*\}\}|\$\{.*\}|\$\(.*\)"
    r"|\$[A-Za-z_][A-Za-z0-9_]*|%\(.*\)s|%s|REDACTED)$"
)
# Values made only of these words, digits and separators are fixtures: `test-api-key`,
# `dummy_password`, `YOUR_API_KEY_HERE`, `changeme`, `password123`. (No word here is the start
# of another followed by a word here: the pattern below never backtracks much.)
FIXTURE_WORDS = (
    "your my our the for here goes put insert enter replace with me change this"
    " example examples sample test tests testing dummy fake mock mocked placeholder default demo"
    " foo bar baz qux none null nil undefined empty todo fixme tbd value dev local"
    " key keys api secret secrets token tokens password passwd pass pwd passphrase auth access"
    " private public client app application user username admin root login service"
).split()
_FIXTURE = re.compile(
    rf"(?i)(?:{'|'.join(sorted(FIXTURE_WORDS, key=len, reverse=True))}|[\d_\-.:/ ])+"
)
# A value that says it is made up is kept when what these words leave of it is too short to be a
# secret (`fake-token-abc123`); `test_4eC39HqLyjWDarjtT1zdp7dc` is not: the rest is random.
MARKER_WORDS = re.compile(r"(?i)example|dummy|fake|mock|sample|placeholder|changeme|test")
# A vendor's prefix says the value is a key, whatever words follow (`rk_test_fake`).
VENDOR_PREFIX = re.compile(
    r"[sr]k_(?:live|test)_|sk-|gh[pousr]_|github_pat_|glpat-|xox[abeoprs]-|AKIA|ASIA|npm_|SG\.|hf_"
    r"|AIza|whsec_|pypi-|eyJ|CCIP(?:AT|RJ)_|xapp-|SK[0-9a-fA-F]{8}"
)
# References to a secret kept elsewhere: a path, a URL without credentials, a date or a number;
# and (`_is_reference`) an environment variable's name or a module's dotted name, made of words:
# a 32-character uppercase key is no variable's name (it was taken for one before issue 28).
_REFERENCE = re.compile(
    r"^(?:\.{0,2}/[^\s]*|~/[^\s]*|[a-z][a-z0-9+.\-]*://[^@\s]*|[\d\s\-:.,TZ+/]+)$"
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_CODE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")  # an identifier, or a chain


def _placeholder(value: str) -> bool:
    if PLACEHOLDER.match(value) or _FIXTURE.fullmatch(value):
        return True
    vendor = VENDOR_PREFIX.match(value)
    if len(set(value[vendor.end() :] if vendor else value)) <= 2:
        return True  # `xxxxxxxx`, `sk_live_xxxx…`, `AKIAXXXX…`
    if MARKER_WORDS.search(value) and not vendor:
        return len(_FIXTURE.sub("", MARKER_WORDS.sub("", value))) < 8
    return False


def _is_reference(value: str) -> bool:
    if _REFERENCE.match(value):
        return True
    if _ENV_NAME.match(value) or ("." in value and _CODE.fullmatch(value)):
        return _wordlike(value)
    return False


def _literal_secret(value: str) -> bool:
    """A literal under a name that clearly holds a secret: anything but a placeholder, a
    reference or prose (people choose passwords: no entropy to measure)."""
    return not (len(value) < 4 or _placeholder(value) or " " in value or _is_reference(value))


# --- names -------------------------------------------------------------------------------------

# Words that make a name sensitive wherever they are in it ("key" in `VENDOR_API_KEY_ID`, "auth"
# in `PAYMENTS_AUTH`, "pw" also in "pwd"): a random value under such a name is redacted, with no
# exception for what else the name says.
SENSITIVE_WORDS = ("key", "secret", "token", "auth", "pass", "pw", "cred")
# Names that clearly hold a secret, from their words (camelCase, kebab, dots split; lowercase):
# any literal under them is redacted, random or not.
STRONG_WORD = re.compile(r"passw|passphrase|pwd|secret|credential|authorization")
STRONG_WORDS = frozenset({"token", "tokens", "pass", "pw", "cred", "creds", "apikey"})
STRONG_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("private", "key"),
        ("account", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("auth", "token"),
    }
)
# A strong name whose last word says it holds something else: only random values are redacted
# under it (`token_url = "https://…"`, `secret_path`, `password_prompt`, `token_type = "bearer"`,
# `PASSWORD_HASHER`). `id` is deliberately not here: vendors name secrets `…_KEY_ID` (AWS's access
# key id is half a credential, and a key assigned to `VENDOR_API_KEY_ID` was measured leaking),
# and a random identifier redacted costs the model nothing, as it could not predict one anyway.
HOLDS_OTHER = frozenset(
    """url uri urls endpoint host path paths file filename dir folder name env var type kind
    header len length count size field column label prompt hint help message msg pattern regex
    format prefix suffix expiry expires expiration ttl timeout mode scope scopes policy method
    algorithm alg cls class enabled required hasher hashers validator validators backend
    backends handler provider manager strategy factory""".split()
)
# A strong name whose first word makes it a flag or a count: `max_tokens`, `use_password`.
FLAG_WORDS = frozenset("is has use uses show max min num enable disable allow require".split())
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[^A-Za-z0-9]+")


def _strong_name(name: str) -> bool:
    words = [w.lower() for w in _CAMEL.split(name.strip("-_.$@")) if w]
    if not words:
        return False
    strong = any(w in STRONG_WORDS or STRONG_WORD.search(w) for w in words) or any(
        pair in STRONG_PAIRS for pair in itertools.pairwise(words)
    )
    if not strong or words[-1] in HOLDS_OTHER or words[0] in FLAG_WORDS:
        return False
    return not any(w.startswith("tokeni") for w in words)  # tokenizer, tokenize


# --- known shapes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A token its own text names. `literals` are found with `str.find`; `pattern` is then
    matched `back` characters before each and redacts its group `secret` (all of it when it has
    none). `boundary`: the character before must not be a letter or a digit."""

    name: str
    literals: tuple[str, ...]
    pattern: re.Pattern[str]
    back: int = 0
    boundary: bool = True


def _shape(name: str, literals: str, pattern: str, back: int = 0, boundary: bool = True) -> Shape:
    return Shape(name, tuple(literals.split()), re.compile(pattern), back, boundary)


SHAPES: tuple[Shape, ...] = (
    # AWS access key ids (long-lived AKIA, temporary ASIA, and the other credential prefixes).
    _shape(
        "aws-access-key-id",
        "AKIA ASIA ABIA ACCA",
        r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    ),
    # Google API keys (GCP, Firebase, Maps) and OAuth access tokens.
    _shape("gcp-api-key", "AIza", r"AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])"),
    _shape("google-oauth-token", "ya29.", r"ya29\.[0-9A-Za-z_\-]{20,255}"),
    # GitHub: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server (ghs_), refresh
    # (ghr_), fine-grained personal (github_pat_).
    _shape(
        "github-token", "ghp_ gho_ ghu_ ghs_ ghr_", r"gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])"
    ),
    _shape("github-fine-grained-token", "github_pat_", r"github_pat_[A-Za-z0-9_]{22,255}"),
    # GitLab: personal, deploy, runner, pipeline trigger, feed, CI job, service account tokens.
    _shape(
        "gitlab-token",
        "glpat- gldt- glrt- glptt- glft- glcbt- glsoat-",
        r"gl(?:pat|dt|rt|ptt|ft|cbt|soat)-[A-Za-z0-9_\-]{20,255}(?![A-Za-z0-9_\-])",
    ),
    _shape("gitlab-runner-registration", "GR1348941", r"GR1348941[A-Za-z0-9_\-]{20,255}"),
    # CircleCI personal and project API tokens (older ones are 40 hex: caught by their name).
    _shape("circleci-token", "CCIP", r"CCIP(?:AT|RJ)_[A-Za-z0-9]{20,255}_[A-Fa-f0-9]{40}"),
    # npm and PyPI tokens.
    _shape("npm-token", "npm_", r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    _shape("pypi-token", "pypi-AgE", r"pypi-AgE[A-Za-z0-9_\-]{50,255}"),
    # Slack: bot, user, app-level, refresh and configuration tokens; incoming webhooks.
    _shape("slack-token", "xox", r"xox[abeoprs]-[A-Za-z0-9\-]{10,255}"),
    _shape("slack-app-token", "xapp-", r"xapp-\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]+"),
    _shape(
        "slack-webhook",
        "hooks.slack.com/",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9/_\-]{16,255})",
        boundary=False,
    ),
    # Stripe secret and restricted keys (live and test mode: a test key is still a key to an
    # account), webhook signing secrets. Publishable keys (pk_) are public by design.
    _shape("stripe-key", "k_live_ k_test_", r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,255}", back=1),
    _shape("stripe-webhook-secret", "whsec_", r"whsec_[A-Za-z0-9+/=]{24,255}"),
    # Twilio API keys (auth tokens are 32 hex: caught by their name).
    _shape("twilio-api-key", "SK", r"SK[0-9a-fA-F]{32}(?![A-Za-z0-9])"),
    # SendGrid.
    _shape("sendgrid-key", "SG.", r"SG\.[A-Za-z0-9_\-]{16,255}\.[A-Za-z0-9_\-]{16,255}"),
    # OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-api03-).
    _shape(
        "openai-anthropic-key",
        "sk-",
        r"sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d*-)?[A-Za-z0-9_\-]{20,255}",
    ),
    # Hugging Face, DigitalOcean, Shopify.
    _shape("huggingface-token", "hf_", r"hf_[A-Za-z0-9]{30,255}"),
    _shape("digitalocean-token", "_v1_", r"do[opr]_v1_[a-f0-9]{64}", back=3),
    _shape("shopify-token", "shp", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    # JSON Web Tokens: header and payload are base64 of JSON objects ("eyJ" is '{"').
    _shape(
        "jwt",
        "eyJ",
        r"eyJ[A-Za-z0-9_\-]{8,2048}\.eyJ[A-Za-z0-9_\-]{8,2048}\.[A-Za-z0-9_\-]{0,1024}",
        boundary=False,
    ),
    # Azure: a shared access signature's signature in a URL (`?sv=…&sig=…`), Entra ID (Azure AD)
    # client secrets. Storage account keys (`AccountKey=…`) are caught by their name.
    _shape("azure-sas-signature", "sig=", r"sig=(?P<secret>[A-Za-z0-9%+/=]{20,255})"),
    _shape(
        "azure-client-secret",
        "Q~",
        r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])",
        back=4,
    ),
)


# --- the rules ---------------------------------------------------------------------------------


class _Scan:
    """One text being redacted: the spans to replace, found by the rules."""

    __slots__ = ("_lowered", "open_end", "spans", "text")

    def __init__(self, text: str, open_end: bool) -> None:
        self.text = text
        self.open_end = open_end
        self.spans: list[tuple[int, int]] = []
        self._lowered: str | None = None

    @property
    def lowered(self) -> str:
        if self._lowered is None:
            self._lowered = self.text.lower()
        return self._lowered


_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(\\n|\r?\n)?")
_END = re.compile(r"(\\n|\r?\n)?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# A whole line of base64 of 40 characters or more with upper and lower case and digits (found
# from each line break: `^` in MULTILINE mode is tried at every position, twice as slow).
_KEY_BODY_LINE = re.compile(r"\n[ \t]*([A-Za-z0-9+/]{40,}={0,2})[ \t]*(?=\r?\n|\Z)")
_KEY_BODY_FIRST_LINE = re.compile(r"[ \t]*([A-Za-z0-9+/]{40,}={0,2})[ \t]*(?=\r?\n|\Z)")


def _private_key_blocks(scan: _Scan) -> None:
    text = scan.text
    if "PRIVATE KEY" not in text:
        return
    position = 0
    while True:
        begin = _BEGIN.search(text, position)
        end = _END.search(text, position)
        if end is not None and (begin is None or end.start() < begin.start()):
            scan.spans.append((position, end.start()))  # its start was cut off by the window
            position = end.end()
        elif begin is not None:
            end = _END.search(text, begin.end())
            finish = len(text) if end is None else end.start()  # or its end
            scan.spans.append((begin.end(), finish))
            if end is None:
                return
            position = end.end()
        else:
            return


def _private_key_body_lines(scan: _Scan) -> None:
    if len(scan.text) < 40:
        return
    first = _KEY_BODY_FIRST_LINE.match(scan.text)
    for match in itertools.chain((first,) if first else (), _KEY_BODY_LINE.finditer(scan.text)):
        body = match[1]
        if not (body.isalnum() and (body.islower() or body.isupper() or body.isalpha())):
            scan.spans.append(match.span(1))  # not a hex digest nor a word: base64 of a key


def _known_shapes(scan: _Scan) -> None:
    text = scan.text
    for shape in SHAPES:
        for literal in shape.literals:
            at = text.find(literal)
            while at != -1:
                start = at - shape.back
                at = text.find(literal, at + 1)
                if start < 0 or (shape.boundary and start > 0 and text[start - 1].isalnum()):
                    continue
                match = shape.pattern.match(text, start)
                if match is None:
                    continue
                group = "secret" if "secret" in shape.pattern.groupindex else 0
                if len(set(match[group][-16:])) > 2:  # not `AKIAXXXXXXXXXXXXXXXX`: a mask
                    scan.spans.append(match.span(group))


_AUTH_SCHEME = re.compile(
    r"(?:bearer|basic)[ \t]+(?P<secret>[A-Za-z0-9\-._~+/]{8,2048}={0,2})", re.I
)


def _http_authorization(scan: _Scan) -> None:
    text = scan.text
    if not ("earer" in text or "asic" in text or "EARER" in text or "ASIC" in text):
        return
    for word in ("bearer", "basic"):
        at = scan.lowered.find(word)
        while at != -1:
            match = _AUTH_SCHEME.match(text, at)
            if match and _literal_secret(match["secret"]) and not _wordlike(match["secret"]):
                scan.spans.append(match.span("secret"))
            at = scan.lowered.find(word, at + 1)


_URL_PASSWORD = re.compile(r"://[^/\s:@\"'`]{0,256}:(?P<secret>[^@\s/\"'`]{3,256})@")


def _url_passwords(scan: _Scan) -> None:
    at = scan.text.find("://")
    while at != -1:
        match = _URL_PASSWORD.match(scan.text, at)
        if match and not _placeholder(match["secret"]):
            scan.spans.append(match.span("secret"))
        at = scan.text.find("://", at + 3)


# What follows a name: its closing quote or bracket, an annotation or a Go type, the operator,
# the value (quoted, possibly still being typed at the end of a prefix, or bare). Values are
# bounded, so a pathological line costs linear time.
_AFTER_NAME = re.compile(
    r"""(?P<close>["'`]?\]?)
    (?:
        [ \t]*:[ \t]*[A-Za-z_&*(][\w\[\]., |&*<>()]*?[ \t]*(?P<annotated>=)(?!=)
      | [ \t]+\*?[A-Za-z_][\w.\[\]*]*[ \t]*(?P<typed>=)(?!=)
      | (?P<xml>>)
      | (?P<space>[ \t]*)(?P<op>:=|=>|===?|!==?|\?\?=?|\|\|=?|\?=|=|:|,)
    )
    (?P<after>[ \t]*)
    (?:
        [bBrRuUfF]{0,2}(?P<quote>["'`])
        (?P<quoted>(?:\\.|(?!(?P=quote))[^\\\n`]){0,1024})(?P<closed>(?P=quote))?
      | (?P<bare>[^\s"'`,;<>(){}\[\]\\]{1,512})(?P<rest>[ \t]*(?:(?P<delimiter>[#;&])|//|$|\n|(?P<in_string>(?=["'`]))|(?=[,)}\]])))?
    )""",
    re.X,
)
# Kubernetes, Compose, CI variables: `- name: DB_PASSWORD` and, on the same or the next line,
# `value: …`.
_LISTED_VALUE = re.compile(
    r"""["']?[ \t]*(?:,[ \t]*|\n[ \t]*-?[ \t]*)["']?value["']?[ \t]*:[ \t]*["']?"""
    r"""(?P<value>[^\s"'`,}\]]{1,512})"""
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_NAME_REST = re.compile(r"[A-Za-z0-9_.\-]*")
_SCREAMING = re.compile(r"[A-Z][A-Z0-9_]*")
# After `name:`, a type, not a literal: `password: str`, `token: string`.
_TYPE_WORDS = frozenset(
    """str string bytes int float number bool boolean any unknown object none null undefined
    optional list dict array true false yes no on off""".split()
)


def _assignments(scan: _Scan) -> None:
    text, lowered = scan.text, scan.lowered
    hits = []
    for word in SENSITIVE_WORDS:
        at = lowered.find(word)
        while at != -1:
            hits.append(at)
            at = lowered.find(word, at + len(word))
    hits.sort()
    done = 0  # names and redacted values up to here are handled
    for hit in hits:
        if hit < done:
            continue
        start = hit
        while start > 0 and text[start - 1] in _NAME_CHARS:
            start -= 1
        name_end = _NAME_REST.match(text, hit).end()  # type: ignore[union-attr]
        done = name_end
        span = _assigned(scan, start, name_end)
        if span is not None:
            scan.spans.append(span)
            done = span[1]  # a value that is kept is read on: `url = "…?api_key=…"`


def _assigned(scan: _Scan, start: int, name_end: int) -> tuple[int, int] | None:
    """The span of the secret assigned to the name text[start:name_end], if any."""
    text = scan.text
    name = text[start:name_end]
    listed = _listed(text, start, name_end)
    if listed is not None:
        value, span = listed
        return (
            span if looks_random(value) or (_strong_name(name) and _literal_secret(value)) else None
        )
    match = _AFTER_NAME.match(text, name_end)
    if match is None:
        return None
    quote = match["quote"]
    if quote is not None:
        span = match.span("quoted")
        if match["closed"] is None and not (scan.open_end and match.end() == len(text)):
            return None
    else:
        span = match.span("bare")
    value = text[span[0] : span[1]]
    if "PRIVATE KEY" in value or REDACTED in value:
        return None  # the private-key rules' (they keep the markers)
    op = match["op"]
    if op == "," and not (match["close"] and quote):
        return None  # `f(password, x)`: arguments, not an assignment
    if looks_random(value):
        return span
    if op == "," or "://" in value or not _strong_name(name):
        return None  # a URL's password is the url-password rule's
    if quote is None and not _bare_literal(match, name, value):
        return None
    return span if _literal_secret(value) else None


def _listed(text: str, start: int, name_end: int) -> tuple[str, tuple[int, int]] | None:
    before = text[max(0, start - 16) : start].rstrip(" \t\"'")
    if not before.endswith(":") or not before[:-1].rstrip(" \t\"'").endswith("name"):
        return None
    match = _LISTED_VALUE.match(text, name_end)
    return None if match is None else (match["value"], match.span("value"))


def _bare_literal(match: re.Match[str], name: str, value: str) -> bool:
    """Whether an unquoted value is a literal (`.env`, YAML, INI, a connection string, XML) rather
    than code (`password = get_password()`, `token: str`, `f(password=password)`)."""
    if match["rest"] is None:
        return False  # followed by `(`, `.`, an operator: an expression
    op = match["op"] or ("=" if match["annotated"] or match["typed"] else ">")
    code = _CODE.fullmatch(value) is not None
    if op == ">":
        return True
    if op == ":":
        return not (value.lower() in _TYPE_WORDS or (code and ("." in value or value[0].isupper())))
    if not code:
        return True  # `SECRET_KEY=django-insecure-8x!2k9`, `Password=p@ss&w0rd;`
    if match["in_string"] is not None or (
        op == "=" and not match["space"] and not match["after"] and match["delimiter"] == ";"
    ):
        return True  # in a connection or query string: `"…;Password=hunter2;"`, `"?pwd=x"`
    # A bare identifier is a literal only in the `.env` form: `API_TOKEN=abc123`, no spaces.
    return (
        op == "="
        and not match["space"]
        and not match["after"]
        and _SCREAMING.fullmatch(name) is not None
        and "." not in value
    )


_TYPING_STOP = frozenset(" \t\r\n\"'`=:,;(){}[]<>")
_URL_USER_END = re.compile(r"://[^/\s:@\"'`]{0,256}:\Z")


def _being_typed(scan: _Scan) -> None:
    if not scan.open_end:
        return
    text = scan.text
    end = start = len(text)
    while start > 0 and end - start < 512 and text[start - 1] not in _TYPING_STOP:
        start -= 1
    token = text[start:end]
    if len(token) < 3 or REDACTED in token:
        return
    if text[start - 1 : start] == ":" and _URL_USER_END.search(text, max(0, start - 300), start):
        if not _placeholder(token):
            scan.spans.append((start, end))
    elif (len(token) >= 8 and VENDOR_PREFIX.match(token)) or looks_random(token):
        scan.spans.append((start, end))


@dataclass(frozen=True)
class Rule:
    name: str
    find: Callable[[_Scan], None]


RULES: tuple[Rule, ...] = (
    # PEM, OpenSSH, PGP private keys, also in JSON strings with literal "\n": the body between the
    # markers; to the end of the text for a block whose end a window cut off, from its start for
    # one whose start it cut off.
    Rule("private-key-block", _private_key_blocks),
    # Lines of a key's body with neither marker in the window (a neighbour's 16 lines): a whole
    # line of 40 or more base64 characters mixing cases and digits (a hex digest does not).
    Rule("private-key-body-line", _private_key_body_lines),
    # Tokens whose own text names them (SHAPES: `AKIA…`, `ghp_…`, `xoxb-…`, `sk_live_…`, JWTs),
    # wherever they are and whatever they are assigned to.
    Rule("known-shape", _known_shapes),
    # The credential of an HTTP authorization value: `Bearer <token>`, `Basic <base64>`, unless a
    # placeholder or words (`Bearer YOUR_TOKEN`).
    Rule("http-authorization", _http_authorization),
    # The password of a URL: `postgres://user:password@host`, `redis://:password@host`.
    Rule("url-password", _url_passwords),
    # A value given to a name that mentions a secret, in any syntax (`=`, `:`, `:=`, `=>`, `==`,
    # `||`, a Go type, a Python or TypeScript annotation, `"name", "value"`, XML, `name:`/`value:`
    # lists): random (looks_random) under any name with one of SENSITIVE_WORDS anywhere in it; any
    # literal (_literal_secret) under a strong name (STRONG_*, less HOLDS_OTHER and FLAG_WORDS).
    Rule("assignment", _assignments),
    # redact_prefix only: the token at the very end of the prefix, still being typed, whose
    # shape is not all there yet: a vendor's prefix, a random run, a URL's password before `@`.
    Rule("being-typed", _being_typed),
)


def redact(text: str) -> str:
    """The text with anything that looks like a secret replaced by REDACTED."""
    return _redact(text, False)


def redact_prefix(text: str) -> str:
    """`redact`, and also a secret still being typed at the end of the text: `password = "hunt`,
    `token = "ghp_a1B2`."""
    return _redact(text, True)


def _redact(text: str, open_end: bool) -> str:
    if not text:
        return text
    scan = _Scan(text, open_end)
    for rule in RULES:
        rule.find(scan)
    if not scan.spans:
        return text
    scan.spans.sort()
    parts = []
    position = -1
    for start, end in scan.spans:
        if start < position:  # overlaps the previous span: one REDACTED for both
            position = max(position, end)
            continue
        if start == end:
            continue
        parts += [text[max(position, 0) : start], REDACTED]
        position = end
    parts.append(text[max(position, 0) :])
    return "".join(parts)

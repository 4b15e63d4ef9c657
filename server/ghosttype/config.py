"""The one settings schema, its layered sources, and validation.

Keys are camelCase in every source (TOML files, LSP initialization options, workspace/configuration)
and snake_case in Python. Sources are merged in order, later wins. An unknown key or a bad value is
reported once, in a warning that names the key, and that value is ignored (the earlier layer's value
or the default stays in force). This is the only module that reads configuration files and
environment variables.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BACKEND_KINDS = ("embedded", "openai", "llamacpp", "ollama", "scripted")
PROMPT_FORMATS = (
    "auto",
    "qwen2.5-coder",
    "starcoder2",
    "codellama",
    "deepseek-coder",
    "codestral",
    "codegemma",
    "chat",
)
DEFAULT_URLS = {
    "openai": "http://127.0.0.1:8000",
    "llamacpp": "http://127.0.0.1:8080",
    "ollama": "http://127.0.0.1:11434",
}
# Keys that decide where code and keys are sent, or which files are loaded or written: a
# workspace's own ghosttype.toml arrives with cloned code and may not set them.
_WHERE_KEYS = ("url", "apiKeyEnv", "modelPath", "script", "auditLog")
USER_ONLY_KEYS = frozenset(
    f"{section}.{key}" for section in ("backend", "pauseBackend") for key in _WHERE_KEYS
)
# A bad value here is most likely a key pasted where its variable's name belongs: never echoed.
SECRET_PRONE_KEYS = frozenset(
    {"backend.apiKeyEnv", "backend.url", "pauseBackend.apiKeyEnv", "pauseBackend.url"}
)
DEFAULT_EXCLUDE = ("**/.env", "**/*.pem", "**/*.key", "**/id_rsa*", "**/secrets/**")


@dataclass(frozen=True)
class BackendSettings:
    kind: str = "embedded"
    url: str = ""
    model: str = ""
    model_path: str = ""
    api_key_env: str = ""
    prompt_format: str = "auto"
    timeout_ms: int = 10000
    # scripted only: a JSON file with the tokens and delays to play back (tests, benchmarks).
    script: str = ""
    # embedded only: CPU threads for llama.cpp; 0 means one per core.
    threads: int = 0
    # embedded only: model layers offloaded to a GPU where the llama.cpp build can offload (a
    # CPU-only build ignores it); -1 means all of them, 0 keeps the model on the CPU.
    gpu_layers: int = -1
    # openai and ollama: "client" builds the fill-in-the-middle prompt here and sends it whole
    # (works with every server); "server" sends prefix and suffix for the server's own template
    # (`suffix` on llama-cpp-python's server and some hosted APIs, Ollama's model template).
    fim: str = "client"
    # A file that gets one JSON line per backend request: what was sent (an absolute path, `~`
    # expanded; "" is off). For checking the redaction; see audit.py.
    audit_log: str = ""
    # Not a setting: the KV caches the embedded model keeps (GenerationParams.lane). The pause
    # role needs no lane for short prompts.
    lanes: int = 2

    @property
    def effective_url(self) -> str:
        return (self.url or DEFAULT_URLS.get(self.kind, "")).rstrip("/")


@dataclass(frozen=True)
class CompletionSettings:
    debounce_ms: int | str = "auto"
    max_tokens: int = 128
    multiline: str = "auto"
    candidates: int = 1
    temperature: float = 0.0
    # False: the model's raw text, stopped only at the format's special tokens (one line when
    # multiline is "never"); no stop rules, clean-up or steering. For measuring post-processing.
    postprocess: bool = True
    # True: every request is evaluated from an empty KV cache in the same batches and no answer is
    # served from a cache, so one prompt always gives one answer (llama.cpp's numerics depend on
    # how a prompt was split into batches). For benchmarks; slow.
    deterministic: bool = False
    # Rank a candidate that uses only names that exist (the workspace's symbol index, the
    # imports, the builtins) above one that invents a member or a function (symbols/).
    check_names: bool = True


@dataclass(frozen=True)
class ContextSettings:
    max_prompt_tokens: int = 1024
    neighbours: bool = True
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE


@dataclass(frozen=True)
class EnableSettings:
    languages: Mapping[str, bool] = field(
        default_factory=lambda: {
            "*": True,
            "markdown": False,
            "plaintext": False,
            "gitcommit": False,
        }
    )

    def allows(self, language_id: str) -> bool:
        return bool(self.languages.get(language_id, self.languages.get("*", True)))


# The pause role's model by default (pause_role): the larger embedded model.
PAUSE_MODEL = "qwen2.5-coder-1.5b"


# Running the workspace's code outside a sandbox is the person's decision, never the workspace's.
USER_ONLY_KEYS |= {"actions.allowUnsandboxed"}


@dataclass(frozen=True)
class ActionsSettings:
    """Code actions (docs/actions.md)."""

    # Which model serves them: "pause" (the pause role's, where there is one) or "typing".
    model: str = "pause"
    # Tests run only in a sandbox with no network; true runs them without one where none is
    # found. A user-only key: a workspace's ghosttype.toml may not set it.
    allow_unsandboxed: bool = False
    # Model answers per action: a failing test run's output goes back to the model this often.
    max_attempts: int = 3
    # Limits on a test run.
    timeout_s: int = 60
    memory_mb: int = 2048
    # Tokens per model answer.
    max_tokens: int = 1024
    # Generate tests (Python): the tests also run against this many small changes of the
    # function, and the model is asked once for tests that notice the ones they miss; 0: off.
    mutants: int = 6


@dataclass(frozen=True)
class Settings:
    # The typing role: answers while the person types.
    backend: BackendSettings = field(default_factory=BackendSettings)
    # The pause role: answers when the person pauses or invokes completion, and replaces the
    # typing role's suggestion where it differs. kind "auto": see pause_role; "off": none.
    pause_backend: BackendSettings = field(default_factory=lambda: BackendSettings(kind="auto"))

    def section(self, name: str) -> Any:
        """A section by its name in the schema (camelCase)."""
        return getattr(self, re.sub(r"[A-Z]", lambda upper: "_" + upper[0].lower(), name))

    completion: CompletionSettings = field(default_factory=CompletionSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    enable: EnableSettings = field(default_factory=EnableSettings)
    actions: ActionsSettings = field(default_factory=ActionsSettings)


def _enum(*allowed: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return check


def _int(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ValueError("must be a whole number")
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return int(value)

    return check


def _float(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number")
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return float(value)

    return check


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return str(value)


def _env_name(value: Any) -> str:
    name = _str(value)
    if name and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError("must be the name of an environment variable, not the key itself")
    return name


def _url(value: Any) -> str:
    url = _str(value)
    if url and not re.match(r"https?://[^\s/]+", url):
        raise ValueError("must be an http:// or https:// URL")
    return url


def _path(value: Any) -> str:
    """An absolute file path ("" for none), `~` expanded: a relative one would depend on the
    folder the editor started the server in."""
    path = _str(value)
    if not path:
        return ""
    expanded = os.path.expanduser(path)
    if not os.path.isabs(expanded):
        raise ValueError(
            "must be an absolute path (or start with ~/): the server's working folder is "
            "whatever the editor started it in"
        )
    return expanded


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return bool(value)


def _debounce(value: Any) -> int | str:
    if value == "auto":
        return "auto"
    return _int(0, 5000)(value)


def _globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of glob strings")
    return tuple(value)


def _languages(value: Any) -> dict[str, bool]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, bool) for k, v in value.items()
    ):
        raise ValueError('must be a table of language ids to true/false, e.g. { "*" = true }')
    return dict(value)


_BACKEND_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "kind": ("kind", _enum(*BACKEND_KINDS)),
    "url": ("url", _url),
    "model": ("model", _str),
    "modelPath": ("model_path", _str),
    "apiKeyEnv": ("api_key_env", _env_name),
    "promptFormat": ("prompt_format", _enum(*PROMPT_FORMATS)),
    "timeoutMs": ("timeout_ms", _int(100, 600_000)),
    "script": ("script", _str),
    "threads": ("threads", _int(0, 256)),
    "gpuLayers": ("gpu_layers", _int(-1, 1000)),
    "fim": ("fim", _enum("client", "server")),
    "auditLog": ("audit_log", _path),
}
# section -> camelCase key -> (field name, validator)
SCHEMA: dict[str, dict[str, tuple[str, Callable[[Any], Any]]]] = {
    "backend": _BACKEND_KEYS,
    "pauseBackend": {**_BACKEND_KEYS, "kind": ("kind", _enum("auto", "off", *BACKEND_KINDS))},
    "completion": {
        "debounceMs": ("debounce_ms", _debounce),
        "maxTokens": ("max_tokens", _int(1, 2048)),
        "multiline": ("multiline", _enum("auto", "always", "never")),
        "candidates": ("candidates", _int(1, 5)),
        "temperature": ("temperature", _float(0.0, 2.0)),
        "postprocess": ("postprocess", _bool),
        "deterministic": ("deterministic", _bool),
        "checkNames": ("check_names", _bool),
    },
    "context": {
        "maxPromptTokens": ("max_prompt_tokens", _int(64, 32768)),
        "neighbours": ("neighbours", _bool),
        "exclude": ("exclude", _globs),
    },
    "enable": {
        "languages": ("languages", _languages),
    },
    "actions": {
        "model": ("model", _enum("pause", "typing")),
        "allowUnsandboxed": ("allow_unsandboxed", _bool),
        "maxAttempts": ("max_attempts", _int(1, 10)),
        "timeoutS": ("timeout_s", _int(1, 3600)),
        "memoryMb": ("memory_mb", _int(64, 65536)),
        "maxTokens": ("max_tokens", _int(16, 8192)),
        "mutants": ("mutants", _int(0, 20)),
    },
}
# Sections that belong to someone else (the clients' `server` section) and are ignored silently.
IGNORED_SECTIONS = frozenset({"server"})


@dataclass(frozen=True)
class Layer:
    """One configuration source. `trusted` is False for a workspace's own ghosttype.toml."""

    source: str
    values: Mapping[str, Any]
    trusted: bool = True


@dataclass(frozen=True)
class Resolved:
    settings: Settings
    warnings: tuple[str, ...]


def resolve(layers: list[Layer]) -> Resolved:
    """Merge the layers over the defaults; invalid entries become warnings and are skipped."""
    sections: dict[str, dict[str, Any]] = {name: {} for name in SCHEMA}
    warnings: list[str] = []
    for layer in layers:
        if not isinstance(layer.values, Mapping):
            warnings.append(f"{layer.source}: settings must be a table of sections; ignored")
            continue
        for section, entries in layer.values.items():
            if section in IGNORED_SECTIONS:
                continue
            if section not in SCHEMA:
                warnings.append(f"{layer.source}: unknown setting '{section}'; ignored")
                continue
            if not isinstance(entries, Mapping):
                warnings.append(f"{layer.source}: '{section}' must be a table; ignored")
                continue
            refused = []
            for key, value in entries.items():
                name = f"{section}.{key}"
                if key not in SCHEMA[section]:
                    warnings.append(f"{layer.source}: unknown setting '{name}'; ignored")
                    continue
                if not layer.trusted and name in USER_ONLY_KEYS:
                    refused.append(name)
                    continue
                attribute, check = SCHEMA[section][key]
                try:
                    checked = check(value)
                except ValueError as error:
                    shown = "" if name in SECRET_PRONE_KEYS else f" (got {_shown(value)})"
                    warnings.append(f"{layer.source}: '{name}' {error}{shown}; using the default")
                    continue
                if attribute == "languages":
                    checked = {**sections[section].get(attribute, {}), **checked}
                sections[section][attribute] = checked
            if refused:
                warnings.append(
                    f"{layer.source}: ignored {', '.join(refused)}: a workspace's own "
                    "ghosttype.toml may not choose where code is sent or which files are loaded or "
                    "written; "
                    "set them in your user settings or --config file"
                )
    settings = Settings(
        backend=BackendSettings(**sections["backend"]),
        pause_backend=BackendSettings(**{"kind": "auto", **sections["pauseBackend"]}),
        completion=CompletionSettings(**sections["completion"]),
        context=ContextSettings(**sections["context"]),
        enable=_enable(sections["enable"]),
        actions=ActionsSettings(**sections["actions"]),
    )
    return Resolved(settings, tuple(warnings))


def pause_role(settings: Settings) -> BackendSettings | None:
    """The pause role's backend, or None for no pause role. "auto" is the cascade: the larger
    embedded model behind the default one; behind anything else (a server of the person's, a
    model they chose) the typing role answers pauses too."""
    pause, typing = settings.pause_backend, settings.backend
    if pause.kind == "off":
        return None
    audit_log = pause.audit_log or typing.audit_log
    if pause.kind == "auto":
        default_typing = typing.kind == "embedded" and not typing.model_path
        if not default_typing or typing.model not in ("", "qwen2.5-coder-0.5b"):
            return None
        return replace(
            pause,
            kind="embedded",
            model=pause.model or PAUSE_MODEL,
            threads=pause.threads or typing.threads,
            audit_log=audit_log,
            lanes=1,
        )
    return replace(pause, audit_log=audit_log, lanes=1)


def _enable(values: dict[str, Any]) -> EnableSettings:
    merged = {**EnableSettings().languages, **values.get("languages", {})}
    return EnableSettings(languages=merged)


def _shown(value: Any) -> str:
    # Never echo long values: they might be a pasted key.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_toml(
    path: Path, source: str | None = None, trusted: bool = True
) -> tuple[Layer | None, str | None]:
    """A layer from a TOML file, or a warning that says why it could not be read."""
    name = source or str(path)
    try:
        with path.open("rb") as handle:
            return Layer(name, tomllib.load(handle), trusted), None
    except FileNotFoundError:
        return None, None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return None, f"{name}: cannot read settings ({error}); file ignored"


def workspace_layer(root: Path) -> tuple[Layer | None, str | None]:
    return read_toml(root / "ghosttype.toml", f"{root / 'ghosttype.toml'}", trusted=False)


def api_key(settings: BackendSettings) -> str | None:
    """The API key from the environment variable the settings name (never from the settings)."""
    if not settings.api_key_env:
        return None
    return os.environ.get(settings.api_key_env) or None


def ca_bundle() -> str | None:
    """A CA bundle for HTTPS backends from SSL_CERT_FILE or REQUESTS_CA_BUNDLE (what corporate
    setups export); None leaves the choice to httpx (SSL_CERT_DIR, else certifi)."""
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return value
    return None


def cache_dir() -> Path:
    """Per-user cache folder for assembled model files."""
    override = os.environ.get("GHOSTTYPE_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ghosttype"


def with_overrides(settings: Settings, **sections: Mapping[str, Any]) -> Settings:
    """A copy with some snake_case fields replaced (for tests and benchmarks)."""
    updated = settings
    for section, values in sections.items():
        updated = replace(updated, **{section: replace(getattr(updated, section), **values)})
    return updated


def without_credentials(url: str) -> str:
    """A URL without the user:password some put in it, for anything shown or logged."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@\s]*@", r"\1", url, flags=re.IGNORECASE)


def shown_value(section: str, key: str, value: Any) -> Any:
    """A setting's value as `doctor` shows it: never a credential."""
    return without_credentials(value) if key == "url" else value


def describe(settings: Settings) -> list[str]:
    """One line per setting in force, for `doctor` (no secrets: only the env variable's name, and
    a URL without credentials)."""
    lines = []
    for section in SCHEMA:
        values = settings.section(section)
        for key, (attribute, _) in SCHEMA[section].items():
            lines.append(
                f"{section}.{key} = {shown_value(section, key, getattr(values, attribute))!r}"
            )
    return lines

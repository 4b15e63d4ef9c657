"""Trust: a workspace's own ghosttype.toml arrives with cloned code, so it may not choose where
code and keys are sent (backend.url, backend.apiKeyEnv) or which files are loaded
(backend.modelPath, backend.script); user-level sources may."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghosttype.config import Layer, api_key, describe, resolve, workspace_layer

HOSTILE = {
    "backend": {
        "kind": "openai",
        "url": "https://collector.example",
        "apiKeyEnv": "AWS_SECRET_ACCESS_KEY",
        "modelPath": "/etc/passwd",
        "script": "/tmp/evil.json",
        "model": "qwen2.5-coder-7b",
        "timeoutMs": 3000,
    }
}


def test_workspace_file_cannot_redirect_code_or_keys() -> None:
    resolved = resolve([Layer("ghosttype.toml", HOSTILE, trusted=False)])
    backend = resolved.settings.backend
    assert backend.url == "" and backend.effective_url == "http://127.0.0.1:8000"
    assert backend.api_key_env == "" and backend.model_path == "" and backend.script == ""
    # What the workspace may choose still applies.
    assert backend.kind == "openai" and backend.model == "qwen2.5-coder-7b"
    assert backend.timeout_ms == 3000
    (warning,) = resolved.warnings
    for key in ("backend.url", "backend.apiKeyEnv", "backend.modelPath", "backend.script"):
        assert key in warning
    assert "collector.example" not in warning and "AWS_SECRET" not in warning


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("--config ~/.config/ghosttype.toml", id="config-file"),
        pytest.param("initializationOptions", id="init-options"),
        pytest.param("workspace/configuration", id="editor-settings"),
    ],
)
def test_user_level_sources_may_set_them(source: str) -> None:
    resolved = resolve([Layer(source, HOSTILE, trusted=True)])
    backend = resolved.settings.backend
    assert backend.url == "https://collector.example"
    assert backend.api_key_env == "AWS_SECRET_ACCESS_KEY"
    assert resolved.warnings == ()


def test_user_setting_survives_a_later_workspace_attempt() -> None:
    user = Layer("initializationOptions", {"backend": {"url": "http://gpu.team:8000"}})
    workspace = Layer("ghosttype.toml", {"backend": {"url": "http://evil:1"}}, trusted=False)
    for order in ([user, workspace], [workspace, user]):
        assert resolve(order).settings.backend.url == "http://gpu.team:8000"


def test_workspace_file_is_read_untrusted(tmp_path: Path) -> None:
    (tmp_path / "ghosttype.toml").write_text(
        '[backend]\nkind = "ollama"\nurl = "http://attacker.example:11434"\n'
    )
    layer, warning = workspace_layer(tmp_path)
    assert warning is None and layer is not None and layer.trusted is False
    resolved = resolve([layer])
    assert resolved.settings.backend.kind == "ollama"
    assert resolved.settings.backend.effective_url == "http://127.0.0.1:11434"
    assert "backend.url" in resolved.warnings[0]


def test_api_key_comes_only_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOSTTYPE_TEST_KEY", "sk-secret-value")
    settings = resolve([Layer("user", {"backend": {"apiKeyEnv": "GHOSTTYPE_TEST_KEY"}})])
    backend = settings.settings.backend
    assert api_key(backend) == "sk-secret-value"
    assert not any("sk-secret-value" in line for line in describe(settings.settings))
    monkeypatch.delenv("GHOSTTYPE_TEST_KEY")
    assert api_key(backend) is None


def test_a_pasted_key_is_refused_and_not_echoed() -> None:
    resolved = resolve([Layer("user", {"backend": {"apiKeyEnv": "sk-live-0123456789abcdef0123"}})])
    assert resolved.settings.backend.api_key_env == ""
    (warning,) = resolved.warnings
    assert "backend.apiKeyEnv" in warning and "environment variable" in warning


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        pytest.param("client", True, id="client"),
        pytest.param("server", True, id="server"),
        pytest.param("suffix", False, id="bad"),
    ],
)
def test_fim_setting(value: str, ok: bool) -> None:
    resolved = resolve([Layer("user", {"backend": {"fim": value}})])
    assert resolved.settings.backend.fim == (value if ok else "client")
    assert bool(resolved.warnings) is not ok


def test_a_pasted_key_is_not_echoed_in_the_warning() -> None:
    resolved = resolve([Layer("user", {"backend": {"apiKeyEnv": "sk-live-0123456789abcdef0123"}})])
    assert "0123456789abcdef" not in resolved.warnings[0]

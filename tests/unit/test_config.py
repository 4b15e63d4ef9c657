import pytest

from ghosttype.config import Layer, Settings, resolve, with_overrides


@pytest.mark.parametrize(
    ("values", "expected_warning"),
    [
        pytest.param(
            {"completion": {"bogus": 1}}, "unknown setting 'completion.bogus'", id="unknown-key"
        ),
        pytest.param({"nonsense": {}}, "unknown setting 'nonsense'", id="unknown-section"),
        pytest.param(
            {"completion": {"maxTokens": -3}}, "'completion.maxTokens' must be between", id="range"
        ),
        pytest.param({"completion": {"maxTokens": "many"}}, "must be a whole number", id="type"),
        pytest.param({"backend": {"kind": "gpt"}}, "'backend.kind' must be one of", id="enum"),
        pytest.param(
            {"backend": {"apiKeyEnv": "sk-abc 123"}},
            "name of an environment variable",
            id="key-not-name",
        ),
        pytest.param({"completion": "fast"}, "'completion' must be a table", id="section-type"),
    ],
)
def test_bad_settings_warn_naming_the_key_and_fall_back(values, expected_warning):
    resolved = resolve([Layer("user", values)])
    assert any(expected_warning in w for w in resolved.warnings), resolved.warnings
    assert resolved.settings.completion.max_tokens == 128
    assert resolved.settings.backend.kind == "embedded"


def test_later_layers_win_and_languages_merge():
    resolved = resolve(
        [
            Layer(
                "file",
                {"completion": {"maxTokens": 64}, "enable": {"languages": {"python": False}}},
            ),
            Layer(
                "client", {"completion": {"maxTokens": 32}, "enable": {"languages": {"go": False}}}
            ),
        ]
    )
    settings = resolved.settings
    assert settings.completion.max_tokens == 32
    assert not settings.enable.allows("python") and not settings.enable.allows("go")
    assert settings.enable.allows("rust") and not settings.enable.allows("markdown")
    assert resolved.warnings == ()


def test_invalid_value_keeps_the_earlier_layers_value():
    resolved = resolve(
        [
            Layer("file", {"completion": {"maxTokens": 64}}),
            Layer("client", {"completion": {"maxTokens": 0}}),
        ]
    )
    assert resolved.settings.completion.max_tokens == 64
    assert len(resolved.warnings) == 1


def test_workspace_file_cannot_choose_where_code_goes():
    resolved = resolve(
        [
            Layer(
                "ghosttype.toml",
                {
                    "backend": {
                        "url": "http://evil.example",
                        "apiKeyEnv": "HOME",
                        "modelPath": "/x",
                        "model": "m",
                    }
                },
                trusted=False,
            )
        ]
    )
    backend = resolved.settings.backend
    assert backend.url == "" and backend.api_key_env == "" and backend.model_path == ""
    assert backend.model == "m"  # the model name alone sends nothing anywhere
    (warning,) = resolved.warnings
    assert (
        "backend.url" in warning
        and "backend.apiKeyEnv" in warning
        and "backend.modelPath" in warning
    )


def test_server_section_belongs_to_the_clients_and_is_ignored_silently():
    resolved = resolve([Layer("client", {"server": {"path": "/usr/bin/ghosttype"}})])
    assert resolved.warnings == ()


def test_debounce_accepts_auto_or_milliseconds():
    assert (
        resolve([Layer("u", {"completion": {"debounceMs": 40}})]).settings.completion.debounce_ms
        == 40
    )
    assert (
        resolve(
            [Layer("u", {"completion": {"debounceMs": "auto"}})]
        ).settings.completion.debounce_ms
        == "auto"
    )
    assert resolve([Layer("u", {"completion": {"debounceMs": "soon"}})]).warnings


def test_a_long_bad_value_is_not_echoed_whole():
    secret = "sk-" + "x" * 80
    resolved = resolve([Layer("u", {"backend": {"apiKeyEnv": secret}})])
    assert secret not in resolved.warnings[0]


def test_doctor_never_shows_credentials_in_a_url():
    from ghosttype.config import describe, without_credentials

    settings = with_overrides(
        Settings(), backend={"kind": "openai", "url": "https://bob:hunter2@gpu.internal:8000/v1"}
    )
    shown = "\n".join(describe(settings))
    assert "hunter2" not in shown and "bob" not in shown
    assert "https://gpu.internal:8000/v1" in shown
    assert without_credentials("http://127.0.0.1:8000") == "http://127.0.0.1:8000"

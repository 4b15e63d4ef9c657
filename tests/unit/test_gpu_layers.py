"""backend.gpuLayers: the setting's parsing and default, and the `n_gpu_layers` the embedded backend
passes to llama.cpp (the setting where the build can offload to a GPU, else 0). No model loads."""

from __future__ import annotations

import pytest

from ghosttype.backends.embedded import gpu_layers
from ghosttype.cli import _gpu_offload
from ghosttype.config import BackendSettings, Layer, resolve


def test_the_default_is_all_layers():
    assert BackendSettings().gpu_layers == -1
    assert resolve([]).settings.backend.gpu_layers == -1


@pytest.mark.parametrize("value", [-1, 0, 1, 24, 1000, 12.0])
def test_a_whole_number_from_minus_one_up_is_taken(value):
    resolved = resolve([Layer("user", {"backend": {"gpuLayers": value}})])
    assert resolved.warnings == ()
    assert resolved.settings.backend.gpu_layers == int(value)
    assert type(resolved.settings.backend.gpu_layers) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-2, "must be between -1 and 1000"),
        (1001, "must be between -1 and 1000"),
        (2.5, "must be a whole number"),
        ("all", "must be a whole number"),
        (True, "must be a whole number"),
        (None, "must be a whole number"),
    ],
)
def test_a_bad_value_warns_once_naming_the_key_and_falls_back(value, message):
    resolved = resolve([Layer("user", {"backend": {"gpuLayers": value}})])
    assert len(resolved.warnings) == 1, resolved.warnings
    assert "'backend.gpuLayers'" in resolved.warnings[0]
    assert message in resolved.warnings[0]
    assert resolved.settings.backend.gpu_layers == -1


def test_a_bad_value_keeps_the_earlier_layers_value():
    resolved = resolve(
        [
            Layer("user", {"backend": {"gpuLayers": 0}}),
            Layer("workspace", {"backend": {"gpuLayers": "none"}}, trusted=False),
        ]
    )
    assert resolved.settings.backend.gpu_layers == 0
    assert len(resolved.warnings) == 1


def test_a_workspace_file_may_set_it():
    # It decides where the model runs, not where code goes nor which files are read or written.
    resolved = resolve([Layer("ghosttype.toml", {"backend": {"gpuLayers": 8}}, trusted=False)])
    assert resolved.warnings == ()
    assert resolved.settings.backend.gpu_layers == 8


@pytest.mark.parametrize("setting", [-1, 0, 1, 33])
def test_a_cpu_only_build_offloads_nothing(setting):
    assert gpu_layers(setting, can_offload=False) == 0


@pytest.mark.parametrize("setting", [-1, 0, 1, 33])
def test_a_build_that_can_offload_gets_the_settings_value(setting):
    assert gpu_layers(setting, can_offload=True) == setting


@pytest.mark.parametrize("can_offload", [True, False])
@pytest.mark.parametrize(
    ("setting", "shown"), [(-1, "-1 (all layers)"), (0, "0 (CPU only)"), (20, "20")]
)
def test_doctor_says_whether_it_can_offload_and_what_the_setting_asks(
    monkeypatch, can_offload, setting, shown
):
    llama_cpp = pytest.importorskip("llama_cpp")
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: can_offload)
    can = "yes" if can_offload else "no (a CPU-only llama.cpp build)"
    assert _gpu_offload(setting) == f"GPU offload: {can}; backend.gpuLayers = {shown}"

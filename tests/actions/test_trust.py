"""The trust rule for actions.allowUnsandboxed: a workspace's own ghosttype.toml arrives with
cloned code and may not turn unsandboxed test runs on; the person's user settings may."""

from __future__ import annotations

import pytest

from ghosttype.actions import sandbox
from ghosttype.actions.errors import ActionError
from ghosttype.config import Layer, resolve, workspace_layer

ALLOW = "[actions]\nallowUnsandboxed = true\n"


def test_a_workspace_file_cannot_allow_unsandboxed_runs(tmp_path):
    (tmp_path / "ghosttype.toml").write_text(ALLOW)
    layer, problem = workspace_layer(tmp_path)
    assert layer is not None and problem is None
    resolved = resolve([layer])
    assert resolved.settings.actions.allow_unsandboxed is False
    assert any("actions.allowUnsandboxed" in w for w in resolved.warnings)
    # ...so where no sandbox is found, the run is refused.
    with pytest.raises(ActionError, match="install one"):
        sandbox.choose_sandbox(resolved.settings.actions.allow_unsandboxed, found="")


def test_user_settings_can_allow_them():
    resolved = resolve([Layer("initializationOptions", {"actions": {"allowUnsandboxed": True}})])
    assert resolved.settings.actions.allow_unsandboxed is True and not resolved.warnings
    assert sandbox.choose_sandbox(resolved.settings.actions.allow_unsandboxed, found="") == "none"


def test_a_workspace_file_may_set_the_other_action_settings(tmp_path):
    (tmp_path / "ghosttype.toml").write_text('[actions]\nmaxAttempts = 2\nmodel = "typing"\n')
    layer, _ = workspace_layer(tmp_path)
    assert layer is not None
    resolved = resolve([layer])
    assert resolved.settings.actions.max_attempts == 2 and not resolved.warnings

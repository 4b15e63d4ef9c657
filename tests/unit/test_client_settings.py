"""One settings schema: `ghosttype.config.SCHEMA` and the dataclass defaults are the source of truth,
and every client file that lists settings must agree with them: the VS Code manifest's
`contributes.configuration` (keys, types, enum values, bounds, defaults), `settings.ts`'s
SERVER_KEYS (what the extension sends), the Neovim help's settings table (keys and defaults), and
any `section.key` the clients' docs mention. The `server` section is the clients' own."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ghosttype import config

REPO = Path(__file__).resolve().parents[2]
VSCODE = REPO / "clients" / "vscode"
NEOVIM = REPO / "clients" / "neovim"
CLIENT_SECTION = "server"


def schema_keys() -> list[str]:
    return [f"{section}.{key}" for section, keys in config.SCHEMA.items() for key in keys]


def default(key: str) -> Any:
    """The default of `section.key` as JSON would hold it (tuples as lists, mappings as dicts)."""
    section, name = key.split(".")
    attribute = config.SCHEMA[section][name][0]
    value = getattr(config.Settings().section(section), attribute)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return dict(value)
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, with true never equal to 1 (Python's bool is an int; JSON's is not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def expected_json_schema(key: str) -> dict[str, Any]:
    """What the VS Code manifest must say about `key`, read off the schema's validator."""
    section, name = key.split(".")
    check = config.SCHEMA[section][name][1]
    kind = check.__qualname__.split(".")[0]
    bound = inspect.getclosurevars(check).nonlocals
    if kind == "_enum":
        return {"type": "string", "enum": list(bound["allowed"])}
    if kind in ("_int", "_float"):
        return {
            "type": "integer" if kind == "_int" else "number",
            "minimum": bound["low"],
            "maximum": bound["high"],
        }
    simple = {
        "_str": {"type": "string"},
        "_env_name": {"type": "string"},
        "_url": {"type": "string"},
        "_path": {"type": "string"},
        "_bool": {"type": "boolean"},
        "_debounce": {"type": ["string", "integer"]},
        "_globs": {"type": "array", "items": {"type": "string"}},
        "_languages": {"type": "object", "additionalProperties": {"type": "boolean"}},
    }
    if kind not in simple:
        pytest.fail(f"{key}: validator {kind} is new; teach this test its JSON type", pytrace=False)
    return simple[kind]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def properties(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    contributed = manifest["contributes"]["configuration"]["properties"]
    assert all(k.startswith("ghosttype.") for k in contributed), list(contributed)
    return {k.removeprefix("ghosttype."): v for k, v in contributed.items()}


def test_the_server_ignores_the_clients_own_section():
    assert CLIENT_SECTION not in config.SCHEMA
    assert CLIENT_SECTION in config.IGNORED_SECTIONS


def test_vscode_contributes_every_schema_key_and_no_other(properties):
    contributed = {k for k in properties if not k.startswith(CLIENT_SECTION + ".")}
    assert sorted(contributed) == sorted(schema_keys())


@pytest.mark.parametrize("key", schema_keys())
def test_vscode_setting_type_enum_bounds_and_default_match_the_schema(properties, key):
    prop = properties[key] if key in properties else pytest.fail(f"ghosttype.{key} missing")
    expected = expected_json_schema(key)
    for field, value in expected.items():
        got = prop.get(field)
        if field == "type" and isinstance(value, list):
            got = sorted(got) if isinstance(got, list) else got
            value = sorted(value)
        assert same(got, value), f"ghosttype.{key}: {field} is {got!r}, the schema says {value!r}"
    assert same(prop.get("default"), default(key)), (
        f"ghosttype.{key}: default {prop.get('default')!r}, the schema's is {default(key)!r}"
    )
    description = prop.get("markdownDescription") or prop.get("description") or ""
    assert description.strip(), f"ghosttype.{key} has no description"


def test_vscode_restricts_the_user_only_keys_in_untrusted_workspaces(manifest, properties):
    restricted = manifest["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    for key in sorted(config.USER_ONLY_KEYS):
        assert f"ghosttype.{key}" in restricted, key
        assert properties[key].get("scope") == "machine-overridable", key


def test_vscode_sends_exactly_the_schema_keys():
    source = (VSCODE / "src" / "settings.ts").read_text(encoding="utf-8")
    block = re.search(r"export const SERVER_KEYS = \[(.*?)\] as const", source, re.S)
    assert block, "SERVER_KEYS not found in settings.ts"
    sent = re.findall(r'"([^"]+)"', block.group(1))
    assert len(sent) == len(set(sent)), sent
    assert sorted(sent) == sorted(schema_keys())


def neovim_settings_table() -> dict[str, str]:
    """`section.key` → the default as written, from the settings table in the Neovim help."""
    help_text = (NEOVIM / "doc" / "ghosttype.txt").read_text(encoding="utf-8")
    start = help_text.index("*ghosttype-settings*")
    end = help_text.index("\n\n", start)
    rows = {}
    for line in help_text[start:end].splitlines()[1:]:
        match = re.match(r"\s+(\w+\.\w+)\s+(\S+(?: \S+)*?)(?:\s{2,}.*)?$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def lua_scalar(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"') and text.endswith('"'):
        return json.loads(text)
    try:
        return int(text)
    except ValueError:
        return float(text)


def test_neovim_help_lists_every_schema_key_with_its_default():
    rows = neovim_settings_table()
    assert sorted(rows) == sorted(schema_keys())
    for key, written in rows.items():
        if written.startswith("{"):
            continue  # a list or table: shown abridged
        assert same(lua_scalar(written), default(key)), (
            f"doc/ghosttype.txt: {key} default {written}, the schema's is {default(key)!r}"
        )


DOCS = [
    NEOVIM / "README.md",
    NEOVIM / "doc" / "ghosttype.txt",
    NEOVIM / "lua" / "ghosttype" / "config.lua",
    VSCODE / "README.md",
]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_client_docs_name_only_keys_that_exist(path, properties):
    known = set(schema_keys()) | {k for k in properties if k.startswith(CLIENT_SECTION + ".")}
    sections = "|".join([*config.SCHEMA, CLIENT_SECTION])
    # A file path (docs/actions.md, src/actions.ts) is no key: nothing after a "/" counts.
    named = set(
        re.findall(rf"(?<!/)\b(?:ghosttype\.)?((?:{sections})\.[a-z][A-Za-z]*)\b", path.read_text())
    )
    assert sorted(named - known) == []


def test_vscode_readme_lists_every_setting(properties):
    readme = (VSCODE / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `ghosttype\.([\w.]+)` \|", readme, re.M))
    assert sorted(listed) == sorted(properties)


def test_schema_keys_are_camel_case_dataclass_fields():
    # What the clients mirror is the schema; each entry must name a real field with a default.
    for section, keys in config.SCHEMA.items():
        fields = {f.name for f in dataclasses.fields(config.Settings().section(section))}
        for key, (attribute, _) in keys.items():
            assert re.fullmatch(r"[a-z][A-Za-z]*", key), key
            assert attribute in fields, f"{section}.{key} → {attribute}"

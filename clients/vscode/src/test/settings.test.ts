import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { SERVER_KEYS, languageEnabled, needsRestart, pickSection, toServerSettings, withLanguage, type SettingValue } from "../settings";

function reader(explicit: Record<string, unknown>, defaults: Record<string, unknown> = {}) {
  return (key: string): SettingValue =>
    key in explicit ? { value: explicit[key], explicit: true } : { value: defaults[key], explicit: false };
}

test("only settings a person set are sent, nested by section in camelCase", () => {
  const settings = toServerSettings(
    reader(
      {
        "backend.kind": "openai",
        "backend.url": "http://127.0.0.1:9000",
        "backend.apiKeyEnv": "MY_KEY",
        "completion.maxTokens": 64,
        "context.neighbours": false,
        "enable.languages": { "*": true, python: false },
      },
      { "backend.model": "", "completion.debounceMs": "auto" },
    ),
  );
  assert.deepEqual(settings, {
    backend: { kind: "openai", url: "http://127.0.0.1:9000", apiKeyEnv: "MY_KEY" },
    completion: { maxTokens: 64 },
    context: { neighbours: false },
    enable: { languages: { "*": true, python: false } },
  });
});

test("nothing set gives an empty object (the server's own defaults and ghosttype.toml stay in force)", () => {
  assert.deepEqual(toServerSettings(reader({})), {});
});

test("the client's own server.* settings are never sent", () => {
  const settings = toServerSettings((key) => ({ value: key.startsWith("server.") ? "/x" : undefined, explicit: true }));
  assert.equal("server" in settings, false);
  assert.equal(SERVER_KEYS.some((k) => k.startsWith("server.")), false);
});

test("debounceMs: 'auto' stays, a numeric string becomes a number, a number stays", () => {
  assert.deepEqual(toServerSettings(reader({ "completion.debounceMs": "auto" })), { completion: { debounceMs: "auto" } });
  assert.deepEqual(toServerSettings(reader({ "completion.debounceMs": "150" })), { completion: { debounceMs: 150 } });
  assert.deepEqual(toServerSettings(reader({ "completion.debounceMs": 80 })), { completion: { debounceMs: 80 } });
});

test("every schema key maps to its section and name", () => {
  const all: Record<string, unknown> = {};
  for (const key of SERVER_KEYS) {
    all[key] = `v:${key}`;
  }
  const settings = toServerSettings(reader(all));
  for (const key of SERVER_KEYS) {
    const [section, name] = key.split(".") as [string, string];
    assert.equal(settings[section]?.[name], `v:${key}`, key);
  }
});

test("values are copies: editing the answer does not change VS Code's objects", () => {
  const exclude = ["**/.env"];
  const settings = toServerSettings(reader({ "context.exclude": exclude }));
  (settings["context"]!["exclude"] as string[]).push("x");
  assert.deepEqual(exclude, ["**/.env"]);
});

test("workspace/configuration sections resolve to the whole object, a section, or a key", () => {
  const settings = { backend: { kind: "scripted" }, completion: { maxTokens: 10 } };
  assert.deepEqual(pickSection(settings, "ghosttype"), settings);
  assert.deepEqual(pickSection(settings, "ghosttype.backend"), { kind: "scripted" });
  assert.equal(pickSection(settings, "ghosttype.backend.kind"), "scripted");
  assert.deepEqual(pickSection(settings, "ghosttype.context"), {});
  assert.equal(pickSection(settings, "ghosttype.backend.url"), null);
  assert.equal(pickSection(settings, "ghosttype.server"), null);
  assert.equal(pickSection(settings, "ghosttype.server.path"), null);
  assert.equal(pickSection(settings, "python"), undefined);
  assert.equal(pickSection(settings, undefined), undefined);
});

test("languageEnabled follows the table, then '*', then the defaults", () => {
  assert.equal(languageEnabled(undefined, "python"), true);
  assert.equal(languageEnabled(undefined, "markdown"), false);
  assert.equal(languageEnabled({ "*": false }, "python"), false);
  assert.equal(languageEnabled({ "*": false, python: true }, "python"), true);
  assert.equal(languageEnabled({ python: false }, "python"), false);
  assert.equal(languageEnabled({ markdown: true }, "markdown"), true);
  assert.equal(languageEnabled({ "*": "yes" }, "rust"), true);
});

test("withLanguage switches one entry and keeps the others", () => {
  assert.deepEqual(withLanguage({ "*": true, markdown: false }, "python", false), { "*": true, markdown: false, python: false });
  assert.deepEqual(withLanguage(undefined, "*", false), { "*": false });
  assert.deepEqual(withLanguage({ python: false, bogus: 3 }, "python", true), { python: true });
});

test("a change of server.path or server.args restarts the server; other changes do not", () => {
  assert.equal(needsRestart((s) => s === "ghosttype.server.path"), true);
  assert.equal(needsRestart((s) => s === "ghosttype.server.args"), true);
  assert.equal(needsRestart((s) => s === "ghosttype.backend.kind"), false);
});

test("package.json contributes exactly the mapped keys plus the client's server.* keys", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8"));
  const contributed = Object.keys(manifest.contributes.configuration.properties).map((k: string) => k.replace(/^ghosttype\./, ""));
  const serverKeys = contributed.filter((k: string) => !k.startsWith("server."));
  assert.deepEqual([...serverKeys].sort(), [...SERVER_KEYS].sort());
  assert.deepEqual(contributed.filter((k: string) => k.startsWith("server.")).sort(), ["server.args", "server.maxRestarts", "server.path"]);
});

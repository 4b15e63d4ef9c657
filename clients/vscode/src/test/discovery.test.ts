import { test } from "node:test";
import assert from "node:assert/strict";

import { expandPath, findServer, type DiscoveryInput } from "../discovery";

function machine(executables: string[], overrides: Partial<DiscoveryInput> = {}): DiscoveryInput {
  const set = new Set(executables);
  return {
    configuredPath: "",
    workspaceFolders: ["/home/u/proj"],
    envPath: "/usr/local/bin:/usr/bin",
    home: "/home/u",
    platform: "linux",
    isExecutable: (f) => set.has(f),
    ...overrides,
  };
}

test("the setting wins over the workspace .venv and PATH", () => {
  const found = findServer(
    machine(["/opt/gt/bin/ghosttype", "/home/u/proj/.venv/bin/ghosttype", "/usr/bin/ghosttype"], {
      configuredPath: "/opt/gt/bin/ghosttype",
    }),
  );
  assert.deepEqual([found.ok, found.ok && found.command, found.ok && found.source], [true, "/opt/gt/bin/ghosttype", "setting"]);
});

test("a setting that names nothing executable is an error, not a silent fallback to PATH", () => {
  const found = findServer(machine(["/usr/bin/ghosttype"], { configuredPath: "/nope/ghosttype" }));
  assert.equal(found.ok, false);
  assert.match(!found.ok ? found.reason : "", /ghosttype\.server\.path.*\/nope\/ghosttype.*not an executable/);
});

test("~, ${userHome} and ${workspaceFolder} are expanded; relative paths are against the first folder", () => {
  assert.equal(expandPath("~/venv/bin/ghosttype", ["/w"], "/home/u"), "/home/u/venv/bin/ghosttype");
  assert.equal(expandPath("${userHome}/x", ["/w"], "/home/u"), "/home/u/x");
  assert.equal(expandPath("${workspaceFolder}/.venv/bin/ghosttype", ["/w"], "/home/u"), "/w/.venv/bin/ghosttype");
  assert.equal(expandPath("tools/ghosttype", ["/w"], "/home/u"), "/w/tools/ghosttype");
  const found = findServer(machine(["/home/u/proj/env/bin/ghosttype"], { configuredPath: "${workspaceFolder}/env/bin/ghosttype" }));
  assert.equal(found.ok && found.command, "/home/u/proj/env/bin/ghosttype");
});

test("a bare name in the setting is looked up on PATH", () => {
  const found = findServer(machine(["/usr/bin/ghosttype-dev"], { configuredPath: "ghosttype-dev" }));
  assert.equal(found.ok && found.command, "/usr/bin/ghosttype-dev");
});

test("without a setting, the workspace .venv comes before PATH, in folder order", () => {
  const found = findServer(
    machine(["/home/u/other/.venv/bin/ghosttype", "/usr/bin/ghosttype"], { workspaceFolders: ["/home/u/proj", "/home/u/other"] }),
  );
  assert.equal(found.ok && found.command, "/home/u/other/.venv/bin/ghosttype");
  assert.equal(found.ok && found.source, "workspace .venv");
});

test("an untrusted workspace's .venv is skipped", () => {
  const found = findServer(machine(["/home/u/proj/.venv/bin/ghosttype", "/usr/bin/ghosttype"], { trustWorkspace: false }));
  assert.equal(found.ok && found.command, "/usr/bin/ghosttype");
});

test("PATH is searched in order, empty entries skipped", () => {
  const found = findServer(machine(["/usr/local/bin/ghosttype", "/usr/bin/ghosttype"], { envPath: "::/usr/local/bin:/usr/bin" }));
  assert.equal(found.ok && found.command, "/usr/local/bin/ghosttype");
  assert.equal(found.ok && found.source, "PATH");
});

test("nothing found: a reason that says what to do, and every place tried", () => {
  const found = findServer(machine([]));
  assert.equal(found.ok, false);
  assert.match(!found.ok ? found.reason : "", /pip install ghosttype.*ghosttype\.server\.path/);
  assert.deepEqual(found.tried, ["/home/u/proj/.venv/bin/ghosttype", "/usr/local/bin/ghosttype", "/usr/bin/ghosttype"]);
});

test("Windows: Scripts\\ghosttype.exe and ; as the PATH separator", () => {
  const found = findServer(
    machine(["C:\\py\\ghosttype.exe"], { platform: "win32", workspaceFolders: [], envPath: "C:\\Windows;C:\\py" }),
  );
  assert.equal(found.ok, true);
  assert.match(found.ok ? found.command : "", /ghosttype\.exe$/);
});

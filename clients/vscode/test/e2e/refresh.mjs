#!/usr/bin/env node
// End-to-end test of the cascade's refresh (ghosttype/refreshInlineCompletion) in a real VS Code
// (code-server) driven by Chromium, against the real `ghosttype serve` with a scripted backend per
// role (deterministic, no model): the typing role answers `x = ` with typing(), the pause role with
// paused(); both answer `y = ` with same().
//
//   node test/e2e/refresh.mjs --code-server PATH --vsix FILE --server PATH [--artifacts DIR] [--chromium PATH] [--keep]
//
// Scenario 1: about 0.3 s after typing() is shown, paused() replaces it; every state of the ghost
//   text in the DOM is recorded meanwhile (a MutationObserver) and none is empty; Tab inserts
//   paused().
// Scenario 2: a key typed before the pause answer: no replacement.
// Scenario 3: the same answer from both roles: no replacement (the server counts the pause answer).

import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { editorLines, ghostText, logger, openCodeServer, openFile, parseArgs, recordGhostText, statsText, statusLabel, waitFor } from "./harness.mjs";

const USAGE = "refresh.mjs --code-server PATH --vsix FILE --server PATH [--artifacts DIR] [--chromium PATH] [--keep]";
const args = parseArgs(process.argv.slice(2), ["code-server", "vsix", "server"], USAGE);
const ARTIFACTS = path.resolve(args.artifacts ?? "artifacts");
const log = logger("e2e refresh");

const FILE = "cascade.py";
const scriptsDir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "ghosttype-refresh-scripts-"));
const script = (name, rules) => {
  const file = path.join(scriptsDir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ delayMs: 0, tokenDelayMs: 0, rules, default: { text: "" } }));
  return file;
};
const machineSettings = {
  "ghosttype.server.path": path.resolve(args.server),
  "ghosttype.backend.kind": "scripted",
  "ghosttype.backend.script": script("typing", [
    { endsWith: "x = ", text: "typing()" },
    { endsWith: "y = ", text: "same()" },
  ]),
  "ghosttype.pauseBackend.kind": "scripted",
  "ghosttype.pauseBackend.script": script("pause", [
    { endsWith: "x = ", text: "paused()" },
    { endsWith: "y = ", text: "same()" },
  ]),
  "ghosttype.completion.debounceMs": 0,
};

const pauseCounts = async (page) => {
  const text = await statsText(page);
  const match = /(\d+) pause answers \((\d+) replaced\)/.exec(text);
  if (!match) throw new Error(`no pause answers in ${JSON.stringify(text)}`);
  return { answers: Number(match[1]), replaced: Number(match[2]) };
};

fs.mkdirSync(ARTIFACTS, { recursive: true });
for (const stale of ["vscode-e2e-refresh-failure.png", "vscode-e2e-refresh-logs"]) {
  fs.rmSync(path.join(ARTIFACTS, stale), { recursive: true, force: true });
}

let opened;
let failed = false;
try {
  opened = await openCodeServer({
    codeServer: args["code-server"],
    vsix: path.resolve(args.vsix),
    chromium: args.chromium ?? "/usr/bin/chromium",
    files: { [FILE]: "import os\n" },
    machineSettings,
    log,
  });
  const { page } = opened;
  const editor = await openFile(page, FILE, "import os");
  await waitFor("the status bar item to reach ready", async () => (await statusLabel(page)).startsWith("ghosttype ready"), 60_000, 250);
  log("ready");

  /** A new last line holding `text`, typed; returns once `ghost` is shown. */
  const typeLine = async (text, ghost) => {
    await editor.locator(".view-lines").click();
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    await page.keyboard.type(text, { delay: 40 });
    await waitFor(`the ghost text ${JSON.stringify(ghost)}`, async () => (await ghostText(page)) === ghost, 15_000, 10);
  };

  // ---------- Scenario 1: the pause answer replaces the typing one, never a moment without ----------
  await typeLine("x = ", "typing()");
  const stop = await recordGhostText(page);
  const shown = Date.now();
  await waitFor("the pause role's suggestion", async () => (await ghostText(page)) === "paused()", 15_000, 20);
  log(`paused() replaced typing() ${Date.now() - shown} ms after typing() was seen`);
  await sleep(300);
  const seen = await stop();
  log(`ghost text states: ${JSON.stringify(seen)}`);
  if (JSON.stringify(seen) !== JSON.stringify(["typing()", "paused()"])) {
    throw new Error(`the ghost text went through ${JSON.stringify(seen)}, expected ["typing()","paused()"] (no empty state between)`);
  }
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-refresh.png") });
  await page.keyboard.press("Tab");
  await waitFor("the pause role's text accepted", async () => (await editorLines(page, false)).includes("x = paused()"), 10_000, 50);
  const counts = await pauseCounts(page);
  if (counts.replaced !== 1) throw new Error(`the server counted ${counts.replaced} replacements, expected 1`);
  log("PASS scenario 1: typing() → paused() with no gap, Tab accepted paused()");

  // ---------- Scenario 2: a key typed within the pause: no replacement ----------
  await typeLine("x = ", "typing()");
  const stop2 = await recordGhostText(page);
  await page.keyboard.type("t");
  await waitFor("the rest of the suggestion", async () => (await ghostText(page)) === "yping()", 5_000, 10);
  await sleep(1500);
  const seen2 = await stop2();
  log(`ghost text states: ${JSON.stringify(seen2)}`);
  if (seen2.includes("paused()") || (await ghostText(page)) !== "yping()") {
    throw new Error(`a key typed before the pause answer: the ghost text went through ${JSON.stringify(seen2)}`);
  }
  if ((await pauseCounts(page)).replaced !== 1) throw new Error("the server replaced after a key was typed");
  log("PASS scenario 2: typing within the pause keeps the typing suggestion");

  // ---------- Scenario 3: the same answer from both roles: nothing replaced ----------
  const before = (await pauseCounts(page)).answers;
  await typeLine("y = ", "same()");
  await sleep(1000);
  if ((await ghostText(page)) !== "same()") throw new Error(`the ghost text changed to ${JSON.stringify(await ghostText(page))}`);
  await waitFor("the pause role's answer", async () => (await pauseCounts(page)).answers > before, 15_000, 300);
  if ((await pauseCounts(page)).replaced !== 1) throw new Error("the same answer was pushed as a replacement");
  log("PASS scenario 3: the same answer from both roles replaces nothing");
  log("all passed");
} catch (error) {
  failed = true;
  opened ??= error?.opened;
  console.error(`[e2e refresh] FAIL: ${error?.stack ?? error}`);
  try {
    const page = opened?.page;
    if (page) await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-refresh-failure.png") });
  } catch {}
} finally {
  await opened?.close(failed, ARTIFACTS, Boolean(args.keep), "vscode-e2e-refresh-logs");
  fs.rmSync(scriptsDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

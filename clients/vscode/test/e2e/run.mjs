#!/usr/bin/env node
// End-to-end test of the ghosttype extension in a real VS Code (code-server), driven by Debian's
// Chromium through playwright-core, against the real `ghosttype serve`.
//
//   node test/e2e/run.mjs --code-server PATH --vsix FILE --server PATH [--artifacts DIR] [--keep]
//
// Scenario 1 (embedded model, the default backend): the status bar item reaches `ready`; typing in
//   a Python file shows ghost text; Tab inserts exactly that text; the server counts the accept.
// Scenario 2 (settings applied live): switching ghosttype.backend.kind to "scripted" in the user
//   settings, without a restart, makes the next suggestion come from the script.
// Scenario 3: the status bar menu switches completions off and on for the language.
// Scenario 4: a jump of the cursor to another line reaches the server (ghosttype/didMoveCursor,
//   counted as cursorMoves in its stats); typing onto a new line sends none.
// Scenarios 5 and 6 (vscode-languageclient's restart policy, ghosttype.server.maxRestarts = 1): a
//   killed server is restarted once; killed again, it is not, and the status bar says why.
// Exits 0 when everything passed; writes screenshots and, on failure, the logs under --artifacts.
// The set-up and the DOM readers are shared with refresh.mjs (harness.mjs).

import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { editorLines, ghostText, logger, openCodeServer, openFile, parseArgs, runCommand, statsText as readStats, statusLabel, waitFor } from "./harness.mjs";

const USAGE = "run.mjs --code-server PATH --vsix FILE --server PATH [--artifacts DIR] [--chromium PATH] [--keep]";
const args = parseArgs(process.argv.slice(2), ["code-server", "vsix", "server"], USAGE);
const SERVER = path.resolve(args.server);
const ARTIFACTS = path.resolve(args.artifacts ?? "artifacts");
const log = logger("e2e");
const started = Date.now();

fs.mkdirSync(ARTIFACTS, { recursive: true });
// Evidence of an earlier failed run would mislead: start clean.
for (const stale of ["vscode-e2e-failure.png", "vscode-e2e-logs"]) {
  fs.rmSync(path.join(ARTIFACTS, stale), { recursive: true, force: true });
}

const FILE = "calc.py";
// code-server is a remote window: settings with machine scope (ghosttype.server.path,
// backend.url, backend.script, ...) come from the remote ("Machine") settings, not the user's.
const ghosttypeSettings = {
  "ghosttype.server.path": SERVER,
  "ghosttype.completion.maxTokens": 24,
  // One restart after a crash, so scenario 6 sees the language client give up on the second.
  "ghosttype.server.maxRestarts": 1,
};

let opened;
let failed = false;
process.on("SIGINT", () => {
  void opened?.close(false).finally(() => process.exit(130));
});

try {
  opened = await openCodeServer({
    codeServer: args["code-server"],
    vsix: path.resolve(args.vsix),
    chromium: args.chromium ?? "/usr/bin/chromium",
    files: { [FILE]: "def add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n" },
    machineSettings: ghosttypeSettings,
    log,
  });
  const { page, root, userData, codeServer } = opened;
  const settingsFile = path.join(userData, "Machine", "settings.json");
  const scriptFile = path.join(root, "script.json");
  fs.writeFileSync(scriptFile, JSON.stringify({ rules: [{ endsWith: "x = ", text: "compute(1, 2)" }] }));
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });

  // Watch the status bar item from the start, recording each state it shows.
  const statusSeen = [];
  let statusWatch = true;
  const statusLoop = (async () => {
    while (statusWatch) {
      const label = await statusLabel(page);
      if (label && statusSeen[statusSeen.length - 1] !== label) {
        statusSeen.push(label);
        log(`status bar: ${label}`);
      }
      await sleep(100);
    }
  })();
  const statusNow = () => statusSeen[statusSeen.length - 1] ?? "";

  const editor = await openFile(page, FILE, "def multiply");
  log(`${FILE} open`);

  await waitFor("the status bar item to reach ready", async () => statusNow().startsWith("ghosttype ready"), 120_000, 250);
  log(`status reached ready (seen: ${statusSeen.map((s) => s.split(":")[0]).join(" → ")})`);

  // ---------- Scenario 1: the embedded model ----------
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+End");
  const typed = "    return a";
  await page.keyboard.type(typed, { delay: 60 });
  const t0 = Date.now();
  log(`typed ${JSON.stringify(typed)}; waiting for ghost text`);
  await page.locator(".editor-group-container .ghost-text-decoration, .editor-group-container .ghost-text").first().waitFor({ timeout: 60_000 });
  await sleep(300); // let a streaming/multi-line ghost settle
  const ghost = await ghostText(page);
  const withGhost = await editorLines(page, true);
  const before = await editorLines(page, false);
  log(`ghost text after ${Date.now() - t0} ms: ${JSON.stringify(ghost)}`);
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-ghost-text.png") });
  if (!ghost.trim()) throw new Error("the ghost text is empty");
  if (!before.some((l) => l.startsWith(typed))) throw new Error(`the typed text is not in the editor: ${JSON.stringify(before)}`);

  await page.keyboard.press("Tab");
  const after = await waitFor("the accepted text in the editor", async () => {
    const lines = await editorLines(page, false);
    return lines.join("\n") !== before.join("\n") ? lines : undefined;
  }, 10_000, 50);
  await sleep(200);
  const afterSettled = await editorLines(page, false);
  log(`after Tab: ${JSON.stringify(afterSettled.slice(-3))}`);
  assertEqualLines(afterSettled.length ? afterSettled : after, withGhost, "editor text after Tab equals the text shown with the ghost text");
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-accepted.png") });
  log("PASS scenario 1: ghost text shown and accepted exactly");

  // The accept ran the item's command (ghosttype.accepted → workspace/executeCommand).
  const statsText = await readStats(page);
  log(`stats: ${statsText}`);
  const accepted = Number(/(\d+) accepted/.exec(statsText)?.[1] ?? "0");
  if (accepted < 1) throw new Error(`the server counted no acceptance: ${statsText}`);
  log("PASS acceptance reported to the server");
  await page.keyboard.press("Escape");

  // ---------- Scenario 2: settings applied live (no restart) ----------
  fs.writeFileSync(
    settingsFile,
    JSON.stringify({ ...ghosttypeSettings, "ghosttype.backend.kind": "scripted", "ghosttype.backend.script": scriptFile }, null, 2),
  );
  log("switched ghosttype.backend.kind to scripted in the settings");
  await sleep(1500);
  await waitFor("the status bar item to be ready again", async () => statusNow().startsWith("ghosttype ready"), 60_000, 250);
  await editor.locator(".view-lines").click();
  let scripted = "";
  for (let attempt = 1; attempt <= 4 && scripted !== "compute(1, 2)"; attempt++) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+End");
    if (attempt === 1) {
      await page.keyboard.press("End");
      await page.keyboard.press("Enter");
      await page.keyboard.type("x = ", { delay: 60 });
    } else {
      await page.keyboard.press("Backspace");
      await page.keyboard.type(" ", { delay: 60 });
    }
    await page.locator(".editor-group-container .ghost-text-decoration").first().waitFor({ timeout: 20_000 }).catch(() => {});
    await sleep(200);
    scripted = await ghostText(page);
    log(`attempt ${attempt}: ghost text ${JSON.stringify(scripted)}`);
  }
  if (scripted !== "compute(1, 2)") throw new Error(`expected the scripted suggestion "compute(1, 2)", got ${JSON.stringify(scripted)}`);
  await page.keyboard.press("Tab");
  await waitFor("the scripted text in the editor", async () => (await editorLines(page, false)).some((l) => /^\s*x = compute\(1, 2\)$/.test(l)), 10_000, 50);
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-live-settings.png") });
  log("PASS scenario 2: settings change applied without a restart");

  // ---------- Scenario 3: the status bar menu switches completions off for the language ----------
  await clickStatus(page);
  await pickMenuEntry(page, "Disable completions for python");
  await waitFor("the status item to show disabled", async () => statusNow().startsWith("ghosttype disabled"), 10_000, 100);
  const userSettings = JSON.parse(fs.readFileSync(path.join(userData, "User", "settings.json"), "utf8"));
  if (userSettings["ghosttype.enable.languages"]?.python !== false) {
    throw new Error(`the menu did not write enable.languages.python = false: ${JSON.stringify(userSettings["ghosttype.enable.languages"])}`);
  }
  await clickStatus(page);
  await pickMenuEntry(page, "Enable completions for python");
  await waitFor("the status item to leave disabled", async () => !statusNow().startsWith("ghosttype disabled"), 10_000, 100);
  log(`PASS scenario 3: status bar menu switched python off and on (${statusNow()})`);

  // ---------- Scenario 4: cursor moves without typing reach the server ----------
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+End");
  await sleep(600);
  const movesBefore = await cursorMoves(page);
  await page.keyboard.press("Control+Home");
  const movesAfterJump = await waitFor("the jump's cue in the server's stats", async () => {
    const n = await cursorMoves(page);
    return n > movesBefore ? n : undefined;
  }, 15_000, 300);
  log(`cursor at ${await cursorPlace(page)}; the server counted ${movesAfterJump - movesBefore} cursor move(s) for the jump`);
  if (movesAfterJump !== movesBefore + 1) throw new Error(`one jump gave ${movesAfterJump - movesBefore} cursor moves`);
  // Typing, Enter included, moves the cursor to another line: no cue for that.
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("# typed here", { delay: 60 });
  await page.keyboard.press("Escape");
  await sleep(800);
  const movesAfterTyping = await cursorMoves(page);
  log(`cursor at ${await cursorPlace(page)} after typing; cursor moves ${movesAfterJump} -> ${movesAfterTyping}`);
  if (movesAfterTyping !== movesAfterJump) throw new Error(`typing sent ${movesAfterTyping - movesAfterJump} cursor move(s)`);
  log("PASS scenario 4: a jump sends one cursor move, typing none");

  // ---------- Scenario 5: a crashed server is restarted ----------
  const victim = descendants(codeServer.pid).find((p) => /ghosttype\S*\s+serve\b/.test(p.cmd));
  if (!victim) throw new Error("could not find the ghosttype serve process under code-server");
  const seenBefore = statusSeen.length;
  process.kill(victim.pid, "SIGKILL");
  log(`killed the server (pid ${victim.pid})`);
  await waitFor("the server to come back", async () => {
    const restarted = statusSeen.slice(seenBefore).some((l) => l.startsWith("ghosttype starting"));
    return restarted && statusNow().startsWith("ghosttype ready");
  }, 60_000, 200);
  const again = descendants(codeServer.pid).find((p) => /ghosttype\S*\s+serve\b/.test(p.cmd));
  if (!again || again.pid === victim.pid) throw new Error("no new server process after the crash");
  log(`PASS scenario 5: server restarted after a crash (new pid ${again.pid}; ${statusNow()})`);

  // ---------- Scenario 6: after maxRestarts restarts, the next crash is not restarted ----------
  const seenBeforeSecond = statusSeen.length;
  process.kill(again.pid, "SIGKILL");
  log(`killed the server again (pid ${again.pid}); ghosttype.server.maxRestarts is 1`);
  await waitFor("the status bar item to report the crashes", async () => /^ghosttype error: .*crashed 2 times/.test(statusNow()), 30_000, 200);
  await sleep(1000);
  const third = descendants(codeServer.pid).find((p) => /ghosttype\S*\s+serve\b/.test(p.cmd));
  if (third) throw new Error(`the server was restarted beyond ghosttype.server.maxRestarts (pid ${third.pid})`);
  if (statusSeen.slice(seenBeforeSecond).some((l) => l.startsWith("ghosttype starting"))) {
    throw new Error(`the status went through starting after the last allowed restart: ${statusSeen.slice(seenBeforeSecond).join(" → ")}`);
  }
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-gave-up.png") });
  log(`PASS scenario 6: not restarted after the second crash (${statusNow()})`);

  statusWatch = false;
  await statusLoop;
  if (consoleErrors.length) log(`browser console errors (not fatal): ${consoleErrors.length}`);
  log(`all passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  failed = true;
  opened ??= error?.opened;
  console.error(`[e2e] FAIL: ${error?.stack ?? error}`);
  try {
    if (opened?.page) await opened.page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-failure.png") });
  } catch {}
} finally {
  await opened?.close(failed, ARTIFACTS, Boolean(args.keep));
}
process.exit(failed ? 1 : 0);

// ---------- helpers ----------

function assertEqualLines(actual, expected, what) {
  const strip = (lines) => {
    const out = [...lines];
    while (out.length && out[out.length - 1] === "") out.pop();
    return out;
  };
  const a = strip(actual).join("\n");
  const e = strip(expected).join("\n");
  if (a !== e) {
    throw new Error(`${what}: mismatch\n--- expected (with ghost text)\n${e}\n--- actual (after Tab)\n${a}`);
  }
}

/** Processes below `pid` (from /proc), with their command lines. */
function descendants(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push({ pid: Number(entry), cmd });
    } catch {}
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

async function clickStatus(page) {
  const item = page.locator('.part.statusbar [aria-label^="ghosttype "]').first();
  await item.click();
}

async function pickMenuEntry(page, label) {
  const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: label }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}

/** The server's cursorMoves, from a fresh "ghosttype: Show Statistics" notification. */
async function cursorMoves(page) {
  const text = await readStats(page);
  const count = /(\d+) cursor moves/.exec(text);
  if (!count) throw new Error(`no cursor moves in ${JSON.stringify(text)}`);
  return Number(count[1]);
}

/** The "Ln 1, Col 1" status bar entry: where the editor's cursor is. */
async function cursorPlace(page) {
  return (await page.locator(".part.statusbar [id='status.editor.selection']").first().textContent().catch(() => ""))?.trim() ?? "";
}

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

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

const args = parseArgs(process.argv.slice(2));
const CODE_SERVER = required("code-server");
const VSIX = path.resolve(required("vsix"));
const SERVER = path.resolve(required("server"));
const ARTIFACTS = path.resolve(args.artifacts ?? "artifacts");
const CHROMIUM = args.chromium ?? "/usr/bin/chromium";
const KEEP = Boolean(args.keep);
const started = Date.now();

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (key === "keep") out.keep = true;
    else out[key] = argv[++i];
  }
  return out;
}
function required(name) {
  if (!args[name]) {
    console.error(`usage: run.mjs --code-server PATH --vsix FILE --server PATH [--artifacts DIR] [--chromium PATH] [--keep]\nmissing --${name}`);
    process.exit(2);
  }
  return args[name];
}
function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}
async function waitFor(what, fn, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (${last.message})` : ""}`);
}

// ---------- a fresh VS Code profile, workspace and extensions folder ----------
const root = fs.mkdtempSync(path.join(os.tmpdir(), "ghosttype-e2e-"));
const userData = path.join(root, "user-data");
const extensions = path.join(root, "extensions");
const workspace = path.join(root, "workspace");
const xdg = path.join(root, "xdg");
for (const d of [userData, extensions, workspace, path.join(userData, "User"), path.join(xdg, "config"), path.join(xdg, "data")]) {
  fs.mkdirSync(d, { recursive: true });
}
fs.mkdirSync(ARTIFACTS, { recursive: true });
// Evidence of an earlier failed run would mislead: start clean.
for (const stale of ["vscode-e2e-failure.png", "vscode-e2e-logs"]) {
  fs.rmSync(path.join(ARTIFACTS, stale), { recursive: true, force: true });
}

const FILE = "calc.py";
fs.writeFileSync(
  path.join(workspace, FILE),
  "def add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n",
);
const scriptFile = path.join(root, "script.json");
fs.writeFileSync(scriptFile, JSON.stringify({ rules: [{ endsWith: "x = ", text: "compute(1, 2)" }] }));

const baseSettings = {
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "workbench.enableExperiments": false,
  "workbench.tips.enabled": false,
  "editor.inlineSuggest.enabled": true,
  // Keep the suggest widget away so Tab goes to the ghost text.
  "editor.quickSuggestions": { other: false, comments: false, strings: false },
  "editor.suggestOnTriggerCharacters": false,
  "editor.wordBasedSuggestions": "off",
  "editor.minimap.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
};
// code-server is a remote window: settings with machine scope (ghosttype.server.path,
// backend.url, backend.script, ...) come from the remote ("Machine") settings, not the user's.
const ghosttypeSettings = {
  "ghosttype.server.path": SERVER,
  "ghosttype.completion.maxTokens": 24,
  // One restart after a crash, so scenario 6 sees the language client give up on the second.
  "ghosttype.server.maxRestarts": 1,
};
fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(baseSettings, null, 2));
fs.mkdirSync(path.join(userData, "Machine"), { recursive: true });
const settingsFile = path.join(userData, "Machine", "settings.json");
fs.writeFileSync(settingsFile, JSON.stringify(ghosttypeSettings, null, 2));

const env = {
  ...process.env,
  XDG_CONFIG_HOME: path.join(xdg, "config"),
  XDG_DATA_HOME: path.join(xdg, "data"),
  // Make the extension's output channel log at debug level (it logs each suggestion).
  VSCODE_LOG_LEVEL: "debug",
};
delete env.VSCODE_IPC_HOOK_CLI;

let codeServer;
let browser;
let failed = false;

function cleanup() {
  if (browser) browser.close().catch(() => {});
  if (codeServer && codeServer.exitCode === null) {
    try {
      process.kill(-codeServer.pid, "SIGTERM");
    } catch {}
  }
}
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

try {
  log(`installing ${path.basename(VSIX)} into a fresh extensions folder`);
  const install = spawnSync(
    CODE_SERVER,
    ["--extensions-dir", extensions, "--user-data-dir", userData, "--install-extension", VSIX],
    { env, encoding: "utf8", timeout: 120_000 },
  );
  if (install.status !== 0) {
    throw new Error(`installing the VSIX failed (exit ${install.status}):\n${install.stdout}\n${install.stderr}`);
  }
  const installed = fs.readdirSync(extensions).filter((d) => d.startsWith("ghosttype."));
  if (installed.length !== 1) throw new Error(`the VSIX did not install (extensions folder: ${fs.readdirSync(extensions)})`);
  log(`installed ${installed[0]}`);

  const port = await freePort();
  const csLog = fs.openSync(path.join(root, "code-server.log"), "w");
  codeServer = spawn(
    CODE_SERVER,
    [
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      "--user-data-dir", userData,
      "--extensions-dir", extensions,
      "--log", "debug",
      workspace,
    ],
    { env, stdio: ["ignore", csLog, csLog], detached: true },
  );
  await waitFor("code-server to listen", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    return res?.ok;
  }, 60_000);
  log(`code-server up on port ${port}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
  log("workbench loaded");

  // Watch the status bar item from the start, recording each state it shows.
  const statusSeen = [];
  let statusWatch = true;
  const statusLoop = (async () => {
    while (statusWatch) {
      const label = await page
        .evaluate(() => {
          const el = [...document.querySelectorAll(".part.statusbar [aria-label]")].find((e) =>
            (e.getAttribute("aria-label") ?? "").startsWith("ghosttype "),
          );
          return el ? el.getAttribute("aria-label") : null;
        })
        .catch(() => null);
      if (label && statusSeen[statusSeen.length - 1] !== label) {
        statusSeen.push(label);
        log(`status bar: ${label}`);
      }
      await sleep(100);
    }
  })();
  const statusNow = () => statusSeen[statusSeen.length - 1] ?? "";

  // Open the file from the Explorer.
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${FILE}"], .explorer-folders-view .monaco-list-row:has-text("${FILE}")`).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  const editor = page.locator(".editor-group-container .monaco-editor").first();
  await editor.locator(".view-lines").waitFor({ timeout: 30_000 });
  await waitFor(`${FILE} in the editor`, async () => (await editorLines(page, false)).join("\n").includes("def multiply"), 30_000);
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
  await runCommand(page, "ghosttype: Show Statistics");
  const statsText = await waitFor("the statistics notification", async () => {
    const texts = await page.locator(".notifications-toasts .notification-list-item-message").allTextContents();
    return texts.find((t) => t.includes("accepted"));
  }, 15_000);
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
  console.error(`[e2e] FAIL: ${error?.stack ?? error}`);
  try {
    const pages = browser?.contexts().flatMap((c) => c.pages()) ?? [];
    if (pages[0]) await pages[0].screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-failure.png") });
  } catch {}
} finally {
  cleanup();
  await sleep(500);
  if (failed) {
    // Keep the evidence: code-server's log and VS Code's logs (the extension's output channel).
    const dest = path.join(ARTIFACTS, "vscode-e2e-logs");
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    try {
      fs.cpSync(path.join(root, "code-server.log"), path.join(dest, "code-server.log"));
      fs.cpSync(path.join(userData, "logs"), path.join(dest, "vscode-logs"), { recursive: true });
    } catch {}
    console.error(`[e2e] logs kept in ${dest}`);
  }
  if (!KEEP) fs.rmSync(root, { recursive: true, force: true });
  else log(`kept ${root}`);
}
process.exit(failed ? 1 : 0);

// ---------- helpers ----------

/** The editor's lines in screen order; with or without the ghost text that is shown. */
async function editorLines(page, withGhost) {
  return page.evaluate((withGhost) => {
    const editor = document.querySelector(".editor-group-container .monaco-editor");
    if (!editor) return [];
    const isGhost = (el) => [...el.classList].some((c) => c.startsWith("ghost-text"));
    const text = (el) => {
      if (withGhost) return el.textContent ?? "";
      let s = "";
      const walk = (n) => {
        if (n.nodeType === Node.TEXT_NODE) s += n.textContent;
        else if (n.nodeType === Node.ELEMENT_NODE && !isGhost(n)) n.childNodes.forEach(walk);
      };
      walk(el);
      return s;
    };
    const rows = [...editor.querySelectorAll(".view-lines .view-line")].map((el) => ({
      top: el.getBoundingClientRect().top,
      text: text(el),
    }));
    if (withGhost) {
      // Lines of multi-line ghost text live in view zones.
      for (const zone of editor.querySelectorAll(".view-zones .ghost-text, .view-zones [class*='ghost-text']")) {
        const lines = zone.querySelectorAll(".view-line");
        for (const el of lines.length ? lines : [zone]) {
          rows.push({ top: el.getBoundingClientRect().top, text: el.textContent ?? "" });
        }
      }
    }
    rows.sort((a, b) => a.top - b.top);
    return rows.map((r) => r.text.replace(/\u00a0/g, " ").replace(/\s+$/, ""));
  }, withGhost);
}

async function ghostText(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".editor-group-container .ghost-text-decoration")]
      .map((e) => (e.textContent ?? "").replace(/\u00a0/g, " "))
      .join(""),
  );
}

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
  const toasts = () => page.locator(".notifications-toasts .notification-list-item-message").allTextContents();
  await runCommand(page, "Notifications: Clear All Notifications");
  await waitFor("the old notifications to go", async () => !(await toasts()).some((t) => t.includes("cursor moves")), 5_000, 50);
  await runCommand(page, "ghosttype: Show Statistics");
  const text = await waitFor("the statistics notification", async () => (await toasts()).find((t) => t.includes("cursor moves")), 15_000);
  const count = /(\d+) cursor moves/.exec(text);
  if (!count) throw new Error(`no cursor moves in ${JSON.stringify(text)}`);
  return Number(count[1]);
}

/** The "Ln 1, Col 1" status bar entry: where the editor's cursor is. */
async function cursorPlace(page) {
  return (await page.locator(".part.statusbar [id='status.editor.selection']").first().textContent().catch(() => ""))?.trim() ?? "";
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input").first();
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: title.replace(/^ghosttype: /, "") }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press("Enter");
}

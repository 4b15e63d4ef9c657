#!/usr/bin/env node
// End-to-end test of the code actions (docs/actions.md) in a real VS Code (code-server) driven by
// Chromium, against the real `ghosttype serve` on the scripted backend (its `chat` rules answer the
// actions' prompts: deterministic, no model).
//
//   node test/e2e/actions.mjs --code-server PATH --vsix FILE --server PATH [--artifacts DIR] [--chromium PATH] [--keep]
//
// Scenario 1: with the cursor in a function, the Quick Fix menu (Ctrl+.) lists the `ghosttype:`
//   actions; picking Write docstring (resolved with codeAction/resolve) shows its progress as a
//   notification with a Cancel button (src/progress.ts; not in the status bar) and puts the
//   docstring in.
// Scenario 2: Refactor with an instruction asks for the instruction in an input box and the
//   server's answer for that instruction replaces the function.
// Scenario 3: Explain opens its markdown file (window/showDocument).
// Scenario 4: the Cancel button of a slow action's notification cancels it
//   (window/workDoneProgress/cancel): the notification closes, the server says "cancelled,
//   nothing written" and the document is unchanged.

import * as fs from "node:fs";
import * as path from "node:path";

import { setTimeout as sleep } from "node:timers/promises";

import { editorLines, logger, openCodeServer, openFile, parseArgs, statusLabel, waitFor } from "./harness.mjs";

const USAGE = "actions.mjs --code-server PATH --vsix FILE --server PATH [--artifacts DIR] [--chromium PATH] [--keep]";
const args = parseArgs(process.argv.slice(2), ["code-server", "vsix", "server"], USAGE);
const ARTIFACTS = path.resolve(args.artifacts ?? "artifacts");
const log = logger("e2e actions");

const FILE = "calc.py";
const DOCSTRING = '    """Add two numbers."""';
const scratch = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "ghosttype-actions-e2e-"));
const scriptFile = path.join(scratch, "script.json");
fs.writeFileSync(
  scriptFile,
  JSON.stringify({
    rules: [],
    chat: [
      { contains: "swap the operands", text: "```python\ndef add(a, b):\n    return b + a\n```\n" },
      // Scenario 4 cancels this one long before it answers.
      { contains: "take your time", text: "```python\ndef add(a, b):\n    return 0\n```\n", delayMs: 120_000 },
      // Slow enough to see its progress.
      { contains: "documentation comment", text: "Add two numbers.", delayMs: 1500 },
      { contains: "Explain this", text: "It **adds** its arguments." },
    ],
  }),
);
// Explain's markdown goes under the server's cache folder: a scratch one, not the user's.
process.env.GHOSTTYPE_CACHE_DIR = path.join(scratch, "cache");
const machineSettings = {
  "ghosttype.server.path": path.resolve(args.server),
  "ghosttype.backend.kind": "scripted",
  "ghosttype.backend.script": scriptFile,
  "ghosttype.pauseBackend.kind": "off",
};

fs.mkdirSync(ARTIFACTS, { recursive: true });
fs.rmSync(path.join(ARTIFACTS, "vscode-e2e-actions-failure.png"), { force: true });

let opened;
let failed = false;
try {
  opened = await openCodeServer({
    codeServer: args["code-server"],
    vsix: path.resolve(args.vsix),
    chromium: args.chromium ?? "/usr/bin/chromium",
    files: { [FILE]: "def add(a, b):\n    return a + b\n" },
    machineSettings,
    log,
  });
  const { page } = opened;
  const editor = await openFile(page, FILE, "def add");
  await waitFor("the status bar item to reach ready", async () => (await statusLabel(page)).startsWith("ghosttype ready"), 60_000, 250);
  log("ready");

  /** Puts the cursor at the start of the function's last line (its `return`), opens the Quick Fix menu and returns its titles. */
  const quickFixMenu = async () => {
    const rows = page.locator(".action-widget .monaco-list-row.action");
    // A notification from the previous action can take the keyboard's focus as the menu is
    // asked for (1 run in 4 here): ask again, up to three times.
    for (let attempt = 1; ; attempt++) {
      await editor.locator(".view-lines").click();
      await page.keyboard.press("Escape");
      await page.keyboard.press("Control+End");
      await page.keyboard.press("ArrowUp");
      await page.keyboard.press("Home");
      await page.keyboard.press("Control+.");
      try {
        await rows.first().waitFor({ timeout: 7_000 });
        break;
      } catch (error) {
        if (attempt === 3) throw error;
        log(`the Quick Fix menu did not open (attempt ${attempt}): asking again`);
      }
    }
    return waitFor("the ghosttype actions in the menu", async () => {
      const titles = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? e.textContent ?? ""));
      return titles.some((t) => t.startsWith("ghosttype:")) ? titles : undefined;
    }, 15_000, 100);
  };
  const pick = async (title) => {
    await page.locator(".action-widget .monaco-list-row.action", { hasText: title }).first().click();
  };
  /** The toast of `title`'s progress notification: the one with a Cancel button. */
  const progressToast = (title) =>
    page.locator(".notifications-toasts .notification-toast", { hasText: title }).filter({
      has: page.locator(".monaco-button", { hasText: /^Cancel$/ }),
    });
  const statusBarItems = () => page.locator(".part.statusbar .statusbar-item").allTextContents();
  const toastTexts = () => page.locator(".notifications-toasts .notification-list-item-message").allTextContents();

  // ---------- Scenario 1: the Quick Fix menu lists the actions; Write docstring applies ----------
  const titles = await quickFixMenu();
  log(`Quick Fix menu: ${JSON.stringify(titles)}`);
  for (const wanted of ["ghosttype: Write docstring", "ghosttype: Explain", "ghosttype: Refactor with an instruction", "ghosttype: Generate tests"]) {
    if (!titles.some((t) => t.includes(wanted))) throw new Error(`the Quick Fix menu lacks ${wanted}: ${JSON.stringify(titles)}`);
  }
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-actions-menu.png") });
  await pick("ghosttype: Write docstring");
  // The language client's own progress (the status bar) must not show it as well.
  const inStatusBar = new Set();
  const watchStatusBar = async () => {
    for (const t of await statusBarItems()) if (t.includes("Write docstring")) inStatusBar.add(t.trim());
  };
  const progress = await waitFor("the action's progress notification with a Cancel button", async () => {
    await watchStatusBar();
    const toast = progressToast("ghosttype: Write docstring").first();
    return (await toast.count()) ? toast.locator(".notification-list-item-message").textContent() : undefined;
  }, 10_000, 50);
  log(`progress notification: ${JSON.stringify(progress.trim())}`);
  await sleep(400); // the toast fades in
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-actions-progress.png") });
  await waitFor("the docstring in the editor", async () => {
    await watchStatusBar();
    return (await editorLines(page, false))[1] === DOCSTRING;
  }, 20_000, 100);
  if (inStatusBar.size) throw new Error(`the progress was also in the status bar: ${JSON.stringify([...inStatusBar])}`);
  await waitFor("the progress notification to close", async () => (await progressToast("ghosttype: Write docstring").count()) === 0, 10_000, 100);
  const documented = await editorLines(page, false);
  if (documented[0] !== "def add(a, b):" || documented[2] !== "    return a + b") throw new Error(`after Write docstring: ${JSON.stringify(documented)}`);
  log("PASS scenario 1: the Quick Fix menu lists the ghosttype actions; Write docstring showed its progress as a notification with a Cancel button (not in the status bar), inserted the docstring and closed it");

  // ---------- Scenario 2: Refactor asks the instruction in an input box ----------
  await quickFixMenu();
  await pick("ghosttype: Refactor with an instruction");
  const input = page.locator(".quick-input-widget input").first();
  await input.waitFor({ timeout: 10_000 });
  const boxTitle = await page.locator(".quick-input-widget .quick-input-title").first().textContent().catch(() => "");
  log(`input box: ${JSON.stringify(boxTitle)}`);
  await input.fill("swap the operands");
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-actions-instruction.png") });
  await page.keyboard.press("Enter");
  await waitFor("the refactored function", async () => (await editorLines(page, false)).includes("    return b + a"), 20_000, 100);
  log(`after Refactor: ${JSON.stringify(await editorLines(page, false))}`);
  log("PASS scenario 2: Refactor took the instruction from the input box and replaced the function");

  // ---------- Scenario 3: Explain opens its markdown ----------
  await quickFixMenu();
  await pick("ghosttype: Explain");
  const tab = await waitFor("the explanation's tab", async () => {
    const tabs = await page.locator(".tabs-container .tab").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? ""));
    return tabs.find((t) => /\.md\b/.test(t));
  }, 20_000, 200);
  const text = await waitFor("the explanation's text", async () => {
    const lines = await editorLines(page, false);
    return lines.join("\n").includes("It **adds** its arguments.") ? lines : undefined;
  }, 10_000, 100);
  log(`explanation tab ${JSON.stringify(tab)}: ${JSON.stringify(text)}`);
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-actions-explain.png") });
  log("PASS scenario 3: Explain opened its markdown");

  // ---------- Scenario 4: Cancel on a slow action's notification ----------
  await openFile(page, FILE, "def add");
  const unchanged = await editorLines(page, false);
  const REFACTOR = "ghosttype: Refactor with an instruction";
  await quickFixMenu();
  await pick(REFACTOR);
  const slowInput = page.locator(".quick-input-widget input").first();
  await slowInput.waitFor({ timeout: 10_000 });
  await slowInput.fill("take your time");
  await page.keyboard.press("Enter");
  const cancel = progressToast(REFACTOR).first().locator(".monaco-button", { hasText: /^Cancel$/ });
  await cancel.waitFor({ timeout: 15_000 });
  // The server's first report ("refactoring") shows in the notification.
  const running = await waitFor("the action's report in its notification", async () => {
    const text = (await progressToast(REFACTOR).first().locator(".notification-list-item-message").textContent()) ?? "";
    return text.includes("refactoring") ? text : undefined;
  }, 10_000, 100);
  log(`progress notification: ${JSON.stringify(running.trim())}`);
  await sleep(400); // the toast fades in
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-actions-cancel.png") });
  // A toast can move as another one comes or goes: click again until the server hears it.
  const said = await waitFor("the server's word that it cancelled", async () => {
    const done = (await toastTexts()).find((t) => t.includes("cancelled, nothing written"));
    if (done) return done;
    if (await cancel.isVisible()) await cancel.click({ timeout: 2_000 }).catch(() => {});
    return undefined;
  }, 20_000, 500);
  log(`server: ${JSON.stringify(said)}`);
  await waitFor("the progress notification to close", async () => (await progressToast(REFACTOR).count()) === 0, 10_000, 100);
  await sleep(1_000); // an edit that were still coming would be applied by now
  const after = await editorLines(page, false);
  if (after.join("\n") !== unchanged.join("\n")) throw new Error(`the cancelled action changed the document: ${JSON.stringify(after)}`);
  await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-actions-cancelled.png") });
  log("PASS scenario 4: Cancel on the notification cancelled the action; nothing written");
  log("all passed");
} catch (error) {
  failed = true;
  opened ??= error?.opened;
  console.error(`[e2e actions] FAIL: ${error?.stack ?? error}`);
  try {
    const page = opened?.page;
    if (page) await page.screenshot({ path: path.join(ARTIFACTS, "vscode-e2e-actions-failure.png") });
  } catch {}
} finally {
  await (opened ?? { close: async () => {} }).close(failed, ARTIFACTS, Boolean(args.keep));
  fs.rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

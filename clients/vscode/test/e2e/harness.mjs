// What the end-to-end tests share: a fresh code-server profile with the VSIX installed, Chromium
// on it, and reading the editor back from the DOM.

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

/** `--name value` pairs (and the flag `--keep`); `names` are required. */
export function parseArgs(argv, names, usage) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (key === "keep") out.keep = true;
    else out[key] = argv[++i];
  }
  for (const name of names) {
    if (!out[name]) {
      console.error(`usage: ${usage}\nmissing --${name}`);
      process.exit(2);
    }
  }
  return out;
}

export function logger(tag) {
  const started = Date.now();
  return (msg) => console.log(`[${tag} ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export async function waitFor(what, fn, timeoutMs, intervalMs = 200) {
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

/** User settings every test wants: no distractions, and Tab going to the ghost text. */
export const BASE_SETTINGS = {
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

/**
 * Starts code-server on a fresh profile holding `files` (name → text) in its workspace, with the
 * VSIX installed, `machineSettings` as its remote ("Machine") settings (where machine-scoped keys
 * such as ghosttype.server.path come from in a remote window), and opens it in Chromium.
 * Returns { page, root, userData, workspace, codeServer, close(failed, artifacts) }.
 */
export async function openCodeServer({ codeServer: codeServerPath, vsix, chromium: chromiumPath, files, machineSettings, log }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ghosttype-e2e-"));
  const userData = path.join(root, "user-data");
  const extensions = path.join(root, "extensions");
  const workspace = path.join(root, "workspace");
  const xdg = path.join(root, "xdg");
  for (const d of [extensions, workspace, path.join(userData, "User"), path.join(userData, "Machine"), path.join(xdg, "config"), path.join(xdg, "data")]) {
    fs.mkdirSync(d, { recursive: true });
  }
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(workspace, name), text);
  fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(BASE_SETTINGS, null, 2));
  fs.writeFileSync(path.join(userData, "Machine", "settings.json"), JSON.stringify(machineSettings, null, 2));
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(xdg, "config"),
    XDG_DATA_HOME: path.join(xdg, "data"),
    VSCODE_LOG_LEVEL: "debug",
  };
  delete env.VSCODE_IPC_HOOK_CLI;

  let codeServer;
  let browser;
  const close = async (failed, artifacts, keep = false, logsName = "vscode-e2e-logs") => {
    if (browser) await browser.close().catch(() => {});
    if (codeServer && codeServer.exitCode === null) {
      try {
        process.kill(-codeServer.pid, "SIGTERM");
      } catch {}
    }
    await sleep(500);
    if (failed && artifacts) {
      const dest = path.join(artifacts, logsName);
      fs.rmSync(dest, { recursive: true, force: true });
      fs.mkdirSync(dest, { recursive: true });
      try {
        fs.cpSync(path.join(root, "code-server.log"), path.join(dest, "code-server.log"));
        fs.cpSync(path.join(userData, "logs"), path.join(dest, "vscode-logs"), { recursive: true });
      } catch {}
      console.error(`logs kept in ${dest}`);
    }
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  };
  const opened = { root, userData, workspace, close, page: undefined, codeServer: undefined };
  try {
    const install = spawnSync(codeServerPath, ["--extensions-dir", extensions, "--user-data-dir", userData, "--install-extension", vsix], {
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    if (install.status !== 0) throw new Error(`installing the VSIX failed (exit ${install.status}):\n${install.stdout}\n${install.stderr}`);
    const installed = fs.readdirSync(extensions).filter((d) => d.startsWith("ghosttype."));
    if (installed.length !== 1) throw new Error(`the VSIX did not install (extensions folder: ${fs.readdirSync(extensions)})`);
    log(`installed ${installed[0]}`);
    const port = await freePort();
    const csLog = fs.openSync(path.join(root, "code-server.log"), "w");
    codeServer = spawn(
      codeServerPath,
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
    opened.codeServer = codeServer;
    await waitFor("code-server to listen", async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok, 60_000);
    log(`code-server up on port ${port}`);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
    opened.page = page;
    log("workbench loaded");
    return opened;
  } catch (error) {
    error.opened = opened;
    throw error;
  }
}

/** Opens `file` from the Explorer and returns the editor's locator once its text shows `expect`. */
export async function openFile(page, file, expect) {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${file}"], .explorer-folders-view .monaco-list-row:has-text("${file}")`).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  const editor = page.locator(".editor-group-container .monaco-editor").first();
  await editor.locator(".view-lines").waitFor({ timeout: 30_000 });
  await waitFor(`${file} in the editor`, async () => (await editorLines(page, false)).join("\n").includes(expect), 30_000);
  return editor;
}

/** The ghosttype status bar item's label ("ghosttype ready: ..."), or "". */
export async function statusLabel(page) {
  return page
    .evaluate(() => {
      const el = [...document.querySelectorAll(".part.statusbar [aria-label]")].find((e) => (e.getAttribute("aria-label") ?? "").startsWith("ghosttype "));
      return el ? el.getAttribute("aria-label") : "";
    })
    .catch(() => "");
}

/** The editor's lines in screen order; with or without the ghost text that is shown. */
export async function editorLines(page, withGhost) {
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

export async function ghostText(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".editor-group-container .ghost-text-decoration")]
      .map((e) => (e.textContent ?? "").replace(/\u00a0/g, " "))
      .join(""),
  );
}

/**
 * Records every state of the ghost text the DOM goes through, from a MutationObserver in the page
 * (it runs after each batch of DOM changes, so no state the editor renders is skipped): returns a
 * function that stops it and gives the states in order, consecutive repeats folded, "" for none.
 */
export async function recordGhostText(page) {
  await page.evaluate(() => {
    const read = () =>
      [...document.querySelectorAll(".editor-group-container .ghost-text-decoration")]
        .map((e) => (e.textContent ?? "").replace(/\u00a0/g, " "))
        .join("");
    const seen = [read()];
    const observer = new MutationObserver(() => {
      const now = read();
      if (seen[seen.length - 1] !== now) seen.push(now);
    });
    observer.observe(document.querySelector(".editor-group-container") ?? document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
    window.__ghosttypeGhosts = { seen, observer };
  });
  return () =>
    page.evaluate(() => {
      const { seen, observer } = window.__ghosttypeGhosts;
      observer.disconnect();
      return seen;
    });
}

export async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input").first();
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: title.replace(/^ghosttype: /, "") }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press("Enter");
}

/** The text of a fresh "ghosttype: Show Statistics" notification (the server's counters). */
export async function statsText(page) {
  const toasts = () => page.locator(".notifications-toasts .notification-list-item-message").allTextContents();
  await runCommand(page, "Notifications: Clear All Notifications");
  await waitFor("the old notifications to go", async () => !(await toasts()).some((t) => t.includes(" requests, ")), 5_000, 50);
  await runCommand(page, "ghosttype: Show Statistics");
  return waitFor("the statistics notification", async () => (await toasts()).find((t) => t.includes(" requests, ")), 15_000);
}

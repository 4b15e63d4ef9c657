// The ghosttype VS Code extension: starts `ghosttype serve`, hands it the `ghosttype.*` settings and
// lets vscode-languageclient turn its `textDocument/inlineCompletion` answers into ghost text.

import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type CloseHandlerResult,
  type ConfigurationParams,
  type ErrorHandler,
  type LanguageClientOptions,
  type ServerOptions,
  WorkDoneProgressCancelNotification,
} from "vscode-languageclient/node";

import { commandArguments } from "./actions";
import { CursorMoveTracker, MOVED_NOTIFICATION, type Place } from "./cursorMoves";
import { findServer, type Discovery } from "./discovery";
import { NotificationProgress, type Notification } from "./progress";
import { REFRESH_NOTIFICATION, RefreshTracker, type DocumentPlace } from "./refresh";
import { languageEnabled, needsRestart, pickSection, SERVER_KEYS, toServerSettings, withLanguage, type ServerSettings } from "./settings";
import { describeStatus, parseStatus, type ServerState } from "./statusModel";

const ACCEPTED_COMMAND = "ghosttype.accepted";
/** The documents the server is attached to. */
const DOCUMENT_SELECTOR = [{ scheme: "file" }, { scheme: "untitled" }];

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform === "win32") {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A progress notification (ProgressLocation.Notification) with a Cancel button, open until close(). */
function openNotification(title: string, onCancel: () => void): Notification {
  type Step = { message?: string; increment?: number };
  let sink: vscode.Progress<Step> | undefined;
  const early: Step[] = [];
  let close = (): void => undefined;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    sink = progress;
    early.splice(0).forEach((step) => progress.report(step));
    const listener = token.onCancellationRequested(onCancel);
    return closed.finally(() => listener.dispose());
  });
  return {
    report: (step) => (sink !== undefined ? sink.report(step) : early.push(step)),
    close: () => close(),
  };
}

/** The server settings as VS Code has them for a scope (a folder or file URI, or none). */
export function currentServerSettings(scope?: vscode.Uri): ServerSettings {
  const config = vscode.workspace.getConfiguration("ghosttype", scope ?? null);
  return toServerSettings((key) => {
    const inspected = config.inspect(key);
    const explicit =
      inspected !== undefined &&
      [inspected.globalValue, inspected.workspaceValue, inspected.workspaceFolderValue].some((v) => v !== undefined);
    return { value: config.get(key), explicit };
  });
}

class Controller implements vscode.Disposable {
  private readonly output: vscode.LogOutputChannel;
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private client: LanguageClient | undefined;
  private acceptedFallback: vscode.Disposable | undefined;
  private serverState: { state: ServerState; message: string } = { state: "starting", message: "" };
  /** The close handler asked vscode-languageclient for a restart that has not completed yet. */
  private restartPending = false;
  /** Clients that reached the running state at least once (only those are restarted on a crash). */
  private readonly running = new WeakSet<LanguageClient>();
  private readonly defaultHandlers = new WeakMap<LanguageClient, ErrorHandler>();
  private starting: Promise<void> | undefined;
  private readonly cursorMoves = new CursorMoveTracker((place) => this.sendCursorMove(place));
  private readonly refreshes = new RefreshTracker<vscode.InlineCompletionItem>();

  constructor() {
    this.output = vscode.window.createOutputChannel("ghosttype", { log: true });
    this.item = vscode.window.createStatusBarItem("ghosttype.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "ghosttype";
    this.item.command = "ghosttype.showMenu";
    this.render();
    this.item.show();

    this.disposables.push(
      this.output,
      this.item,
      vscode.commands.registerCommand("ghosttype.showMenu", () => this.showMenu()),
      vscode.commands.registerCommand("ghosttype.restart", () => this.restart()),
      vscode.commands.registerCommand("ghosttype.showLog", () => this.output.show(true)),
      vscode.commands.registerCommand("ghosttype.enable", () => this.setEnabled("*", true)),
      vscode.commands.registerCommand("ghosttype.disable", () => this.setEnabled("*", false)),
      vscode.commands.registerCommand("ghosttype.toggleLanguage", () => {
        const lang = vscode.window.activeTextEditor?.document.languageId;
        if (lang !== undefined) {
          return this.setEnabled(lang, !this.enabledFor(lang));
        }
        return undefined;
      }),
      vscode.commands.registerCommand("ghosttype.showStats", () => this.showStats()),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        this.render();
        this.trackCursor(editor, "moved");
      }),
      vscode.window.onDidChangeTextEditorSelection((event) => this.trackCursor(event.textEditor, "moved")),
      vscode.workspace.onDidChangeTextDocument((event) => {
        const editor = vscode.window.activeTextEditor;
        // Empty changes only flip the dirty state (a save); other documents' edits move no cursor here.
        if (event.contentChanges.length > 0 && editor?.document === event.document) {
          this.trackCursor(editor, "edited");
        }
      }),
      vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.restart()),
    );
  }

  dispose(): void {
    this.cursorMoves.cancel();
    void this.stop();
    this.acceptedFallback?.dispose();
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("ghosttype");
  }

  private enabledFor(languageId: string): boolean {
    return languageEnabled(this.config().get("enable.languages"), languageId);
  }

  private render(): void {
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const view = describeStatus({
      state: this.serverState.state,
      message: this.serverState.message,
      languageId,
      globalOn: this.enabledFor("*"),
      languageOn: languageId === undefined ? this.enabledFor("*") : this.enabledFor(languageId),
    });
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.ariaLabel, role: "button" };
    this.item.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  /** Feeds the active editor's cursor to the tracker, for documents the server is attached to. */
  private trackCursor(editor: vscode.TextEditor | undefined, what: "moved" | "edited"): void {
    if (editor === undefined || editor !== vscode.window.activeTextEditor || vscode.languages.match(DOCUMENT_SELECTOR, editor.document) === 0) {
      return;
    }
    const { line, character } = editor.selection.active;
    this.cursorMoves[what]({ uri: editor.document.uri.toString(), line, character });
  }

  /**
   * The pause role's answer for the shown suggestion's place differs from it: where the focused
   * editor is still there, ask again. `showNext` does: it asks the provider (explicitly) and moves
   * to the next item. An explicit request keeps the shown item first in the list (VS Code 1.139,
   * where the tests run; `inlineSuggest.trigger` alone therefore leaves the old one shown), so the
   * next one is the new reply; where it is not kept the new reply is the only item. The shown ghost text stays until the new one replaces it (no flicker); the provider
   * keeps it when that reply is empty, and the command does nothing with no suggestion visible.
   */
  private onRefresh(params: unknown): void {
    const editor = vscode.window.activeTextEditor;
    let cursor: DocumentPlace | undefined;
    if (editor !== undefined && editor.selection.isEmpty) {
      const { line, character } = editor.selection.active;
      cursor = { uri: editor.document.uri.toString(), version: editor.document.version, line, character };
    }
    if (this.refreshes.refresh(params, cursor)) {
      this.output.debug(`${REFRESH_NOTIFICATION}: asking again at ${cursor?.line ?? 0}:${cursor?.character ?? 0}`);
      void vscode.commands.executeCommand("editor.action.inlineSuggest.showNext");
    }
  }

  /** A cue only: the server prepares the prompts there; one never sent costs speed, nothing else. */
  private sendCursorMove(place: Place): boolean {
    const client = this.client;
    if (client?.state !== State.Running) {
      return false;
    }
    const params = { textDocument: { uri: place.uri }, position: { line: place.line, character: place.character } };
    client.sendNotification(MOVED_NOTIFICATION, params).catch((error: unknown) => {
      this.output.debug(`could not send ${MOVED_NOTIFICATION}: ${String(error)}`);
    });
    return true;
  }

  private setState(state: ServerState, message: string): void {
    this.serverState = { state, message };
    this.render();
  }

  private discover(): Discovery {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
    return findServer({
      configuredPath: this.config().get<string>("server.path", ""),
      workspaceFolders: folders,
      envPath: process.env["PATH"],
      home: os.homedir(),
      platform: process.platform,
      isExecutable,
      trustWorkspace: vscode.workspace.isTrusted,
    });
  }

  async start(): Promise<void> {
    if (this.starting !== undefined) {
      return this.starting;
    }
    this.starting = this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const found = this.discover();
    if (!found.ok) {
      this.output.error(found.reason);
      this.output.info(`Looked for the server at:\n  ${found.tried.join("\n  ")}`);
      this.setState("error", found.reason);
      void this.offerHelp(`ghosttype: ${found.reason}`);
      return;
    }
    const args = [...this.config().get<string[]>("server.args", []), "serve"];
    this.output.info(`Starting ${found.command} ${args.join(" ")} (found via ${found.source})`);
    const cwd = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === "file")?.uri.fsPath;
    // No `transport`: with TransportKind.stdio vscode-languageclient appends `--stdio` to the
    // arguments; leaving it out gives the same pipes with the command line as written.
    const serverOptions: ServerOptions = {
      command: found.command,
      args,
      options: cwd !== undefined ? { cwd } : {},
    };
    let client: LanguageClient | undefined;
    // The actions' cancellable progress: a notification with a Cancel button (src/progress.ts).
    const progress = new NotificationProgress(openNotification, (token) => {
      client?.sendNotification(WorkDoneProgressCancelNotification.type, { token }).catch((error: unknown) => {
        this.output.warn(`could not cancel the progress ${String(token)}: ${String(error)}`);
      });
    });
    const maxRestartCount = Math.max(0, Math.trunc(this.config().get<number>("server.maxRestarts", 5)));
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => currentServerSettings(),
      // vscode-languageclient's own policy (restart after a crash, give up after
      // `maxRestartCount` + 1 crashes in 3 minutes), with the status bar kept in step.
      connectionOptions: { maxRestartCount },
      errorHandler: {
        error: (error, message, count) => this.errorHandler(client).error(error, message, count),
        closed: () => this.onClosed(client),
      },
      middleware: {
        workspace: {
          configuration: (params, token, next) => this.answerConfiguration(params, token, next),
        },
        handleWorkDoneProgress: (token, params, next) => progress.handle(token, params, () => next(token, params)),
        // ghosttype.refactor needs the person's instruction (docs/actions.md).
        executeCommand: async (command, args, next) => {
          const sent = await commandArguments(command, args, () =>
            vscode.window.showInputBox({
              title: "ghosttype: Refactor with an instruction",
              prompt: "How should the code change? (empty: the comment right above it)",
              placeHolder: "e.g. use a dict instead of the if chain",
              ignoreFocusOut: true,
            }),
          );
          return sent === undefined ? undefined : next(command, sent);
        },
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          if (!this.enabledFor(document.languageId)) {
            return null;
          }
          const result = await next(document, position, context, token);
          const items = Array.isArray(result) ? result : (result?.items ?? []);
          for (const item of items) {
            // An LSP item without a range is inserted at the cursor. VS Code's default for a missing
            // range is "from the start of the word at the cursor to the end of the line", which
            // turns an insertion after `return a` into a replacement of `a` and hides the ghost text.
            item.range ??= new vscode.Range(position, position);
          }
          if (this.output.logLevel <= vscode.LogLevel.Debug) {
            const first = items[0]?.insertText;
            this.output.debug(
              `inlineCompletion ${document.uri.fsPath}:${position.line + 1}:${position.character + 1}: ` +
                `${items.length} item(s)${typeof first === "string" ? ` ${JSON.stringify(first)}` : ""}`,
            );
          }
          const place = { uri: document.uri.toString(), version: document.version, line: position.line, character: position.character };
          const kept = this.refreshes.replied(place, items);
          return kept === items ? result : [...kept];
        },
      },
    };
    client = new LanguageClient("ghosttype", "ghosttype", serverOptions, clientOptions);
    this.client = client;
    client.onNotification("ghosttype/status", (params: unknown) => {
      const status = parseStatus(params);
      if (status === undefined) {
        this.output.warn(`ignored a malformed ghosttype/status notification: ${JSON.stringify(params)}`);
        return;
      }
      this.output.debug(`status ${status.state}${status.message ? `: ${status.message}` : ""}`);
      this.setState(status.state, status.message);
    });
    client.onNotification(REFRESH_NOTIFICATION, (params: unknown) => this.onRefresh(params));
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.running.add(client);
        this.restartPending = false;
      } else {
        // A stopped or restarting server ends no progress: close what it left open.
        progress.closeAll();
      }
      if (
        event.newState === State.Stopped &&
        this.client === client &&
        !this.restartPending &&
        this.serverState.state !== "error"
      ) {
        this.setState("stopped", "the server is not running");
      }
    });
    this.setState("starting", `starting ${found.command}`);
    try {
      await client.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.output.error(`The ghosttype server did not start: ${reason}`);
      this.setState("error", `the server did not start: ${reason} (the log has its output)`);
      void this.offerHelp(`ghosttype: the server (${found.command}) did not start: ${reason}. The log (ghosttype: Show Log) has its output.`);
      return;
    }
    if (this.serverState.state === "starting") {
      // A server that sends no status yet counts as loading until it does.
      this.setState("loading", "");
    }
    this.ensureAcceptedCommand(client);
  }

  /**
   * VS Code runs an accepted item's `command`. vscode-languageclient registers a command for each
   * name in the server's `executeCommandProvider` and forwards it as `workspace/executeCommand`; if
   * the server does not list `ghosttype.accepted`, forward it here so an accept never fails.
   */
  private ensureAcceptedCommand(client: LanguageClient): void {
    const listed = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (listed.includes(ACCEPTED_COMMAND)) {
      this.acceptedFallback?.dispose();
      this.acceptedFallback = undefined;
      return;
    }
    this.output.warn(`the server does not list ${ACCEPTED_COMMAND} in executeCommandProvider; forwarding it from the extension`);
    this.acceptedFallback ??= vscode.commands.registerCommand(ACCEPTED_COMMAND, async (...args: unknown[]) => {
      const current = this.client;
      if (current?.state !== State.Running) {
        return undefined;
      }
      return current.sendRequest(ExecuteCommandRequest.type, { command: ACCEPTED_COMMAND, arguments: args });
    });
  }

  /** The language client's default error handler for `client` (it counts that client's crashes). */
  private errorHandler(client: LanguageClient | undefined): ErrorHandler {
    if (client === undefined) {
      throw new Error("the language client does not exist yet");
    }
    let handler = this.defaultHandlers.get(client);
    if (handler === undefined) {
      handler = client.createDefaultErrorHandler(client.clientOptions.connectionOptions?.maxRestartCount);
      this.defaultHandlers.set(client, handler);
    }
    return handler;
  }

  private async onClosed(client: LanguageClient | undefined): Promise<CloseHandlerResult> {
    if (client === undefined || !this.running.has(client)) {
      // It never got through `initialize`: restarting would fail the same way. start() reports it.
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const result = await this.errorHandler(client).closed();
    if (result.action === CloseAction.Restart) {
      const message = result.message ?? "The ghosttype server stopped; restarting it.";
      this.output.warn(message);
      this.restartPending = true;
      this.setState("starting", "restarting after a crash");
      return { ...result, message, handled: true };
    }
    const message = result.message ?? "The ghosttype server stopped and will not be restarted.";
    this.output.error(message);
    this.setState("error", message);
    void this.offerHelp(`ghosttype: ${message}`);
    return { ...result, message, handled: true };
  }

  private async offerHelp(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, "Show Log", "Open Settings", "Restart");
    if (choice === "Show Log") {
      this.output.show(true);
    } else if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "ghosttype.server");
    } else if (choice === "Restart") {
      await this.restart();
    }
  }

  private async answerConfiguration(
    params: ConfigurationParams,
    token: vscode.CancellationToken,
    next: (params: ConfigurationParams, token: vscode.CancellationToken) => unknown,
  ): Promise<unknown[]> {
    const ours = params.items.map((item) => item.section === "ghosttype" || (item.section ?? "").startsWith("ghosttype."));
    let answers: unknown[] = params.items.map(() => null);
    if (!ours.every(Boolean)) {
      const result = await next(params, token);
      if (Array.isArray(result)) {
        answers = result;
      }
    }
    return params.items.map((item, i) => {
      if (!ours[i]) {
        return answers[i] ?? null;
      }
      const scope = item.scopeUri !== undefined ? vscode.Uri.parse(item.scopeUri) : undefined;
      return pickSection(currentServerSettings(scope), item.section) ?? null;
    });
  }

  private onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration("ghosttype")) {
      return;
    }
    this.render();
    if (needsRestart((section) => event.affectsConfiguration(section))) {
      this.output.info("ghosttype.server changed; restarting the server");
      void this.restart();
      return;
    }
    const affectsServer = SERVER_KEYS.some((key) => event.affectsConfiguration(`ghosttype.${key}`));
    const client = this.client;
    if (affectsServer && client !== undefined && client.state === State.Running) {
      const settings = currentServerSettings();
      this.output.info(`settings changed; sending them to the server: ${JSON.stringify(settings)}`);
      void client
        .sendNotification(DidChangeConfigurationNotification.type, { settings: { ghosttype: settings } })
        .catch((error: unknown) => this.output.error(`could not send the settings: ${String(error)}`));
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      if (client.state !== State.Stopped) {
        await client.stop(5000);
      }
    } catch (error) {
      this.output.warn(`stopping the server: ${String(error)}`);
    } finally {
      await client.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    this.output.info("restarting the server");
    await this.starting?.catch(() => undefined);
    await this.stop();
    await this.start();
  }

  private async setEnabled(languageId: string, enabled: boolean): Promise<void> {
    const config = this.config();
    const inspected = config.inspect<Record<string, boolean>>("enable.languages");
    // Write where the table is already set most specifically, so the change is the one in force.
    let target = vscode.ConfigurationTarget.Global;
    let current: unknown = inspected?.globalValue;
    if (inspected?.workspaceFolderValue !== undefined && vscode.window.activeTextEditor !== undefined) {
      target = vscode.ConfigurationTarget.WorkspaceFolder;
      current = inspected.workspaceFolderValue;
    } else if (inspected?.workspaceValue !== undefined) {
      target = vscode.ConfigurationTarget.Workspace;
      current = inspected.workspaceValue;
    }
    const table = withLanguage(current, languageId, enabled);
    const scoped = target === vscode.ConfigurationTarget.WorkspaceFolder
      ? vscode.workspace.getConfiguration("ghosttype", vscode.window.activeTextEditor?.document.uri)
      : config;
    await scoped.update("enable.languages", table, target);
    const what = languageId === "*" ? "all languages" : languageId;
    this.output.info(`completions ${enabled ? "enabled" : "disabled"} for ${what}`);
  }

  private async showStats(): Promise<void> {
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      void vscode.window.showWarningMessage("ghosttype: the server is not running.");
      return;
    }
    try {
      // No `arguments` at all: pygls maps an argument list onto the handler's parameters and
      // rejects an empty list for a handler that declares one (InvalidParams).
      const stats = (await client.sendRequest(ExecuteCommandRequest.type, { command: "ghosttype.stats" })) as
        | Record<string, unknown>
        | null;
      this.output.info(`stats ${JSON.stringify(stats)}`);
      const s = stats ?? {};
      const latency = (s["latencyMs"] ?? {}) as Record<string, unknown>;
      void vscode.window.showInformationMessage(
        `ghosttype: ${String(s["requests"] ?? 0)} requests, ${String(s["accepted"] ?? 0)} accepted, ` +
          `${String(s["cacheHits"] ?? 0)} cache hits, ${String(s["cancelled"] ?? 0)} cancelled, ` +
          `${String(s["cursorMoves"] ?? 0)} cursor moves, ` +
          `${String(s["pauseAnswers"] ?? 0)} pause answers (${String(s["pauseReplaced"] ?? 0)} replaced); ` +
          `latency p50 ${String(latency["p50"] ?? "-")} ms, p95 ${String(latency["p95"] ?? "-")} ms`,
      );
    } catch (error) {
      this.output.error(`ghosttype.stats failed: ${String(error)}`);
      void vscode.window.showErrorMessage(`ghosttype: could not read statistics (${String(error)})`);
    }
  }

  private async showMenu(): Promise<void> {
    type Entry = vscode.QuickPickItem & { run?: () => unknown };
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const globalOn = this.enabledFor("*");
    const entries: Entry[] = [
      {
        label: `$(info) ${this.item.tooltip?.toString().split("\n")[0] ?? "ghosttype"}`,
        kind: vscode.QuickPickItemKind.Separator,
      },
      globalOn
        ? { label: "$(circle-slash) Disable completions", description: "all languages", run: () => this.setEnabled("*", false) }
        : { label: "$(check) Enable completions", description: "all languages", run: () => this.setEnabled("*", true) },
    ];
    if (languageId !== undefined) {
      entries.push(
        this.enabledFor(languageId)
          ? { label: `$(circle-slash) Disable completions for ${languageId}`, run: () => this.setEnabled(languageId, false) }
          : { label: `$(check) Enable completions for ${languageId}`, run: () => this.setEnabled(languageId, true) },
      );
    }
    entries.push(
      { label: "$(debug-restart) Restart server", run: () => this.restart() },
      { label: "$(output) Show log", run: () => this.output.show(true) },
      { label: "$(graph) Show statistics", run: () => this.showStats() },
      { label: "$(settings-gear) Open settings", run: () => vscode.commands.executeCommand("workbench.action.openSettings", "ghosttype") },
    );
    const picked = await vscode.window.showQuickPick(entries, { title: "ghosttype", placeHolder: this.serverState.message || undefined });
    await picked?.run?.();
  }
}

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  controller = new Controller();
  context.subscriptions.push(controller);
  await controller.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}

// The code actions' work-done progress as a notification with a Cancel button (docs/actions.md).
// vscode-languageclient shows every server-created progress in the status bar
// (ProgressLocation.Window), where VS Code draws no cancel button, so an action that runs for a
// minute could not be stopped. This runs as the language client's `handleWorkDoneProgress`
// middleware, which sees each `$/progress` value before the client's own ProgressPart does: a
// progress whose begin says `cancellable` is shown here (its begin and reports never reach the
// ProgressPart, which therefore shows nothing), any other (the model's loading) goes on to the
// status bar as before. Cancel sends `window/workDoneProgress/cancel` for the token; the
// notification closes on the server's `end`.

/** LSP's `$/progress` values for work-done progress (WorkDoneProgressBegin | Report | End). */
export type ProgressValue =
  | { kind: "begin"; title: string; cancellable?: boolean; message?: string; percentage?: number }
  | { kind: "report"; cancellable?: boolean; message?: string; percentage?: number }
  | { kind: "end"; message?: string };

export type ProgressToken = number | string;

/** An open notification: what VS Code's withProgress hands its task. */
export interface Notification {
  /** A new message and/or the percentage's increase since the last report (VS Code adds them up). */
  report(step: { message?: string; increment?: number }): void;
  /** Closes the notification. */
  close(): void;
}

/** Opens a notification with `title`; `onCancel` runs when the person presses its Cancel button. */
export type OpenNotification = (title: string, onCancel: () => void) => Notification;

interface Shown {
  notification: Notification;
  /** The percentage reported so far (VS Code's notification wants increments). */
  percentage: number;
  cancelSent: boolean;
}

export class NotificationProgress {
  private readonly shown = new Map<ProgressToken, Shown>();

  /** `sendCancel` sends `window/workDoneProgress/cancel` for the token. */
  constructor(
    private readonly open: OpenNotification,
    private readonly sendCancel: (token: ProgressToken) => void,
  ) {}

  /** vscode-languageclient's `middleware.handleWorkDoneProgress`: `next` hands the value on to the client's own ProgressPart. */
  handle(token: ProgressToken, value: ProgressValue, next: () => void): void {
    const shown = this.shown.get(token);
    if (value.kind === "begin" && shown === undefined && value.cancellable === true) {
      const entry: Shown = {
        notification: this.open(value.title, () => this.cancel(token)),
        percentage: 0,
        cancelSent: false,
      };
      this.shown.set(token, entry);
      this.report(entry, value.message, value.percentage);
      return;
    }
    if (shown === undefined) {
      next();
      return;
    }
    if (value.kind === "report") {
      this.report(shown, value.message, value.percentage);
      return;
    }
    if (value.kind === "end") {
      this.shown.delete(token);
      shown.notification.close();
      // The ProgressPart saw no begin and shows nothing; its end lets it stop listening.
      next();
    }
  }

  /** Closes every notification (the server stopped: no `end` will come). */
  closeAll(): void {
    for (const shown of this.shown.values()) {
      shown.notification.close();
    }
    this.shown.clear();
  }

  private report(shown: Shown, message: string | undefined, percentage: number | undefined): void {
    let increment: number | undefined;
    if (typeof percentage === "number" && Number.isFinite(percentage)) {
      const clamped = Math.max(0, Math.min(100, percentage));
      if (clamped > shown.percentage) {
        increment = clamped - shown.percentage;
        shown.percentage = clamped;
      }
    }
    if (message !== undefined || increment !== undefined) {
      shown.notification.report({
        ...(message !== undefined ? { message } : {}),
        ...(increment !== undefined ? { increment } : {}),
      });
    }
  }

  private cancel(token: ProgressToken): void {
    const shown = this.shown.get(token);
    if (shown === undefined || shown.cancelSent) {
      return;
    }
    shown.cancelSent = true;
    shown.notification.report({ message: "cancelling..." });
    this.sendCancel(token);
  }
}

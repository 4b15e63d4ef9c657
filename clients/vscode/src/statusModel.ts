// What the status bar item shows for a server state. Pure, for the unit tests.

export type ServerState = "starting" | "loading" | "ready" | "busy" | "error" | "disabled" | "stopped";

export interface StatusInput {
  state: ServerState;
  message: string;
  /** The language of the active editor, if any. */
  languageId?: string;
  /** Completions switched on for every language (`enable.languages["*"]`). */
  globalOn: boolean;
  /** Completions switched on for the active editor's language. */
  languageOn: boolean;
}

export interface StatusView {
  /** The state the item stands for (what the e2e test reads from the aria label). */
  shown: ServerState;
  text: string;
  tooltip: string;
  ariaLabel: string;
  error: boolean;
}

const ICONS: Record<ServerState, string> = {
  starting: "$(loading~spin)",
  loading: "$(loading~spin)",
  ready: "$(sparkle)",
  busy: "$(sync~spin)",
  error: "$(error)",
  disabled: "$(circle-slash)",
  stopped: "$(debug-disconnect)",
};

export function describeStatus(input: StatusInput): StatusView {
  let shown = input.state;
  let message = input.message;
  // The server decides while running; a switch the person flipped off shows at once.
  if (shown !== "error" && shown !== "stopped" && shown !== "starting" && shown !== "loading") {
    if (!input.globalOn && !input.languageOn) {
      shown = "disabled";
      message = "completions are off (all languages)";
    } else if (!input.languageOn && input.languageId !== undefined) {
      shown = "disabled";
      message = `completions are off for ${input.languageId}`;
    } else if (shown === "disabled" && input.languageOn && input.languageId !== undefined) {
      // Enabled here, though the server last reported disabled for another document.
      shown = "ready";
      message = message || "";
    }
  }
  const words: Record<ServerState, string> = {
    starting: "starting",
    loading: "loading",
    ready: "ready",
    busy: "working",
    error: "error",
    disabled: "disabled",
    stopped: "stopped",
  };
  const detail = message.trim();
  const tooltip = `ghosttype: ${words[shown]}${detail ? ` — ${detail}` : ""}\nClick for options`;
  return {
    shown,
    text: `${ICONS[shown]} ghosttype`,
    tooltip,
    ariaLabel: `ghosttype ${shown}${detail ? `: ${detail}` : ""}`,
    error: shown === "error" || shown === "stopped",
  };
}

const STATES = new Set<string>(["loading", "ready", "busy", "error", "disabled"]);

/** Reads a `ghosttype/status` notification's params; undefined when they are not one. */
export function parseStatus(params: unknown): { state: ServerState; message: string } | undefined {
  if (params === null || typeof params !== "object") {
    return undefined;
  }
  const { state, message } = params as { state?: unknown; message?: unknown };
  if (typeof state !== "string" || !STATES.has(state)) {
    return undefined;
  }
  return { state: state as ServerState, message: typeof message === "string" ? message : "" };
}

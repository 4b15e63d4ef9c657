// Mapping between VS Code's `ghosttype.*` settings and the server's settings object.
// Pure: no `vscode` import, so the unit tests run under plain Node.

/** Every server key the extension contributes, as `section.key` (camelCase, like the server). */
export const SERVER_KEYS = [
  "backend.kind",
  "backend.url",
  "backend.model",
  "backend.modelPath",
  "backend.apiKeyEnv",
  "backend.promptFormat",
  "backend.timeoutMs",
  "backend.script",
  "backend.threads",
  "backend.gpuLayers",
  "backend.fim",
  "backend.auditLog",
  "pauseBackend.kind",
  "pauseBackend.url",
  "pauseBackend.model",
  "pauseBackend.modelPath",
  "pauseBackend.apiKeyEnv",
  "pauseBackend.promptFormat",
  "pauseBackend.timeoutMs",
  "pauseBackend.script",
  "pauseBackend.threads",
  "pauseBackend.gpuLayers",
  "pauseBackend.fim",
  "pauseBackend.auditLog",
  "completion.debounceMs",
  "completion.maxTokens",
  "completion.multiline",
  "completion.candidates",
  "completion.temperature",
  "completion.postprocess",
  "completion.deterministic",
  "completion.checkNames",
  "context.maxPromptTokens",
  "context.neighbours",
  "context.exclude",
  "enable.languages",
  "actions.model",
  "actions.allowUnsandboxed",
  "actions.maxAttempts",
  "actions.timeoutS",
  "actions.memoryMb",
  "actions.maxTokens",
  "actions.mutants",
] as const;

export type ServerKey = (typeof SERVER_KEYS)[number];

/** The client's own section: how to start the server. Never sent. */
export const CLIENT_SECTION = "server";

export const DEFAULT_LANGUAGES: Readonly<Record<string, boolean>> = {
  "*": true,
  markdown: false,
  plaintext: false,
  gitcommit: false,
};

/** What VS Code knows about one setting (a subset of `WorkspaceConfiguration.inspect`). */
export interface SettingValue {
  /** The value in force (defaults included). */
  value: unknown;
  /** True when a user, remote, workspace or folder setting gives it (not only the default). */
  explicit: boolean;
}

export type SettingReader = (key: string) => SettingValue;

export type ServerSettings = Record<string, Record<string, unknown>>;

/** Turns a string that is a whole number into that number (`"150"` → 150); `"auto"` stays. */
function normaliseDebounce(value: unknown): unknown {
  if (typeof value === "string" && /^\s*\d+\s*$/.test(value)) {
    return Number(value.trim());
  }
  return value;
}

function normalise(key: ServerKey, value: unknown): unknown {
  switch (key) {
    case "completion.debounceMs":
      return normaliseDebounce(value);
    case "context.exclude":
      return Array.isArray(value) ? [...value] : value;
    case "enable.languages":
      return value !== null && typeof value === "object" ? { ...(value as Record<string, unknown>) } : value;
    default:
      return value;
  }
}

/**
 * The nested camelCase object the server reads (initializationOptions, the answer to
 * `workspace/configuration` for section "ghosttype", and `workspace/didChangeConfiguration`).
 *
 * Only the settings a person has set are included: VS Code's defaults equal the server's, and
 * leaving them out keeps a workspace's `ghosttype.toml` in force for keys the editor does not set.
 * The client's own `server.*` section is never included.
 */
export function toServerSettings(read: SettingReader): ServerSettings {
  const out: ServerSettings = {};
  for (const key of SERVER_KEYS) {
    const setting = read(key);
    if (!setting.explicit || setting.value === undefined || setting.value === null) {
      continue;
    }
    const [section, name] = key.split(".") as [string, string];
    (out[section] ??= {})[name] = normalise(key, setting.value);
  }
  return out;
}

/**
 * The part of the settings object a `workspace/configuration` item asks for: `ghosttype` → the
 * whole object; `ghosttype.backend` → that section; `ghosttype.backend.kind` → that value;
 * `ghosttype.server…` → null (the client's own). Returns undefined for other sections.
 */
export function pickSection(settings: ServerSettings, section: string | undefined): unknown {
  if (section === undefined || section === "") {
    return undefined;
  }
  if (section === "ghosttype") {
    return settings;
  }
  if (!section.startsWith("ghosttype.")) {
    return undefined;
  }
  const path = section.slice("ghosttype.".length).split(".");
  if (path[0] === CLIENT_SECTION) {
    return null;
  }
  let node: unknown = settings;
  for (const part of path) {
    if (node === null || typeof node !== "object" || !(part in (node as object))) {
      // A section the person has not set: an empty object for a section, null for a key.
      return path.length === 1 ? {} : null;
    }
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Whether completions are on for a language id under an `enable.languages` table. */
export function languageEnabled(languages: unknown, languageId: string): boolean {
  const table: Record<string, unknown> = {
    ...DEFAULT_LANGUAGES,
    ...(languages !== null && typeof languages === "object" ? (languages as Record<string, unknown>) : {}),
  };
  const own = table[languageId];
  if (typeof own === "boolean") {
    return own;
  }
  const star = table["*"];
  return typeof star === "boolean" ? star : true;
}

/**
 * The `enable.languages` table after switching `languageId` (or `"*"` for every language) on or
 * off. Other entries stay as they were (switching `"*"` leaves per-language choices alone).
 */
export function withLanguage(
  languages: unknown,
  languageId: string,
  enabled: boolean,
): Record<string, boolean> {
  const table: Record<string, boolean> = {};
  if (languages !== null && typeof languages === "object") {
    for (const [key, value] of Object.entries(languages as Record<string, unknown>)) {
      if (typeof value === "boolean") {
        table[key] = value;
      }
    }
  }
  table[languageId] = enabled;
  return table;
}

/** Keys whose change needs a new server process rather than a settings notification. */
export function needsRestart(changed: (section: string) => boolean): boolean {
  return changed(`ghosttype.${CLIENT_SECTION}.path`) || changed(`ghosttype.${CLIENT_SECTION}.args`);
}

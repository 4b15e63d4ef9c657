// Finding the `ghosttype` executable. Pure: file-system access comes in as a function so that the
// unit tests can describe a machine without touching the real one.

import * as path from "node:path";

export interface DiscoveryInput {
  /** `ghosttype.server.path` (may be empty). */
  configuredPath: string;
  /** Absolute paths of the workspace folders, first one first. */
  workspaceFolders: readonly string[];
  /** The PATH environment variable of the extension host. */
  envPath: string | undefined;
  /** The user's home directory, for `~`. */
  home: string;
  platform: NodeJS.Platform;
  /** True when the path names an executable file. */
  isExecutable: (file: string) => boolean;
  /** Whether the workspace's own `.venv` may be used (false in an untrusted workspace). */
  trustWorkspace?: boolean;
}

export type Discovery =
  | { ok: true; command: string; source: "setting" | "workspace .venv" | "PATH"; tried: string[] }
  | { ok: false; reason: string; tried: string[] };

function pathsFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === "win32" ? path.win32 : path.posix;
}

function executableNames(platform: NodeJS.Platform): string[] {
  return platform === "win32" ? ["ghosttype.exe", "ghosttype.cmd", "ghosttype.bat", "ghosttype"] : ["ghosttype"];
}

function venvBin(platform: NodeJS.Platform): string {
  return platform === "win32" ? "Scripts" : "bin";
}

/** Expands `~`, `${workspaceFolder}`, `${userHome}` and makes a relative path absolute. */
export function expandPath(
  raw: string,
  workspaceFolders: readonly string[],
  home: string,
  platform: NodeJS.Platform = "linux",
): string {
  const path = pathsFor(platform);
  let value = raw.trim();
  const folder = workspaceFolders[0];
  value = value.replace(/\$\{userHome\}/g, home);
  if (folder !== undefined) {
    value = value.replace(/\$\{workspaceFolder\}/g, folder);
  }
  if (value === "~") {
    value = home;
  } else if (value.startsWith("~/") || value.startsWith("~\\")) {
    value = path.join(home, value.slice(2));
  }
  if (!path.isAbsolute(value) && folder !== undefined && (value.includes("/") || value.includes("\\"))) {
    value = path.resolve(folder, value);
  }
  return value;
}

function searchPath(
  envPath: string | undefined,
  names: string[],
  platform: NodeJS.Platform,
  tried: string[],
  isExecutable: (file: string) => boolean,
): string | undefined {
  const path = pathsFor(platform);
  const delimiter = platform === "win32" ? ";" : ":";
  for (const dir of (envPath ?? "").split(delimiter)) {
    if (dir === "") {
      continue;
    }
    for (const name of names) {
      const candidate = path.join(dir, name);
      tried.push(candidate);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/**
 * Where the server comes from, in order: the `ghosttype.server.path` setting; the workspace
 * folders' `.venv/bin/ghosttype`; `ghosttype` on PATH. A setting that names nothing executable is
 * an error (and is not silently replaced by something else on PATH).
 */
export function findServer(input: DiscoveryInput): Discovery {
  const path = pathsFor(input.platform);
  const tried: string[] = [];
  const names = executableNames(input.platform);
  const configured = input.configuredPath.trim();
  if (configured !== "") {
    const expanded = expandPath(configured, input.workspaceFolders, input.home, input.platform);
    if (path.isAbsolute(expanded)) {
      tried.push(expanded);
      if (input.isExecutable(expanded)) {
        return { ok: true, command: expanded, source: "setting", tried };
      }
      return {
        ok: false,
        reason: `ghosttype.server.path is "${configured}", but ${expanded} is not an executable file.`,
        tried,
      };
    }
    // A bare name such as "ghosttype-dev": look it up on PATH.
    const found = searchPath(input.envPath, [expanded], input.platform, tried, input.isExecutable);
    if (found !== undefined) {
      return { ok: true, command: found, source: "setting", tried };
    }
    return {
      ok: false,
      reason: `ghosttype.server.path is "${configured}", which is not on PATH.`,
      tried,
    };
  }
  if (input.trustWorkspace !== false) {
    for (const folder of input.workspaceFolders) {
      for (const name of names) {
        const candidate = path.join(folder, ".venv", venvBin(input.platform), name);
        tried.push(candidate);
        if (input.isExecutable(candidate)) {
          return { ok: true, command: candidate, source: "workspace .venv", tried };
        }
      }
    }
  }
  const found = searchPath(input.envPath, names, input.platform, tried, input.isExecutable);
  if (found !== undefined) {
    return { ok: true, command: found, source: "PATH", tried };
  }
  return {
    ok: false,
    reason:
      "The ghosttype server was not found: not in the workspace's .venv and not on PATH. " +
      "Install it (pip install ghosttype) or set ghosttype.server.path.",
    tried,
  };
}

// How to start the server: which executable, which arguments, which environment. Pure (the
// file system is injected) so every branch is unit-tested; the language client only runs it.
import * as path from "node:path";

export interface ServerSettings {
  /** `codeloupe.server.command`: the codeloupe executable ("" = find one). */
  command: string;
  /** `codeloupe.server.pythonPath`: an interpreter with codeloupe installed. */
  pythonPath: string;
  logLevel: string;
  /** `codeloupe.index.directory` → CODELOUPE_INDEX_DIR. */
  indexDirectory: string;
  glossProvider: string;
  glossBaseUrl: string;
  glossModel: string;
  tokenBudget: number;
}

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Where the command came from, for the log and for error messages. */
  source: "setting" | "python" | "workspace venv" | "PATH";
}

export interface Missing {
  missing: true;
  /** What was looked for, and how to fix it. */
  message: string;
  /** The setting the fix is about. */
  setting: "codeloupe.server.command" | "codeloupe.server.pythonPath";
}

export interface FileSystem {
  /** An executable file exists at this absolute path. */
  isExecutable(p: string): boolean;
}

const EXE = process.platform === "win32" ? ".exe" : "";
const VENV_BIN = process.platform === "win32" ? "Scripts" : "bin";

/** `name` found on `PATH` (or an absolute/relative path that exists), else undefined. */
export function which(name: string, envPath: string, fs: FileSystem, cwd = process.cwd()): string | undefined {
  if (name.includes("/") || name.includes("\\")) {
    const p = path.resolve(cwd, name);
    return fs.isExecutable(p) ? p : undefined;
  }
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name + EXE);
    if (fs.isExecutable(p)) return p;
  }
  return undefined;
}

/** Expands `~` and `${workspaceFolder}` in a path setting. */
export function expandSetting(value: string, home: string, workspaceFolder: string | undefined): string {
  let v = value.trim();
  if (v === "~" || v.startsWith("~/")) v = home + v.slice(1);
  if (workspaceFolder) v = v.split("${workspaceFolder}").join(workspaceFolder);
  return v;
}

/** The environment of the server process: the editor's plus codeloupe's settings. */
export function serverEnv(
  s: ServerSettings,
  apiKey: string | undefined,
  base: Record<string, string | undefined>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  env.CODELOUPE_LOG_LEVEL = s.logLevel || "WARNING";
  const set = (key: string, value: string | undefined) => {
    if (value) env[key] = value;
  };
  set("CODELOUPE_INDEX_DIR", s.indexDirectory);
  set("CODELOUPE_GLOSS_PROVIDER", s.glossProvider);
  set("CODELOUPE_GLOSS_BASE_URL", s.glossBaseUrl);
  set("CODELOUPE_GLOSS_MODEL", s.glossModel);
  set("CODELOUPE_GLOSS_API_KEY", apiKey);
  if (s.tokenBudget > 0) env.CODELOUPE_CONTEXT_BUDGET = String(s.tokenBudget);
  return env;
}

/**
 * Picks the server command: the `command` setting, else the `pythonPath` setting
 * (`python -m lsp_server`), else `.venv/bin/codeloupe` in a workspace folder, else `codeloupe`
 * on PATH. A setting that names nothing runnable is an error, not a silent fallback.
 */
export function resolveLaunch(
  s: ServerSettings,
  ctx: { folders: string[]; home: string; envPath: string; fs: FileSystem },
  env: Record<string, string>,
): Launch | Missing {
  const folder = ctx.folders[0];
  if (s.command.trim()) {
    const wanted = expandSetting(s.command, ctx.home, folder);
    const found = which(wanted, ctx.envPath, ctx.fs, folder);
    if (!found) {
      return {
        missing: true,
        setting: "codeloupe.server.command",
        message: `The codeloupe server command "${wanted}" (setting codeloupe.server.command) was not found or is not executable. ` +
          "Fix the setting, or clear it to use codeloupe from PATH; install codeloupe with `pip install codeloupe`.",
      };
    }
    return { command: found, args: ["serve"], env, source: "setting" };
  }
  if (s.pythonPath.trim()) {
    const wanted = expandSetting(s.pythonPath, ctx.home, folder);
    const found = which(wanted, ctx.envPath, ctx.fs, folder);
    if (!found) {
      return {
        missing: true,
        setting: "codeloupe.server.pythonPath",
        message: `The Python interpreter "${wanted}" (setting codeloupe.server.pythonPath) was not found. ` +
          "Point the setting at a Python that has codeloupe installed (`python -m pip install codeloupe`).",
      };
    }
    // -P: `python -m` would put the workspace folder (our working directory) first on the
    // server's import path, and a file there named like a module we import would run
    return { command: found, args: ["-P", "-m", "lsp_server", "--stdio"], env: { ...env, PYTHONSAFEPATH: "1" }, source: "python" };
  }
  for (const f of ctx.folders) {
    const venv = path.join(f, ".venv", VENV_BIN, "codeloupe" + EXE);
    if (ctx.fs.isExecutable(venv)) return { command: venv, args: ["serve"], env, source: "workspace venv" };
  }
  const onPath = which("codeloupe", ctx.envPath, ctx.fs);
  if (onPath) return { command: onPath, args: ["serve"], env, source: "PATH" };
  return {
    missing: true,
    setting: "codeloupe.server.command",
    message: "The codeloupe language server was not found: no `codeloupe` on PATH and no .venv/bin/codeloupe in the workspace. " +
      "Install it (`python -m pip install codeloupe`), or set codeloupe.server.command to the codeloupe executable " +
      "(or codeloupe.server.pythonPath to a Python that has it).",
  };
}

export function isMissing(x: Launch | Missing): x is Missing {
  return (x as Missing).missing === true;
}

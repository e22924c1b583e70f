// Prerequisites of the end-to-end test, and code-server's life: install the extensions into a
// private extensions folder, start it on a free loopback port with every state folder in a
// temp dir, stop it by its process group.
import type { ChildProcess } from "node:child_process";
import { execFileSync, spawn } from "node:child_process";
import { accessSync, constants, cpSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const CODE_SERVER_VERSION = "4.100.3";

export interface Prereqs {
  codeServer: string;
  chromium: string;
  codeloupe: string;
  vsix: string;
}

function executable(p: string | undefined): p is string {
  if (!p) return false;
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The newest .vsix in the extension folder (what `vsce package` built). */
function newestVsix(extensionDir: string): string | undefined {
  const found = readdirSync(extensionDir)
    .filter((f) => f.endsWith(".vsix"))
    .map((f) => join(extensionDir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return found[0];
}

/** Everything the test needs, or the list of what is missing and why. */
export function findPrereqs(extensionDir: string): { prereqs?: Prereqs; missing: string[] } {
  const cacheRoot = process.env.CODELOUPE_VSCODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "codeloupe-vscode");
  const codeServer = process.env.CODE_SERVER ??
    join(cacheRoot, `code-server-${CODE_SERVER_VERSION}`, "node_modules", ".bin", "code-server");
  const chromium = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(executable);
  const codeloupe = process.env.CODELOUPE_SERVER ?? resolve(extensionDir, "..", ".venv", "bin", "codeloupe");
  const vsix = process.env.CODELOUPE_VSIX ?? newestVsix(extensionDir);
  const missing: string[] = [];
  if (!executable(codeServer)) missing.push(`code-server ${CODE_SERVER_VERSION} not found at ${codeServer} (scripts/test_vscode.sh installs it; or set CODE_SERVER)`);
  if (!executable(chromium)) missing.push("Chromium not found (apt-get install chromium; or set CHROMIUM)");
  if (!executable(codeloupe)) missing.push(`codeloupe not found at ${codeloupe} (run scripts/setup.sh; or set CODELOUPE_SERVER)`);
  if (!vsix || !existsSync(vsix)) missing.push("no .vsix in vscode-extension/ (run npx @vscode/vsce package; or set CODELOUPE_VSIX)");
  if (missing.length) return { missing };
  return { prereqs: { codeServer, chromium: chromium!, codeloupe, vsix: vsix! }, missing };
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export interface Dirs {
  root: string;
  user: string;
  extensions: string;
}

/**
 * Installs the packaged extension the way a user would, and the test-only probe beside it. The
 * probe folder goes first: the install writes extensions.json from the folders present, and a
 * folder copied in after that is not loaded.
 */
export function installExtensions(codeServer: string, dirs: Dirs, vsix: string, probeDir: string): void {
  mkdirSync(dirs.extensions, { recursive: true });
  cpSync(probeDir, join(dirs.extensions, "codeloupe-test.probe-0.0.1"), { recursive: true });
  execFileSync(codeServer, ["--extensions-dir", dirs.extensions, "--user-data-dir", dirs.user, "--install-extension", vsix], { stdio: "pipe" });
}

export function writeUserSettings(dirs: Dirs, settings: Record<string, unknown>): void {
  mkdirSync(join(dirs.user, "User"), { recursive: true });
  writeFileSync(join(dirs.user, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

export async function startCodeServer(codeServer: string, dirs: Dirs, port: number, env: Record<string, string>, log: string): Promise<ChildProcess> {
  writeFileSync(join(dirs.root, "config.yaml"), "");
  const fd = openSync(log, "a");
  const child = spawn(codeServer, [
    "--config", join(dirs.root, "config.yaml"),
    "--user-data-dir", dirs.user,
    "--extensions-dir", dirs.extensions,
    "--auth", "none",
    "--bind-addr", `127.0.0.1:${port}`,
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
  ], { env: { ...process.env, ...env }, stdio: ["ignore", fd, fd], detached: true });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${log}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer on port ${port} within 60 s; see ${log}`);
}

/** Stops code-server and everything it started (extension host, language server). */
export function stopCodeServer(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // already gone
  }
}

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FileSystem, ServerSettings } from "../../src/client/launch";
import { expandSetting, isMissing, resolveLaunch, serverEnv, which } from "../../src/client/launch";

const settings: ServerSettings = {
  command: "", pythonPath: "", logLevel: "INFO", indexDirectory: "", glossProvider: "heuristic",
  glossBaseUrl: "", glossModel: "", tokenBudget: 4000,
};
const fsWith = (...paths: string[]): FileSystem => ({ isExecutable: (p) => paths.includes(p) });
const ctx = (fs: FileSystem, folders = ["/ws"]) => ({ folders, home: "/home/ana", envPath: "/usr/bin:/opt/bin", fs });

describe("resolveLaunch", () => {
  it("uses the command setting first, with `serve`", () => {
    const l = resolveLaunch({ ...settings, command: "~/venv/bin/codeloupe", pythonPath: "/usr/bin/python3" }, ctx(fsWith("/home/ana/venv/bin/codeloupe")), {});
    assert.ok(!isMissing(l));
    assert.deepEqual([l.command, l.args, l.source], ["/home/ana/venv/bin/codeloupe", ["serve"], "setting"]);
  });
  it("runs python -m lsp_server for the interpreter setting", () => {
    const l = resolveLaunch({ ...settings, pythonPath: "python3" }, ctx(fsWith("/usr/bin/python3")), {});
    assert.ok(!isMissing(l));
    assert.deepEqual([l.command, l.args], ["/usr/bin/python3", ["-P", "-m", "lsp_server", "--stdio"]]);
  });
  it("finds a workspace .venv before PATH", () => {
    const l = resolveLaunch(settings, ctx(fsWith("/ws/.venv/bin/codeloupe", "/opt/bin/codeloupe")), {});
    assert.ok(!isMissing(l));
    assert.equal(l.command, "/ws/.venv/bin/codeloupe");
    assert.equal(l.source, "workspace venv");
  });
  it("falls back to codeloupe on PATH", () => {
    const l = resolveLaunch(settings, ctx(fsWith("/opt/bin/codeloupe")), {});
    assert.ok(!isMissing(l));
    assert.equal(l.command, "/opt/bin/codeloupe");
  });
  it("explains how to fix a missing server", () => {
    const l = resolveLaunch(settings, ctx(fsWith()), {});
    assert.ok(isMissing(l));
    assert.match(l.message, /pip install codeloupe/);
    assert.match(l.message, /codeloupe\.server\.command/);
    assert.equal(l.setting, "codeloupe.server.command");
  });
  it("does not fall back silently when a setting names nothing runnable", () => {
    const l = resolveLaunch({ ...settings, command: "/nope/codeloupe" }, ctx(fsWith("/opt/bin/codeloupe")), {});
    assert.ok(isMissing(l));
    assert.match(l.message, /\/nope\/codeloupe/);
    const p = resolveLaunch({ ...settings, pythonPath: "/nope/python" }, ctx(fsWith("/opt/bin/codeloupe")), {});
    assert.ok(isMissing(p));
    assert.equal(p.setting, "codeloupe.server.pythonPath");
  });
});

describe("serverEnv", () => {
  it("passes index dir, gloss settings, the key and the budget to the server", () => {
    const env = serverEnv({ ...settings, indexDirectory: "/idx", glossProvider: "openai", glossBaseUrl: "http://127.0.0.1:8080/v1", glossModel: "qwen" }, "sk-1", { PATH: "/usr/bin", UNSET: undefined });
    assert.deepEqual(env, {
      PATH: "/usr/bin", CODELOUPE_LOG_LEVEL: "INFO", CODELOUPE_INDEX_DIR: "/idx", CODELOUPE_GLOSS_PROVIDER: "openai",
      CODELOUPE_GLOSS_BASE_URL: "http://127.0.0.1:8080/v1", CODELOUPE_GLOSS_MODEL: "qwen", CODELOUPE_GLOSS_API_KEY: "sk-1",
      CODELOUPE_CONTEXT_BUDGET: "4000",
    });
  });
  it("leaves out empty settings and a missing key", () => {
    const env = serverEnv({ ...settings, glossProvider: "" }, undefined, {});
    assert.equal(env.CODELOUPE_INDEX_DIR, undefined);
    assert.equal(env.CODELOUPE_GLOSS_API_KEY, undefined);
    assert.equal(env.CODELOUPE_GLOSS_PROVIDER, undefined);
  });
});

describe("which / expandSetting", () => {
  it("searches PATH in order and resolves relative paths against the folder", () => {
    assert.equal(which("codeloupe", "/a:/b", fsWith("/b/codeloupe", "/a/codeloupe")), "/a/codeloupe");
    assert.equal(which("./bin/x", "", fsWith("/ws/bin/x"), "/ws"), "/ws/bin/x");
    assert.equal(which("codeloupe", "", fsWith()), undefined);
  });
  it("expands ~ and ${workspaceFolder}", () => {
    assert.equal(expandSetting(" ~/x ", "/home/ana", undefined), "/home/ana/x");
    assert.equal(expandSetting("${workspaceFolder}/.venv/bin/codeloupe", "/h", "/ws"), "/ws/.venv/bin/codeloupe");
  });
});

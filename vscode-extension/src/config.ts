// Reading the extension's settings (package.json "contributes.configuration").
import * as vscode from "vscode";
import type { ServerSettings } from "./client/launch";

const SECTION = "codeloupe";

export function serverSettings(): ServerSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    command: c.get<string>("server.command", ""),
    pythonPath: c.get<string>("server.pythonPath", ""),
    logLevel: c.get<string>("server.logLevel", "WARNING"),
    indexDirectory: c.get<string>("index.directory", ""),
    glossProvider: c.get<string>("gloss.provider", "heuristic"),
    glossBaseUrl: c.get<string>("gloss.baseUrl", ""),
    glossModel: c.get<string>("gloss.model", ""),
    tokenBudget: c.get<number>("context.tokenBudget", 4000),
  };
}

export function tokenBudget(): number {
  return vscode.workspace.getConfiguration(SECTION).get<number>("context.tokenBudget", 4000);
}

export function searchSettings(): { maxResults: number; debounceMs: number } {
  const c = vscode.workspace.getConfiguration(SECTION);
  return { maxResults: c.get<number>("search.maxResults", 20000), debounceMs: c.get<number>("search.debounceMs", 250) };
}

/** Settings whose change needs a server restart (they are its command line or environment). */
export function affectsServer(e: vscode.ConfigurationChangeEvent): boolean {
  return ["server", "index", "gloss", "context"].some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}

export const GLOSS_KEY_SECRET = "codeloupe.gloss.apiKey";

// The gloss endpoint's API key lives in VS Code's secret storage, never in settings; the server
// gets it as CODELOUPE_GLOSS_API_KEY when it starts.
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";
import { GLOSS_KEY_SECRET } from "../config";

export async function setGlossApiKey(secrets: vscode.SecretStorage, server: ServerClient): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: "codeloupe: gloss endpoint API key",
    prompt: "Stored in VS Code's secret storage and passed to the server as CODELOUPE_GLOSS_API_KEY",
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  if (key.trim()) await secrets.store(GLOSS_KEY_SECRET, key.trim());
  else await secrets.delete(GLOSS_KEY_SECRET);
  await server.restart();
}

export async function clearGlossApiKey(secrets: vscode.SecretStorage, server: ServerClient): Promise<void> {
  await secrets.delete(GLOSS_KEY_SECRET);
  await server.restart();
  void vscode.window.showInformationMessage("codeloupe: the gloss API key was removed.");
}

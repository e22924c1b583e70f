// "Show index status": codeloupe/status in a quick pick, with the actions that go with it.
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";
import { errorInfo, firstLine } from "../client/errors";
import type { StatusResult } from "../protocol";
import { Methods } from "../protocol";
import { statusRows } from "./statusItems";

interface StatusItem extends vscode.QuickPickItem {
  command?: string;
}

export async function showIndexStatus(server: ServerClient, out: vscode.OutputChannel): Promise<StatusResult | undefined> {
  const actions: StatusItem[] = [
    { label: "", kind: vscode.QuickPickItemKind.Separator },
    { label: "$(refresh) Reindex", command: "codeloupe.reindex" },
    { label: "$(git-branch) Switch search branch", command: "codeloupe.switchBranch" },
    { label: "$(output) Show server output", command: "codeloupe.showOutput" },
    { label: "$(debug-restart) Restart language server", command: "codeloupe.restartServer" },
  ];
  if (server.state.activeTokens.length) actions.splice(1, 0, { label: "$(debug-stop) Cancel indexing", command: "codeloupe.cancelIndexing" });
  let status: StatusResult | undefined;
  let rows: StatusItem[];
  try {
    status = await server.request<StatusResult>(Methods.status, { checkFresh: true });
    rows = statusRows(status);
  } catch (err) {
    rows = [{ label: "$(error) codeloupe/status failed", detail: firstLine(errorInfo(err).message) }];
  }
  const title = status?.version ? `codeloupe ${status.version} — index status` : "codeloupe — index status";
  const chosen = await vscode.window.showQuickPick([...rows, ...actions], { title, matchOnDescription: true });
  if (chosen?.command === "codeloupe.showOutput") out.show();
  else if (chosen?.command) await vscode.commands.executeCommand(chosen.command);
  return status;
}

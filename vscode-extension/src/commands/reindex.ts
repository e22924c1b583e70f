// "Reindex": brings the working tree's index up to date now (codeloupe/reindex), cancellable.
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";
import { errorInfo, firstLine } from "../client/errors";
import type { ReindexResult } from "../protocol";
import { Methods } from "../protocol";
import { reindexSummary } from "./reindexSummary";

export async function reindex(server: ServerClient): Promise<ReindexResult | undefined> {
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "codeloupe: reindexing…", cancellable: true },
      (_progress, token) => server.request<ReindexResult>(Methods.reindex, {}, token),
    );
    void vscode.window.showInformationMessage(reindexSummary(result));
    return result;
  } catch (err) {
    const info = errorInfo(err);
    if (!info.cancelled) void vscode.window.showErrorMessage(`codeloupe: reindex failed: ${firstLine(info.message)}`);
    return undefined;
  }
}

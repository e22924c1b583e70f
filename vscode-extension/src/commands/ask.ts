// "Ask the codebase": a quick pick over codeloupe/ask's hybrid results, refreshed as you type
// (debounced; the request for the previous text is cancelled).
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";
import { errorInfo, firstLine, notAvailableMessage } from "../client/errors";
import type { AskHit, AskResult } from "../protocol";
import { Methods } from "../protocol";
import { openTarget } from "../search/open";
import { LatestOnly } from "../util/latest";
import { askItem, askParams } from "./askItems";

interface AskPickItem extends vscode.QuickPickItem {
  hit?: AskHit;
  rev?: string;
}

function messageItem(label: string, detail: string): AskPickItem {
  return { label, detail, alwaysShow: true };
}

export async function askTheCodebase(server: ServerClient, rev: () => string): Promise<void> {
  const pick = vscode.window.createQuickPick<AskPickItem>();
  pick.title = "Ask the codebase";
  pick.placeholder = "Describe what you are looking for, e.g. where are failed uploads retried?";
  pick.matchOnDescription = true;
  let warned = false;
  const runner = new LatestOnly<string, AskResult, vscode.CancellationToken>({
    delayMs: 300,
    newCanceller: () => {
      const source = new vscode.CancellationTokenSource();
      return { token: source.token, cancel: () => source.cancel(), dispose: () => source.dispose() };
    },
    run: (query, token) => server.request<AskResult>(Methods.ask, askParams(query, rev()), token),
    onResult: (result) => {
      pick.busy = false;
      // The server ranks; alwaysShow keeps the quick pick from filtering by label.
      pick.items = result.results.length
        ? result.results.map((hit) => ({ ...askItem(hit), hit, rev: result.rev, alwaysShow: true }))
        : [messageItem("No results", "Try other words, or the search view for an exact pattern.")];
      if (result.embedded < 1) pick.title = `Ask the codebase (${Math.round(result.embedded * 100)}% of the code embedded so far)`;
    },
    onError: (error) => {
      pick.busy = false;
      const info = errorInfo(error);
      if (info.cancelled) return;
      if (info.notAvailable) {
        const message = notAvailableMessage("Ask the codebase", info.message);
        pick.items = [messageItem("$(warning) codeloupe/ask is not available on this server yet", message)];
        if (!warned) void vscode.window.showWarningMessage(message);
        warned = true;
      } else {
        pick.items = [messageItem("$(error) codeloupe/ask failed", firstLine(info.message))];
      }
    },
  });
  pick.onDidChangeValue((value) => {
    if (!value.trim()) {
      runner.cancel();
      pick.busy = false;
      pick.items = [];
      return;
    }
    pick.busy = true;
    runner.schedule(value);
  });
  pick.onDidAccept(async () => {
    const item = pick.selectedItems[0];
    const hit = item?.hit;
    if (!hit) return;
    pick.hide();
    const start = { line: hit.start_line - 1, character: 0 };
    const editor = await openTarget(
      { uri: hit.uri, path: hit.path, folder: hit.folder, rev: item.rev ?? "", range: { start, end: start } },
      { preserveFocus: false, preview: true },
    );
    editor.revealRange(new vscode.Range(hit.start_line - 1, 0, hit.end_line - 1, 0), vscode.TextEditorRevealType.AtTop);
  });
  pick.onDidHide(() => {
    runner.dispose();
    pick.dispose();
  });
  pick.show();
}

// Entry point: starts the language client and wires the search view, the commands, the status
// bar, the `codeloupe-rev:` documents and the language model tools to it.
import * as vscode from "vscode";
import { ServerClient } from "./client/client";
import { askTheCodebase } from "./commands/ask";
import { clearGlossApiKey, setGlossApiKey } from "./commands/apiKey";
import { switchSearchBranch } from "./commands/branch";
import { packContext } from "./commands/pack";
import { reindex } from "./commands/reindex";
import { showIndexStatus } from "./commands/status";
import { affectsServer } from "./config";
import { registerTools } from "./lm/tools";
import { RevContentProvider } from "./rev/revContent";
import { SearchViewProvider } from "./search/searchView";
import { StatusBar } from "./status/statusBar";

/** What other extensions get from `vscode.extensions.getExtension("codeloupe.codeloupe").exports`. */
export interface CodeloupeApi {
  /** Sends a codeloupe/* request to the server (see docs/protocol.md). */
  request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
  /** The rev the search view searches ("worktree" or a branch, tag or commit). */
  searchRev(): string;
}

let running: ServerClient | undefined;

export function activate(context: vscode.ExtensionContext): CodeloupeApi {
  const out = vscode.window.createOutputChannel("codeloupe");
  const server = new ServerClient(context.secrets, out);
  running = server;
  const view = new SearchViewProvider(context.extensionUri, server);
  const command = (id: string, run: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, run);

  context.subscriptions.push(
    out,
    server,
    view,
    new StatusBar(server),
    vscode.window.registerWebviewViewProvider(SearchViewProvider.viewId, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.registerTextDocumentContentProvider(RevContentProvider.scheme, new RevContentProvider()),
    registerTools(server),
    command("codeloupe.focusSearch", () => view.reveal()),
    command("codeloupe.ask", () => askTheCodebase(server, () => view.rev)),
    command("codeloupe.packContext", (args?: { task?: string }) => packContext(server, args)),
    command("codeloupe.reindex", () => reindex(server)),
    command("codeloupe.switchBranch", () => switchSearchBranch(view)),
    command("codeloupe.showStatus", () => showIndexStatus(server, out)),
    command("codeloupe.cancelIndexing", () => server.cancelIndexing()),
    command("codeloupe.restartServer", () => server.restart()),
    command("codeloupe.setGlossApiKey", () => setGlossApiKey(context.secrets, server)),
    command("codeloupe.clearGlossApiKey", () => clearGlossApiKey(context.secrets, server)),
    // The server's command line and environment come from settings: apply changes at once.
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsServer(e)) void server.restart();
    }),
  );

  void server.start();
  return {
    request: (method, params, token) => server.request(method, params, token),
    searchRev: () => view.rev,
  };
}

/** VS Code waits for this promise: the server gets shutdown and exit before the host goes. */
export function deactivate(): Promise<void> | undefined {
  return running?.stop();
}

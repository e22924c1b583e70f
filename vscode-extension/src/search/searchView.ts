// The search view in the codeloupe activity-bar container: a webview that works like VS Code's
// search panel, backed by codeloupe/search (debounced as you type, stale requests cancelled).
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";
import { errorInfo, firstLine } from "../client/errors";
import { searchSettings } from "../config";
import type { BranchesResult, SearchParams, SearchResult } from "../protocol";
import { Methods, WORKTREE } from "../protocol";
import { LatestOnly } from "../util/latest";
import { groupResults, summary } from "./group";
import { webviewHtml } from "./html";
import type { FromWebview, ToWebview } from "./messages";
import { openTarget } from "./open";
import type { SearchQuery } from "./query";
import { emptyQuery, sameSearch, toSearchParams } from "./query";
import type { RevChoice } from "./revs";
import { revChoices } from "./revs";

export class SearchViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = "codeloupe.search";
  private view: vscode.WebviewView | undefined;
  private query: SearchQuery = { ...emptyQuery };
  private revs: RevChoice[] = revChoices(undefined);
  private readonly runner: LatestOnly<SearchParams, SearchResult, vscode.CancellationToken>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly server: ServerClient,
  ) {
    this.runner = new LatestOnly({
      delayMs: searchSettings().debounceMs,
      newCanceller: () => {
        const source = new vscode.CancellationTokenSource();
        return { token: source.token, cancel: () => source.cancel(), dispose: () => source.dispose() };
      },
      run: (params, token) => this.server.request<SearchResult>(Methods.search, params, token),
      onStart: (_params, seq) => this.post({ type: "searching", seq }),
      onResult: (result, _params, seq) => {
        const grouped = groupResults(result);
        this.post({ type: "results", seq, results: grouped, summary: summary(grouped.totals, grouped.limitHit), seconds: result.stats?.seconds });
      },
      onError: (error, _params, seq) => {
        const info = errorInfo(error);
        if (!info.cancelled) this.post({ type: "error", seq, message: firstLine(info.message) });
      },
    });
    // A new index (a save, a branch switch, an on-demand commit) can change the answer.
    this.disposables.push(server.onIndexChanged(() => {
      void this.loadRevs();
      if (this.view?.visible && this.query.query) this.search(this.query, true);
    }));
  }

  /** The rev the view searches: "worktree" or a branch, tag or commit. */
  get rev(): string {
    return this.query.rev || WORKTREE;
  }

  get revChoices(): RevChoice[] {
    return this.revs;
  }

  async refreshRevs(): Promise<RevChoice[]> {
    await this.loadRevs();
    return this.revs;
  }

  /** Switches the searched rev (from the "Switch search branch" command) and searches again. */
  setRev(rev: string): void {
    this.post({ type: "setRev", rev });
    this.search({ ...this.query, rev }, true);
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${SearchViewProvider.viewId}.focus`);
    this.post({ type: "focus" });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const assets = vscode.Uri.joinPath(this.extensionUri, "out", "webview");
    view.webview.options = { enableScripts: true, localResourceRoots: [assets] };
    view.webview.html = webviewHtml(view.webview, assets);
    this.disposables.push(
      view.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m)),
      view.onDidDispose(() => {
        this.view = undefined;
      }),
    );
  }

  dispose(): void {
    this.runner.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private onMessage(m: FromWebview): void {
    switch (m.type) {
      case "ready":
        this.post({ type: "init", query: this.query, revs: this.revs });
        void this.loadRevs();
        break;
      case "search":
        this.search(m.query, m.immediate);
        break;
      case "open":
        openTarget(m.target, m).then(undefined, (err: unknown) =>
          vscode.window.showErrorMessage(`codeloupe: cannot open ${m.target.path} at ${m.target.rev}: ${errorInfo(err).message}`));
        break;
      case "refreshBranches":
        void this.loadRevs();
        break;
    }
  }

  private search(query: SearchQuery, immediate: boolean): void {
    const previous = this.query;
    this.query = query;
    // Typing a space or a trailing comma in a glob box asks nothing new.
    if (!immediate && sameSearch(previous, query, searchSettings().maxResults)) return;
    const params = toSearchParams(query, searchSettings().maxResults);
    if (!params) {
      this.runner.cancel();
      this.post({ type: "cleared" });
      return;
    }
    this.runner.schedule(params, immediate ? 0 : searchSettings().debounceMs);
  }

  private async loadRevs(): Promise<void> {
    try {
      const result = await this.server.request<BranchesResult>(Methods.branches, {});
      this.revs = revChoices(result);
      this.post({ type: "revs", revs: this.revs, current: this.rev });
    } catch (err) {
      const info = errorInfo(err);
      if (!info.cancelled) this.post({ type: "notice", message: firstLine(info.message) });
    }
  }

  private post(message: ToWebview): void {
    void this.view?.webview.postMessage(message);
  }
}

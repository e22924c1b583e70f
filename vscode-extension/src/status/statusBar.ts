// The status bar item: index state and indexing progress; a click shows the index status.
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("codeloupe.status", vscode.StatusBarAlignment.Left, 10);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly server: ServerClient) {
    this.item.name = "codeloupe index";
    this.item.command = "codeloupe.showStatus";
    this.subscription = server.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  private update(): void {
    const d = this.server.state.display();
    this.item.text = d.text;
    this.item.tooltip = d.tooltip;
    this.item.backgroundColor = d.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    void vscode.commands.executeCommand("setContext", "codeloupe.indexing", this.server.state.activeTokens.length > 0);
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

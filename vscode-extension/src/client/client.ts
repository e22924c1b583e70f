// The language client: starts `codeloupe serve`, forwards the server's index notifications and
// progress to the rest of the extension, and sends codeloupe's custom requests.
import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import type { LanguageClientOptions, NotificationHandler, ProgressType, ServerOptions } from "vscode-languageclient/node";
import { LanguageClient, State, WorkDoneProgressCancelNotification } from "vscode-languageclient/node";
import { GLOSS_KEY_SECRET, serverSettings } from "../config";
import type { IndexChangedParams, StatusResult } from "../protocol";
import { IndexChangedNotification, Methods, WORKTREE } from "../protocol";
import type { ServerState, WorkDoneValue } from "../status/indexState";
import { IndexState } from "../status/indexState";
import type { FileSystem, Missing } from "./launch";
import { isMissing, resolveLaunch, serverEnv } from "./launch";

const nodeFs: FileSystem = {
  isExecutable(p: string): boolean {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
};

function isWorkDone(value: unknown): value is WorkDoneValue {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === "begin" || kind === "report" || kind === "end";
}

/**
 * The stock client shows server progress as a window progress; this one also hands every
 * work-done value to a listener (our status bar), since a progress token takes one handler.
 */
class ObservedLanguageClient extends LanguageClient {
  progressListener: ((token: string | number, value: WorkDoneValue) => void) | undefined;

  override onProgress<P>(type: ProgressType<P>, token: string | number, handler: NotificationHandler<P>): vscode.Disposable {
    return super.onProgress(type, token, (value: P) => {
      if (isWorkDone(value)) this.progressListener?.(token, value);
      handler(value);
    });
  }
}

export class ServerClient implements vscode.Disposable {
  readonly state = new IndexState();
  private client: ObservedLanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly indexChanged = new vscode.EventEmitter<IndexChangedParams>();
  /** Server state, progress or file counts changed. */
  readonly onDidChange = this.changed.event;
  /** A folder's index became available or changed (codeloupe/indexChanged). */
  readonly onIndexChanged = this.indexChanged.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly out: vscode.OutputChannel,
  ) {}

  start(): Promise<void> {
    this.starting = this.doStart();
    return this.starting;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.state.clearProgress();
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.out.appendLine(`Stopping the server: ${String(err)}`);
      }
    }
    this.setServer("stopped");
  }

  /** Sends a custom request once the server runs; rejects with a readable error otherwise. */
  async request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
    await this.starting;
    const client = this.client;
    if (!client || this.state.server !== "running") {
      throw new Error(`The codeloupe server is not running${this.state.serverDetail ? `: ${this.state.serverDetail}` : "."}`);
    }
    return token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params);
  }

  /** Asks the server to stop the indexing it reports progress for. */
  cancelIndexing(): void {
    for (const token of this.state.activeTokens) {
      void this.client?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
    }
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
    this.indexChanged.dispose();
  }

  private async doStart(): Promise<void> {
    const settings = serverSettings();
    const apiKey = await this.secrets.get(GLOSS_KEY_SECRET);
    const folders = (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === "file")
      .map((f) => f.uri.fsPath);
    const env = serverEnv(settings, apiKey, process.env);
    const launch = resolveLaunch(settings, { folders, home: os.homedir(), envPath: process.env.PATH ?? "", fs: nodeFs }, env);
    if (isMissing(launch)) {
      this.out.appendLine(launch.message);
      this.setServer("missing", launch.message);
      void this.showMissing(launch);
      return;
    }
    this.out.appendLine(`Starting ${launch.command} ${launch.args.join(" ")} (found via ${launch.source})`);
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      options: { env: launch.env, cwd: folders[0] },
    };
    const clientOptions: LanguageClientOptions = {
      // Open files go to the server so searches of the working tree see unsaved edits.
      documentSelector: [{ scheme: "file" }],
      outputChannel: this.out,
    };
    const client = new ObservedLanguageClient("codeloupe", "codeloupe", serverOptions, clientOptions);
    client.progressListener = (token, value) => {
      this.state.applyProgress(token, value);
      this.changed.fire();
    };
    client.onNotification(IndexChangedNotification, (params: IndexChangedParams) => {
      if (params.rev === WORKTREE) this.state.setFiles(params.folder, params.files);
      this.indexChanged.fire(params);
      this.changed.fire();
    });
    // The client restarts a crashed server by itself (a few times): follow it in the status bar.
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Stopped) this.setServer("failed", "The server stopped; see the codeloupe output.");
      else if (e.newState === State.Running && this.state.server === "failed") this.setServer("running");
    });
    this.client = client;
    this.setServer("starting");
    try {
      await client.start();
    } catch (err) {
      const message = `The codeloupe server (${launch.command} ${launch.args.join(" ")}) failed to start: ${String((err as Error)?.message ?? err)}`;
      this.out.appendLine(message);
      this.setServer("failed", message);
      void this.showMissing({ missing: true, message: `${message}. Is codeloupe installed for that command?`, setting: launch.source === "python" ? "codeloupe.server.pythonPath" : "codeloupe.server.command" });
      return;
    }
    this.setServer("running");
    void this.loadFileCounts();
  }

  private async loadFileCounts(): Promise<void> {
    try {
      const status = await this.request<StatusResult>(Methods.status, { checkFresh: false });
      for (const f of status.folders) {
        const worktree = f.snapshots?.find((s) => s.name === WORKTREE);
        if (worktree) this.state.setFiles(f.folder, worktree.files);
      }
      this.changed.fire();
    } catch (err) {
      this.out.appendLine(`codeloupe/status: ${String(err)}`);
    }
  }

  private setServer(state: ServerState, detail = ""): void {
    this.state.server = state;
    this.state.serverDetail = detail;
    if (state !== "running") this.state.clearProgress();
    this.changed.fire();
  }

  private async showMissing(m: Missing): Promise<void> {
    const open = "Open Settings";
    const log = "Show Output";
    const choice = await vscode.window.showErrorMessage(m.message, open, log);
    if (choice === open) await vscode.commands.executeCommand("workbench.action.openSettings", m.setting);
    if (choice === log) this.out.show();
  }
}

// The index state the status bar shows: server lifecycle, indexing progress ($/progress from
// the server) and searchable files per folder (codeloupe/indexChanged, codeloupe/status).
// Pure: events in, text out.

export type ServerState = "starting" | "running" | "stopped" | "missing" | "failed";

export interface ProgressEntry {
  token: string | number;
  title: string;
  message?: string;
  percentage?: number;
  cancellable: boolean;
}

export interface WorkDoneValue {
  kind: "begin" | "report" | "end";
  title?: string;
  message?: string;
  percentage?: number;
  cancellable?: boolean;
}

export interface Display {
  text: string;
  tooltip: string;
  /** Show the item as a warning (server missing or failed). */
  warning: boolean;
}

/** Background embedding ($/progress titled "Embedding <folder>" by the server). */
export function isEmbedding(p: ProgressEntry): boolean {
  return p.title.startsWith("Embedding ");
}

export class IndexState {
  server: ServerState = "starting";
  serverDetail = "";
  private readonly progress = new Map<string | number, ProgressEntry>();
  private readonly files = new Map<string, number>();

  /** Applies one $/progress value (begin / report / end). */
  applyProgress(token: string | number, value: WorkDoneValue): void {
    if (value.kind === "end") {
      this.progress.delete(token);
      return;
    }
    const entry = this.progress.get(token) ?? { token, title: value.title ?? "Indexing", cancellable: false };
    if (value.kind === "begin") {
      entry.title = value.title ?? entry.title;
      entry.cancellable = value.cancellable ?? false;
    }
    if (value.message !== undefined) entry.message = value.message;
    if (value.percentage !== undefined) entry.percentage = value.percentage;
    this.progress.set(token, entry);
  }

  setFiles(folder: string, files: number | null | undefined): void {
    if (typeof files === "number") this.files.set(folder, files);
  }

  clearProgress(): void {
    this.progress.clear();
  }

  /** The most recent indexing work, if any; background embedding only when nothing else runs
   * (search and symbols are ready while it goes on). */
  get active(): ProgressEntry | undefined {
    let last: ProgressEntry | undefined;
    let embedding: ProgressEntry | undefined;
    for (const p of this.progress.values()) {
      if (isEmbedding(p)) embedding = p;
      else last = p;
    }
    return last ?? embedding;
  }

  get activeTokens(): (string | number)[] {
    return [...this.progress.values()].filter((p) => p.cancellable).map((p) => p.token);
  }

  display(): Display {
    if (this.server === "missing") {
      return { text: "$(warning) codeloupe: server not found", tooltip: this.serverDetail, warning: true };
    }
    if (this.server === "failed") {
      return { text: "$(error) codeloupe: server failed", tooltip: this.serverDetail, warning: true };
    }
    if (this.server === "stopped") {
      return { text: "$(circle-slash) codeloupe: stopped", tooltip: "The codeloupe server is not running", warning: false };
    }
    const p = this.active;
    if (p) {
      const pct = p.percentage !== undefined ? ` ${Math.round(p.percentage)}%` : "";
      const tooltip = [p.title, p.message].filter(Boolean).join(": ") +
        (p.cancellable ? "\nClick for index status or to cancel" : "");
      if (isEmbedding(p)) {
        // Search, symbols and lexical ask already work: say what is still going on.
        return {
          text: `$(sync~spin) codeloupe: embedding${pct}`,
          tooltip: `${tooltip}\nSearch and symbols are ready; semantic answers use what is embedded so far`,
          warning: false,
        };
      }
      return { text: `$(sync~spin) codeloupe${pct}`, tooltip, warning: false };
    }
    if (this.server === "starting") {
      return { text: "$(loading~spin) codeloupe", tooltip: "Starting the codeloupe server", warning: false };
    }
    const total = [...this.files.values()].reduce((a, b) => a + b, 0);
    const count = this.files.size ? ` ${total.toLocaleString("en-US")} files` : "";
    return {
      text: `$(search) codeloupe${count}`,
      tooltip: `codeloupe index ready${this.files.size ? `: ${total} searchable files in ${this.files.size} folder(s)` : ""}\nClick for index status`,
      warning: false,
    };
  }
}

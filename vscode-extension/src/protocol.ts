// Shapes of codeloupe's custom LSP methods (docs/protocol.md in the repository).
// Plain types only: imported by the extension, the webview bundle and the unit tests alike.

export const Methods = {
  search: "codeloupe/search",
  symbols: "codeloupe/symbols",
  status: "codeloupe/status",
  reindex: "codeloupe/reindex",
  branches: "codeloupe/branches",
  ask: "codeloupe/ask",
  context: "codeloupe/context",
} as const;

export const IndexChangedNotification = "codeloupe/indexChanged";

/** LSP error codes the server uses (see "Errors" in the protocol). */
export const ErrorCodes = {
  invalidParams: -32602,
  requestCancelled: -32800,
  requestFailed: -32803,
  internalError: -32603,
} as const;

export const WORKTREE = "worktree";

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

// --- codeloupe/search ---
export interface SearchParams {
  query: string;
  isRegex?: boolean;
  isCaseSensitive?: boolean;
  smartCase?: boolean;
  isWordMatch?: boolean;
  includes?: string[];
  excludes?: string[];
  rev?: string;
  folder?: string;
  paths?: string[];
  maxResults?: number;
  maxResultsPerFile?: number;
  context?: number | { before?: number; after?: number };
}

export interface LineMatch {
  line: number;
  text: string;
  ranges: Range[];
  context?: true;
}

export interface FileResult {
  uri: string;
  path: string;
  folder: string;
  matches: LineMatch[];
}

export interface SearchStats {
  filesSearched?: number;
  bytesSearched?: number;
  candidates?: number;
  matchedFiles?: number;
  matchedLines?: number;
  overlayFiles?: number;
  scanned?: boolean;
  seconds?: number;
}

export interface SearchResult {
  rev: string;
  snapshots: { folder: string; snapshot: string; commit: string | null }[];
  results: FileResult[];
  limitHit: boolean;
  stats: SearchStats;
}

// --- codeloupe/branches ---
export interface GitRef {
  name: string;
  kind: "branch" | "remote" | "tag";
  commit: string;
  indexed: boolean;
}

export interface FolderBranches {
  folder: string;
  root: string;
  head: { commit: string | null; branch: string | null };
  refs: GitRef[];
  snapshots?: unknown[];
}

export interface BranchesResult { folders: FolderBranches[] }

// --- codeloupe/status ---
export interface SnapshotInfo {
  name: string;
  commit: string | null;
  files: number;
  bytes: number;
  skipped?: Record<string, number>;
  updated?: string;
}

export interface FolderStatus {
  folder: string;
  name?: string;
  path?: string;
  root?: string;
  prefix?: string;
  state: "opening" | "indexing" | "ready" | "error";
  error?: string | null;
  fresh?: boolean | null;
  indexing?: { rev?: string; done?: number; total?: number; message?: string } | null;
  indexDir?: string;
  watching?: boolean;
  snapshots?: SnapshotInfo[];
}

export interface StatusResult {
  folders: FolderStatus[];
  positionEncoding: "utf-8" | "utf-16";
  openBuffers?: number;
  version?: string;
}

// --- codeloupe/reindex ---
export interface ReindexResult {
  results: {
    folder: string;
    rev: string;
    snapshot: string;
    commit: string | null;
    files: number;
    bytes: number;
    newBlobs: number;
    upToDate: boolean;
    seconds: number;
  }[];
}

// --- codeloupe/indexChanged ---
export interface IndexChangedParams {
  folder: string;
  rev: string;
  commit: string | null;
  files?: number | null;
  bytes?: number | null;
  reason: "opened" | "indexed" | "reindexed";
}

// --- codeloupe/ask (semantic layer) ---
export interface AskParams {
  query: string;
  folder?: string;
  rev?: string;
  globs?: string[];
  languages?: string[];
  k?: number;
}

export interface AskHit {
  uri: string;
  path: string;
  folder: string;
  start_line: number; // 1-based
  end_line: number; // 1-based, inclusive
  name: string;
  kind: string;
  score: number;
  signals: Record<string, number>;
  preview: string;
}

export interface AskResult {
  rev: string;
  embedded: number;
  results: AskHit[];
}

// --- codeloupe/context (semantic layer) ---
export type PackFormat = "markdown" | "xml" | "json";

export interface ContextParams {
  task: string;
  folder?: string;
  rev?: string;
  budget?: number;
  file?: string;
  line?: number; // 0-based
  selection?: { uri: string; range: Range };
  open?: string[];
  format?: PackFormat;
  instructions?: string;
}

export interface ContextBlock {
  path: string;
  start_line: number;
  end_line: number;
  rev: string;
  symbol: string;
  tokens: number;
  reasons: string[];
}

export interface ContextResult {
  text: string;
  format: string;
  tokens: number;
  budget: number;
  considered: number;
  blocks: ContextBlock[];
  dropped: { path: string; start_line: number; end_line: number; reason: string }[];
}

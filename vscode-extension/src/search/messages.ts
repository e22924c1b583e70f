// Messages between the search webview and the extension host (postMessage, both ways).
import type { Range } from "../protocol";
import type { GroupedResults } from "./group";
import type { SearchQuery } from "./query";
import type { RevChoice } from "./revs";

/** Where a clicked result lives; enough to open it without the extension keeping state. */
export interface OpenTarget {
  uri: string;
  path: string;
  folder: string;
  rev: string;
  range: Range;
}

export type FromWebview =
  | { type: "ready" }
  | { type: "search"; query: SearchQuery; immediate: boolean }
  | { type: "open"; target: OpenTarget; preserveFocus: boolean; preview: boolean }
  | { type: "refreshBranches" };

export type ToWebview =
  | { type: "init"; query: SearchQuery; revs: RevChoice[] }
  | { type: "revs"; revs: RevChoice[]; current: string }
  | { type: "setRev"; rev: string }
  | { type: "searching"; seq: number }
  | { type: "results"; seq: number; results: GroupedResults; summary: string; seconds: number | undefined }
  | { type: "error"; seq: number; message: string }
  | { type: "cleared" }
  | { type: "focus" }
  | { type: "notice"; message: string };

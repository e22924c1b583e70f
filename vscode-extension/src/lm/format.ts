// Tool inputs → server params, and server answers → text for a language model: compact,
// grep-like, with the paths a model can cite.
import type { SearchParams, SearchResult } from "../protocol";
import { WORKTREE } from "../protocol";

export interface SearchToolInput {
  query: string;
  isRegex?: boolean;
  caseSensitive?: boolean;
  wholeWord?: boolean;
  includes?: string[];
  excludes?: string[];
  rev?: string;
  maxResults?: number;
}

export interface ContextToolInput {
  task: string;
  budget?: number;
  rev?: string;
  file?: string;
  line?: number;
}

export const TOOL_MAX_RESULTS = 200;
const MAX_LINE = 200;

export function searchToolParams(input: SearchToolInput): SearchParams {
  if (typeof input.query !== "string" || input.query.length === 0) throw new Error("codeloupe_search: 'query' must be a non-empty string");
  const params: SearchParams = {
    query: input.query,
    isRegex: input.isRegex ?? false,
    isCaseSensitive: input.caseSensitive ?? false,
    isWordMatch: input.wholeWord ?? false,
    maxResults: Math.max(1, Math.min(input.maxResults ?? TOOL_MAX_RESULTS, 2000)),
  };
  if (input.includes?.length) params.includes = input.includes;
  if (input.excludes?.length) params.excludes = input.excludes;
  if (input.rev && input.rev !== WORKTREE) params.rev = input.rev;
  return params;
}

export function formatSearchForModel(result: SearchResult, query: string): string {
  const files = result.results.filter((f) => f.matches.some((m) => !m.context));
  const lines = files.reduce((n, f) => n + f.matches.filter((m) => !m.context).length, 0);
  const where = result.rev === WORKTREE ? "the working tree" : `rev ${result.rev}`;
  if (lines === 0) return `No matches for ${JSON.stringify(query)} in ${where}.`;
  const out = [`${lines} matching line${lines === 1 ? "" : "s"} in ${files.length} file${files.length === 1 ? "" : "s"} (${where})` +
    (result.limitHit ? "; more exist, narrow the query or the globs" : "") + ":"];
  for (const f of files) {
    out.push("", f.path);
    for (const m of f.matches) {
      if (m.context) continue;
      const text = m.text.length > MAX_LINE ? m.text.slice(0, MAX_LINE) + "…" : m.text;
      out.push(`${m.line + 1}: ${text}`);
    }
  }
  return out.join("\n");
}

// What the search view's inputs mean for codeloupe/search: the query → params mapping.
import type { SearchParams } from "../protocol";
import { WORKTREE } from "../protocol";

/** The state of the view's inputs, as the webview sends it. */
export interface SearchQuery {
  query: string;
  isRegex: boolean;
  isCaseSensitive: boolean;
  isWordMatch: boolean;
  /** Comma-separated globs, as typed in "files to include". */
  includes: string;
  /** Comma-separated globs, as typed in "files to exclude". */
  excludes: string;
  /** "worktree" or a branch, tag or commit. */
  rev: string;
}

export const emptyQuery: SearchQuery = {
  query: "",
  isRegex: false,
  isCaseSensitive: false,
  isWordMatch: false,
  includes: "",
  excludes: "",
  rev: WORKTREE,
};

/**
 * Splits a glob list the way VS Code's include/exclude boxes do: on commas outside `{…}`
 * (so `*.{ts,js}` stays one glob), trimmed, empty ones dropped. A leading `./` means "from the
 * folder's root", which for gitignore-style globs is a leading `/`.
 */
export function splitGlobs(text: string): string[] {
  const globs: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "{") depth++;
    else if (ch === "}") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      globs.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  globs.push(current);
  return globs
    .map((g) => g.trim())
    .filter((g) => g.length > 0)
    .map((g) => (g.startsWith("./") ? "/" + g.slice(2) : g));
}

/**
 * codeloupe/search params for the view's state, or undefined when there is nothing to search
 * (an empty query clears the results instead of asking the server).
 */
export function toSearchParams(q: SearchQuery, maxResults: number): SearchParams | undefined {
  if (q.query.length === 0) return undefined;
  const params: SearchParams = {
    query: q.query,
    isRegex: q.isRegex,
    isCaseSensitive: q.isCaseSensitive,
    isWordMatch: q.isWordMatch,
    maxResults,
  };
  const includes = splitGlobs(q.includes);
  const excludes = splitGlobs(q.excludes).map((g) => (g.startsWith("!") ? g.slice(1) : g));
  if (includes.length) params.includes = includes;
  if (excludes.length) params.excludes = excludes;
  if (q.rev && q.rev !== WORKTREE) params.rev = q.rev;
  return params;
}

/** Two states ask the server the same question (so a re-send can be skipped). */
export function sameSearch(a: SearchQuery, b: SearchQuery, maxResults: number): boolean {
  return JSON.stringify(toSearchParams(a, maxResults)) === JSON.stringify(toSearchParams(b, maxResults));
}

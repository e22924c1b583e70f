// Turns a codeloupe/search answer into what the view shows: files (with a count each), their
// matching lines as highlighted previews, and the totals of the summary line.
import type { FileResult, Range, SearchResult } from "../protocol";
import type { Segment } from "./highlight";
import { lineSpans, previewSegments } from "./highlight";

export interface MatchRow {
  /** 0-based line. */
  line: number;
  /** The first match on the line: where a click lands. */
  range: Range;
  segments: Segment[];
  /** Matches on this line (a line can match more than once). */
  count: number;
}

export interface FileGroup {
  uri: string;
  path: string;
  folder: string;
  /** The file's name and the folder it is in, shown apart as VS Code does. */
  name: string;
  dir: string;
  matches: MatchRow[];
  count: number;
}

export interface Totals {
  files: number;
  matches: number;
}

export interface GroupedResults {
  rev: string;
  files: FileGroup[];
  totals: Totals;
  limitHit: boolean;
  /** Several workspace folders answered: show the folder beside paths. */
  multiFolder: boolean;
}

export function splitPath(path: string): { name: string; dir: string } {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? { name: path, dir: "" } : { name: path.slice(slash + 1), dir: path.slice(0, slash) };
}

function groupFile(file: FileResult): FileGroup | undefined {
  const matches: MatchRow[] = [];
  for (const m of file.matches) {
    if (m.context || m.ranges.length === 0) continue; // context lines are not results
    const spans = lineSpans(m.ranges, m.line, m.text.length);
    matches.push({
      line: m.line,
      range: m.ranges[0],
      segments: previewSegments(m.text, spans),
      count: m.ranges.length,
    });
  }
  if (matches.length === 0) return undefined;
  const count = matches.reduce((n, m) => n + m.count, 0);
  return { uri: file.uri, path: file.path, folder: file.folder, ...splitPath(file.path), matches, count };
}

/**
 * Groups results by file. The server already sends one entry per file in path order per
 * folder; entries for the same file (streamed batches) are merged, keeping the server's order.
 */
export function groupResults(result: SearchResult): GroupedResults {
  const byUri = new Map<string, FileGroup>();
  const files: FileGroup[] = [];
  for (const file of result.results) {
    const group = groupFile(file);
    if (!group) continue;
    const seen = byUri.get(group.uri);
    if (seen) {
      seen.matches.push(...group.matches);
      seen.matches.sort((a, b) => a.line - b.line);
      seen.count += group.count;
    } else {
      byUri.set(group.uri, group);
      files.push(group);
    }
  }
  const totals = { files: files.length, matches: files.reduce((n, f) => n + f.count, 0) };
  const folders = new Set(files.map((f) => f.folder));
  return { rev: result.rev, files, totals, limitHit: result.limitHit, multiFolder: folders.size > 1 };
}

/** "3 results in 2 files", as VS Code words it. */
export function summary(totals: Totals, limitHit: boolean): string {
  if (totals.matches === 0) return "No results found.";
  const results = `${totals.matches} result${totals.matches === 1 ? "" : "s"}`;
  const files = `${totals.files} file${totals.files === 1 ? "" : "s"}`;
  return `${results} in ${files}${limitHit ? " (more not shown: the result limit was hit)" : ""}`;
}

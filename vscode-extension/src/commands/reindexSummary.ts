// What a finished codeloupe/reindex says to the user.
import type { ReindexResult } from "../protocol";

export function reindexSummary(result: ReindexResult): string {
  if (result.results.length === 0) return "codeloupe: nothing to index (no folder in a git repository).";
  if (result.results.every((r) => r.upToDate)) return "codeloupe: the index is up to date.";
  const files = result.results.reduce((n, r) => n + r.files, 0);
  const fresh = result.results.reduce((n, r) => n + r.newBlobs, 0);
  const seconds = result.results.reduce((n, r) => n + r.seconds, 0);
  return `codeloupe: reindexed ${files} files (${fresh} new file versions) in ${seconds.toFixed(1)} s.`;
}

// The branch/rev picker's choices, from codeloupe/branches: the working tree first, then local
// branches, tags and remote branches, each once even when several folders share a name.
import type { BranchesResult, GitRef } from "../protocol";
import { WORKTREE } from "../protocol";

export interface RevChoice {
  /** What goes to the server as `rev`. */
  value: string;
  label: string;
  description: string;
}

const order: Record<GitRef["kind"], number> = { branch: 0, tag: 1, remote: 2 };

export function revChoices(result: BranchesResult | undefined): RevChoice[] {
  const heads = new Set((result?.folders ?? []).map((f) => f.head.branch).filter((b): b is string => !!b));
  const worktree: RevChoice = {
    value: WORKTREE,
    label: "Working tree",
    description: heads.size ? `files on disk (${[...heads].join(", ")})` : "files on disk",
  };
  const byName = new Map<string, GitRef>();
  for (const folder of result?.folders ?? []) {
    for (const ref of folder.refs) if (!byName.has(ref.name)) byName.set(ref.name, ref);
  }
  const refs = [...byName.values()].sort((a, b) => order[a.kind] - order[b.kind] || a.name.localeCompare(b.name));
  return [
    worktree,
    ...refs.map((r) => ({
      value: r.name,
      label: r.name,
      description: `${r.kind} · ${r.commit.slice(0, 8)}${r.indexed ? " · indexed" : ""}${heads.has(r.name) ? " · HEAD" : ""}`,
    })),
  ];
}

/** The picker's label for a rev that may not be a listed ref (e.g. a commit id typed in). */
export function revLabel(rev: string): string {
  return rev === WORKTREE || rev === "" ? "Working tree" : rev;
}

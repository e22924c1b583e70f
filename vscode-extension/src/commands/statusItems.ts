// "Show index status": one row per folder and snapshot from codeloupe/status.
import type { FolderStatus, SnapshotInfo, StatusResult } from "../protocol";

export interface StatusRow {
  label: string;
  description: string;
  detail?: string;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const stateIcon: Record<FolderStatus["state"], string> = {
  ready: "$(pass)",
  indexing: "$(sync~spin)",
  opening: "$(loading~spin)",
  error: "$(error)",
};

function snapshotRow(s: SnapshotInfo): StatusRow {
  const skipped = Object.entries(s.skipped ?? {}).map(([why, n]) => `${n} ${why}`).join(", ");
  return {
    label: `    $(${s.name === "worktree" ? "files" : "git-commit"}) ${s.name === "worktree" ? "working tree" : s.name.slice(0, 12)}`,
    description: `${s.files.toLocaleString("en-US")} files · ${formatBytes(s.bytes)}${skipped ? ` · skipped ${skipped}` : ""}`,
    detail: s.updated ? `    updated ${s.updated}${s.commit ? ` · commit ${s.commit.slice(0, 12)}` : ""}` : undefined,
  };
}

export function statusRows(status: StatusResult): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const f of status.folders) {
    const fresh = f.fresh === true ? "up to date" : f.fresh === false ? "files changed since indexing" : "";
    const indexing = f.indexing ? `indexing ${f.indexing.rev ?? ""} ${f.indexing.done ?? 0}/${f.indexing.total ?? "?"}` : "";
    rows.push({
      label: `${stateIcon[f.state] ?? ""} ${f.name ?? f.folder}: ${f.state}`,
      description: [fresh, indexing, f.watching ? "watching" : ""].filter(Boolean).join(" · "),
      detail: f.error ? `error: ${f.error}` : f.indexDir ? `index: ${f.indexDir}` : undefined,
    });
    for (const s of f.snapshots ?? []) rows.push(snapshotRow(s));
  }
  if (rows.length === 0) rows.push({ label: "$(info) No folders", description: "open a folder inside a git repository" });
  return rows;
}

// Keyboard navigation of the result tree, as in VS Code's lists: arrows move, Right expands a
// file or enters it, Left collapses it or goes to the file of a match, Up on the first row
// goes back to the query box. Pure: rows and keys in, the new position out.

/** One visible row: a file (match === -1) or one of its matching lines. */
export interface Row {
  file: number;
  match: number;
}

export function visibleRows(matchCounts: readonly number[], collapsed: ReadonlySet<number>): Row[] {
  const rows: Row[] = [];
  matchCounts.forEach((count, file) => {
    rows.push({ file, match: -1 });
    if (!collapsed.has(file)) for (let match = 0; match < count; match++) rows.push({ file, match });
  });
  return rows;
}

export interface NavResult {
  index: number;
  /** Collapse (true) or expand (false) this file. */
  toggle?: { file: number; collapsed: boolean };
  /** Leave the list for the query box. */
  leave?: boolean;
}

export function navigate(rows: readonly Row[], index: number, key: string, collapsed: ReadonlySet<number>, page = 10): NavResult | undefined {
  if (rows.length === 0) return key === "ArrowUp" ? { index: -1, leave: true } : undefined;
  const last = rows.length - 1;
  const at = Math.max(0, Math.min(index, last));
  const row = rows[at];
  switch (key) {
    case "ArrowDown":
      return { index: index < 0 ? 0 : Math.min(at + 1, last) };
    case "ArrowUp":
      return at === 0 || index < 0 ? { index: -1, leave: true } : { index: at - 1 };
    case "Home":
      return { index: 0 };
    case "End":
      return { index: last };
    case "PageDown":
      return { index: Math.min(at + page, last) };
    case "PageUp":
      return { index: Math.max(at - page, 0) };
    case "ArrowRight":
      if (row.match !== -1) return { index: at };
      if (collapsed.has(row.file)) return { index: at, toggle: { file: row.file, collapsed: false } };
      return { index: Math.min(at + 1, last) };
    case "ArrowLeft":
      if (row.match === -1) {
        return collapsed.has(row.file) ? { index: at } : { index: at, toggle: { file: row.file, collapsed: true } };
      }
      return { index: rows.findIndex((r) => r.file === row.file && r.match === -1) };
    default:
      return undefined;
  }
}

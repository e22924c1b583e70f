// Cuts a matching line into plain and highlighted segments for display, shortened the way
// VS Code's search view does: leading indentation dropped, a long prefix before the first
// match elided with "…", and the whole preview capped.
import type { Range } from "../protocol";

export interface Segment {
  text: string;
  match: boolean;
}

export interface PreviewOptions {
  /** Characters kept before the first match (the rest becomes "…"). */
  before: number;
  /** Characters shown in all. */
  maxLength: number;
}

export const defaultPreview: PreviewOptions = { before: 30, maxLength: 250 };

/** [start, end) character spans of `ranges` on `line`, clamped to the text, sorted, merged. */
export function lineSpans(ranges: Range[], line: number, textLength: number): [number, number][] {
  const spans: [number, number][] = [];
  for (const r of ranges) {
    if (r.start.line > line || r.end.line < line) continue;
    const start = r.start.line < line ? 0 : r.start.character;
    const end = r.end.line > line ? textLength : r.end.character;
    const s = Math.max(0, Math.min(start, textLength));
    const e = Math.max(s, Math.min(end, textLength));
    if (e > s) spans.push([s, e]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}

/** Segments of `text` with the spans marked, shortened as described above. */
export function previewSegments(
  text: string,
  spans: [number, number][],
  options: PreviewOptions = defaultPreview,
): Segment[] {
  const indent = text.length - text.trimStart().length;
  const firstMatch = spans.length ? spans[0][0] : indent;
  // Start at the indentation's end, or later when the first match is far along the line.
  let from = Math.min(indent, firstMatch);
  let ellipsis = "";
  if (firstMatch - from > options.before) {
    from = firstMatch - options.before;
    ellipsis = "…";
  }
  const to = Math.min(text.length, from + options.maxLength);
  const segments: Segment[] = [];
  const push = (s: string, match: boolean) => {
    if (!s) return;
    const last = segments[segments.length - 1];
    if (last && last.match === match) last.text += s;
    else segments.push({ text: s, match });
  };
  push(ellipsis, false);
  let pos = from;
  for (const [s, e] of spans) {
    if (e <= from) continue;
    if (s >= to) break;
    push(text.slice(pos, Math.max(pos, s)), false);
    push(text.slice(Math.max(pos, s), Math.min(e, to)), true);
    pos = Math.min(e, to);
  }
  push(text.slice(pos, to), false);
  if (to < text.length) push("…", false);
  return segments;
}

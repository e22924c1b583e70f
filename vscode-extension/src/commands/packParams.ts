// "Pack context for assistant": codeloupe/context params from the question and the editor.
import type { ContextParams, Range } from "../protocol";
import { WORKTREE } from "../protocol";

/** What the command reads from the editor (file: documents only). */
export interface EditorFacts {
  uri: string;
  /** 0-based line of the cursor. */
  line: number;
  /** The selection, when it is not empty. */
  selection?: Range;
}

export const MAX_OPEN = 20;

export function contextParams(
  task: string,
  editor: EditorFacts | undefined,
  openUris: readonly string[],
  budget: number,
  rev?: string,
): ContextParams {
  const params: ContextParams = { task: task.trim(), budget, format: "markdown" };
  if (rev && rev !== WORKTREE) params.rev = rev;
  if (editor) {
    params.file = editor.uri;
    params.line = editor.line;
    if (editor.selection) params.selection = { uri: editor.uri, range: editor.selection };
  }
  const open = [...new Set(openUris)].filter((u) => u.startsWith("file:") && u !== editor?.uri).slice(0, MAX_OPEN);
  if (open.length) params.open = open;
  return params;
}

/** The language of the untitled editor that shows a pack. */
export function packLanguage(format: string): string {
  return format === "json" ? "json" : format === "xml" ? "xml" : "markdown";
}

export function packSummary(p: { tokens: number; budget: number; blocks: unknown[]; considered: number; dropped?: unknown[] }): string {
  const dropped = p.dropped?.length ? `, ${p.dropped.length} left out` : "";
  return `Context pack copied to the clipboard: ${p.tokens} of ${p.budget} tokens, ${p.blocks.length} blocks from ${p.considered} candidates${dropped}.`;
}

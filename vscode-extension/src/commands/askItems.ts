// "Ask the codebase": the request for what was typed, and the quick-pick rows for the hits.
import type { AskHit, AskParams } from "../protocol";
import { WORKTREE } from "../protocol";

export interface AskItemModel {
  label: string;
  description: string;
  detail: string;
}

export function askParams(query: string, rev: string, k = 30): AskParams {
  const params: AskParams = { query: query.trim(), k };
  if (rev && rev !== WORKTREE) params.rev = rev;
  return params;
}

// Codicons for the chunk kinds the server names (anything else gets a generic symbol icon).
const kindIcons: Record<string, string> = {
  function: "symbol-function",
  method: "symbol-method",
  class: "symbol-class",
  interface: "symbol-interface",
  struct: "symbol-struct",
  enum: "symbol-enum",
  module: "symbol-module",
  namespace: "symbol-namespace",
  variable: "symbol-variable",
  constant: "symbol-constant",
  property: "symbol-property",
  field: "symbol-field",
  section: "symbol-key",
  heading: "symbol-key",
};

export function kindIcon(kind: string): string {
  return kindIcons[kind.toLowerCase()] ?? "symbol-misc";
}

/** The strongest signals first, e.g. "dense 0.81 · lexical 0.40". */
export function signalSummary(signals: Record<string, number>, max = 3): string {
  return Object.entries(signals)
    .sort((a, b) => b[1] - a[1])
    .slice(0, max)
    .map(([name, value]) => `${name} ${value.toFixed(2)}`)
    .join(" · ");
}

export function askItem(hit: AskHit): AskItemModel {
  const lines = hit.start_line === hit.end_line ? `${hit.start_line}` : `${hit.start_line}-${hit.end_line}`;
  const preview = hit.preview.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "";
  const signals = signalSummary(hit.signals ?? {});
  return {
    label: `$(${kindIcon(hit.kind)}) ${hit.name || hit.path}`,
    description: `${hit.path}:${lines}`,
    detail: [preview, signals && `score ${hit.score.toFixed(3)} (${signals})`].filter(Boolean).join("  —  "),
  };
}

// Opening a search result: the working-tree file, or a read-only document of the file at the
// searched rev, with the match selected.
import * as vscode from "vscode";
import { WORKTREE } from "../protocol";
import { revUri } from "../rev/revContent";
import type { OpenTarget } from "./messages";

export function targetUri(t: OpenTarget): vscode.Uri {
  if (!t.rev || t.rev === WORKTREE) return vscode.Uri.parse(t.uri);
  return revUri({ cwd: vscode.Uri.parse(t.folder).fsPath, rev: t.rev, path: t.path });
}

export async function openTarget(t: OpenTarget, options: { preserveFocus: boolean; preview: boolean }): Promise<vscode.TextEditor> {
  const r = t.range;
  const selection = new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
  const doc = await vscode.workspace.openTextDocument(targetUri(t));
  const editor = await vscode.window.showTextDocument(doc, { selection, preserveFocus: options.preserveFocus, preview: options.preview });
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

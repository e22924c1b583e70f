// "Pack context for assistant": the selection (or cursor) plus a question → codeloupe/context →
// the pack on the clipboard and in an untitled editor.
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";
import { errorInfo, firstLine, notAvailableMessage } from "../client/errors";
import { tokenBudget } from "../config";
import type { ContextResult } from "../protocol";
import { Methods } from "../protocol";
import type { EditorFacts } from "./packParams";
import { contextParams, packLanguage, packSummary } from "./packParams";

let lastTask = "";

function editorFacts(editor: vscode.TextEditor | undefined): EditorFacts | undefined {
  if (!editor || editor.document.uri.scheme !== "file") return undefined;
  const s = editor.selection;
  const facts: EditorFacts = { uri: editor.document.uri.toString(), line: s.active.line };
  if (!s.isEmpty) {
    facts.selection = { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } };
  }
  return facts;
}

/** Runs the command; `args.task` skips the question prompt (keybindings, other extensions). */
export async function packContext(server: ServerClient, args?: { task?: string }): Promise<ContextResult | undefined> {
  const editor = vscode.window.activeTextEditor;
  const task = args?.task ?? await vscode.window.showInputBox({
    title: "Pack context for assistant",
    prompt: editor && !editor.selection.isEmpty ? "Question or task about the selection" : "Question or task (the code at the cursor is included)",
    placeHolder: "e.g. why does the upload retry forever?",
    value: lastTask,
    ignoreFocusOut: true,
  });
  if (!task?.trim()) return undefined;
  lastTask = task;
  const open = vscode.window.visibleTextEditors.map((e) => e.document.uri.toString());
  const params = contextParams(task, editorFacts(editor), open, tokenBudget());
  let pack: ContextResult;
  try {
    pack = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "codeloupe: packing context…", cancellable: true },
      (_progress, token) => server.request<ContextResult>(Methods.context, params, token),
    );
  } catch (err) {
    const info = errorInfo(err);
    if (info.cancelled) return undefined;
    if (info.notAvailable) void vscode.window.showWarningMessage(notAvailableMessage("Pack context for assistant", info.message));
    else void vscode.window.showErrorMessage(`codeloupe: packing context failed: ${firstLine(info.message)}`);
    return undefined;
  }
  await vscode.env.clipboard.writeText(pack.text);
  const doc = await vscode.workspace.openTextDocument({ content: pack.text, language: packLanguage(pack.format) });
  await vscode.window.showTextDocument(doc, { preview: false });
  void vscode.window.showInformationMessage(packSummary(pack));
  return pack;
}

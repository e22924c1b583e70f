// Test-only extension installed beside codeloupe in the end-to-end test. Its one command writes
// what the UI cannot show reliably (the active editor's URI, selection and full text, the
// clipboard, workspace symbols, the language model tools) to $CODELOUPE_E2E_PROBE_OUT.
import { writeFileSync } from "node:fs";
import * as vscode from "vscode";

interface CodeloupeApi {
  request<R>(method: string, params: unknown): Promise<R>;
}

async function settle<T>(work: () => Thenable<T> | Promise<T>): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: await work() };
  } catch (err) {
    return { error: String((err as Error)?.message ?? err) };
  }
}

async function report(): Promise<void> {
  const out = process.env.CODELOUPE_E2E_PROBE_OUT;
  if (!out) throw new Error("CODELOUPE_E2E_PROBE_OUT is not set");
  const editor = vscode.window.activeTextEditor;
  const ext = vscode.extensions.getExtension<CodeloupeApi>("codeloupe.codeloupe");
  const api = ext?.isActive ? ext.exports : await ext?.activate();
  const symbols = await settle(async () => {
    const found = await vscode.commands.executeCommand<vscode.SymbolInformation[]>("vscode.executeWorkspaceSymbolProvider", "UploadCl");
    return found.map((s) => ({ name: s.name, uri: s.location.uri.toString(), line: s.location.range.start.line }));
  });
  const tools = vscode.lm?.tools?.map((t) => t.name) ?? [];
  const searchTool = await settle(async () => {
    const result = await vscode.lm.invokeTool("codeloupe_search", { input: { query: "retry_\\w+", isRegex: true }, toolInvocationToken: undefined });
    return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : "")).join("");
  });
  const contextTool = await settle(async () => {
    const result = await vscode.lm.invokeTool("codeloupe_context", { input: { task: "how are uploads retried?" }, toolInvocationToken: undefined });
    return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : "")).join("");
  });
  const context = await settle(() => api!.request("codeloupe/context", { task: "how are uploads retried?", format: "markdown" }));
  const state = {
    editor: editor && {
      uri: editor.document.uri.toString(),
      scheme: editor.document.uri.scheme,
      languageId: editor.document.languageId,
      isUntitled: editor.document.isUntitled,
      selection: { line: editor.selection.start.line, character: editor.selection.start.character, endLine: editor.selection.end.line, endCharacter: editor.selection.end.character },
      text: editor.document.getText(),
    },
    clipboard: await vscode.env.clipboard.readText(),
    symbols,
    tools,
    searchTool,
    contextTool,
    context,
  };
  writeFileSync(out, JSON.stringify(state, null, 2));
}

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand("codeloupeProbe.report", report));
}

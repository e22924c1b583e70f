// Language model tools (agent mode): codeloupe_search and codeloupe_context, declared in
// package.json "languageModelTools" and implemented here over the same server requests.
import * as vscode from "vscode";
import type { ServerClient } from "../client/client";
import { errorInfo, firstLine, notAvailableMessage } from "../client/errors";
import { tokenBudget } from "../config";
import { contextParams } from "../commands/packParams";
import type { ContextResult, SearchResult } from "../protocol";
import { Methods } from "../protocol";
import type { ContextToolInput, SearchToolInput } from "./format";
import { formatSearchForModel, searchToolParams } from "./format";

function textResult(text: string): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
}

class SearchTool implements vscode.LanguageModelTool<SearchToolInput> {
  constructor(private readonly server: ServerClient) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<SearchToolInput>): vscode.PreparedToolInvocation {
    const rev = options.input.rev ? ` on ${options.input.rev}` : "";
    return { invocationMessage: `Searching the code for \`${options.input.query}\`${rev}` };
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<SearchToolInput>, token: vscode.CancellationToken): Promise<vscode.LanguageModelToolResult> {
    const params = searchToolParams(options.input);
    try {
      const result = await this.server.request<SearchResult>(Methods.search, params, token);
      return textResult(formatSearchForModel(result, params.query));
    } catch (err) {
      // Bad regexes and unknown revs are the model's to fix: tell it what the server said.
      const info = errorInfo(err);
      if (info.invalidParams) return textResult(`codeloupe_search: ${info.message}`);
      throw err;
    }
  }
}

class ContextTool implements vscode.LanguageModelTool<ContextToolInput> {
  constructor(private readonly server: ServerClient) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<ContextToolInput>): vscode.PreparedToolInvocation {
    return { invocationMessage: `Packing code context for: ${options.input.task}` };
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<ContextToolInput>, token: vscode.CancellationToken): Promise<vscode.LanguageModelToolResult> {
    const input = options.input;
    if (typeof input.task !== "string" || !input.task.trim()) throw new Error("codeloupe_context: 'task' must be a non-empty string");
    const file = input.file ? vscode.Uri.file(input.file).toString() : undefined;
    const open = vscode.window.visibleTextEditors.map((e) => e.document.uri.toString());
    const params = contextParams(input.task, file ? { uri: file, line: input.line ?? 0 } : undefined, open, input.budget ?? tokenBudget(), input.rev);
    try {
      const pack = await this.server.request<ContextResult>(Methods.context, params, token);
      return textResult(pack.text);
    } catch (err) {
      const info = errorInfo(err);
      if (info.notAvailable) {
        return textResult(`${notAvailableMessage("codeloupe_context", info.message)} Use the codeloupe_search tool with a regex instead.`);
      }
      if (info.invalidParams) return textResult(`codeloupe_context: ${firstLine(info.message)}`);
      throw err;
    }
  }
}

export function registerTools(server: ServerClient): vscode.Disposable {
  // vscode.lm exists from 1.95; guard anyway so an editor without it still gets the rest.
  if (!vscode.lm?.registerTool) return new vscode.Disposable(() => undefined);
  return vscode.Disposable.from(
    vscode.lm.registerTool("codeloupe_search", new SearchTool(server)),
    vscode.lm.registerTool("codeloupe_context", new ContextTool(server)),
  );
}

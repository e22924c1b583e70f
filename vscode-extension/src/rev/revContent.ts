// Read-only documents of files at a rev: `git show REV:path`, run in the folder. The server
// documents that its `uri` fields always name the working-tree file, and it has no method
// that returns committed content, so the extension asks git directly.
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import type { RevFile } from "./revUri";
import { REV_SCHEME, gitShowSpec, parseRevQuery, revUriParts } from "./revUri";

export function revUri(f: RevFile): vscode.Uri {
  return vscode.Uri.from(revUriParts(f));
}

function gitShow(f: RevFile): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", ["show", gitShowSpec(f)], { cwd: f.cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout)));
  });
}

export class RevContentProvider implements vscode.TextDocumentContentProvider {
  static readonly scheme = REV_SCHEME;

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    return gitShow(parseRevQuery(uri.query));
  }
}

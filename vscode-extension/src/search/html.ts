// The search webview's page: static markup, a strict content security policy, our script and
// styles from out/webview (codicons for the toggles, like the native panel).
import * as crypto from "node:crypto";
import type * as vscode from "vscode";

export function webviewHtml(webview: vscode.Webview, assets: vscode.Uri): string {
  const nonce = crypto.randomBytes(16).toString("base64");
  const asset = (name: string) => webview.asWebviewUri(assets.with({ path: `${assets.path}/${name}` })).toString();
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${asset("codicon.css")}" rel="stylesheet">
<link href="${asset("search.css")}" rel="stylesheet">
<title>codeloupe search</title>
</head>
<body>
<div class="search-widget">
  <div class="row query-row">
    <div class="input-box" id="query-box">
      <textarea id="query" rows="1" placeholder="Search (regex, any branch)" aria-label="Search" spellcheck="false"></textarea>
      <div class="toggles">
        <button class="toggle codicon codicon-case-sensitive" id="case" title="Match Case (Alt+C)" aria-pressed="false"></button>
        <button class="toggle codicon codicon-whole-word" id="word" title="Match Whole Word (Alt+W)" aria-pressed="false"></button>
        <button class="toggle codicon codicon-regex" id="regex" title="Use Regular Expression (Alt+R)" aria-pressed="false"></button>
      </div>
    </div>
  </div>
  <div class="row rev-row">
    <span class="codicon codicon-git-branch" aria-hidden="true"></span>
    <select id="rev" aria-label="Branch or revision to search" title="Branch or revision to search"></select>
    <button class="icon-button codicon codicon-refresh" id="refresh-revs" title="Refresh branches"></button>
    <button class="icon-button codicon codicon-ellipsis" id="details-toggle" title="Toggle Search Details" aria-expanded="false"></button>
  </div>
  <div class="details" id="details" hidden>
    <label for="includes">files to include</label>
    <input id="includes" type="text" class="text-input" placeholder="e.g. *.ts, src/**/include" spellcheck="false">
    <label for="excludes">files to exclude</label>
    <input id="excludes" type="text" class="text-input" placeholder="e.g. *.ts, src/**/exclude" spellcheck="false">
  </div>
</div>
<div class="message" id="message" role="status" aria-live="polite"></div>
<div class="results" id="results" role="tree" tabindex="0" aria-label="Search results"></div>
<script nonce="${nonce}" src="${asset("search.js")}"></script>
</body>
</html>`;
}

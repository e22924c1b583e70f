import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errorInfo, firstLine, notAvailableMessage } from "../../src/client/errors";
import { askItem, askParams, kindIcon, signalSummary } from "../../src/commands/askItems";
import { MAX_OPEN, contextParams, packLanguage, packSummary } from "../../src/commands/packParams";
import { formatBytes, statusRows } from "../../src/commands/statusItems";
import { reindexSummary } from "../../src/commands/reindexSummary";

describe("errorInfo", () => {
  it("recognises the server's 'not available yet' RequestFailed", () => {
    const info = errorInfo({ code: -32803, message: "codeloupe/context is not available yet: it needs the semantic layer" });
    assert.equal(info.notAvailable, true);
    assert.equal(info.cancelled, false);
    assert.match(notAvailableMessage("Pack context for assistant", info.message), /^Pack context for assistant needs .* semantic layer/);
  });
  it("recognises cancellations and invalid params", () => {
    assert.equal(errorInfo({ code: -32800, message: "cancelled" }).cancelled, true);
    assert.equal(errorInfo({ name: "Canceled", message: "Canceled" }).cancelled, true);
    assert.equal(errorInfo({ code: -32602, message: "regex parse error at position 3: unclosed group\n  foo(\n     ^" }).invalidParams, true);
    assert.equal(errorInfo({ code: -32803, message: "index not built" }).notAvailable, false);
    assert.equal(errorInfo("boom").message, "boom");
  });
  it("keeps the first line of multi-line messages", () => {
    assert.equal(firstLine("regex parse error at position 3: unclosed group\n    foo(bar\n       ^"), "regex parse error at position 3: unclosed group");
  });
});

describe("Ask the codebase", () => {
  it("sends the query, k and a rev other than the working tree", () => {
    assert.deepEqual(askParams("  upload retries ", "worktree"), { query: "upload retries", k: 30 });
    assert.deepEqual(askParams("x", "feature", 5), { query: "x", k: 5, rev: "feature" });
  });
  it("shows name, place, preview and the strongest signals", () => {
    const item = askItem({
      uri: "file:///w/src/a.py", path: "src/a.py", folder: "file:///w", start_line: 11, end_line: 17,
      name: "UploadClient.upload", kind: "method", score: 0.8312, signals: { lexical: 0.4, dense: 0.8, symbol: 0.1, path: 0.05 },
      preview: "\n    def upload(self, path, data):\n        ...",
    });
    assert.equal(item.label, "$(symbol-method) UploadClient.upload");
    assert.equal(item.description, "src/a.py:11-17");
    assert.equal(item.detail, "def upload(self, path, data):  —  score 0.831 (dense 0.80 · lexical 0.40 · symbol 0.10)");
    assert.equal(kindIcon("Paragraph"), "symbol-misc");
    assert.equal(signalSummary({}), "");
  });
});

describe("Pack context for assistant", () => {
  const range = { start: { line: 11, character: 8 }, end: { line: 16, character: 0 } };
  it("sends the selection, the cursor, the open files and the budget", () => {
    const params = contextParams(" why? ", { uri: "file:///w/a.py", line: 16, selection: range }, ["file:///w/a.py", "file:///w/b.py", "file:///w/b.py", "untitled:Untitled-1"], 4000);
    assert.deepEqual(params, {
      task: "why?", budget: 4000, format: "markdown", file: "file:///w/a.py", line: 16,
      selection: { uri: "file:///w/a.py", range }, open: ["file:///w/b.py"],
    });
  });
  it("works without an editor, and caps the open files", () => {
    const many = Array.from({ length: 50 }, (_, i) => `file:///w/${i}.py`);
    const params = contextParams("q", undefined, many, 1000, "feature");
    assert.equal(params.open?.length, MAX_OPEN);
    assert.equal(params.rev, "feature");
    assert.equal(params.file, undefined);
  });
  it("picks the editor language and words the summary", () => {
    assert.equal(packLanguage("markdown"), "markdown");
    assert.equal(packLanguage("xml"), "xml");
    assert.equal(packLanguage("json"), "json");
    assert.equal(packSummary({ tokens: 42, budget: 4000, blocks: [1], considered: 7, dropped: [1, 2] }),
      "Context pack copied to the clipboard: 42 of 4000 tokens, 1 blocks from 7 candidates, 2 left out.");
  });
});

describe("index status and reindex", () => {
  it("lists folders and their snapshots", () => {
    const rows = statusRows({
      positionEncoding: "utf-16", version: "0.1.0",
      folders: [{ folder: "file:///w", name: "w", state: "ready", fresh: true, watching: true, indexDir: "/idx/w",
        snapshots: [{ name: "worktree", commit: "abc", files: 1834, bytes: 9120433, skipped: { binary: 12 } }] }],
    });
    assert.equal(rows[0].label, "$(pass) w: ready");
    assert.equal(rows[0].description, "up to date · watching");
    assert.equal(rows[1].description, "1,834 files · 9.1 MB · skipped 12 binary");
    assert.deepEqual(statusRows({ positionEncoding: "utf-16", folders: [] }).map((r) => r.label), ["$(info) No folders"]);
    assert.equal(formatBytes(595), "595 B");
  });
  it("summarises a reindex", () => {
    const r = { folder: "f", rev: "worktree", snapshot: "worktree", commit: null, files: 10, bytes: 1, newBlobs: 2, upToDate: false, seconds: 0.84 };
    assert.equal(reindexSummary({ results: [r] }), "codeloupe: reindexed 10 files (2 new file versions) in 0.8 s.");
    assert.equal(reindexSummary({ results: [{ ...r, upToDate: true }] }), "codeloupe: the index is up to date.");
    assert.match(reindexSummary({ results: [] }), /nothing to index/);
  });
});

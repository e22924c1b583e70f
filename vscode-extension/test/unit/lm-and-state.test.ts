import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatSearchForModel, searchToolParams } from "../../src/lm/format";
import type { SearchResult } from "../../src/protocol";
import { IndexState } from "../../src/status/indexState";

describe("codeloupe_search tool", () => {
  it("maps the tool input to search params with a bounded result count", () => {
    assert.deepEqual(searchToolParams({ query: "retry_\\w+", isRegex: true, includes: ["*.py"], rev: "feature" }), {
      query: "retry_\\w+", isRegex: true, isCaseSensitive: false, isWordMatch: false, maxResults: 200, includes: ["*.py"], rev: "feature",
    });
    assert.equal(searchToolParams({ query: "x", maxResults: 1e9 }).maxResults, 2000);
    assert.throws(() => searchToolParams({ query: "" }), /non-empty/);
  });
  it("formats results as path and numbered lines, skipping context", () => {
    const result: SearchResult = {
      rev: "worktree", snapshots: [], limitHit: true, stats: {},
      results: [{ uri: "file:///w/src/a.py", path: "src/a.py", folder: "file:///w", matches: [
        { line: 3, text: "ctx", ranges: [], context: true },
        { line: 19, text: "def retry_delay(attempt):", ranges: [{ start: { line: 19, character: 4 }, end: { line: 19, character: 15 } }] },
      ] }],
    };
    assert.equal(formatSearchForModel(result, "retry"),
      "1 matching line in 1 file (the working tree); more exist, narrow the query or the globs:\n\nsrc/a.py\n20: def retry_delay(attempt):");
    assert.equal(formatSearchForModel({ ...result, rev: "main", results: [] }, "zzz"), 'No matches for "zzz" in rev main.');
  });
});

describe("IndexState (status bar)", () => {
  it("shows progress from $/progress begin/report/end, then the file count", () => {
    const s = new IndexState();
    s.server = "running";
    s.applyProgress("t1", { kind: "begin", title: "Indexing shop", cancellable: true, percentage: 0 });
    s.applyProgress("t1", { kind: "report", percentage: 42.4, message: "120/300 files" });
    let d = s.display();
    assert.equal(d.text, "$(sync~spin) codeloupe 42%");
    assert.match(d.tooltip, /Indexing shop: 120\/300 files/);
    assert.deepEqual(s.activeTokens, ["t1"]);
    s.applyProgress("t1", { kind: "end" });
    s.setFiles("file:///a", 1834);
    s.setFiles("file:///b", 1);
    d = s.display();
    assert.equal(d.text, "$(search) codeloupe 1,835 files");
    assert.deepEqual(s.activeTokens, []);
  });
  it("shows background embedding as 'embedding N%', behind any indexing", () => {
    const s = new IndexState();
    s.server = "running";
    s.applyProgress("e1", { kind: "begin", title: "Embedding shop", cancellable: true, percentage: 0 });
    s.applyProgress("e1", { kind: "report", percentage: 42.2, message: "2210/5247 texts · 120/s" });
    let d = s.display();
    assert.equal(d.text, "$(sync~spin) codeloupe: embedding 42%");
    assert.match(d.tooltip, /Embedding shop: 2210\/5247 texts/);
    assert.match(d.tooltip, /Search and symbols are ready/);
    s.applyProgress("t2", { kind: "begin", title: "Re-indexing shop", cancellable: true, percentage: 10 });
    d = s.display();
    assert.equal(d.text, "$(sync~spin) codeloupe 10%");
    s.applyProgress("t2", { kind: "end" });
    assert.equal(s.display().text, "$(sync~spin) codeloupe: embedding 42%");
    s.applyProgress("e1", { kind: "end" });
    s.setFiles("file:///a", 3);
    assert.equal(s.display().text, "$(search) codeloupe 3 files");
  });
  it("warns when the server is missing or failed", () => {
    const s = new IndexState();
    s.server = "missing";
    s.serverDetail = "install codeloupe";
    assert.deepEqual(s.display(), { text: "$(warning) codeloupe: server not found", tooltip: "install codeloupe", warning: true });
    s.server = "failed";
    assert.equal(s.display().warning, true);
    s.server = "starting";
    assert.equal(s.display().text, "$(loading~spin) codeloupe");
  });
});

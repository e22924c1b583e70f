import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SearchResult } from "../../src/protocol";
import { groupResults, splitPath, summary } from "../../src/search/group";

const range = (line: number, a: number, b: number) => ({ start: { line, character: a }, end: { line, character: b } });

const answer: SearchResult = {
  rev: "feature",
  snapshots: [],
  limitHit: false,
  stats: {},
  results: [
    { uri: "file:///w/src/a.py", path: "src/a.py", folder: "file:///w", matches: [
      { line: 0, text: "retry_a retry_b", ranges: [range(0, 0, 7), range(0, 8, 15)] },
      { line: 1, text: "context", ranges: [], context: true },
      { line: 4, text: "retry_c", ranges: [range(4, 0, 7)] },
    ] },
    { uri: "file:///w/b.py", path: "b.py", folder: "file:///w", matches: [{ line: 2, text: "retry_d", ranges: [range(2, 0, 7)] }] },
    { uri: "file:///w/src/a.py", path: "src/a.py", folder: "file:///w", matches: [{ line: 3, text: "retry_e", ranges: [range(3, 0, 7)] }] },
    { uri: "file:///w/c.py", path: "c.py", folder: "file:///w", matches: [{ line: 0, text: "only context", ranges: [], context: true }] },
  ],
};

describe("groupResults", () => {
  const grouped = groupResults(answer);
  it("groups by file in the server's order, merging repeated files", () => {
    assert.deepEqual(grouped.files.map((f) => f.path), ["src/a.py", "b.py"]);
    assert.deepEqual(grouped.files[0].matches.map((m) => m.line), [0, 3, 4]);
  });
  it("counts matches, not lines, and skips context lines and files", () => {
    assert.equal(grouped.files[0].count, 4);
    assert.equal(grouped.files[0].matches[0].count, 2);
    assert.deepEqual(grouped.totals, { files: 2, matches: 5 });
  });
  it("keeps the first range of a line as the click target", () => {
    assert.deepEqual(grouped.files[0].matches[0].range, range(0, 0, 7));
  });
  it("splits names from folders and knows the rev", () => {
    assert.equal(grouped.files[0].name, "a.py");
    assert.equal(grouped.files[0].dir, "src");
    assert.equal(grouped.rev, "feature");
    assert.equal(grouped.multiFolder, false);
  });
});

describe("summary and paths", () => {
  it("words the totals as VS Code does", () => {
    assert.equal(summary({ files: 2, matches: 5 }, false), "5 results in 2 files");
    assert.equal(summary({ files: 1, matches: 1 }, false), "1 result in 1 file");
    assert.equal(summary({ files: 0, matches: 0 }, false), "No results found.");
    assert.match(summary({ files: 1, matches: 3 }, true), /limit was hit/);
  });
  it("splits a path without a folder", () => {
    assert.deepEqual(splitPath("README.md"), { name: "README.md", dir: "" });
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BranchesResult } from "../../src/protocol";
import { revChoices, revLabel } from "../../src/search/revs";
import { gitShowSpec, parseRevQuery, revUriParts } from "../../src/rev/revUri";

const branches: BranchesResult = {
  folders: [
    { folder: "file:///a", root: "/a", head: { commit: "1111", branch: "main" }, refs: [
      { name: "v1.0", kind: "tag", commit: "3333333333", indexed: false },
      { name: "origin/main", kind: "remote", commit: "1111111111", indexed: false },
      { name: "main", kind: "branch", commit: "1111111111", indexed: true },
      { name: "feature", kind: "branch", commit: "2222222222", indexed: false },
    ] },
    { folder: "file:///b", root: "/b", head: { commit: null, branch: null }, refs: [
      { name: "main", kind: "branch", commit: "9999999999", indexed: false },
    ] },
  ],
};

describe("revChoices", () => {
  it("puts the working tree first, then branches, tags, remotes, each name once", () => {
    const choices = revChoices(branches);
    assert.deepEqual(choices.map((c) => c.value), ["worktree", "feature", "main", "v1.0", "origin/main"]);
    assert.match(choices[0].description, /main/);
    assert.match(choices.find((c) => c.value === "main")!.description, /branch · 11111111 · indexed · HEAD/);
  });
  it("offers the working tree alone before the server answers", () => {
    assert.deepEqual(revChoices(undefined).map((c) => c.value), ["worktree"]);
  });
  it("labels revs", () => {
    assert.equal(revLabel("worktree"), "Working tree");
    assert.equal(revLabel("abc123"), "abc123");
  });
});

describe("codeloupe-rev URIs", () => {
  const file = { cwd: "/ws/shop", rev: "release/2.4", path: "src/net/client.py" };
  it("show the rev in the path, end with the file name, and round-trip through the query", () => {
    const parts = revUriParts(file);
    assert.equal(parts.scheme, "codeloupe-rev");
    assert.equal(parts.path, "/release/2.4/src/net/client.py");
    assert.deepEqual(parseRevQuery(parts.query), file);
    assert.equal(gitShowSpec(file), "release/2.4:src/net/client.py");
  });
  it("refuse a rev that git would read as an option, and incomplete queries", () => {
    assert.throws(() => parseRevQuery(JSON.stringify({ ...file, rev: "--output=/tmp/x" })), /invalid rev/);
    assert.throws(() => parseRevQuery(JSON.stringify({ cwd: "/ws" })), /incomplete/);
    assert.throws(() => parseRevQuery("not json"), /not a codeloupe-rev/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyQuery, sameSearch, splitGlobs, toSearchParams } from "../../src/search/query";

describe("splitGlobs", () => {
  it("splits on commas outside braces and trims", () => {
    assert.deepEqual(splitGlobs(" *.{ts,js} , src/** ,, docs "), ["*.{ts,js}", "src/**", "docs"]);
  });
  it("turns a leading ./ into a root-anchored glob", () => {
    assert.deepEqual(splitGlobs("./src/**"), ["/src/**"]);
  });
  it("returns nothing for blank input", () => {
    assert.deepEqual(splitGlobs("  "), []);
  });
});

describe("toSearchParams", () => {
  it("is undefined for an empty query (clear, don't ask the server)", () => {
    assert.equal(toSearchParams(emptyQuery, 100), undefined);
  });
  it("maps toggles, globs and the rev", () => {
    const params = toSearchParams(
      { query: "retry_\\w+", isRegex: true, isCaseSensitive: true, isWordMatch: false, includes: "*.py, src/**", excludes: "!tests/**", rev: "feature" },
      500,
    );
    assert.deepEqual(params, {
      query: "retry_\\w+", isRegex: true, isCaseSensitive: true, isWordMatch: false, maxResults: 500,
      includes: ["*.py", "src/**"], excludes: ["tests/**"], rev: "feature",
    });
  });
  it("leaves out the working tree rev and empty globs", () => {
    const params = toSearchParams({ ...emptyQuery, query: "x" }, 10);
    assert.deepEqual(params, { query: "x", isRegex: false, isCaseSensitive: false, isWordMatch: false, maxResults: 10 });
  });
  it("keeps the query verbatim (spaces matter to a regex)", () => {
    assert.equal(toSearchParams({ ...emptyQuery, query: " a b " }, 10)?.query, " a b ");
  });
});

describe("sameSearch", () => {
  it("ignores input differences that ask the same question", () => {
    assert.ok(sameSearch({ ...emptyQuery, query: "a", includes: "*.py" }, { ...emptyQuery, query: "a", includes: " *.py ," }, 10));
    assert.ok(!sameSearch({ ...emptyQuery, query: "a" }, { ...emptyQuery, query: "a", rev: "main" }, 10));
  });
});

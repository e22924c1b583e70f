import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { navigate, visibleRows } from "../../src/webview/navigation";

// Two files: the first with 2 matches, the second with 1.
const counts = [2, 1];

describe("visibleRows", () => {
  it("lists files followed by their matches, hiding collapsed ones", () => {
    assert.deepEqual(visibleRows(counts, new Set()), [
      { file: 0, match: -1 }, { file: 0, match: 0 }, { file: 0, match: 1 }, { file: 1, match: -1 }, { file: 1, match: 0 },
    ]);
    assert.deepEqual(visibleRows(counts, new Set([0])), [{ file: 0, match: -1 }, { file: 1, match: -1 }, { file: 1, match: 0 }]);
  });
});

describe("navigate", () => {
  const open = new Set<number>();
  const rows = visibleRows(counts, open);
  it("moves with the arrows, Home, End and pages, within bounds", () => {
    assert.deepEqual(navigate(rows, 0, "ArrowDown", open), { index: 1 });
    assert.deepEqual(navigate(rows, 4, "ArrowDown", open), { index: 4 });
    assert.deepEqual(navigate(rows, 3, "ArrowUp", open), { index: 2 });
    assert.deepEqual(navigate(rows, 2, "Home", open), { index: 0 });
    assert.deepEqual(navigate(rows, 0, "End", open), { index: 4 });
    assert.deepEqual(navigate(rows, 0, "PageDown", open, 3), { index: 3 });
    assert.deepEqual(navigate(rows, 1, "PageUp", open, 3), { index: 0 });
  });
  it("leaves for the query box from the first row", () => {
    assert.deepEqual(navigate(rows, 0, "ArrowUp", open), { index: -1, leave: true });
  });
  it("enters the list at the first row when nothing is selected", () => {
    assert.deepEqual(navigate(rows, -1, "ArrowDown", open), { index: 0 });
  });
  it("Left collapses a file, or goes from a match to its file", () => {
    assert.deepEqual(navigate(rows, 0, "ArrowLeft", open), { index: 0, toggle: { file: 0, collapsed: true } });
    assert.deepEqual(navigate(rows, 2, "ArrowLeft", open), { index: 0 });
  });
  it("Right expands a collapsed file, or enters an expanded one", () => {
    const closed = new Set([0]);
    assert.deepEqual(navigate(visibleRows(counts, closed), 0, "ArrowRight", closed), { index: 0, toggle: { file: 0, collapsed: false } });
    assert.deepEqual(navigate(rows, 0, "ArrowRight", open), { index: 1 });
    assert.deepEqual(navigate(rows, 1, "ArrowRight", open), { index: 1 });
  });
  it("ignores other keys and empty lists", () => {
    assert.equal(navigate(rows, 0, "a", open), undefined);
    assert.equal(navigate([], 0, "ArrowDown", open), undefined);
    assert.deepEqual(navigate([], 0, "ArrowUp", open), { index: -1, leave: true });
  });
});

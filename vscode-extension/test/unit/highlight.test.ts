import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lineSpans, previewSegments } from "../../src/search/highlight";

const r = (l1: number, c1: number, l2: number, c2: number) => ({ start: { line: l1, character: c1 }, end: { line: l2, character: c2 } });

describe("lineSpans", () => {
  it("sorts, clamps and merges overlapping ranges on the line", () => {
    assert.deepEqual(lineSpans([r(3, 8, 3, 12), r(3, 0, 3, 2), r(3, 10, 3, 99)], 3, 20), [[0, 2], [8, 20]]);
  });
  it("ignores ranges on other lines and clips multi-line ones", () => {
    assert.deepEqual(lineSpans([r(1, 0, 1, 3), r(2, 4, 5, 0)], 2, 10), [[4, 10]]);
  });
  it("drops empty spans", () => {
    assert.deepEqual(lineSpans([r(0, 4, 0, 4)], 0, 10), []);
  });
});

describe("previewSegments", () => {
  it("marks matches and drops indentation", () => {
    assert.deepEqual(previewSegments("    def retry_delay(attempt):", [[8, 19]]), [
      { text: "def ", match: false },
      { text: "retry_delay", match: true },
      { text: "(attempt):", match: false },
    ]);
  });
  it("elides a long prefix before the first match", () => {
    const text = "x".repeat(100) + "NEEDLE" + "y".repeat(5);
    const segs = previewSegments(text, [[100, 106]], { before: 10, maxLength: 250 });
    assert.equal(segs[0].text, "…" + "x".repeat(10));
    assert.deepEqual(segs[1], { text: "NEEDLE", match: true });
  });
  it("caps the preview length and marks the cut", () => {
    const segs = previewSegments("ab" + "z".repeat(50), [[0, 2]], { before: 10, maxLength: 10 });
    assert.deepEqual(segs, [{ text: "ab", match: true }, { text: "z".repeat(8) + "…", match: false }]);
  });
  it("counts UTF-16 units, as the server's default encoding does", () => {
    const text = "greeting = \"😀\"; target_value = 1";
    const start = text.indexOf("target_value");
    const segs = previewSegments(text, [[start, start + 12]]);
    assert.deepEqual(segs.find((s) => s.match)?.text, "target_value");
  });
  it("handles a line with no matches (context)", () => {
    assert.deepEqual(previewSegments("  plain", []), [{ text: "plain", match: false }]);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Timers } from "../../src/util/latest";
import { LatestOnly } from "../../src/util/latest";

/** Timers driven by hand: `tick(ms)` fires what is due. */
function fakeTimers(): Timers & { tick(ms: number): void } {
  let now = 0;
  let next = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    set(fn, ms) {
      const id = ++next;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clear(handle) {
      due.delete(handle as number);
    },
    tick(ms) {
      now += ms;
      for (const [id, t] of [...due]) {
        if (t.at <= now) {
          due.delete(id);
          t.fn();
        }
      }
    },
  };
}

interface Token { cancelled: boolean; disposed: boolean }

function harness(delayMs = 100) {
  const timers = fakeTimers();
  const tokens: Token[] = [];
  const sent: string[] = [];
  const results: string[] = [];
  const errors: string[] = [];
  const pending = new Map<string, { resolve(v: string): void; reject(e: unknown): void }>();
  const runner = new LatestOnly<string, string, Token>({
    delayMs,
    timers,
    newCanceller: () => {
      const token = { cancelled: false, disposed: false };
      tokens.push(token);
      return { token, cancel: () => { token.cancelled = true; }, dispose: () => { token.disposed = true; } };
    },
    run: (q) => {
      sent.push(q);
      return new Promise((resolve, reject) => pending.set(q, { resolve, reject }));
    },
    onResult: (r) => results.push(r),
    onError: (e) => errors.push(String(e)),
  });
  const flush = () => new Promise((r) => setImmediate(r));
  return { timers, tokens, sent, results, errors, pending, runner, flush };
}

describe("LatestOnly (search as you type)", () => {
  it("debounces: only the last input within the delay is sent", () => {
    const h = harness();
    h.runner.schedule("r");
    h.timers.tick(50);
    h.runner.schedule("re");
    h.timers.tick(50);
    h.runner.schedule("ret");
    assert.deepEqual(h.sent, []);
    h.timers.tick(100);
    assert.deepEqual(h.sent, ["ret"]);
  });

  it("cancels the request in flight when new input comes, and drops its answer", async () => {
    const h = harness();
    h.runner.schedule("a");
    h.timers.tick(100);
    assert.deepEqual(h.sent, ["a"]);
    h.runner.schedule("ab");
    assert.equal(h.tokens[0].cancelled, true, "the stale request is cancelled at once");
    h.pending.get("a")!.resolve("answer a");
    await h.flush();
    assert.deepEqual(h.results, [], "a stale answer is not shown");
    assert.equal(h.tokens[0].disposed, true);
    h.timers.tick(100);
    h.pending.get("ab")!.resolve("answer ab");
    await h.flush();
    assert.deepEqual(h.results, ["answer ab"]);
    assert.equal(h.tokens[1].cancelled, false);
  });

  it("delivers errors of the latest request only", async () => {
    const h = harness();
    h.runner.schedule("(", 0);
    h.pending.get("(")!.reject(new Error("regex parse error"));
    await h.flush();
    assert.deepEqual(h.errors, ["Error: regex parse error"]);
    h.runner.schedule("x", 0);
    h.runner.schedule("y", 0);
    h.pending.get("x")!.reject(new Error("cancelled"));
    await h.flush();
    assert.equal(h.errors.length, 1);
  });

  it("runs at once with a zero delay (Enter, toggles)", () => {
    const h = harness();
    h.runner.schedule("now", 0);
    assert.deepEqual(h.sent, ["now"]);
  });

  it("cancel() drops pending and in-flight work", async () => {
    const h = harness();
    h.runner.schedule("a", 0);
    h.runner.schedule("b");
    h.runner.cancel();
    h.timers.tick(1000);
    assert.deepEqual(h.sent, ["a"]);
    assert.equal(h.tokens[0].cancelled, true);
    h.pending.get("a")!.resolve("late");
    await h.flush();
    assert.deepEqual(h.results, []);
  });

  it("treats a run that throws synchronously as an error", async () => {
    const errors: string[] = [];
    const runner = new LatestOnly<string, string, null>({
      delayMs: 0,
      newCanceller: () => ({ token: null, cancel() {}, dispose() {} }),
      run: () => { throw new Error("not running"); },
      onResult: () => assert.fail("no result expected"),
      onError: (e) => errors.push((e as Error).message),
    });
    runner.schedule("q");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(errors, ["not running"]);
  });
});

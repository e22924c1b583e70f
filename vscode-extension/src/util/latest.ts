// "Search as you type": only the latest request matters. Each new input restarts a debounce
// timer and cancels the request still in flight (so the server stops working on a stale
// pattern); answers to anything but the latest input are dropped. No `vscode` import: the
// cancellation source and the timers are injected, so the logic is unit-tested in plain node.

export interface Canceller<T> {
  token: T;
  cancel(): void;
  dispose(): void;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface LatestOptions<P, R, T> {
  delayMs: number;
  run(params: P, token: T): Promise<R>;
  newCanceller(): Canceller<T>;
  onResult(result: R, params: P, seq: number): void;
  onError(error: unknown, params: P, seq: number): void;
  /** Called when a request is actually sent (after the debounce). */
  onStart?(params: P, seq: number): void;
  timers?: Timers;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class LatestOnly<P, R, T> {
  private seq = 0;
  private timer: unknown;
  private inflight: Canceller<T> | undefined;
  private readonly timers: Timers;

  constructor(private readonly options: LatestOptions<P, R, T>) {
    this.timers = options.timers ?? realTimers;
  }

  /** The sequence number of the latest input. */
  get current(): number {
    return this.seq;
  }

  /** Runs `params` after the debounce delay unless newer input comes first. */
  schedule(params: P, delayMs: number = this.options.delayMs): number {
    const seq = this.supersede();
    if (delayMs <= 0) {
      this.start(params, seq);
    } else {
      this.timer = this.timers.set(() => {
        this.timer = undefined;
        this.start(params, seq);
      }, delayMs);
    }
    return seq;
  }

  /** Drops pending and in-flight work (e.g. the query was cleared). */
  cancel(): void {
    this.supersede();
  }

  dispose(): void {
    this.supersede();
  }

  private supersede(): number {
    if (this.timer !== undefined) {
      this.timers.clear(this.timer);
      this.timer = undefined;
    }
    if (this.inflight) {
      this.inflight.cancel();
      this.inflight = undefined;
    }
    return ++this.seq;
  }

  private start(params: P, seq: number): void {
    const canceller = this.options.newCanceller();
    this.inflight = canceller;
    this.options.onStart?.(params, seq);
    const finish = () => {
      if (this.inflight === canceller) this.inflight = undefined;
      canceller.dispose();
    };
    let pending: Promise<R>;
    try {
      pending = this.options.run(params, canceller.token);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (result) => {
        finish();
        if (seq === this.seq) this.options.onResult(result, params, seq);
      },
      (error: unknown) => {
        finish();
        if (seq === this.seq) this.options.onError(error, params, seq);
      },
    );
  }
}

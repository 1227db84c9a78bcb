// Reconnect/retry delays: exponential backoff with a cap and optional jitter, plus an abortable sleep.
// Every reconnect loop (OVSDB, OpenFlow switch client, change feed, agent reports) takes its delays from here.

export interface BackoffOptions {
  /** Delay before the first retry (ms). */
  initialMs: number;
  /** No delay is longer than this (ms). */
  maxMs: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /** Spread each delay uniformly by ±this fraction (0.25: 75 %–125 %), so many clients do not retry in step. Default 0. */
  jitter?: number;
}

/** Delays for one retry loop: next() after each failure, reset() after a success. */
export class Backoff {
  private current: number;
  private readonly factor: number;
  private readonly jitter: number;

  constructor(private readonly opts: BackoffOptions) {
    this.current = opts.initialMs;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0;
  }

  /** The delay to wait now; the following one grows by `factor`, up to `maxMs`. */
  next(): number {
    const base = this.current;
    this.current = Math.min(this.current * this.factor, this.opts.maxMs);
    if (!this.jitter) return base;
    return Math.round(base * (1 - this.jitter + Math.random() * 2 * this.jitter));
  }

  /** Back to `initialMs` (a connection or request succeeded). */
  reset(): void {
    this.current = this.opts.initialMs;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: the caller checks why it woke). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

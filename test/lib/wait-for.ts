// Polling for a condition in tests: one helper, so every wait has a deadline and says what it waited for.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between polls (default 20 ms). */
  everyMs?: number;
  /** A throwing condition means "not yet" (a server still starting), not a failure; the last error is reported. */
  retryErrors?: boolean;
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Polls `cond` (sync or async) until it returns a truthy value, and returns that value. After the timeout it
 * fails naming `what`: a string, or a function called only then (for details such as a log tail).
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what: string | (() => string | Promise<string>),
  opts: WaitOptions = {},
): Promise<Truthy<T>> {
  const { timeoutMs = 10_000, everyMs = 20, retryErrors = false } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as Truthy<T>;
    } catch (err) {
      if (!retryErrors) throw err;
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = typeof what === 'string' ? what : await what();
      const error = last === undefined ? '' : ` (last error: ${String(last)})`;
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${why}${error}`);
    }
    await sleep(everyMs);
  }
}

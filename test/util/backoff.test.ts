// The shared retry helper: exponential delays with a cap, jitter within its bounds, reset, abortable sleep.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, sleep } from '../../src/util/backoff.js';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs and stays there', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 });
    assert.deepEqual(
      Array.from({ length: 7 }, () => b.next()),
      [100, 200, 400, 800, 1000, 1000, 1000],
    );
  });

  it('reset() starts over at initialMs', () => {
    const b = new Backoff({ initialMs: 50, maxMs: 400 });
    b.next();
    b.next();
    b.next();
    b.reset();
    assert.deepEqual([b.next(), b.next()], [50, 100]);
  });

  it('a custom factor', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 100, factor: 3 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [10, 30, 90, 100]);
  });

  it('jitter spreads each delay within ±jitter of the unjittered one, as whole ms', () => {
    const plain = new Backoff({ initialMs: 200, maxMs: 10_000 });
    const jittered = new Backoff({ initialMs: 200, maxMs: 10_000, jitter: 0.25 });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      if (i % 8 === 0) {
        plain.reset();
        jittered.reset();
      }
      const base = plain.next();
      const d = jittered.next();
      seen.add(d);
      assert.ok(Number.isInteger(d), String(d));
      assert.ok(d >= Math.floor(base * 0.75) && d <= Math.ceil(base * 1.25), `${d} vs ${base}`);
    }
    assert.ok(seen.size > 8, 'delays actually vary');
  });
});

describe('sleep', () => {
  it('waits about ms', async () => {
    const t0 = Date.now();
    await sleep(40);
    assert.ok(Date.now() - t0 >= 35);
  });

  it('resolves at once when the signal aborts, and immediately when already aborted', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 20);
    await sleep(10_000, ac.signal);
    assert.ok(Date.now() - t0 < 1000);
    await sleep(10_000, ac.signal);
    assert.ok(Date.now() - t0 < 1000);
  });
});

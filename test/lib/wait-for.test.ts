// The shared polling helper: returns the first truthy value, names what it waited for on timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './wait-for.js';

test('waitFor returns the first truthy value of the condition', async () => {
  let n = 0;
  assert.equal(await waitFor(() => (++n >= 3 ? `after ${n}` : undefined), 'three polls', { everyMs: 1 }), 'after 3');
});

test('waitFor fails naming what it waited for, with details computed only then', async () => {
  let asked = 0;
  const what = () => `the thing (asked ${++asked})`;
  await assert.rejects(
    waitFor(() => false, what, { timeoutMs: 30, everyMs: 5 }),
    /timed out after 30 ms waiting for the thing \(asked 1\)/,
  );
});

test('waitFor rethrows a failing condition unless told to retry, then reports the last error', async () => {
  const boom = () => {
    throw new Error('not up yet');
  };
  await assert.rejects(waitFor(boom, 'x'), /not up yet/);
  await assert.rejects(
    waitFor(boom, 'the server', { timeoutMs: 20, everyMs: 5, retryErrors: true }),
    /waiting for the server \(last error: Error: not up yet\)/,
  );
});

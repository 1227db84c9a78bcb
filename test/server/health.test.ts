// /healthz and /readyz: what a load balancer in front of several servers asks, without a token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startServer } from './helpers.js';

test('healthz and readyz answer without a token, even where tokens are required, and carry no data', async () => {
  const s = await startServer({ listen: false, auth: { mode: 'tokens' } });
  try {
    const live = await call(s, 'GET', '/healthz');
    assert.equal(live.status, 200, live.text);
    assert.deepEqual(live.body, { status: 'ok' });
    const ready = await call(s, 'GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.body.status, 'ready');
    assert.equal(typeof ready.body.revision, 'number');
    // The API itself still wants a token.
    assert.equal((await call(s, 'GET', '/api/1.0/networks')).status, 401);
  } finally {
    await s.close();
  }
});

test('readyz says 503 when the store does not answer', async () => {
  const s = await startServer({ listen: false });
  await s.store.close();
  const r = await call(s, 'GET', '/readyz');
  assert.equal(r.status, 503, r.text);
  assert.equal(r.body.status, 'unavailable');
  assert.match(r.body.reason, /the store does not answer/);
  assert.equal((await call(s, 'GET', '/healthz')).status, 200);
  await s.app.close();
});

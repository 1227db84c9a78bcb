// GET /metrics on the API listener: Prometheus text that promtool parses, counters that move with requests and
// writes, the feed gauges with a stream open, and the request guard in front of it like any other route.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { SERVER_METRICS, ServerMetrics } from '../../src/server/metrics.js';
import { assertPromtoolAccepts, sampleValue } from '../lib/prometheus-text.js';
import { waitFor } from '../lib/wait-for.js';
import { adminToken, startServer, type TestServer } from './helpers.js';

async function scrape(s: TestServer, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${s.base}/metrics`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return text;
}

const requests = (text: string, route: string, status = '200', method = 'GET') =>
  sampleValue(text, 'vnet_http_requests_total', { method, route, status }) ?? 0;

describe('a local-trust server', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test('serves every declared metric and the process metrics, in text promtool parses', async (t) => {
    const text = await scrape(s);
    for (const m of SERVER_METRICS) assert.match(text, new RegExp(`^# TYPE ${m.name} ${m.type}$`, 'm'), m.name);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assertPromtoolAccepts(t, text);
  });

  test('requests count by route pattern and status; writes move the store metrics and the revision', async (t) => {
    const before = await scrape(s);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${s.base}/api/1.0/datapaths`)).status, 200);
    // The OpenVNet spellings of one route count under its pattern.
    assert.equal((await fetch(`${s.base}/api/datapaths.json`)).status, 200);
    assert.equal((await fetch(`${s.base}/api/1.0/networks/nw-nothere`)).status, 404);
    assert.equal((await fetch(`${s.base}/no/such/path`)).status, 404);
    const created = await fetch(`${s.base}/api/1.0/networks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uuid: 'nw-m1', ipv4_network: '10.1.0.0' }),
    });
    assert.equal(created.status, 200, await created.text());
    const after = await scrape(s);

    assert.equal(requests(after, '/api/1.0/datapaths') - requests(before, '/api/1.0/datapaths'), 4);
    assert.equal(requests(after, '/api/1.0/networks/:uuid', '404'), 1);
    assert.equal(requests(after, 'unmatched', '404'), 1);
    assert.equal(requests(after, '/api/1.0/networks', '200', 'POST'), 1);
    assert.ok(!after.includes('nw-nothere'), 'raw URLs never become labels');
    // The scrape before this one counted too.
    assert.ok(requests(after, '/metrics') >= 1);
    const latency = (text: string) =>
      sampleValue(text, 'vnet_http_request_duration_seconds_count', { method: 'GET', route: '/api/1.0/datapaths' }) ??
      0;
    assert.equal(latency(after) - latency(before), 4);

    const commits = (text: string) => sampleValue(text, 'vnet_store_commit_duration_seconds_count') ?? 0;
    const writes = (text: string) => sampleValue(text, 'vnet_store_writes_total') ?? 0;
    assert.ok(commits(after) > commits(before), 'a write commits a transaction');
    assert.equal(writes(after) - writes(before), 1);
    assert.ok(sampleValue(after, 'vnet_store_commit_duration_seconds_sum')! > 0);
    const revision = await s.service.read((ctx) => ctx.tx.revision());
    assert.ok(revision > 0);
    assert.equal(sampleValue(after, 'vnet_store_revision'), revision);
    assertPromtoolAccepts(t, after);
  });

  test('an open change stream is a watcher, at lag 0 once it has the backlog', async () => {
    const ac = new AbortController();
    const res = await fetch(`${s.base}/api/1.0/feed/changes?since=0`, { signal: ac.signal });
    assert.equal(res.status, 200);
    try {
      // Nothing reads the stream but its backlog fits the socket: once written (the store's read of it is async,
      // and on PostgreSQL a scrape can come first) it is live, at lag 0.
      const text = await waitFor(
        async () => {
          const t = await scrape(s);
          return sampleValue(t, 'vnet_feed_watchers') === 1 && sampleValue(t, 'vnet_feed_lag_revisions_max') === 0 && t;
        },
        'the stream counted, at lag 0',
        { timeoutMs: 5000 },
      );
      assert.ok(sampleValue(text, 'vnet_feed_buffered_bytes_max')! >= 0);
    } finally {
      ac.abort();
    }
    await waitFor(async () => sampleValue(await scrape(s), 'vnet_feed_watchers') === 0, 'the stream uncounted', {
      timeoutMs: 5000,
    });
  });

  test('the lag is the revisions the furthest-behind stream has yet to be written', async () => {
    // Behind a real socket a replaying watcher is behind only while its socket is full: the gauges, directly.
    const m = new ServerMetrics(s.service);
    const app = Fastify();
    await m.install(app, () => false);
    try {
      const revision = await s.service.read((ctx) => ctx.tx.revision());
      assert.ok(revision >= 1);
      const slow = m.watcherOpened(0, () => 12345);
      const live = m.watcherOpened(revision, () => 0);
      let text = await m.text();
      assert.equal(sampleValue(text, 'vnet_feed_watchers'), 2);
      assert.equal(sampleValue(text, 'vnet_feed_lag_revisions_max'), revision);
      assert.equal(sampleValue(text, 'vnet_feed_buffered_bytes_max'), 12345);
      slow.sent(revision);
      assert.equal(sampleValue(await m.text(), 'vnet_feed_lag_revisions_max'), 0);
      // A commit moves the revision; a stream not yet written it lags by one.
      await fetch(`${s.base}/api/1.0/networks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ipv4_network: '10.2.0.0' }),
      });
      text = await m.text();
      assert.equal(sampleValue(text, 'vnet_store_revision'), revision + 1);
      assert.equal(sampleValue(text, 'vnet_feed_lag_revisions_max'), 1);
      slow.close();
      live.close();
      assert.equal(sampleValue(await m.text(), 'vnet_feed_watchers'), 0);
    } finally {
      await app.close();
    }
  });

  test('a loopback user reads it without a token; a foreign Host header is refused', async () => {
    await scrape(s);
    // fetch sets Host itself: node:http sends the one given.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${s.base}/metrics`, { headers: { host: 'evil.example:9090' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
  });
});

describe('a server that requires tokens', () => {
  let s: TestServer;
  let admin: string;
  before(async () => {
    s = await startServer({ auth: { mode: 'tokens' } });
    admin = await adminToken(s);
  });
  after(() => s.close());

  async function token(role: string, extra: Record<string, string> = {}): Promise<string> {
    const res = await fetch(`${s.base}/api/1.0/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role, ...extra }),
    });
    const body = (await res.json()) as { token: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.token;
  }

  test('no token: 401, and the refusal is counted', async () => {
    const res = await fetch(`${s.base}/metrics`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, '130');
    const text = await scrape(s, { authorization: `Bearer ${admin}` });
    assert.equal(requests(text, '/metrics', '401'), 1);
  });

  test('reader and admin tokens read it; an enrollment token may not', async () => {
    const reader = await token('reader');
    const text = await scrape(s, { authorization: `Bearer ${reader}` });
    assert.ok(sampleValue(text, 'vnet_store_revision') !== undefined);
    await scrape(s, { authorization: `Bearer ${admin}` });
    const enroll = await token('enrollment', { node_id: 'h1' });
    const res = await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${enroll}` } });
    assert.equal(res.status, 403);
  });
});

test('two servers in one process keep their own counts', async () => {
  const a = await startServer();
  const b = await startServer();
  try {
    for (let i = 0; i < 2; i++) await fetch(`${a.base}/api/1.0/networks`);
    assert.equal(requests(await scrape(a), '/api/1.0/networks'), 2);
    assert.equal(requests(await scrape(b), '/api/1.0/networks'), 0);
  } finally {
    await a.close();
    await b.close();
  }
});

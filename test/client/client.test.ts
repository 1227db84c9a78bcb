// Client library: SSE parsing, ApiClient against the real server, FeedClient against a fault-injecting fake peer.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiClient, ApiUnreachableError, FeedClient, SseParser, VnetApiError } from '../../src/client/index.js';
import type { Change } from '../../src/model/types.js';
import { startServer, type TestServer } from '../server/helpers.js';

describe('SseParser', () => {
  const parse = (chunks: string[]) => {
    const out: { event: string; id: string | undefined; data: string }[] = [];
    const p = new SseParser((e) => out.push(e));
    for (const c of chunks) p.push(c);
    return out;
  };
  it('events, ids, multi-line data, comments, all line endings', () => {
    const text =
      ': hello\n\nevent: change\nid: 5\ndata: {"a":1}\n\nevent: resync\r\ndata: x\r\ndata: y\r\n\r\ndata:z\r\r: trailing comment\n';
    assert.deepEqual(parse([text]), [
      { event: 'change', id: '5', data: '{"a":1}' },
      { event: 'resync', id: '5', data: 'x\ny' },
      { event: 'message', id: '5', data: 'z' },
    ]);
  });
  it('any chunking gives the same events', () => {
    const text = 'event: change\nid: 1\ndata: {"r":1}\n\n: ping\n\nevent: change\r\nid: 2\r\ndata: {"r":2}\r\n\r\n';
    const whole = parse([text]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 12 }), (cuts) => {
        const sorted = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: string[] = [];
        let last = 0;
        for (const c of sorted) {
          chunks.push(text.slice(last, c));
          last = c;
        }
        chunks.push(text.slice(last));
        assert.deepEqual(parse(chunks), whole);
      }),
    );
  });
});

describe('ApiClient against the server', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.close();
  });

  it('typed helpers, errors with code and field, paging', async () => {
    const api = new ApiClient({ baseUrl: `${s.base}/` });
    assert.equal(await api.getDatapathByDpid(0xabcn), null);
    const dp = await api.createDatapath({
      uuid: 'dp-x',
      display_name: 'x',
      dpid: 0xabcn,
      node_id: 'h',
      ipv4_address: '192.168.9.1',
    });
    assert.equal(dp.dpid, '0x0000000000000abc');
    assert.equal((await api.getDatapathByDpid('0xabc'))?.uuid, 'dp-x');
    const st = await api.reportDatapathStatus('dp-x', {
      is_connected: true,
      flows_in_sync: true,
      last_error: null,
      reported_node_id: 'h',
    });
    assert.equal(st.is_connected, true);
    const i = await api.create('interfaces', { uuid: 'if-x' });
    assert.equal(i.status, 'down');
    const b = await api.reportInterfaceBinding('if-x', {
      status: 'up',
      active_datapath_uuid: 'dp-x',
      active_port_name: 'p1',
    });
    assert.equal(b.active_port_name, 'p1');
    const err = await api.createDatapath({ dpid: '0xabc', node_id: 'h' }).catch((e) => e);
    assert.ok(err instanceof VnetApiError);
    assert.equal(err.status, 409);
    assert.equal(err.code, '120');
    assert.equal(err.field, 'dpid');
    assert.equal(err.errorName, 'Vnet::Endpoints::Errors::DuplicateValue');
    const nf = await api.show('networks', 'nw-none').catch((e) => e);
    assert.equal(nf.code, '100');
    for (let k = 0; k < 7; k++) await api.create('segments', {});
    assert.equal((await api.listAll('segments', {}, 3)).length, 7);
    assert.deepEqual(await api.delete('interfaces', 'if-x'), ['if-x']);
    assert.equal((await api.snapshot()).resources.segments.length, 7);
    // GET params go to the query string, and a path under /api/ is used as is.
    const page = await api.request<{ limit: number }>('GET', '/api/segments.json', { limit: 2 });
    assert.equal(page.limit, 2);
  });

  it('unreachable server → ApiUnreachableError', async () => {
    const api = new ApiClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 });
    const e = await api.list('datapaths').catch((x) => x);
    assert.ok(e instanceof ApiUnreachableError);
    assert.equal(e.code, 'UNREACHABLE');
  });
});

/** A fake feed server whose behaviour per connection the test scripts. */
function fakePeer(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  let n = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/1.0/feed/snapshot')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ revision: 10, resources: { datapaths: [] } }));
      return;
    }
    handler(req, res, n++);
  });
  return new Promise<{ server: Server; base: string }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

const change = (revision: number) =>
  `event: change\nid: ${revision}\ndata: ${JSON.stringify({ revision, resource: 'segments', uuid: `seg-${revision}`, op: 'upsert', item: null })}\n\n`;

describe('FeedClient against a faulty peer', () => {
  it('resumes from the last complete event, drops duplicates, survives 500s, cut frames and silence', async () => {
    const sinces: string[] = [];
    const { server, base } = await fakePeer((req, res, n) => {
      sinces.push(new URL(req.url!, 'http://x').searchParams.get('since')!);
      if (n === 0) {
        // Two events, then the connection dies in the middle of the third.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(change(11) + change(12) + change(13).slice(0, 30));
        setTimeout(() => res.destroy(), 30);
      } else if (n === 1) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"x","message":"down","code":"500"}');
      } else if (n === 2) {
        // Replays an old event (must be dropped), then goes silent (idle timeout must reconnect).
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(change(12) + change(13));
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(change(14));
        res.end();
      }
    });
    const client = new FeedClient({ baseUrl: base, initialBackoffMs: 10, maxBackoffMs: 40, idleTimeoutMs: 300 });
    const got: Change[] = [];
    const errors: string[] = [];
    client.on('change', (c) => got.push(c));
    client.on('disconnected', ({ error }) => errors.push(error?.message ?? 'ended'));
    client.start();
    try {
      const deadline = Date.now() + 10_000;
      while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        got.map((c) => c.revision),
        [11, 12, 13, 14],
      );
      assert.deepEqual(sinces.slice(0, 4), ['10', '12', '12', '13']);
      assert.ok(
        errors.some((e) => /down/.test(e)),
        errors.join(' | '),
      );
      assert.ok(
        errors.some((e) => /idle/.test(e)),
        errors.join(' | '),
      );
    } finally {
      const t0 = Date.now();
      await client.stop();
      assert.ok(Date.now() - t0 < 1000, 'stop is prompt');
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('FeedClient and a busy server', () => {
  it("waits at least the server's Retry-After before asking again, for a snapshot and for a stream", async () => {
    // The snapshot is refused twice (503, Retry-After: 1), then given; the first stream is refused (429,
    // Retry-After: 1), the next one served. The client's own backoff is 10 ms: without honouring Retry-After it
    // would be back within tens of ms, which is what 1,000 agents turned away by one server must not do.
    const asked: { what: string; at: number }[] = [];
    let snapshots = 0;
    let streams = 0;
    const server = createServer((req, res) => {
      const what = req.url!.startsWith('/api/1.0/feed/snapshot') ? 'snapshot' : 'stream';
      asked.push({ what, at: Date.now() });
      if (what === 'snapshot' && snapshots++ < 2) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end('{"error":"Vnet::Endpoints::Errors::Unavailable","message":"busy","code":"124"}');
      } else if (what === 'snapshot') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ revision: 10, resources: { datapaths: [] } }));
      } else if (streams++ === 0) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end('{"error":"Vnet::Endpoints::Errors::TooManyRequests","message":"too many","code":"132"}');
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(change(11));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new FeedClient({ baseUrl: base, initialBackoffMs: 10, maxBackoffMs: 40 });
    const got: number[] = [];
    const waits: number[] = [];
    client.on('change', (c) => got.push(c.revision));
    client.on('disconnected', ({ retryInMs }) => waits.push(retryInMs));
    client.start();
    try {
      const deadline = Date.now() + 20_000;
      while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got, [11]);
      assert.deepEqual(
        asked.map((a) => a.what),
        ['snapshot', 'snapshot', 'snapshot', 'stream', 'stream'],
      );
      // Every wait announced and every gap between attempts is at least the Retry-After (a lower bound only).
      assert.equal(waits.length, 3);
      for (const w of waits) assert.ok(w >= 1000, `waited ${w} ms`);
      for (const k of [1, 2, 4]) assert.ok(asked[k]!.at - asked[k - 1]!.at >= 1000, `attempt ${k} came too soon`);
    } finally {
      await client.stop();
      server.closeAllConnections();
      server.close();
    }
  });
});

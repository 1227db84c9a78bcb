// Change feed over real sockets: snapshot consistency, resume after disconnect (exactly once, in order), resync, pings.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FeedClient, SseParser } from '../../src/client/index.js';
import type { Change } from '../../src/model/types.js';
import { waitFor } from '../lib/wait-for.js';
import { startServer, type TestServer } from './helpers.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

async function post(base: string, path: string, body: Record<string, unknown>) {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  assert.equal(r.status, 200, JSON.stringify(j));
  return j;
}

interface Sse {
  event: string;
  id: string | undefined;
  data: string;
}

/** Opens the SSE stream and collects events until `stop` says so or the stream ends; returns what was seen. */
async function readFeed(base: string, since: number, stop: (seen: Sse[], comments: number) => boolean) {
  const ac = new AbortController();
  const res = await fetch(`${base}/api/1.0/feed/changes?since=${since}`, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const seen: Sse[] = [];
  let comments = 0;
  const parser = new SseParser((e) => seen.push(e));
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      const text = dec.decode(value, { stream: true });
      comments += (text.match(/^: ping$/gm) ?? []).length;
      parser.push(text);
      if (stop(seen, comments)) break;
    }
  } finally {
    ac.abort();
  }
  return { seen, ended, comments };
}

describe('change feed', () => {
  it('a watcher that disconnects and resumes sees every change exactly once, in order', async () => {
    const s = await server();
    await post(s.base, '/api/networks', { uuid: 'nw-f', ipv4_network: '10.0.0.0', ipv4_prefix: 16 });
    const start = ((await (await fetch(`${s.base}/api/1.0/feed/snapshot`)).json()) as any).revision as number;
    // A writer keeps writing while the watcher reconnects several times.
    let writing = true;
    const writer = (async () => {
      for (let i = 1; writing && i < 250; i++)
        await post(s.base, '/api/interfaces', {
          uuid: `if-w${i}`,
          network_uuid: 'nw-f',
          ipv4_address: `10.0.${i >> 8}.${i & 255 || 1}`,
          mac_address: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        });
    })();
    const got: Change[] = [];
    let since = start;
    for (let round = 0; round < 6; round++) {
      const { seen } = await readFeed(s.base, since, (ev) => ev.filter((e) => e.event === 'change').length >= 40);
      for (const e of seen) {
        assert.equal(e.event, 'change');
        const c = JSON.parse(e.data) as Change;
        assert.equal(String(c.revision), e.id);
        got.push(c);
        since = c.revision;
      }
    }
    writing = false;
    await writer;
    // Drain what is left.
    const final = (await s.store.changesSince(0, 1)).current;
    const { seen } = await readFeed(
      s.base,
      since,
      (ev) => ev.length > 0 && JSON.parse(ev.at(-1)!.data).revision >= final,
    );
    for (const e of seen) got.push(JSON.parse(e.data));
    const expected = (await s.store.changesSince(start, 1_000_000)).changes;
    assert.equal(got.length, expected.length);
    for (const [k, c] of got.entries())
      assert.equal(c.revision, start + 1 + k, 'strictly increasing, no gap, no duplicate');
    // Live events carry their commit time (the agents' change spans start there); the stored change has none.
    const live = got.filter((c) => c.committed_at !== undefined);
    assert.ok(live.length > 0, 'some changes arrived live');
    for (const c of live)
      assert.ok(Math.abs(Date.now() - c.committed_at!) < 60_000, 'committed_at is ms since the epoch');
    assert.deepEqual(
      got.map(({ committed_at: _, ...c }) => c),
      expected,
    );
    // Each interface create carries its leases and then the interface with the lease embedded.
    const iface = got.find((c) => c.resource === 'interfaces' && c.uuid === 'if-w1')!;
    assert.equal(iface.op, 'upsert');
    assert.equal((iface.item as { ipv4_address: string }).ipv4_address, '10.0.0.1');
  });

  it('a watcher too far behind gets resync and the stream ends; one from the future too', async () => {
    const s = await server({ retainChanges: 50 });
    // 1100 changes: pruning runs at revision 1024 and keeps the last 50.
    await post(s.base, '/api/networks', { uuid: 'nw-r', ipv4_network: '10.0.0.0', ipv4_prefix: 16 });
    for (let i = 0; i < 1100; i++) {
      const r = await fetch(`${s.base}/api/networks/nw-r`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ display_name: `n${i}` }),
      });
      assert.equal(r.status, 200);
    }
    const page = await s.store.changesSince(0, 10);
    assert.ok(page.oldest > 900, `pruned: oldest=${page.oldest}`);
    const old = await readFeed(s.base, 10, () => false);
    assert.equal(old.ended, true);
    assert.equal(old.seen.length, 1);
    assert.equal(old.seen[0]!.event, 'resync');
    const rs = JSON.parse(old.seen[0]!.data);
    assert.equal(rs.revision, page.current);
    assert.match(rs.reason, /older/);
    // Resuming from within the retained window works.
    const near = await readFeed(s.base, page.current - 5, (ev) => ev.length >= 5);
    assert.deepEqual(
      near.seen.map((e) => Number(e.id)),
      [1, 2, 3, 4, 5].map((k) => page.current - 5 + k),
    );
    const future = await readFeed(s.base, page.current + 100, () => false);
    assert.equal(future.seen[0]!.event, 'resync');
    assert.match(JSON.parse(future.seen[0]!.data).reason, /newer/);
  });

  it('sends heartbeat comments; rejects a bad since', async () => {
    const s = await server({ heartbeatMs: 50 });
    const r = await readFeed(s.base, 0, (_ev, comments) => comments >= 2);
    assert.ok(r.comments >= 2);
    for (const q of ['', '?since=-1', '?since=abc', '?since=1&x=2']) {
      const res = await fetch(`${s.base}/api/1.0/feed/changes${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(typeof ((await res.json()) as any).code, 'string');
    }
  });

  it('snapshot is consistent with the feed: snapshot + changes = a later snapshot', async () => {
    const s = await server();
    await post(s.base, '/api/networks', { uuid: 'nw-s', ipv4_network: '10.0.0.0' });
    const snap = (await (await fetch(`${s.base}/api/1.0/feed/snapshot`)).json()) as any;
    for (const k of [
      'datapaths',
      'networks',
      'interfaces',
      'mac_leases',
      'ip_leases',
      'network_services',
      'route_links',
      'routes',
      'datapath_networks',
      'datapath_route_links',
      'filters',
      'security_groups',
    ])
      assert.ok(Array.isArray(snap.resources[k]), k);
    await post(s.base, '/api/interfaces', {
      uuid: 'if-s',
      network_uuid: 'nw-s',
      ipv4_address: '10.0.0.2',
      mac_address: '02:00:00:00:00:02',
    });
    await post(s.base, '/api/datapaths', { uuid: 'dp-s', dpid: '0x5', node_id: 'n' });
    await post(s.base, '/api/datapaths/dp-s/networks/nw-s', {});
    await fetch(`${s.base}/api/networks/nw-s`, { method: 'DELETE' });
    const later = (await (await fetch(`${s.base}/api/1.0/feed/snapshot`)).json()) as any;
    // Apply the changes to the first snapshot.
    const state: Record<string, Map<string, unknown>> = {};
    for (const [k, items] of Object.entries(snap.resources as Record<string, { uuid: string }[]>))
      state[k] = new Map(items.map((i) => [i.uuid, i]));
    const { seen } = await readFeed(
      s.base,
      snap.revision,
      (ev) => ev.length > 0 && Number(ev.at(-1)!.id) >= later.revision,
    );
    for (const e of seen) {
      const c = JSON.parse(e.data) as Change;
      if (c.op === 'upsert') state[c.resource]!.set(c.uuid, c.item);
      else state[c.resource]!.delete(c.uuid);
    }
    for (const [k, items] of Object.entries(later.resources as Record<string, { uuid: string }[]>))
      assert.deepEqual(
        [...state[k]!.values()].sort((a: any, b: any) => a.uuid.localeCompare(b.uuid)),
        [...items].sort((a, b) => a.uuid.localeCompare(b.uuid)),
        k,
      );
  });

  it('FeedClient: snapshot, live changes, resume across a server restart, re-snapshot after resync', async () => {
    const dir = mkdtempSync(join(tmpdir(), `vnet-feedc-${process.pid}-`));
    dirs.push(dir);
    const path = join(dir, 'v.db');
    let s = await server({ path });
    const port = Number(new URL(s.base).port);
    const client = new FeedClient({ baseUrl: s.base, initialBackoffMs: 50, maxBackoffMs: 200 });
    const events: string[] = [];
    const changes: Change[] = [];
    let snapshots = 0;
    client.on('snapshot', (snap) => {
      snapshots++;
      events.push(`snapshot@${snap.revision}`);
    });
    client.on('change', (c) => changes.push(c));
    client.on('resync', () => events.push('resync'));
    client.start();
    try {
      const withEvents = (what: string) => () => `${what}; events=${events.join(',')}`;
      await waitFor(() => snapshots === 1, withEvents('first snapshot'));
      await post(s.base, '/api/datapaths', { uuid: 'dp-c1', dpid: '0x10', node_id: 'n' });
      await waitFor(() => changes.length === 1, withEvents('first change'));
      // Restart the server on the same port and file; writes made while it is down are not possible,
      // writes after restart must arrive exactly once.
      await s.close();
      servers.splice(servers.indexOf(s), 1);
      await new Promise((r) => setTimeout(r, 150));
      s = await server({ path, port });
      await post(s.base, '/api/datapaths', { uuid: 'dp-c2', dpid: '0x11', node_id: 'n' });
      await post(s.base, '/api/datapaths', { uuid: 'dp-c3', dpid: '0x12', node_id: 'n' });
      await waitFor(() => changes.length === 3, withEvents('changes after restart'));
      assert.deepEqual(
        changes.map((c) => c.uuid),
        ['dp-c1', 'dp-c2', 'dp-c3'],
      );
      assert.deepEqual(
        changes.map((c) => c.revision),
        [1, 2, 3],
      );
      assert.equal(snapshots, 1, 'resumed, no second snapshot');
      assert.equal(client.revision, 3);
      // A replaced store (revision went backwards) → resync → a new snapshot.
      await s.close();
      servers.splice(servers.indexOf(s), 1);
      await server({ path: join(dir, 'replaced.db'), port });
      await waitFor(() => snapshots === 2, withEvents('snapshot after resync'));
      assert.deepEqual(events, ['snapshot@0', 'resync', 'snapshot@0']);
      assert.equal(client.revision, 0);
    } finally {
      await client.stop();
    }
  });

  it('FeedClient as an async iterator', async () => {
    const s = await server();
    const client = new FeedClient({ baseUrl: s.base, since: 0 });
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of client) {
        if (ev.type === 'change') seen.push(ev.change.uuid);
        if (seen.length === 2) break;
      }
    })();
    await post(s.base, '/api/segments', { uuid: 'seg-a' });
    await post(s.base, '/api/segments', { uuid: 'seg-b' });
    await done;
    await client.stop();
    assert.deepEqual(seen, ['seg-a', 'seg-b']);
  });

  it("an agent's datapaths show disconnected once the last of its feed streams closes, not before", async () => {
    const s = await server({ presenceGraceMs: 200 });
    await post(s.base, '/api/datapaths', { uuid: 'dp-p', dpid: '0x77', node_id: 'node-p' });
    const report = async () => {
      const r = await fetch(`${s.base}/api/datapaths/dp-p/status`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ is_connected: true, flows_in_sync: true, reported_node_id: 'node-p' }),
      });
      assert.equal(r.status, 200, await r.text());
    };
    const connected = async () =>
      (await (await fetch(`${s.base}/api/datapaths/dp-p`)).json()) as {
        is_connected: boolean;
        last_error: string | null;
      };
    const open = async () => {
      const ac = new AbortController();
      const res = await fetch(`${s.base}/api/1.0/feed/changes?since=0&node_id=node-p`, { signal: ac.signal });
      assert.equal(res.status, 200);
      return ac;
    };
    await report();
    const a = await open();
    const b = await open();
    a.abort();
    // One stream is still open: nothing changes.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await connected()).is_connected, true);
    b.abort();
    const gone = await waitFor(async () => {
      const d = await connected();
      return d.is_connected === false ? d : null;
    }, 'dp-p to be marked disconnected');
    assert.match(String(gone.last_error), /agent node-p stopped following the server's change feed/);
    // Streams without a node id (vnctl, tests) say nothing about any agent.
    await report();
    const anon = new AbortController();
    await fetch(`${s.base}/api/1.0/feed/changes?since=0`, { signal: anon.signal });
    anon.abort();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await connected()).is_connected, true);
  });

  it('a stream that comes back within the grace period writes nothing: no disconnected/connected pair to every watcher', async () => {
    // 1,000 agents on a loaded server dropped 656 streams (their idle timeout) and came straight back; each drop
    // marked the datapath disconnected and the agent reported it connected again: two changes to every stream.
    const s = await server({ presenceGraceMs: 1500 });
    await post(s.base, '/api/datapaths', { uuid: 'dp-g', dpid: '0x79', node_id: 'node-g' });
    const r = await fetch(`${s.base}/api/datapaths/dp-g/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ is_connected: true, flows_in_sync: true, reported_node_id: 'node-g' }),
    });
    assert.equal(r.status, 200, await r.text());
    const revision = await s.service.read((ctx) => ctx.tx.revision());
    const seen: Change[] = [];
    s.service.on('changes', (cs) => seen.push(...cs));
    const open = async () => {
      const ac = new AbortController();
      const res = await fetch(`${s.base}/api/1.0/feed/changes?since=${revision}&node_id=node-g`, { signal: ac.signal });
      assert.equal(res.status, 200);
      return ac;
    };
    (await open()).abort();
    await new Promise((res) => setTimeout(res, 100));
    const again = await open();
    // Well past the grace period of the first stream's close: the reopened stream cancelled it.
    await new Promise((res) => setTimeout(res, 2500));
    assert.equal(seen.length, 0, `no change written for a quick reconnect: ${JSON.stringify(seen)}`);
    assert.equal(await s.service.read((ctx) => ctx.tx.revision()), revision);
    const dp = await s.service.read((ctx) => ctx.get('datapaths', 'dp-g'));
    assert.equal(dp?.is_connected, true);
    // Gone for longer than the grace period: marked, once.
    again.abort();
    await waitFor(
      async () => (await s.service.read((ctx) => ctx.get('datapaths', 'dp-g')))?.is_connected === false,
      'dp-g marked disconnected after the grace period',
    );
    assert.equal(seen.filter((c) => c.uuid === 'dp-g').length, 1);
  });

  it("closing the server ends the agents' streams without marking their datapaths disconnected", async () => {
    const s = await startServer();
    try {
      await post(s.base, '/api/datapaths', { uuid: 'dp-q', dpid: '0x78', node_id: 'node-q' });
      const r = await fetch(`${s.base}/api/datapaths/dp-q/status`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ is_connected: true, flows_in_sync: true, reported_node_id: 'node-q' }),
      });
      assert.equal(r.status, 200);
      const ac = new AbortController();
      await fetch(`${s.base}/api/1.0/feed/changes?since=0&node_id=node-q`, { signal: ac.signal });
      await s.app.close();
      ac.abort();
      await new Promise((res) => setTimeout(res, 200));
      const dp = await s.service.read((ctx) => ctx.get('datapaths', 'dp-q'));
      assert.equal(dp?.is_connected, true);
    } finally {
      await s.store.close();
    }
  });
});

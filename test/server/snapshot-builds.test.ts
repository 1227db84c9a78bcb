// GET /feed/snapshot under a crowd: the snapshot is read from the store once and then patched by every committed
// change (src/server/snapshot-view.ts). Writes committed while it is read reach a watcher exactly once (in the
// snapshot or after it, never both, never neither, through the agent's own FeedSource too); writes moving the
// revision cost no build; what is served equals a fresh read of the store after every kind of write; readers
// see every write acknowledged before they asked.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { ServerFeed } from '../../src/agent/runtime/feed-source.js';
import type { FeedEvent } from '../../src/agent/runtime/deps.js';
import { ApiClient, SseParser } from '../../src/client/index.js';
import type { Change, Snapshot } from '../../src/model/types.js';
import { SnapshotView } from '../../src/server/snapshot-view.js';
import { waitFor } from '../lib/wait-for.js';
import { startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close().catch(() => {});
});

async function send(base: string, method: string, path: string, body?: Record<string, unknown>): Promise<any> {
  const r = await fetch(`${base}/api/1.0${path}`, {
    method,
    ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${method} ${path} → ${r.status} ${text}`);
  return JSON.parse(text);
}

const createNetwork = (base: string, uuid: string, k: number) =>
  send(base, 'POST', '/networks', { uuid, ipv4_network: `10.${k % 250}.${Math.floor(k / 250)}.0`, ipv4_prefix: 24 });

async function snapshotOf(base: string): Promise<Snapshot> {
  const r = await fetch(`${base}/api/1.0/feed/snapshot`);
  assert.equal(r.status, 200);
  return (await r.json()) as Snapshot;
}

/** Holds the store's snapshot read of `s` until `release()`; `during` runs as the real read starts. */
function holdBuilds(s: TestServer, during: () => void = () => {}) {
  let release = (): void => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const stats = { builds: 0, building: 0, mostAtOnce: 0 };
  const snapshot = s.service.snapshot.bind(s.service);
  s.service.snapshot = async () => {
    stats.builds++;
    stats.mostAtOnce = Math.max(stats.mostAtOnce, ++stats.building);
    try {
      await gate;
      const read = snapshot();
      during();
      return await read;
    } finally {
      stats.building--;
    }
  };
  return { stats, release: () => release() };
}

/** Every change after `since` on a raw stream (FeedClient would hide a duplicate), until stopped. */
function rawChanges(base: string, since: number) {
  const changes: Change[] = [];
  const ac = new AbortController();
  const parser = new SseParser((e) => {
    if (e.event === 'change') changes.push(JSON.parse(e.data) as Change);
  });
  const done = (async () => {
    const res = await fetch(`${base}/api/1.0/feed/changes?since=${since}`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const dec = new TextDecoder();
    for await (const chunk of res.body!) parser.push(dec.decode(chunk as Uint8Array, { stream: true }));
  })().catch((e) => {
    if ((e as Error).name !== 'AbortError') throw e;
  });
  return {
    changes,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

it('writes committed before, during and after the snapshot is read reach a watcher exactly once', async () => {
  const s = await startServer();
  servers.push(s);
  await createNetwork(s.base, 'nw-first', 0);
  const names: string[] = [];
  const racing: Promise<unknown>[] = [];
  const held = holdBuilds(s, () => {
    // Asked while the store is being read: committed after the read, so newer than its revision.
    for (let k = 0; k < 10; k++) {
      names.push(`nw-during${k}`);
      racing.push(createNetwork(s.base, `nw-during${k}`, 100 + k));
    }
  });
  // The agent's own FeedSource, and a raw reader, both asking while the read is held.
  const events: FeedEvent[] = [];
  const feed = new ServerFeed(new ApiClient({ baseUrl: s.base }));
  feed.start((ev) => events.push(ev));
  const raw = snapshotOf(s.base);
  await waitFor(() => held.stats.builds === 1, 'the snapshot build to start');
  for (let k = 0; k < 10; k++) {
    names.push(`nw-before${k}`);
    await createNetwork(s.base, `nw-before${k}`, 200 + k);
  }
  held.release();
  const snap = await raw;
  await Promise.all(racing);
  for (let k = 0; k < 10; k++) {
    names.push(`nw-after${k}`);
    await createNetwork(s.base, `nw-after${k}`, 300 + k);
  }
  const stream = rawChanges(s.base, snap.revision);
  try {
    const current = await s.store.read((tx) => tx.revision());
    await waitFor(() => stream.changes.at(-1)?.revision === current, `the stream to reach ${current}`);
    // The stream after the snapshot's revision is gapless: the snapshot holds exactly what it claims.
    assert.deepEqual(
      stream.changes.map((c) => c.revision),
      Array.from({ length: current - snap.revision }, (_, i) => snap.revision + i + 1),
    );
    const inSnap = new Set(snap.resources.networks.map((n) => n.uuid));
    for (const name of names) {
      const streamed = stream.changes.filter((c) => c.uuid === name).length;
      assert.equal(
        Number(inSnap.has(name)) + streamed,
        1,
        `${name}: in snapshot ${inSnap.has(name)}, streamed ${streamed}`,
      );
    }
    // The agent's FeedSource: every network once (in its snapshot or as a change), none twice.
    const seen = (name: string) =>
      events.filter(
        (e) =>
          (e.kind === 'snapshot' && e.resources.networks?.some((n) => n.uuid === name)) ||
          (e.kind === 'change' && e.change.resource === 'networks' && e.change.uuid === name),
      ).length;
    await waitFor(() => names.every((n) => seen(n) > 0), 'the agent to see every network');
    await new Promise((r) => setTimeout(r, 300));
    for (const name of names) assert.equal(seen(name), 1, `${name} seen ${seen(name)} times by the agent`);
    assert.equal(events.filter((e) => e.kind === 'snapshot').length, 1);
    assert.equal(held.stats.builds, 1, 'one store read for every reader');
  } finally {
    feed.close();
    await stream.stop();
  }
});

it('writes moving the revision cost no store build: 100 writes, each followed by a snapshot that holds it', async () => {
  const s = await startServer();
  servers.push(s);
  await createNetwork(s.base, 'nw-moving', 0);
  await send(s.base, 'POST', '/datapaths', { uuid: 'dp-moving', dpid: '0x1', node_id: 'moving' });
  const held = holdBuilds(s);
  held.release();
  let last = (await snapshotOf(s.base)).revision;
  for (let k = 0; k < 100; k++) {
    // What 1,000 starting agents do between snapshots: reports (status), and now and then a spec change.
    if (k % 10 === 9) await send(s.base, 'PUT', '/networks/nw-moving', { display_name: `w${k}` });
    else
      await send(s.base, 'PUT', '/datapaths/dp-moving/status', {
        is_connected: true,
        flows_in_sync: k % 2 === 0,
        reported_node_id: 'moving',
      });
    const snap = await snapshotOf(s.base);
    assert.equal(snap.revision, last + 1, 'the snapshot holds the write acknowledged before it was asked');
    last = snap.revision;
    assert.equal(snap.resources.datapaths[0]!.flows_in_sync, (k % 10 === 9 ? k - 1 : k) % 2 === 0);
  }
  // Built per revision before (101 builds): reports moved the revision, and 1,000 agents never loaded.
  assert.equal(held.stats.builds, 1);
});

it('the snapshot kept in memory equals a fresh read of the store after every kind of write', async () => {
  const s = await startServer();
  servers.push(s);
  await createNetwork(s.base, 'nw-eq1', 1);
  await snapshotOf(s.base);
  await createNetwork(s.base, 'nw-eq2', 2);
  await send(s.base, 'POST', '/datapaths', { uuid: 'dp-eq', dpid: '0x2', node_id: 'eq' });
  for (let k = 0; k < 6; k++)
    await send(s.base, 'POST', '/interfaces', {
      uuid: `if-eq${k}`,
      network_uuid: k % 2 ? 'nw-eq1' : 'nw-eq2',
      mac_address: `52:54:00:00:00:0${k}`,
      ipv4_address: `10.${k % 2 ? 1 : 2}.0.${10 + k}`,
    });
  await send(s.base, 'PUT', '/interfaces/if-eq1', { display_name: 'renamed' });
  await send(s.base, 'PUT', '/interfaces/if-eq2/binding', {
    active_datapath_uuid: 'dp-eq',
    active_port_name: 'tap2',
    status: 'up',
  });
  await send(s.base, 'PUT', '/datapaths/dp-eq/status', {
    is_connected: true,
    flows_in_sync: true,
    reported_node_id: 'eq',
  });
  await send(s.base, 'DELETE', '/interfaces/if-eq3');
  // A lease of its own, then released: the interface embedding it changes with it.
  const lease = await send(s.base, 'POST', '/ip_leases', {
    network_uuid: 'nw-eq1',
    mac_lease_uuid: (await send(s.base, 'GET', '/interfaces/if-eq5')).mac_leases[0].uuid,
    ipv4_address: '10.1.0.99',
  });
  await send(s.base, 'PUT', `/ip_leases/${lease.uuid}/release`);
  await send(s.base, 'POST', '/security_groups', { uuid: 'sg-eq' });
  await send(s.base, 'POST', '/security_groups/sg-eq/rules', {
    direction: 'ingress',
    protocol: 'tcp',
    port_range_min: 22,
    port_range_max: 22,
  });
  await send(s.base, 'POST', '/interfaces/if-eq0/security_groups/sg-eq');
  await send(s.base, 'DELETE', '/interfaces/if-eq4');
  await createNetwork(s.base, 'nw-eq3', 3);
  await send(s.base, 'DELETE', '/networks/nw-eq3');
  const served = await snapshotOf(s.base);
  const fresh = JSON.parse(JSON.stringify(await s.service.snapshot())) as Snapshot;
  assert.equal(served.revision, fresh.revision);
  assert.deepEqual(served, fresh);
  assert.equal(s.service.snapshots.loads, 1);
});

it('a gap in the revisions it hears makes the snapshot read again from the store', async () => {
  const { EventEmitter } = await import('node:events');
  const feed = new EventEmitter<{ changes: [Change[]] }>();
  let reads = 0;
  const stored = (revision: number, name: string): Snapshot =>
    ({ revision, resources: { networks: [{ uuid: 'nw-gap', display_name: name }] } }) as unknown as Snapshot;
  const view = new SnapshotView(feed, async () => (++reads === 1 ? stored(5, 'a') : stored(8, 'c')));
  assert.equal((await view.current()).revision, 5);
  const change = (revision: number, name: string) =>
    ({
      revision,
      resource: 'networks',
      uuid: 'nw-gap',
      op: 'upsert',
      item: { uuid: 'nw-gap', display_name: name },
    }) as Change;
  feed.emit('changes', [change(6, 'b')]);
  const at6 = await view.current();
  assert.equal(at6.revision, 6);
  assert.match(Buffer.concat(at6.parts as Buffer[]).toString(), /"display_name":"b"/);
  // 7 never heard: what it holds can no longer be told to be exact.
  feed.emit('changes', [change(8, 'c')]);
  const at8 = await view.current();
  assert.equal(reads, 2);
  assert.equal(at8.revision, 8);
  assert.deepEqual(JSON.parse(Buffer.concat(at8.parts as Buffer[]).toString()), stored(8, 'c'));
  view.close();
});

it('100 snapshot readers during 20 writes share one build and each sees the writes acknowledged before it asked', async () => {
  // All 100 in flight at once: admitted (the limit is the next test's subject).
  const s = await startServer({ feed: { maxSnapshotsInFlight: 100 } });
  servers.push(s);
  await send(s.base, 'POST', '/networks', { uuid: 'nw-snap', ipv4_network: '10.9.0.0', ipv4_prefix: 24 });
  // The first build is held until every write is made and its readers have asked (a big model's slow build).
  const held = holdBuilds(s);
  let acked = -1;
  const readers: Promise<void>[] = [];
  for (let k = 0; k < 20; k++) {
    await send(s.base, 'PUT', '/networks/nw-snap', { display_name: `w${k}` });
    acked = k;
    for (let j = 0; j < 5; j++) {
      const expect = acked;
      readers.push(
        (async () => {
          const snap = await snapshotOf(s.base);
          const nw = snap.resources.networks.find((n) => n.uuid === 'nw-snap')!;
          assert.ok(Number(nw.display_name!.slice(1)) >= expect, `${nw.display_name} predates write w${expect}`);
        })(),
      );
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  held.release();
  await Promise.all(readers);
  assert.equal(held.stats.mostAtOnce, 1, 'snapshot builds ran concurrently');
  assert.equal(held.stats.builds, 1, `${held.stats.builds} builds for 100 readers over 20 revisions`);
});

it('snapshots beyond the in-flight limit get 503 with Retry-After; agents told so wait and all load', async () => {
  // 1,000 agents starting together each took a snapshot at once and none finished; now a few at a time are sent.
  const s = await startServer({ feed: { maxSnapshotsInFlight: 2 } });
  servers.push(s);
  await createNetwork(s.base, 'nw-adm', 1);
  const held = holdBuilds(s);
  const first = [snapshotOf(s.base), snapshotOf(s.base)];
  await waitFor(() => held.stats.builds === 1, 'the first reader waiting for the build');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await fetch(`${s.base}/api/1.0/feed/snapshot`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  const body = (await refused.json()) as { error: string; code: string; message: string };
  assert.equal(body.code, '124');
  assert.match(body.message, /already sending 2 snapshots/);
  held.release();
  for (const snap of await Promise.all(first)) assert.ok(snap.resources.networks.some((n) => n.uuid === 'nw-adm'));
  // The two replies are done: their places are free again.
  await waitFor(async () => (await fetch(`${s.base}/api/1.0/feed/snapshot`)).status === 200, 'a snapshot admitted');

  // Six agents' feeds at once against a limit of 2 on a fresh server, its first build held a moment: the refused
  // ones wait the server's Retry-After (not their own 100 ms backoff) and every one loads.
  const s2 = await startServer({ feed: { maxSnapshotsInFlight: 2 } });
  servers.push(s2);
  const again = holdBuilds(s2);
  const feeds = Array.from({ length: 6 }, () => new ServerFeed(new ApiClient({ baseUrl: s2.base })));
  const loaded = new Set<number>();
  const refusals: string[] = [];
  try {
    for (const [k, f] of feeds.entries())
      f.start((ev: FeedEvent) => {
        if (ev.kind === 'snapshot') loaded.add(k);
        if (ev.kind === 'error') refusals.push(String(ev.error));
      });
    await new Promise((r) => setTimeout(r, 300));
    again.release();
    await waitFor(
      () => loaded.size === 6,
      () => `${loaded.size} of 6 feeds loaded; ${refusals.join(' | ')}`,
      {
        timeoutMs: 30_000,
      },
    );
    assert.ok(refusals.length >= 4, `at least 4 refusals: ${refusals.join(' | ')}`);
    for (const r of refusals) assert.match(r, /already sending \d+ snapshots.*retry at .* in (\d+) ms/);
    for (const r of refusals) assert.ok(Number(/in (\d+) ms/.exec(r)![1]) >= 1000, r);
  } finally {
    for (const f of feeds) f.close();
  }
});

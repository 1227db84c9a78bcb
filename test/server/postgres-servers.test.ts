// Several servers, one ordered feed: two vnet servers (app + Service + PostgresStore) over one PostgreSQL database,
// many concurrent API writes through both, raw SSE watchers on each (from the start, and one joining mid-burst):
// every watcher receives every revision exactly once, in order, and the allocations stay unique across servers.
// Unit tier: the private cluster starts in about two seconds (see test/lib/postgres.ts).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { type PostgresCluster, postgresMissing, startPostgres } from '../lib/postgres.js';
import { type RawWatcher, revisionsAfter, watchRaw as watch } from '../lib/raw-feed.js';
import { waitFor } from '../lib/wait-for.js';

const skip = postgresMissing();
let cluster: PostgresCluster | null = null;
const apps: FastifyInstance[] = [];
const stores: PostgresStore[] = [];
after(async () => {
  for (const a of apps) await a.close().catch(() => {});
  for (const s of stores) await s.close().catch(() => {});
  await cluster?.stop();
});

async function server(url: string): Promise<string> {
  const store = await PostgresStore.open({ url });
  stores.push(store);
  const { app } = await buildApp({ store });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}

async function post(base: string, path: string, body: Record<string, unknown>) {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${base}${path} ${JSON.stringify(body)} → ${r.status} ${text}`);
  return JSON.parse(text);
}

describe('several servers on one PostgreSQL', { skip: skip ?? false }, () => {
  it('writes through both, watchers on each: every revision exactly once, in order; unique allocations', async () => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    const [a, b] = [await server(url), await server(url)];
    const watchers = [watch(a, 0), watch(a, 0), watch(b, 0), watch(b, 0)];
    let late: RawWatcher | null = null;
    try {
      // Let the streams open before the burst (a late one joins below).
      await new Promise((r) => setTimeout(r, 200));
      const N = 80;
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < N; i++) {
        const base = i % 2 === 0 ? a : b;
        // Networks: each allocates a tunnel key and a conntrack zone (check-then-insert, across servers).
        writes.push(post(base, '/api/networks', { uuid: `nw-m${i}`, ipv4_network: `10.${i}.0.0`, ipv4_prefix: 16 }));
        // Datapaths: one change each; their dpid is unique across servers too.
        writes.push(
          post(base, '/api/datapaths', { uuid: `dp-m${i}`, dpid: `0x${(i + 1).toString(16)}`, node_id: `n${i}` }),
        );
        if (i === N / 2) {
          // A watcher joining mid-burst on b, from the revision a has now: backlog, then live changes.
          const snap = (await (await fetch(`${a}/api/1.0/feed/snapshot`)).json()) as { revision: number };
          late = watch(b, snap.revision);
        }
      }
      await Promise.all(writes);
      const final = ((await (await fetch(`${b}/api/1.0/feed/snapshot`)).json()) as { revision: number }).revision;
      assert.ok(final >= 2 * N, `revision ${final}`);
      const all = [...watchers, late!];
      for (const [k, w] of all.entries())
        await waitFor(
          () => w.ids.length >= final - w.since,
          () => `watcher ${k} (since ${w.since}) to get ${final - w.since} changes (has ${w.ids.length})`,
          { timeoutMs: 10_000 },
        );
      await new Promise((r) => setTimeout(r, 100)); // a duplicate would show up now
      for (const [k, w] of all.entries()) {
        assert.equal(w.error(), null, `watcher ${k}: ${w.error()}`);
        assert.deepEqual(w.ids, revisionsAfter(w.since, final), `watcher ${k} since ${w.since}`);
      }
      // Allocations made on both servers never collide.
      const nets = ((await (await fetch(`${a}/api/1.0/networks?limit=1000`)).json()) as { items: any[] }).items;
      assert.equal(nets.length, N);
      assert.equal(new Set(nets.map((n) => n.tunnel_key)).size, N);
      assert.equal(new Set(nets.map((n) => n.ct_zone)).size, N);
    } finally {
      for (const w of [...watchers, ...(late ? [late] : [])]) await w.stop();
    }
  });
});

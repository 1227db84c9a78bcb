// Agents with several servers (issue 21 item 3): two servers over one PostgreSQL database; a feed client given
// both (the agent's `--server A,B`, one ApiClient shared with its reports) follows A, and when A goes away moves
// to B and resumes after the last revision it delivered — no snapshot, no resync, nothing lost or repeated —
// and its reports go to B from then on.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ApiClient, FeedClient } from '../../src/client/index.js';
import { buildApp } from '../../src/server/app.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { type PostgresCluster, postgresMissing, startPostgres } from '../lib/postgres.js';
import { waitFor } from '../lib/wait-for.js';

const skip = postgresMissing();
let cluster: PostgresCluster | null = null;
const apps: FastifyInstance[] = [];
const stores: PostgresStore[] = [];
let feed: FeedClient | null = null;
after(async () => {
  await feed?.stop();
  for (const a of apps) await a.close().catch(() => {});
  for (const s of stores) await s.close().catch(() => {});
  await cluster?.stop();
});

async function server(url: string): Promise<{ base: string; app: FastifyInstance }> {
  const store = await PostgresStore.open({ url });
  stores.push(store);
  const { app } = await buildApp({ store });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, app };
}

describe('an agent with two servers', { skip: skip ?? false }, () => {
  it('moves to the other server when its server goes away, resuming after its last revision', async () => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    const a = await server(url);
    const b = await server(url);
    const api = new ApiClient({ baseUrls: [a.base, b.base], timeoutMs: 5000 });
    feed = new FeedClient({ api, nodeId: 'n1', initialBackoffMs: 20, maxBackoffMs: 100 });
    const revisions: number[] = [];
    let snapshots = 0;
    const moves: string[] = [];
    const followed: string[] = [];
    feed.on('snapshot', () => snapshots++);
    feed.on('connected', (c) => followed.push(c.server));
    feed.on('change', (c) => revisions.push(c.revision));
    feed.on('disconnected', (d) => moves.push(d.server));
    feed.start();
    await waitFor(() => snapshots === 1, 'the first snapshot');

    const create = (base: string, i: number) =>
      new ApiClient({ baseUrl: base }).send({
        method: 'POST',
        path: '/networks',
        body: { uuid: `nw-f${i}`, ipv4_network: `10.${i}.0.0`, ipv4_prefix: 16 },
      });
    for (let i = 0; i < 5; i++) await create(a.base, i);
    await waitFor(
      () => revisions.length === 5,
      () => `5 changes through a (got ${revisions.length})`,
    );

    await a.app.close();
    for (let i = 5; i < 10; i++) await create(b.base, i);
    await waitFor(
      () => revisions.length === 10,
      () => `10 changes (got ${revisions.length}; moves ${moves})`,
    );
    assert.equal(snapshots, 1, 'no new snapshot: it resumed');
    assert.deepEqual(
      revisions,
      Array.from({ length: 10 }, (_, i) => revisions[0]! + i),
      'every revision once, in order',
    );
    assert.ok(moves.includes(b.base), `moved to b: ${moves}`);
    // Each stream says which server it follows (what the agent logs and exposes).
    assert.equal(followed[0], a.base);
    assert.equal(followed.at(-1), b.base);
    // The reports follow the feed: the shared client points at b now.
    assert.equal(api.baseUrl, b.base);
    const dp = await api.send<{ uuid: string }>({
      method: 'POST',
      path: '/datapaths',
      body: { uuid: 'dp-f1', dpid: '0x1', node_id: 'n1' },
    });
    assert.equal(dp.uuid, 'dp-f1');
  });
});

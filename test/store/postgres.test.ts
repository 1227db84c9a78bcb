// Runs the Store conformance suite against PostgreSQL (a private cluster this file starts), plus what only a shared
// database has: migrations under concurrent starts, and several stores (servers) on one database — serialised
// writes, and each one's announcements (own afterCommit + other servers' changes) every revision once, in order.
// Unit tier: the cluster starts in about two seconds and needs no root (as root it runs as the postgres user).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { POSTGRES_MIGRATIONS } from '../../src/store/migrations.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { freePort } from '../lib/free-port.js';
import { type PostgresCluster, postgresMissing, startPostgres } from '../lib/postgres.js';
import { waitFor } from '../lib/wait-for.js';
import { storeConformance } from './conformance.js';

const skip = postgresMissing();
let started: Promise<PostgresCluster> | null = null;
const cluster = () => {
  started ??= startPostgres();
  return started;
};
after(async () => {
  if (started) await (await started.catch(() => null))?.stop();
});
const freshDatabase = async () => (await cluster()).createDatabase();

let current = '';
storeConformance('postgres', {
  skip,
  create: async () => {
    current = await freshDatabase();
    return PostgresStore.open({ url: current });
  },
  reopen: async () => PostgresStore.open({ url: current }),
  retainLimited: async (retain) => PostgresStore.open({ url: await freshDatabase(), retainChanges: retain }),
});

describe('postgres store', { skip: skip ?? false }, () => {
  it('migrations: servers starting together on an empty database both start; the version is recorded once', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PostgresStore.open({ url }), PostgresStore.open({ url })]);
    await Promise.all([a.close(), b.close()]);
    const again = await PostgresStore.open({ url }); // nothing left to apply
    await again.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const v = await c.query('SELECT version FROM vnet_schema');
      assert.deepEqual(v.rows, [{ version: POSTGRES_MIGRATIONS.length }]);
      // The unique MAC index is a second line of defence behind the service's own check, as in SQLite.
      await c.query(
        `INSERT INTO vnet_docs(kind, uuid, data) VALUES ('mac_leases', 'ml-1', '{"mac_address":"02:00:00:00:00:01"}')`,
      );
      await assert.rejects(
        c.query(
          `INSERT INTO vnet_docs(kind, uuid, data) VALUES ('mac_leases', 'ml-2', '{"mac_address":"02:00:00:00:00:01"}')`,
        ),
        /unique/,
      );
    } finally {
      await c.end();
    }
  });

  it('migration 2: segments stored before their tunnel key get keys and zones after the highest in use', async () => {
    const url = await freshDatabase();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(POSTGRES_MIGRATIONS[0]!);
      await c.query('CREATE TABLE vnet_schema (version integer NOT NULL); INSERT INTO vnet_schema VALUES (1)');
      await c.query(`INSERT INTO vnet_docs(kind, uuid, data) VALUES
        ('networks', 'nw-a', '{"uuid":"nw-a","tunnel_key":7,"ct_zone":3}'),
        ('translations', 'tr-a', '{"uuid":"tr-a","ct_zone":9}'),
        ('segments', 'seg-b', '{"uuid":"seg-b","mode":"virtual"}'),
        ('segments', 'seg-a', '{"uuid":"seg-a","mode":"virtual"}')`);
    } finally {
      await c.end();
    }
    const s = await PostgresStore.open({ url });
    const a = await s.read((tx) => tx.get('segments', 'seg-a'));
    const b = await s.read((tx) => tx.get('segments', 'seg-b'));
    await s.close();
    assert.deepEqual([a?.tunnel_key, a?.ct_zone, b?.tunnel_key, b?.ct_zone], [8, 10, 9, 11]);
  });

  it('an unreachable database: open fails with StoreUnavailableError', async () => {
    const port = await freePort();
    await assert.rejects(PostgresStore.open({ url: `postgres://vnet@127.0.0.1:${port}/none` }), StoreUnavailableError);
  });

  it('two stores on one database: check-then-insert through both cannot both succeed', async () => {
    const url = await freshDatabase();
    const [a, b] = [await PostgresStore.open({ url }), await PostgresStore.open({ url })];
    try {
      const attempt = (s: PostgresStore, who: string) =>
        s.write(async (tx) => {
          const taken = await tx.find('mac_leases', { mac_address: '02:00:00:00:00:09' });
          await new Promise((r) => setTimeout(r, 5)); // widen the race window
          if (taken.length > 0) throw new Error(`taken for ${who}`);
          await tx.insert('mac_leases', { uuid: `ml-${who}`, mac_address: '02:00:00:00:00:09' });
        });
      const results = await Promise.allSettled([
        attempt(a, 'a1'),
        attempt(b, 'b1'),
        attempt(a, 'a2'),
        attempt(b, 'b2'),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal(await b.read((tx) => tx.count('mac_leases')), 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('three stores, concurrent writes through two: each announces every revision exactly once, in order', async () => {
    const url = await freshDatabase();
    const stores = [
      await PostgresStore.open({ url }),
      await PostgresStore.open({ url }),
      await PostgresStore.open({ url }),
    ];
    // What each store announces, in announcement order: its own writes' afterCommit and the others' changes.
    const heard: number[][] = stores.map(() => []);
    for (const [k, s] of stores.entries())
      s.observeForeignChanges((changes) => heard[k]!.push(...changes.map((c) => c.revision)));
    try {
      const N = 150;
      const writes: Promise<number[]>[] = [];
      for (let i = 0; i < N; i++) {
        const k = i % 2; // stores 0 and 1 write, store 2 only listens
        const s = stores[k]!;
        const write = s.write(
          async (tx) => {
            const revs: number[] = [];
            // One to three changes per write, some with items: revisions inside a write are consecutive.
            for (let j = 0; j <= i % 3; j++)
              revs.push(
                await tx.appendChange({
                  resource: 'segments',
                  uuid: `seg-${i}`,
                  op: 'upsert',
                  item: { i, j } as never,
                }),
              );
            if (i % 17 === 5) throw new Error('rolled back'); // leaves no hole
            return revs;
          },
          (revs) => heard[k]!.push(...revs),
        );
        write.catch(() => {}); // settled below, after the loop has paused a few times
        writes.push(write);
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1)); // let batches form on both sides
      }
      const done = await Promise.allSettled(writes);
      const total = done.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])).length;
      assert.ok(total > N, `${total} revisions`);
      const all = Array.from({ length: total }, (_, i) => i + 1);
      for (const [k, h] of heard.entries())
        await waitFor(() => h.length >= total, `store ${k} to hear ${total} revisions (has ${h.length})`, {
          timeoutMs: 5000,
        });
      for (const [k, h] of heard.entries()) assert.deepEqual(h, all, `store ${k}`);
      // The items reach the other servers as written.
      // Stores 0 and 1 write their first batches at once: either may commit revision 1 (writes 0 and 1 race).
      const page = await stores[2]!.changesSince(0, 3);
      const first = page.changes[0]?.item as { i: number; j: number } | undefined;
      assert.ok(first && (first.i === 0 || first.i === 1), JSON.stringify(first));
      assert.deepEqual(first, { i: first.i, j: 0 });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('connections cut by the database (pg_terminate_backend): writes and other servers’ changes resume', async () => {
    const url = await freshDatabase();
    const a = await PostgresStore.open({ url, pollMs: 100 });
    const b = await PostgresStore.open({ url, pollMs: 100 });
    const heard: number[] = [];
    b.observeForeignChanges((changes) => heard.push(...changes.map((c) => c.revision)));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const append = (s: PostgresStore) =>
        s.write((tx) => tx.appendChange({ resource: 'segments', uuid: 'seg-x', op: 'delete', item: null }));
      await append(a);
      await waitFor(() => heard.length === 1, 'the first change on b');
      // Every connection of both stores (pools and LISTEN) goes, as in a database restart.
      const cut = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      assert.ok(cut.rows.length >= 2, `${cut.rows.length} connections cut`);
      // A write may meet a dead connection once (refused as unavailable, never half-done); the next one works.
      const rev = await append(a).catch(async (e) => {
        assert.ok(e instanceof StoreUnavailableError, String(e));
        return append(a);
      });
      await waitFor(() => heard.includes(rev), `b to hear revision ${rev} after reconnecting (heard ${heard})`, {
        timeoutMs: 5000,
      });
      assert.deepEqual(
        heard,
        Array.from({ length: rev }, (_, i) => i + 1),
      );
      assert.equal(await b.read((tx) => tx.revision()), rev);
    } finally {
      await admin.end();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('another server’s write reaches this one within milliseconds (NOTIFY, not the poll)', async () => {
    const url = await freshDatabase();
    const a = await PostgresStore.open({ url, pollMs: 60_000 });
    const b = await PostgresStore.open({ url, pollMs: 60_000 });
    try {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const got = new Promise<number>((resolve) => {
          const stop = b.observeForeignChanges(() => {
            stop();
            resolve(performance.now());
          });
        });
        const t0 = performance.now();
        await a.write((tx) => tx.appendChange({ resource: 'segments', uuid: 'seg-x', op: 'delete', item: null }));
        times.push((await got) - t0);
      }
      times.sort((x, y) => x - y);
      assert.ok(times[10]! < 250, `median ${times[10]} ms`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

// The audit trail is bounded: entries beyond --audit-retain-entries (the oldest) and older than
// --audit-retain-days go, a batch per transaction, read from the entries themselves — so pruning survives a
// restart and several servers on one PostgreSQL may sweep at once. Through real HTTP: what GET /audit_events
// shows after a sweep.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { pruneAuditTrail, startAuditPruning } from '../../src/server/auth/audit.js';
import { resolveConfig } from '../../src/server/config.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { type PostgresCluster, postgresMissing, startPostgres } from '../lib/postgres.js';
import { waitFor } from '../lib/wait-for.js';
import { startServer, type TestServer } from './helpers.js';

async function writeNetworks(s: TestServer, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const r = await fetch(`${s.base}/api/1.0/networks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uuid: `nw-au${i}`, ipv4_network: `10.${i}.0.0`, ipv4_prefix: 24 }),
    });
    assert.equal(r.status, 200, await r.text());
  }
}

async function trail(s: TestServer): Promise<{ revision: number; created_at: string }[]> {
  const r = await fetch(`${s.base}/api/1.0/audit_events?limit=1000`);
  assert.equal(r.status, 200);
  return ((await r.json()) as { items: { revision: number; created_at: string }[] }).items;
}

describe('audit trail retention', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-audit-retention-'));
  const path = join(dir, 'vnet.db');

  test('beyond the entry bound the oldest go; beyond the age bound all older ones; both survive a restart', async () => {
    let s = await startServer({ path });
    try {
      await writeNetworks(s, 1, 12);
      const before = await trail(s);
      assert.equal(before.length, 12);
      assert.equal(await pruneAuditTrail(s.store, { maxAgeDays: null, maxEntries: 5 }), 7);
      assert.deepEqual(
        (await trail(s)).map((e) => e.revision),
        before.slice(7).map((e) => e.revision),
        'the newest five are kept',
      );
      assert.equal(await pruneAuditTrail(s.store, { maxAgeDays: null, maxEntries: 5 }), 0, 'nothing over: no-op');
    } finally {
      await s.close();
    }
    // A restarted server: the bounds are read from the entries, nothing remembered in between.
    s = await startServer({ path });
    try {
      await writeNetworks(s, 13, 2);
      assert.equal((await trail(s)).length, 7);
      assert.equal(await pruneAuditTrail(s.store, { maxAgeDays: 30, maxEntries: null }), 0, 'all younger than 30 days');
      // Two days on, a one-day bound takes them all.
      const later = Date.now() + 2 * 86_400_000;
      assert.equal(await pruneAuditTrail(s.store, { maxAgeDays: 1, maxEntries: null }, later), 7);
      assert.equal((await trail(s)).length, 0);
      // And writes are audited as before.
      await writeNetworks(s, 15, 1);
      assert.equal((await trail(s)).length, 1);
    } finally {
      await s.close();
    }
  });

  test('a large excess goes in several transactions; the server sweeps on its own and stops cleanly', async () => {
    const s = await startServer();
    try {
      await writeNetworks(s, 1, 3);
      // 1,200 entries more, written straight to the store (as 1,200 audited requests would).
      await s.store.write(async (tx) => {
        for (let i = 0; i < 1200; i++)
          await tx.insert('audit_events', {
            uuid: `au-x${i}`,
            who: 'local',
            role: 'admin',
            method: 'POST',
            path: '/api/1.0/x',
            first_revision: 1,
            revision: 1,
            changes: 1,
            created_at: new Date(0).toISOString(),
            updated_at: new Date(0).toISOString(),
          });
      });
      const lines: Record<string, unknown>[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
      const stop = startAuditPruning(s.store, { maxAgeDays: null, maxEntries: 100 }, log, 50);
      await waitFor(
        () => lines.find((l) => l.msg === 'audit trail pruned'),
        () => `a sweep: ${JSON.stringify(lines)}`,
        { timeoutMs: 20_000 },
      );
      await stop();
      assert.equal(lines.find((l) => l.msg === 'audit trail pruned')!.removed, 1103);
      assert.equal(await s.store.read((tx) => tx.count('audit_events')), 100);
    } finally {
      await s.close();
    }
  });

  test('the bounds are server options with defaults (90 days, 1,000,000 entries; 0: no bound)', () => {
    const d = resolveConfig({ flags: {}, env: {} });
    assert.equal(d.auditRetainDays, 90);
    assert.equal(d.auditRetainEntries, 1_000_000);
    const c = resolveConfig({ flags: { auditRetainDays: '0', auditRetainEntries: '5000' }, env: {} });
    assert.equal(c.auditRetainDays, 0);
    assert.equal(c.auditRetainEntries, 5000);
    assert.throws(() => resolveConfig({ flags: { auditRetainDays: '-1' }, env: {} }), /--audit-retain-days/);
  });
});

describe('several servers on one PostgreSQL', { skip: postgresMissing() ?? false }, () => {
  let cluster: PostgresCluster | undefined;
  after(async () => cluster?.stop());

  test('sweep at the same time: the bound holds, nothing fails, nothing young is lost', async () => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    const stores = await Promise.all([PostgresStore.open({ url }), PostgresStore.open({ url })]);
    try {
      for (const [k, store] of stores.entries())
        await store.write(async (tx) => {
          for (let i = 0; i < 600; i++) {
            const at = new Date(Date.now() - (600 - i) * 1000).toISOString();
            await tx.insert('audit_events', {
              uuid: `au-s${k}-${i}`,
              who: 'local',
              role: 'admin',
              method: 'POST',
              path: `/s${k}`,
              first_revision: 1,
              revision: 1,
              changes: 1,
              created_at: at,
              updated_at: at,
            });
          }
        });
      const bounds = { maxAgeDays: null, maxEntries: 250 };
      const removed = await Promise.all(stores.map((st) => pruneAuditTrail(st, bounds)));
      assert.equal(removed[0]! + removed[1]!, 950, `each removed only what was over: ${removed}`);
      const left = await stores[0]!.read((tx) => tx.find('audit_events', {}, { limit: 1000, offset: 0 }));
      assert.equal(left.length, 250);
      // The newest 250 are the second store's last 250 (inserted last).
      assert.ok(left.every((e) => String(e.uuid).startsWith('au-s1-')));
    } finally {
      for (const st of stores) await st.close();
    }
  });
});

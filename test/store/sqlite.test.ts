// Runs the Store conformance suite against SQLite (in memory and on a file), plus SQLite-specific settings.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), `vnet-store-${process.pid}-`));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

storeConformance('sqlite :memory:', {
  create: async () => new SqliteStore({ path: ':memory:' }),
  retainLimited: async (retain) => new SqliteStore({ path: ':memory:', retainChanges: retain }),
});

let current = '';
storeConformance('sqlite file', {
  create: async () => {
    current = join(dir, `s${++n}`, 'vnet.db');
    return new SqliteStore({ path: current });
  },
  reopen: async () => new SqliteStore({ path: current }),
});

it('sqlite file: WAL, synchronous=FULL, migrations recorded, unique indexes guard the service', async () => {
  const path = join(dir, 'pragmas.db');
  const s = new SqliteStore({ path });
  await s.close();
  const d = new Database(path);
  try {
    assert.equal(d.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(d.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
    // The unique MAC index is a second line of defence behind the service's own check.
    d.prepare("INSERT INTO docs(kind, uuid, seq, data) VALUES ('mac_leases', 'ml-1', 1, ?)").run(
      JSON.stringify({ uuid: 'ml-1', mac_address: '02:00:00:00:00:01' }),
    );
    assert.throws(
      () =>
        d
          .prepare("INSERT INTO docs(kind, uuid, seq, data) VALUES ('mac_leases', 'ml-2', 2, ?)")
          .run(JSON.stringify({ uuid: 'ml-2', mac_address: '02:00:00:00:00:01' })),
      /UNIQUE/,
    );
  } finally {
    d.close();
  }
  // synchronous is per connection: check the store's own.
  const s2 = new SqliteStore({ path });
  const sync = (s2 as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
  assert.equal(sync, 2, 'synchronous=FULL');
  await s2.close();
});

it('migrations 4-6: networks, routes and translations stored before vlan_id / gateway_ipv4_address / active_datapath_uuid carry them as null', async () => {
  const path = join(dir, 'migrate4.db');
  const d = new Database(path);
  d.exec('BEGIN');
  for (const sql of SQLITE_MIGRATIONS.slice(0, 3)) d.exec(sql);
  d.prepare("INSERT INTO docs(kind, uuid, seq, data) VALUES ('networks', 'nw-old', 1, ?)").run(
    JSON.stringify({ uuid: 'nw-old', ipv4_network: '10.0.0.0', network_mode: 'virtual' }),
  );
  d.prepare("INSERT INTO docs(kind, uuid, seq, data) VALUES ('routes', 'r-old', 2, ?)").run(
    JSON.stringify({ uuid: 'r-old', ipv4_network: '10.0.0.0', ipv4_prefix: 24 }),
  );
  d.prepare("INSERT INTO docs(kind, uuid, seq, data) VALUES ('translations', 'tr-old', 3, ?)").run(
    JSON.stringify({ uuid: 'tr-old', interface_uuid: 'if-x', mode: 'static_address', static_addresses: [] }),
  );
  d.exec('COMMIT');
  d.pragma('user_version = 3');
  d.close();
  const s = new SqliteStore({ path });
  const got = await s.read((tx) => tx.get('networks', 'nw-old'));
  const route = await s.read((tx) => tx.get('routes', 'r-old'));
  const translation = await s.read((tx) => tx.get('translations', 'tr-old'));
  await s.close();
  assert.ok(got && 'vlan_id' in got, JSON.stringify(got));
  assert.equal(got.vlan_id, null);
  assert.ok(route && 'gateway_ipv4_address' in route, JSON.stringify(route));
  assert.equal(route.gateway_ipv4_address, null);
  assert.ok(translation && 'active_datapath_uuid' in translation, JSON.stringify(translation));
  assert.equal(translation.active_datapath_uuid, null);
});

it('migration 8: segments stored before their tunnel key get keys and zones after the highest in use', async () => {
  const path = join(dir, 'migrate8.db');
  const d = new Database(path);
  d.exec('BEGIN');
  for (const sql of SQLITE_MIGRATIONS.slice(0, 7)) d.exec(sql);
  const put = d.prepare('INSERT INTO docs(kind, uuid, seq, data) VALUES (?, ?, ?, ?)');
  put.run('networks', 'nw-a', 1, JSON.stringify({ uuid: 'nw-a', tunnel_key: 7, ct_zone: 3 }));
  put.run('translations', 'tr-a', 2, JSON.stringify({ uuid: 'tr-a', mode: 'snat', ct_zone: 9 }));
  put.run('segments', 'seg-b', 3, JSON.stringify({ uuid: 'seg-b', mode: 'virtual' }));
  put.run('segments', 'seg-a', 4, JSON.stringify({ uuid: 'seg-a', mode: 'virtual' }));
  d.exec('COMMIT');
  d.pragma('user_version = 7');
  d.close();
  const s = new SqliteStore({ path });
  const a = await s.read((tx) => tx.get('segments', 'seg-a'));
  const b = await s.read((tx) => tx.get('segments', 'seg-b'));
  await s.close();
  assert.deepEqual([a?.tunnel_key, a?.ct_zone, b?.tunnel_key, b?.ct_zone], [8, 10, 9, 11]);
});

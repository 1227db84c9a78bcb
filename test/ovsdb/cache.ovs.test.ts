// The monitor cache against a real ovsdb-server + ovs-vswitchd: follows changes made by
// ovs-vsctl (sets, maps, optional columns, inserts, deletes), and survives a server restart by
// reconnecting and rebuilding, reporting what changed while it was away.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test as nodeTest } from 'node:test';
import { promisify } from 'node:util';
import { type OvsInstance, startOvs } from '../../src/lab/ovs-instance.js';
import { MonitorCache, type RowChange, rowsEqual } from '../../src/ovsdb/cache.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { VSWITCH_COLUMNS, VSWITCH_DB, type VswitchTables } from '../../src/ovsdb/vswitch-schema.js';

const pexec = promisify(execFile);
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { timeout: 30_000 }, fn);

let ovs: OvsInstance;
let client: OvsdbClient;
let cache: MonitorCache<VswitchTables>;
const changes: RowChange[] = [];
const dir = `/tmp/vnet-ovsdb-cache-${process.pid}`;

before(async () => {
  ovs = await startOvs({ dir, dummy: true });
  client = new OvsdbClient(`unix:${ovs.dbSock}`, { backoffMinMs: 50, backoffMaxMs: 200 });
  cache = new MonitorCache<VswitchTables>(client, { db: VSWITCH_DB, tables: VSWITCH_COLUMNS });
  cache.on('change', (c) => changes.push(...c));
  cache.start();
  client.start();
  await cache.whenSynced(5000);
});
after(async () => {
  cache?.stop();
  client?.close();
  await ovs?.stop();
});

const bridge = (name: string) => cache.find('Bridge', (b) => b.name === name);
const iface = (name: string) => cache.find('Interface', (i) => i.name === name);
const until = <R>(fn: () => R | undefined | false | null, what: string) => cache.until(fn, 5000, what);

/** A second, fresh cache must hold exactly what the long-lived one built from diffs. */
async function assertSameAsFreshLoad(): Promise<void> {
  const c2 = await OvsdbClient.connect(`unix:${ovs.dbSock}`);
  const fresh = new MonitorCache<VswitchTables>(c2, { db: VSWITCH_DB, tables: VSWITCH_COLUMNS }).start();
  try {
    await fresh.whenSynced(5000);
    await client.echo(); // our cache has seen everything committed before this point
    for (const t of Object.keys(VSWITCH_COLUMNS) as Array<keyof VswitchTables>) {
      const a = new Map([...cache.rows(t)].map((r) => [r._uuid, r]));
      const b = new Map([...fresh.rows(t)].map((r) => [r._uuid, r]));
      assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${t} rows`);
      for (const [u, r] of a)
        assert.ok(rowsEqual(r, b.get(u)!), `${t} ${u}: ${JSON.stringify([...Object.entries(r)])}`);
    }
  } finally {
    fresh.stop();
    c2.close();
  }
}

test('initial load holds the root row, typed', async () => {
  const root = [...cache.rows('Open_vSwitch')];
  assert.equal(root.length, 1);
  assert.ok(Array.isArray(root[0]!.bridges));
  assert.ok(root[0]!.external_ids instanceof Map);
  assert.equal(typeof root[0]!.next_cfg, 'number');
});

test('follows ovs-vsctl: bridges, ports, interfaces, maps, sets, optional columns, controllers', async () => {
  changes.length = 0;
  await ovs.vsctl('add-br', 'brA', '--', 'set', 'Bridge', 'brA', 'datapath_type=dummy');
  const b = await until(() => bridge('brA'), 'brA');
  assert.equal(b.datapath_type, 'dummy');
  assert.ok(changes.some((c) => c.table === 'Bridge' && c.kind === 'insert' && c.uuid === b._uuid));
  // vswitchd fills ephemeral columns: ofport and datapath_id arrive as modifies.
  await until(() => iface('brA')?.ofport === 65534 && bridge('brA')?.datapath_id, 'brA ofport+dpid');

  await ovs.vsctl(
    'add-port',
    'brA',
    'pA',
    '--',
    'set',
    'Interface',
    'pA',
    'type=internal',
    'external_ids:iface-id=if-1',
  );
  const i = await until(() => iface('pA'), 'pA');
  assert.equal(i.external_ids.get('iface-id'), 'if-1');
  const port = await until(() => cache.find('Port', (p) => p.name === 'pA'), 'port pA');
  assert.deepEqual(port.interfaces, [i._uuid]);
  await until(() => bridge('brA')!.ports.includes(port._uuid) && bridge('brA')!.ports.length === 2, 'ports set grows');
  await until(() => (iface('pA')?.ofport ?? 0) > 0, 'pA ofport');

  // Map diffs: change a value, add a key, remove a key.
  await ovs.vsctl(
    'set',
    'Interface',
    'pA',
    'external_ids:iface-id=if-2',
    'external_ids:attached-mac=52:54:00:00:00:01',
  );
  await until(() => iface('pA')?.external_ids.get('iface-id') === 'if-2', 'iface-id changed');
  assert.equal(iface('pA')!.external_ids.get('attached-mac'), '52:54:00:00:00:01');
  await ovs.vsctl('remove', 'Interface', 'pA', 'external_ids', 'iface-id');
  await until(() => !iface('pA')?.external_ids.has('iface-id'), 'iface-id removed');
  assert.equal(iface('pA')!.external_ids.size, 1);

  // Optional column: set, change, clear.
  await ovs.vsctl('set-fail-mode', 'brA', 'secure');
  await until(() => bridge('brA')?.fail_mode === 'secure', 'fail_mode set');
  await ovs.vsctl('set-fail-mode', 'brA', 'standalone');
  await until(() => bridge('brA')?.fail_mode === 'standalone', 'fail_mode changed');
  await ovs.vsctl('del-fail-mode', 'brA');
  await until(() => bridge('brA')?.fail_mode === undefined, 'fail_mode cleared');

  // Set diffs.
  await ovs.vsctl('set', 'Bridge', 'brA', 'protocols=OpenFlow10,OpenFlow13');
  await until(() => bridge('brA')?.protocols.length === 2, 'protocols');
  await ovs.vsctl('remove', 'Bridge', 'brA', 'protocols', 'OpenFlow10');
  await until(() => bridge('brA')?.protocols.join() === 'OpenFlow13', 'protocols shrink');

  await ovs.vsctl('set-controller', 'brA', 'tcp:127.0.0.1:6699');
  const ctrl = await until(() => cache.find('Controller', (c) => c.target === 'tcp:127.0.0.1:6699'), 'controller');
  assert.deepEqual(bridge('brA')!.controller, [ctrl._uuid]);

  changes.length = 0;
  await ovs.vsctl('del-port', 'brA', 'pA');
  await until(() => !iface('pA') && !cache.find('Port', (p) => p.name === 'pA'), 'pA gone');
  assert.ok(changes.some((c) => c.table === 'Interface' && c.kind === 'delete' && c.old?._uuid === i._uuid));
  assert.ok(changes.some((c) => c.table === 'Bridge' && c.kind === 'modify'));

  await assertSameAsFreshLoad();
});

test('server restart: reconnects, rebuilds, and reports what changed while it was down', async () => {
  await ovs.vsctl('add-br', 'brGone', '--', 'set', 'Bridge', 'brGone', 'datapath_type=dummy');
  await until(() => bridge('brGone'), 'brGone');
  const gone = bridge('brGone')!;
  const loadsBefore = cache.loads;
  const root = [...cache.rows('Open_vSwitch')][0]!;

  const pidFile = join(dir, 'ovsdb-server.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  assert.equal(argv[0], 'ovsdb-server');
  const unsynced = new Promise<void>((r) => cache.once('unsynced', () => r()));
  process.kill(pid, 'SIGKILL');
  await unsynced;
  assert.equal(cache.synced, false);
  // The cache keeps serving its last copy while disconnected.
  assert.ok(bridge('brGone'));
  while ((await pexec('ps', ['-o', 'pid=', '-p', String(pid)]).catch(() => ({ stdout: '' }))).stdout.trim()) {
    await new Promise((r) => setTimeout(r, 20));
  }

  // Change the database file while nobody serves it.
  const txn = JSON.stringify([
    'Open_vSwitch',
    {
      op: 'mutate',
      table: 'Open_vSwitch',
      where: [['_uuid', '==', ['uuid', root._uuid]]],
      mutations: [
        ['external_ids', 'insert', ['map', [['offline-edit', 'yes']]]],
        ['bridges', 'delete', ['set', [['uuid', gone._uuid]]]],
      ],
    },
  ]);
  await pexec('ovsdb-tool', ['transact', join(dir, 'conf.db'), txn], { env: ovs.env });

  changes.length = 0;
  const synced = new Promise<void>((r) => cache.once('synced', () => r()));
  await pexec(argv[0]!, argv.slice(1), { env: ovs.env });
  await synced;
  assert.equal(cache.loads, loadsBefore + 1);
  assert.equal([...cache.rows('Open_vSwitch')][0]!.external_ids.get('offline-edit'), 'yes');
  assert.equal(bridge('brGone'), undefined);
  assert.ok(
    changes.some((c) => c.table === 'Bridge' && c.kind === 'delete' && c.uuid === gone._uuid),
    'bridge delete reported',
  );
  assert.ok(
    changes.some((c) => c.table === 'Open_vSwitch' && c.kind === 'modify'),
    'root modify reported',
  );
  assert.ok(
    !changes.some(
      (c) => c.table === 'Bridge' && c.kind === 'insert' && (c.new as { name?: string } | undefined)?.name === 'brA',
    ),
    'unchanged rows are not re-reported as new',
  );

  // And it keeps following live changes after the restart.
  await ovs.vsctl('br-set-external-id', 'brA', 'after', 'restart');
  await until(() => bridge('brA')?.external_ids.get('after') === 'restart', 'live after restart');
  await assertSameAsFreshLoad();
});

test('a throwing change listener neither breaks the replica nor causes a resync', async () => {
  const loads = cache.loads;
  const boom = () => {
    throw new Error('listener bug');
  };
  cache.prependListener('change', boom);
  try {
    await ovs.vsctl('br-set-external-id', 'brA', 'boom', '1');
    // The listener threw before until()'s own listener ran; poll instead.
    const deadline = Date.now() + 5000;
    while (bridge('brA')?.external_ids.get('boom') !== '1' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(bridge('brA')?.external_ids.get('boom'), '1');
  } finally {
    cache.off('change', boom);
  }
  await ovs.vsctl('br-set-external-id', 'brA', 'boom', '2');
  await until(() => bridge('brA')?.external_ids.get('boom') === '2', 'later changes still applied');
  assert.equal(cache.loads, loads, 'no resync');
  assert.ok(client.connected);
});

test('until() times out with a typed error naming what it waited for', async () => {
  await assert.rejects(
    cache.until(() => bridge('never'), 100, 'bridge never'),
    (e: unknown) => {
      assert.equal((e as { code: string }).code, 'OVSDB_TIMEOUT');
      assert.match(String(e), /bridge never/);
      return true;
    },
  );
});

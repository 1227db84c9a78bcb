// OvsdbClient against a real ovsdb-server: every RPC method and transaction operation, over
// unix socket and TCP, with the server's own errors coming back typed.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, test as nodeTest } from 'node:test';

// A hung server interaction fails the test instead of the whole run.
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { timeout: 20_000 }, fn);
import { type OvsInstance, startOvs } from '../../src/lab/ovs-instance.js';
import { OvsdbClient, type TableUpdates, type TableUpdates2, ZERO_TXN_ID } from '../../src/ovsdb/client.js';
import { map, namedUuid, set, uuid } from '../../src/ovsdb/data.js';
import { OvsdbCanceledError, OvsdbRpcError, OvsdbTransactionError } from '../../src/ovsdb/errors.js';
import { op, where } from '../../src/ovsdb/ops.js';
import { waitFor } from '../lib/wait-for.js';

const DB = 'Open_vSwitch';
let ovs: OvsInstance;
let client: OvsdbClient;
let rootUuid: string;

before(async () => {
  // ptcp:0 lets ovsdb-server pick a free port; its log says which.
  ovs = await startOvs({ dir: `/tmp/vnet-ovsdb-client-${process.pid}`, dummy: true, ovsdbTcp: 'ptcp:0:127.0.0.1' });
  client = await OvsdbClient.connect(`unix:${ovs.dbSock}`);
  const [r] = await client.transact(DB, [op.select('Open_vSwitch', [], ['_uuid'])]);
  rootUuid = (rowsOf(r)[0]!._uuid as [string, string])[1];
});
after(async () => {
  client?.close();
  await ovs?.stop();
});

const rowsOf = (r: unknown) => (r as { rows: Array<Record<string, unknown>> }).rows;

/** Insert a bridge (and its local port) the way ovs-vsctl add-br does, in one transaction. */
function addBridgeOps(name: string) {
  return [
    op.insert('Interface', { name, type: 'internal' }, 'i'),
    op.insert('Port', { name, interfaces: set([namedUuid('i')]) }, 'p'),
    op.insert('Bridge', { name, datapath_type: 'dummy', ports: set([namedUuid('p')]) }, 'b'),
    op.mutate('Open_vSwitch', [where.eq('_uuid', uuid(rootUuid))], [['bridges', 'insert', set([namedUuid('b')])]]),
  ];
}

test('list_dbs, get_schema and echo', async () => {
  const dbs = await client.listDbs();
  assert.ok(dbs.includes(DB), dbs.join());
  const schema = await client.getSchema(DB);
  assert.equal(schema.name, DB);
  assert.ok(schema.tables.Bridge?.columns.datapath_id);
  assert.deepEqual(await client.echo('x', 1), ['x', 1]);
  await assert.rejects(
    client.getSchema('NoSuchDb'),
    (e: unknown) => e instanceof OvsdbRpcError && e.code === 'OVSDB_RPC',
  );
});

test('the same over TCP', async () => {
  const log = readFileSync(ovs.logs().ovsdb, 'utf8');
  const port = Number(/listening on port (\d+)/.exec(log)?.[1]);
  assert.ok(port > 0, 'ovsdb-server log names its TCP port');
  const tcp = await OvsdbClient.connect(`tcp:127.0.0.1:${port}`);
  try {
    assert.ok((await tcp.listDbs()).includes(DB));
  } finally {
    tcp.close();
  }
});

test('transact: insert with uuid-name, select, update, mutate, wait, comment, delete', async () => {
  const res = await client.transact(DB, [op.comment('vnet test: add brT'), ...addBridgeOps('brT')]);
  assert.equal(res[0]!.op, 'comment');
  const bridgeUuid = (res[3] as { uuid: string }).uuid;
  assert.match(bridgeUuid, /^[0-9a-f-]{36}$/);
  assert.match(await ovs.vsctl('list-br'), /^brT$/m);

  const [sel] = await client.transact(DB, [
    op.select('Bridge', [where.eq('name', 'brT')], ['_uuid', 'datapath_type', 'ports']),
  ]);
  const rows = rowsOf(sel);
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0]!._uuid, ['uuid', bridgeUuid]);
  assert.equal(rows[0]!.datapath_type, 'dummy');

  const byUuid = [where.eq('_uuid', uuid(bridgeUuid))];
  const [upd] = await client.transact(DB, [
    op.update('Bridge', byUuid, { fail_mode: 'secure', external_ids: map({ a: '1' }) }),
  ]);
  assert.deepEqual(upd, { op: 'update', count: 1 });
  const [mut] = await client.transact(DB, [
    op.mutate('Bridge', byUuid, [
      ['external_ids', 'insert', map({ b: '2' })],
      ['flood_vlans', 'insert', set([10, 20])],
    ]),
  ]);
  assert.deepEqual(mut, { op: 'mutate', count: 1 });
  assert.equal((await ovs.vsctl('get', 'Bridge', 'brT', 'fail_mode')).trim(), 'secure');
  assert.equal((await ovs.vsctl('get', 'Bridge', 'brT', 'external_ids')).trim(), '{a="1", b="2"}');
  assert.equal((await ovs.vsctl('get', 'Bridge', 'brT', 'flood_vlans')).trim(), '[10, 20]');

  // wait that holds commits; one that does not fails with "timed out" at its index.
  const ok = await client.transact(DB, [op.wait('Bridge', byUuid, ['fail_mode'], '==', [{ fail_mode: 'secure' }], 0)]);
  assert.deepEqual(ok, [{ op: 'wait' }]);
  await assert.rejects(
    client.transact(DB, [
      op.comment('guarded'),
      op.wait('Bridge', byUuid, ['fail_mode'], '==', [{ fail_mode: 'standalone' }], 0),
      op.update('Bridge', byUuid, { stp_enable: true }),
    ]),
    (e: unknown) =>
      e instanceof OvsdbTransactionError && e.opIndex === 1 && e.error === 'timed out' && e.comment === 'guarded',
  );
  assert.equal(
    (await ovs.vsctl('get', 'Bridge', 'brT', 'stp_enable')).trim(),
    'false',
    'nothing after a failed op is applied',
  );

  const del = await client.transact(DB, [
    op.mutate('Open_vSwitch', [where.eq('_uuid', uuid(rootUuid))], [['bridges', 'delete', set([uuid(bridgeUuid)])]]),
    op.delete('Bridge', byUuid),
  ]);
  assert.deepEqual(del[1], { op: 'delete', count: 1 });
  assert.doesNotMatch(await ovs.vsctl('list-br'), /brT/);
});

test('server-side failures are typed: constraint violation, referential integrity, assert without lock', async () => {
  await client.transact(DB, addBridgeOps('brDup'));
  await assert.rejects(client.transact(DB, [op.comment('dup'), ...addBridgeOps('brDup')]), (e: unknown) => {
    assert.ok(e instanceof OvsdbTransactionError, String(e));
    assert.equal(e.error, 'constraint violation');
    assert.match(e.message, /brDup|duplicate/i);
    return true;
  });
  // Deleting a bridge the root row still references breaks referential integrity at commit.
  await assert.rejects(
    client.transact(DB, [op.delete('Bridge', [where.eq('name', 'brDup')])]),
    (e: unknown) =>
      e instanceof OvsdbTransactionError && e.opIndex === -1 && e.error === 'referential integrity violation',
  );
  await assert.rejects(
    client.transact(DB, [op.assert('vnet_lock_we_do_not_hold')]),
    (e: unknown) => e instanceof OvsdbTransactionError && e.opIndex === 0 && e.error === 'not owner',
  );
  // A bad column is the server's "constraint violation"/"unknown column" for that op, not a crash.
  await assert.rejects(
    client.transact(DB, [op.comment('c'), op.update('Bridge', [where.eq('name', 'brDup')], { no_such_column: 1 })]),
    (e: unknown) => e instanceof OvsdbTransactionError || e instanceof OvsdbRpcError,
  );
  await ovs.vsctl('del-br', 'brDup');
});

test('cancel: a transaction blocked in an open-ended wait is abandoned on abort', async () => {
  const ac = new AbortController();
  const started = Date.now();
  const p = client.transact(DB, [op.wait('Bridge', [where.eq('name', 'never-there')], ['name'], '!=', [])], {
    signal: ac.signal,
    timeoutMs: 0,
  });
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(p, (e: unknown) => e instanceof OvsdbCanceledError);
  assert.ok(Date.now() - started >= 150);
  // The connection is still good.
  assert.deepEqual(await client.echo(), []);
});

test('monitor (RFC 7047): initial rows, then update notifications, until monitor_cancel', async () => {
  const updates: TableUpdates[] = [];
  const onUpdate = (id: unknown, u: TableUpdates) => id === 'm1' && updates.push(u);
  client.on('update', onUpdate);
  try {
    const initial = await client.monitor(DB, 'm1', {
      Open_vSwitch: { columns: ['bridges'] },
      Bridge: { columns: ['name', 'external_ids'] },
    });
    assert.equal(Object.keys(initial.Open_vSwitch ?? {}).length, 1);
    await ovs.vsctl('add-br', 'brM', '--', 'set', 'Bridge', 'brM', 'datapath_type=dummy');
    await waitFor(
      () => updates.some((u) => Object.values(u.Bridge ?? {}).some((r) => r.new?.name === 'brM' && !r.old)),
      'the update adding brM',
      { timeoutMs: 5000 },
    );
    await ovs.vsctl('br-set-external-id', 'brM', 'k', 'v');
    await waitFor(
      () =>
        updates.some((u) =>
          Object.values(u.Bridge ?? {}).some(
            (r) => r.old && JSON.stringify(r.new?.external_ids) === '["map",[["k","v"]]]',
          ),
        ),
      'the update setting external_ids k=v on brM',
      { timeoutMs: 5000 },
    );
    await client.monitorCancel('m1');
    const n = updates.length;
    await ovs.vsctl('del-br', 'brM');
    await client.echo(); // anything the server would still send arrives before this reply
    assert.equal(updates.length, n, 'no updates after monitor_cancel');
  } finally {
    client.off('update', onUpdate);
  }
});

test('monitor_cond: where clause filters rows; modify carries a diff (update2)', async () => {
  await ovs.vsctl(
    'add-br',
    'brC1',
    '--',
    'set',
    'Bridge',
    'brC1',
    'datapath_type=dummy',
    '--',
    'add-br',
    'brC2',
    '--',
    'set',
    'Bridge',
    'brC2',
    'datapath_type=dummy',
  );
  const updates: TableUpdates2[] = [];
  const onUpdate = (id: unknown, u: TableUpdates2) => id === 'm2' && updates.push(u);
  client.on('update2', onUpdate);
  try {
    const initial = await client.monitorCond(DB, 'm2', {
      Bridge: [{ columns: ['name', 'external_ids'], where: [['name', '==', 'brC1']] }],
    });
    const rows = Object.values(initial.Bridge ?? {});
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0], { initial: { name: 'brC1' } });
    await ovs.vsctl('br-set-external-id', 'brC2', 'x', '1');
    await ovs.vsctl('br-set-external-id', 'brC1', 'x', '1', '--', 'br-set-external-id', 'brC1', 'y', '2');
    await ovs.vsctl('br-set-external-id', 'brC1', 'x', '3');
    await waitFor(() => updates.length >= 2, 'two update2 notifications for brC1', { timeoutMs: 5000 });
    const mods = updates.flatMap((u) => Object.values(u.Bridge ?? {}));
    assert.ok(
      mods.every((m) => 'modify' in m),
      JSON.stringify(mods),
    );
    // Second change: only key x, with its new value (a diff, not the whole map).
    assert.deepEqual(mods[1], { modify: { external_ids: ['map', [['x', '3']]] } });
    await client.monitorCancel('m2');
  } finally {
    client.off('update2', onUpdate);
    await ovs.vsctl('del-br', 'brC1', '--', 'del-br', 'brC2');
  }
});

test('monitor_cond_since: full load from the zero txn id, then update3 notifications', async () => {
  const got: Array<[string, TableUpdates2]> = [];
  const onUpdate = (id: unknown, txn: string, u: TableUpdates2) => id === 'm3' && got.push([txn, u]);
  client.on('update3', onUpdate);
  try {
    const r = await client.monitorCondSince(DB, 'm3', { Open_vSwitch: [{ columns: ['external_ids'] }] }, ZERO_TXN_ID);
    assert.equal(typeof r.found, 'boolean');
    assert.equal(Object.keys(r.updates.Open_vSwitch ?? {}).length, 1);
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:since=1');
    await waitFor(() => got.length > 0, 'an update3 notification', { timeoutMs: 5000 });
    assert.deepEqual(Object.values(got[0]![1].Open_vSwitch!)[0], {
      modify: { external_ids: ['map', [['since', '1']]] },
    });
    await client.monitorCancel('m3');
  } finally {
    client.off('update3', onUpdate);
  }
});

test('a server-initiated echo over a live ovsdb-server connection keeps it up', async () => {
  // ovsdb-server probes idle clients every 5 s by default; a client that ignored echo would be
  // dropped after ~10 s. Shorten by asking: our inactivity probe answered both ways.
  const c = await OvsdbClient.connect(`unix:${ovs.dbSock}`, { probeIntervalMs: 200 });
  try {
    let disconnected = false;
    c.on('disconnected', () => {
      disconnected = true;
    });
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(disconnected, false);
    assert.equal(c.connects, 1);
  } finally {
    c.close();
  }
});

void once;

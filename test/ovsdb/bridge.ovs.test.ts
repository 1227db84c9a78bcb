// Vswitch intents against real ovsdb-server + ovs-vswitchd (dummy datapath): idempotent bridge
// take-over, tunnel and plain ports, interface reads and events, typed input errors.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, test as nodeTest } from 'node:test';
import { type OvsInstance, startOvs } from '../../src/lab/ovs-instance.js';
import { Vswitch } from '../../src/ovsdb/bridge.js';
import type { BridgeEvent, InterfaceEvent } from '../../src/ovsdb/vswitch-view.js';
import { OvsdbInputError, OvsdbNotFoundError, OvsdbTimeoutError } from '../../src/ovsdb/errors.js';
import { offlineTransact, restartOvsdbServer } from './restart.js';

const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { timeout: 30_000 }, fn);

let ovs: OvsInstance;
let vs: Vswitch;
let transacts = 0;

before(async () => {
  ovs = await startOvs({ dir: `/tmp/vnet-ovsdb-bridge-${process.pid}`, dummy: true });
  vs = await Vswitch.connect(`unix:${ovs.dbSock}`);
  // Count writes: an idempotent intent on a switch already in shape must send none.
  const orig = vs.client.transact.bind(vs.client);
  vs.client.transact = (...args: Parameters<typeof orig>) => {
    transacts++;
    return orig(...args);
  };
});
after(async () => {
  vs?.close();
  await ovs?.stop();
});

const get = async (...args: string[]) => (await ovs.vsctl('get', ...args)).trim();

test('createBridge creates with datapath_type, is idempotent, and fixes a different type', async () => {
  const b = await vs.createBridge({ name: 'brN', datapathType: 'dummy' });
  assert.equal(b.datapathType, 'dummy');
  assert.deepEqual(b.ports, ['brN']);
  assert.equal(await get('Bridge', 'brN', 'datapath_type'), 'dummy');
  const n = transacts;
  const again = await vs.createBridge({ name: 'brN', datapathType: 'dummy' });
  assert.equal(again.uuid, b.uuid);
  assert.equal(transacts, n, 'no write when already there');
  await vs.createBridge({ name: 'brN', datapathType: 'netdev' });
  assert.equal(await get('Bridge', 'brN', 'datapath_type'), 'netdev');
  await vs.deleteBridge('brN');
  assert.doesNotMatch(await ovs.vsctl('list-br'), /brN/);
  const m = transacts;
  await vs.deleteBridge('brN');
  assert.equal(transacts, m, 'deleting an absent bridge writes nothing');
});

test('takeOverBridge: keeps datapath_type, other protocols and other_config; replaces controllers; idempotent', async () => {
  // A listener stands in for the agent's OpenFlow port: vswitchd must really dial it.
  const of = createServer((s) => s.destroy());
  of.listen(0, '127.0.0.1');
  await once(of, 'listening');
  const port = (of.address() as { port: number }).port;
  try {
    await ovs.vsctl(
      'add-br',
      'brU',
      '--',
      'set',
      'Bridge',
      'brU',
      'datapath_type=dummy',
      'protocols=OpenFlow10',
      'other_config:user=kept',
      '--',
      'set-controller',
      'brU',
      'tcp:127.0.0.9:6653',
    );
    const dialled = once(of, 'connection');
    const b = await vs.takeOverBridge({
      name: 'brU',
      controllers: [`tcp:127.0.0.1:${port}`],
      failMode: 'secure',
      protocols: ['OpenFlow13'],
      disableInBand: true,
      controllerMaxBackoff: 1000,
      inactivityProbe: 5000,
      datapathId: '0x00000000cafe0001',
    });
    assert.equal(b.datapathType, 'dummy');
    assert.deepEqual(b.protocols, ['OpenFlow10', 'OpenFlow13']);
    assert.equal(b.failMode, 'secure');
    assert.deepEqual(
      b.controllers.map((c) => [c.target, c.maxBackoff, c.inactivityProbe]),
      [[`tcp:127.0.0.1:${port}`, 1000, 5000]],
    );
    assert.equal(b.otherConfig.user, 'kept');
    assert.equal(b.otherConfig['disable-in-band'], 'true');
    assert.equal(b.otherConfig['datapath-id'], '00000000cafe0001');
    // What ovs-vsctl sees, and what vswitchd did with it.
    assert.equal(await get('Bridge', 'brU', 'fail_mode'), 'secure');
    assert.equal((await ovs.vsctl('get-controller', 'brU')).trim(), `tcp:127.0.0.1:${port}`);
    assert.equal(await vs.bridgeDatapathId('brU'), 0xcafe0001n);
    await vs.cache.until(() => vs.bridge('brU')?.datapathId === 0xcafe0001n, 5000, 'datapath_id applied');
    assert.equal(await get('Bridge', 'brU', 'datapath_id'), '"00000000cafe0001"');
    await dialled;

    const n = transacts;
    const again = await vs.takeOverBridge({
      name: 'brU',
      controllers: [`tcp:127.0.0.1:${port}`],
      protocols: ['OpenFlow13'],
      disableInBand: true,
      controllerMaxBackoff: 1000,
      inactivityProbe: 5000,
      datapathId: 0xcafe0001n,
    });
    assert.equal(transacts, n, 'second take-over writes nothing');
    assert.equal(again.uuid, b.uuid);

    // A changed setting updates the Controller row in place.
    const ctrlBefore = (
      await ovs.vsctl('--columns=_uuid', 'find', 'Controller', `target="tcp:127.0.0.1:${port}"`)
    ).trim();
    await vs.takeOverBridge({ name: 'brU', controllers: [`tcp:127.0.0.1:${port}`], inactivityProbe: 7000 });
    assert.equal(await get('Controller', ctrlBefore.split(':')[1]!.trim(), 'inactivity_probe'), '7000');
    assert.equal(transacts, n + 1);

    // No controllers: an agent that dials the bridge's management socket removes a listener-era controller.
    const none = await vs.takeOverBridge({ name: 'brU', controllers: [] });
    assert.deepEqual(none.controllers, []);
    assert.equal(none.failMode, 'secure');
    assert.equal((await ovs.vsctl('get-controller', 'brU')).trim(), '');
  } finally {
    of.close();
  }
});

test('takeOverBridge creates a missing bridge with the given datapath type; bridgeDatapathId waits for vswitchd', async () => {
  const b = await vs.takeOverBridge({ name: 'brNew', controllers: ['tcp:127.0.0.1:6633'], datapathType: 'dummy' });
  assert.equal(b.datapathType, 'dummy');
  assert.equal(b.failMode, 'secure');
  assert.deepEqual(b.protocols, ['OpenFlow13']);
  const dpid = await vs.bridgeDatapathId('brNew');
  assert.equal(typeof dpid, 'bigint');
  assert.equal(dpid, BigInt(`0x${JSON.parse(await get('Bridge', 'brNew', 'datapath_id'))}`));
});

test('ensureTunnelPort: flow-based gre and vxlan ports, idempotent, repaired when tampered with', async () => {
  await vs.createBridge({ name: 'brT', datapathType: 'dummy' });
  const gre = await vs.ensureTunnelPort({ bridge: 'brT', name: 'tun-gre', type: 'gre', localIp: '192.0.2.1' });
  assert.equal(gre.type, 'gre');
  assert.deepEqual(gre.options, { key: 'flow', local_ip: '192.0.2.1', remote_ip: 'flow' });
  const vx = await vs.ensureTunnelPort({ bridge: 'brT', name: 'tun-vxlan', type: 'vxlan' });
  assert.deepEqual(vx.options, { key: 'flow', remote_ip: 'flow' });
  assert.equal(await get('Interface', 'tun-gre', 'type'), 'gre');
  assert.equal(await get('Interface', 'tun-vxlan', 'options'), '{key=flow, remote_ip=flow}');
  assert.ok((await vs.waitForOfport('brT', 'tun-gre')) > 0);
  assert.ok((await vs.waitForOfport('brT', 'tun-vxlan')) > 0);

  const n = transacts;
  await vs.ensureTunnelPort({ bridge: 'brT', name: 'tun-gre', type: 'gre', localIp: '192.0.2.1' });
  assert.equal(transacts, n, 'no write when the port is right');

  await ovs.vsctl('set', 'Interface', 'tun-gre', 'options:key=5', 'options:remote_ip=192.0.2.99');
  await vs.cache.until(
    () => vs.interfaces('brT').find((i) => i.name === 'tun-gre')?.options.key === '5',
    5000,
    'tamper seen',
  );
  const fixed = await vs.ensureTunnelPort({ bridge: 'brT', name: 'tun-gre', type: 'gre', localIp: '192.0.2.1' });
  assert.equal(fixed.uuid, gre.uuid, 'same Interface row, updated in place');
  assert.equal(await get('Interface', 'tun-gre', 'options'), '{key=flow, local_ip="192.0.2.1", remote_ip=flow}');
});

test('addPort/deletePort/interfaces: fields read back, idempotent, and events for every change', async () => {
  await vs.createBridge({ name: 'brP', datapathType: 'dummy' });
  const events: InterfaceEvent[] = [];
  const onIface = (e: InterfaceEvent) => e.bridge === 'brP' && events.push(e);
  vs.on('interface', onIface);
  try {
    const p = await vs.addPort({
      bridge: 'brP',
      name: 'vm1',
      type: 'internal',
      externalIds: { 'iface-id': 'if-vm1', 'attached-mac': '52:54:00:12:34:56' },
    });
    assert.equal(p.ifaceId, 'if-vm1');
    const ofport = await vs.waitForOfport('brP', 'vm1');
    assert.ok(ofport > 0);
    const n = transacts;
    await vs.addPort({ bridge: 'brP', name: 'vm1', type: 'internal', externalIds: { 'iface-id': 'if-vm1' } });
    assert.equal(transacts, n, 'no write when the port is right');

    // A port libvirt/OVN-style, added by someone else.
    await ovs.vsctl(
      'add-port',
      'brP',
      'vm2',
      '--',
      'set',
      'Interface',
      'vm2',
      'type=internal',
      'external_ids:iface-id=if-vm2',
      'external_ids:attached-mac=52:54:00:00:00:02',
    );
    await vs.waitForOfport('brP', 'vm2');
    await vs.cache.until(() => vs.interfaces('brP').every((i) => i.macInUse), 5000, 'mac_in_use filled');
    const list = vs.interfaces('brP').sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      list.map((i) => i.name),
      ['brP', 'vm1', 'vm2'],
    );
    const vm2 = list[2]!;
    assert.equal(vm2.ifaceId, 'if-vm2');
    assert.equal(vm2.attachedMac, '52:54:00:00:00:02');
    assert.equal(vm2.type, 'internal');
    assert.equal(vm2.ofport, Number(await get('Interface', 'vm2', 'ofport')));
    assert.equal(vm2.macInUse, JSON.parse(await get('Interface', 'vm2', 'mac_in_use')));
    assert.equal(list[0]!.ofport, 65534);
    assert.deepEqual(vs.interface('brP', 'vm2'), vm2);
    assert.equal(vs.interface('brT', 'vm2'), undefined, 'on another bridge');

    await ovs.vsctl('set', 'Interface', 'vm2', 'ofport_request=77');
    await vs.cache.until(
      () => events.some((e) => e.kind === 'changed' && e.iface.name === 'vm2' && e.iface.ofport === 77),
      5000,
      'ofport change event',
    );

    await vs.deletePort({ bridge: 'brP', name: 'vm1' });
    await ovs.vsctl('del-port', 'brP', 'vm2');
    await vs.cache.until(
      () => events.some((e) => e.kind === 'removed' && e.iface.name === 'vm2'),
      5000,
      'vm2 removed event',
    );
    const m = transacts;
    await vs.deletePort({ bridge: 'brP', name: 'vm1' });
    assert.equal(transacts, m, 'deleting an absent port writes nothing');

    const kinds = (name: string) => events.filter((e) => e.iface.name === name).map((e) => e.kind);
    assert.equal(kinds('vm1')[0], 'added');
    assert.ok(kinds('vm1').includes('changed'), 'ofport assignment is a change');
    assert.equal(kinds('vm1').at(-1), 'removed');
    assert.equal(kinds('vm2')[0], 'added');
    assert.equal(kinds('vm2').at(-1), 'removed');
    assert.deepEqual(
      vs.interfaces('brP').map((i) => i.name),
      ['brP'],
    );
  } finally {
    vs.off('interface', onIface);
  }
});

test('waitForBridge resolves when the bridge appears; bridge events; timeouts are typed', async () => {
  const events: BridgeEvent[] = [];
  vs.on('bridge', (e) => events.push(e));
  const waiting = vs.waitForBridge('brLate', 5000);
  await ovs.vsctl('add-br', 'brLate', '--', 'set', 'Bridge', 'brLate', 'datapath_type=dummy');
  const b = await waiting;
  assert.equal(b.name, 'brLate');
  await ovs.vsctl('del-br', 'brLate');
  await vs.cache.until(() => events.some((e) => e.kind === 'removed' && e.bridge.name === 'brLate'), 5000, 'removed');
  assert.ok(events.some((e) => e.kind === 'added' && e.bridge.name === 'brLate'));
  await assert.rejects(vs.waitForBridge('brNever', 100), OvsdbTimeoutError);
  await assert.rejects(vs.bridgeDatapathId('brNever', 100), OvsdbTimeoutError);
});

test('after an ovsdb-server restart, ports removed or added meanwhile come out as events', async () => {
  await vs.createBridge({ name: 'brR', datapathType: 'dummy' });
  await vs.addPort({ bridge: 'brR', name: 'keep', type: 'internal' });
  const drop = await vs.addPort({ bridge: 'brR', name: 'drop', type: 'internal' });
  const bridgeUuid = vs.bridge('brR')!.uuid;
  const dropPort = vs.cache.find('Port', (p) => p.name === 'drop')!._uuid;
  const events: InterfaceEvent[] = [];
  const onIface = (e: InterfaceEvent) => e.bridge === 'brR' && events.push(e);
  vs.on('interface', onIface);
  try {
    const resynced = new Promise<void>((r) => vs.once('synced', () => r()));
    await restartOvsdbServer(ovs, () =>
      offlineTransact(
        ovs,
        {
          op: 'mutate',
          table: 'Bridge',
          where: [['_uuid', '==', ['uuid', bridgeUuid]]],
          mutations: [['ports', 'delete', ['uuid', dropPort]]],
        },
        { op: 'insert', table: 'Interface', row: { name: 'fresh', type: 'internal' }, 'uuid-name': 'i' },
        { op: 'insert', table: 'Port', row: { name: 'fresh', interfaces: ['named-uuid', 'i'] }, 'uuid-name': 'p' },
        {
          op: 'mutate',
          table: 'Bridge',
          where: [['_uuid', '==', ['uuid', bridgeUuid]]],
          mutations: [['ports', 'insert', ['named-uuid', 'p']]],
        },
      ),
    );
    await resynced;
    assert.ok(
      events.some((e) => e.kind === 'removed' && e.iface.uuid === drop.uuid),
      JSON.stringify(events),
    );
    assert.ok(events.some((e) => e.kind === 'added' && e.iface.name === 'fresh'));
    assert.ok(
      !events.some((e) => e.iface.name === 'keep' && e.kind !== 'changed'),
      'untouched ports are not re-announced',
    );
    assert.deepEqual(
      vs
        .interfaces('brR')
        .map((i) => i.name)
        .sort(),
      ['brR', 'fresh', 'keep'],
    );
    // Intents work on the new connection.
    await vs.deletePort({ bridge: 'brR', name: 'fresh' });
    assert.equal(vs.interface('brR', 'fresh'), undefined);
  } finally {
    vs.off('interface', onIface);
  }
});

test('deletePort({applied}) returns once ovs-vswitchd has acted on it; the port comes back with its ofport', async () => {
  await vs.createBridge({ name: 'brA', datapathType: 'dummy' });
  await vs.addPort({ bridge: 'brA', name: 'meta', type: 'internal' });
  const ofport = await vs.waitForOfport('brA', 'meta');
  const cfg = (col: string) => ovs.vsctl('--no-wait', 'get', 'Open_vSwitch', '.', col).then((s) => Number(s.trim()));
  const asked = await cfg('next_cfg');
  await vs.deletePort({ bridge: 'brA', name: 'meta', applied: true });
  // The removal asked ovs-vswitchd for a new configuration and it has applied it (cur_cfg caught up).
  assert.equal(await cfg('next_cfg'), asked + 1);
  assert.equal(await cfg('cur_cfg'), asked + 1);
  await vs.addPort({ bridge: 'brA', name: 'meta', type: 'internal', ofportRequest: ofport });
  assert.equal(await vs.waitForOfport('brA', 'meta'), ofport);
  await vs.deleteBridge('brA');
});

test('bad input is refused with typed errors naming the field, before anything is written', async () => {
  const n = transacts;
  const field = (f: string) => (e: unknown) => e instanceof OvsdbInputError && e.field === f;
  await assert.rejects(vs.takeOverBridge({ name: 'br0', controllers: 'tcp:1.2.3.4:1' as never }), field('controllers'));
  await assert.rejects(vs.takeOverBridge({ name: 'br0', controllers: ['127.0.0.1:6633'] }), field('controllers[0]'));
  await assert.rejects(vs.takeOverBridge({ name: 'br 0', controllers: ['tcp:127.0.0.1:6633'] }), field('name'));
  await assert.rejects(
    vs.takeOverBridge({ name: 'br0', controllers: ['tcp:1.2.3.4:1'], datapathId: 'zz' }),
    field('datapathId'),
  );
  await assert.rejects(
    vs.takeOverBridge({ name: 'br0', controllers: ['tcp:1.2.3.4:1'], protocols: ['OpenFlow99' as 'OpenFlow13'] }),
    field('protocols[0]'),
  );
  await assert.rejects(
    vs.takeOverBridge({ name: 'br0', controllers: ['tcp:1.2.3.4:1'], controllerMaxBackoff: 10 }),
    field('controllerMaxBackoff'),
  );
  await assert.rejects(
    vs.ensureTunnelPort({ bridge: 'brT', name: 't', type: 'gre', localIp: '300.1.1.1' }),
    field('localIp'),
  );
  await assert.rejects(vs.ensureTunnelPort({ bridge: 'brT', name: 't', type: 'geneve' as 'gre' }), field('type'));
  await assert.rejects(vs.addPort({ bridge: 'brT', name: 'a b' }), field('name'));
  await assert.rejects(vs.addPort({ bridge: 'brT', name: 'p', ofportRequest: 70000 }), field('ofportRequest'));
  await assert.rejects(
    vs.addPort({ bridge: 'noSuchBr', name: 'p' }),
    (e: unknown) => e instanceof OvsdbNotFoundError && e.kind === 'bridge',
  );
  assert.throws(() => vs.interfaces('noSuchBr'), OvsdbNotFoundError); // a synchronous read
  // A port that lives on another bridge is not silently moved.
  await assert.rejects(vs.addPort({ bridge: 'brP', name: 'tun-gre' }), field('name'));
  assert.equal(transacts, n);
});

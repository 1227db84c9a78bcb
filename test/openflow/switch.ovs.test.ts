// Live tests against a real ovs-vswitchd (dummy datapath): handshake, corpus install/read-back, bundles, deletes,
// packet-in/out, port status, decoded errors, groups, meters, async config, mgmt-socket client.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type OvsInstance, startOvs } from '../../src/lab/ovs-instance.js';
import {
  connectSwitch,
  FlowModsError,
  type FlowRemovedEvent,
  formatFlow,
  normalizeFlow,
  OFPFF,
  OFPMF,
  OFPPC,
  OpenFlowError,
  OpenFlowServer,
  type PacketIn,
  type PortStatusEvent,
  SwitchClient,
  type SwitchConnection,
} from '../../src/openflow/index.js';
import { type FlowMod, OFPP } from '../../src/openflow/types.js';
import { CORPUS, match } from './corpus.js';

const dir = `/tmp/vnet-oft-${process.pid}`;
let ovs: OvsInstance;
let server: OpenFlowServer;
let sw: SwitchConnection;

/** A broadcast ARP request from 52:54:00:00:00:01 (10.0.0.1 asks for 10.0.0.2). */
const ARP = Buffer.from(
  'ffffffffffff52540000000108060001080006040001525400000001' + '0a000001' + '000000000000' + '0a000002',
  'hex',
);

async function diagnose(what: string): Promise<string> {
  const parts = [`--- ${what}`];
  try {
    parts.push(await ovs.ofctl('dump-flows', 'br0'));
  } catch (e) {
    parts.push(String(e));
  }
  try {
    parts.push(readFileSync(ovs.logs().vswitchd, 'utf8').split('\n').slice(-30).join('\n'));
  } catch {}
  return parts.join('\n');
}

function nextEvent<T>(
  conn: SwitchConnection,
  ev: 'packetIn' | 'portStatus',
  pred: (x: T) => boolean,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      conn.off(ev, on as never);
      reject(new Error(`no ${ev} within ${ms} ms`));
    }, ms);
    const on = (x: T) => {
      if (!pred(x)) return;
      clearTimeout(t);
      conn.off(ev, on as never);
      resolve(x);
    };
    conn.on(ev, on as never);
  });
}

before(async () => {
  ovs = await startOvs({ dir, dummy: true });
  await ovs.vsctl(
    'add-br',
    'br0',
    '--',
    'set',
    'bridge',
    'br0',
    'datapath_type=dummy',
    'protocols=OpenFlow13',
    'fail_mode=secure',
    'other-config:datapath-id=00000000000000a1',
    '--',
    'add-port',
    'br0',
    'p1',
    '--',
    'set',
    'interface',
    'p1',
    'ofport_request=1',
    '--',
    'add-port',
    'br0',
    'p2',
    '--',
    'set',
    'interface',
    'p2',
    'ofport_request=2',
    `options:tx_pcap=${dir}/p2.pcap`,
  );
  server = new OpenFlowServer({ port: 0, echoIntervalMs: 500, idleTimeoutMs: 5000 });
  const { port } = await server.listen();
  const conn = server.waitFor(0xa1n, 15000);
  await ovs.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${port}`);
  sw = await conn;
});

after(async () => {
  await server?.close();
  await ovs?.stop();
});

describe('switch connection against ovs-vswitchd', () => {
  test('handshake gives the dpid; desc and port desc', async () => {
    assert.equal(sw.dpid, 0xa1n);
    assert.equal((await ovs.vsctl('get', 'bridge', 'br0', 'datapath_id')).trim(), '"00000000000000a1"');
    const desc = await sw.desc();
    assert.match(desc.mfrDesc, /Nicira/);
    const ports = await sw.portDesc();
    const names = ports.map((p) => `${p.name}:${p.portNo}`).sort();
    assert.deepEqual(names, ['br0:4294967294', 'p1:1', 'p2:2']);
  });

  const live = CORPUS.filter((e) => !e.ovsUnsupported && !e.notLive);
  test(`install ${live.length} corpus flows in one batch and read them back identically`, async () => {
    await sw.sendFlowMods(live.map((e): FlowMod => ({ command: 'add', flow: e.flow })));
    const got = await sw.dumpFlows();
    const byCookie = new Map(got.map((s) => [s.flow.cookie, s]));
    const problems: string[] = [];
    for (const e of live) {
      const s = byCookie.get(e.flow.cookie);
      if (!s) {
        problems.push(`missing: ${e.name}`);
        continue;
      }
      try {
        assert.deepEqual(s.flow, normalizeFlow(e.flow));
      } catch {
        problems.push(`${e.name}:\n  sent ${formatFlow(normalizeFlow(e.flow))}\n  got  ${formatFlow(s.flow)}`);
      }
      assert.equal(s.unknownMatch, undefined);
    }
    assert.deepEqual(problems, [], problems.join('\n') + (await diagnose('corpus')));
    const ofctlCount = (await ovs.ofctl('dump-flows', 'br0')).split('\n').filter((l) => l.includes('cookie=')).length;
    assert.equal(ofctlCount, live.length);
    const agg = await sw.aggregateStats();
    assert.equal(agg.flowCount, live.length);
  });

  test('delete by cookie mask removes exactly the flows under the mask', async () => {
    // Corpus cookies are 0x1000 + n: delete those with bit 0 set (odd n).
    const before = await sw.dumpFlows();
    const odd = before.filter((s) => (s.flow.cookie & 1n) === 1n).length;
    await sw.sendFlowMods([
      {
        command: 'delete',
        flow: { table: 0xff, priority: 0, cookie: 1n, match: {}, instructions: [] },
        cookieMask: 1n,
      },
    ]);
    const afterDel = await sw.dumpFlows();
    assert.equal(afterDel.length, before.length - odd);
    assert.ok(afterDel.every((s) => (s.flow.cookie & 1n) === 0n));
    const only = await sw.dumpFlows({ cookie: 0x1000n, cookieMask: 0xfffffffffffff000n, table: 13 });
    assert.ok(only.every((s) => s.flow.table === 13));
    await sw.sendFlowMods([
      { command: 'delete', flow: { table: 0xff, priority: 0, cookie: 0n, match: {}, instructions: [] } },
    ]);
    assert.equal((await sw.dumpFlows()).length, 0);
  });

  test('a rejected flow mod rejects with the decoded error; the rest of the batch applies', async () => {
    const good: FlowMod = {
      command: 'add',
      flow: {
        table: 0,
        priority: 5,
        cookie: 0x77n,
        match: match({ in_port: 2 }),
        instructions: [{ type: 'goto_table', table: 1 }],
      },
    };
    const bad: FlowMod = {
      command: 'add',
      flow: { table: 3, priority: 5, cookie: 0x78n, match: {}, instructions: [{ type: 'goto_table', table: 2 }] },
    };
    const err = await sw.sendFlowMods([good, bad]).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof FlowModsError, String(err));
    assert.ok(err instanceof OpenFlowError);
    assert.equal(err.typeName, 'OFPET_BAD_INSTRUCTION');
    assert.equal(err.codeName, 'OFPBIC_BAD_TABLE_ID');
    assert.deepEqual(
      err.failures.map((f) => f.index),
      [1],
    );
    assert.equal((await sw.dumpFlows({ cookie: 0x77n, cookieMask: ~0n })).length, 1);
    const e2 = await sw
      .request({
        type: 'flow_mod',
        command: 'add',
        flow: {
          table: 0,
          priority: 1,
          cookie: 0n,
          match: {},
          instructions: [{ type: 'apply_actions', actions: [{ type: 'group', groupId: 999 }] }],
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(e2 instanceof OpenFlowError && e2.codeName === 'OFPBAC_BAD_OUT_GROUP', String(e2));
  });

  test('bundle: all-or-nothing', async () => {
    const mk = (cookie: bigint, port: number): FlowMod => ({
      command: 'add',
      flow: {
        table: 5,
        priority: 9,
        cookie,
        match: match({ in_port: port }),
        instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2 }] }],
      },
    });
    await sw.sendFlowMods([mk(0x501n, 1), mk(0x502n, 3)], { bundle: true });
    assert.equal((await sw.dumpFlows({ table: 5 })).length, 2);
    const bad: FlowMod = {
      command: 'add',
      flow: { table: 5, priority: 9, cookie: 0x503n, match: {}, instructions: [{ type: 'goto_table', table: 4 }] },
    };
    const err = await sw.sendFlowMods([mk(0x504n, 4), bad, mk(0x505n, 5)], { bundle: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof FlowModsError, String(err));
    assert.equal(err.failures[0]?.index, 1);
    assert.equal(err.codeName, 'OFPBIC_BAD_TABLE_ID');
    const t5 = await sw.dumpFlows({ table: 5 });
    assert.deepEqual(t5.map((s) => s.flow.cookie).sort(), [0x501n, 0x502n], 'nothing of the failed bundle applied');
    await sw.sendFlowMods(
      [{ command: 'delete', flow: { table: 5, priority: 0, cookie: 0n, match: {}, instructions: [] } }],
      { bundle: true },
    );
    assert.equal((await sw.dumpFlows({ table: 5 })).length, 0);
  });

  test('packet-in for an injected packet: reason, table, cookie, match, data', async () => {
    await sw.sendFlowMods([
      {
        command: 'add',
        flow: {
          table: 0,
          priority: 50,
          cookie: 0xabcn,
          match: match({ in_port: 1 }),
          instructions: [
            {
              type: 'apply_actions',
              actions: [
                { type: 'set_field', field: 'reg3', value: 0x33 },
                { type: 'resubmit', table: 7 },
              ],
            },
          ],
        },
      },
      {
        command: 'add',
        flow: {
          table: 7,
          priority: 50,
          cookie: 0xabdn,
          match: match({ eth_type: 0x0806 }),
          instructions: [
            { type: 'write_metadata', value: 0x99n, mask: 0xffn },
            { type: 'goto_table', table: 8 },
          ],
        },
      },
      {
        command: 'add',
        flow: {
          table: 8,
          priority: 50,
          cookie: 0xaben,
          match: {},
          instructions: [{ type: 'apply_actions', actions: [{ type: 'controller', reason: 1 }] }],
        },
      },
    ]);
    const got = nextEvent<PacketIn>(sw, 'packetIn', (p) => p.cookie === 0xaben);
    await ovs.appctl('netdev-dummy/receive', 'p1', ARP.toString('hex'));
    const pi = await got;
    assert.equal(pi.tableId, 8);
    assert.equal(pi.reason, 1);
    assert.deepEqual(Buffer.from(pi.data), ARP);
    assert.equal(pi.totalLen, ARP.length);
    assert.deepEqual(pi.match.in_port, { value: 1 });
    assert.deepEqual(pi.match.reg3, { value: 0x33 });
    assert.deepEqual(pi.match.metadata, { value: 0x99n });
  });

  test('packet-out leaves through the port', async () => {
    const before = (await sw.portStats(2))[0]?.txPackets ?? 0n;
    const frame = Buffer.from(ARP);
    frame[41] = 0x63; // tpa 10.0.0.99: recognisable in the capture
    await sw.packetOut({ actions: [{ type: 'output', port: 2 }], data: frame });
    const afterStats = (await sw.portStats(2))[0]?.txPackets ?? 0n;
    assert.equal(afterStats, before + 1n);
    const pcap = readFileSync(`${dir}/p2.pcap`);
    assert.ok(pcap.includes(frame), 'the frame is in p2 tx capture');
  });

  test('port-status when a port is added and deleted', async () => {
    const added = nextEvent<PortStatusEvent>(sw, 'portStatus', (e) => e.port.name === 'p3' && e.reason === 'add');
    await ovs.vsctl('add-port', 'br0', 'p3', '--', 'set', 'interface', 'p3', 'ofport_request=3');
    const ev = await added;
    assert.equal(ev.port.portNo, 3);
    const deleted = nextEvent<PortStatusEvent>(sw, 'portStatus', (e) => e.port.name === 'p3' && e.reason === 'delete');
    await ovs.vsctl('del-port', 'br0', 'p3');
    await deleted;
  });

  test('groups: add select group, read group desc, use it, delete', async () => {
    await sw.groupMod({
      command: 'add',
      groupType: 'select',
      groupId: 10,
      buckets: [
        { weight: 1, actions: [{ type: 'output', port: 1 }] },
        { weight: 2, actions: [{ type: 'output', port: 2 }] },
      ],
    });
    await sw.groupMod({
      command: 'add',
      groupType: 'all',
      groupId: 11,
      buckets: [{ actions: [{ type: 'output', port: 1 }] }, { actions: [{ type: 'output', port: 2 }] }],
    });
    const groups = (await sw.groupDesc()).sort((a, b) => a.groupId - b.groupId);
    assert.deepEqual(
      groups.map((g) => [g.groupId, g.groupType, g.buckets.length]),
      [
        [10, 'select', 2],
        [11, 'all', 2],
      ],
    );
    assert.deepEqual(groups[0]?.buckets[1], { weight: 2, actions: [{ type: 'output', port: 2 }] });
    await sw.sendFlowMods([
      {
        command: 'add',
        flow: {
          table: 9,
          priority: 1,
          cookie: 0x900n,
          match: {},
          instructions: [{ type: 'apply_actions', actions: [{ type: 'group', groupId: 10 }] }],
        },
      },
    ]);
    await sw.groupMod({ command: 'delete', groupType: 'all', groupId: 0xfffffffc, buckets: [] });
    assert.equal((await sw.groupDesc()).length, 0);
    const err = await sw.groupMod({ command: 'modify', groupType: 'all', groupId: 12, buckets: [] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenFlowError && err.codeName === 'OFPGMFC_UNKNOWN_GROUP', String(err));
  });

  test('meter (packet-in rate limit) and a flow using it', async () => {
    await sw.meterMod({
      command: 'add',
      flags: OFPMF.PKTPS | OFPMF.BURST,
      meterId: 1,
      bands: [{ type: 'drop', rate: 100, burstSize: 10 }],
    });
    await sw.sendFlowMods([
      {
        command: 'add',
        flow: {
          table: 10,
          priority: 1,
          cookie: 0xa00n,
          match: {},
          instructions: [
            { type: 'meter', meterId: 1 },
            { type: 'apply_actions', actions: [{ type: 'output', port: OFPP.CONTROLLER }] },
          ],
        },
      },
    ]);
    const f = await sw.dumpFlows({ table: 10 });
    assert.deepEqual(f[0]?.flow.instructions[0], { type: 'meter', meterId: 1 });
    assert.match(
      await ovs.ofctl('dump-meters', 'br0'),
      /meter=1 pktps burst bands=\s*type=drop rate=100 burst_size=10/,
    );
  });

  test('async config, role, table stats, get_config', async () => {
    await sw.setAsync({ packetInMask: [0b011, 0], portStatusMask: [0b111, 0b111], flowRemovedMask: [0b1111, 0] });
    assert.deepEqual(await sw.getAsync(), {
      packetInMask: [0b011, 0],
      portStatusMask: [0b111, 0b111],
      flowRemovedMask: [0b1111, 0],
    });
    const r = await sw.role(1);
    assert.equal(r.role, 1);
    const tables = await sw.tableStats();
    assert.equal(tables.length, 254);
    const cfg = await sw.request({ type: 'get_config_request' });
    assert.ok(cfg.type === 'get_config_reply' && cfg.missSendLen === 0xffff);
  });

  test('connectSwitch over the bridge mgmt socket; NXT_PACKET_IN2 carries controller userdata', async () => {
    const c = await connectSwitch(`unix:${dir}/br0.mgmt`, { packetIn2: true });
    try {
      assert.equal(c.dpid, 0xa1n);
      await c.sendFlowMods([
        {
          command: 'add',
          flow: {
            table: 0,
            priority: 60,
            cookie: 0xb0n,
            match: match({ in_port: 2 }),
            instructions: [
              { type: 'apply_actions', actions: [{ type: 'controller', userdata: new Uint8Array([0xca, 0xfe]) }] },
            ],
          },
        },
      ]);
      const got = nextEvent<PacketIn>(c, 'packetIn', (p) => p.cookie === 0xb0n);
      await ovs.appctl('netdev-dummy/receive', 'p2', ARP.toString('hex'));
      const pi = await got;
      assert.deepEqual(pi.userdata, new Uint8Array([0xca, 0xfe]));
      assert.deepEqual(Buffer.from(pi.data), ARP);
      assert.deepEqual(pi.match.in_port, { value: 2 });
      assert.equal(pi.tableId, 0);
    } finally {
      c.close();
    }
  });

  test('SwitchClient connects once the bridge exists and reconnects after the session drops', async () => {
    const client = new SwitchClient(`unix:${dir}/br9.mgmt`, { minBackoffMs: 50, maxBackoffMs: 200 });
    client.start();
    try {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(client.current, undefined, 'no bridge yet');
      await ovs.vsctl(
        'add-br',
        'br9',
        '--',
        'set',
        'bridge',
        'br9',
        'datapath_type=dummy',
        'protocols=OpenFlow13',
        'other-config:datapath-id=00000000000000b9',
      );
      const first = await client.waitConnected(5000);
      assert.equal(first.dpid, 0xb9n);
      const again = new Promise<SwitchConnection>((r) => client.once('connected', r));
      first.close('test drops the session');
      const second = await again;
      assert.notEqual(second, first);
      assert.equal(second.dpid, 0xb9n);
      assert.equal((await second.portDesc()).length, 1);
    } finally {
      client.stop();
      await ovs.vsctl('del-br', 'br9');
    }
  });

  test('flows installed by others with actions we do not model survive dumpFlows', async () => {
    await ovs.ofctl(
      'add-flow',
      'br0',
      'table=20,cookie=0xdead,priority=3,tcp,actions=fin_timeout(idle_timeout=5),output(port=1,max_len=64)',
    );
    const [s] = await sw.dumpFlows({ table: 20 });
    assert.ok(s);
    const acts = s.flow.instructions.flatMap((i) => ('actions' in i ? i.actions : []));
    assert.deepEqual(
      acts.map((a) => a.type),
      ['opaque', 'opaque'],
    );
    // Sending the decoded flow back is accepted as the same flow (modify_strict finds it).
    await sw.sendFlowMods([{ command: 'modify_strict', flow: s.flow }]);
    await sw.sendFlowMods([
      {
        command: 'delete',
        flow: { table: 20, priority: 0, cookie: 0xdeadn, match: {}, instructions: [] },
        cookieMask: ~0n & 0xffffffffffffffffn,
      },
    ]);
    assert.equal((await sw.dumpFlows({ table: 20 })).length, 0);
  });

  test('flow removed on hard timeout; port mod shows up as port status', async () => {
    const removed = new Promise<FlowRemovedEvent>((resolve) => sw.once('flowRemoved', resolve));
    await sw.sendFlowMods([
      {
        command: 'add',
        flow: {
          table: 21,
          priority: 7,
          cookie: 0x2100n,
          match: match({ in_port: 1 }),
          instructions: [],
          hardTimeout: 1,
          flags: OFPFF.SEND_FLOW_REM,
        },
      },
    ]);
    const ev = await Promise.race([
      removed,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no flow removed in 6 s')), 6000)),
    ]);
    assert.equal(ev.cookie, 0x2100n);
    assert.equal(ev.reason, 1); // OFPRR_HARD_TIMEOUT
    assert.equal(ev.tableId, 21);
    assert.deepEqual(ev.match, match({ in_port: 1 }));
    const p1 = (await sw.portDesc()).find((p) => p.name === 'p1');
    assert.ok(p1);
    const down = nextEvent<PortStatusEvent>(
      sw,
      'portStatus',
      (e) => e.port.name === 'p1' && (e.port.config & OFPPC.PORT_DOWN) !== 0,
    );
    await sw.portMod({ portNo: 1, hwAddr: p1.hwAddr, config: OFPPC.PORT_DOWN, mask: OFPPC.PORT_DOWN });
    assert.equal((await down).reason, 'modify');
    await sw.portMod({ portNo: 1, hwAddr: p1.hwAddr, config: 0, mask: OFPPC.PORT_DOWN });
  });

  test('keepalive: idle connection stays up through echo exchanges', async () => {
    const c = await connectSwitch(`unix:${dir}/br0.mgmt`, { echoIntervalMs: 100, idleTimeoutMs: 600 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(c.closed, false, c.closeReason);
    c.close();
    assert.equal(sw.closed, false);
  });
});

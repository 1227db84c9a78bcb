// unixctlCall / ofprotoTrace / findVswitchdControlSocket against a real private ovs-vswitchd (userspace datapath,
// in a netns of its own so that its tap devices and the routes of its native tunnels stay private): the same text
// as `ovs-appctl ofproto/trace`, steps that name the flows `ovs-ofctl dump-flows` shows, a native GRE tunnel's
// tnl_push, a ct() recirculation, a table miss. The setup is the one the fixtures of trace.test.ts were recorded
// from. (The dummy datapath would not do: `--enable-dummy=override` makes GRE/VXLAN ports dummies, not tunnels.)
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execIn } from '../../src/lab/exec.js';
import { addNetns } from '../../src/lab/netns.js';
import { type OvsInstance, startOvs, stopOvs } from '../../src/lab/ovs-instance.js';
import { findVswitchdControlSocket, ofprotoTrace, UnixctlError, unixctlCall } from '../../src/unixctl/index.js';
import { waitFor } from '../lib/wait-for.js';

const DIR = `/tmp/vnet-unixctl-${process.pid}`;
const NETNS = `vnut${process.pid}`;
let ovs: OvsInstance | undefined;
let netnsMade = false;
let ctl: string;

const FLOWS = [
  'table=0,cookie=0x0104000000001234,priority=100,in_port=1,actions=goto_table:10',
  'table=10,cookie=0x0210000000000001,priority=200,ip,ct_state=-trk,actions=ct(table=20,zone=5)',
  'table=10,cookie=0x0210000000000002,priority=100,arp,actions=resubmit(,30)',
  'table=20,cookie=0x0320000000000001,priority=100,ct_state=+trk+new,ip,actions=ct(commit,zone=5),goto_table:30',
  'table=20,cookie=0x0320000000000002,priority=100,ct_state=+trk+est,ip,actions=goto_table:30',
  'table=30,cookie=0x0430000000000001,priority=100,dl_dst=52:54:00:00:00:02,actions=output:2',
  'table=30,cookie=0x0430000000000002,priority=100,dl_dst=52:54:00:00:00:99,actions=set_field:192.168.100.2->tun_dst,set_field:0x1234->tun_id,output:100',
  'table=30,cookie=0x0430000000000004,priority=90,arp,actions=resubmit(,40),output:2',
];
const ICMP = 'in_port=1,dl_src=52:54:00:00:00:01,ip,nw_src=10.0.0.1,nw_dst=10.0.0.9,nw_proto=1';
const TCP =
  'in_port=1,dl_src=52:54:00:00:00:01,dl_dst=52:54:00:00:00:02,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_proto=6,tp_src=1234,tp_dst=80';
const ARP =
  'in_port=1,arp,dl_src=52:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1';

/** Datapath port numbers by port name, from `dpif/show` ("    ul0 1/7: (tap)"). */
let odp: Map<string, number>;

before(async () => {
  await addNetns(NETNS);
  netnsMade = true;
  ovs = await startOvs({ dir: DIR, netns: NETNS });
  const port = (br: string, name: string, ofport: number, ...opts: string[]) => [
    '--',
    'add-port',
    br,
    name,
    '--',
    'set',
    'interface',
    name,
    `ofport_request=${ofport}`,
    ...opts,
  ];
  await ovs.vsctl(
    'add-br',
    'br-phy',
    '--',
    'set',
    'bridge',
    'br-phy',
    'datapath_type=netdev',
    'other_config:hwaddr=02:00:c0:a8:64:01',
    ...port('br-phy', 'ul0', 1, 'type=internal'),
    '--',
    'add-br',
    'br0',
    '--',
    'set',
    'bridge',
    'br0',
    'datapath_type=netdev',
    'fail_mode=secure',
    ...port('br0', 'vm1', 1, 'type=internal'),
    ...port('br0', 'vm2', 2, 'type=internal'),
    ...port('br0', 't-gre', 100, 'type=gre', 'options:remote_ip=flow', 'options:key=flow'),
  );
  // The underlay address on br-phy's internal port: OVS learns the route from the netns's kernel.
  for (const cmd of [
    ['ip', '-n', NETNS, 'addr', 'add', '192.168.100.1/24', 'dev', 'br-phy'],
    ['ip', '-n', NETNS, 'link', 'set', 'br-phy', 'up'],
  ]) {
    const r = await execIn(undefined, cmd);
    assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stderr}`);
  }
  ctl = join(DIR, 'ovs-vswitchd.ctl');
  await waitFor(
    async () => (await unixctlCall(ctl, 'ovs/route/show', [])).includes('192.168.100.0/24 dev br-phy'),
    'ovs-vswitchd to learn the route to 192.168.100.0/24 from the netns',
  );
  await unixctlCall(ctl, 'tnl/neigh/set', ['br-phy', '192.168.100.2', '02:00:c0:a8:64:02']);
  writeFileSync(join(DIR, 'flows.txt'), `${FLOWS.join('\n')}\n`);
  await ovs.ofctl('add-flows', 'br0', join(DIR, 'flows.txt'));
  odp = new Map();
  for (const line of (await ovs.appctl('dpif/show')).split('\n')) {
    const m = /^\s+(\S+) (\d+)\/(\d+):/.exec(line);
    if (m) odp.set(m[1]!, Number(m[3]));
  }
});

after(async () => {
  // Whatever before() got to: the daemons of DIR, then the netns (its tap devices go with it).
  await (ovs?.stop() ?? stopOvs(DIR));
  if (netnsMade) await execIn(undefined, ['ip', 'netns', 'del', NETNS]);
});

/** recirc ids are allocated per translation: two traces of the same flow differ only in them. */
const sameButRecirc = (s: string) =>
  s.replace(/recirc\(0x[0-9a-f]+\)/g, 'recirc(N)').replace(/recirc_id=0x[0-9a-f]+/g, 'recirc_id=N');

/** `ovs-ofctl dump-flows br0` as (table, priority, cookie) keys. */
async function dumpedFlows(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const line of (await ovs!.ofctl('dump-flows', 'br0')).split('\n')) {
    const cookie = /cookie=(0x[0-9a-f]+)/.exec(line)?.[1];
    const table = /table=(\d+)/.exec(line)?.[1];
    const priority = /priority=(\d+)/.exec(line)?.[1];
    if (cookie && table && priority) out.add(`${table}/${priority}/${BigInt(cookie)}`);
  }
  return out;
}

describe('unixctl against a real ovs-vswitchd', () => {
  test('version and list-commands answer as ovs-appctl does; findVswitchdControlSocket finds the lab socket', async () => {
    assert.equal(await findVswitchdControlSocket(DIR), ctl);
    const version = await unixctlCall(ctl, 'version', []);
    assert.match(version, /^ovs-vswitchd \(Open vSwitch\) \d+\.\d+\.\d+/);
    assert.equal(version, await ovs!.appctl('version'));
    const commands = await unixctlCall(ctl, 'list-commands', []);
    assert.match(commands, /^The available commands are:\n/);
    assert.match(commands, /\n\s+ofproto\/trace\s/);
  });

  test('an unknown command and a bad flow are UnixctlError rpc with OVS message', async () => {
    await assert.rejects(unixctlCall(ctl, 'no/such-command', []), (e: unknown) => {
      assert.ok(e instanceof UnixctlError);
      assert.equal(e.reason, 'rpc');
      assert.match(e.ovsMessage!, /"no\/such-command" is not a valid command/);
      return true;
    });
    await assert.rejects(ofprotoTrace(ctl, 'br0', 'in_port=1,tp_src=1'), /ofproto\/trace: .*prerequisites not met/);
    await assert.rejects(ofprotoTrace(ctl, 'nobridge', 'in_port=1'), /ofproto\/trace: nobridge: unknown bridge/);
  });

  test('a resubmit trace: the same text as ovs-appctl, every hit a flow dump-flows shows', async () => {
    const { text, trace } = await ofprotoTrace(ctl, 'br0', ARP);
    assert.equal(text, await ovs!.appctl('ofproto/trace', 'br0', ARP));
    const flows = await dumpedFlows();
    const hits = trace.steps.filter((s) => !s.noMatch);
    assert.deepEqual(
      hits.map((s) => [s.table, s.cookie]),
      [
        [0, 0x0104000000001234n],
        [10, 0x0210000000000002n],
        [30, 0x0430000000000004n],
      ],
    );
    for (const s of hits) assert.ok(flows.has(`${s.table}/${s.priority}/${s.cookie}`), `${s.table} ${s.text}`);
    assert.deepEqual(
      trace.steps.filter((s) => s.noMatch).map((s) => [s.table, s.depth]),
      [[40, 1]],
    );
    assert.deepEqual(trace.outputs, [odp.get('vm2')]);
  });

  test('a ct() recirculation with --ct-next: the same text as ovs-appctl but for recirc ids', async () => {
    const { text, trace } = await ofprotoTrace(ctl, 'br0', TCP, { ctNext: ['trk,new'] });
    assert.equal(
      sameButRecirc(text),
      sameButRecirc(await ovs!.appctl('ofproto/trace', '--ct-next', 'trk,new', 'br0', TCP)),
    );
    assert.equal(trace.recirculations.length, 1);
    const r = trace.recirculations[0]!;
    assert.deepEqual([r.ctState, r.ctStateDefault, r.resumedAt], ['new|trk', false, 20]);
    assert.deepEqual(trace.passes[0]!.recirculates, [r.recircId]);
    const flows = await dumpedFlows();
    assert.deepEqual(
      trace.steps.map((s) => [s.pass, s.table, s.cookie]),
      [
        [0, 0, 0x0104000000001234n],
        [0, 10, 0x0210000000000001n],
        [1, 20, 0x0320000000000001n],
        [1, 30, 0x0430000000000001n],
      ],
    );
    for (const s of trace.steps) assert.ok(flows.has(`${s.table}/${s.priority}/${s.cookie}`), `${s.table} ${s.text}`);
    assert.deepEqual(trace.outputs, [odp.get('vm2')]);
    assert.equal(trace.dropped, false);
  });

  test('a native GRE tunnel: tnl_push with the underlay addresses and key, out through br-phy to ul0', async () => {
    const flow = `${ICMP},dl_dst=52:54:00:00:00:99`;
    const { text, trace } = await ofprotoTrace(ctl, 'br0', flow, { ctNext: ['trk,est'] });
    assert.equal(
      sameButRecirc(text),
      sameButRecirc(await ovs!.appctl('ofproto/trace', '--ct-next', 'trk,est', 'br0', flow)),
    );
    assert.ok(trace.tunnel, text);
    const { action: _a, ...tunnel } = trace.tunnel;
    assert.deepEqual(tunnel, {
      src: '192.168.100.1',
      dst: '192.168.100.2',
      key: 0x1234,
      type: 'gre',
      via: 'tnl_push',
      tunnelPort: odp.get('t-gre'),
      outPort: odp.get('br-phy'),
    });
    assert.deepEqual(trace.outputs, [odp.get('ul0')]);
    assert.deepEqual(
      trace.steps.map((s) => [s.bridge, s.table]),
      [
        ['br0', 0],
        ['br0', 10],
        ['br0', 20],
        ['br0', 30],
        ['br-phy', 0],
      ],
    );
    assert.ok(trace.steps[3]!.notes.includes('output to native tunnel'), text);
  });

  test('a table miss: No match, dropped', async () => {
    const flow = 'in_port=2,dl_src=52:54:00:00:00:02,dl_dst=52:54:00:00:00:01';
    const { text, trace } = await ofprotoTrace(ctl, 'br0', flow);
    assert.equal(text, await ovs!.appctl('ofproto/trace', 'br0', flow));
    assert.deepEqual(
      trace.steps.map((s) => [s.table, s.noMatch, s.actions]),
      [[0, true, ['drop']]],
    );
    assert.equal(trace.datapathActions, 'drop');
    assert.equal(trace.dropped, true);
  });
});

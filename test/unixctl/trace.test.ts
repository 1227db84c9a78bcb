// parseOfprotoTrace on real `ovs-appctl ofproto/trace` outputs of OVS 3.1.0 (Debian 12), recorded from a private
// ovs-vswitchd (userspace datapath, in a netns) set up as in unixctl.ovs.test.ts: br0 (vm1 ofport 1, vm2 ofport
// 2, flow-based GRE port 100 and VXLAN port 101, patch0 50 to br1), br-phy holding 192.168.100.1/24 on its
// internal port with the neighbour 192.168.100.2 set by tnl/neigh/set and an uplink port ul0, and the flows:
//   table=0   in_port=1 → goto_table:10                          cookie 0x0104000000001234
//   table=10  ct_state=-trk,ip → ct(table=20,zone=5)              cookie 0x0210000000000001
//             ct_state=-trk,tcp,nw_dst=10.0.0.50 → ct(commit,table=20,zone=5,nat(dst=10.0.0.2:80))  …050
//             arp → resubmit(,30)                                 cookie 0x0210000000000002
//   table=20  +trk+new → ct(commit,zone=5),goto_table:30 (…0001); +trk+est → goto_table:30 (…0002)
//   table=30  dl_dst=…:02 → output:2; …:99 → tun_dst 192.168.100.2, tun_id 0x1234, output:100 (GRE);
//             …:98 → tun_id 0x77, output:101 (VXLAN); …:77 → output:50 (patch),resubmit(,40),output:2;
//             arp (priority 90) → resubmit(,40),output:2;  table 40 empty
//   table=0   in_port=2,udp,68→67 → controller                  cookie 0x0500000000000067
//   br1: table=0 in_port=51 → resubmit(,5),output:7; table=5 → mod_dl_dst:52:54:00:00:00:07
// Datapath ports there: vm2 1, vm1 2, t-gre 3, t-vx 4, br-phy 6, ul0 7, p1 8.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type OfprotoTrace,
  parseOfprotoTrace,
  splitDatapathActions,
  type TraceRecirculation,
  type TraceStep,
} from '../../src/unixctl/index.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', `${name}.txt`), 'utf8');

function step(s: Partial<TraceStep> & Pick<TraceStep, 'table' | 'text' | 'line'>): TraceStep {
  return {
    pass: 0,
    bridge: 'br0',
    match: '',
    priority: null,
    cookie: null,
    actions: [],
    notes: [],
    warnings: [],
    depth: 0,
    noMatch: false,
    ...s,
  };
}

const FORKED = 'A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table 20.';
const UNTRACKED = 'Sets the packet to an untracked state, and clears all the conntrack fields.';

const T0 = step({
  table: 0,
  match: 'in_port=1',
  priority: 100,
  cookie: 0x0104000000001234n,
  actions: ['goto_table:10'],
  text: 'in_port=1, priority 100, cookie 0x104000000001234',
  line: 4,
});
const T10_CT = step({
  table: 10,
  match: 'ct_state=-trk,ip',
  priority: 200,
  cookie: 0x0210000000000001n,
  actions: ['ct(table=20,zone=5)', 'drop'],
  notes: [FORKED, UNTRACKED],
  text: 'ct_state=-trk,ip, priority 200, cookie 0x210000000000001',
  line: 6,
});

/** Every step's `line` is the line of the text that holds its table line. */
function checkLines(text: string, trace: OfprotoTrace): void {
  const lines = text.split('\n');
  for (const s of trace.steps) assert.equal(lines[s.line]!.trim(), `${s.table}. ${s.text}`);
}

describe('parseOfprotoTrace on recorded OVS 3.1 traces', () => {
  test('a table miss: "No match." and drop', () => {
    const text = fixture('no-match');
    const t = parseOfprotoTrace(text);
    const flow = 'in_port=2,vlan_tci=0x0000,dl_src=52:54:00:00:00:02,dl_dst=52:54:00:00:00:01,dl_type=0x0000';
    const pass = {
      flow,
      steps: [step({ table: 0, noMatch: true, actions: ['drop'], text: 'No match.', line: 4 })],
      finalFlow: flow,
      flowChanged: false,
      megaflow: 'recirc_id=0,eth,in_port=2,dl_type=0x0000',
      datapathActions: 'drop',
      datapathActionList: ['drop'],
      dropped: true,
      outputs: [],
      tunnels: [],
      toController: false,
      recirculates: [],
      translationError: null,
      notes: [],
    };
    assert.deepEqual(t, {
      flow,
      steps: pass.steps,
      finalFlow: flow,
      megaflow: pass.megaflow,
      datapathActions: 'drop',
      translationError: null,
      passes: [pass],
      recirculations: [],
      dropped: true,
      tunnel: null,
      tunnels: [],
      outputs: [],
      toController: false,
    });
    checkLines(text, t);
  });

  test('resubmits: a tail resubmit continues the chain, a resubmit with more actions after it nests', () => {
    const text = fixture('resubmit');
    const t = parseOfprotoTrace(text);
    assert.equal(
      t.flow,
      'arp,in_port=1,vlan_tci=0x0000,dl_src=52:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:00,arp_tha=00:00:00:00:00:00',
    );
    assert.deepEqual(t.steps, [
      T0,
      step({
        table: 10,
        match: 'arp',
        priority: 100,
        cookie: 0x0210000000000002n,
        actions: ['resubmit(,30)'],
        text: 'arp, priority 100, cookie 0x210000000000002',
        line: 6,
      }),
      step({
        table: 30,
        match: 'arp',
        priority: 90,
        cookie: 0x0430000000000004n,
        actions: ['resubmit(,40)', 'output:2'],
        text: 'arp, priority 90, cookie 0x430000000000004',
        line: 8,
      }),
      step({ table: 40, depth: 1, noMatch: true, actions: ['drop'], text: 'No match.', line: 10 }),
    ]);
    assert.equal(t.finalFlow, t.flow);
    assert.equal(t.passes[0]!.flowChanged, false);
    assert.equal(t.megaflow, 'recirc_id=0,ct_state=-trk,eth,arp,in_port=1,dl_dst=ff:ff:ff:ff:ff:ff');
    assert.equal(t.datapathActions, '1');
    assert.deepEqual(t.passes[0]!.datapathActionList, ['1']);
    assert.deepEqual(t.outputs, [1]);
    assert.equal(t.dropped, false);
    assert.equal(t.passes[0]!.dropped, false);
    assert.deepEqual([t.tunnel, t.tunnels, t.toController, t.recirculations], [null, [], false, []]);
    assert.equal(t.passes.length, 1);
    checkLines(text, t);
  });

  test('ct(table=…) with the default ct state: a recirculation resumed at table 20, output to vm2', () => {
    const text = fixture('ct-default');
    const t = parseOfprotoTrace(text);
    const flow =
      'tcp,in_port=1,vlan_tci=0x0000,dl_src=52:54:00:00:00:01,dl_dst=52:54:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=1234,tp_dst=80,tcp_flags=0';
    assert.equal(t.flow, flow);
    assert.equal(t.finalFlow, flow);
    assert.equal(t.megaflow, 'recirc_id=0,ct_state=-trk,eth,ip,in_port=1,nw_dst=10.0.0.0/27,nw_frag=no');
    assert.equal(t.datapathActions, 'ct(zone=5),recirc(0x7)');
    assert.deepEqual(t.passes[0]!.datapathActionList, ['ct(zone=5)', 'recirc(0x7)']);
    assert.deepEqual(t.passes[0]!.recirculates, [7]);
    assert.equal(t.passes[0]!.dropped, false);
    assert.deepEqual(t.passes[0]!.outputs, []);
    assert.deepEqual(t.passes[0]!.steps, [T0, T10_CT]);
    assert.equal(t.recirculations.length, 1);
    assert.equal(t.passes[1], t.recirculations[0]);
    const steps1 = [
      step({
        pass: 1,
        table: 20,
        match: 'ct_state=+new+trk,ip',
        priority: 100,
        cookie: 0x0320000000000001n,
        actions: ['ct(commit,zone=5)', 'drop', 'goto_table:30'],
        notes: [UNTRACKED],
        text: 'ct_state=+new+trk,ip, priority 100, cookie 0x320000000000001',
        line: 26,
      }),
      step({
        pass: 1,
        table: 30,
        match: 'dl_dst=52:54:00:00:00:02',
        priority: 100,
        cookie: 0x0430000000000001n,
        actions: ['output:2'],
        text: 'dl_dst=52:54:00:00:00:02, priority 100, cookie 0x430000000000001',
        line: 31,
      }),
    ];
    const rec: TraceRecirculation = {
      flow: 'recirc_id=0x7,ct_state=new|trk,ct_zone=5,eth,tcp,in_port=1,vlan_tci=0x0000,dl_src=52:54:00:00:00:01,dl_dst=52:54:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=1234,tp_dst=80,tcp_flags=0',
      steps: steps1,
      finalFlow:
        'recirc_id=0x7,eth,tcp,in_port=1,vlan_tci=0x0000,dl_src=52:54:00:00:00:01,dl_dst=52:54:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=1234,tp_dst=80,tcp_flags=0',
      flowChanged: true,
      megaflow: 'recirc_id=0x7,ct_state=+new+trk,eth,ip,in_port=1,dl_dst=52:54:00:00:00:02,nw_frag=no',
      datapathActions: 'ct(commit,zone=5),1',
      datapathActionList: ['ct(commit,zone=5)', '1'],
      dropped: false,
      outputs: [1],
      tunnels: [],
      toController: false,
      recirculates: [],
      translationError: null,
      notes: ['thaw', 'Resuming from table 20'],
      recircId: 7,
      ctState: 'trk|new',
      ctStateDefault: true,
      nat: null,
      resumedAt: 20,
      header: 'recirc(0x7) - resume conntrack with default ct_state=trk|new (use --ct-next to customize)',
    };
    assert.deepEqual(t.recirculations[0], rec);
    assert.deepEqual(t.steps, [T0, T10_CT, ...steps1]);
    assert.deepEqual(t.outputs, [1]);
    assert.equal(t.dropped, false);
    assert.deepEqual([t.tunnel, t.tunnels, t.toController], [null, [], false]);
    checkLines(text, t);
  });

  test('ct(commit,nat(…)): the recirculation header says how OVS simulated the NAT', () => {
    const t = parseOfprotoTrace(fixture('nat'));
    assert.deepEqual(t.steps[1], {
      ...T10_CT,
      match: 'ct_state=-trk,tcp,nw_dst=10.0.0.50',
      priority: 300,
      cookie: 0x0210000000000050n,
      actions: ['ct(commit,table=20,zone=5,nat(dst=10.0.0.2:80))', 'nat(dst=10.0.0.2:80)'],
      text: 'ct_state=-trk,tcp,nw_dst=10.0.0.50, priority 300, cookie 0x210000000000050',
    });
    assert.equal(t.datapathActions, 'ct(commit,zone=5,nat(dst=10.0.0.2:80)),recirc(0xb)');
    assert.deepEqual(t.passes[0]!.datapathActionList, ['ct(commit,zone=5,nat(dst=10.0.0.2:80))', 'recirc(0xb)']);
    const r = t.recirculations[0]!;
    assert.equal(r.recircId, 0xb);
    assert.deepEqual(r.nat, {
      initial: 'nw_src=10.0.0.1,tp_src=40000,nw_dst=10.0.0.50,tp_dst=8080',
      modified: 'nw_src=10.0.0.1,tp_src=40000,nw_dst=10.0.0.2,tp_dst=80',
    });
    assert.match(r.flow, /^recirc_id=0xb,ct_state=new\|trk,ct_zone=5,.*nw_dst=10\.0\.0\.2,.*tp_dst=80,/);
    assert.deepEqual([r.ctState, r.ctStateDefault, r.resumedAt], ['trk|new', true, 20]);
    assert.deepEqual(
      r.steps.map((s) => [s.pass, s.table, s.cookie, s.line]),
      [
        [1, 20, 0x0320000000000001n, 29],
        [1, 30, 0x0430000000000001n, 34],
      ],
    );
    assert.deepEqual(t.outputs, [1]);
    assert.equal(t.dropped, false);
  });

  for (const [name, type, key, tunnelPort, cookie, action] of [
    [
      'tunnel-gre',
      'gre',
      0x1234,
      3,
      0x0430000000000002n,
      'tnl_push(tnl_port(3),header(size=42,type=3,eth(dst=02:00:c0:a8:64:02,src=02:00:c0:a8:64:01,dl_type=0x0800),ipv4(src=192.168.100.1,dst=192.168.100.2,proto=47,tos=0,ttl=64,frag=0x4000),gre((flags=0x2000,proto=0x6558),key=0x1234)),out_port(6))',
    ],
    [
      'tunnel-vxlan',
      'vxlan',
      0x77,
      4,
      0x0430000000000003n,
      'tnl_push(tnl_port(4),header(size=50,type=4,eth(dst=02:00:c0:a8:64:02,src=02:00:c0:a8:64:01,dl_type=0x0800),ipv4(src=192.168.100.1,dst=192.168.100.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x77)),out_port(6))',
    ],
  ] as const) {
    test(`native ${type} tunnel after --ct-next trk,est: tnl_push, then br-phy floods it to the uplink`, () => {
      const text = fixture(name);
      const t = parseOfprotoTrace(text);
      assert.deepEqual(t.passes[0]!.steps, [T0, T10_CT]);
      const r = t.recirculations[0]!;
      assert.deepEqual([r.ctState, r.ctStateDefault, r.nat, r.resumedAt], ['est|trk', false, null, 20]);
      assert.equal(r.header, `recirc(${`0x${r.recircId.toString(16)}`}) - resume conntrack with ct_state=est|trk`);
      const dst = type === 'gre' ? '99' : '98';
      const tunId = type === 'gre' ? '0x1234' : '0x77';
      assert.deepEqual(r.steps, [
        step({
          pass: 1,
          table: 20,
          match: 'ct_state=+est+trk,ip',
          priority: 100,
          cookie: 0x0320000000000002n,
          actions: ['goto_table:30'],
          text: 'ct_state=+est+trk,ip, priority 100, cookie 0x320000000000002',
          line: 26,
        }),
        step({
          pass: 1,
          table: 30,
          match: `dl_dst=52:54:00:00:00:${dst}`,
          priority: 100,
          cookie,
          actions: [
            'set_field:192.168.100.2->tun_dst',
            `set_field:${tunId}->tun_id`,
            `output:${type === 'gre' ? 100 : 101}`,
          ],
          notes: [
            'output to native tunnel',
            'tunneling to 192.168.100.2 via br-phy',
            'tunneling from 02:00:c0:a8:64:01 192.168.100.1 to 02:00:c0:a8:64:02 192.168.100.2',
          ],
          text: `dl_dst=52:54:00:00:00:${dst}, priority 100, cookie 0x${cookie.toString(16)}`,
          line: 28,
        }),
        step({
          pass: 1,
          bridge: 'br-phy',
          table: 0,
          priority: 0,
          cookie: 0n,
          actions: ['NORMAL'],
          notes: ['no learned MAC for destination, flooding'],
          text: 'priority 0',
          line: 38,
        }),
      ]);
      assert.equal(r.flowChanged, true);
      assert.match(r.finalFlow!, /,tun_src=0\.0\.0\.0,tun_dst=192\.168\.100\.2,/);
      const tunnel = {
        src: '192.168.100.1',
        dst: '192.168.100.2',
        key,
        type,
        via: 'tnl_push',
        tunnelPort,
        outPort: 6,
        action,
      };
      assert.equal(r.datapathActions, `${action},7`);
      assert.deepEqual(r.datapathActionList, [action, '7']);
      assert.deepEqual(r.tunnels, [tunnel]);
      assert.deepEqual(r.outputs, [7]);
      assert.equal(r.dropped, false);
      assert.deepEqual(t.tunnel, tunnel);
      assert.deepEqual(t.tunnels, [tunnel]);
      assert.deepEqual(t.outputs, [7]);
      assert.equal(t.dropped, false);
      assert.equal(t.toController, false);
      checkLines(text, t);
    });
  }

  test('a controller action: userspace(…controller(…)) is a packet-in, not a drop', () => {
    const t = parseOfprotoTrace(fixture('controller'));
    assert.deepEqual(t.steps, [
      step({
        table: 0,
        match: 'udp,in_port=2,tp_src=68,tp_dst=67',
        priority: 200,
        cookie: 0x0500000000000067n,
        actions: ['CONTROLLER:65535'],
        text: 'udp,in_port=2,tp_src=68,tp_dst=67, priority 200, cookie 0x500000000000067',
        line: 4,
      }),
    ]);
    assert.match(t.datapathActions, /^userspace\(pid=0,controller\(reason=1,.*rule_cookie=0x500000000000067,/);
    assert.deepEqual([t.toController, t.dropped, t.outputs, t.passes[0]!.dropped], [true, false, [], false]);
  });

  test('a patch port followed by more actions: the peer bridge nests, and the caller resumes after it', () => {
    const text = fixture('patch-port');
    const t = parseOfprotoTrace(text);
    assert.deepEqual(
      t.steps.map((s) => [s.bridge, s.table, s.depth, s.cookie, s.actions]),
      [
        ['br0', 0, 0, 0x0104000000001234n, ['goto_table:10']],
        ['br0', 10, 0, 0x0210000000000002n, ['resubmit(,30)']],
        ['br0', 30, 0, 0x0430000000000077n, ['output:50', 'resubmit(,40)', 'output:2']],
        ['br1', 0, 2, 0x0900000000000001n, ['resubmit(,5)', 'output:7']],
        ['br1', 5, 3, 0x0900000000000005n, ['set_field:52:54:00:00:00:07->eth_dst']],
        ['br0', 40, 1, null, ['drop']],
      ],
    );
    assert.equal(t.steps[4]!.match, '');
    assert.equal(t.steps[4]!.priority, 10);
    assert.equal(t.datapathActions, 'set(eth(dst=52:54:00:00:00:07)),8,set(eth(dst=52:54:00:00:00:77)),1');
    assert.deepEqual(t.outputs, [8, 1]);
    checkLines(text, t);
  });
});

describe('parseOfprotoTrace on other shapes', () => {
  test('kernel-datapath tunnels: set(tunnel(…)) then output to the vport (OVS tests/tunnel.at forms)', () => {
    const t = parseOfprotoTrace(
      'Flow: in_port=1\n\nbridge("br0")\n-------------\n 0. priority 0\n    output:2\n\nFinal flow: unchanged\nMegaflow: recirc_id=0,eth,in_port=1\n' +
        'Datapath actions: set(tunnel(tun_id=0x5,src=2.2.2.2,dst=1.1.1.1,ttl=64,tp_dst=4789,flags(df|key))),1,set(tunnel(dst=1.1.1.2,ttl=64,flags(df))),3\n',
    );
    assert.deepEqual(
      t.tunnels.map(({ action: _a, ...rest }) => rest),
      [
        { src: '2.2.2.2', dst: '1.1.1.1', key: 5, type: 'vxlan', via: 'set', tunnelPort: null, outPort: null },
        { src: null, dst: '1.1.1.2', key: null, type: 'gre', via: 'set', tunnelPort: null, outPort: null },
      ],
    );
    assert.deepEqual(t.outputs, [1, 3]);
    assert.equal(t.dropped, false);
  });

  test('clone(tnl_push(…),7) and a translation failure', () => {
    const t = parseOfprotoTrace(
      'Flow: in_port=1\n\nbridge("br0")\n-------------\n 0. priority 0\n    resubmit(,0)\n     >>>> over max translation depth 64 <<<<\n' +
        '\nFinal flow: unchanged\nMegaflow: recirc_id=0,eth,in_port=1\n' +
        'Datapath actions: clone(tnl_push(tnl_port(4),header(size=50,type=4,eth(dst=02:00:00:00:00:02,src=02:00:00:00:00:01,dl_type=0x0800),ipv4(src=10.1.0.1,dst=10.1.0.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x10)),out_port(6)),7),2\n' +
        'Translation failed (Recursion too deep), packet is dropped.\n',
    );
    assert.deepEqual(t.steps[0]!.warnings, ['over max translation depth 64']);
    assert.equal(t.translationError, 'Recursion too deep');
    assert.equal(t.tunnel?.dst, '10.1.0.2');
    assert.equal(t.tunnel?.key, 0x10);
    assert.deepEqual(t.outputs, [7, 2]);
    assert.equal(t.passes[0]!.dropped, true);
  });

  test('empty, garbage and truncated texts give what they hold and never throw', () => {
    for (const text of [
      '',
      '\n\n',
      'garbage',
      '{"id":0}',
      '====\n',
      '='.repeat(79),
      `${'='.repeat(79)}\nrecirc(`,
      '  7. x',
    ]) {
      const t = parseOfprotoTrace(text);
      assert.equal(typeof t.flow, 'string');
      assert.ok(Array.isArray(t.steps));
    }
    const empty = parseOfprotoTrace('');
    assert.deepEqual(
      [empty.flow, empty.steps, empty.finalFlow, empty.megaflow, empty.datapathActions],
      ['', [], null, null, ''],
    );
    assert.equal(empty.dropped, true);
    // A trace cut off in the middle of the tree keeps the steps it had.
    const cut = fixture('resubmit').split('\n').slice(0, 9).join('\n');
    const t = parseOfprotoTrace(cut);
    assert.deepEqual(
      t.steps.map((s) => s.table),
      [0, 10, 30],
    );
    assert.deepEqual([t.finalFlow, t.megaflow, t.datapathActions], [null, null, '']);
    // A recirculation header with no pass after it.
    const r = parseOfprotoTrace(`${fixture('no-match')}\n\n${'='.repeat(79)}\nrecirc(0x3)\n${'='.repeat(79)}\n`);
    assert.equal(r.recirculations.length, 1);
    assert.deepEqual(
      [r.recirculations[0]!.recircId, r.recirculations[0]!.ctState, r.recirculations[0]!.flow],
      [3, null, ''],
    );
  });

  test('CRLF line ends parse like LF ones', () => {
    const text = fixture('ct-default');
    const a = parseOfprotoTrace(text);
    const b = parseOfprotoTrace(text.replaceAll('\n', '\r\n'));
    assert.deepEqual(b, a);
  });

  test('splitDatapathActions splits at top-level commas only', () => {
    assert.deepEqual(splitDatapathActions('ct(commit,zone=5,nat(dst=10.0.0.2:80)),recirc(0xb)'), [
      'ct(commit,zone=5,nat(dst=10.0.0.2:80))',
      'recirc(0xb)',
    ]);
    assert.deepEqual(splitDatapathActions(''), []);
    assert.deepEqual(splitDatapathActions('drop'), ['drop']);
    assert.deepEqual(splitDatapathActions('1,2'), ['1', '2']);
  });
});

// Golden corpus: flows covering every match field and action of the model, shared by golden, live and bench tests.
import { OFPP } from '../../src/openflow/types.js';
import type { Action, FieldName, FieldValue, Flow, Instruction, Match } from '../../src/openflow/types.js';

export interface CorpusEntry {
  name: string;
  flow: Flow;
  /** OVS 3.1 does not implement this (field or action): checked against hand-written bytes instead. */
  ovsUnsupported?: boolean;
  /** Needs conntrack/learn/... that a live bridge accepts only with extra setup; skip live install. */
  notLive?: string;
}

type M = Partial<Record<FieldName, FieldValue | [FieldValue, FieldValue]>>;
export function match(m: M): Match {
  const out: Match = {};
  for (const [k, v] of Object.entries(m) as [FieldName, FieldValue | [FieldValue, FieldValue]][]) {
    out[k] = Array.isArray(v) ? { value: v[0], mask: v[1] } : { value: v };
  }
  return out;
}
const apply = (...actions: Action[]): Instruction[] => [{ type: 'apply_actions', actions }];
const IP: M = { eth_type: 0x0800 };
const IP6: M = { eth_type: 0x86dd };
const TCP: M = { ...IP, ip_proto: 6 };
const UDP: M = { ...IP, ip_proto: 17 };
const ARP: M = { eth_type: 0x0806 };
// +trk+est: OVS wants proof of a valid conntrack entry before ct_nw_*/ct_tp_* or resubmit(,,ct).
const TRK: M = { ct_state: [0x22, 0x22] };
const ip4 = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
const mac = (s: string) => BigInt(`0x${s.replaceAll(':', '')}`);

let n = 0;
function F(
  name: string,
  m: M,
  instructions: Instruction[],
  extra: Partial<Flow> = {},
  opts: Partial<CorpusEntry> = {},
): CorpusEntry {
  n++;
  return {
    name,
    flow: { table: n % 40, priority: 100 + n, cookie: BigInt(0x1000 + n), match: match(m), instructions, ...extra },
    ...opts,
  };
}

const out = (port: number): Action => ({ type: 'output', port });

export const CORPUS: CorpusEntry[] = [
  // ---- match fields
  F('in_port', { in_port: 1 }, apply(out(2))),
  F('in_port LOCAL', { in_port: OFPP.LOCAL }, apply(out(1))),
  F('metadata masked', { metadata: [0x1200000000n, 0xff00000000n] }, apply(out(1))),
  F('metadata exact', { metadata: 0xdeadbeefcafen }, [{ type: 'goto_table', table: 45 }]),
  F('eth_dst', { eth_dst: mac('52:54:00:12:34:56') }, apply(out(1))),
  F(
    'eth_dst multicast mask',
    { eth_dst: [mac('01:00:00:00:00:00'), mac('01:00:00:00:00:00')] },
    apply({ type: 'output', port: OFPP.FLOOD }),
  ),
  F('eth_src', { eth_src: mac('52:54:00:ab:cd:ef') }, apply(out(3))),
  F('eth_src masked', { eth_src: [mac('52:54:00:00:00:00'), mac('ff:ff:ff:00:00:00')] }, apply(out(3))),
  F('eth_type arp', { eth_type: 0x0806 }, apply({ type: 'output', port: OFPP.NORMAL })),
  F('vlan_vid', { vlan_vid: 0x1005 }, apply({ type: 'pop_vlan' }, out(1))),
  F('vlan_vid masked + pcp', { vlan_vid: [0x1000, 0x1000], vlan_pcp: 3 }, apply(out(1))),
  F('ip_dscp ip_ecn nw_ttl', { ...IP, ip_dscp: 46, ip_ecn: 1, nw_ttl: 1 }, apply(out(1))),
  F(
    'ipv4 src/dst',
    { ...IP, ipv4_src: ip4('10.0.0.5'), ipv4_dst: [ip4('10.1.0.0'), ip4('255.255.0.0')] },
    apply(out(1)),
  ),
  F('tcp ports', { ...TCP, tcp_src: 1024, tcp_dst: 80 }, apply(out(1))),
  F('tcp port mask', { ...TCP, tcp_dst: [0x1000, 0xf000] }, apply(out(1))),
  F('tcp_flags', { ...TCP, tcp_flags: [0x002, 0x012] }, apply(out(1))),
  F('udp ports', { ...UDP, udp_src: 68, udp_dst: 67 }, apply({ type: 'output', port: OFPP.CONTROLLER })),
  F('sctp ports', { ...IP, ip_proto: 132, sctp_src: 5, sctp_dst: [0x100, 0xff00] }, apply(out(1))),
  F('icmpv4', { ...IP, ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 }, apply({ type: 'output', port: OFPP.IN_PORT })),
  F(
    'arp op/spa/tpa',
    { ...ARP, arp_op: 1, arp_spa: ip4('10.0.0.1'), arp_tpa: [ip4('10.0.0.0'), ip4('255.255.255.0')] },
    apply(out(1)),
  ),
  F(
    'arp sha/tha',
    { ...ARP, arp_sha: mac('52:54:00:00:00:01'), arp_tha: [mac('00:00:00:00:00:00'), mac('ff:ff:ff:ff:ff:ff')] },
    apply(out(1)),
  ),
  F(
    'ipv6 src/dst/flabel',
    { ...IP6, ipv6_src: 1n, ipv6_dst: [0x20010db8n << 96n, 0xffffffffffffffffn << 64n], ipv6_flabel: 0x12345 },
    apply(out(1)),
  ),
  F(
    'icmpv6 nd ns',
    {
      ...IP6,
      ip_proto: 58,
      icmpv6_type: 135,
      icmpv6_code: 0,
      ipv6_nd_target: 0xfe80n << 112n,
      ipv6_nd_sll: mac('52:54:00:00:00:02'),
    },
    apply(out(1)),
  ),
  F('icmpv6 nd na', { ...IP6, ip_proto: 58, icmpv6_type: 136, ipv6_nd_tll: mac('52:54:00:00:00:03') }, apply(out(1))),
  F('mpls', { eth_type: 0x8847, mpls_label: 0x12345, mpls_tc: 5, mpls_bos: 1 }, apply(out(1))),
  F('tunnel_id', { tunnel_id: 0x123456n }, apply(out(1))),
  F('tunnel_id masked', { tunnel_id: [0x1000n, 0xfffff000n] }, apply(out(1))),
  F(
    'tun src/dst/flags',
    { tun_ipv4_src: ip4('192.168.0.1'), tun_ipv4_dst: [ip4('192.168.0.0'), ip4('255.255.255.0')], tun_flags: [1, 1] },
    apply(out(1)),
  ),
  F(
    'reg0..reg7',
    { reg0: 1, reg1: [2, 0xff], reg2: 3, reg3: 4, reg4: 5, reg5: 6, reg6: 7, reg7: [0x80000000, 0x80000000] },
    apply(out(1)),
  ),
  F(
    'reg8..reg15',
    { reg8: 8, reg9: 9, reg10: 10, reg11: 11, reg12: 12, reg13: 13, reg14: 14, reg15: 0xffffffff },
    apply(out(1)),
  ),
  F('xreg0 xreg3', { xreg0: 0x100000002n, xreg3: [0x5n, 0xffn] }, apply(out(1))),
  F(
    'xreg1 xreg2 xreg4..7',
    { xreg1: 1n, xreg2: [0xff00000000n, 0xff00000000n], xreg4: 4n, xreg5: 5n, xreg6: 6n, xreg7: 7n },
    apply(out(1)),
  ),
  F('pkt_mark', { pkt_mark: [0x10, 0xf0] }, apply(out(1))),
  F('ct_state ct_zone ct_mark', { ...IP, ct_state: [0x22, 0x23], ct_zone: 5, ct_mark: [1, 1] }, apply(out(1))),
  F('ct_label', { ...IP, ...TRK, ct_label: [1n << 100n, 1n << 100n] }, apply(out(1))),
  F(
    'ct tuple',
    {
      ...IP,
      ...TRK,
      ct_nw_proto: 6,
      ct_ipv4_src: ip4('1.1.1.1'),
      ct_ipv4_dst: [ip4('2.2.2.0'), ip4('255.255.255.0')],
      ct_tp_src: 3,
      ct_tp_dst: [4, 0xff],
    },
    apply(out(1)),
  ),
  F('conj_id', { conj_id: 77 }, apply(out(1))),
  // ---- actions
  F('output max_len to controller', {}, apply({ type: 'output', port: OFPP.CONTROLLER, maxLen: 128 })),
  F(
    'output LOCAL ALL TABLE',
    { in_port: 5 },
    apply({ type: 'output', port: OFPP.LOCAL }, { type: 'output', port: OFPP.ALL }),
  ),
  F('group', {}, apply({ type: 'group', groupId: 7 }), {}, { notLive: 'group 7 does not exist' }),
  F(
    'set_queue push_vlan set vlan',
    {},
    apply(
      { type: 'set_queue', queueId: 2 },
      { type: 'push_vlan', ethertype: 0x8100 },
      { type: 'set_field', field: 'vlan_vid', value: 0x1064 },
      out(1),
    ),
  ),
  F(
    'set_field eth',
    {},
    apply(
      { type: 'set_field', field: 'eth_src', value: mac('52:54:00:00:00:aa') },
      { type: 'set_field', field: 'eth_dst', value: mac('52:54:00:00:00:bb') },
      out(1),
    ),
  ),
  F(
    'set_field ipv4 + dec_nw_ttl',
    { ...IP },
    apply({ type: 'set_field', field: 'ipv4_dst', value: ip4('10.0.0.9') }, { type: 'dec_nw_ttl' }, out(1)),
  ),
  F(
    'set_field tunnel',
    {},
    apply(
      { type: 'set_field', field: 'tunnel_id', value: 0x55n },
      { type: 'set_field', field: 'tun_ipv4_dst', value: ip4('192.168.1.2') },
      out(1),
    ),
  ),
  F(
    'set_field regs metadata',
    {},
    apply(
      { type: 'set_field', field: 'reg0', value: 5 },
      { type: 'set_field', field: 'xreg3', value: 0x500000001n },
      { type: 'set_field', field: 'metadata', value: 0x77n },
      out(1),
    ),
  ),
  F(
    'set_field masked -> loads',
    {},
    apply(
      { type: 'set_field', field: 'reg3', value: 5, mask: 5 },
      { type: 'set_field', field: 'reg4', value: 0x300, mask: 0xff00 },
      out(1),
    ),
  ),
  F(
    'set_field arp reply',
    { ...ARP, arp_op: 1 },
    apply(
      { type: 'set_field', field: 'arp_op', value: 2 },
      { type: 'move', src: { field: 'arp_sha', start: 0, nBits: 48 }, dst: { field: 'arp_tha', start: 0, nBits: 48 } },
      { type: 'set_field', field: 'arp_sha', value: mac('52:54:00:00:00:01') },
      { type: 'move', src: { field: 'arp_spa', start: 0, nBits: 32 }, dst: { field: 'arp_tpa', start: 0, nBits: 32 } },
      { type: 'set_field', field: 'arp_spa', value: ip4('10.0.0.1') },
      { type: 'output', port: OFPP.IN_PORT },
    ),
  ),
  F('set_field l4', { ...TCP }, apply({ type: 'set_field', field: 'tcp_dst', value: 8080 }, out(1))),
  F(
    'set_field pkt_mark ct_mark via exec',
    { ...IP },
    apply({
      type: 'ct',
      commit: true,
      zone: 4,
      exec: [
        { type: 'set_field', field: 'ct_mark', value: 3 },
        { type: 'set_field', field: 'ct_label', value: 5n },
      ],
    }),
  ),
  F('resubmit table', {}, apply({ type: 'resubmit', table: 3 })),
  F('resubmit port', {}, apply({ type: 'resubmit', port: 4 })),
  F('resubmit port+table', {}, apply({ type: 'resubmit', port: OFPP.LOCAL, table: 9 })),
  F('resubmit ct', { ...IP, ...TRK }, apply({ type: 'resubmit', table: 6, ct: true })),
  F(
    'move regs',
    {},
    apply(
      { type: 'move', src: { field: 'reg0', start: 0, nBits: 6 }, dst: { field: 'reg1', start: 3, nBits: 6 } },
      out(1),
    ),
  ),
  F(
    'move metadata/in_port/tun_id',
    {},
    apply(
      { type: 'move', src: { field: 'metadata', start: 0, nBits: 32 }, dst: { field: 'reg1', start: 0, nBits: 32 } },
      { type: 'move', src: { field: 'in_port', start: 0, nBits: 16 }, dst: { field: 'reg2', start: 0, nBits: 16 } },
      { type: 'move', src: { field: 'tunnel_id', start: 0, nBits: 24 }, dst: { field: 'reg3', start: 0, nBits: 24 } },
    ),
  ),
  F(
    'load',
    {},
    apply(
      { type: 'load', dst: { field: 'reg2', start: 1, nBits: 4 }, value: 3 },
      { type: 'load', dst: { field: 'eth_dst', start: 0, nBits: 48 }, value: 1n },
      out(1),
    ),
  ),
  F(
    'load xreg',
    {},
    apply({ type: 'load', dst: { field: 'xreg1', start: 0, nBits: 64 }, value: 0xffffffffffn }, out(1)),
  ),
  F('ct zone/table', { ...IP }, apply({ type: 'ct', zone: 7, table: 10 })),
  F('ct zone from reg', { ...IP }, apply({ type: 'ct', zone: { field: 'reg6', start: 0, nBits: 16 }, table: 11 })),
  F('ct commit force', { ...IP }, apply({ type: 'ct', commit: true, force: true, zone: 1 })),
  F('ct nat plain', { ...IP }, apply({ type: 'ct', table: 3, nat: { kind: 'none' } })),
  F(
    'ct snat range',
    { ...IP },
    apply({
      type: 'ct',
      commit: true,
      nat: { kind: 'src', ipMin: ip4('10.1.1.1'), ipMax: ip4('10.1.1.9'), persistent: true },
    }),
  ),
  F(
    'ct dnat port',
    { ...TCP },
    apply({
      type: 'ct',
      commit: true,
      zone: 9,
      nat: { kind: 'dst', ipMin: ip4('10.0.0.1'), portMin: 80, portMax: 90, random: true },
    }),
  ),
  F(
    'ct alg exec nat',
    { ...TCP },
    apply({
      type: 'ct',
      commit: true,
      table: 4,
      zone: { field: 'reg6', start: 0, nBits: 16 },
      alg: 21,
      exec: [
        { type: 'set_field', field: 'ct_mark', value: 1 },
        { type: 'load', dst: { field: 'ct_label', start: 0, nBits: 8 }, value: 3 },
      ],
      nat: { kind: 'dst', ipMin: ip4('10.0.0.1'), portMin: 80 },
    }),
  ),
  F('ct_clear', {}, apply({ type: 'ct_clear' }, out(1))),
  F(
    'conjunction',
    { ...IP, ipv4_src: ip4('10.0.0.1') },
    apply(
      { type: 'conjunction', id: 5, clause: 1, nClauses: 2 },
      { type: 'conjunction', id: 6, clause: 2, nClauses: 3 },
    ),
  ),
  F(
    'learn',
    {},
    apply({
      type: 'learn',
      table: 3,
      priority: 4,
      idleTimeout: 5,
      hardTimeout: 7,
      finIdleTimeout: 1,
      finHardTimeout: 2,
      cookie: 0x99n,
      flags: 1,
      specs: [
        {
          kind: 'match-field',
          dst: { field: 'eth_dst', start: 0, nBits: 48 },
          src: { field: 'eth_src', start: 0, nBits: 48 },
        },
        {
          kind: 'load-field',
          dst: { field: 'reg1', start: 0, nBits: 32 },
          src: { field: 'reg0', start: 0, nBits: 32 },
        },
        { kind: 'output', src: { field: 'reg2', start: 0, nBits: 32 } },
        { kind: 'match-value', dst: { field: 'reg3', start: 0, nBits: 4 }, value: 5 },
        { kind: 'load-value', dst: { field: 'reg4', start: 0, nBits: 8 }, value: 4 },
      ],
    }),
  ),
  F(
    'learn minimal',
    {},
    apply({
      type: 'learn',
      table: 10,
      priority: 0,
      specs: [
        {
          kind: 'match-field',
          dst: { field: 'vlan_vid', start: 0, nBits: 12 },
          src: { field: 'vlan_vid', start: 0, nBits: 12 },
        },
        { kind: 'load-value', dst: { field: 'tunnel_id', start: 0, nBits: 64 }, value: 0x1234n },
      ],
    }),
  ),
  F('note', {}, apply({ type: 'note', data: new Uint8Array([1, 2, 3, 4, 0, 0]) }, out(1))),
  F(
    'note long',
    {},
    apply({
      type: 'note',
      data: new Uint8Array([0x76, 0x6e, 0x65, 0x74, 0x3a, 0x69, 0x66, 0x2d, 0x31, 0x32, 0x33, 0x34, 0, 0]),
    }),
  ),
  F('controller plain', {}, apply({ type: 'controller' })),
  F('controller reason id', {}, apply({ type: 'controller', reason: 0, controllerId: 5 })),
  F(
    'controller2 userdata pause meter',
    {},
    apply({
      type: 'controller',
      maxLen: 100,
      controllerId: 3,
      reason: 0,
      userdata: new Uint8Array([1, 2]),
      pause: true,
      meterId: 2,
    }),
  ),
  F(
    'controller2 userdata',
    {},
    apply({ type: 'controller', userdata: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01]) }),
  ),
  F('dec_ttl', { ...IP }, apply({ type: 'dec_ttl' }, out(1))),
  F(
    'check_pkt_larger',
    { ...IP },
    apply({ type: 'check_pkt_larger', pktLen: 1464, dst: { field: 'reg0', start: 4, nBits: 1 } }, out(1)),
  ),
  F(
    'multipath',
    {},
    apply({
      type: 'multipath',
      fields: 0,
      basis: 50,
      algorithm: 2,
      maxLink: 11,
      arg: 0,
      dst: { field: 'reg0', start: 0, nBits: 4 },
    }),
  ),
  // ---- instructions and flow-level attributes
  F('goto_table', {}, [{ type: 'goto_table', table: 60 }]),
  F('write_metadata + goto', { in_port: 3 }, [
    { type: 'write_metadata', value: 0x5n, mask: 0xffn },
    { type: 'goto_table', table: 61 },
  ]),
  F('apply + clear + write + goto', { ...IP }, [
    { type: 'apply_actions', actions: [{ type: 'dec_nw_ttl' }] },
    { type: 'clear_actions' },
    { type: 'write_actions', actions: [out(3)] },
    { type: 'goto_table', table: 62 },
  ]),
  F(
    'meter',
    {},
    [
      { type: 'meter', meterId: 1 },
      { type: 'apply_actions', actions: [{ type: 'output', port: OFPP.CONTROLLER }] },
    ],
    {},
    { notLive: 'meter 1 does not exist' },
  ),
  F('drop (no instructions)', { in_port: 9 }, []),
  F('timeouts and flags', { in_port: 8 }, apply(out(1)), { idleTimeout: 60, hardTimeout: 300, flags: 1 | 4 }),
  F('cookie high bits', { in_port: 7 }, apply(out(1)), { cookie: 0xfedcba9876543210n }),
  F('priority 0 table 253', {}, apply(), { table: 253, priority: 0 }),
  F('priority max', { in_port: 6 }, apply(out(1)), { priority: 65535 }),
  // ---- standard parts OVS 3.1 does not implement: checked against hand-made bytes
  F('in_phy_port', { in_port: 1, in_phy_port: 1 }, apply(out(2)), {}, { ovsUnsupported: true }),
  F('pbb_isid', { eth_type: 0x88e7, pbb_isid: [0x12, 0xff] }, apply(out(2)), {}, { ovsUnsupported: true }),
  F('ipv6_exthdr', { ...IP6, ipv6_exthdr: [0x4, 0x4] }, apply(out(2)), {}, { ovsUnsupported: true }),
  F('copy_ttl', {}, apply({ type: 'copy_ttl_out' }, { type: 'copy_ttl_in' }), {}, { ovsUnsupported: true }),
];

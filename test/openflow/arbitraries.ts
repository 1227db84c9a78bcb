// fast-check generators of valid Flows (prerequisites satisfied) and actions, for property and fuzz tests.
import fc from 'fast-check';
import { canonicalValue, FIELD_BY_NAME } from '../../src/openflow/fields.js';
import type { Action, FieldName, FieldRange, Flow, Instruction, Match, MatchEntry } from '../../src/openflow/types.js';
import { OFPP } from '../../src/openflow/types.js';

const bitsOf = (name: FieldName) => (FIELD_BY_NAME.get(name) as { bits: number }).bits;

/** A value (and maybe a mask) for a field, canonical types, value within the mask. */
export function entry(name: FieldName, opts: { mask?: boolean } = {}): fc.Arbitrary<MatchEntry> {
  const def = FIELD_BY_NAME.get(name);
  if (!def) throw new Error(name);
  const v = fc.bigInt({ min: 0n, max: (1n << BigInt(def.bits)) - 1n });
  if (!def.maskable || opts.mask === false) return v.map((x) => ({ value: canonicalValue(def, x) }));
  if (def.format === 'ipv6') {
    // ovs-ofctl reads IPv6 masks only as prefixes.
    return fc.tuple(v, fc.option(fc.integer({ min: 1, max: 127 }), { nil: undefined })).map(([x, n]) => {
      if (n === undefined) return { value: x };
      const m = ((1n << BigInt(n)) - 1n) << BigInt(128 - n);
      return { value: x & m, mask: m };
    });
  }
  return fc
    .tuple(v, fc.option(fc.bigInt({ min: 1n, max: (1n << BigInt(def.oxm.width * 8)) - 2n }), { nil: undefined }))
    .map(([x, m]) => {
      if (m === undefined) return { value: canonicalValue(def, x) };
      return { value: canonicalValue(def, x & m), mask: canonicalValue(def, m) };
    });
}

function fields(names: FieldName[], opts: { mask?: boolean } = {}): fc.Arbitrary<Match> {
  const rec: Record<string, fc.Arbitrary<MatchEntry>> = {};
  for (const n of names) rec[n] = entry(n, opts);
  return fc.record(rec, { requiredKeys: [] }) as fc.Arbitrary<Match>;
}

const fixed = (m: Record<string, number>): Match =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { value: v }])) as Match;

// OVS port numbers: below 0xff00, or the reserved ones at the top of the 32-bit space.
const portNo = fc.oneof(fc.integer({ min: 1, max: 0xfeff }), fc.constantFrom(0xfffffff8, 0xfffffffe, 0xfffffffd));
const L2 = fc
  .tuple(
    fields([
      'metadata',
      'eth_src',
      'eth_dst',
      'tunnel_id',
      'tun_ipv4_src',
      'tun_ipv4_dst',
      'tun_flags',
      'reg0',
      'reg5',
      'reg15',
      'pkt_mark',
      'ct_zone',
      'ct_mark',
      'ct_label',
      'conj_id',
    ]),
    fc.option(portNo, { nil: undefined }),
  )
  .map(([m, p]): Match => (p === undefined ? m : { in_port: { value: p }, ...m }));
const VLAN = fc.option(
  fc.oneof(
    fc.constant<Match>({ vlan_vid: { value: 0x1000, mask: 0x1000 } }),
    fc
      .integer({ min: 0, max: 4095 })
      .chain((vid) =>
        fc
          .integer({ min: 0, max: 7 })
          .map((pcp): Match => ({ vlan_vid: { value: 0x1000 | vid }, vlan_pcp: { value: pcp } })),
      ),
  ),
  { nil: undefined },
);
const IPV4 = fields(['ipv4_src', 'ipv4_dst', 'ip_dscp', 'ip_ecn', 'nw_ttl']);
const L3: fc.Arbitrary<Match> = fc.oneof(
  fc.constant<Match>({}),
  fc
    .tuple(IPV4, fields(['tcp_src', 'tcp_dst', 'tcp_flags']))
    .map(([a, b]) => ({ ...fixed({ eth_type: 0x800, ip_proto: 6 }), ...a, ...b })),
  fc
    .tuple(IPV4, fields(['udp_src', 'udp_dst']))
    .map(([a, b]) => ({ ...fixed({ eth_type: 0x800, ip_proto: 17 }), ...a, ...b })),
  fc
    .tuple(IPV4, fields(['sctp_src', 'sctp_dst']))
    .map(([a, b]) => ({ ...fixed({ eth_type: 0x800, ip_proto: 132 }), ...a, ...b })),
  fc
    .tuple(IPV4, fields(['icmpv4_type', 'icmpv4_code']))
    .map(([a, b]) => ({ ...fixed({ eth_type: 0x800, ip_proto: 1 }), ...a, ...b })),
  fields(['arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha']).map((a) => ({ ...fixed({ eth_type: 0x806 }), ...a })),
  fields(['ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'nw_ttl']).map((a) => ({ ...fixed({ eth_type: 0x86dd }), ...a })),
  // OVS treats nd_* as meaningful only for code 0 (is_nd()).
  fields(['ipv6_nd_target', 'ipv6_nd_sll']).map((a) => ({
    ...fixed({ eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 135, icmpv6_code: 0 }),
    ...a,
  })),
  fields(['ipv6_src', 'icmpv6_code']).map((a) => ({
    ...fixed({ eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 1 }),
    ...a,
  })),
  fields(['mpls_label', 'mpls_tc', 'mpls_bos']).map((a) => ({ ...fixed({ eth_type: 0x8847 }), ...a })),
);

export const matchArb: fc.Arbitrary<Match> = fc.tuple(L2, VLAN, L3).map(([a, v, b]) => ({ ...a, ...(v ?? {}), ...b }));

const REGS: FieldName[] = [
  'reg0',
  'reg1',
  'reg2',
  'reg3',
  'reg7',
  'reg12',
  'xreg1',
  'metadata',
  'tunnel_id',
  'pkt_mark',
  'eth_src',
  'eth_dst',
];
const rangeArb: fc.Arbitrary<FieldRange> = fc.constantFrom(...REGS).chain((field) => {
  const w = bitsOf(field);
  return fc
    .integer({ min: 0, max: w - 1 })
    .chain((start) => fc.integer({ min: 1, max: w - start }).map((nBits) => ({ field, start, nBits })));
});
const port = fc.oneof(
  fc.integer({ min: 1, max: 0xfeff }),
  fc.constantFrom(OFPP.LOCAL, OFPP.IN_PORT, OFPP.NORMAL, OFPP.FLOOD, OFPP.ALL, OFPP.CONTROLLER),
);
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** Actions that need no match prerequisites (so OVS accepts them after any match). */
export const simpleActionArb: fc.Arbitrary<Action> = fc.oneof(
  port.map((p): Action => ({ type: 'output', port: p })),
  fc.integer({ min: 0, max: 0xffff }).map((m): Action => ({ type: 'output', port: OFPP.CONTROLLER, maxLen: m })),
  fc
    .constantFrom(...REGS)
    .chain((f) => entry(f, { mask: false }).map((e): Action => ({ type: 'set_field', field: f, value: e.value }))),
  fc
    .constantFrom<FieldName>('reg0', 'reg4', 'metadata', 'pkt_mark')
    .chain((f) =>
      entry(f).map(
        (e): Action =>
          e.mask === undefined
            ? { type: 'set_field', field: f, value: e.value }
            : { type: 'set_field', field: f, value: e.value, mask: e.mask },
      ),
    ),
  fc
    .record({
      port: fc.option(fc.integer({ min: 1, max: 0xfeff }), { nil: undefined }),
      table: fc.option(fc.integer({ min: 0, max: 254 }), { nil: undefined }),
    })
    .map((r): Action => {
      const a: Action = { type: 'resubmit' };
      if (r.port !== undefined) a.port = r.port;
      if (r.table !== undefined || r.port === undefined) a.table = r.table ?? 1;
      return a;
    }),
  rangeArb.chain((src) =>
    fc
      .constantFrom(...REGS)
      .filter((f) => bitsOf(f) >= src.nBits)
      .chain((df) =>
        fc
          .integer({ min: 0, max: bitsOf(df) - src.nBits })
          .map((start): Action => ({ type: 'move', src, dst: { field: df, start, nBits: src.nBits } })),
      ),
  ),
  rangeArb.chain((dst) =>
    fc
      .bigInt({ min: 0n, max: (1n << BigInt(dst.nBits)) - 1n })
      .map((v): Action => ({ type: 'load', dst, value: dst.nBits > 32 ? v : Number(v) })),
  ),
  bytes(0, 20).map((d): Action => ({ type: 'note', data: d })),
  fc
    .record({
      maxLen: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
      reason: fc.option(fc.constantFrom(0, 1, 2), { nil: undefined }),
      controllerId: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
      userdata: fc.option(bytes(0, 12), { nil: undefined }),
      pause: fc.option(fc.constant(true), { nil: undefined }),
      meterId: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    })
    .map((r): Action => {
      const a: Action = { type: 'controller' };
      for (const [k, v] of Object.entries(r)) if (v !== undefined) (a as Record<string, unknown>)[k] = v;
      return a;
    }),
  fc.constant<Action>({ type: 'ct_clear' }),
  fc.constant<Action>({ type: 'pop_vlan' }),
  fc.constantFrom(0x8100, 0x88a8).map((e): Action => ({ type: 'push_vlan', ethertype: e })),
  fc.integer({ min: 0, max: 0xffffffff }).map((g): Action => ({ type: 'group', groupId: g })),
  fc.integer({ min: 0, max: 0xffffffff }).map((q): Action => ({ type: 'set_queue', queueId: q })),
  fc
    .record({ id: fc.integer({ min: 0, max: 0xffffffff }), n: fc.integer({ min: 2, max: 64 }) })
    .chain((r) =>
      fc
        .integer({ min: 1, max: r.n })
        .map((k): Action => ({ type: 'conjunction', id: r.id, clause: k, nClauses: r.n })),
    ),
  fc
    .record({
      table: fc.integer({ min: 0, max: 254 }),
      priority: fc.integer({ min: 0, max: 0xffff }),
      idle: fc.integer({ min: 0, max: 0xffff }),
      cookie: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      src: rangeArb,
    })
    .chain((r) =>
      fc.bigInt({ min: 0n, max: (1n << BigInt(r.src.nBits)) - 1n }).map(
        (v): Action => ({
          type: 'learn',
          table: r.table,
          priority: r.priority,
          idleTimeout: r.idle,
          cookie: r.cookie,
          specs: [
            { kind: 'match-field', dst: r.src, src: r.src },
            { kind: 'load-value', dst: r.src, value: r.src.nBits > 32 ? v : Number(v) },
            { kind: 'output', src: { field: 'reg0', start: 0, nBits: 16 } },
          ],
        }),
      ),
    ),
  fc
    .record({
      basis: fc.integer({ min: 0, max: 0xffff }),
      links: fc.integer({ min: 1, max: 16 }),
      dst: rangeArb.filter((r) => r.nBits <= 16 && r.nBits >= 4),
    })
    .map(
      (r): Action => ({
        type: 'multipath',
        fields: 0,
        basis: r.basis,
        algorithm: 2,
        maxLink: r.links - 1,
        arg: 0,
        dst: r.dst,
      }),
    ),
);

const ip4 = fc.integer({ min: 0, max: 0xffffffff });
/** ct() with random options (needs an IP match). */
export const ctActionArb: fc.Arbitrary<Action> = fc
  .record({
    commit: fc.boolean(),
    zone: fc.oneof(
      fc.integer({ min: 0, max: 0xffff }),
      fc.constant<FieldRange>({ field: 'reg6', start: 0, nBits: 16 }),
    ),
    table: fc.option(fc.integer({ min: 0, max: 254 }), { nil: undefined }),
    nat: fc.option(
      fc.oneof(
        fc.constant({ kind: 'none' as const }),
        fc
          .record({
            kind: fc.constantFrom('src' as const, 'dst' as const),
            ipMin: ip4,
            span: fc.integer({ min: 1, max: 1000 }),
            persistent: fc.boolean(),
          })
          .map((n) => {
            // Ports need an L4 match (covered by the corpus); addresses only here.
            const out: { kind: 'src' | 'dst'; ipMin: number; ipMax: number; persistent?: boolean } = {
              kind: n.kind,
              ipMin: Math.max(1, n.ipMin - n.span),
              ipMax: Math.max(1, n.ipMin),
            };
            if (n.persistent) out.persistent = true;
            return out;
          }),
      ),
      { nil: undefined },
    ),
    mark: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  })
  .map((r): Action => {
    const a: Action = { type: 'ct', zone: r.zone };
    if (r.commit) a.commit = true;
    if (r.table !== undefined) a.table = r.table;
    if (r.nat) a.nat = r.nat;
    if (r.commit && r.mark !== undefined) a.exec = [{ type: 'set_field', field: 'ct_mark', value: r.mark }];
    return a;
  });

export const instructionsArb: fc.Arbitrary<Instruction[]> = fc
  .record(
    {
      meter: fc.integer({ min: 1, max: 0xffff0000 }),
      apply: fc.array(simpleActionArb, { maxLength: 6 }),
      clear: fc.constant(true),
      write: fc.array(
        port.map((p): Action => ({ type: 'output', port: p })),
        { minLength: 1, maxLength: 1 },
      ),
      meta: fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n })),
      goto: fc.integer({ min: 1, max: 254 }),
    },
    { requiredKeys: [] },
  )
  .map((r) => {
    const out: Instruction[] = [];
    if (r.goto !== undefined) out.push({ type: 'goto_table', table: r.goto });
    if (r.meta) out.push({ type: 'write_metadata', value: r.meta[0] & r.meta[1], mask: r.meta[1] });
    if (r.write) out.push({ type: 'write_actions', actions: r.write });
    if (r.clear) out.push({ type: 'clear_actions' });
    if (r.apply) out.push({ type: 'apply_actions', actions: r.apply });
    if (r.meter !== undefined) out.push({ type: 'meter', meterId: r.meter });
    return out;
  });

export const flowArb: fc.Arbitrary<Flow> = fc
  .record({
    table: fc.integer({ min: 0, max: 254 }),
    priority: fc.integer({ min: 0, max: 0xffff }),
    cookie: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    match: matchArb,
    instructions: instructionsArb,
    idle: fc.integer({ min: 0, max: 0xffff }),
    hard: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.integer({ min: 0, max: 31 }),
  })
  .map((r) => {
    const f: Flow = {
      table: r.table,
      priority: r.priority,
      cookie: r.cookie,
      match: r.match,
      instructions: r.instructions,
    };
    if (r.idle) f.idleTimeout = r.idle;
    if (r.hard) f.hardTimeout = r.hard;
    if (r.flags) f.flags = r.flags;
    return f;
  });

// The one registry of match/set-field fields: OXM/NXM class+field, width, mask, prerequisites, printer.
// Registry order is the order OVS itself writes match fields (nx_put_raw), so a match we encode
// is byte-identical to what OVS encodes and to what its flow stats return.
import { OpenFlowEncodeError } from './errors.js';
import type { FieldName, FieldValue, Match } from './types.js';

/** OXM classes (OpenFlow 1.3 §7.2.3.2) and the Nicira NXM classes OVS accepts in OXM position. */
export const OFPXMC = {
  NXM_0: 0x0000,
  NXM_1: 0x0001,
  OPENFLOW_BASIC: 0x8000,
  PACKET_REGS: 0x8001,
  EXPERIMENTER: 0xffff,
} as const;

/** ONF's experimenter id, used by OVS for OF1.3 fields standardized only later (tcp_flags). */
export const ONF_EXPERIMENTER_ID = 0x4f4e4600;

export interface OxmHeader {
  cls: number;
  field: number;
  /** Experimenter id when cls is OFPXMC.EXPERIMENTER. */
  experimenter?: number;
  /** Payload width of this header's value in bytes (NXM_OF_IN_PORT is 2 where OXM in_port is 4). */
  width: number;
}

export type FieldFormat = 'dec' | 'hex' | 'mac' | 'ipv4' | 'ipv6' | 'port' | 'ct_state' | 'tcp_flags' | 'tun_flags';

export interface FieldDef {
  name: FieldName;
  /** Name ovs-ofctl parses and prints (ovs-fields(7)). */
  ovsName: string;
  /** Value width in bytes on the wire in OF1.3 matches and set_field. */
  width: number;
  /** Significant bits (vlan_vid 13, ip_dscp 6, ...). */
  bits: number;
  maskable: boolean;
  /** Header used in OF1.3 matches and set_field. */
  oxm: OxmHeader;
  /** Header OVS uses inside Nicira actions (move/load/learn), when the field has an NXM one. */
  nxm?: OxmHeader;
  format: FieldFormat;
  /**
   * OVS masks match values to the significant bits; when that leaves all of them, fields like
   * vlan_vid go out exact, while ct_state and tun_flags always carry their mask (0xff, 0x1).
   */
  exactWhenAllBits: boolean;
  /** Human statement of prerequisites, and the checker. */
  prereq?: string;
  check?: (m: Match) => boolean;
}

const basic = (field: number, width: number): OxmHeader => ({ cls: OFPXMC.OPENFLOW_BASIC, field, width });
const nx0 = (field: number, width: number): OxmHeader => ({ cls: OFPXMC.NXM_0, field, width });
const nx1 = (field: number, width: number): OxmHeader => ({ cls: OFPXMC.NXM_1, field, width });
/** A Nicira extension field: the same NXM_1 header in OF1.3 matches and inside Nicira actions. */
const nxm1 = (field: number, width: number) => ({ oxm: nx1(field, width), nxm: nx1(field, width) });

const num = (v: FieldValue | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const ethType = (m: Match): number | undefined => num(m.eth_type?.value);
const isIp4 = (m: Match) => ethType(m) === 0x0800;
const isIp6 = (m: Match) => ethType(m) === 0x86dd;
const isIp = (m: Match) => isIp4(m) || isIp6(m);
const isArp = (m: Match) => ethType(m) === 0x0806 || ethType(m) === 0x8035;
const proto = (m: Match) => num(m.ip_proto?.value);
const isMpls = (m: Match) => ethType(m) === 0x8847 || ethType(m) === 0x8848;

interface Spec {
  name: FieldName;
  ovsName: string;
  width: number;
  bits?: number;
  maskable: boolean;
  oxm: OxmHeader;
  nxm?: OxmHeader;
  format: FieldFormat;
  exactWhenAllBits?: boolean;
  prereq?: string;
  check?: (m: Match) => boolean;
}

const specs: Spec[] = [
  { name: 'conj_id', ovsName: 'conj_id', width: 4, maskable: false, ...nxm1(37, 4), format: 'dec' },
  { name: 'in_port', ovsName: 'in_port', width: 4, maskable: false, oxm: basic(0, 4), nxm: nx0(0, 2), format: 'port' },
  { name: 'eth_src', ovsName: 'eth_src', width: 6, maskable: true, oxm: basic(4, 6), nxm: nx0(2, 6), format: 'mac' },
  { name: 'eth_dst', ovsName: 'eth_dst', width: 6, maskable: true, oxm: basic(3, 6), nxm: nx0(1, 6), format: 'mac' },
  { name: 'eth_type', ovsName: 'eth_type', width: 2, maskable: false, oxm: basic(5, 2), nxm: nx0(3, 2), format: 'hex' },
  { name: 'vlan_vid', ovsName: 'vlan_vid', width: 2, bits: 13, maskable: true, oxm: basic(6, 2), format: 'hex' },
  {
    name: 'vlan_pcp',
    ovsName: 'vlan_pcp',
    width: 1,
    bits: 3,
    maskable: false,
    oxm: basic(7, 1),
    format: 'dec',
    prereq: 'vlan_vid present (OFPVID_PRESENT)',
    check: (m) => m.vlan_vid !== undefined && (Number(m.vlan_vid.value) & 0x1000) !== 0,
  },
  {
    name: 'mpls_tc',
    ovsName: 'mpls_tc',
    width: 1,
    bits: 3,
    maskable: false,
    oxm: basic(35, 1),
    format: 'dec',
    prereq: 'eth_type=0x8847/0x8848',
    check: isMpls,
  },
  {
    name: 'mpls_bos',
    ovsName: 'mpls_bos',
    width: 1,
    bits: 1,
    maskable: false,
    oxm: basic(36, 1),
    format: 'dec',
    prereq: 'eth_type=0x8847/0x8848',
    check: isMpls,
  },
  {
    name: 'mpls_label',
    ovsName: 'mpls_label',
    width: 4,
    bits: 20,
    maskable: false,
    oxm: basic(34, 4),
    format: 'dec',
    prereq: 'eth_type=0x8847/0x8848',
    check: isMpls,
  },
  {
    name: 'ipv4_src',
    ovsName: 'nw_src',
    width: 4,
    maskable: true,
    oxm: basic(11, 4),
    nxm: nx0(7, 4),
    format: 'ipv4',
    prereq: 'eth_type=0x0800',
    check: isIp4,
  },
  {
    name: 'ipv4_dst',
    ovsName: 'nw_dst',
    width: 4,
    maskable: true,
    oxm: basic(12, 4),
    nxm: nx0(8, 4),
    format: 'ipv4',
    prereq: 'eth_type=0x0800',
    check: isIp4,
  },
  {
    name: 'ipv6_src',
    ovsName: 'ipv6_src',
    width: 16,
    maskable: true,
    oxm: basic(26, 16),
    nxm: nx1(19, 16),
    format: 'ipv6',
    prereq: 'eth_type=0x86dd',
    check: isIp6,
  },
  {
    name: 'ipv6_dst',
    ovsName: 'ipv6_dst',
    width: 16,
    maskable: true,
    oxm: basic(27, 16),
    nxm: nx1(20, 16),
    format: 'ipv6',
    prereq: 'eth_type=0x86dd',
    check: isIp6,
  },
  {
    name: 'ip_dscp',
    ovsName: 'ip_dscp',
    width: 1,
    bits: 6,
    maskable: false,
    oxm: basic(8, 1),
    format: 'dec',
    prereq: 'eth_type=0x0800/0x86dd',
    check: isIp,
  },
  {
    name: 'ip_ecn',
    ovsName: 'nw_ecn',
    width: 1,
    bits: 2,
    maskable: false,
    oxm: basic(9, 1),
    nxm: nx1(28, 1),
    format: 'dec',
    prereq: 'eth_type=0x0800/0x86dd',
    check: isIp,
  },
  {
    name: 'nw_ttl',
    ovsName: 'nw_ttl',
    width: 1,
    maskable: false,
    ...nxm1(29, 1),
    format: 'dec',
    prereq: 'eth_type=0x0800/0x86dd',
    check: isIp,
  },
  // OVS writes the IPv6 label after tos/ecn/ttl, just before the protocol.
  {
    name: 'ipv6_flabel',
    ovsName: 'ipv6_label',
    width: 4,
    bits: 20,
    maskable: true,
    oxm: basic(28, 4),
    nxm: nx1(27, 4),
    format: 'hex',
    prereq: 'eth_type=0x86dd',
    check: isIp6,
  },
  {
    name: 'ip_proto',
    ovsName: 'nw_proto',
    width: 1,
    maskable: false,
    oxm: basic(10, 1),
    nxm: nx0(6, 1),
    format: 'dec',
    prereq: 'eth_type=0x0800/0x86dd',
    check: isIp,
  },
  {
    name: 'tcp_src',
    ovsName: 'tcp_src',
    width: 2,
    maskable: true,
    oxm: basic(13, 2),
    nxm: nx0(9, 2),
    format: 'dec',
    prereq: 'ip_proto=6',
    check: (m) => isIp(m) && proto(m) === 6,
  },
  {
    name: 'tcp_dst',
    ovsName: 'tcp_dst',
    width: 2,
    maskable: true,
    oxm: basic(14, 2),
    nxm: nx0(10, 2),
    format: 'dec',
    prereq: 'ip_proto=6',
    check: (m) => isIp(m) && proto(m) === 6,
  },
  {
    name: 'tcp_flags',
    ovsName: 'tcp_flags',
    width: 2,
    bits: 12,
    maskable: true,
    oxm: { cls: OFPXMC.EXPERIMENTER, field: 42, experimenter: ONF_EXPERIMENTER_ID, width: 2 },
    nxm: nx1(34, 2),
    format: 'tcp_flags',
    prereq: 'ip_proto=6',
    check: (m) => isIp(m) && proto(m) === 6,
  },
  {
    name: 'udp_src',
    ovsName: 'udp_src',
    width: 2,
    maskable: true,
    oxm: basic(15, 2),
    nxm: nx0(11, 2),
    format: 'dec',
    prereq: 'ip_proto=17',
    check: (m) => isIp(m) && proto(m) === 17,
  },
  {
    name: 'udp_dst',
    ovsName: 'udp_dst',
    width: 2,
    maskable: true,
    oxm: basic(16, 2),
    nxm: nx0(12, 2),
    format: 'dec',
    prereq: 'ip_proto=17',
    check: (m) => isIp(m) && proto(m) === 17,
  },
  {
    name: 'sctp_src',
    ovsName: 'sctp_src',
    width: 2,
    maskable: true,
    oxm: basic(17, 2),
    format: 'dec',
    prereq: 'ip_proto=132',
    check: (m) => isIp(m) && proto(m) === 132,
  },
  {
    name: 'sctp_dst',
    ovsName: 'sctp_dst',
    width: 2,
    maskable: true,
    oxm: basic(18, 2),
    format: 'dec',
    prereq: 'ip_proto=132',
    check: (m) => isIp(m) && proto(m) === 132,
  },
  {
    name: 'icmpv4_type',
    ovsName: 'icmp_type',
    width: 1,
    maskable: false,
    oxm: basic(19, 1),
    nxm: nx0(13, 1),
    format: 'dec',
    prereq: 'eth_type=0x0800,ip_proto=1',
    check: (m) => isIp4(m) && proto(m) === 1,
  },
  {
    name: 'icmpv4_code',
    ovsName: 'icmp_code',
    width: 1,
    maskable: false,
    oxm: basic(20, 1),
    nxm: nx0(14, 1),
    format: 'dec',
    prereq: 'eth_type=0x0800,ip_proto=1',
    check: (m) => isIp4(m) && proto(m) === 1,
  },
  {
    name: 'icmpv6_type',
    ovsName: 'icmpv6_type',
    width: 1,
    maskable: false,
    oxm: basic(29, 1),
    nxm: nx1(21, 1),
    format: 'dec',
    prereq: 'eth_type=0x86dd,ip_proto=58',
    check: (m) => isIp6(m) && proto(m) === 58,
  },
  {
    name: 'icmpv6_code',
    ovsName: 'icmpv6_code',
    width: 1,
    maskable: false,
    oxm: basic(30, 1),
    nxm: nx1(22, 1),
    format: 'dec',
    prereq: 'eth_type=0x86dd,ip_proto=58',
    check: (m) => isIp6(m) && proto(m) === 58,
  },
  {
    name: 'ipv6_nd_target',
    ovsName: 'nd_target',
    width: 16,
    maskable: true,
    oxm: basic(31, 16),
    nxm: nx1(23, 16),
    format: 'ipv6',
    prereq: 'icmpv6_type=135/136',
    check: (m) => isIp6(m) && proto(m) === 58 && [135, 136].includes(num(m.icmpv6_type?.value) ?? -1),
  },
  {
    name: 'ipv6_nd_sll',
    ovsName: 'nd_sll',
    width: 6,
    maskable: true,
    oxm: basic(32, 6),
    nxm: nx1(24, 6),
    format: 'mac',
    prereq: 'icmpv6_type=135',
    check: (m) => isIp6(m) && proto(m) === 58 && num(m.icmpv6_type?.value) === 135,
  },
  {
    name: 'ipv6_nd_tll',
    ovsName: 'nd_tll',
    width: 6,
    maskable: true,
    oxm: basic(33, 6),
    nxm: nx1(25, 6),
    format: 'mac',
    prereq: 'icmpv6_type=136',
    check: (m) => isIp6(m) && proto(m) === 58 && num(m.icmpv6_type?.value) === 136,
  },
  {
    name: 'arp_op',
    ovsName: 'arp_op',
    width: 2,
    // OVS keeps the ARP opcode in an 8-bit slot; larger values would be silently cut.
    bits: 8,
    maskable: false,
    oxm: basic(21, 2),
    nxm: nx0(15, 2),
    format: 'dec',
    prereq: 'eth_type=0x0806',
    check: isArp,
  },
  {
    name: 'arp_spa',
    ovsName: 'arp_spa',
    width: 4,
    maskable: true,
    oxm: basic(22, 4),
    nxm: nx0(16, 4),
    format: 'ipv4',
    prereq: 'eth_type=0x0806',
    check: isArp,
  },
  {
    name: 'arp_tpa',
    ovsName: 'arp_tpa',
    width: 4,
    maskable: true,
    oxm: basic(23, 4),
    nxm: nx0(17, 4),
    format: 'ipv4',
    prereq: 'eth_type=0x0806',
    check: isArp,
  },
  {
    name: 'arp_sha',
    ovsName: 'arp_sha',
    width: 6,
    maskable: true,
    oxm: basic(24, 6),
    nxm: nx1(17, 6),
    format: 'mac',
    prereq: 'eth_type=0x0806',
    check: isArp,
  },
  {
    name: 'arp_tha',
    ovsName: 'arp_tha',
    width: 6,
    maskable: true,
    oxm: basic(25, 6),
    nxm: nx1(18, 6),
    format: 'mac',
    prereq: 'eth_type=0x0806',
    check: isArp,
  },
  { name: 'tunnel_id', ovsName: 'tun_id', width: 8, maskable: true, oxm: basic(38, 8), nxm: nx1(16, 8), format: 'hex' },
  {
    name: 'tun_flags',
    ovsName: 'tun_flags',
    width: 2,
    bits: 1,
    maskable: true,
    ...nxm1(104, 2),
    format: 'tun_flags',
    exactWhenAllBits: false,
  },
  { name: 'tun_ipv4_src', ovsName: 'tun_src', width: 4, maskable: true, ...nxm1(31, 4), format: 'ipv4' },
  { name: 'tun_ipv4_dst', ovsName: 'tun_dst', width: 4, maskable: true, ...nxm1(32, 4), format: 'ipv4' },
  ...Array.from(
    { length: 16 },
    (_, i): Spec => ({
      name: `reg${i}` as FieldName,
      ovsName: `reg${i}`,
      width: 4,
      maskable: true,
      ...nxm1(i, 4),
      format: 'hex',
    }),
  ),
  ...Array.from(
    { length: 8 },
    (_, i): Spec => ({
      name: `xreg${i}` as FieldName,
      ovsName: `xreg${i}`,
      width: 8,
      maskable: true,
      oxm: { cls: OFPXMC.PACKET_REGS, field: i, width: 8 },
      format: 'hex',
    }),
  ),
  { name: 'pkt_mark', ovsName: 'pkt_mark', width: 4, maskable: true, ...nxm1(33, 4), format: 'hex' },
  {
    name: 'ct_state',
    ovsName: 'ct_state',
    width: 4,
    bits: 8,
    maskable: true,
    ...nxm1(105, 4),
    format: 'ct_state',
    exactWhenAllBits: false,
  },
  { name: 'ct_zone', ovsName: 'ct_zone', width: 2, maskable: false, ...nxm1(106, 2), format: 'dec' },
  { name: 'ct_mark', ovsName: 'ct_mark', width: 4, maskable: true, ...nxm1(107, 4), format: 'hex' },
  {
    name: 'ct_label',
    ovsName: 'ct_label',
    width: 16,
    maskable: true,
    ...nxm1(108, 16),
    format: 'hex',
  },
  {
    name: 'ct_ipv4_src',
    ovsName: 'ct_nw_src',
    width: 4,
    maskable: true,
    ...nxm1(120, 4),
    format: 'ipv4',
    prereq: 'eth_type=0x0800',
    check: isIp4,
  },
  {
    name: 'ct_ipv4_dst',
    ovsName: 'ct_nw_dst',
    width: 4,
    maskable: true,
    ...nxm1(121, 4),
    format: 'ipv4',
    prereq: 'eth_type=0x0800',
    check: isIp4,
  },
  {
    name: 'ct_nw_proto',
    ovsName: 'ct_nw_proto',
    width: 1,
    maskable: false,
    ...nxm1(119, 1),
    format: 'dec',
    prereq: 'eth_type=0x0800/0x86dd',
    check: isIp,
  },
  {
    name: 'ct_tp_src',
    ovsName: 'ct_tp_src',
    width: 2,
    maskable: true,
    ...nxm1(124, 2),
    format: 'dec',
    prereq: 'eth_type=0x0800/0x86dd',
    check: isIp,
  },
  {
    name: 'ct_tp_dst',
    ovsName: 'ct_tp_dst',
    width: 2,
    maskable: true,
    ...nxm1(125, 2),
    format: 'dec',
    prereq: 'eth_type=0x0800/0x86dd',
    check: isIp,
  },
  { name: 'metadata', ovsName: 'metadata', width: 8, maskable: true, oxm: basic(2, 8), format: 'hex' },
  // Standard OXM fields OVS 3.1 does not implement: encoded and decoded, never sent by the agent.
  {
    name: 'in_phy_port',
    ovsName: 'in_phy_port',
    width: 4,
    maskable: false,
    oxm: basic(1, 4),
    format: 'port',
    prereq: 'in_port',
    check: (m) => m.in_port !== undefined,
  },
  {
    name: 'pbb_isid',
    ovsName: 'pbb_isid',
    width: 3,
    bits: 24,
    maskable: true,
    oxm: basic(37, 3),
    format: 'hex',
    prereq: 'eth_type=0x88e7',
    check: (m) => ethType(m) === 0x88e7,
  },
  {
    name: 'ipv6_exthdr',
    ovsName: 'ipv6_exthdr',
    width: 2,
    bits: 9,
    maskable: true,
    oxm: basic(39, 2),
    format: 'hex',
    prereq: 'eth_type=0x86dd',
    check: isIp6,
  },
];

/** Every field, in OVS's match order. */
export const FIELDS: readonly FieldDef[] = specs.map((s) => ({
  ...s,
  bits: s.bits ?? s.width * 8,
  exactWhenAllBits: s.exactWhenAllBits ?? true,
}));

export const FIELD_BY_NAME: ReadonlyMap<FieldName, FieldDef> = new Map(FIELDS.map((f) => [f.name, f]));

// Numeric keys (class, field, experimenter) keep the decoder's hot lookup free of string building.
const headerKey = (cls: number, field: number, experimenter = 0): number => experimenter * 2 ** 23 + cls * 128 + field;

/** Header (class, field[, experimenter]) -> field; both OXM and NXM spellings resolve. */
const BY_HEADER = new Map<number, { def: FieldDef; hdr: OxmHeader }>();
for (const f of FIELDS) {
  for (const h of [f.oxm, f.nxm]) {
    if (!h || (h === f.nxm && h.cls === f.oxm.cls && h.field === f.oxm.field)) continue;
    const k = headerKey(h.cls, h.field, h.experimenter);
    if (BY_HEADER.has(k)) throw new Error(`field registry: header ${k} used twice (${f.name})`);
    BY_HEADER.set(k, { def: f, hdr: h });
  }
}

export function fieldByHeader(
  cls: number,
  field: number,
  experimenter?: number,
): { def: FieldDef; hdr: OxmHeader } | undefined {
  return BY_HEADER.get(headerKey(cls, field, experimenter ?? 0));
}

export function fieldDef(name: FieldName | string): FieldDef {
  const f = FIELD_BY_NAME.get(name as FieldName);
  if (!f) throw new OpenFlowEncodeError(String(name), 'unknown field');
  return f;
}

export function isFieldName(name: string): name is FieldName {
  return FIELD_BY_NAME.has(name as FieldName);
}

/** Values wider than 32 bits are bigints in the model, narrower ones numbers. */
export function isWide(def: FieldDef): boolean {
  return def.width > 4;
}

/** Value in the model's representation for this field. */
export function canonicalValue(def: FieldDef, v: FieldValue): FieldValue {
  return isWide(def) ? BigInt(v) : Number(v);
}

export function fieldMax(def: FieldDef): bigint {
  return (1n << BigInt(def.bits)) - 1n;
}

/**
 * The mask OVS puts on the wire for a match entry: `mask` (absent = exact) cut to the field's
 * significant bits; undefined = exact; 0n = the entry matches anything (OVS leaves it out).
 */
export function canonicalMask(def: FieldDef, mask: FieldValue | undefined): bigint | undefined {
  const sig = (1n << BigInt(def.bits)) - 1n;
  const full = (1n << BigInt(def.oxm.width * 8)) - 1n;
  if (!def.maskable) return undefined;
  const m = (mask === undefined ? full : BigInt(mask)) & sig;
  if (m === full || (def.exactWhenAllBits && m === sig)) return undefined;
  return m;
}

/** Throws OpenFlowEncodeError naming the field when a value or mask does not fit. */
export function checkValue(def: FieldDef, v: FieldValue, what = 'value', bits = def.bits): bigint {
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0)
      throw new OpenFlowEncodeError(def.name, `${what} ${v} is not a non-negative integer`);
    b = BigInt(v);
  } else if (typeof v === 'bigint') {
    b = v;
  } else {
    throw new OpenFlowEncodeError(def.name, `${what} must be a number or bigint`);
  }
  if (b < 0n || b >= 1n << BigInt(bits))
    throw new OpenFlowEncodeError(def.name, `${what} 0x${b.toString(16)} does not fit in ${bits} bits`);
  return b;
}

/** Check every field's prerequisites; returns the first unmet one as an error. */
export function checkPrerequisites(m: Match): OpenFlowEncodeError | undefined {
  for (const [name, entry] of Object.entries(m)) {
    if (!entry) continue;
    const def = FIELD_BY_NAME.get(name as FieldName);
    if (!def) return new OpenFlowEncodeError(name, 'unknown field');
    if (def.check && !def.check(m)) return new OpenFlowEncodeError(name, `prerequisite not met: ${def.prereq}`);
  }
  return undefined;
}

// The register and metadata bit layout of the pipeline, declared once; flows use these, never raw bit numbers.
import type { FieldRange, Match } from '../../openflow/types.js';

/** A named bit range of a register or of metadata. */
export interface RegField extends FieldRange {
  /** What the bits carry. */
  doc: string;
}

function field(f: FieldRange['field'], start: number, nBits: number, doc: string): RegField {
  return { field: f, start, nBits, doc };
}

/**
 * The layout, one entry per field (its register and bits, what they carry); the named exports below and
 * REGISTER_LAYOUT are read from it. No two fields may overlap unless one contains the other (the layout test).
 */
const LAYOUT = {
  /**
   * metadata[0..23]: the network key (the network's 24-bit `tunnel_key`) of the packet's current network.
   * Written by classifier (local port), tunnel_ingress (tun_id) and l3_routing (destination network).
   * Every per-network table matches it, which is what isolates networks with overlapping IP ranges.
   */
  NETWORK_KEY: field('metadata', 0, 24, 'network key (tunnel_key) of the current network'),
  /** reg0: packet flags, one bit each (the four below). */
  FLAGS: field('reg0', 0, 32, 'packet flags'),
  /** bit 0: the packet entered on a tunnel port; it must never be tunnelled again (split horizon). */
  FROM_TUNNEL: field('reg0', 0, 1, 'entered on a tunnel port'),
  /**
   * bit 3: the packet entered on an uplink port (a physical network's segment); it must never be sent back to an
   * uplink (split horizon: the segment already carried it to everyone there).
   */
  FROM_UPLINK: field('reg0', 3, 1, 'entered on an uplink port'),
  /**
   * bit 4: a frame from an uplink is longer than a virtual network takes (check_pkt_larger in the classifier);
   * routed or translated into one, it is answered with ICMP "fragmentation needed" instead.
   */
  TOO_BIG: field('reg0', 4, 1, 'frame from an uplink longer than virtual networks take'),
  /**
   * bit 1 / bit 2: a rule of the sending (receiving) interface allows the packet; set in egress_acl (ingress_acl)
   * and acted on by egress_verdict (ingress_verdict). One bit per direction, because a packet between two
   * filtered VMs is judged twice.
   */
  EGRESS_ALLOWED: field('reg0', 1, 1, 'egress rules allow the packet'),
  INGRESS_ALLOWED: field('reg0', 2, 1, 'ingress rules allow the packet'),
  /**
   * reg2: the local ofport a filtered packet is delivered to; set by l2_lookup for destinations whose interface
   * is filtered, matched by ingress_acl (which interface's rules apply) and output.
   */
  OUT_PORT: field('reg2', 0, 32, 'destination ofport of a filtered delivery'),
  /**
   * reg3: the route link a routed packet is on (a 32-bit hash of its uuid), set by l3_routing, matched by
   * l3_lookup; so routes and router addresses cost flows per link, not per pair of networks.
   */
  ROUTE_LINK: field('reg3', 0, 32, 'route link of a routed packet'),
  /**
   * reg5[0..15]: conntrack zone of the current network (the network's 16-bit `ct_zone`); egress ct uses the
   * source network's zone, ingress ct the destination network's (l3_routing and tunnel_ingress reload it).
   */
  CT_ZONE: field('reg5', 0, 16, 'conntrack zone of the current network'),
  /** reg6 + reg7[0..15]: scratch for swapping MAC addresses (in-switch ICMP echo and ARP replies). */
  TMP_MAC_LO: field('reg6', 0, 32, 'scratch: low 32 bits of a MAC'),
  TMP_MAC_HI: field('reg7', 0, 16, 'scratch: high 16 bits of a MAC'),
  /**
   * reg7[16..31]: in_port kept while a delivery to a VLAN sub-interface clears it: the frame leaves on the
   * sub-interface's trunk, which may be the port it came in on (the trunk's own network routed or switched to a
   * sub-interface), and OVS never sends a frame back out of its in_port.
   */
  SAVED_IN_PORT: field('reg7', 16, 16, 'scratch: in_port during a delivery to a sub-interface'),
  /**
   * ct_mark bits of a conntrack entry (kept by the switch, not by a packet): after the connection was
   * established, the sender's egress rules (the receiver's ingress rules) stopped allowing it (a rule or a
   * remote-group member went away); its packets are dropped both ways until a rule allows it again, which clears
   * the bit. One bit per direction: both ends may be filtered VMs on one host, sharing the entry (one zone per
   * network).
   */
  CT_BLOCKED_EGRESS: field('ct_mark', 0, 1, 'connection refused by egress rules since it was set up'),
  CT_BLOCKED_INGRESS: field('ct_mark', 1, 1, 'connection refused by ingress rules since it was set up'),
} as const;

export const {
  NETWORK_KEY,
  FLAGS,
  FROM_TUNNEL,
  FROM_UPLINK,
  TOO_BIG,
  EGRESS_ALLOWED,
  INGRESS_ALLOWED,
  OUT_PORT,
  ROUTE_LINK,
  CT_ZONE,
  TMP_MAC_LO,
  TMP_MAC_HI,
  SAVED_IN_PORT,
  CT_BLOCKED_EGRESS,
  CT_BLOCKED_INGRESS,
} = LAYOUT;

/** Every declared field, for the docs and the layout test. */
export const REGISTER_LAYOUT: readonly RegField[] = Object.values(LAYOUT);

/** Mask of NETWORK_KEY within metadata, for write_metadata and metadata matches. */
export const NETWORK_KEY_MASK = 0xffffffn;

// Matches on declared fields. Each returns a one-key Match named by the field's register (spread it into a
// flow's match), so call sites say which field they test (OUT_PORT, ROUTE_LINK), never which register holds it.

/** Match the field holding `value` (masked unless the field is a whole 32-bit register). */
export function matchReg(f: FieldRange, value: number): Match {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** f.nBits)
    throw new RangeError(`${value} does not fit ${f.field}[${f.start}..${f.start + f.nBits - 1}]`);
  if (f.field === 'metadata') {
    const mask = ((1n << BigInt(f.nBits)) - 1n) << BigInt(f.start);
    return { metadata: { value: BigInt(value) << BigInt(f.start), mask } };
  }
  if (f.start === 0 && f.nBits === 32) return { [f.field]: { value } } as Match;
  return { [f.field]: { value: (value * 2 ** f.start) >>> 0, mask: bitMask(f) } } as Match;
}

/** Match one flag bit (or several bits of one register) being all set or all clear. */
export function matchFlag(f: FieldRange | readonly FieldRange[], set: boolean): Match {
  const fs: readonly FieldRange[] = Array.isArray(f) ? f : [f as FieldRange];
  const field = fs[0]!.field;
  if (fs.some((x) => x.field !== field)) throw new Error(`matchFlag: ${fs.map((x) => x.field).join(', ')} differ`);
  const mask = fs.reduce((m, x) => (m | bitMask(x)) >>> 0, 0);
  return { [field]: { value: set ? mask : 0, mask } } as Match;
}

/** The mask of a field of at most 31 bits within its 32-bit register (or ct_mark). */
export function bitMask(f: FieldRange): number {
  return ((2 ** f.nBits - 1) * 2 ** f.start) >>> 0;
}

/** reg3 value of a route link. */
export function routeLinkId(hash: bigint): number {
  return Number(hash & 0xffffffffn) || 1;
}

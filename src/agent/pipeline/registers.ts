// The register and metadata bit layout of the pipeline, declared once; flows use these, never raw bit numbers.
import type { FieldRange, MatchEntry } from '../../openflow/types.js';

/** A named bit range of a register or of metadata. */
export interface RegField extends FieldRange {
  /** What the bits carry. */
  doc: string;
}

function field(f: FieldRange['field'], start: number, nBits: number, doc: string): RegField {
  return { field: f, start, nBits, doc };
}

/**
 * metadata[0..23]: the network key (the network's 24-bit `tunnel_key`) of the packet's current network.
 * Written by classifier (local port), tunnel_ingress (tun_id) and l3_routing (destination network).
 * Every per-network table matches it, which is what isolates networks with overlapping IP ranges.
 */
export const NETWORK_KEY = field('metadata', 0, 24, 'network key (tunnel_key) of the current network');

/** Mask of NETWORK_KEY within metadata, for write_metadata and metadata matches. */
export const NETWORK_KEY_MASK = 0xffffffn;

/**
 * reg0: packet flags.
 *   bit 0 FROM_TUNNEL: the packet entered on a tunnel port; it must never be tunnelled again (split horizon).
 */
export const FLAGS = field('reg0', 0, 32, 'packet flags');
export const FROM_TUNNEL = field('reg0', 0, 1, 'entered on a tunnel port');

/**
 * reg2: the local ofport a filtered packet is delivered to; set by l2_lookup for destinations whose interface
 * is filtered, matched by ingress_acl (which interface's rules apply) and output.
 */
export const OUT_PORT = field('reg2', 0, 32, 'destination ofport of a filtered delivery');

/**
 * reg3: the route link a routed packet is on (a 32-bit hash of its uuid), set by l3_routing, matched by
 * l3_lookup; so routes and router addresses cost flows per link, not per pair of networks.
 */
export const ROUTE_LINK = field('reg3', 0, 32, 'route link of a routed packet');

/** reg6 + reg7[0..15]: scratch for swapping MAC addresses in in-switch ICMP echo replies. */
export const TMP_MAC_LO = field('reg6', 0, 32, 'scratch: low 32 bits of a MAC');
export const TMP_MAC_HI = field('reg7', 0, 16, 'scratch: high 16 bits of a MAC');

/**
 * reg5[0..15]: conntrack zone of the current network (the network's 16-bit `ct_zone`); egress ct uses the
 * source network's zone, ingress ct the destination network's (l3_routing and tunnel_ingress reload it).
 */
export const CT_ZONE = field('reg5', 0, 16, 'conntrack zone of the current network');

/** Metadata match for a network key. */
export function matchNetworkKey(key: number): MatchEntry {
  return { value: BigInt(key), mask: NETWORK_KEY_MASK };
}

/** Match on one flag bit being set (value 1) or clear (value 0). */
export function matchFlag(f: FieldRange, set: boolean): MatchEntry {
  const bit = 1 << f.start;
  return { value: set ? bit : 0, mask: bit };
}

/** Every declared field, for the docs and the layout test (no two may overlap unless one contains the other). */
export const REGISTER_LAYOUT: readonly RegField[] = [
  NETWORK_KEY,
  FLAGS,
  FROM_TUNNEL,
  OUT_PORT,
  ROUTE_LINK,
  CT_ZONE,
  TMP_MAC_LO,
  TMP_MAC_HI,
];

/** reg3 value of a route link. */
export function routeLinkId(hash: bigint): number {
  return Number(hash & 0xffffffffn) || 1;
}

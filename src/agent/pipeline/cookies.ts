// Flow cookie layout: kind(8) | tag(8) | object id hash(48) — names the API object (and feature) a flow exists for.
//
// A trace names the owner of every flow it hits (describeCookie); all flows of one object are found (and can be
// deleted) with cookie + COOKIE_MASK_OBJECT; packet-ins are dispatched on kind/tag (OF 1.3 packet-in carries the
// cookie of the flow that sent it).

/** Object kinds (bits 56..63). Values are stable: they are on switches. */
export const COOKIE_KIND = {
  pipeline: 0x01,
  datapath: 0x02,
  network: 0x03,
  interface: 0x04,
  route_link: 0x05,
  route: 0x06,
  network_service: 0x07,
  filter: 0x08,
  security_group: 0x09,
  translation: 0x0a,
  segment: 0x0b,
} as const;
export type CookieKind = keyof typeof COOKIE_KIND;

/** Feature tags (bits 48..55): which job a flow does for its owner. Values are stable. */
export const COOKIE_TAG = {
  none: 0x00,
  classify: 0x01,
  spoof: 0x02,
  arp: 0x03,
  icmp: 0x04,
  dhcp: 0x05,
  l2: 0x06,
  flood: 0x07,
  routing: 0x08,
  neighbor: 0x09,
  tunnel: 0x0a,
  filter: 0x0b,
  ipv6: 0x0c,
  uplink: 0x0d,
  snat: 0x0e,
  mtu: 0x0f,
  /** A new connection the gateway could not translate (snat_result): its packet count is read as a counter. */
  snat_refused: 0x10,
  /** DNS queries punted to the agent (dns_punt) and the DNS service's flows that send them there. */
  dns: 0x11,
  /** The way to the agent's metadata server (169.254.169.254) and back. */
  metadata: 0x12,
  /** A frame to an address this host answers for on a segment, turned around in the switch (l2_lookup). */
  hairpin: 0x13,
  /**
   * A MAC learned behind a promiscuous port (l2_lookup), written by the switch's learn(): never the agent's to
   * install or delete, it ages out by itself (the diff leaves it alone).
   */
  learned: 0x14,
  /** A VLAN sub-interface's tag on its parent's port (classifier) and the way back to it (reply_out). */
  trunk: 0x15,
  /** Tagged frames from a VM port that no sub-interface claims (classifier drop). */
  vlan: 0x16,
} as const;
export type CookieTag = keyof typeof COOKIE_TAG;

/** Cookie mask selecting every flow of one object (kind + id, any tag). */
export const COOKIE_MASK_OBJECT = 0xff00_ffff_ffff_ffffn;
/** Cookie mask selecting every flow of one kind. */
export const COOKIE_MASK_KIND = 0xff00_0000_0000_0000n;
/** Cookie mask selecting one feature of one object. */
export const COOKIE_MASK_EXACT = 0xffff_ffff_ffff_ffffn;

const KIND_BY_VALUE = new Map<number, CookieKind>(
  Object.entries(COOKIE_KIND).map(([k, v]) => [v, k as CookieKind] as const),
);
const TAG_BY_VALUE = new Map<number, CookieTag>(
  Object.entries(COOKIE_TAG).map(([k, v]) => [v, k as CookieTag] as const),
);

// hash → uuid of every object this process made a cookie for, so describeCookie can name it; bounded by the
// number of objects in the model (entries are a few dozen bytes).
const names = new Map<bigint, string>();
const hashCache = new Map<string, bigint>();

/** 48-bit FNV-1a hash of a uuid (two 32-bit lanes), stable across processes and versions. */
export function objectHash(uuid: string): bigint {
  const cached = hashCache.get(uuid);
  if (cached !== undefined) return cached;
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < uuid.length; i++) {
    const c = uuid.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
  }
  const h = (BigInt(b & 0xffff) << 32n) | BigInt(a);
  hashCache.set(uuid, h);
  names.set(h, uuid);
  return h;
}

/** Cookie of a flow owned by object `uuid` of `kind`, doing feature `tag`. */
export function cookieFor(kind: CookieKind, uuid: string, tag: CookieTag = 'none'): bigint {
  return PREFIX[kind][tag] | objectHash(uuid);
}

// kind/tag prefixes precomputed: cookieFor runs for every flow.
const PREFIX = Object.fromEntries(
  Object.entries(COOKIE_KIND).map(([k, kv]) => [
    k,
    Object.fromEntries(Object.entries(COOKIE_TAG).map(([t, tv]) => [t, (BigInt(kv) << 56n) | (BigInt(tv) << 48n)])),
  ]),
) as Record<CookieKind, Record<CookieTag, bigint>>;

/** Cookie of a pipeline-wide flow (table misses, IPv6 drop, tunnel classification). */
export function pipelineCookie(tag: CookieTag = 'none'): bigint {
  return (BigInt(COOKIE_KIND.pipeline) << 56n) | (BigInt(COOKIE_TAG[tag]) << 48n);
}

/** What a cookie says. `uuid` is known when this process generated a cookie for that object. */
export interface CookieDescription {
  kind: CookieKind | 'unknown';
  tag: CookieTag | 'unknown';
  hash: bigint;
  uuid: string | null;
  /** e.g. "interface if-veth1 (arp)", "pipeline (ipv6)", "unknown 0x... " */
  text: string;
}

/** Decode a cookie into kind, tag and (when known) the owning object's uuid. */
export function describeCookie(cookie: bigint): CookieDescription {
  const kindV = Number((cookie >> 56n) & 0xffn);
  const tagV = Number((cookie >> 48n) & 0xffn);
  const hash = cookie & 0xffff_ffff_ffffn;
  const kind = KIND_BY_VALUE.get(kindV) ?? 'unknown';
  const tag = TAG_BY_VALUE.get(tagV) ?? 'unknown';
  const uuid = kind === 'pipeline' ? null : (names.get(hash) ?? null);
  const tagText = tag === 'none' ? '' : ` (${tag})`;
  let text: string;
  if (kind === 'unknown') text = `unknown 0x${cookie.toString(16)}`;
  else if (kind === 'pipeline') text = `pipeline${tagText}`;
  else text = `${kind} ${uuid ?? `#${hash.toString(16)}`}${tagText}`;
  return { kind, tag, hash, uuid, text };
}

/** Kind and tag of a cookie, for packet-in dispatch. */
export function cookieKindTag(cookie: bigint): { kind: CookieKind | 'unknown'; tag: CookieTag | 'unknown' } {
  return {
    kind: KIND_BY_VALUE.get(Number((cookie >> 56n) & 0xffn)) ?? 'unknown',
    tag: TAG_BY_VALUE.get(Number((cookie >> 48n) & 0xffn)) ?? 'unknown',
  };
}

/** The same object's cookie with another feature tag. */
export function withTag(cookie: bigint, tag: CookieTag): bigint {
  return (cookie & ~0x00ff_0000_0000_0000n) | (BigInt(COOKIE_TAG[tag]) << 48n);
}

const LEARNED_TAG = BigInt(COOKIE_TAG.learned);

/** True when the switch wrote the flow itself (learn() behind a promiscuous port): the agent neither owns nor deletes it. */
export function isLearned(cookie: bigint): boolean {
  return ((cookie >> 48n) & 0xffn) === LEARNED_TAG;
}

/** True when a packet-in is a frame too big for a virtual network (answered with ICMP "fragmentation needed"). */
export function isTooBigPunt(cookie: bigint): boolean {
  return cookieKindTag(cookie).tag === 'mtu';
}

/** True when a packet-in came from the DHCP punt flow (dhcp_punt; the runtime answers it with its DHCP server). */
export function isDhcpPunt(cookie: bigint): boolean {
  const { kind, tag } = cookieKindTag(cookie);
  return kind === 'pipeline' && tag === 'dhcp';
}

/** True when a packet-in came from the DNS punt flow (dns_punt; the runtime answers it with its DNS service). */
export function isDnsPunt(cookie: bigint): boolean {
  const { kind, tag } = cookieKindTag(cookie);
  return kind === 'pipeline' && tag === 'dns';
}

// Address helpers for flow generation: MACs as 48-bit bigints, IPv4 as uint32 numbers, with typed parse errors.

/** A model address that cannot be turned into a flow value; names the field and the value. */
export class PipelineAddressError extends Error {
  readonly code = 'VNET_ERR_PIPELINE_ADDRESS';
  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(`${field}: invalid address ${JSON.stringify(value)}`);
    this.name = 'PipelineAddressError';
  }
}

const MAC_RE = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;
const macCache = new Map<string, bigint>();

/** "02:00:00:00:00:01" → 0x020000000001n. */
export function parseMac(s: unknown, field = 'mac_address'): bigint {
  if (typeof s !== 'string') throw new PipelineAddressError(field, s);
  const c = macCache.get(s);
  if (c !== undefined) return c;
  const m = MAC_RE.exec(s);
  if (!m) throw new PipelineAddressError(field, s);
  const v = BigInt(`0x${m.slice(1, 7).join('')}`);
  macCache.set(s, v);
  return v;
}

/** 48-bit MAC → "02:00:00:00:00:01". */
export function formatMac(v: bigint): string {
  const h = v.toString(16).padStart(12, '0');
  return h.match(/../g)!.join(':');
}

/** "10.0.0.1" → 0x0a000001. */
export function parseIpv4(s: unknown, field = 'ipv4_address'): number {
  if (typeof s !== 'string') throw new PipelineAddressError(field, s);
  const parts = s.split('.');
  if (parts.length !== 4) throw new PipelineAddressError(field, s);
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) throw new PipelineAddressError(field, s);
    const n = Number(p);
    if (n > 255) throw new PipelineAddressError(field, s);
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** uint32 → "10.0.0.1". */
export function formatIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Netmask of a prefix length as uint32 (0 → 0). */
export function prefixMask(len: number): number {
  if (!Number.isInteger(len) || len < 0 || len > 32) throw new PipelineAddressError('ipv4_prefix', len);
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** "10.0.0.0/8" (or a bare address = /32) → {addr, len}. */
export function parseCidr(s: unknown, field = 'cidr'): { addr: number; len: number } {
  if (typeof s !== 'string') throw new PipelineAddressError(field, s);
  const [a, l] = s.split('/');
  const len = l === undefined ? 32 : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > 32 || (l !== undefined && !/^\d+$/.test(l)))
    throw new PipelineAddressError(field, s);
  const addr = parseIpv4(a, field);
  return { addr: (addr & prefixMask(len)) >>> 0, len };
}

/** The group bit of a MAC (broadcast and multicast). */
export const MAC_MULTICAST_BIT = 0x0100_0000_0000n;
export const MAC_BROADCAST = 0xffff_ffff_ffffn;

/** A model value flow generation cannot use (e.g. a network without a valid 24-bit key); names the field. */
export class PipelineModelError extends Error {
  readonly code = 'VNET_ERR_PIPELINE_MODEL';
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${field}: ${reason} (got ${JSON.stringify(value)})`);
    this.name = 'PipelineModelError';
  }
}

/** The network's 24-bit key and 16-bit conntrack zone, validated. */
export function networkIds(net: { uuid: string; tunnel_key: unknown; ct_zone: unknown }): {
  key: number;
  zone: number;
} {
  const key = net.tunnel_key;
  if (typeof key !== 'number' || !Number.isInteger(key) || key < 1 || key > 0xffffff)
    throw new PipelineModelError(`networks.${net.uuid}.tunnel_key`, key, 'must be an integer in 1..16777215');
  const zone = net.ct_zone;
  if (typeof zone !== 'number' || !Number.isInteger(zone) || zone < 0 || zone > 0xffff)
    throw new PipelineModelError(`networks.${net.uuid}.ct_zone`, zone, 'must be an integer in 0..65535');
  return { key, zone };
}

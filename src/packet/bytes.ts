// Byte helpers shared by the packet codecs: bounds-checked reads, MAC/IPv4 text forms, the Internet checksum.
import { PacketMalformedError, PacketTruncatedError, PacketValueError } from './errors.js';

/** Throws a PacketTruncatedError unless `buf` holds `len` bytes from `offset`. */
export function need(buf: Uint8Array, offset: number, len: number, field: string): void {
  if (offset + len > buf.length) throw new PacketTruncatedError(field, len, Math.max(0, buf.length - offset));
}

export function u16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function u32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function putU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

export function putU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** Checks an integer fits `bits` unsigned bits before it is written. */
export function checkUint(v: number, bits: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 2 ** bits - 1) {
    throw new PacketValueError(field, `expected an integer in 0..${2 ** bits - 1}, got ${v}`);
  }
  return v;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** MAC address as lower-case `aa:bb:cc:dd:ee:ff`. */
export function formatMac(buf: Uint8Array, off = 0): string {
  return `${HEX[buf[off]!]}:${HEX[buf[off + 1]!]}:${HEX[buf[off + 2]!]}:${HEX[buf[off + 3]!]}:${HEX[buf[off + 4]!]}:${HEX[buf[off + 5]!]}`;
}

const MAC_RE = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/** Parses `aa:bb:cc:dd:ee:ff` (or with dashes) into 6 bytes. */
export function parseMac(text: string, field = 'mac'): Uint8Array {
  if (typeof text !== 'string' || !MAC_RE.test(text))
    throw new PacketValueError(field, `not a MAC address: ${String(text)}`);
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = Number.parseInt(text.slice(i * 3, i * 3 + 2), 16);
  return out;
}

/** Canonical lower-case colon form of a MAC address, or null if it is not one. */
export function normalizeMac(text: string): string | null {
  return typeof text === 'string' && MAC_RE.test(text) ? text.toLowerCase().replaceAll('-', ':') : null;
}

export function writeMac(buf: Uint8Array, off: number, text: string, field: string): void {
  buf.set(parseMac(text, field), off);
}

/** IPv4 address as dotted quad. */
export function formatIpv4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses a dotted quad into a uint32. */
export function ipv4ToInt(text: string, field = 'ipv4'): number {
  if (typeof text !== 'string' || !IPV4_RE.test(text))
    throw new PacketValueError(field, `not an IPv4 address: ${String(text)}`);
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

export function intToIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export function isIpv4(text: unknown): text is string {
  return typeof text === 'string' && IPV4_RE.test(text);
}

export function writeIpv4(buf: Uint8Array, off: number, text: string, field: string): void {
  putU32(buf, off, ipv4ToInt(text, field));
}

/** Netmask (uint32) of a prefix length 0..32. */
export function prefixToMask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32)
    throw new PacketValueError('prefix', `expected 0..32, got ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * RFC 1071 one's-complement sum of `buf[off..off+len)`, folded to 16 bits, starting from `initial`
 * (so a pseudo-header can be summed first). Returns the folded sum, not its complement.
 */
export function onesSum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8; // odd length: pad with a zero byte (RFC 1071)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum (RFC 1071) of a region. */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~onesSum(buf, off, len, initial) & 0xffff;
}

/** Hex dump helper for tests and logs. */
export function toHex(buf: Uint8Array): string {
  let s = '';
  for (const b of buf) s += HEX[b];
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean))
    throw new PacketMalformedError('hex', 'not an even-length hex string');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

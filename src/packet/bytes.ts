// Byte helpers shared by the packet codecs: bounds-checked reads, MAC/IPv4 text forms, the Internet checksum.
import { PacketMalformedError, PacketTruncatedError, PacketValueError } from './errors.js';

/** Throws a PacketTruncatedError unless `buf` holds `len` bytes from `offset`. */
export function need(buf: Uint8Array, offset: number, len: number, field: string): void {
  if (offset + len > buf.length) throw new PacketTruncatedError(field, len, Math.max(0, buf.length - offset));
}

/**
 * A header's own length field (IPv4 total_length, UDP length): at least `headerLen` and all of it in
 * `buf` (which may be longer, e.g. Ethernet padding). Returns `len`.
 */
export function checkLengthField(buf: Uint8Array, len: number, headerLen: number, field: string): number {
  if (len < headerLen) throw new PacketMalformedError(field, `${len} is shorter than the header (${headerLen})`);
  need(buf, 0, len, field);
  return len;
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

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or with dashes) into `out`; false if it is not a MAC. Hot path: no regex. */
function macInto(text: string, out: Uint8Array, off: number): boolean {
  if (typeof text !== 'string' || text.length !== 17) return false;
  const sep = text.charCodeAt(2);
  if (sep !== 58 && sep !== 45) return false;
  for (let i = 0; i < 6; i++) {
    const hi = hexVal(text.charCodeAt(i * 3));
    const lo = hexVal(text.charCodeAt(i * 3 + 1));
    if (hi < 0 || lo < 0 || (i < 5 && text.charCodeAt(i * 3 + 2) !== sep)) return false;
    out[off + i] = (hi << 4) | lo;
  }
  return true;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or with dashes) into 6 bytes. */
export function parseMac(text: string, field = 'mac'): Uint8Array {
  const out = new Uint8Array(6);
  if (!macInto(text, out, 0)) throw new PacketValueError(field, `not a MAC address: ${String(text)}`);
  return out;
}

const scratch = new Uint8Array(6);

/** Canonical lower-case colon form of a MAC address, or null if it is not one. */
export function normalizeMac(text: string): string | null {
  if (!macInto(text, scratch, 0)) return null;
  return formatMac(scratch, 0);
}

export function writeMac(buf: Uint8Array, off: number, text: string, field: string): void {
  if (!macInto(text, buf, off)) throw new PacketValueError(field, `not a MAC address: ${String(text)}`);
}

/** IPv4 address as dotted quad. */
export function formatIpv4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** Parses a strict dotted quad (no leading zeros, no spaces) to a uint32, or -1. Hot path: no regex. */
function parseIpv4(text: string): number {
  if (typeof text !== 'string' || text.length < 7 || text.length > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

/** Parses a dotted quad into a uint32. */
export function ipv4ToInt(text: string, field = 'ipv4'): number {
  const v = parseIpv4(text);
  if (v < 0) throw new PacketValueError(field, `not an IPv4 address: ${String(text)}`);
  return v;
}

export function intToIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export function isIpv4(text: unknown): text is string {
  return typeof text === 'string' && parseIpv4(text) >= 0;
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

/** Throws a PacketMalformedError for `field` unless the region (with its checksum in it) sums to all ones. */
export function verifyChecksum(buf: Uint8Array, off: number, len: number, field: string, initial = 0): void {
  if (onesSum(buf, off, len, initial) !== 0xffff) throw new PacketMalformedError(field, 'checksum mismatch');
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

// IPv4 headers (RFC 791) with the header checksum (RFC 1071): decode and encode.
import {
  checkLengthField,
  checkUint,
  formatIpv4,
  internetChecksum,
  need,
  onesSum,
  putU16,
  u16,
  verifyChecksum,
  writeIpv4,
} from './bytes.js';
import { PacketMalformedError, PacketValueError } from './errors.js';

/** IP protocol numbers (IANA) of the payloads vnet reads or matches on. */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;

export const IPV4_HLEN = 20;
export const IPV4_MAX_OPTIONS = 40;
/** The 16-bit word at byte 6: don't fragment, more fragments, and the fragment offset below them. */
export const IP_FRAG = { DF: 0x4000, MF: 0x2000, OFFSET_MASK: 0x1fff } as const;

export interface Ipv4Packet {
  /** Differentiated services code point, 6 bits. */
  dscp: number;
  ecn: number;
  id: number;
  /** Don't fragment / more fragments flags. */
  df: boolean;
  mf: boolean;
  /** Fragment offset in 8-byte units. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
  /** Raw option bytes (length a multiple of 4, at most 40). */
  options: Uint8Array;
  /** Bytes after the header up to total_length (Ethernet padding is cut off). */
  payload: Uint8Array;
}

export interface Ipv4DecodeOptions {
  /** Reject a wrong header checksum (default true). */
  verifyChecksum?: boolean;
}

export function decodeIpv4(buf: Uint8Array, opts: Ipv4DecodeOptions = {}): Ipv4Packet {
  need(buf, 0, IPV4_HLEN, 'ipv4.header');
  const version = buf[0]! >>> 4;
  if (version !== 4) throw new PacketMalformedError('ipv4.version', `expected 4, got ${version}`);
  const hlen = (buf[0]! & 0x0f) * 4;
  if (hlen < IPV4_HLEN) throw new PacketMalformedError('ipv4.ihl', `header length ${hlen} < 20`);
  need(buf, 0, hlen, 'ipv4.options');
  const total = checkLengthField(buf, u16(buf, 2), hlen, 'ipv4.total_length');
  if (opts.verifyChecksum ?? true) verifyChecksum(buf, 0, hlen, 'ipv4.header_checksum');
  const frag = u16(buf, 6);
  if (frag & 0x8000) throw new PacketMalformedError('ipv4.flags', 'reserved flag set');
  return {
    dscp: buf[1]! >>> 2,
    ecn: buf[1]! & 3,
    id: u16(buf, 4),
    df: (frag & IP_FRAG.DF) !== 0,
    mf: (frag & IP_FRAG.MF) !== 0,
    fragmentOffset: frag & IP_FRAG.OFFSET_MASK,
    ttl: buf[8]!,
    protocol: buf[9]!,
    src: formatIpv4(buf, 12),
    dst: formatIpv4(buf, 16),
    options: buf.subarray(IPV4_HLEN, hlen),
    payload: buf.subarray(hlen, total),
  };
}

/** Encodes header + payload; total length, IHL and checksum are computed. */
export function encodeIpv4(p: Ipv4Packet): Uint8Array {
  const optLen = p.options.length;
  if (optLen % 4 !== 0 || optLen > IPV4_MAX_OPTIONS) {
    throw new PacketValueError('ipv4.options', `length ${optLen} is not a multiple of 4 up to 40`);
  }
  const hlen = IPV4_HLEN + optLen;
  const total = hlen + p.payload.length;
  if (total > 0xffff) throw new PacketValueError('ipv4.total_length', `${total} exceeds 65535`);
  const out = new Uint8Array(total);
  out[0] = 0x40 | (hlen / 4);
  out[1] = (checkUint(p.dscp, 6, 'ipv4.dscp') << 2) | checkUint(p.ecn, 2, 'ipv4.ecn');
  putU16(out, 2, total);
  putU16(out, 4, checkUint(p.id, 16, 'ipv4.id'));
  putU16(
    out,
    6,
    (p.df ? IP_FRAG.DF : 0) | (p.mf ? IP_FRAG.MF : 0) | checkUint(p.fragmentOffset, 13, 'ipv4.fragment_offset'),
  );
  out[8] = checkUint(p.ttl, 8, 'ipv4.ttl');
  out[9] = checkUint(p.protocol, 8, 'ipv4.protocol');
  writeIpv4(out, 12, p.src, 'ipv4.src');
  writeIpv4(out, 16, p.dst, 'ipv4.dst');
  out.set(p.options, IPV4_HLEN);
  putU16(out, 10, internetChecksum(out, 0, hlen));
  out.set(p.payload, hlen);
  return out;
}

/** Folded sum of the UDP/TCP pseudo-header (RFC 768): src, dst, zero, protocol, length. */
export function pseudoHeaderSum(src: string, dst: string, protocol: number, length: number): number {
  const ph = new Uint8Array(12);
  writeIpv4(ph, 0, src, 'ipv4.src');
  writeIpv4(ph, 4, dst, 'ipv4.dst');
  ph[9] = protocol;
  putU16(ph, 10, length);
  return onesSum(ph, 0, 12);
}

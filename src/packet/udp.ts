// UDP datagrams (RFC 768) with the IPv4 pseudo-header checksum: decode and encode.
import { checkLengthField, checkUint, internetChecksum, need, putU16, u16, verifyChecksum } from './bytes.js';
import { PacketValueError } from './errors.js';
import { IPPROTO, pseudoHeaderSum } from './ipv4.js';

export const UDP_HLEN = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** Bytes after the header up to the UDP length field. */
  payload: Uint8Array;
}

/** The IPv4 addresses the checksum covers. */
export interface IpPair {
  src: string;
  dst: string;
}

/**
 * Decodes a datagram. With `ip`, a non-zero checksum is verified (zero means "not computed",
 * which RFC 768 allows over IPv4).
 */
export function decodeUdp(buf: Uint8Array, ip?: IpPair): UdpDatagram {
  need(buf, 0, UDP_HLEN, 'udp.header');
  const len = checkLengthField(buf, u16(buf, 4), UDP_HLEN, 'udp.length');
  const checksum = u16(buf, 6);
  if (ip && checksum !== 0) {
    verifyChecksum(buf, 0, len, 'udp.checksum', pseudoHeaderSum(ip.src, ip.dst, IPPROTO.UDP, len));
  }
  return { srcPort: u16(buf, 0), dstPort: u16(buf, 2), payload: buf.subarray(UDP_HLEN, len) };
}

/** Encodes a datagram; the checksum covers the pseudo-header of `ip` (omitted → checksum 0). */
export function encodeUdp(d: UdpDatagram, ip?: IpPair): Uint8Array {
  const len = UDP_HLEN + d.payload.length;
  if (len > 0xffff) throw new PacketValueError('udp.length', `${len} exceeds 65535`);
  const out = new Uint8Array(len);
  putU16(out, 0, checkUint(d.srcPort, 16, 'udp.src_port'));
  putU16(out, 2, checkUint(d.dstPort, 16, 'udp.dst_port'));
  putU16(out, 4, len);
  out.set(d.payload, UDP_HLEN);
  if (ip) {
    const c = internetChecksum(out, 0, len, pseudoHeaderSum(ip.src, ip.dst, IPPROTO.UDP, len));
    putU16(out, 6, c === 0 ? 0xffff : c); // 0 means "no checksum", so a computed 0 is sent as all ones
  }
  return out;
}

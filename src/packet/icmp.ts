// ICMP for IPv4 (RFC 792) with its checksum: decode and encode, plus echo helpers.
import { checkUint, internetChecksum, need, putU16, putU32, u32, verifyChecksum } from './bytes.js';

export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
/** Code of ICMP_DEST_UNREACH meaning "fragmentation needed and DF set" (path MTU discovery). */
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_HLEN = 8;

export interface IcmpMessage {
  type: number;
  code: number;
  /** The 4 header bytes after the checksum (echo: identifier << 16 | sequence). */
  rest: number;
  payload: Uint8Array;
}

export function decodeIcmp(buf: Uint8Array, opts: { verifyChecksum?: boolean } = {}): IcmpMessage {
  need(buf, 0, ICMP_HLEN, 'icmp.header');
  if (opts.verifyChecksum ?? true) verifyChecksum(buf, 0, buf.length, 'icmp.checksum');
  return { type: buf[0]!, code: buf[1]!, rest: u32(buf, 4), payload: buf.subarray(ICMP_HLEN) };
}

export function encodeIcmp(m: IcmpMessage): Uint8Array {
  const out = new Uint8Array(ICMP_HLEN + m.payload.length);
  out[0] = checkUint(m.type, 8, 'icmp.type');
  out[1] = checkUint(m.code, 8, 'icmp.code');
  putU32(out, 4, checkUint(m.rest, 32, 'icmp.rest'));
  out.set(m.payload, ICMP_HLEN);
  putU16(out, 2, internetChecksum(out, 0, out.length));
  return out;
}

export function echoIdentifier(m: IcmpMessage): number {
  return m.rest >>> 16;
}

export function echoSequence(m: IcmpMessage): number {
  return m.rest & 0xffff;
}

/** An echo request or reply with the given identifier and sequence number. */
export function icmpEcho(
  type: typeof ICMP_ECHO | typeof ICMP_ECHOREPLY,
  id: number,
  seq: number,
  payload: Uint8Array,
): IcmpMessage {
  return {
    type,
    code: 0,
    rest: ((checkUint(id, 16, 'icmp.identifier') << 16) | checkUint(seq, 16, 'icmp.sequence')) >>> 0,
    payload,
  };
}

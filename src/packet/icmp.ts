// ICMP for IPv4 (RFC 792) with its checksum: decode and encode, plus echo helpers.
import { checkUint, internetChecksum, need, putU16, putU32, u32, verifyChecksum } from './bytes.js';
import { decodeEthernet, ETH_P_IP, ETH_ZLEN, encodeEthernet } from './ethernet.js';
import { decodeIpv4, encodeIpv4, IPPROTO, IPV4_HLEN } from './ipv4.js';

/** The message types vnet reads or writes. */
export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACH: 3, ECHO: 8, TIME_EXCEEDED: 11 } as const;
/** Code of ICMP_TYPE.DEST_UNREACH meaning "fragmentation needed and DF set" (path MTU discovery). */
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
  type: typeof ICMP_TYPE.ECHO | typeof ICMP_TYPE.ECHO_REPLY,
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

/**
 * RFC 1191's answer to a frame too big for the path: "fragmentation needed and DF set" carrying the next-hop
 * `mtu`, back to the sender — Ethernet addresses swapped, the same VLAN tags, from the address it was sent to,
 * quoting its IPv4 header and first 8 payload bytes (RFC 792). null when no error may be sent: not IPv4, DF not
 * set (it would have to be fragmented; vnet cannot), not the first fragment, or itself an ICMP error.
 */
export function fragNeededFrame(frame: Uint8Array, mtu: number, ttl = 64): Uint8Array | null {
  const eth = decodeEthernet(frame);
  if (eth.ethertype !== ETH_P_IP) return null;
  const ip = decodeIpv4(eth.payload, { verifyChecksum: false });
  if (!ip.df || ip.fragmentOffset !== 0) return null;
  const icmpType = ip.protocol === IPPROTO.ICMP ? ip.payload[0] : undefined;
  if (icmpType !== undefined && icmpType !== ICMP_TYPE.ECHO && icmpType !== ICMP_TYPE.ECHO_REPLY) return null;
  const headerLength = IPV4_HLEN + ip.options.length;
  const quoted = eth.payload.subarray(0, Math.min(eth.payload.length, headerLength + 8));
  const icmp = encodeIcmp({
    type: ICMP_TYPE.DEST_UNREACH,
    code: ICMP_FRAG_NEEDED,
    rest: checkUint(mtu, 16, 'mtu'),
    payload: quoted,
  });
  const reply = encodeIpv4({
    dscp: 0,
    ecn: 0,
    id: 0,
    df: false,
    mf: false,
    fragmentOffset: 0,
    ttl,
    protocol: IPPROTO.ICMP,
    src: ip.dst,
    dst: ip.src,
    options: new Uint8Array(0),
    payload: icmp,
  });
  return encodeEthernet(
    { dst: eth.src, src: eth.dst, vlans: eth.vlans, ethertype: ETH_P_IP, payload: reply },
    ETH_ZLEN,
  );
}

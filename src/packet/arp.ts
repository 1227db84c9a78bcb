// ARP for IPv4 over Ethernet (RFC 826): decode and encode the 28-byte packet.
import { checkUint, formatIpv4, formatMac, need, putU16, u16, writeIpv4, writeMac } from './bytes.js';
import { PacketMalformedError } from './errors.js';
import { BROADCAST_MAC, encodeEthernet, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_ZLEN } from './ethernet.js';

export const ARPHRD_ETHER = 1;
/** The operation codes (`op`). */
export const ARPOP = { REQUEST: 1, REPLY: 2 } as const;
export const ARP_LEN = 28;

export interface ArpPacket {
  op: number;
  /** Sender hardware / protocol address. */
  sha: string;
  spa: string;
  /** Target hardware / protocol address. */
  tha: string;
  tpa: string;
}

export function decodeArp(buf: Uint8Array): ArpPacket {
  need(buf, 0, ARP_LEN, 'arp');
  if (u16(buf, 0) !== ARPHRD_ETHER)
    throw new PacketMalformedError('arp.htype', `unsupported hardware type ${u16(buf, 0)}`);
  if (u16(buf, 2) !== ETH_P_IP)
    throw new PacketMalformedError('arp.ptype', `unsupported protocol type 0x${u16(buf, 2).toString(16)}`);
  if (buf[4] !== 6) throw new PacketMalformedError('arp.hlen', `expected 6, got ${buf[4]}`);
  if (buf[5] !== 4) throw new PacketMalformedError('arp.plen', `expected 4, got ${buf[5]}`);
  return {
    op: u16(buf, 6),
    sha: formatMac(buf, 8),
    spa: formatIpv4(buf, 14),
    tha: formatMac(buf, 18),
    tpa: formatIpv4(buf, 24),
  };
}

export function encodeArp(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  putU16(out, 0, ARPHRD_ETHER);
  putU16(out, 2, ETH_P_IP);
  out[4] = 6;
  out[5] = 4;
  putU16(out, 6, checkUint(p.op, 16, 'arp.op'));
  writeMac(out, 8, p.sha, 'arp.sha');
  writeIpv4(out, 14, p.spa, 'arp.spa');
  writeMac(out, 18, p.tha, 'arp.tha');
  writeIpv4(out, 24, p.tpa, 'arp.tpa');
  return out;
}

/**
 * A gratuitous ARP (RFC 5227 announcement) for `ip` at `mac`, in a broadcast frame with an optional VLAN tag:
 * neighbours and learning switches on the segment update to `mac`.
 */
export function gratuitousArpFrame(mac: string, ip: string, vlan: number | null): Uint8Array {
  const arp = encodeArp({ op: ARPOP.REQUEST, sha: mac, spa: ip, tha: '00:00:00:00:00:00', tpa: ip });
  const vlans = vlan === null ? [] : [{ tpid: ETH_P_8021Q, pcp: 0, dei: false, vid: vlan }];
  return encodeEthernet({ dst: BROADCAST_MAC, src: mac, vlans, ethertype: ETH_P_ARP, payload: arp }, ETH_ZLEN);
}

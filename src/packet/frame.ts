// Whole-frame helpers: decode Ethernet→IPv4→UDP/ICMP/ARP layers at once, build UDP frames.
import { type ArpPacket, decodeArp } from './arp.js';
import { decodeEthernet, type EthernetFrame, ETH_P_ARP, ETH_P_IP, encodeEthernet, type VlanTag } from './ethernet.js';
import { PacketMalformedError } from './errors.js';
import { decodeIcmp, type IcmpMessage } from './icmp.js';
import { decodeIpv4, encodeIpv4, IPPROTO, type Ipv4Packet } from './ipv4.js';
import { decodeUdp, encodeUdp, type UdpDatagram } from './udp.js';

export interface DecodedFrame {
  eth: EthernetFrame;
  arp?: ArpPacket;
  ipv4?: Ipv4Packet;
  udp?: UdpDatagram;
  icmp?: IcmpMessage;
}

export interface DecodeFrameOptions {
  /**
   * Verify UDP checksums (default true). Frames captured on the sending host before the NIC
   * fills in an offloaded checksum (veth, tap with tx offload) carry only the pseudo-header
   * sum there, so receivers of such frames may need to skip this check.
   */
  verifyUdpChecksum?: boolean;
}

/**
 * Decodes as many layers as vnet understands. Non-first IPv4 fragments stop at the IPv4 layer
 * (their payload is not a transport header). Throws PacketError on any malformed layer.
 */
export function decodeFrame(buf: Uint8Array, opts: DecodeFrameOptions = {}): DecodedFrame {
  const eth = decodeEthernet(buf);
  if (eth.ethertype === ETH_P_ARP) return { eth, arp: decodeArp(eth.payload) };
  if (eth.ethertype !== ETH_P_IP) return { eth };
  const ipv4 = decodeIpv4(eth.payload);
  if (ipv4.fragmentOffset !== 0 || ipv4.mf) return { eth, ipv4 };
  if (ipv4.protocol === IPPROTO.UDP) {
    return { eth, ipv4, udp: decodeUdp(ipv4.payload, (opts.verifyUdpChecksum ?? true) ? ipv4 : undefined) };
  }
  if (ipv4.protocol === IPPROTO.ICMP) return { eth, ipv4, icmp: decodeIcmp(ipv4.payload) };
  return { eth, ipv4 };
}

export interface UdpFrameSpec {
  srcMac: string;
  dstMac: string;
  vlans?: VlanTag[];
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  ttl?: number;
  /** IPv4 identification field (default 0). */
  id?: number;
  dscp?: number;
  payload: Uint8Array;
}

/** Builds Ethernet + IPv4 + UDP (with both checksums) around a payload. */
export function buildUdpFrame(s: UdpFrameSpec): Uint8Array {
  const udp = encodeUdp({ srcPort: s.srcPort, dstPort: s.dstPort, payload: s.payload }, { src: s.srcIp, dst: s.dstIp });
  const ip = encodeIpv4({
    dscp: s.dscp ?? 0,
    ecn: 0,
    id: s.id ?? 0,
    df: false,
    mf: false,
    fragmentOffset: 0,
    ttl: s.ttl ?? 64,
    protocol: IPPROTO.UDP,
    src: s.srcIp,
    dst: s.dstIp,
    options: new Uint8Array(0),
    payload: udp,
  });
  return encodeEthernet({ dst: s.dstMac, src: s.srcMac, vlans: s.vlans ?? [], ethertype: ETH_P_IP, payload: ip });
}

/** Decodes a frame and insists on Ethernet/IPv4/UDP. */
export function decodeUdpFrame(
  buf: Uint8Array,
  opts: DecodeFrameOptions = {},
): { eth: EthernetFrame; ipv4: Ipv4Packet; udp: UdpDatagram } {
  const d = decodeFrame(buf, opts);
  if (!d.ipv4) throw new PacketMalformedError('ethernet.ethertype', `not IPv4 (0x${d.eth.ethertype.toString(16)})`);
  if (!d.udp) throw new PacketMalformedError('ipv4.protocol', `not a whole UDP datagram (protocol ${d.ipv4.protocol})`);
  return { eth: d.eth, ipv4: d.ipv4, udp: d.udp };
}

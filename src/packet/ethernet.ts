// Ethernet II frames with optional IEEE 802.1Q / 802.1ad VLAN tags: decode and encode.
import { checkUint, formatMac, need, putU16, u16, writeMac } from './bytes.js';
import { PacketMalformedError } from './errors.js';

/** EtherType values (IEEE registry; Linux if_ether.h names). */
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_IPV6 = 0x86dd;

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
/** 802.3 minimum frame size without FCS; shorter frames are padded by encodeEthernet when asked. */
export const ETH_ZLEN = 60;
/** More tags than this is not a frame anyone sends us; refuse rather than loop. */
export const MAX_VLAN_TAGS = 2;

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/** One 802.1Q/802.1ad tag, outermost first in EthernetFrame.vlans. */
export interface VlanTag {
  /** ETH_P_8021Q or ETH_P_8021AD. */
  tpid: number;
  /** Priority code point, 3 bits. */
  pcp: number;
  /** Drop eligible indicator. */
  dei: boolean;
  /** VLAN id, 12 bits. */
  vid: number;
}

export interface EthernetFrame {
  dst: string;
  src: string;
  vlans: VlanTag[];
  /** EtherType of the payload after any VLAN tags. */
  ethertype: number;
  /** Everything after the header (a view into the input when decoded; may include trailer padding). */
  payload: Uint8Array;
}

/** Decodes an Ethernet II frame. The payload is a view, not a copy. */
export function decodeEthernet(buf: Uint8Array): EthernetFrame {
  need(buf, 0, ETH_HLEN, 'ethernet.header');
  const dst = formatMac(buf, 0);
  const src = formatMac(buf, 6);
  let off = 12;
  let type = u16(buf, off);
  const vlans: VlanTag[] = [];
  while (type === ETH_P_8021Q || type === ETH_P_8021AD) {
    if (vlans.length === MAX_VLAN_TAGS)
      throw new PacketMalformedError('ethernet.vlan', `more than ${MAX_VLAN_TAGS} VLAN tags`);
    need(buf, off + 2, VLAN_HLEN, 'ethernet.vlan');
    const tci = u16(buf, off + 2);
    vlans.push({ tpid: type, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    off += VLAN_HLEN;
    type = u16(buf, off);
  }
  return { dst, src, vlans, ethertype: type, payload: buf.subarray(off + 2) };
}

export function ethernetHeaderLength(frame: Pick<EthernetFrame, 'vlans'>): number {
  return ETH_HLEN + VLAN_HLEN * frame.vlans.length;
}

/** Encodes a frame; `padTo` (e.g. ETH_ZLEN) zero-pads short frames. */
export function encodeEthernet(frame: EthernetFrame, padTo = 0): Uint8Array {
  if (frame.vlans.length > MAX_VLAN_TAGS)
    throw new PacketMalformedError('ethernet.vlan', `more than ${MAX_VLAN_TAGS} VLAN tags`);
  const hlen = ethernetHeaderLength(frame);
  const out = new Uint8Array(Math.max(hlen + frame.payload.length, padTo));
  writeMac(out, 0, frame.dst, 'ethernet.dst');
  writeMac(out, 6, frame.src, 'ethernet.src');
  let off = 12;
  frame.vlans.forEach((tag, i) => {
    const f = `ethernet.vlan[${i}]`;
    if (tag.tpid !== ETH_P_8021Q && tag.tpid !== ETH_P_8021AD) {
      throw new PacketMalformedError(`${f}.tpid`, `expected 0x8100 or 0x88a8, got 0x${tag.tpid.toString(16)}`);
    }
    putU16(out, off, tag.tpid);
    const tci = (checkUint(tag.pcp, 3, `${f}.pcp`) << 13) | (tag.dei ? 0x1000 : 0) | checkUint(tag.vid, 12, `${f}.vid`);
    putU16(out, off + 2, tci);
    off += VLAN_HLEN;
  });
  putU16(out, off, checkUint(frame.ethertype, 16, 'ethernet.ethertype'));
  out.set(frame.payload, off + 2);
  return out;
}

/** `buf` with an 802.1Q tag of VLAN `vid` pushed outermost (what a VLAN sub-interface's trunk carries). */
export function pushVlanTag(buf: Uint8Array, vid: number): Uint8Array {
  const frame = decodeEthernet(buf);
  return encodeEthernet({ ...frame, vlans: [{ tpid: ETH_P_8021Q, pcp: 0, dei: false, vid }, ...frame.vlans] });
}

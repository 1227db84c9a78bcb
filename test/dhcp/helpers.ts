// Test helpers: client frames shaped like busybox udhcpc's, a default context, reply decoding.
import {
  buildUdpFrame,
  type DhcpMessage,
  type DhcpOption,
  decodeDhcp,
  decodeUdpFrame,
  encodeDhcp,
  fromHex,
  ipv4ListOption,
  u8Option,
  u16Option,
  type VlanTag,
} from '../../src/packet/index.js';
import type { DhcpContext } from '../../src/dhcp/index.js';
import { UDHCPC_DISCOVER } from '../packet/fixtures.js';

export const CLIENT_MAC = '52:54:00:12:34:56';
export const SERVER_MAC = '02:00:00:00:00:02';

export function context(over: Partial<DhcpContext> = {}, network: Partial<DhcpContext['network']> = {}): DhcpContext {
  return {
    network: {
      uuid: 'nw-vnet1',
      ipv4Network: '10.0.0.0',
      ipv4Prefix: 24,
      domainName: 'vnet1.example',
      mtu: null,
      dnsServers: ['8.8.8.8', '1.1.1.1'],
      leaseTime: 86400,
      ...network,
    },
    client: { interfaceUuid: 'if-vm1', macAddress: CLIENT_MAC, ipv4Address: '10.0.0.20' },
    server: { interfaceUuid: 'if-dhcp1', ipv4Address: '10.0.0.2', macAddress: SERVER_MAC },
    router: { ipv4Address: '10.0.0.1' },
    routes: [{ ipv4Network: '10.102.0.0', ipv4Prefix: 24 }],
    dnsService: null,
    encapsulation: 'vxlan',
    underlayMtu: 1500,
    ...over,
  };
}

/** The options udhcpc 1.35 sends besides message type / 50 / 54 (see the DISCOVER capture). */
const UDHCPC_COMMON: DhcpOption[] = decodeDhcp(decodeUdpFrame(fromHex(UDHCPC_DISCOVER)).udp.payload).options.filter(
  (o) => o.code !== 53,
);

export interface ClientSpec {
  type: number;
  mac?: string;
  xid?: number;
  ciaddr?: string;
  requested?: string;
  serverId?: string;
  flags?: number;
  srcIp?: string;
  dstIp?: string;
  dstMac?: string;
  vlans?: VlanTag[];
  extra?: DhcpOption[];
  maxSize?: number;
  giaddr?: string;
  chaddr?: string;
}

/** A client frame built the way udhcpc builds it (300-byte payload, client id, max size 576). */
export function clientFrame(s: ClientSpec): Uint8Array {
  const mac = s.mac ?? CLIENT_MAC;
  const options: DhcpOption[] = [u8Option(53, s.type)];
  if (s.requested) options.push(ipv4ListOption(50, [s.requested]));
  if (s.serverId) options.push(ipv4ListOption(54, [s.serverId]));
  for (const o of UDHCPC_COMMON) {
    if (o.code === 61)
      options.push({ code: 61, data: Uint8Array.from([1, ...mac.split(':').map((h) => Number.parseInt(h, 16))]) });
    else if (o.code === 57 && s.maxSize !== undefined) options.push(u16Option(57, s.maxSize));
    else options.push(o);
  }
  options.push(...(s.extra ?? []));
  const msg: DhcpMessage = {
    op: 1,
    htype: 1,
    hops: 0,
    xid: s.xid ?? 0x8fe63808,
    secs: 0,
    flags: s.flags ?? 0,
    ciaddr: s.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: s.giaddr ?? '0.0.0.0',
    chaddr: s.chaddr ?? mac,
    sname: '',
    file: '',
    options,
  };
  return buildUdpFrame({
    srcMac: mac,
    dstMac: s.dstMac ?? 'ff:ff:ff:ff:ff:ff',
    vlans: s.vlans ?? [],
    srcIp: s.srcIp ?? s.ciaddr ?? '0.0.0.0',
    dstIp: s.dstIp ?? '255.255.255.255',
    srcPort: 68,
    dstPort: 67,
    payload: encodeDhcp(msg),
  });
}

/** Decodes a reply frame fully (checksums verified) into its layers and DHCP message. */
export function decodeReply(frame: Uint8Array | undefined) {
  if (!frame) throw new Error('no reply frame');
  const f = decodeUdpFrame(frame);
  return { ...f, dhcp: decodeDhcp(f.udp.payload) };
}

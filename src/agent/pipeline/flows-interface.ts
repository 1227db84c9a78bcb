// Flows owned by a locally bound interface: port classification and anti-spoofing (port_security); an uplink
// (mode host) is only classified as such.
import type { Flow } from '../../openflow/types.js';
import { networkIds, parseIpv4, parseMac } from './addr.js';
import {
  apply,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  exact,
  flow,
  goto,
  IPPROTO_UDP,
  load,
  loadZone,
  range,
  writeNetwork,
} from './build.js';
import { cookieFor } from './cookies.js';
import { type CompileContext, isFiltered } from './compile-context.js';
import type { Interface } from '../../model/types.js';
import type { Binding } from './model-view.js';
import { subInterfaceFlows, toPort } from './trunk.js';
import { FROM_UPLINK, matchReg, OUT_PORT, TOO_BIG } from './registers.js';
import { isUplink, tooBigLength, VLAN_PRESENT } from './uplink.js';
import { metadataInterfaceFlows } from './metadata.js';
import { isPromiscuous, learnsHere, promiscuousPortFlows } from './flows-promiscuous.js';

export const PRIO_IF = {
  classify: 100,
  spoofAllow: 100,
  dhcpDiscover: 110,
  /** A segment port's MACs, any ethertype: above the pipeline's IPv6 drop (200), since a segment has no IP. */
  segmentAllow: 210,
} as const;

/** The MAC addresses an interface may send from: its MAC leases, else its mac_address. */
export function interfaceMacs(i: Interface): string[] {
  const macs = (i.mac_leases ?? []).map((m) => m.mac_address).filter((m): m is string => typeof m === 'string');
  if (macs.length === 0 && i.mac_address) macs.push(i.mac_address);
  return [...new Set(macs.map((m) => m.toLowerCase()))];
}

/** (mac, ip) pairs an interface holds in network `nw` (IP leases under each MAC lease; ipv4_address as fallback). */
export function interfaceAddresses(i: Interface, nw: string): { mac: string; ip: string }[] {
  const out: { mac: string; ip: string }[] = [];
  for (const ml of i.mac_leases ?? [])
    for (const il of ml.ip_leases ?? [])
      if (il.network_uuid === nw && ml.mac_address && il.ipv4_address)
        out.push({ mac: ml.mac_address.toLowerCase(), ip: il.ipv4_address });
  if (out.length === 0 && (i.mac_leases ?? []).length === 0 && i.network_uuid === nw && i.mac_address && i.ipv4_address)
    out.push({ mac: i.mac_address.toLowerCase(), ip: i.ipv4_address });
  return out;
}

/** An interface address as flow values. */
export interface ParsedAddress {
  mac: bigint;
  ip: number;
}

// Parsed addresses per interface object: items are replaced (never mutated) on change, so a WeakMap keyed by
// the object is always current and parsing happens once per interface version, not once per flow owner.
const parsedMacCache = new WeakMap<Interface, bigint[]>();
const parsedAddrCache = new WeakMap<Interface, Map<string, ParsedAddress[]>>();

/** interfaceMacs, parsed (throws PipelineAddressError naming the interface on a bad MAC). */
export function parsedMacs(i: Interface): bigint[] {
  let v = parsedMacCache.get(i);
  if (!v) {
    v = interfaceMacs(i).map((m) => parseMac(m, `interfaces.${i.uuid}.mac_address`));
    parsedMacCache.set(i, v);
  }
  return v;
}

/** interfaceAddresses, parsed. */
export function parsedAddresses(i: Interface, nw: string): ParsedAddress[] {
  let m = parsedAddrCache.get(i);
  if (!m) parsedAddrCache.set(i, (m = new Map()));
  let v = m.get(nw);
  if (!v) {
    v = interfaceAddresses(i, nw).map((a) => ({
      mac: parseMac(a.mac, `interfaces.${i.uuid}.mac_address`),
      ip: parseIpv4(a.ip, `interfaces.${i.uuid}.ipv4_address`),
    }));
    m.set(nw, v);
  }
  return v;
}

export function interfaceFlows(ctx: CompileContext, uuid: string): Flow[] {
  ctx.dep(`interfaces:${uuid}`);
  ctx.dep(`binding:${uuid}`);
  const b = ctx.bindings.get(uuid);
  const i = ctx.view.interfaces.get(uuid);
  if (b && i && isUplink(i))
    // An uplink carries many hosts' frames: no anti-spoofing; its physical networks map them (uplink_ingress).
    // Untagged and tagged frames apart: the switch counts a frame's VLAN tag in its length.
    return [false, true].map((tagged) =>
      flow(
        'classifier',
        PRIO_IF.classify,
        cookieFor('interface', uuid, 'uplink'),
        {
          in_port: exact(b.ofport),
          vlan_vid: tagged ? { value: VLAN_PRESENT, mask: VLAN_PRESENT } : exact(0),
        },
        [
          apply(load(FROM_UPLINK, 1), {
            type: 'check_pkt_larger',
            pktLen: tooBigLength(ctx.local, tagged),
            dst: range(TOO_BIG),
          }),
          goto('uplink_ingress'),
        ],
      ),
    );
  if (b && i && isPromiscuous(i)) {
    // Many MACs behind one port: no anti-spoofing; the network's or segment's key, and learning.
    const kind = b.networkUuid ? 'networks' : 'segments';
    const target = b.networkUuid ?? b.segmentUuid;
    if (!target) return [];
    ctx.dep(`${kind}:${target}`);
    const into = kind === 'networks' ? ctx.view.networks.get(target) : ctx.view.segments.get(target);
    return into ? promiscuousPortFlows(uuid, b.ofport, networkIds(into), learnsHere(ctx)) : [];
  }
  if (b && i && !b.networkUuid && b.segmentUuid)
    return [...subInterfaceFlows(uuid, b), ...segmentPortFlows(ctx, uuid, i, b, b.segmentUuid)];
  if (!b || !i || !b.networkUuid) return [];
  ctx.dep(`networks:${b.networkUuid}`);
  const net = ctx.view.networks.get(b.networkUuid);
  if (!net) return [];
  const filtered = isFiltered(ctx, uuid);
  const next = filtered ? 'egress_ct' : 'arp_responder';
  const port = b.ofport;
  // A sub-interface's tag on its trunk makes its frames this interface's (trunk.ts); the rest is any port's.
  const out: Flow[] = subInterfaceFlows(uuid, b);

  // Classification rides on the anti-spoofing flows (each loads the network and zone), so a port costs no
  // separate classifier flow.
  const { key, zone } = networkIds(net);
  const pass = [apply(loadZone(zone)), writeNetwork(key), goto(next)];

  if (filtered)
    // Filtered deliveries carry the destination in OUT_PORT through ingress_ct/ingress_acl; this is the last hop.
    out.push(
      flow('output', PRIO_IF.classify, cookieFor('interface', uuid, 'filter'), matchReg(OUT_PORT, port), [
        apply(...toPort(b)),
      ]),
    );

  const spoof = cookieFor('interface', uuid, 'spoof');
  for (const mac of parsedMacs(i)) {
    // DHCP DISCOVER/REQUEST come from 0.0.0.0 before the VM has an address; only that exact shape passes.
    out.push(
      flow(
        'port_security',
        PRIO_IF.dhcpDiscover,
        spoof,
        {
          in_port: exact(port),
          eth_src: exact(mac),
          eth_type: exact(ETH_TYPE_IP),
          ipv4_src: exact(0),
          ip_proto: exact(IPPROTO_UDP),
          udp_src: exact(DHCP_CLIENT_PORT),
          udp_dst: exact(DHCP_SERVER_PORT),
        },
        pass,
      ),
    );
  }
  // A VM that routes (enable_routing: seed 000's router VM on its sub-interfaces) forwards other hosts' packets:
  // its IPv4 is held to its MACs only, as Neutron's allowed address 0.0.0.0/0 does; its ARP still to its own.
  const routes = i.enable_routing === true;
  for (const mac of routes ? parsedMacs(i) : [])
    out.push(
      flow(
        'port_security',
        PRIO_IF.spoofAllow,
        spoof,
        { in_port: exact(port), eth_src: exact(mac), eth_type: exact(ETH_TYPE_IP) },
        pass,
      ),
    );
  for (const { mac, ip } of parsedAddresses(i, b.networkUuid)) {
    if (!routes)
      out.push(
        flow(
          'port_security',
          PRIO_IF.spoofAllow,
          spoof,
          { in_port: exact(port), eth_src: exact(mac), eth_type: exact(ETH_TYPE_IP), ipv4_src: exact(ip) },
          pass,
        ),
      );
    out.push(
      // ARP must claim the same MAC and leased IP the frame comes from: gratuitous ARP for another address
      // (ARP poisoning) matches nothing and is dropped.
      flow(
        'port_security',
        PRIO_IF.spoofAllow,
        spoof,
        {
          in_port: exact(port),
          eth_src: exact(mac),
          eth_type: exact(ETH_TYPE_ARP),
          arp_sha: exact(mac),
          arp_spa: exact(ip),
        },
        pass,
      ),
    );
  }
  // The way to this host's metadata server (169.254.169.254) and back, from the interface's first address.
  const first = parsedAddresses(i, b.networkUuid)[0];
  if (first) out.push(...metadataInterfaceFlows(ctx.local, uuid, port, { key, zone }, first));
  return out;
}

/**
 * A port on a segment (an interface with segment_uuid and no network): classified to the segment's key and zone
 * from its own MACs only — a segment has no IP, so no address is checked (the VM configures its own) and any
 * ethertype passes, IPv6 included; frames from other MACs are dropped by the table's miss.
 */
function segmentPortFlows(ctx: CompileContext, uuid: string, i: Interface, b: Binding, seg: string): Flow[] {
  const port = b.ofport;
  ctx.dep(`segments:${seg}`);
  const segment = ctx.view.segments.get(seg);
  if (!segment) return [];
  const { key, zone } = networkIds(segment);
  const filtered = isFiltered(ctx, uuid);
  const pass = [apply(loadZone(zone)), writeNetwork(key), goto(filtered ? 'egress_ct' : 'arp_responder')];
  const out: Flow[] = [];
  if (filtered)
    out.push(
      flow('output', PRIO_IF.classify, cookieFor('interface', uuid, 'filter'), matchReg(OUT_PORT, port), [
        apply(...toPort(b)),
      ]),
    );
  const spoof = cookieFor('interface', uuid, 'spoof');
  for (const mac of parsedMacs(i))
    out.push(flow('port_security', PRIO_IF.segmentAllow, spoof, { in_port: exact(port), eth_src: exact(mac) }, pass));
  return out;
}

// Derives a DhcpContext from change-feed resources (the shared API representation) for one request.
import { isIpv4, normalizeMac } from '../packet/index.js';
import { DEFAULT_UNDERLAY_MTU, type Encapsulation } from './mtu.js';
import type { DhcpContext } from './responder.js';

// Only the fields read here; the feed's items carry more, and all of these may be absent in
// older snapshots, so every field is optional and checked.
interface IpLeaseItem {
  uuid?: string;
  network_uuid?: string | null;
  ipv4_address?: string | null;
  interface_uuid?: string | null;
  mac_lease_uuid?: string | null;
}
interface MacLeaseItem {
  uuid?: string;
  interface_uuid?: string | null;
  mac_address?: string | null;
  ip_leases?: IpLeaseItem[];
}
interface InterfaceItem {
  uuid: string;
  mode?: string | null;
  mac_address?: string | null;
  network_uuid?: string | null;
  ipv4_address?: string | null;
  enable_routing?: boolean;
  mac_leases?: MacLeaseItem[];
}
interface NetworkItem {
  uuid: string;
  ipv4_network: string;
  ipv4_prefix: number;
  domain_name?: string | null;
  mtu?: number | null;
  dns_servers?: string | null;
  dhcp_lease_time?: number | null;
}
interface NetworkServiceItem {
  uuid?: string;
  mode?: string | null;
  interface_uuid?: string | null;
}
interface RouteItem {
  uuid?: string;
  interface_uuid?: string | null;
  route_link_uuid?: string | null;
  network_uuid?: string | null;
  ipv4_network?: string | null;
  ipv4_prefix?: number | null;
  ingress?: boolean;
  egress?: boolean;
}

/** The slice of `GET /api/1.0/feed/snapshot` `resources` the DHCP context needs. */
export interface DhcpResources {
  networks?: readonly NetworkItem[];
  interfaces?: readonly InterfaceItem[];
  mac_leases?: readonly MacLeaseItem[];
  ip_leases?: readonly IpLeaseItem[];
  network_services?: readonly NetworkServiceItem[];
  routes?: readonly RouteItem[];
}

/** What the local agent contributes: its tunnels' encapsulation and the underlay MTU. */
export interface DhcpLocal {
  encapsulation: Encapsulation;
  underlayMtu?: number;
}

/** RFC 2131 needs some lease; OpenVNet's default is one day. */
export const DEFAULT_LEASE_TIME = 86400;

interface Lease {
  mac: string | null;
  ip: string;
  networkUuid: string;
}

/** An interface's (MAC, IP, network) leases: from its embedded mac_leases, else the top-level lists. */
export function leasesOf(res: DhcpResources, iface: InterfaceItem): Lease[] {
  const out: Lease[] = [];
  const push = (mac: string | null | undefined, il: IpLeaseItem) => {
    if (il.network_uuid && isIpv4(il.ipv4_address)) {
      out.push({ mac: mac ? normalizeMac(mac) : null, ip: il.ipv4_address, networkUuid: il.network_uuid });
    }
  };
  if (iface.mac_leases && iface.mac_leases.length > 0) {
    for (const ml of iface.mac_leases) for (const il of ml.ip_leases ?? []) push(ml.mac_address, il);
  }
  if (out.length === 0) {
    const macs = new Map<string, string | null | undefined>();
    for (const ml of res.mac_leases ?? [])
      if (ml.interface_uuid === iface.uuid && ml.uuid) macs.set(ml.uuid, ml.mac_address);
    for (const il of res.ip_leases ?? []) {
      if (il.interface_uuid !== iface.uuid) continue;
      push(il.mac_lease_uuid ? (macs.get(il.mac_lease_uuid) ?? iface.mac_address) : iface.mac_address, il);
    }
  }
  if (out.length === 0 && iface.network_uuid && isIpv4(iface.ipv4_address)) {
    out.push({
      mac: iface.mac_address ? normalizeMac(iface.mac_address) : null,
      ip: iface.ipv4_address,
      networkUuid: iface.network_uuid,
    });
  }
  return out;
}

function leaseIn(res: DhcpResources, iface: InterfaceItem | undefined, networkUuid: string): Lease | undefined {
  if (!iface) return undefined;
  return leasesOf(res, iface).find((l) => l.networkUuid === networkUuid);
}

function macsOf(iface: InterfaceItem): string[] {
  const macs: string[] = [];
  for (const m of [iface.mac_address, ...(iface.mac_leases ?? []).map((ml) => ml.mac_address)]) {
    const n = m ? normalizeMac(m) : null;
    if (n) macs.push(n);
  }
  return macs;
}

/**
 * The DHCP context for a request from `clientMac` in network `networkUuid`, or null when the
 * network is unknown or has no DHCP service (no simulated interface with a `dhcp` network service
 * and an IP lease in it) — then the agent should not answer at all.
 */
export function dhcpContextFrom(
  resources: DhcpResources,
  networkUuid: string,
  clientMac: string,
  local: DhcpLocal,
): DhcpContext | null {
  const network = resources.networks?.find((n) => n.uuid === networkUuid);
  if (!network) return null;
  const ifaces = new Map((resources.interfaces ?? []).map((i) => [i.uuid, i]));
  const services = resources.network_services ?? [];
  const serviceLease = (mode: string): { lease: Lease; iface: InterfaceItem } | undefined => {
    for (const s of services) {
      if (s.mode !== mode || !s.interface_uuid) continue;
      const iface = ifaces.get(s.interface_uuid);
      const lease = leaseIn(resources, iface, networkUuid);
      if (iface && lease) return { lease, iface };
    }
    return undefined;
  };

  const dhcp = serviceLease('dhcp');
  if (!dhcp) return null;
  const serverMac = dhcp.lease.mac ?? (dhcp.iface.mac_address ? normalizeMac(dhcp.iface.mac_address) : null);
  if (!serverMac) return null;

  const mac = normalizeMac(clientMac);
  let client: DhcpContext['client'] = null;
  if (mac) {
    for (const iface of ifaces.values()) {
      if (!macsOf(iface).includes(mac)) continue;
      const leases = leasesOf(resources, iface).filter((l) => l.networkUuid === networkUuid);
      // Prefer the IP leased under this very MAC; an interface-level lease (no MAC) also counts.
      const lease = leases.find((l) => l.mac === mac) ?? leases.find((l) => l.mac === null);
      client = { interfaceUuid: iface.uuid, macAddress: mac, ipv4Address: lease?.ip ?? null };
      break;
    }
  }

  // The router: the interface of a route in this network, else a `router` service, else a
  // routing simulated interface with an address here.
  const routes = resources.routes ?? [];
  const nearRoutes = routes.filter((r) => r.network_uuid === networkUuid && r.ingress !== false);
  let router: DhcpContext['router'] = null;
  const gatewayOf = new Map<string, string>();
  for (const r of nearRoutes) {
    const lease = r.interface_uuid ? leaseIn(resources, ifaces.get(r.interface_uuid), networkUuid) : undefined;
    if (!lease) continue;
    if (r.route_link_uuid && !gatewayOf.has(r.route_link_uuid)) gatewayOf.set(r.route_link_uuid, lease.ip);
    router ??= { ipv4Address: lease.ip };
  }
  if (!router) {
    const svc = serviceLease('router');
    if (svc) router = { ipv4Address: svc.lease.ip };
  }
  if (!router) {
    for (const iface of ifaces.values()) {
      if (iface.mode !== 'simulated' || !iface.enable_routing) continue;
      const lease = leaseIn(resources, iface, networkUuid);
      if (lease) {
        router = { ipv4Address: lease.ip };
        break;
      }
    }
  }

  // Far networks on the same route links, reached via this network's router on that link.
  const reachable: DhcpContext['routes'] = [];
  for (const r of routes) {
    if (!r.route_link_uuid || r.network_uuid === networkUuid || r.egress === false) continue;
    const via = gatewayOf.get(r.route_link_uuid);
    if (!via || !isIpv4(r.ipv4_network) || typeof r.ipv4_prefix !== 'number') continue;
    reachable.push({ ipv4Network: r.ipv4_network, ipv4Prefix: r.ipv4_prefix, router: via });
  }

  const dnsServers = (network.dns_servers ?? '')
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => isIpv4(s));

  return {
    network: {
      uuid: network.uuid,
      ipv4Network: network.ipv4_network,
      ipv4Prefix: network.ipv4_prefix,
      domainName: network.domain_name || null,
      mtu: network.mtu ?? null,
      dnsServers,
      leaseTime: network.dhcp_lease_time ?? DEFAULT_LEASE_TIME,
    },
    client,
    server: { interfaceUuid: dhcp.iface.uuid, ipv4Address: dhcp.lease.ip, macAddress: serverMac },
    router,
    routes: reachable,
    dnsService: serviceLease('dns')?.lease.ip ?? null,
    encapsulation: local.encapsulation,
    underlayMtu: local.underlayMtu ?? DEFAULT_UNDERLAY_MTU,
  };
}

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

/**
 * The feed resources indexed for DHCP: build once per model revision (linear), then answer
 * context() per request in time independent of the number of interfaces. Items are read, never
 * kept beyond the model's life: rebuild after the feed changes anything.
 */
export class DhcpModel {
  private readonly networks = new Map<string, NetworkItem>();
  private readonly interfaces = new Map<string, InterfaceItem>();
  /** Canonical MAC → the interface owning it (first one wins, as the API keeps MACs unique). */
  private readonly byMac = new Map<string, InterfaceItem>();
  private readonly routing: InterfaceItem[] = [];
  private readonly services: readonly NetworkServiceItem[];
  private readonly routes: readonly RouteItem[];
  private readonly leaseCache = new Map<string, Lease[]>();

  constructor(private readonly resources: DhcpResources) {
    for (const n of resources.networks ?? []) this.networks.set(n.uuid, n);
    for (const i of resources.interfaces ?? []) {
      this.interfaces.set(i.uuid, i);
      for (const m of [i.mac_address, ...(i.mac_leases ?? []).map((ml) => ml.mac_address)]) {
        const mac = m ? normalizeMac(m) : null;
        if (mac && !this.byMac.has(mac)) this.byMac.set(mac, i);
      }
      if (i.mode === 'simulated' && i.enable_routing) this.routing.push(i);
    }
    this.services = resources.network_services ?? [];
    this.routes = resources.routes ?? [];
  }

  private leases(iface: InterfaceItem): Lease[] {
    let l = this.leaseCache.get(iface.uuid);
    if (!l) {
      l = leasesOf(this.resources, iface);
      this.leaseCache.set(iface.uuid, l);
    }
    return l;
  }

  private leaseIn(iface: InterfaceItem | undefined, networkUuid: string): Lease | undefined {
    return iface ? this.leases(iface).find((l) => l.networkUuid === networkUuid) : undefined;
  }

  private serviceLease(mode: string, networkUuid: string): { lease: Lease; iface: InterfaceItem } | undefined {
    for (const s of this.services) {
      if (s.mode !== mode || !s.interface_uuid) continue;
      const iface = this.interfaces.get(s.interface_uuid);
      const lease = this.leaseIn(iface, networkUuid);
      if (iface && lease) return { lease, iface };
    }
    return undefined;
  }

  /**
   * The DHCP context for a request from `clientMac` in network `networkUuid`, or null when the
   * network is unknown or has no DHCP service (no interface with a `dhcp` network service and an
   * IP lease in it) — then the agent should not answer at all.
   */
  context(networkUuid: string, clientMac: string, local: DhcpLocal): DhcpContext | null {
    const network = this.networks.get(networkUuid);
    if (!network) return null;
    const dhcp = this.serviceLease('dhcp', networkUuid);
    if (!dhcp) return null;
    const serverMac = dhcp.lease.mac ?? (dhcp.iface.mac_address ? normalizeMac(dhcp.iface.mac_address) : null);
    if (!serverMac) return null;

    const mac = normalizeMac(clientMac);
    const clientIface = mac ? this.byMac.get(mac) : undefined;
    let client: DhcpContext['client'] = null;
    if (mac && clientIface) {
      const leases = this.leases(clientIface).filter((l) => l.networkUuid === networkUuid);
      // Prefer the IP leased under this very MAC; an interface-level lease (no MAC) also counts.
      const lease = leases.find((l) => l.mac === mac) ?? leases.find((l) => l.mac === null);
      client = { interfaceUuid: clientIface.uuid, macAddress: mac, ipv4Address: lease?.ip ?? null };
    }

    // The router: the interface of a route in this network (ingress allowed), else a `router`
    // service, else a routing simulated interface with an address here.
    let router: DhcpContext['router'] = null;
    const gatewayOf = new Map<string, string>();
    for (const r of this.routes) {
      if (r.network_uuid !== networkUuid || r.ingress === false || !r.interface_uuid) continue;
      const lease = this.leaseIn(this.interfaces.get(r.interface_uuid), networkUuid);
      if (!lease) continue;
      if (r.route_link_uuid && !gatewayOf.has(r.route_link_uuid)) gatewayOf.set(r.route_link_uuid, lease.ip);
      router ??= { ipv4Address: lease.ip };
    }
    if (!router) {
      const svc = this.serviceLease('router', networkUuid);
      if (svc) router = { ipv4Address: svc.lease.ip };
    }
    if (!router) {
      for (const iface of this.routing) {
        const lease = this.leaseIn(iface, networkUuid);
        if (lease) {
          router = { ipv4Address: lease.ip };
          break;
        }
      }
    }

    // Far networks on the same route links (egress allowed), reached via this network's router there.
    const reachable: DhcpContext['routes'] = [];
    for (const r of this.routes) {
      if (!r.route_link_uuid || r.network_uuid === networkUuid || r.egress === false) continue;
      const via = gatewayOf.get(r.route_link_uuid);
      if (!via || !isIpv4(r.ipv4_network) || typeof r.ipv4_prefix !== 'number') continue;
      reachable.push({ ipv4Network: r.ipv4_network, ipv4Prefix: r.ipv4_prefix, router: via });
    }

    const dnsServers = (network.dns_servers ?? '')
      .split(/[,\s]+/)
      .map((x) => x.trim())
      .filter((x) => isIpv4(x));

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
      dnsService: this.serviceLease('dns', networkUuid)?.lease.ip ?? null,
      encapsulation: local.encapsulation,
      underlayMtu: local.underlayMtu ?? DEFAULT_UNDERLAY_MTU,
    };
  }
}

const KEYS = ['networks', 'interfaces', 'mac_leases', 'ip_leases', 'network_services', 'routes'] as const;

/** The arrays (copied) and model of the previous call; see dhcpContextFrom. */
let last: { lists: (readonly object[] | undefined)[]; model: DhcpModel } | undefined;

function sameItems(a: readonly object[] | undefined, b: readonly object[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * DhcpModel.context() for callers that hand over the resources each time. The model is reused
 * while every list holds the very same item objects in the same order (pointer comparisons, a few
 * µs for thousands of items), which is how a feed mirror behaves: a change replaces an item with
 * a new object. Items must therefore be treated as immutable; a caller that edits items in place
 * should build its own DhcpModel after each edit.
 */
export function dhcpContextFrom(
  resources: DhcpResources,
  networkUuid: string,
  clientMac: string,
  local: DhcpLocal,
): DhcpContext | null {
  const lists = KEYS.map((k) => resources[k] as readonly object[] | undefined);
  if (!last || !lists.every((l, i) => sameItems(l, last!.lists[i]))) {
    last = { lists: lists.map((l) => (l ? [...l] : undefined)), model: new DhcpModel(resources) };
  }
  return last.model.context(networkUuid, clientMac, local);
}

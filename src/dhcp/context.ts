// Derives a DhcpContext for one request from the model, read through DhcpView: the agent serves it from the
// indices of its one copy of the model; DhcpModel serves it over plain resource lists (tests, tools).
import { type NetworkPrefix, networkPrefixes, prefixHolding } from '../model/resources/subnets.js';
import type { Interface, IpLease, MacLease, Network, NetworkService, Route, Subnet } from '../model/types.js';
import { isIpv4, normalizeMac } from '../packet/index.js';
import { DEFAULT_UNDERLAY_MTU, type Encapsulation } from './mtu.js';
import type { DhcpContext } from './responder.js';

// The fields read here, of the model's types. Readers still default missing ones (older snapshots).
export type DhcpNetwork = Pick<
  Network,
  'uuid' | 'ipv4_network' | 'ipv4_prefix' | 'domain_name' | 'mtu' | 'dns_servers' | 'dhcp_lease_time'
> &
  Partial<Pick<Network, 'host_routes'>>;
export type DhcpInterface = Pick<
  Interface,
  'uuid' | 'mode' | 'mac_address' | 'network_uuid' | 'ipv4_address' | 'enable_routing' | 'mac_leases'
>;
export type DhcpMacLease = Pick<MacLease, 'uuid' | 'interface_uuid' | 'mac_address'>;
export type DhcpIpLease = Pick<IpLease, 'uuid' | 'network_uuid' | 'ipv4_address' | 'interface_uuid' | 'mac_lease_uuid'>;
export type DhcpNetworkService = Pick<NetworkService, 'uuid' | 'mode' | 'interface_uuid'>;
export type DhcpSubnet = Pick<
  Subnet,
  'uuid' | 'network_uuid' | 'ipv4_network' | 'ipv4_prefix' | 'gateway_ipv4_address'
>;
export type DhcpRoute = Pick<
  Route,
  'uuid' | 'interface_uuid' | 'route_link_uuid' | 'network_uuid' | 'ipv4_network' | 'ipv4_prefix' | 'ingress' | 'egress'
>;

/** What DHCP reads of the model: lookups answered without scanning every interface. */
export interface DhcpView {
  network(uuid: string): DhcpNetwork | undefined;
  interface(uuid: string): DhcpInterface | undefined;
  /** The interface owning a canonical MAC (its mac_address or one of its MAC leases'). */
  interfaceByMac(mac: string): DhcpInterface | undefined;
  /** An interface's top-level MAC and IP leases (read only when it embeds none). */
  macLeasesOf(interfaceUuid: string): Iterable<DhcpMacLease>;
  ipLeasesOf(interfaceUuid: string): Iterable<DhcpIpLease>;
  /** Network services of a mode: `dhcp` (server), `dns` (DNS fallback), `router` (router fallback). */
  services(mode: NonNullable<DhcpNetworkService['mode']>): Iterable<DhcpNetworkService>;
  /** Routes in a network, and routes on a route link. */
  routesIn(networkUuid: string): Iterable<DhcpRoute>;
  routesOn(routeLinkUuid: string): Iterable<DhcpRoute>;
  /** Simulated interfaces with enable_routing (the last-resort router). */
  routingInterfaces(): Iterable<DhcpInterface>;
  /** The network's prefixes, its own first (model/resources/subnets.ts); absent: its own only. */
  prefixes?(network: DhcpNetwork): NetworkPrefix[];
}

/** The slice of `GET /api/1.0/feed/snapshot` `resources` the DHCP context needs. */
export interface DhcpResources {
  networks?: readonly DhcpNetwork[];
  interfaces?: readonly DhcpInterface[];
  mac_leases?: readonly DhcpMacLease[];
  ip_leases?: readonly DhcpIpLease[];
  network_services?: readonly DhcpNetworkService[];
  routes?: readonly DhcpRoute[];
  subnets?: readonly DhcpSubnet[];
}

/** What the local agent contributes: its tunnels' encapsulation, the underlay MTU, the metadata address it serves. */
export interface DhcpLocal {
  encapsulation: Encapsulation;
  underlayMtu?: number;
  /** 169.254.169.254 when this host serves metadata (a network without a router then gets a route to it). */
  metadataIp?: string | null;
}

/** Option 121's next hop for a destination on the client's own link (RFC 3442 routes through 0.0.0.0). */
export const ON_LINK = '0.0.0.0';

/** RFC 2131 needs some lease; OpenVNet's default is one day. */
export const DEFAULT_LEASE_TIME = 86400;

interface Lease {
  mac: string | null;
  ip: string;
  networkUuid: string;
}

/** An interface's (MAC, IP, network) leases: from its embedded mac_leases, else the top-level lists. */
export function leasesOf(view: DhcpView, iface: DhcpInterface): Lease[] {
  const out: Lease[] = [];
  const push = (mac: string | null | undefined, il: Pick<DhcpIpLease, 'network_uuid' | 'ipv4_address'>) => {
    if (il.network_uuid && isIpv4(il.ipv4_address)) {
      out.push({ mac: mac ? normalizeMac(mac) : null, ip: il.ipv4_address, networkUuid: il.network_uuid });
    }
  };
  if (iface.mac_leases && iface.mac_leases.length > 0) {
    for (const ml of iface.mac_leases) for (const il of ml.ip_leases ?? []) push(ml.mac_address, il);
  }
  if (out.length === 0) {
    const macs = new Map<string, string | null | undefined>();
    for (const ml of view.macLeasesOf(iface.uuid)) if (ml.uuid) macs.set(ml.uuid, ml.mac_address);
    for (const il of view.ipLeasesOf(iface.uuid))
      push(il.mac_lease_uuid ? (macs.get(il.mac_lease_uuid) ?? iface.mac_address) : iface.mac_address, il);
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

/** The interface's lease in the network, inside `prefix` when one is given (a network's subnets share its L2). */
function leaseIn(
  view: DhcpView,
  iface: DhcpInterface | undefined,
  networkUuid: string,
  prefix?: NetworkPrefix,
): Lease | undefined {
  if (!iface) return undefined;
  return leasesOf(view, iface).find(
    (l) => l.networkUuid === networkUuid && (!prefix || prefixHolding([prefix], l.ip) !== undefined),
  );
}

/** The first service of `mode` whose interface has a lease in the network (in `prefix`, when given). */
function serviceLease(
  view: DhcpView,
  mode: NonNullable<DhcpNetworkService['mode']>,
  networkUuid: string,
  prefix?: NetworkPrefix,
): { lease: Lease; iface: DhcpInterface } | undefined {
  for (const s of view.services(mode)) {
    if (!s.interface_uuid) continue;
    const iface = view.interface(s.interface_uuid);
    const lease = leaseIn(view, iface, networkUuid, prefix);
    if (iface && lease) return { lease, iface };
  }
  return undefined;
}

/**
 * The DHCP context for a request from `clientMac` in network `networkUuid`, or null when the
 * network is unknown or has no DHCP service (no interface with a `dhcp` network service and an
 * IP lease in it) — then the agent should not answer at all.
 */
export function dhcpContext(
  view: DhcpView,
  networkUuid: string,
  clientMac: string,
  local: DhcpLocal,
): DhcpContext | null {
  const network = view.network(networkUuid);
  // A Neutron network before its subnet has no addresses to offer.
  if (!network || network.ipv4_network === null) return null;
  const mac = normalizeMac(clientMac);
  const clientIface = mac ? view.interfaceByMac(mac) : undefined;
  let client: DhcpContext['client'] = null;
  if (mac && clientIface) {
    const leases = leasesOf(view, clientIface).filter((l) => l.networkUuid === networkUuid);
    // Prefer the IP leased under this very MAC; an interface-level lease (no MAC) also counts.
    const lease = leases.find((l) => l.mac === mac) ?? leases.find((l) => l.mac === null);
    client = { interfaceUuid: clientIface.uuid, macAddress: mac, ipv4Address: lease?.ip ?? null };
  }
  // Each client is answered with its own subnet's settings: the prefix holding its address (else the network's own).
  const prefixes = view.prefixes?.(network) ?? networkPrefixes(network, []);
  const own = prefixes[0]!;
  const mine = (client?.ipv4Address ? prefixHolding(prefixes, client.ipv4Address) : undefined) ?? own;
  const dhcp = serviceLease(view, 'dhcp', networkUuid, mine) ?? serviceLease(view, 'dhcp', networkUuid);
  if (!dhcp) return null;
  const serverMac = dhcp.lease.mac ?? (dhcp.iface.mac_address ? normalizeMac(dhcp.iface.mac_address) : null);
  if (!serverMac) return null;

  // The router: the subnet's gateway_ip when it has one (Neutron's dnsmasq hands it out whether or not a router is
  // attached yet); else the interface of a route in this subnet (ingress allowed), else a `router` service, else a
  // routing simulated interface with an address here.
  const gateway = mine.subnet?.gateway_ipv4_address ?? null;
  let router: DhcpContext['router'] = gateway ? { ipv4Address: gateway } : null;
  const gatewayOf = new Map<string, string>();
  for (const r of view.routesIn(networkUuid)) {
    if (r.network_uuid !== networkUuid || r.ingress === false || !r.interface_uuid) continue;
    const lease = leaseIn(view, view.interface(r.interface_uuid), networkUuid, mine);
    if (!lease) continue;
    if (r.route_link_uuid && !gatewayOf.has(r.route_link_uuid)) gatewayOf.set(r.route_link_uuid, lease.ip);
    router ??= { ipv4Address: lease.ip };
  }
  if (!router) {
    const svc = serviceLease(view, 'router', networkUuid, mine);
    if (svc) router = { ipv4Address: svc.lease.ip };
  }
  if (!router) {
    for (const iface of view.routingInterfaces()) {
      const lease = leaseIn(view, iface, networkUuid, mine);
      if (lease) {
        router = { ipv4Address: lease.ip };
        break;
      }
    }
  }

  // The network's other subnets are on the link (one L2): reached directly, as Neutron's dnsmasq routes them
  // ("cidr,0.0.0.0" in option 121).
  const reachable: DhcpContext['routes'] = prefixes
    .filter((p) => p !== mine)
    .map((p) => ({ ipv4Network: p.ipv4_network, ipv4Prefix: p.ipv4_prefix, router: ON_LINK }));
  // Far networks on the same route links (egress allowed), reached via this subnet's router there.
  for (const [link, via] of gatewayOf) {
    for (const r of view.routesOn(link)) {
      if (r.network_uuid === networkUuid || r.egress === false) continue;
      if (!isIpv4(r.ipv4_network) || typeof r.ipv4_prefix !== 'number') continue;
      reachable.push({ ipv4Network: r.ipv4_network, ipv4Prefix: r.ipv4_prefix, router: via });
    }
  }

  // DNS servers and host routes are the network's, so its first subnet's (a further subnet takes none).
  const first = mine === own;
  const dnsServers = (first ? (network.dns_servers ?? '') : '')
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter((x) => isIpv4(x));

  return {
    network: {
      uuid: network.uuid,
      ipv4Network: mine.ipv4_network,
      ipv4Prefix: mine.ipv4_prefix,
      domainName: network.domain_name || null,
      mtu: network.mtu ?? null,
      dnsServers,
      leaseTime: network.dhcp_lease_time ?? DEFAULT_LEASE_TIME,
    },
    client,
    server: { interfaceUuid: dhcp.iface.uuid, ipv4Address: dhcp.lease.ip, macAddress: serverMac },
    router,
    routes: reachable,
    // The API checked them; anything else (an older or hand-made document) is skipped, never thrown on.
    hostRoutes: (first ? (network.host_routes ?? []) : []).flatMap((r) => {
      const [net, len] = String(r?.destination).split('/');
      const prefix = Number(len ?? 32);
      return isIpv4(net ?? '') && isIpv4(r.nexthop) && Number.isInteger(prefix) && prefix >= 0 && prefix <= 32
        ? [{ network: net!, prefix, router: r.nexthop }]
        : [];
    }),
    metadataIp: local.metadataIp ?? null,
    dnsService:
      (serviceLease(view, 'dns', networkUuid, mine) ?? serviceLease(view, 'dns', networkUuid))?.lease.ip ?? null,
    encapsulation: local.encapsulation,
    underlayMtu: local.underlayMtu ?? DEFAULT_UNDERLAY_MTU,
  };
}

/**
 * DhcpView over plain resource lists, for callers that hold the snapshot's lists rather than the agent's model
 * (tests, tools, benches). Networks, interfaces and MACs are indexed once; the rest is scanned per lookup.
 * Items are read, never copied: build a new one after the lists change.
 */
export class DhcpModel implements DhcpView {
  private readonly networks = new Map<string, DhcpNetwork>();
  private readonly interfaces = new Map<string, DhcpInterface>();
  /** Canonical MAC → the interface owning it (first one wins, as the API keeps MACs unique). */
  private readonly byMac = new Map<string, DhcpInterface>();
  private readonly routing: DhcpInterface[] = [];

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
  }

  network(uuid: string): DhcpNetwork | undefined {
    return this.networks.get(uuid);
  }
  interface(uuid: string): DhcpInterface | undefined {
    return this.interfaces.get(uuid);
  }
  interfaceByMac(mac: string): DhcpInterface | undefined {
    return this.byMac.get(mac);
  }
  macLeasesOf(interfaceUuid: string): DhcpMacLease[] {
    return (this.resources.mac_leases ?? []).filter((ml) => ml.interface_uuid === interfaceUuid);
  }
  ipLeasesOf(interfaceUuid: string): DhcpIpLease[] {
    return (this.resources.ip_leases ?? []).filter((il) => il.interface_uuid === interfaceUuid);
  }
  services(mode: NonNullable<DhcpNetworkService['mode']>): DhcpNetworkService[] {
    return (this.resources.network_services ?? []).filter((s) => s.mode === mode);
  }
  routesIn(networkUuid: string): DhcpRoute[] {
    return (this.resources.routes ?? []).filter((r) => r.network_uuid === networkUuid);
  }
  routesOn(routeLinkUuid: string): DhcpRoute[] {
    return (this.resources.routes ?? []).filter((r) => r.route_link_uuid === routeLinkUuid);
  }
  routingInterfaces(): DhcpInterface[] {
    return this.routing;
  }
  prefixes(network: DhcpNetwork): NetworkPrefix[] {
    const subnets = (this.resources.subnets ?? []).filter((s) => s.network_uuid === network.uuid);
    return networkPrefixes(network, subnets);
  }

  /** dhcpContext() over these lists. */
  context(networkUuid: string, clientMac: string, local: DhcpLocal): DhcpContext | null {
    return dhcpContext(this, networkUuid, clientMac, local);
  }
}

/** One-off dhcpContext() over plain lists (indexes them each call: hold a DhcpModel to ask many times). */
export function dhcpContextFrom(
  resources: DhcpResources,
  networkUuid: string,
  clientMac: string,
  local: DhcpLocal,
): DhcpContext | null {
  return new DhcpModel(resources).context(networkUuid, clientMac, local);
}

// The agent's one in-memory copy of the model (from the change feed), with the indices flow generation, DHCP and
// the runtime's reports read. Items are the API's JSON representation (src/model/types.ts).
//
// applyChange returns the change keys that flow generation depends on, so the FlowCompiler recomputes only the
// owners those keys touch. A change confined to status fields (what agents report, see statusOf) and the server's
// timestamps updates the copy but returns no keys: an agent's own report coming back through the feed is no work.
import { isDeepStrictEqual } from 'node:util';
import { parseDpid } from '../../model/params.js';
import { statusOf } from '../../model/resource.js';
import { timestamps } from '../../model/resources/common.js';
import { DECLARATIONS } from '../../model/resources/index.js';
import type {
  Datapath,
  Filter,
  Interface,
  IpLease,
  MacLease,
  Network,
  NetworkService,
  ResourceMap,
  Route,
} from '../../model/types.js';
import { type NetworkPrefix, networkPrefixes } from '../../model/resources/subnets.js';
import { normalizeMac } from '../../packet/index.js';

/** The resource kinds the agent keeps (the others pass by: no flow, DHCP answer or report reads them). */
export type ViewKind = keyof typeof MAPS;

/** Every field optional, down through lists and embedded objects. */
export type Loose<T> = T extends readonly (infer E)[]
  ? Loose<E>[]
  : T extends object
    ? { [K in keyof T]?: Loose<T[K]> }
    : T;
/**
 * An item as buildModelView and applyChange take it. The feed sends whole documents, but tests and older servers
 * may leave fields out: every reader defaults a missing field (`?? []`, `?? null`), so the input type says so.
 */
export type FeedItem<K extends ViewKind> = Loose<ResourceMap[K]>;

/** The snapshot's `resources` object (any list may be missing; kinds the agent does not keep are ignored). */
export type FeedResources = { [K in ViewKind]?: FeedItem<K>[] } & { [k: string]: unknown };

/** One change-feed event's data. */
export interface FeedChange {
  revision: number;
  resource: string;
  uuid: string;
  op: 'upsert' | 'delete';
  item: Record<string, unknown> | null;
  /** The server's commit time (ms since the epoch), on live events: the agent's change spans start there. */
  committed_at?: number;
}

/**
 * A change key names an input of flow generation. Resource keys are `<resource>:<uuid>` (e.g.
 * `interfaces:if-1`); index keys say a set changed: `members:<network>` (interfaces in a network),
 * `seg-members:<segment>` (interfaces on a segment),
 * `link-routes:<route_link>`, `network-routes:<network>`, `iface-services:<interface>`,
 * `iface-filters:<interface>`, `sg-members:<security_group>`, `host-ifs:<datapath>` (its host interfaces or
 * their addresses changed); `location:<interface>` says the datapath an
 * interface is reported active on changed (the one status field flows read: where to tunnel to a remote
 * member); `local` is the host's LocalContext.
 */
export type ChangeKey = string;

/** A network's prefixes as the agent sees them: its own first, then its further subnets' (by uuid). */
export function prefixesOfNetwork(
  view: ModelView,
  network: Pick<Network, 'uuid' | 'ipv4_network' | 'ipv4_prefix'>,
): NetworkPrefix[] {
  const subnets = [...(view.subnetsByNetwork.get(network.uuid) ?? [])]
    .sort()
    .map((u) => view.subnets.get(u))
    .filter((s) => s !== undefined);
  return networkPrefixes(network, subnets);
}

/** uuid → item of every kept kind, under its field name in MAPS (e.g. `macLeases: Map<string, MacLease>`). */
type KindMaps = { [K in ViewKind as (typeof MAPS)[K]]: Map<string, ResourceMap[K]> };

/** The model as the agent sees it, plus indices kept up to date by applyChange. */
export interface ModelView extends KindMaps {
  /** The newest feed revision applied (changes of every kind count, kept or not). */
  revision: number;
  /** network uuid → interfaces in it (by interfaceNetworks). */
  membersByNetwork: Map<string, Set<string>>;
  /** segment uuid → interfaces on it (by interfaceSegment: segment_uuid and no network). */
  membersBySegment: Map<string, Set<string>>;
  /** trunk parent interface → its VLAN sub-interfaces (parent_interface_uuid). */
  subInterfacesByParent: Map<string, Set<string>>;
  /** port_name → interfaces that name it. */
  interfacesByPortName: Map<string, Set<string>>;
  /** Canonical MAC (mac_address and embedded MAC leases) → interfaces owning it. */
  interfacesByMac: Map<string, Set<string>>;
  /** Simulated interfaces with enable_routing (DHCP's last-resort router). */
  routingSimulated: Set<string>;
  /** interface → its top-level MAC leases / IP leases. */
  macLeasesByInterface: Map<string, Set<string>>;
  ipLeasesByInterface: Map<string, Set<string>>;
  /** route link → routes on it. */
  routesByLink: Map<string, Set<string>>;
  /** network → routes in it. */
  routesByNetwork: Map<string, Set<string>>;
  /** interface → network services on it. */
  servicesByInterface: Map<string, Set<string>>;
  /** service mode (dhcp, dns, router) → network services of it. */
  servicesByMode: Map<string, Set<string>>;
  /** interface → filters of it. */
  filtersByInterface: Map<string, Set<string>>;
  /** security group → member interfaces. */
  membersBySecurityGroup: Map<string, Set<string>>;
  /** datapath → its host interfaces (mode host, owner_datapath_uuid): uplinks and the host's own addresses. */
  hostInterfacesByDatapath: Map<string, Set<string>>;
  /** network → its datapath_networks rows ("<datapath>/<network>"): uplinks, per-host MACs, gateway candidates. */
  datapathsByNetwork: Map<string, Set<string>>;
  /** network key → network uuid. */
  networkByKey: Map<number, string>;
  /** network → its subnets (the network's prefixes: model/resources/subnets.ts networkPrefixes). */
  subnetsByNetwork: Map<string, Set<string>>;
}

/** Where this agent runs: its datapath, bridge ports and tunnel settings. */
export interface LocalContext {
  datapathUuid: string;
  /** The bridge's datapath id. */
  dpid: bigint;
  /** This host's underlay address; null: cannot tunnel, serve local traffic only. */
  tunnelIp: string | null;
  /** How other hosts reach this one (what it asks senders to use). */
  encap: 'gre' | 'vxlan';
  /** ofports of the flow-based tunnel ports, null while absent. */
  tunnelPorts: { gre: number | null; vxlan: number | null };
  /** ofport of the agent's metadata port (its HTTP server for 169.254.169.254); null/absent: no metadata here. */
  metadataPort?: number | null | undefined;
  /** Bridge ports by name (tunnel ports and the bridge's LOCAL port excluded or ignored). */
  ports: Map<string, LocalPort>;
  /** Underlay MTU, for the MTU that DHCP hands out. */
  underlayMtu: number;
  /** Source ports the gateway's snat translations use (`--snat-ports`); undefined: OVS's own range. */
  snatPorts?: { min: number; max: number } | undefined;
}

export interface LocalPort {
  ofport: number;
  /** external_ids:iface-id (libvirt/OVN convention). */
  ifaceId?: string | undefined;
  /** external_ids:attached-mac. */
  attachedMac?: string | undefined;
  /** false: the port's link is down (no carrier); only uplinks' is reported. */
  linkUp?: boolean | undefined;
}

/** An interface bound to a local port. */
export interface Binding {
  interfaceUuid: string;
  portName: string;
  ofport: number;
  /** How it matched: the port's name is port_name, the port's name is the uuid, or the port's iface-id is the uuid. */
  via: 'port_name' | 'uuid' | 'iface_id';
  /** The interface's network (network_uuid, else its first IP lease's), null when it has none. */
  networkUuid: string | null;
  /** The interface's segment when it has no network (see interfaceSegment); absent or null: none. */
  segmentUuid?: string | null;
  /**
   * A VLAN sub-interface's trunk: its parent's real port and its tag there. Its own `ofport` is then a number of
   * its own (trunk.ts SubPortNumbers) that no bridge port has: the classifier loads it as in_port for the
   * sub-interface's frames, so every flow keyed by a port (anti-spoofing, ACLs, meters, metadata) works unchanged.
   */
  trunk?: { ofport: number; vlan: number } | undefined;
}

/** Resource list names of the feed → ModelView map fields. */
const MAPS = {
  datapaths: 'datapaths',
  networks: 'networks',
  interfaces: 'interfaces',
  mac_leases: 'macLeases',
  ip_leases: 'ipLeases',
  network_services: 'networkServices',
  route_links: 'routeLinks',
  routes: 'routes',
  datapath_networks: 'datapathNetworks',
  datapath_route_links: 'datapathRouteLinks',
  datapath_segments: 'datapathSegments',
  topologies: 'topologies',
  filters: 'filters',
  security_groups: 'securityGroups',
  translations: 'translations',
  segments: 'segments',
  // Read only by the DNS service's answers (no flow depends on them: dns-service.ts).
  dns_services: 'dnsServices',
  // A network's further prefixes (Neutron's second subnet): DHCP's mask and router, snat's inside sources.
  subnets: 'subnets',
} as const;

/** Per kind, the fields no flow reads: what agents report (status) and the server's timestamps. */
const NOT_SPEC = Object.fromEntries(
  Object.keys(MAPS).map((kind) => [
    kind,
    new Set([...statusOf(DECLARATIONS[kind as ViewKind].fields), ...Object.keys(timestamps)]),
  ]),
) as unknown as Record<ViewKind, ReadonlySet<string>>;

/** An empty view. */
export function emptyModelView(): ModelView {
  return {
    revision: 0,
    datapaths: new Map(),
    networks: new Map(),
    interfaces: new Map(),
    macLeases: new Map(),
    ipLeases: new Map(),
    networkServices: new Map(),
    routeLinks: new Map(),
    routes: new Map(),
    datapathNetworks: new Map(),
    datapathRouteLinks: new Map(),
    datapathSegments: new Map(),
    topologies: new Map(),
    filters: new Map(),
    securityGroups: new Map(),
    translations: new Map(),
    segments: new Map(),
    dnsServices: new Map(),
    subnets: new Map(),
    subnetsByNetwork: new Map(),
    membersByNetwork: new Map(),
    membersBySegment: new Map(),
    subInterfacesByParent: new Map(),
    interfacesByPortName: new Map(),
    interfacesByMac: new Map(),
    routingSimulated: new Set(),
    macLeasesByInterface: new Map(),
    ipLeasesByInterface: new Map(),
    routesByLink: new Map(),
    routesByNetwork: new Map(),
    servicesByInterface: new Map(),
    servicesByMode: new Map(),
    filtersByInterface: new Map(),
    membersBySecurityGroup: new Map(),
    hostInterfacesByDatapath: new Map(),
    datapathsByNetwork: new Map(),
    networkByKey: new Map(),
  };
}

/** Uuid of a feed item: its `uuid`, or for relations "<datapath>/<other>". */
function itemUuid(resource: string, item: Record<string, unknown>): string {
  if (typeof item.uuid === 'string') return item.uuid;
  if (resource === 'datapath_networks') return `${item.datapath_uuid}/${item.network_uuid}`;
  if (resource === 'datapath_route_links') return `${item.datapath_uuid}/${item.route_link_uuid}`;
  return '';
}

/** Build a view from a snapshot's `resources`. */
export function buildModelView(resources: FeedResources, revision = 0): ModelView {
  const view = emptyModelView();
  view.revision = revision;
  for (const name of Object.keys(MAPS) as ViewKind[]) {
    for (const item of (resources[name] ?? []) as unknown as Record<string, unknown>[]) {
      if (item === null || typeof item !== 'object') continue;
      applyChange(view, { revision, resource: name, uuid: itemUuid(name, item), op: 'upsert', item });
    }
  }
  return view;
}

/** Networks an interface is in: network_uuid and the networks of its IP leases. */
export function interfaceNetworks(i: Interface): string[] {
  const out: string[] = [];
  if (i.network_uuid) out.push(i.network_uuid);
  for (const ml of i.mac_leases ?? [])
    for (const il of ml.ip_leases ?? [])
      if (il.network_uuid && !out.includes(il.network_uuid)) out.push(il.network_uuid);
  return out;
}

/**
 * The segment an interface is on: its segment_uuid when it is in no network. The server refuses an interface on both
 * (OpenVNet allowed it only for the network's own segment, and vnet has no networks on segments); should one come
 * anyway, its network classifies it.
 */
export function interfaceSegment(i: Interface): string | null {
  return i.segment_uuid && interfaceNetworks(i).length === 0 ? i.segment_uuid : null;
}

/** Canonical MACs of an interface: its mac_address and its MAC leases'. */
function interfaceMacList(i: Interface): string[] {
  const out: string[] = [];
  for (const m of [i.mac_address, ...(i.mac_leases ?? []).map((ml) => ml.mac_address)]) {
    const mac = m ? normalizeMac(m) : null;
    if (mac && !out.includes(mac)) out.push(mac);
  }
  return out;
}

function addIdx(idx: Map<string, Set<string>>, k: string | null | undefined, v: string): void {
  if (!k) return;
  let s = idx.get(k);
  if (!s) idx.set(k, (s = new Set()));
  s.add(v);
}
function delIdx(idx: Map<string, Set<string>>, k: string | null | undefined, v: string): void {
  if (!k) return;
  const s = idx.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) idx.delete(k);
}

/** Whether two versions of an item differ in a field flows may read (anything but status and timestamps). */
function specDiffers(name: ViewKind, a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const skip = NOT_SPEC[name];
  for (const k of Object.keys(a)) if (!skip.has(k) && !isDeepStrictEqual(a[k], b[k])) return true;
  for (const k of Object.keys(b)) if (!skip.has(k) && !(k in a)) return true;
  return false;
}

/**
 * Apply one change-feed event; returns the change keys it touched (the resource key plus the index keys
 * whose sets changed or whose members changed). A status-only change (see specDiffers) replaces the item
 * and returns no key but `location:<interface>` when an interface's active datapath moved. Unknown
 * resources are ignored (empty result).
 */
export function applyChange(view: ModelView, change: FeedChange): ChangeKey[] {
  if (change.revision > view.revision) view.revision = change.revision;
  const name = change.resource as ViewKind;
  const mapName = MAPS[name];
  if (mapName === undefined) return [];
  const map = view[mapName] as Map<string, Record<string, unknown>>;
  const uuid = change.uuid || (change.item ? itemUuid(name, change.item) : '');
  if (!uuid) return [];
  const old = map.get(uuid);
  const next = change.op === 'delete' ? undefined : (change.item ?? undefined);
  const keys: ChangeKey[] = [];
  if (name === 'interfaces') {
    const before = old as Interface | undefined;
    const after = next as Interface | undefined;
    if ((before?.active_datapath_uuid ?? null) !== (after?.active_datapath_uuid ?? null)) keys.push(`location:${uuid}`);
    // An uplink's reported status (down: no carrier) decides whether its datapath can be a gateway.
    if ((before ?? after)?.mode === 'host' && (before?.status ?? null) !== (after?.status ?? null))
      keys.push(`link:${uuid}`);
  }
  // Whether a datapath's agent is connected is status, yet it picks the active gateway among the candidates.
  if (
    name === 'datapaths' &&
    (old as Datapath | undefined)?.is_connected !== (next as Datapath | undefined)?.is_connected
  )
    keys.push(`liveness:${uuid}`);
  if (old && next && !specDiffers(name, old, next)) {
    map.set(uuid, next);
    return keys;
  }
  keys.push(`${name}:${uuid}`);
  if (name === 'interfaces') {
    // Group membership keys only when membership changed: the security owner depends on them.
    const before = new Set((old as Interface | undefined)?.security_group_uuids ?? []);
    const after = new Set((next as Interface | undefined)?.security_group_uuids ?? []);
    for (const g of before) if (!after.has(g)) keys.push(`sg-members:${g}`);
    for (const g of after) if (!before.has(g)) keys.push(`sg-members:${g}`);
  }
  if (old) indexItem(view, name, uuid, old, keys, delIdx);
  if (next) {
    map.set(uuid, next);
    indexItem(view, name, uuid, next, keys, addIdx);
  } else map.delete(uuid);
  return [...new Set(keys)];
}

/** Adds an item to (edit = addIdx) or removes it from (edit = delIdx) the indices, noting the keys touched. */
function indexItem(
  view: ModelView,
  name: ViewKind,
  uuid: string,
  item: Record<string, unknown>,
  keys: ChangeKey[],
  edit: typeof addIdx,
): void {
  switch (name) {
    case 'interfaces': {
      const i = item as unknown as Interface;
      for (const n of interfaceNetworks(i)) {
        edit(view.membersByNetwork, n, uuid);
        keys.push(`members:${n}`);
      }
      const seg = interfaceSegment(i);
      if (seg) {
        edit(view.membersBySegment, seg, uuid);
        keys.push(`seg-members:${seg}`);
      }
      edit(view.interfacesByPortName, i.port_name, uuid);
      edit(view.subInterfacesByParent, i.parent_interface_uuid, uuid);
      for (const g of i.security_group_uuids ?? []) edit(view.membersBySecurityGroup, g, uuid);
      if (i.mode === 'host' && i.owner_datapath_uuid) {
        edit(view.hostInterfacesByDatapath, i.owner_datapath_uuid, uuid);
        keys.push(`host-ifs:${i.owner_datapath_uuid}`);
      }
      for (const m of interfaceMacList(i)) edit(view.interfacesByMac, m, uuid);
      if (i.mode === 'simulated' && i.enable_routing) {
        if (edit === addIdx) view.routingSimulated.add(uuid);
        else view.routingSimulated.delete(uuid);
      }
      break;
    }
    case 'mac_leases': {
      edit(view.macLeasesByInterface, (item as unknown as MacLease).interface_uuid, uuid);
      break;
    }
    case 'ip_leases': {
      edit(view.ipLeasesByInterface, (item as unknown as IpLease).interface_uuid, uuid);
      break;
    }
    case 'routes': {
      const r = item as unknown as Route;
      edit(view.routesByLink, r.route_link_uuid, uuid);
      edit(view.routesByNetwork, r.network_uuid, uuid);
      keys.push(`link-routes:${r.route_link_uuid}`, `network-routes:${r.network_uuid}`);
      break;
    }
    case 'network_services': {
      const s = item as unknown as NetworkService;
      edit(view.servicesByInterface, s.interface_uuid, uuid);
      edit(view.servicesByMode, s.mode, uuid);
      if (s.interface_uuid) keys.push(`iface-services:${s.interface_uuid}`);
      break;
    }
    case 'filters': {
      const f = item as unknown as Filter;
      edit(view.filtersByInterface, f.interface_uuid, uuid);
      keys.push(`iface-filters:${f.interface_uuid}`);
      break;
    }
    case 'datapath_networks': {
      const nw = (item as { network_uuid?: string }).network_uuid;
      edit(view.datapathsByNetwork, nw, uuid);
      keys.push(`network-datapaths:${nw}`);
      break;
    }
    case 'subnets': {
      const nw = (item as { network_uuid?: string }).network_uuid;
      edit(view.subnetsByNetwork, nw, uuid);
      keys.push(`network-subnets:${nw}`);
      break;
    }
    case 'networks': {
      const n = item as unknown as Network;
      if (typeof n.tunnel_key !== 'number') break;
      if (edit === addIdx) view.networkByKey.set(n.tunnel_key, uuid);
      else if (view.networkByKey.get(n.tunnel_key) === uuid) view.networkByKey.delete(n.tunnel_key);
      break;
    }
    default:
      break;
  }
}

/**
 * The address other hosts tunnel to for datapath `dp`: its ipv4_address, else the first address of its host
 * interfaces (by uuid) — OpenVNet's datasets register no datapath address, only the host's interface on the
 * public network.
 */
export function tunnelAddress(view: ModelView, dp: Datapath): string | null {
  if (dp.ipv4_address) return dp.ipv4_address;
  for (const u of [...(view.hostInterfacesByDatapath.get(dp.uuid) ?? [])].sort()) {
    const i = view.interfaces.get(u);
    const ip = i?.mac_leases?.flatMap((m) => m.ip_leases ?? []).find((l) => l.ipv4_address)?.ipv4_address;
    if (ip ?? i?.ipv4_address) return (ip ?? i?.ipv4_address) as string;
  }
  return null;
}

/** The datapath registered with this dpid (dpids are compared as numbers: any spelling the server kept). */
export function datapathByDpid(view: ModelView, dpid: bigint): Datapath | undefined {
  for (const dp of view.datapaths.values()) if (dpidOf(dp) === dpid) return dp;
  return undefined;
}

function dpidOf(dp: Datapath): bigint | null {
  try {
    return typeof dp.dpid === 'string' && /^(0x)?[0-9a-f]{1,16}$/i.test(dp.dpid) ? parseDpid(dp.dpid) : null;
  } catch {
    return null;
  }
}

/** Datapaths registered for a node id. */
export function datapathsOfNode(view: ModelView, nodeId: string): Datapath[] {
  return [...view.datapaths.values()].filter((d) => d.node_id === nodeId);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The items of `map` named by `uuids` (an index's set), skipping any not there. */
export function itemsOf<T>(map: ReadonlyMap<string, T>, uuids: Iterable<string> | undefined): T[] {
  const out: T[] = [];
  for (const u of uuids ?? []) {
    const item = map.get(u);
    if (item) out.push(item);
  }
  return out;
}

/** Routes on a route link, sorted by uuid. */
export function routesOfLink(view: ModelView, rl: string): Route[] {
  return itemsOf(view.routes, view.routesByLink.get(rl)).sort((a, b) => cmp(a.uuid, b.uuid));
}

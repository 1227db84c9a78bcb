// The agent's in-memory view of the model (from the change feed) with the indices flow generation needs.
//
// Items are the API's JSON representation (see the shared contract); only the fields the pipeline reads are
// typed, the rest pass through. applyChange returns the change keys that flow generation depends on, so the
// FlowCompiler recomputes only the owners those keys touch.

export interface IpLeaseRes {
  uuid: string;
  network_uuid: string;
  ipv4_address: string;
  interface_uuid?: string | null;
  mac_lease_uuid?: string | null;
  enable_routing?: boolean;
  [k: string]: unknown;
}
export interface MacLeaseRes {
  uuid: string;
  mac_address: string;
  interface_uuid?: string;
  ip_leases?: IpLeaseRes[];
  [k: string]: unknown;
}
export interface DatapathRes {
  uuid: string;
  dpid: string;
  node_id?: string;
  ipv4_address: string | null;
  /** How other hosts reach this one; absent means 'gre'. */
  encap?: 'gre' | 'vxlan' | null;
  [k: string]: unknown;
}
export interface NetworkRes {
  uuid: string;
  ipv4_network: string;
  ipv4_prefix: number;
  network_mode?: string;
  tunnel_key: number;
  ct_zone: number;
  [k: string]: unknown;
}
export interface InterfaceRes {
  uuid: string;
  mode?: string | null;
  owner_datapath_uuid?: string | null;
  port_name?: string | null;
  mac_address?: string | null;
  network_uuid?: string | null;
  ipv4_address?: string | null;
  enable_filtering?: boolean;
  enable_routing?: boolean;
  mac_leases?: MacLeaseRes[];
  security_group_uuids?: string[];
  active_datapath_uuid?: string | null;
  active_port_name?: string | null;
  [k: string]: unknown;
}
export interface NetworkServiceRes {
  uuid: string;
  mode: string | null;
  interface_uuid: string | null;
  [k: string]: unknown;
}
export interface RouteLinkRes {
  uuid: string;
  mac_address?: string | null;
  [k: string]: unknown;
}
export interface RouteRes {
  uuid: string;
  interface_uuid: string;
  route_link_uuid: string;
  network_uuid: string;
  ipv4_network: string;
  ipv4_prefix: number;
  ingress?: boolean;
  egress?: boolean;
  [k: string]: unknown;
}
export interface FilterStaticRes {
  protocol: 'tcp' | 'udp' | 'icmp' | 'arp' | 'ip';
  action: 'pass' | 'drop' | 'conn';
  src_address?: string | null;
  dst_address?: string | null;
  src_port?: number | null;
  dst_port?: number | null;
  [k: string]: unknown;
}
export interface FilterRes {
  uuid: string;
  interface_uuid: string;
  mode?: string;
  ingress_passthrough?: boolean;
  egress_passthrough?: boolean;
  statics?: FilterStaticRes[];
  [k: string]: unknown;
}
export interface SecurityGroupRuleRes {
  uuid: string;
  direction: 'ingress' | 'egress';
  protocol: 'tcp' | 'udp' | 'icmp' | 'any';
  port_range_min?: number | null;
  port_range_max?: number | null;
  remote_ip_prefix?: string | null;
  remote_group_uuid?: string | null;
  [k: string]: unknown;
}
export interface SecurityGroupRes {
  uuid: string;
  rules?: SecurityGroupRuleRes[];
  [k: string]: unknown;
}
export interface DatapathNetworkRes {
  datapath_uuid: string;
  network_uuid: string;
  [k: string]: unknown;
}
export interface DatapathRouteLinkRes {
  datapath_uuid: string;
  route_link_uuid: string;
  [k: string]: unknown;
}

/** The snapshot's `resources` object (any list may be missing). */
export interface FeedResources {
  datapaths?: DatapathRes[];
  networks?: NetworkRes[];
  interfaces?: InterfaceRes[];
  mac_leases?: MacLeaseRes[];
  ip_leases?: IpLeaseRes[];
  network_services?: NetworkServiceRes[];
  route_links?: RouteLinkRes[];
  routes?: RouteRes[];
  datapath_networks?: DatapathNetworkRes[];
  datapath_route_links?: DatapathRouteLinkRes[];
  filters?: FilterRes[];
  security_groups?: SecurityGroupRes[];
  [k: string]: unknown[] | undefined;
}

/** One change-feed event's data. */
export interface FeedChange {
  revision: number;
  resource: string;
  uuid: string;
  op: 'upsert' | 'delete';
  item: Record<string, unknown> | null;
}

/**
 * A change key names an input of flow generation. Resource keys are `<resource>:<uuid>` (e.g.
 * `interfaces:if-1`); index keys say a set changed: `members:<network>` (interfaces in a network),
 * `link-routes:<route_link>`, `network-routes:<network>`, `iface-services:<interface>`,
 * `iface-filters:<interface>`, `sg-members:<security_group>`; `local` is the host's LocalContext.
 */
export type ChangeKey = string;

/** The model as the agent sees it, plus indices kept up to date by applyChange. */
export interface ModelView {
  revision: number;
  datapaths: Map<string, DatapathRes>;
  networks: Map<string, NetworkRes>;
  interfaces: Map<string, InterfaceRes>;
  macLeases: Map<string, MacLeaseRes>;
  ipLeases: Map<string, IpLeaseRes>;
  networkServices: Map<string, NetworkServiceRes>;
  routeLinks: Map<string, RouteLinkRes>;
  routes: Map<string, RouteRes>;
  datapathNetworks: Map<string, DatapathNetworkRes>;
  datapathRouteLinks: Map<string, DatapathRouteLinkRes>;
  filters: Map<string, FilterRes>;
  securityGroups: Map<string, SecurityGroupRes>;
  /** network uuid → interfaces in it (by interfaceNetworks). */
  membersByNetwork: Map<string, Set<string>>;
  /** port_name → interfaces that name it. */
  interfacesByPortName: Map<string, Set<string>>;
  /** route link → routes on it. */
  routesByLink: Map<string, Set<string>>;
  /** network → routes in it. */
  routesByNetwork: Map<string, Set<string>>;
  /** interface → network services on it. */
  servicesByInterface: Map<string, Set<string>>;
  /** interface → filters of it. */
  filtersByInterface: Map<string, Set<string>>;
  /** security group → member interfaces. */
  membersBySecurityGroup: Map<string, Set<string>>;
  /** network key → network uuid. */
  networkByKey: Map<number, string>;
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
  /** Bridge ports by name (tunnel ports and the bridge's LOCAL port excluded or ignored). */
  ports: Map<string, LocalPort>;
  /** Underlay MTU, for the MTU that DHCP hands out. */
  underlayMtu: number;
}

export interface LocalPort {
  ofport: number;
  /** external_ids:iface-id (libvirt/OVN convention). */
  ifaceId?: string | undefined;
  /** external_ids:attached-mac. */
  attachedMac?: string | undefined;
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
  filters: 'filters',
  security_groups: 'securityGroups',
} as const;
type FeedName = keyof typeof MAPS;

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
    filters: new Map(),
    securityGroups: new Map(),
    membersByNetwork: new Map(),
    interfacesByPortName: new Map(),
    routesByLink: new Map(),
    routesByNetwork: new Map(),
    servicesByInterface: new Map(),
    filtersByInterface: new Map(),
    membersBySecurityGroup: new Map(),
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
  for (const name of Object.keys(MAPS) as FeedName[]) {
    for (const item of (resources[name] ?? []) as Record<string, unknown>[]) {
      if (item === null || typeof item !== 'object') continue;
      applyChange(view, { revision, resource: name, uuid: itemUuid(name, item), op: 'upsert', item });
    }
  }
  return view;
}

/** Networks an interface is in: network_uuid and the networks of its IP leases. */
export function interfaceNetworks(i: InterfaceRes): string[] {
  const out: string[] = [];
  if (i.network_uuid) out.push(i.network_uuid);
  for (const ml of i.mac_leases ?? [])
    for (const il of ml.ip_leases ?? [])
      if (il.network_uuid && !out.includes(il.network_uuid)) out.push(il.network_uuid);
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

/**
 * Apply one change-feed event; returns the change keys it touched (the resource key plus the index keys
 * whose sets changed or whose members changed). Unknown resources are ignored (empty result).
 */
export function applyChange(view: ModelView, change: FeedChange): ChangeKey[] {
  const name = change.resource as FeedName;
  const mapName = MAPS[name];
  if (mapName === undefined) return [];
  if (change.revision > view.revision) view.revision = change.revision;
  const map = view[mapName] as Map<string, Record<string, unknown>>;
  const uuid = change.uuid || (change.item ? itemUuid(name, change.item) : '');
  if (!uuid) return [];
  const old = map.get(uuid);
  const next = change.op === 'delete' ? undefined : (change.item ?? undefined);
  const keys: ChangeKey[] = [`${name}:${uuid}`];
  if (name === 'interfaces') {
    // Group membership keys only when membership changed: the security owner depends on them.
    const before = new Set((old as InterfaceRes | undefined)?.security_group_uuids ?? []);
    const after = new Set((next as InterfaceRes | undefined)?.security_group_uuids ?? []);
    for (const g of before) if (!after.has(g)) keys.push(`sg-members:${g}`);
    for (const g of after) if (!before.has(g)) keys.push(`sg-members:${g}`);
  }
  if (old) unindex(view, name, uuid, old, keys);
  if (next) {
    map.set(uuid, next);
    index(view, name, uuid, next, keys);
  } else map.delete(uuid);
  return [...new Set(keys)];
}

function index(view: ModelView, name: FeedName, uuid: string, item: Record<string, unknown>, keys: ChangeKey[]): void {
  switch (name) {
    case 'interfaces': {
      const i = item as InterfaceRes;
      for (const n of interfaceNetworks(i)) {
        addIdx(view.membersByNetwork, n, uuid);
        keys.push(`members:${n}`);
      }
      addIdx(view.interfacesByPortName, i.port_name, uuid);
      for (const g of i.security_group_uuids ?? []) addIdx(view.membersBySecurityGroup, g, uuid);
      break;
    }
    case 'routes': {
      const r = item as RouteRes;
      addIdx(view.routesByLink, r.route_link_uuid, uuid);
      addIdx(view.routesByNetwork, r.network_uuid, uuid);
      keys.push(`link-routes:${r.route_link_uuid}`, `network-routes:${r.network_uuid}`);
      break;
    }
    case 'network_services': {
      const s = item as NetworkServiceRes;
      addIdx(view.servicesByInterface, s.interface_uuid, uuid);
      if (s.interface_uuid) keys.push(`iface-services:${s.interface_uuid}`);
      break;
    }
    case 'filters': {
      const f = item as FilterRes;
      addIdx(view.filtersByInterface, f.interface_uuid, uuid);
      keys.push(`iface-filters:${f.interface_uuid}`);
      break;
    }
    case 'networks': {
      const n = item as NetworkRes;
      if (typeof n.tunnel_key === 'number') view.networkByKey.set(n.tunnel_key, uuid);
      break;
    }
    default:
      break;
  }
}

function unindex(
  view: ModelView,
  name: FeedName,
  uuid: string,
  item: Record<string, unknown>,
  keys: ChangeKey[],
): void {
  switch (name) {
    case 'interfaces': {
      const i = item as InterfaceRes;
      for (const n of interfaceNetworks(i)) {
        delIdx(view.membersByNetwork, n, uuid);
        keys.push(`members:${n}`);
      }
      delIdx(view.interfacesByPortName, i.port_name, uuid);
      for (const g of i.security_group_uuids ?? []) delIdx(view.membersBySecurityGroup, g, uuid);
      break;
    }
    case 'routes': {
      const r = item as RouteRes;
      delIdx(view.routesByLink, r.route_link_uuid, uuid);
      delIdx(view.routesByNetwork, r.network_uuid, uuid);
      keys.push(`link-routes:${r.route_link_uuid}`, `network-routes:${r.network_uuid}`);
      break;
    }
    case 'network_services': {
      const s = item as NetworkServiceRes;
      delIdx(view.servicesByInterface, s.interface_uuid, uuid);
      if (s.interface_uuid) keys.push(`iface-services:${s.interface_uuid}`);
      break;
    }
    case 'filters': {
      const f = item as FilterRes;
      delIdx(view.filtersByInterface, f.interface_uuid, uuid);
      keys.push(`iface-filters:${f.interface_uuid}`);
      break;
    }
    case 'networks': {
      const n = item as NetworkRes;
      if (view.networkByKey.get(n.tunnel_key) === uuid) view.networkByKey.delete(n.tunnel_key);
      break;
    }
    default:
      break;
  }
}

/** Interface modes that occupy a real switch port (simulated interfaces live only in flows). */
const BINDABLE_MODES = new Set(['vif', 'host', 'internal', 'promiscuous']);

/** The network a bound interface is classified into: network_uuid, else its first IP lease's network. */
export function primaryNetwork(i: InterfaceRes): string | null {
  return interfaceNetworks(i)[0] ?? null;
}

function bindable(i: InterfaceRes, local: LocalContext): boolean {
  if (!BINDABLE_MODES.has(i.mode ?? 'vif')) return false;
  return !i.owner_datapath_uuid || i.owner_datapath_uuid === local.datapathUuid;
}

const VIA_RANK = { port_name: 0, uuid: 1, iface_id: 2 } as const;

function better(a: Binding, b: Binding): boolean {
  return VIA_RANK[a.via] - VIA_RANK[b.via] < 0 || (a.via === b.via && a.portName < b.portName);
}

/**
 * Incremental binding (issue 6 "Binding"). Each interface chooses its best local port: the port named its
 * port_name, else the port named its uuid, else a port whose iface-id is its uuid (owner_datapath_uuid, when
 * set, must be this datapath; simulated interfaces never bind). When several interfaces choose one port, the
 * strongest claim wins (port_name > uuid > iface-id, then the smaller uuid); the others stay unbound.
 * refresh() re-evaluates one interface and the ports it touches, so one change costs O(1), not O(ports).
 */
export class Binder {
  private readonly byIfaceId = new Map<string, string[]>();
  private readonly choice = new Map<string, Binding>();
  private readonly choosers = new Map<string, Set<string>>();
  readonly bound = new Map<string, Binding>();

  constructor(
    private readonly local: LocalContext,
    view: ModelView,
  ) {
    const touched = new Set<string>();
    for (const [name, port] of local.ports) {
      if (!this.usable(port)) continue;
      if (port.ifaceId) {
        let l = this.byIfaceId.get(port.ifaceId);
        if (!l) this.byIfaceId.set(port.ifaceId, (l = []));
        l.push(name);
        touched.add(port.ifaceId);
      }
      for (const u of view.interfacesByPortName.get(name) ?? []) touched.add(u);
      touched.add(name);
    }
    for (const u of touched) this.setChoice(view, u);
    for (const port of this.choosers.keys()) this.resolve(port, new Set());
  }

  private usable(port: LocalPort): boolean {
    const t = this.local.tunnelPorts;
    return port.ofport > 0 && port.ofport < 0xff00 && port.ofport !== t.gre && port.ofport !== t.vxlan;
  }

  private computeChoice(view: ModelView, uuid: string): Binding | undefined {
    const i = view.interfaces.get(uuid);
    if (!i || !bindable(i, this.local)) return undefined;
    const networkUuid = primaryNetwork(i);
    let best: Binding | undefined;
    const consider = (portName: string | null | undefined, via: Binding['via']) => {
      if (!portName) return;
      const port = this.local.ports.get(portName);
      if (!port || !this.usable(port)) return;
      const c: Binding = { interfaceUuid: uuid, portName, ofport: port.ofport, via, networkUuid };
      if (!best || better(c, best)) best = c;
    };
    consider(i.port_name, 'port_name');
    consider(uuid, 'uuid');
    for (const p of this.byIfaceId.get(uuid) ?? []) consider(p, 'iface_id');
    return best;
  }

  /** Returns the port the interface chose before (if any). */
  private setChoice(view: ModelView, uuid: string): string | undefined {
    const old = this.choice.get(uuid);
    if (old) this.choosers.get(old.portName)?.delete(uuid);
    const c = this.computeChoice(view, uuid);
    if (c) {
      this.choice.set(uuid, c);
      let s = this.choosers.get(c.portName);
      if (!s) this.choosers.set(c.portName, (s = new Set()));
      s.add(uuid);
    } else this.choice.delete(uuid);
    return old?.portName;
  }

  private resolve(port: string, changed: Set<string>): void {
    const s = this.choosers.get(port);
    let winner: Binding | undefined;
    for (const u of s ?? []) {
      const c = this.choice.get(u)!;
      if (!winner || VIA_RANK[c.via] < VIA_RANK[winner.via] || (c.via === winner.via && u < winner.interfaceUuid))
        winner = c;
    }
    if (s && s.size === 0) this.choosers.delete(port);
    for (const u of s ?? []) {
      const want = u === winner?.interfaceUuid ? winner : undefined;
      this.set(u, want, changed);
    }
  }

  private set(u: string, b: Binding | undefined, changed: Set<string>): void {
    const o = this.bound.get(u);
    if (b) {
      if (
        !o ||
        o.portName !== b.portName ||
        o.ofport !== b.ofport ||
        o.networkUuid !== b.networkUuid ||
        o.via !== b.via
      )
        changed.add(u);
      this.bound.set(u, b);
    } else if (o) {
      changed.add(u);
      this.bound.delete(u);
    }
  }

  /** Re-evaluate interface `uuid` after it changed; returns the interfaces whose binding changed. */
  refresh(view: ModelView, uuid: string): Set<string> {
    const changed = new Set<string>();
    const oldPort = this.setChoice(view, uuid);
    const newPort = this.choice.get(uuid)?.portName;
    if (!newPort) this.set(uuid, undefined, changed);
    if (oldPort !== undefined) this.resolve(oldPort, changed);
    if (newPort !== undefined && newPort !== oldPort) this.resolve(newPort, changed);
    return changed;
  }
}

/** Bind interfaces to local ports (see Binder for the rule). Result sorted by interface uuid. */
export function bindInterfaces(view: ModelView, local: LocalContext): Binding[] {
  return [...new Binder(local, view).bound.values()].sort((a, b) => cmp(a.interfaceUuid, b.interfaceUuid));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Routes on a route link, sorted by uuid. */
export function routesOfLink(view: ModelView, rl: string): RouteRes[] {
  const out: RouteRes[] = [];
  for (const r of view.routesByLink.get(rl) ?? []) {
    const route = view.routes.get(r);
    if (route) out.push(route);
  }
  return out.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

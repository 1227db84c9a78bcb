// @ts-check
// The topology page's model: the resources of the change feed (a snapshot, then each change applied), and the
// graph drawn from them. No DOM here: the page (app.js) draws the graph, tests compare it with the API.

/** @typedef {Record<string, any>} Item  one resource's representation, as the API answers it */
/**
 * @typedef {object} GraphNode
 * @property {string} id           the resource's uuid
 * @property {'host' | 'network' | 'router' | 'interface' | 'translation'} kind
 * @property {string} label
 * @property {string} [parent]     an interface: the host it is bound to (its datapath's uuid)
 * @property {string} state        host: connected | out-of-sync | disconnected; interface: up | down | unbound
 */
/**
 * @typedef {object} GraphEdge
 * @property {string} id
 * @property {'member' | 'router-port' | 'translation'} kind
 *   member: an interface on a network; router-port: a router interface joining a network to a route link;
 *   translation: a floating IP (to its interface) or a gateway's SNAT (to its router)
 * @property {string} source
 * @property {string} target
 * @property {string} label
 * @property {string} [interface]  router-port: the router interface (if-…)
 */
/** @typedef {{ nodes: GraphNode[], edges: GraphEdge[] }} Graph */

/** The resource kinds the page keeps (the rest of the feed is skipped). */
export const KINDS = /** @type {const} */ ([
  'datapaths',
  'networks',
  'interfaces',
  'route_links',
  'routes',
  'translations',
  'datapath_networks',
]);

export class Topology {
  constructor() {
    /** @type {Map<string, Map<string, Item>>} */
    this.resources = new Map(KINDS.map((k) => [k, new Map()]));
    this.revision = 0;
  }

  /**
   * Replaces everything with a snapshot (GET /feed/snapshot).
   * @param {{ revision: number, resources: Record<string, Item[]> }} snapshot
   */
  load(snapshot) {
    for (const [kind, items] of this.resources) {
      items.clear();
      for (const item of snapshot.resources[kind] ?? []) items.set(item.uuid, item);
    }
    this.revision = snapshot.revision;
  }

  /**
   * Applies one change of the feed; false when it is not newer than what the model has (or not kept).
   * @param {{ revision: number, resource: string, uuid: string, op: 'upsert' | 'delete', item?: Item }} change
   */
  apply(change) {
    if (change.revision <= this.revision) return false;
    this.revision = change.revision;
    const items = this.resources.get(change.resource);
    if (!items) return false;
    if (change.op === 'delete') items.delete(change.uuid);
    else if (change.item) items.set(change.uuid, change.item);
    return true;
  }

  /** @param {string} kind */
  list(kind) {
    return [...(this.resources.get(kind)?.values() ?? [])];
  }

  /** @param {string} kind @param {string} uuid */
  get(kind, uuid) {
    return this.resources.get(kind)?.get(uuid);
  }

  /** @returns {Graph} */
  graph() {
    return graphOf(this);
  }
}

/** @param {Item} dp */
export function hostState(dp) {
  if (dp.is_connected !== true) return 'disconnected';
  return dp.flows_in_sync === true ? 'connected' : 'out-of-sync';
}

/**
 * Each address of an interface with its network, from its MAC and IP leases.
 * @param {Item} iface
 * @returns {{ network: string, ip: string }[]}
 */
export function addressesOf(iface) {
  /** @type {{ network: string, ip: string }[]} */
  const out = [];
  for (const m of iface.mac_leases ?? [])
    for (const l of m.ip_leases ?? []) out.push({ network: l.network_uuid, ip: l.ipv4_address });
  return out;
}

/**
 * A network's address as shown: its prefix, or what it is without one (a Neutron network before its subnet,
 * an L2-only network).
 * @param {Item} nw
 */
export function networkAddress(nw) {
  return typeof nw.ipv4_network === 'string' ? `${nw.ipv4_network}/${nw.ipv4_prefix}` : 'no subnet (L2 only)';
}

/**
 * The networks an interface is on: those of its IP leases, else its plain network_uuid.
 * @param {Item} iface
 */
export function networksOf(iface) {
  const nets = new Set(addressesOf(iface).map((a) => a.network));
  if (nets.size === 0 && typeof iface.network_uuid === 'string') nets.add(iface.network_uuid);
  return [...nets];
}

/**
 * The graph of a topology: hosts (their bound interfaces inside them), networks, routers (route links), the
 * interfaces that are not router ports, translations; edges between those that exist.
 * @param {Topology} t
 * @returns {Graph}
 */
export function graphOf(t) {
  /** @type {GraphNode[]} */
  const nodes = [];
  /** @type {GraphEdge[]} */
  const edges = [];
  const ids = new Set();
  /** @param {GraphNode} n */
  const node = (n) => {
    nodes.push(n);
    ids.add(n.id);
  };
  for (const dp of t.list('datapaths'))
    node({ id: dp.uuid, kind: 'host', label: dp.display_name || dp.node_id || dp.uuid, state: hostState(dp) });
  for (const nw of t.list('networks')) {
    const mode = nw.network_mode === 'physical' ? ` physical${nw.vlan_id ? ` vlan ${nw.vlan_id}` : ''}` : '';
    node({
      id: nw.uuid,
      kind: 'network',
      label: `${nw.display_name || nw.uuid}\n${networkAddress(nw)}${mode}`,
      state: nw.network_mode ?? 'virtual',
    });
  }
  for (const rl of t.list('route_links'))
    node({ id: rl.uuid, kind: 'router', label: `router\n${rl.display_name || rl.uuid}`, state: 'router' });

  // Router interfaces: those routes go through. Each joins its network to its route links.
  /** @type {Map<string, Set<string>>} */
  const portLinks = new Map();
  for (const r of t.list('routes')) {
    const links = portLinks.get(r.interface_uuid) ?? new Set();
    links.add(r.route_link_uuid);
    portLinks.set(r.interface_uuid, links);
  }
  const interfaces = t.list('interfaces');
  for (const i of interfaces) {
    if (portLinks.has(i.uuid)) continue;
    const host = [i.active_datapath_uuid, i.mode === 'host' ? i.owner_datapath_uuid : null].find(
      (d) => typeof d === 'string' && t.get('datapaths', d),
    );
    const ips = addressesOf(i).map((a) => a.ip);
    node({
      id: i.uuid,
      kind: 'interface',
      label: [i.display_name || i.uuid, ...ips].join('\n'),
      ...(host ? { parent: host } : {}),
      state: host || i.status === 'up' ? (i.status === 'up' ? 'up' : 'down') : 'unbound',
    });
  }
  const edgeIds = new Set();
  /** @param {GraphEdge} e */
  const edge = (e) => {
    if (!ids.has(e.source) || !ids.has(e.target) || edgeIds.has(e.id)) return;
    edges.push(e);
    edgeIds.add(e.id);
  };
  for (const i of interfaces) {
    const links = portLinks.get(i.uuid);
    const ip = addressesOf(i)[0]?.ip ?? '';
    for (const nw of networksOf(i)) {
      if (!links) edge({ id: `member:${i.uuid}:${nw}`, kind: 'member', source: i.uuid, target: nw, label: '' });
      else
        for (const rl of links)
          edge({
            id: `port:${i.uuid}:${rl}`,
            kind: 'router-port',
            source: nw,
            target: rl,
            label: ip,
            interface: i.uuid,
          });
    }
  }
  // A host's uplink (a host-mode interface) on a physical network.
  for (const dn of t.list('datapath_networks'))
    if (typeof dn.interface_uuid === 'string')
      edge({
        id: `member:${dn.interface_uuid}:${dn.network_uuid}`,
        kind: 'member',
        source: dn.interface_uuid,
        target: dn.network_uuid,
        label: '',
      });
  for (const tr of t.list('translations')) {
    const iface = t.get('interfaces', tr.interface_uuid);
    const hostOf = (/** @type {unknown} */ d) => (typeof d === 'string' ? t.get('datapaths', d) : undefined);
    const active = hostOf(tr.active_datapath_uuid);
    const at = active ? `\nactive on ${active.node_id}` : '';
    let label;
    if (tr.mode === 'snat') label = `SNAT ${addressesOf(iface ?? {})[0]?.ip ?? ''}${at}`;
    else
      label = `floating ${(tr.static_addresses ?? []).map((/** @type {Item} */ s) => s.egress_ipv4_address).join(', ')}${at}`;
    node({ id: tr.uuid, kind: 'translation', label, state: tr.mode ?? 'static_address' });
    // A gateway's SNAT belongs to its router; a floating IP to its VM.
    const links = portLinks.get(tr.interface_uuid);
    const target = links ? [...links][0] : tr.interface_uuid;
    if (target) edge({ id: `translation:${tr.uuid}`, kind: 'translation', source: tr.uuid, target, label: '' });
  }
  return { nodes, edges };
}

/** Grid cell of an interface (its label is two or three short lines), the gap between blocks, the rows' heights. */
const CELL = { w: 110, h: 60 };
const GAP = 90;
const ROW = { router: -220, network: 0, floating: 110, hosts: 220 };

/**
 * Where each node of `graph` is drawn: a deterministic layout, linear in the graph's size, so a change moves
 * only what it must and a thousand VMs draw at once. Networks in a row, routers above the networks they join
 * (a gateway's SNAT beside its router); below, the hosts side by side, each with its interfaces in a grid
 * (grouped by network), floating IPs above their VMs; interfaces bound nowhere in a block after the hosts.
 * @param {Graph} graph
 * @returns {Record<string, { x: number, y: number }>}
 */
export function layoutOf(graph) {
  /** @type {Record<string, { x: number, y: number }>} */
  const pos = {};
  const byKind = (/** @type {GraphNode['kind']} */ k) =>
    graph.nodes.filter((n) => n.kind === k).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  /** @type {Map<string, string[]>} each node's neighbours */
  const near = new Map();
  for (const e of graph.edges) {
    near.set(e.source, [...(near.get(e.source) ?? []), e.target]);
    near.set(e.target, [...(near.get(e.target) ?? []), e.source]);
  }
  // Networks a router joins sit next to each other: order them by their first router, then by uuid.
  const routerOf = (/** @type {string} */ nw) =>
    (near.get(nw) ?? []).filter((id) => id.startsWith('rl-')).sort()[0] ?? '~';
  const networks = byKind('network').sort((a, b) => {
    const ra = routerOf(a.id);
    const rb = routerOf(b.id);
    return ra !== rb ? (ra < rb ? -1 : 1) : a.id < b.id ? -1 : 1;
  });
  const netIndex = new Map(networks.map((n, i) => [n.id, i]));
  const netOf = (/** @type {string} */ id) =>
    Math.min(...(near.get(id) ?? []).map((x) => netIndex.get(x) ?? Number.MAX_SAFE_INTEGER));

  // Interfaces in blocks: one per host, then the unbound ones.
  /** @type {Map<string, GraphNode[]>} */
  const blocks = new Map(byKind('host').map((h) => [h.id, []]));
  /** @type {GraphNode[]} */
  const unbound = [];
  for (const i of byKind('interface')) (i.parent && blocks.get(i.parent) ? blocks.get(i.parent) : unbound)?.push(i);
  let x = 0;
  /** @param {GraphNode[]} members @param {string | null} host */
  const block = (members, host) => {
    const cols = Math.max(2, Math.ceil(Math.sqrt(members.length)));
    members.sort((a, b) => netOf(a.id) - netOf(b.id) || (a.id < b.id ? -1 : 1));
    members.forEach((m, k) => {
      pos[m.id] = { x: x + (k % cols) * CELL.w, y: ROW.hosts + Math.floor(k / cols) * CELL.h };
    });
    // An empty host still takes room for its box.
    if (host && members.length === 0) pos[host] = { x, y: ROW.hosts };
    x += cols * CELL.w + GAP;
  };
  for (const [host, members] of blocks) block(members, host);
  if (unbound.length) block(unbound, null);
  const width = Math.max(x - GAP - CELL.w, (networks.length - 1) * 180, 0);

  const step = networks.length > 1 ? width / (networks.length - 1) : 0;
  networks.forEach((n, k) => {
    pos[n.id] = { x: networks.length > 1 ? k * step : width / 2, y: ROW.network };
  });
  const mean = (/** @type {number[]} */ xs, /** @type {number} */ dflt) =>
    xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : dflt;
  const taken = new Set();
  /** A free place in a row near `want` (nodes of a row keep 120 px apart). @param {number} want @param {number} y */
  const place = (want, y) => {
    let at = Math.round(want / 120) * 120;
    for (let k = 1; taken.has(`${y}:${at}`); k++) at += (k % 2 ? k : -k) * 120;
    taken.add(`${y}:${at}`);
    return { x: at, y };
  };
  for (const r of byKind('router')) {
    const xs = (near.get(r.id) ?? []).map((id) => pos[id]?.x).filter((v) => v !== undefined);
    pos[r.id] = place(mean(/** @type {number[]} */ (xs), 0), ROW.router);
  }
  // A gateway's SNAT beside its router; a floating IP between the networks and its VM.
  for (const t of byKind('translation')) {
    const target = (near.get(t.id) ?? []).find((id) => pos[id] !== undefined);
    const at = target ? pos[target] : undefined;
    pos[t.id] = target?.startsWith('rl-') ? place((at?.x ?? 0) + 120, ROW.router) : place(at?.x ?? 0, ROW.floating);
  }
  return pos;
}

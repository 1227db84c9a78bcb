// Flow generation: model view + local context in, desired Flow[] out; FlowCompiler recomputes only touched owners.
//
// Flows are grouped by owner: `static` (pipeline-wide), `if:<uuid>` (a locally bound interface: classification
// and anti-spoofing), `nw:<uuid>` (a network present on this host: ARP answers, DHCP punt, neighbours, L2),
// `rl:<uuid>` (a route link with a network present here: routing and ICMP answers), `seg:<uuid>` (a segment
// with ports here: its tunnel key, L2 and flood), `sec` (filters and security groups). Each owner records the
// change keys it read; an update recomputes only owners whose keys changed, so one interface change touches its
// own flows and its network's (or segment's), nothing else.
import type { Flow, FlowMod } from '../../openflow/types.js';
import type { CompileContext, Presence } from './compile-context.js';
import { checkFlows, contractCheckedByDefault } from './contract.js';
import { diffFlows } from './diff.js';
import { interfaceFlows } from './flows-interface.js';
import { networkFlows } from './flows-network.js';
import { routeLinkFlows } from './flows-routing.js';
import { segmentFlows } from './flows-segment.js';
import { securityFlows } from './flows-security.js';
import { staticFlows } from './flows-static.js';
import { type Binding, type ChangeKey, type LocalContext, type ModelView, routesOfLink } from './model-view.js';
import { Binder, SubPortNumbers, sameBinding } from './binding.js';
import { carries } from './topology-placement.js';

export type { CompileContext, Presence } from './compile-context.js';

/** Result of one FlowCompiler.update. */
export interface CompileResult {
  /** FlowMods from the previous desired set to the new one (adds/modifies before deletes). */
  mods: FlowMod[];
  /** Owners recomputed (new or with changed inputs). */
  recomputed: string[];
  /** Owners that no longer exist. */
  removed: string[];
  /** Bindings whose state changed (new, gone, other port) — the runtime reports these. */
  bindingChanges: string[];
  /** Owners whose model data could not be turned into flows (e.g. a malformed address); they get no flows. */
  errors: { owner: string; error: Error }[];
}

interface OwnerState {
  flows: Flow[];
  deps: Set<ChangeKey>;
}

/**
 * Incremental flow compiler. Call update() with the change keys applyChange returned (any order, duplicates
 * fine); pass a NEW LocalContext object whenever the host's ports or tunnel settings change (identity is how
 * the compiler notices; the key 'local' does the same). A different ModelView object (a fresh snapshot)
 * recomputes everything; the mods then still hold only the difference.
 */
export class FlowCompiler {
  private readonly owners = new Map<string, OwnerState>();
  private readonly depIndex = new Map<ChangeKey, Set<string>>();
  private binder: Binder | undefined;
  private readonly subPorts = new SubPortNumbers();
  private readonly boundByNetwork = new Map<string, Set<string>>();
  /** segment → its interfaces bound here; a segment is present where it has one. */
  private readonly boundBySegment = new Map<string, Set<string>>();
  private segments = new Set<string>();
  private present = new Map<string, Presence>();
  private links = new Set<string>();
  private lastLocal: LocalContext | undefined;
  private lastView: ModelView | undefined;
  private cache: Flow[] | undefined;
  private readonly checkContract: boolean;

  /** `checkContract`: check every computed owner's flows against the table contract (default: outside production). */
  constructor(opts: { checkContract?: boolean } = {}) {
    this.checkContract = opts.checkContract ?? contractCheckedByDefault();
  }

  /** Current bindings (interface uuid → binding). */
  currentBindings(): ReadonlyMap<string, Binding> {
    return this.binder?.bound ?? new Map();
  }

  /** Networks present on this host and how. */
  presentNetworks(): ReadonlyMap<string, Presence> {
    return this.present;
  }

  /** All desired flows. */
  flows(): Flow[] {
    if (!this.cache) {
      const out: Flow[] = [];
      for (const st of this.owners.values()) for (const f of st.flows) out.push(f);
      this.cache = out;
    }
    return this.cache;
  }

  /** Flows of one owner (e.g. 'if:if-1', 'nw:nw-1'), for traces and tests. */
  ownerFlows(owner: string): readonly Flow[] {
    return this.owners.get(owner)?.flows ?? [];
  }

  /** Owner names. */
  ownerNames(): string[] {
    return [...this.owners.keys()];
  }

  update(view: ModelView, local: LocalContext, changedKeys: Iterable<ChangeKey>): CompileResult {
    const changed = new Set<ChangeKey>();
    for (const k of changedKeys) {
      changed.add(k);
      // `any:<resource>`: for owners that depend on a whole resource kind (security groups, filters).
      const c = k.indexOf(':');
      if (c > 0 && !k.startsWith('any:')) changed.add(`any:${k.slice(0, c)}`);
    }
    const first = this.binder === undefined;
    // A new ModelView (a re-snapshot after resync) or a host change (tunnel, datapath) invalidates everything:
    // every owner depends on 'local'. A LocalContext that differs only in its ports re-binds but recomputes just
    // the owners whose bindings moved: a VM port plugged on a host with 1,000 others costs its own flows only.
    const hostChanged = view !== this.lastView || !this.lastLocal || !sameHost(local, this.lastLocal);
    const portsChanged = local !== this.lastLocal;
    if (hostChanged) changed.add('local');
    this.lastLocal = local;
    this.lastView = view;

    // Bindings: all again when the host or its ports changed; otherwise only the interfaces that changed.
    const bindingChanges = new Set<string>();
    let networksMoved = false;
    const prevBound = this.binder?.bound ?? new Map<string, Binding>();
    if (first || changed.has('local') || portsChanged) {
      const old = new Map(prevBound);
      this.binder = new Binder(local, view, this.subPorts);
      for (const [u, b] of this.binder.bound) {
        const o = old.get(u);
        if (!o || !sameBinding(o, b)) bindingChanges.add(u);
      }
      for (const u of old.keys()) if (!this.binder.bound.has(u)) bindingChanges.add(u);
      for (const o of old.values()) networksMoved = this.countBinding(o, false) || networksMoved;
      for (const b of this.binder.bound.values()) networksMoved = this.countBinding(b, true) || networksMoved;
    } else {
      const binder = this.binder!;
      for (const k of changed) {
        if (!k.startsWith('interfaces:')) continue;
        const uuid = k.slice('interfaces:'.length);
        const before = new Map<string, Binding | undefined>();
        const touched = binder.refresh(view, uuid);
        // refresh() already updated binder.bound; recover the old bindings of the touched interfaces.
        for (const u of touched) before.set(u, this.shadow.get(u));
        for (const u of touched) {
          bindingChanges.add(u);
          const o = before.get(u);
          if (o) networksMoved = this.countBinding(o, false) || networksMoved;
          const b = binder.bound.get(u);
          if (b) networksMoved = this.countBinding(b, true) || networksMoved;
        }
      }
    }
    if (bindingChanges.size > 0) changed.add('bindings');
    for (const u of bindingChanges) {
      changed.add(`binding:${u}`);
      const b = this.binder!.bound.get(u);
      if (b) this.shadow.set(u, b);
      else this.shadow.delete(u);
    }

    // Presence (networks with local ports + those their routers reach) and route links: recomputed only
    // when the set of local networks or the routing topology may have changed.
    let topo = first || changed.has('local') || networksMoved;
    if (!topo)
      for (const k of changed)
        if (TOPOLOGY_KEYS.some((p) => k.startsWith(p))) {
          topo = true;
          break;
        }
    // An uplink bound or unbound changes which physical networks this host carries.
    if (!topo)
      for (const u of bindingChanges)
        if (view.interfaces.get(u)?.mode === 'host') {
          topo = true;
          break;
        }
    const presentBefore = this.present;
    const linksBefore = this.links;
    const segmentsBefore = this.segments;
    if (topo) {
      const present = computePresence(view, this.boundByNetwork, local, this.binder!.bound);
      for (const [n, p] of present) if (presentBefore.get(n) !== p) changed.add(`present:${n}`);
      for (const n of presentBefore.keys()) if (!present.has(n)) changed.add(`present:${n}`);
      this.present = present;
      const links = new Set<string>();
      for (const [n, p] of present)
        if (p === 'full')
          for (const r of view.routesByNetwork.get(n) ?? []) {
            const rl = view.routes.get(r)?.route_link_uuid;
            if (rl) links.add(rl);
          }
      this.links = links;
      this.segments = new Set(
        [...this.boundBySegment.keys()].filter(
          (s) => view.segments.has(s) && carries(view, local.datapathUuid, 'segment', s),
        ),
      );
      // A physical segment is here wherever it has an uplink, as a physical network: the wire may bring its frames.
      for (const row of view.datapathSegments.values())
        if (
          row.datapath_uuid === local.datapathUuid &&
          row.interface_uuid &&
          this.binder!.bound.has(row.interface_uuid) &&
          view.segments.get(row.segment_uuid)?.mode === 'physical'
        )
          this.segments.add(row.segment_uuid);
    }

    // Owners to drop and to (re)compute.
    const todo = new Set<string>();
    const gone = new Set<string>();
    if (first) todo.add('static').add('sec');
    for (const u of bindingChanges) (this.binder!.bound.has(u) ? todo : gone).add(`if:${u}`);
    if (topo) {
      for (const n of this.present.keys()) if (!presentBefore.has(n)) todo.add(`nw:${n}`);
      for (const n of presentBefore.keys()) if (!this.present.has(n)) gone.add(`nw:${n}`);
      for (const l of this.links) if (!linksBefore.has(l)) todo.add(`rl:${l}`);
      for (const l of linksBefore) if (!this.links.has(l)) gone.add(`rl:${l}`);
      for (const g of this.segments) if (!segmentsBefore.has(g)) todo.add(`seg:${g}`);
      for (const g of segmentsBefore) if (!this.segments.has(g)) gone.add(`seg:${g}`);
    }
    for (const k of changed) for (const o of this.depIndex.get(k) ?? []) if (!gone.has(o)) todo.add(o);

    const oldFlows: Flow[] = [];
    const newFlows: Flow[] = [];
    const removed: string[] = [];
    for (const o of gone) {
      const st = this.owners.get(o);
      if (!st) continue;
      removed.push(o);
      for (const f of st.flows) oldFlows.push(f);
      this.dropOwner(o, st);
    }
    const recomputed: string[] = [];
    const errors: { owner: string; error: Error }[] = [];
    const ctxBase = {
      view,
      local,
      bindings: this.binder!.bound,
      boundByNetwork: this.boundByNetwork,
      present: this.present,
    };
    for (const o of todo) {
      const prev = this.owners.get(o);
      if (prev) {
        for (const f of prev.flows) oldFlows.push(f);
        this.dropOwner(o, prev);
      }
      const deps = new Set<ChangeKey>(['local']);
      const ctx: CompileContext = {
        ...ctxBase,
        dep: (k) => deps.add(k),
        report: (err) => errors.push({ owner: o, error: err instanceof Error ? err : new Error(String(err)) }),
      };
      let flows: Flow[];
      try {
        flows = computeOwner(o, ctx);
      } catch (err) {
        // Bad model data for one object must not take down the others' flows (or the agent).
        errors.push({ owner: o, error: err instanceof Error ? err : new Error(String(err)) });
        flows = [];
      }
      // A broken contract is a bug in a builder, not bad data: it escapes update() instead of becoming an owner error.
      if (this.checkContract) checkFlows(flows, o);
      this.owners.set(o, { flows, deps });
      for (const k of deps) {
        let s = this.depIndex.get(k);
        if (!s) this.depIndex.set(k, (s = new Set()));
        s.add(o);
      }
      for (const f of flows) newFlows.push(f);
      recomputed.push(o);
    }
    if (recomputed.length > 0 || removed.length > 0) this.cache = undefined;
    // A first computation is all adds; skip the identity bookkeeping of a diff against nothing.
    const mods: FlowMod[] =
      oldFlows.length === 0 ? newFlows.map((flow) => ({ command: 'add', flow })) : diffFlows(oldFlows, newFlows);
    return { mods, recomputed, removed, bindingChanges: [...bindingChanges].sort(), errors };
  }

  /** Last reported binding per interface (what bindingChanges are relative to). */
  private readonly shadow = new Map<string, Binding>();

  /** The local-port index and key a binding counts in: its network's, else its segment's. */
  private boundIn(b: Binding): [Map<string, Set<string>>, string] | null {
    if (b.networkUuid) return [this.boundByNetwork, b.networkUuid];
    if (b.segmentUuid) return [this.boundBySegment, b.segmentUuid];
    return null;
  }

  /**
   * Counts `b` into (`add`) or out of its network's (segment's) local ports; true when that network gained its
   * first local port or lost its last.
   */
  private countBinding(b: Binding, add: boolean): boolean {
    const at = this.boundIn(b);
    if (!at) return false;
    const [idx, k] = at;
    const s = idx.get(k);
    if (add) {
      if (!s) idx.set(k, new Set([b.interfaceUuid]));
      else s.add(b.interfaceUuid);
      return !s;
    }
    if (!s) return false;
    s.delete(b.interfaceUuid);
    if (s.size > 0) return false;
    idx.delete(k);
    return true;
  }

  private dropOwner(o: string, st: OwnerState): void {
    for (const k of st.deps) {
      const s = this.depIndex.get(k);
      if (!s) continue;
      s.delete(o);
      if (s.size === 0) this.depIndex.delete(k);
    }
    this.owners.delete(o);
  }
}

/** Whether two LocalContexts describe the same host apart from its ports (what owners read besides bindings). */
function sameHost(a: LocalContext, b: LocalContext): boolean {
  return (
    a.datapathUuid === b.datapathUuid &&
    a.dpid === b.dpid &&
    a.tunnelIp === b.tunnelIp &&
    a.encap === b.encap &&
    a.tunnelPorts.gre === b.tunnelPorts.gre &&
    a.tunnelPorts.vxlan === b.tunnelPorts.vxlan &&
    (a.metadataPort ?? null) === (b.metadataPort ?? null) &&
    a.underlayMtu === b.underlayMtu &&
    a.snatPorts?.min === b.snatPorts?.min &&
    a.snatPorts?.max === b.snatPorts?.max
  );
}

function computeOwner(owner: string, ctx: CompileContext): Flow[] {
  const i = owner.indexOf(':');
  const kind = i < 0 ? owner : owner.slice(0, i);
  const id = i < 0 ? '' : owner.slice(i + 1);
  switch (kind) {
    case 'static':
      return staticFlows(ctx);
    case 'if':
      return interfaceFlows(ctx, id);
    case 'nw':
      return networkFlows(ctx, id);
    case 'rl':
      return routeLinkFlows(ctx, id);
    case 'seg':
      return segmentFlows(ctx, id);
    case 'sec':
      return securityFlows(ctx);
    default:
      return [];
  }
}

/** Change keys that may change which networks are present here (and how), or which route links matter. */
const TOPOLOGY_KEYS = [
  'routes:',
  'link-routes:',
  'networks:',
  'datapath_networks:',
  'segments:',
  'datapath_segments:',
  'topologies:',
];

function computePresence(
  view: ModelView,
  boundByNetwork: ReadonlyMap<string, ReadonlySet<string>>,
  local: LocalContext,
  bindings: ReadonlyMap<string, Binding>,
) {
  const present = new Map<string, Presence>();
  for (const n of boundByNetwork.keys())
    if (view.networks.has(n) && carries(view, local.datapathUuid, 'network', n)) present.set(n, 'full');
  // A physical network is fully here wherever it has an uplink: frames from the segment (to its VMs, to its
  // routers) may arrive on any such host.
  for (const row of view.datapathNetworks.values())
    if (
      row.datapath_uuid === local.datapathUuid &&
      row.interface_uuid &&
      bindings.has(row.interface_uuid) &&
      view.networks.get(row.network_uuid)?.network_mode === 'physical'
    )
      present.set(row.network_uuid, 'full');
  for (const n of [...present.keys()]) {
    for (const r of view.routesByNetwork.get(n) ?? []) {
      const route = view.routes.get(r);
      if (!route || route.ingress === false) continue;
      for (const r2 of routesOfLink(view, route.route_link_uuid)) {
        if (r2.egress === false || present.has(r2.network_uuid) || !view.networks.has(r2.network_uuid)) continue;
        present.set(r2.network_uuid, 'routed');
      }
    }
  }
  return present;
}

/** Desired flows for this host, computed from scratch. */
export function computeFlows(view: ModelView, local: LocalContext): Flow[] {
  const c = new FlowCompiler();
  c.update(view, local, []);
  return c.flows();
}

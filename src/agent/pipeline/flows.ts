// Flow generation: model view + local context in, desired Flow[] out; FlowCompiler recomputes only touched owners.
//
// Flows are grouped by owner: `static` (pipeline-wide), `if:<uuid>` (a locally bound interface: classification
// and anti-spoofing), `nw:<uuid>` (a network present on this host: ARP answers, DHCP punt, neighbours, L2),
// `rl:<uuid>` (a route link with a network present here: routing and ICMP answers), `sec` (filters and
// security groups). Each owner records the change keys it read; an update recomputes only owners whose keys
// changed, so one interface change touches its own flows and its network's, nothing else.
import type { Flow, FlowMod } from '../../openflow/types.js';
import { diffFlows } from './diff.js';
import {
  type Binding,
  bindInterfaces,
  type ChangeKey,
  type LocalContext,
  type ModelView,
  routesOfLink,
} from './model-view.js';
import { interfaceFlows } from './flows-interface.js';
import { networkFlows } from './flows-network.js';
import { routeLinkFlows } from './flows-routing.js';
import { securityFlows } from './flows-security.js';
import { staticFlows } from './flows-static.js';

/** How much of a network this host needs: 'full' (it has local ports) or 'routed' (only reachable by a router). */
export type Presence = 'full' | 'routed';

/** What owner computations see. `dep` records an input key of the owner being computed. */
export interface CompileContext {
  view: ModelView;
  local: LocalContext;
  bindings: ReadonlyMap<string, Binding>;
  boundByNetwork: ReadonlyMap<string, ReadonlySet<string>>;
  present: ReadonlyMap<string, Presence>;
  dep(key: ChangeKey): void;
}

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
}

interface OwnerState {
  flows: Flow[];
  deps: Set<ChangeKey>;
}

/**
 * Incremental flow compiler. Call update() with the change keys applyChange returned (any order, duplicates
 * fine); pass a NEW LocalContext object whenever the host's ports or tunnel settings change (identity is how
 * the compiler notices; the key 'local' does the same).
 */
export class FlowCompiler {
  private readonly owners = new Map<string, OwnerState>();
  private readonly depIndex = new Map<ChangeKey, Set<string>>();
  private bindings = new Map<string, Binding>();
  private readonly boundByNetwork = new Map<string, Set<string>>();
  private present = new Map<string, Presence>();
  private lastLocal: LocalContext | undefined;
  private cache: Flow[] | undefined;
  private ownerOrder: string[] = [];

  /** Current bindings (interface uuid → binding). */
  currentBindings(): ReadonlyMap<string, Binding> {
    return this.bindings;
  }

  /** Networks present on this host and how. */
  presentNetworks(): ReadonlyMap<string, Presence> {
    return this.present;
  }

  /** All desired flows, owners in a stable order. */
  flows(): Flow[] {
    if (!this.cache) {
      const out: Flow[] = [];
      for (const o of this.ownerOrder) for (const f of this.owners.get(o)?.flows ?? []) out.push(f);
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
    return [...this.ownerOrder];
  }

  update(view: ModelView, local: LocalContext, changedKeys: Iterable<ChangeKey>): CompileResult {
    const changed = new Set<ChangeKey>(changedKeys);
    const first = this.lastLocal === undefined;
    if (local !== this.lastLocal) changed.add('local');
    this.lastLocal = local;

    // Bindings: recomputed when the host or any interface changed (O(local ports) map lookups).
    const bindingChanges: string[] = [];
    let rebind = first || changed.has('local');
    if (!rebind) for (const k of changed) if (k.startsWith('interfaces:')) rebind = true;
    if (rebind) {
      const next = new Map<string, Binding>();
      for (const b of bindInterfaces(view, local)) next.set(b.interfaceUuid, b);
      for (const [u, b] of next) {
        const o = this.bindings.get(u);
        if (!o || o.ofport !== b.ofport || o.portName !== b.portName || o.networkUuid !== b.networkUuid) {
          bindingChanges.push(u);
          if (o) this.unbound(o);
          this.bound(b);
        }
      }
      for (const [u, o] of this.bindings)
        if (!next.has(u)) {
          bindingChanges.push(u);
          this.unbound(o);
        }
      for (const u of bindingChanges) changed.add(`binding:${u}`);
      this.bindings = next;
    }

    // Presence: networks with local ports, plus the networks their routers reach.
    const present = computePresence(view, this.boundByNetwork);
    for (const [n, p] of present) if (this.present.get(n) !== p) changed.add(`present:${n}`);
    for (const n of this.present.keys()) if (!present.has(n)) changed.add(`present:${n}`);
    this.present = present;

    // Desired owners.
    const desired: string[] = ['static'];
    for (const u of this.bindings.keys()) desired.push(`if:${u}`);
    const links = new Set<string>();
    for (const [n, p] of present) {
      desired.push(`nw:${n}`);
      if (p === 'full')
        for (const r of view.routesByNetwork.get(n) ?? []) {
          const rl = view.routes.get(r)?.route_link_uuid;
          if (rl) links.add(rl);
        }
    }
    for (const rl of links) desired.push(`rl:${rl}`);
    desired.push('sec');

    // Owners to recompute: new ones, and those whose inputs changed.
    const todo = new Set<string>();
    for (const k of changed) for (const o of this.depIndex.get(k) ?? []) todo.add(o);
    const desiredSet = new Set(desired);
    for (const o of desired) if (!this.owners.has(o)) todo.add(o);

    const oldFlows: Flow[] = [];
    const newFlows: Flow[] = [];
    const removed: string[] = [];
    for (const [o, st] of this.owners)
      if (!desiredSet.has(o)) {
        removed.push(o);
        oldFlows.push(...st.flows);
        this.dropOwner(o, st);
      }
    const recomputed: string[] = [];
    const ctxBase = {
      view,
      local,
      bindings: this.bindings,
      boundByNetwork: this.boundByNetwork,
      present,
    };
    for (const o of desired) {
      if (!todo.has(o)) continue;
      const prev = this.owners.get(o);
      if (prev) {
        oldFlows.push(...prev.flows);
        this.dropOwner(o, prev);
      }
      const deps = new Set<ChangeKey>(['local']);
      const ctx: CompileContext = { ...ctxBase, dep: (k) => deps.add(k) };
      const flows = computeOwner(o, ctx);
      this.owners.set(o, { flows, deps });
      for (const k of deps) {
        let s = this.depIndex.get(k);
        if (!s) this.depIndex.set(k, (s = new Set()));
        s.add(o);
      }
      newFlows.push(...flows);
      recomputed.push(o);
    }
    this.ownerOrder = desired;
    if (recomputed.length > 0 || removed.length > 0) this.cache = undefined;
    return { mods: diffFlows(oldFlows, newFlows), recomputed, removed, bindingChanges };
  }

  private bound(b: Binding): void {
    if (!b.networkUuid) return;
    let s = this.boundByNetwork.get(b.networkUuid);
    if (!s) this.boundByNetwork.set(b.networkUuid, (s = new Set()));
    s.add(b.interfaceUuid);
  }

  private unbound(b: Binding): void {
    if (!b.networkUuid) return;
    const s = this.boundByNetwork.get(b.networkUuid);
    if (!s) return;
    s.delete(b.interfaceUuid);
    if (s.size === 0) this.boundByNetwork.delete(b.networkUuid);
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
    case 'sec':
      return securityFlows(ctx);
    default:
      return [];
  }
}

function computePresence(view: ModelView, boundByNetwork: ReadonlyMap<string, ReadonlySet<string>>) {
  const present = new Map<string, Presence>();
  for (const n of boundByNetwork.keys()) if (view.networks.has(n)) present.set(n, 'full');
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

// Which interface is on which local port: the binding rule (by port name, by uuid, by iface-id as nova sets it),
// the sub-interfaces that ride a trunk parent's port, and the per-interface binding the flows read. Split out of
// model-view.ts (the model copy and its indices): binding reads the model and the switch's ports, and owns neither.
import type { Interface } from '../../model/types.js';
import {
  type Binding,
  interfaceNetworks,
  interfaceSegment,
  type LocalContext,
  type LocalPort,
  type ModelView,
} from './model-view.js';

/** Interface modes that occupy a real switch port (simulated interfaces live only in flows). */
const BINDABLE_MODES = new Set(['vif', 'host', 'internal', 'promiscuous']);

/** The network a bound interface is classified into: network_uuid, else its first IP lease's network. */
export function primaryNetwork(i: Interface): string | null {
  return interfaceNetworks(i)[0] ?? null;
}

function bindable(i: Interface, local: LocalContext): boolean {
  if (!BINDABLE_MODES.has(i.mode ?? 'vif')) return false;
  // Administratively down: no port of it is taken, so it has no flows and is reported down (absent = up).
  if (i.admin_state_up === false) return false;
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
    /** The numbers sub-interfaces go by; kept across Binders so a re-bind keeps them (and their flows). */
    private readonly subPorts: SubPortNumbers = new SubPortNumbers(),
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
    for (const parent of [...this.bound.keys()]) this.bindSubInterfaces(view, parent, new Set());
  }

  /**
   * A VLAN sub-interface takes no port: it is bound wherever its parent is bound (a vif that is no sub-interface
   * itself), on the parent's port under a number of its own, with its tag.
   */
  private bindSub(view: ModelView, uuid: string, changed: Set<string>): void {
    const i = view.interfaces.get(uuid);
    const parent = i?.parent_interface_uuid ? this.bound.get(i.parent_interface_uuid) : undefined;
    const tag = i?.vlan_tag;
    if (!i || !parent || parent.trunk || typeof tag !== 'number' || !BINDABLE_MODES.has(i.mode ?? 'vif')) {
      this.set(uuid, undefined, changed);
      this.subPorts.release(uuid);
      return;
    }
    if (i.admin_state_up === false) {
      this.set(uuid, undefined, changed);
      this.subPorts.release(uuid);
      return;
    }
    this.set(
      uuid,
      {
        interfaceUuid: uuid,
        portName: parent.portName,
        ofport: this.subPorts.of(uuid, this.local),
        via: parent.via,
        networkUuid: primaryNetwork(i),
        segmentUuid: interfaceSegment(i),
        trunk: { ofport: parent.ofport, vlan: tag },
      },
      changed,
    );
  }

  /** Re-binds the sub-interfaces of `parent` (after the parent's binding may have changed). */
  private bindSubInterfaces(view: ModelView, parent: string, changed: Set<string>): void {
    for (const sub of view.subInterfacesByParent.get(parent) ?? []) this.bindSub(view, sub, changed);
  }

  private usable(port: LocalPort): boolean {
    const t = this.local.tunnelPorts;
    return port.ofport > 0 && port.ofport < 0xff00 && port.ofport !== t.gre && port.ofport !== t.vxlan;
  }

  private computeChoice(view: ModelView, uuid: string): Binding | undefined {
    const i = view.interfaces.get(uuid);
    // A sub-interface never chooses a port: bindSub places it on its parent's.
    if (!i || !bindable(i, this.local) || i.parent_interface_uuid) return undefined;
    const networkUuid = primaryNetwork(i);
    const segmentUuid = interfaceSegment(i);
    let best: Binding | undefined;
    const consider = (portName: string | null | undefined, via: Binding['via']) => {
      if (!portName) return;
      const port = this.local.ports.get(portName);
      if (!port || !this.usable(port)) return;
      const c: Binding = { interfaceUuid: uuid, portName, ofport: port.ofport, via, networkUuid, segmentUuid };
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
      if (!o || !sameBinding(o, b) || o.via !== b.via) changed.add(u);
      this.bound.set(u, b);
    } else if (o) {
      changed.add(u);
      this.bound.delete(u);
    }
  }

  /** Re-evaluate interface `uuid` after it changed; returns the interfaces whose binding changed. */
  refresh(view: ModelView, uuid: string): Set<string> {
    const changed = new Set<string>();
    if (view.interfaces.get(uuid)?.parent_interface_uuid || this.subPorts.has(uuid)) {
      this.bindSub(view, uuid, changed);
      return changed;
    }
    const oldPort = this.setChoice(view, uuid);
    const newPort = this.choice.get(uuid)?.portName;
    if (!newPort) this.set(uuid, undefined, changed);
    if (oldPort !== undefined) this.resolve(oldPort, changed);
    if (newPort !== undefined && newPort !== oldPort) this.resolve(newPort, changed);
    // Sub-interfaces follow their parent wherever it went (or off the host with it).
    for (const u of [...changed]) this.bindSubInterfaces(view, u, changed);
    return changed;
  }
}

/** Whether two bindings put an interface on the same port in the same way (what its flows read). */
export function sameBinding(a: Binding, b: Binding): boolean {
  return (
    a.portName === b.portName &&
    a.ofport === b.ofport &&
    a.networkUuid === b.networkUuid &&
    (a.segmentUuid ?? null) === (b.segmentUuid ?? null) &&
    a.trunk?.ofport === b.trunk?.ofport &&
    a.trunk?.vlan === b.trunk?.vlan
  );
}

/**
 * The port numbers VLAN sub-interfaces go by in flows (in_port after the classifier pops their tag, reg2 as a
 * delivery's destination): from 0xfeff down, skipping any the bridge's own ports have, so each names one
 * sub-interface on this host. Not ports of the bridge: they stay inside the pipeline, where outputs to them are
 * built as the parent's port with the tag pushed (trunk.ts). OVS numbers its ports from 1 up, so they meet only
 * when a bridge has tens of thousands of ports or a port is given a number of its own (ofport_request) there.
 */
export class SubPortNumbers {
  static readonly HIGHEST = 0xfeff;
  static readonly LOWEST = 0xf000;
  private readonly byInterface = new Map<string, number>();
  private readonly taken = new Set<number>();

  /** The number of sub-interface `uuid` (kept while it stays bound), a fresh one when it has none. */
  of(uuid: string, local: LocalContext): number {
    const had = this.byInterface.get(uuid);
    if (had !== undefined) return had;
    const real = new Set([...local.ports.values()].map((p) => p.ofport));
    for (let n = SubPortNumbers.HIGHEST; n >= SubPortNumbers.LOWEST; n--)
      if (!this.taken.has(n) && !real.has(n)) {
        this.byInterface.set(uuid, n);
        this.taken.add(n);
        return n;
      }
    throw new Error(
      `no sub-interface port number left for ${uuid} (${SubPortNumbers.HIGHEST - SubPortNumbers.LOWEST + 1} in use)`,
    );
  }

  has(uuid: string): boolean {
    return this.byInterface.has(uuid);
  }

  release(uuid: string): void {
    const n = this.byInterface.get(uuid);
    if (n === undefined) return;
    this.byInterface.delete(uuid);
    this.taken.delete(n);
  }
}

/** Bind interfaces to local ports (see Binder for the rule). Result sorted by interface uuid. */
export function bindInterfaces(view: ModelView, local: LocalContext): Binding[] {
  return [...new Binder(local, view).bound.values()].sort((a, b) => cmp(a.interfaceUuid, b.interfaceUuid));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// What the agent sees of the local Open vSwitch: bridge and interface info built from the
// monitor cache's rows, and the change tracker that turns row updates into bridge/interface events.
import type { MonitorCache, RowChange } from './cache.js';
import type { BridgeRow, InterfaceRow, PortRow, VswitchTables } from './vswitch-schema.js';

export interface ControllerInfo {
  target: string;
  isConnected: boolean;
  role: string | undefined;
  maxBackoff: number | undefined;
  inactivityProbe: number | undefined;
}

export interface BridgeInfo {
  uuid: string;
  name: string;
  datapathType: string;
  /** From the Bridge `datapath_id` column, once ovs-vswitchd has filled it. */
  datapathId: bigint | undefined;
  failMode: string | undefined;
  protocols: string[];
  controllers: ControllerInfo[];
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  /** Port names. */
  ports: string[];
}

export interface InterfaceInfo {
  uuid: string;
  name: string;
  /** The Port holding it (same as name except for bonds). */
  port: string;
  bridge: string;
  /** '' = system device; 'internal', 'gre', 'vxlan', 'patch', 'dummy', ... */
  type: string;
  /** OpenFlow port number; undefined until vswitchd assigned one, -1 if it failed. */
  ofport: number | undefined;
  macInUse: string | undefined;
  /** external_ids:iface-id (libvirt, OVN). */
  ifaceId: string | undefined;
  /** external_ids:attached-mac. */
  attachedMac: string | undefined;
  options: Record<string, string>;
  externalIds: Record<string, string>;
  error: string | undefined;
  /** 'up' or 'down' (carrier), as ovs-vswitchd sees it; undefined until it says. */
  linkState: string | undefined;
}

export type InterfaceEvent =
  | { kind: 'added'; bridge: string; iface: InterfaceInfo }
  | { kind: 'removed'; bridge: string; iface: InterfaceInfo }
  | { kind: 'changed'; bridge: string; iface: InterfaceInfo; old: InterfaceInfo };

export type BridgeEvent =
  | { kind: 'added'; bridge: BridgeInfo }
  | { kind: 'removed'; bridge: BridgeInfo }
  | { kind: 'changed'; bridge: BridgeInfo; old: BridgeInfo };

export interface VswitchEvents {
  /** An interface of some bridge appeared, disappeared, or changed (ofport, ids, mac, type). */
  interface: [ev: InterfaceEvent];
  bridge: [ev: BridgeEvent];
  /** The local copy is (again) complete: after the first load and after each reconnect. */
  synced: [];
  unsynced: [];
}

/** Where VswitchView.apply sends the events it derives, in order. */
export interface ViewEmit {
  bridge(ev: BridgeEvent): void;
  interface(ev: InterfaceEvent): void;
}

const obj = (m: Map<string, string> | Map<unknown, unknown>): Record<string, string> =>
  Object.fromEntries([...m].map(([k, v]) => [String(k), String(v)]));

/** Bridge/interface info from the cache, and the events that say how it changed. */
export class VswitchView {
  // What the last events said, and the ownership indexes that let a change to one row
  // recompute only the interfaces it affects (a bridge may hold thousands of ports).
  private ifaceView = new Map<string, InterfaceInfo>(); // Interface uuid → info
  private bridgeView = new Map<string, BridgeInfo>(); // Bridge uuid → info
  private portOwner = new Map<string, string>(); // Port uuid → Bridge uuid
  private ifaceOwner = new Map<string, string>(); // Interface uuid → Port uuid
  private portIfaces = new Map<string, string[]>(); // Port uuid → Interface uuids

  constructor(private readonly cache: MonitorCache<VswitchTables>) {}

  bridgeInfo(b: BridgeRow): BridgeInfo {
    return {
      uuid: b._uuid,
      name: b.name,
      datapathType: b.datapath_type,
      datapathId: b.datapath_id ? BigInt(`0x${b.datapath_id}`) : undefined,
      failMode: b.fail_mode,
      protocols: [...b.protocols].sort(),
      controllers: b.controller
        .map((u) => this.cache.get('Controller', u))
        .filter((c) => c !== undefined)
        .map((c) => ({
          target: c.target,
          isConnected: c.is_connected,
          role: c.role,
          maxBackoff: c.max_backoff,
          inactivityProbe: c.inactivity_probe,
        })),
      otherConfig: obj(b.other_config),
      externalIds: obj(b.external_ids),
      ports: b.ports.map((u) => this.cache.get('Port', u)?.name).filter((n) => n !== undefined),
    };
  }

  interfacesOf(b: BridgeRow): InterfaceInfo[] {
    const out: InterfaceInfo[] = [];
    for (const pu of b.ports) {
      const p = this.cache.get('Port', pu);
      if (!p) continue;
      for (const iu of p.interfaces) {
        const i = this.cache.get('Interface', iu);
        if (i) out.push(interfaceInfo(b, p, i));
      }
    }
    return out;
  }

  /** The interface as an event would show it now, or undefined if it is on no bridge. */
  currentInterface(ifaceUuid: string): InterfaceInfo | undefined {
    const pu = this.ifaceOwner.get(ifaceUuid);
    const bu = pu && this.portOwner.get(pu);
    const i = this.cache.get('Interface', ifaceUuid);
    const p = pu ? this.cache.get('Port', pu) : undefined;
    const b = bu ? this.cache.get('Bridge', bu) : undefined;
    return i && p && b ? interfaceInfo(b, p, i) : undefined;
  }

  /** Derive bridge and interface events from a batch of row changes, touching only what it names. */
  apply(changes: RowChange[], emit: ViewEmit): void {
    const ifaces = new Set<string>();
    const bridges = new Set<string>();
    for (const c of changes) {
      if (c.table === 'Bridge') {
        const before = (c.old as BridgeRow | undefined)?.ports ?? [];
        const after = (c.new as BridgeRow | undefined)?.ports ?? [];
        const now = new Set(after);
        for (const p of before) {
          if (now.has(p)) continue;
          if (this.portOwner.get(p) === c.uuid) this.portOwner.delete(p);
          for (const i of this.portIfaces.get(p) ?? []) ifaces.add(i);
        }
        const was = new Set(before);
        for (const p of after) {
          this.portOwner.set(p, c.uuid);
          if (!was.has(p)) for (const i of this.portIfaces.get(p) ?? []) ifaces.add(i);
        }
        bridges.add(c.uuid);
      } else if (c.table === 'Port') {
        const before = (c.old as PortRow | undefined)?.interfaces ?? [];
        const after = (c.new as PortRow | undefined)?.interfaces ?? [];
        for (const i of before) {
          if (this.ifaceOwner.get(i) === c.uuid) this.ifaceOwner.delete(i);
          ifaces.add(i);
        }
        for (const i of after) {
          this.ifaceOwner.set(i, c.uuid);
          ifaces.add(i);
        }
        if (c.new) this.portIfaces.set(c.uuid, after);
        else this.portIfaces.delete(c.uuid);
        // Bridge info lists port names.
        const owner = this.portOwner.get(c.uuid);
        if (owner) bridges.add(owner);
      } else if (c.table === 'Interface') {
        ifaces.add(c.uuid);
      } else if (c.table === 'Controller') {
        for (const b of this.cache.rows('Bridge')) if (b.controller.includes(c.uuid)) bridges.add(b._uuid);
        for (const [bu, info] of this.bridgeView)
          if (info.controllers.length && !this.cache.get('Bridge', bu)) bridges.add(bu);
      }
    }
    for (const bu of bridges) {
      const row = this.cache.get('Bridge', bu);
      const now = row && this.bridgeInfo(row);
      const o = this.bridgeView.get(bu);
      if (now) this.bridgeView.set(bu, now);
      else this.bridgeView.delete(bu);
      if (now && !o) emit.bridge({ kind: 'added', bridge: now });
      else if (!now && o) emit.bridge({ kind: 'removed', bridge: o });
      else if (now && o && !sameJson(o, now)) emit.bridge({ kind: 'changed', bridge: now, old: o });
    }
    for (const iu of ifaces) {
      const now = this.currentInterface(iu);
      const o = this.ifaceView.get(iu);
      if (now) this.ifaceView.set(iu, now);
      else this.ifaceView.delete(iu);
      if (o && (!now || now.bridge !== o.bridge)) emit.interface({ kind: 'removed', bridge: o.bridge, iface: o });
      if (now && (!o || now.bridge !== o.bridge)) emit.interface({ kind: 'added', bridge: now.bridge, iface: now });
      else if (now && o && !sameJson(o, now))
        emit.interface({ kind: 'changed', bridge: now.bridge, iface: now, old: o });
    }
  }
}

function interfaceInfo(b: BridgeRow, p: PortRow, i: InterfaceRow): InterfaceInfo {
  return {
    uuid: i._uuid,
    name: i.name,
    port: p.name,
    bridge: b.name,
    type: i.type,
    ofport: i.ofport,
    macInUse: i.mac_in_use,
    ifaceId: i.external_ids.get('iface-id'),
    attachedMac: i.external_ids.get('attached-mac'),
    options: obj(i.options),
    externalIds: obj(i.external_ids),
    error: i.error,
    linkState: i.link_state,
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return (
    JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ===
    JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  );
}

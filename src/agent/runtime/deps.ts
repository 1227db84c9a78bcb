// The parts of the OVSDB client, OpenFlow connection, API/feed client and pipeline the agent uses,
// as narrow interfaces: the runtime is written against these and wire.ts binds the real modules.
import type { Flow } from '../../openflow/types.js';

/** One interface of the bridge as the OVSDB monitor shows it. */
export interface BridgePort {
  name: string;
  /** null until ovs-vswitchd assigned one (or -1: failed to attach). */
  ofport: number | null;
  type: string;
  ifaceId?: string | undefined;
  attachedMac?: string | undefined;
  macInUse?: string | undefined;
}

/** OVSDB side: bridge settings, tunnel ports, the bridge's interfaces. */
export interface BridgeControl {
  /** Resolves once the bridge exists (now or later); rejects when closed. */
  waitForBridge(name: string): Promise<void>;
  bridgeExists(name: string): boolean;
  createBridge(opts: { name: string; datapathType: string }): Promise<void>;
  takeOverBridge(opts: {
    name: string;
    controllers: string[];
    failMode: 'secure';
    protocols: string[];
    disableInBand: boolean;
    controllerMaxBackoff: number;
    inactivityProbe: number;
  }): Promise<void>;
  ensureTunnelPort(opts: { bridge: string; name: string; type: 'gre' | 'vxlan' }): Promise<void>;
  bridgeDatapathId(name: string): Promise<bigint>;
  interfaces(bridge: string): BridgePort[];
  /** Called after any change to the bridge's interfaces (and after a reconnect's cache rebuild). */
  onInterfacesChanged(listener: () => void): void;
  onConnection(listener: (up: boolean) => void): void;
  close(): Promise<void>;
}

export type FlowModCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';
export interface FlowModLike {
  command: FlowModCommand;
  flow: Flow;
  cookieMask?: bigint;
}

export interface PacketInEvent {
  reason: number | string;
  table: number;
  cookie: bigint;
  inPort: number;
  data: Uint8Array;
}

/** One switch's OpenFlow connection. */
export interface SwitchLink {
  readonly dpid: bigint;
  dumpFlows(): Promise<Flow[]>;
  sendFlowMods(mods: FlowModLike[], opts: { bundle: boolean }): Promise<void>;
  packetOut(opts: { inPort: number; outPort: number; data: Uint8Array }): Promise<void>;
  onPacketIn(listener: (ev: PacketInEvent) => void): void;
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

export interface SwitchListener {
  onSwitch(listener: (link: SwitchLink) => void): void;
  close(): Promise<void>;
  readonly address: { host: string; port: number };
}

/** A change as the feed carries it (contract). */
export interface FeedChange {
  revision: number;
  resource: string;
  uuid: string;
  op: 'upsert' | 'delete';
  item: Record<string, unknown> | null;
}

export type FeedEvent =
  | { kind: 'snapshot'; revision: number; resources: Record<string, Record<string, unknown>[]> }
  | { kind: 'change'; change: FeedChange }
  | { kind: 'error'; error: unknown };

export interface FeedSource {
  /** Starts following; a `snapshot` event comes first and again after every resync. */
  start(listener: (ev: FeedEvent) => void): void;
  close(): void;
}

export interface ApiLike {
  reportDatapathStatus(uuid: string, body: object): Promise<unknown>;
  reportInterfaceBinding(uuid: string, body: object): Promise<unknown>;
  createDatapath(body: {
    uuid: string;
    display_name: string;
    dpid: string;
    node_id: string;
    ipv4_address?: string;
  }): Promise<unknown>;
}

/** What this host looks like to the pipeline (mirrors the pipeline's LocalContext). */
export interface LocalInfo {
  datapathUuid: string;
  dpid: bigint;
  tunnelIp: string | null;
  encap: 'gre' | 'vxlan';
  tunnelPorts: { gre: number | null; vxlan: number | null };
  ports: Map<string, { ofport: number; ifaceId?: string; attachedMac?: string }>;
  underlayMtu: number;
}

export interface BoundInterface {
  interfaceUuid: string;
  portName: string;
  ofport: number;
}

/** Pure flow generation (src/agent/pipeline) as the runtime drives it. */
export interface PipelineLike {
  /** A fresh view from a snapshot's resources. */
  build(resources: Record<string, Record<string, unknown>[]>): void;
  apply(change: FeedChange): void;
  bind(local: LocalInfo): BoundInterface[];
  /** Desired flows; `full` forces a recomputation of everything (after a snapshot or local change). */
  flows(local: LocalInfo, full: boolean): Flow[];
  diff(installed: Flow[], desired: Flow[]): FlowModLike[];
  /** Is this packet-in one the DHCP service should answer? */
  isDhcpPacketIn(ev: PacketInEvent): boolean;
  /** Table/cookie → a readable owner, for logs. */
  describeCookie(cookie: bigint): string;
}

export interface DhcpHandler {
  /** Returns the reply frame to send back out `inPort`, or undefined (logged by the handler). */
  handle(
    frame: Uint8Array,
    inPortName: string,
    local: LocalInfo,
  ): { reply?: Uint8Array; event: string; reason?: string };
}

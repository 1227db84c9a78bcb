// The parts of the OVSDB client, OpenFlow connection, API/feed client and pipeline the agent uses,
// as narrow interfaces: the runtime is written against these and wire.ts binds the real modules.
import type { MeterSpec } from '../pipeline/meters.js';
import type { ChangeSpan } from './change-span.js';
import type { FeedChange } from '../pipeline/model-view.js';
import type { Flow } from '../../openflow/types.js';
import type { OfprotoTrace } from '../../unixctl/index.js';

/** One interface of the bridge as the OVSDB monitor shows it. */
export interface BridgePort {
  name: string;
  /** null until ovs-vswitchd assigned one (or -1: failed to attach). */
  ofport: number | null;
  type: string;
  ifaceId?: string | undefined;
  attachedMac?: string | undefined;
  macInUse?: string | undefined;
  /** false when ovs-vswitchd reports the link down (no carrier); undefined when unknown. */
  linkUp?: boolean | undefined;
}

/** OVSDB side: bridge settings, tunnel ports, the bridge's interfaces. */
export interface BridgeControl {
  /** Resolves once connected and the local copy of the database is loaded (retries meanwhile). */
  ready(): Promise<void>;
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
    /** ovs-vswitchd's SSL files (an ssl: controller), set before the controller. */
    ssl?: { privateKey: string; certificate: string; caCert: string };
  }): Promise<void>;
  ensureTunnelPort(opts: { bridge: string; name: string; type: 'gre' | 'vxlan' }): Promise<void>;
  bridgeDatapathId(name: string): Promise<bigint>;
  interfaces(bridge: string): BridgePort[];
  /**
   * The named bridge was removed, (re)added, or someone changed a setting the agent manages
   * (fail mode, controllers, protocols, in-band, datapath id); port changes do not count.
   */
  onBridgeChanged(name: string, listener: (kind: 'added' | 'removed' | 'changed') => void): void;
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
  /** Installs (add, or modify when it exists) the meters the pipeline's flows refer to. */
  ensureMeters(meters: readonly MeterSpec[]): Promise<void>;
  /** Deletes meters no flow refers to any more (the switch would delete flows that still did). */
  deleteMeters(ids: readonly number[]): Promise<void>;
  dumpFlows(): Promise<Flow[]>;
  /** The packet counts of the flows of `table` whose cookie matches `cookie` under `cookieMask` (absent: unknown). */
  flowCounts?(q: { table: number; cookie: bigint; cookieMask: bigint }): Promise<{ cookie: bigint; packets: bigint }[]>;
  /** Resolves on the switch's reply (the bundle committed); `onWritten` hears when the last flow-mod was written. */
  sendFlowMods(mods: FlowModLike[], opts: { bundle: boolean; onWritten?: () => void }): Promise<void>;
  packetOut(opts: { inPort: number; outPort: number; data: Uint8Array }): Promise<void>;
  onPacketIn(listener: (ev: PacketInEvent) => void): void;
  onClose(listener: (reason: string) => void): void;
  close(): void;
  /** Whether the switch answers a barrier within `timeoutMs`. */
  isAlive(timeoutMs: number): Promise<boolean>;
}

/** Where switch connections come from: ovs-vswitchd dialing our listener, or us dialing its management socket. */
export interface SwitchListener {
  onSwitch(listener: (link: SwitchLink) => void): void;
  close(): Promise<void>;
  /** The bridge's controller target (`tcp:`/`ssl:` our listener); null: none, the agent dials the switch. */
  readonly controller: string | null;
  /** For the log: where the switch is met (`listen 127.0.0.1:6633`, `dial unix:/run/openvswitch/br0.mgmt`). */
  readonly describe: string;
}

/** A change as the feed carries it (contract). */
export type { FeedChange };

export type FeedEvent =
  | { kind: 'snapshot'; revision: number; resources: Record<string, Record<string, unknown>[]> }
  | { kind: 'change'; change: FeedChange }
  /** A request of the server's (a trace), to answer with ApiLike.answerRequest. */
  | { kind: 'request'; request: { id: string; kind: string; body: unknown } }
  /** A stream opened to `server` (with several servers, the one the agent follows and reports to now). */
  | { kind: 'connected'; server: string; since: number }
  | { kind: 'error'; error: unknown };

export interface FeedSource {
  /** Starts following; a `snapshot` event comes first and again after every resync. */
  start(listener: (ev: FeedEvent) => void): void;
  close(): void;
}

export interface ApiLike {
  answerRequest(id: string, answer: { result: string } | { error: string }): Promise<unknown>;
  reportDatapathStatus(uuid: string, body: object): Promise<unknown>;
  reportInterfaceBinding(uuid: string, body: object): Promise<unknown>;
  reportTranslationStatus(uuid: string, body: object): Promise<unknown>;
  createDatapath(body: {
    uuid: string;
    display_name: string;
    dpid: string;
    node_id: string;
    ipv4_address?: string;
  }): Promise<unknown>;
}

/** ovs-vswitchd's own control channel (unixctl, what ovs-appctl speaks): for traces and conntrack usage. */
export interface VswitchControl {
  /** `ofproto/trace` of `flow` (ovs-ofctl syntax) on `bridge`: OVS's text and its parse. */
  trace(bridge: string, flow: string, ctNext?: string[]): Promise<{ text: string; trace: OfprotoTrace }>;
  /** Connections conntrack holds in `zone` (absent: not asked). */
  zoneConnections?(zone: number): Promise<number>;
  /** Connections in the whole conntrack table, and the most it admits (absent: not asked). */
  conntrackTable?(): Promise<{ connections: number; max: number }>;
}

export interface DhcpHandler {
  /** Answers one DHCP frame that arrived from a VM port in `networkUuid`; never throws for bad bytes. */
  handle(
    frame: Uint8Array,
    networkUuid: string,
    local: DhcpHostSettings,
  ): { reply?: Uint8Array; event: string; reason?: string };
}

/** What DHCP answers depend on of this host: its tunnels, its underlay MTU, whether it serves metadata (its address). */
export interface DhcpHostSettings {
  encap: 'gre' | 'vxlan';
  underlayMtu: number;
  metadataIp?: string | null;
}

export interface DnsHandler {
  /**
   * Answers one DNS query frame that arrived from a VM port in `networkUuid` (from the records, or relayed from the
   * service's upstream servers); never rejects for bad bytes.
   */
  handle(frame: Uint8Array, networkUuid: string): Promise<{ reply?: Uint8Array; event: string; reason?: string }>;
  /**
   * Answers one query that came over TCP (the message without its length prefix) from a VM port in `networkUuid`,
   * to the network's DNS service that TCP is steered to (its lowest address); no reply: nothing to answer.
   */
  handleTcp?(query: Uint8Array, networkUuid: string): Promise<{ reply?: Uint8Array; event: string; reason?: string }>;
}

/**
 * What the agent measures as it happens, for its Prometheus histograms (metrics.ts); the counts it keeps itself,
 * in status(), which scrapes read.
 */
export interface AgentObserver {
  /** One reconciliation pass that reached the switch: compile, diff, meters and the bundle of flow-mods. */
  syncDuration(seconds: number): void;
  /** One pass's stages (change-span.ts), for a pass that applied feed changes or sent flow-mods. */
  changeSpan(span: ChangeSpan): void;
}

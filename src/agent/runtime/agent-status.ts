// The agent's own account of itself: the phase it is in and what status() gives — logged on SIGUSR2, read by the
// metrics at each scrape, and the source of its reports.
import type { Binding } from '../pipeline/index.js';
import type { SnatUsageStatus } from './snat-usage.js';

export type AgentPhase =
  | 'starting'
  | 'waiting-for-bridge'
  | 'taking-over-bridge'
  | 'waiting-for-datapath'
  | 'waiting-for-switch'
  | 'running'
  | 'stopped';

/** What `status()` returns: the agent's own account of itself (also logged, and reported). */
export interface AgentStatus {
  phase: AgentPhase;
  dpid: string | null;
  datapathUuid: string | null;
  switchConnected: boolean;
  ovsdbConnected: boolean;
  flowsInSync: boolean;
  installedFlows: number;
  /** Flows the model asks of this host (the compiler's current set). */
  desiredFlows: number;
  lastError: string | null;
  warnings: string[];
  bound: Binding[];
  feedRevision: number;
  /** The server whose change feed the agent follows now (its reports go there too); null while it has none. */
  feedServer: string | null;
  counters: {
    syncs: number;
    flowModsSent: number;
    /** Connections after the first: the switch's OpenFlow connection, and OVSDB's. */
    openflowReconnects: number;
    ovsdbReconnects: number;
    packetIns: number;
    /** Packet-ins by what the pipeline punted them for: dhcp, too_big, other. */
    packetInsByKind: Record<string, number>;
    dhcpReplies: number;
    dhcpDropped: number;
    /** Frames from an uplink too big for a virtual network: answered with ICMP "fragmentation needed", or dropped. */
    fragNeededSent: number;
    tooBigDropped: number;
    /** DHCP requests by what the responder made of them (offer, ack, nak, release, malformed, ignored, ...). */
    dhcpEvents: Record<string, number>;
    dnsReplies: number;
    dnsDropped: number;
    /** DNS queries by what the service made of them (answered, nodata, refused, forwarded, upstream_failed, ...). */
    dnsEvents: Record<string, number>;
    reportsSent: number;
  };
  /** The snat translations this host's gateway serves: connections, port range, refused packets (snat-usage.ts). */
  snat: SnatUsageStatus;
}

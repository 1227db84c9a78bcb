// The trace contract: what `POST /traces` takes and answers, and what the server asks each agent on the way
// (one host at a time: the agent traces the packet through its own switch, the server follows it across tunnels).

import { bool, int, ipv4, mac, oneOf, uuid } from './params.js';

export const TRACE_PROTOCOLS = ['icmp', 'tcp', 'udp'] as const;
export type TraceProtocol = (typeof TRACE_PROTOCOLS)[number];

/** Where the packet comes from: one of these names its sender (vnctl takes it as its positional IF). */
export const TRACE_SOURCE_PARAMS = ['interface_uuid', 'src_mac', 'src_ip'] as const;

/** `POST /traces`'s parameters (the server's validation and OpenAPI, and vnctl trace's options, come from these). */
export const TRACE_PARAMS = [
  uuid('interface_uuid', 'if', { doc: 'the interface the packet comes from (a VM port); or src_mac, or src_ip' }),
  mac('src_mac', { doc: "the sending VM's MAC (instead of interface_uuid)" }),
  ipv4('src_ip', {
    doc: "the sending VM's address (instead of interface_uuid; refused when several networks have it)",
  }),
  ipv4('dst', { required: true, doc: 'destination address' }),
  oneOf('proto', TRACE_PROTOCOLS, { doc: 'icmp (echo request, the default), tcp (a SYN) or udp' }),
  int('dport', 1, 65535, { doc: 'tcp/udp destination port (default 80)' }),
  int('sport', 1, 65535, { doc: 'tcp/udp source port (default 40000)' }),
  int('ttl', 1, 255, { doc: 'IP TTL (default 64)' }),
  bool('explain', { doc: 'also trace the reply back and say which direction fails first' }),
];

/** A packet as it enters a bridge. */
export interface TracePacket {
  eth_src: string;
  eth_dst: string;
  ip_src: string;
  ip_dst: string;
  proto: TraceProtocol;
  /** tcp/udp ports. */
  sport?: number;
  dport?: number;
  ttl: number;
  /** The reply direction of a connection (an echo reply, a SYN-ACK): what --explain traces back. */
  reply?: boolean;
}

/** Where a packet enters a bridge: a port of this host's, or a tunnel from another host. */
export type TraceEntry =
  | { interface_uuid: string }
  | { tunnel: { type: 'gre' | 'vxlan'; src_ip: string; dst_ip: string; key: number } };

/** What the server asks the agent of one datapath (agent request kind `trace`). */
export interface TraceAsk {
  datapath_uuid: string;
  packet: TracePacket;
  from: TraceEntry;
  /**
   * The conntrack state each ct() of the trace resumes with, in order (ofproto/trace --ct-next; OVS's default
   * is trk,new): a reply is traced as conntrack would see it — est,rpl when the request committed, else inv.
   */
  ct_next?: string[];
}

/** The API object a flow's cookie names. */
export interface TraceOwner {
  kind: string;
  uuid: string | null;
  /** The job the flow does for it (cookie tag): classify, routing, filter, … */
  tag: string;
}

/** One flow a packet hit. */
export interface TraceFlowHit {
  bridge: string;
  table: number;
  /** The pipeline's name of the table (docs/pipeline.md); null outside vnet's pipeline (br-phy). */
  table_name: string | null;
  priority: number | null;
  /** Hex, as `ovs-ofctl dump-flows` prints it; null when no flow matched (the table's miss). */
  cookie: string | null;
  owner: TraceOwner | null;
  match: string;
  actions: string[];
}

/** How a packet left one host's bridge. */
export type TraceOutcome =
  | { kind: 'delivered'; interface_uuid: string | null; port: string }
  | { kind: 'answered'; by: string }
  | {
      kind: 'tunnel';
      type: 'gre' | 'vxlan';
      /** The tunnel's outer source (this host) and destination addresses. */
      local_ip: string;
      remote_ip: string;
      key: number;
      datapath_uuid: string | null;
      packet: TracePacket;
    }
  | { kind: 'uplink'; port: string; vlan: number | null; packet: TracePacket }
  | { kind: 'controller'; reason: string }
  | { kind: 'dropped'; table: number | null; table_name: string | null; owner: TraceOwner | null };

/** What one agent answers: the flows hit on its switch and where the packet went. */
export interface TraceHop {
  datapath_uuid: string;
  node_id: string;
  flows: TraceFlowHit[];
  outcome: TraceOutcome;
  /** OVS's own summary ("Datapath actions: …"). */
  datapath_actions: string;
}

/** One direction of a trace: the hosts, the way, the verdict. */
export interface TraceLeg {
  hops: TraceHop[];
  path: string[];
  verdict: string;
  result: TraceResult['result'];
}

/** The reply of POST /traces. */
export interface TraceResult {
  from_interface: string;
  packet: TracePacket;
  hops: TraceHop[];
  /** The way in the model's terms: "interface if-a", "network nw-a", "route_link rl-1", "tunnel to dp-2", … */
  path: string[];
  /** One line: where the packet ended, or what stopped it. */
  verdict: string;
  /** delivered | answered | left | dropped | unbound | unreachable */
  result: 'delivered' | 'answered' | 'left' | 'dropped' | 'unbound' | 'unreachable';
  /** With `explain`: the reply's way back from where the packet was delivered (absent when it was not). */
  reply?: TraceLeg;
  /** With `explain`: one line — both ways work, or the first object that blocks, and in which direction. */
  explanation?: string;
}

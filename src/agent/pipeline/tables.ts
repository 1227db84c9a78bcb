// The agent's OpenFlow pipeline declared as data: tables in order; numbers are derived here and nowhere else.
import type { FieldName } from '../../openflow/types.js';

/** What happens to a packet that matches no flow of a table (the table's priority-0 flow); in_port: back out of it. */
export type MissAction = 'drop' | 'next' | 'controller' | 'in_port';

/** One table of the pipeline: a contract that flow generation and the declaration test check. */
export interface TableSpec {
  /** Stable name; used in code, docs, traces. */
  name: string;
  /** One sentence: why the table exists. */
  purpose: string;
  /** The only fields a flow in this table may match. */
  matches: readonly FieldName[];
  /** Tables a flow here may continue to (goto_table, resubmit, ct(table=)); always later in the pipeline. */
  next: readonly string[];
  /**
   * Earlier tables a flow here may resubmit to: the packet enters the pipeline again as if it had come in on
   * another port (OVN's patch ports do the same). Each re-entry sets a flag that its own flows refuse, so it
   * happens at most once per packet.
   */
  reenters?: readonly string[];
  /**
   * Later tables a flow here may add flows to with learn(): the switch writes them itself (a MAC seen behind a
   * port), they age out on their own, and the agent never owns them (their cookie tag is `learned`).
   */
  learnsInto?: readonly string[];
  /** What a miss does; 'next' continues in `missTo`, else in the following table. */
  miss: MissAction;
  /** For miss 'next': the table a miss continues in, when it is not the following one (must be in `next`). */
  missTo?: string;
}

// Order is pipeline order. Local VM traffic: classifier → port_security → [egress_ct → egress_acl →
// egress_verdict] → arp_responder → services → l3_routing → [l3_neighbor] → l2_lookup → [ingress_ct →
// ingress_acl → ingress_verdict → output].
// Tunnel traffic: classifier → tunnel_ingress → l2_lookup → ... (it was validated, answered and routed at
// its source host, so it skips those stages). Uplink traffic of physical networks: classifier →
// uplink_ingress → l2_lookup → ... (to local ports only). DHCP from a local VM: ... → services → dhcp_punt → agent; DNS to a
// DNS service: ... → services → dns_punt → agent.
// The fields both ACL tables judge a packet by; each adds how it knows the interface (in_port or reg2).
const ACL_MATCHES = [
  'ct_state',
  'ct_mark',
  'eth_type',
  'ip_proto',
  'ipv4_src',
  'ipv4_dst',
  'tcp_src',
  'tcp_dst',
  'udp_src',
  'udp_dst',
  'icmpv4_type',
  'icmpv4_code',
  'conj_id',
] as const satisfies readonly FieldName[];

const DECLARATION = [
  {
    name: 'classifier',
    purpose:
      "Split tunnel traffic (marked FROM_TUNNEL, to tunnel_ingress), uplink traffic (marked FROM_UPLINK, to uplink_ingress) and the agent's metadata port (to metadata_reply) from everything else, which port_security checks. A frame on a trunk port tagged with one of its VLAN sub-interfaces' tags has the tag popped and the sub-interface's own port number loaded as in_port (port_security then judges it as that interface); any other tagged frame from a VM port is dropped, untagged ones stay the port's own.",
    matches: ['in_port', 'vlan_vid'],
    next: ['tunnel_ingress', 'uplink_ingress', 'metadata_reply', 'promiscuous_port', 'port_security'],
    miss: 'next',
    missTo: 'port_security',
  },
  {
    name: 'tunnel_ingress',
    purpose:
      "Map the tunnel key (tun_id) of a packet from another host to the local network or segment with that key; unknown keys are dropped. On a router's active gateway, a packet still addressed to the router (sent here to be translated) continues in its route link's lookup.",
    matches: ['tunnel_id', 'eth_dst'],
    next: ['l2_lookup', 'l3_lookup'],
    miss: 'drop',
  },
  {
    name: 'uplink_ingress',
    purpose:
      "Map a frame from an uplink port to the physical network of its VLAN tag (popped) or, untagged, to the uplink's flat network: to a router MAC of that network it is routed (l3_routing), else switched (l2_lookup); ARP for a router address is answered here by the router's pinned host only, ICMP echo to it by any (both keep the tag); a floating IP served here (of a VM here, or behind a router it is the gateway of) is answered (ARP) and translated to the VM's own address (routed into its network) on that host — a port translation only for its outside TCP/UDP port, rewritten to the VM's port (the address's other ports reach nothing); frames of networks not on that uplink are dropped. IPv4 routed or translated from here that is longer than virtual networks take (TOO_BIG) goes to the agent instead, which answers it with ICMP 'fragmentation needed'.",
    matches: [
      'in_port',
      'reg0',
      'vlan_vid',
      'eth_dst',
      'eth_type',
      'arp_op',
      'arp_tpa',
      'ip_proto',
      'icmpv4_type',
      'ipv4_dst',
      'tcp_dst',
      'udp_dst',
    ],
    next: ['l3_routing', 'l2_lookup', 'unsnat', 'reply_out'],
    miss: 'drop',
  },
  {
    name: 'unsnat',
    purpose:
      "On a router's active gateway: a packet from the segment to the gateway address came back from its conntrack zone with the inside address restored; replies and related packets of translated connections are routed, anything else (no connection) is dropped.",
    matches: ['ct_state'],
    next: ['l3_routing'],
    miss: 'drop',
  },
  {
    name: 'metadata_reply',
    purpose:
      "Traffic from the agent's metadata port (its HTTP server for 169.254.169.254): ARP for an interface's metadata source address (169.254.x.y, from its ofport) is answered here; the server's TCP to that address gets 169.254.169.254:80 and the VM's own address and MACs back (stateless) and is delivered in the VM's network (l2_lookup, through its ingress conntrack when filtered); anything else from that port is dropped.",
    matches: ['eth_type', 'arp_op', 'arp_tpa', 'ip_proto', 'ipv4_dst', 'tcp_src'],
    next: ['l2_lookup', 'reply_out'],
    miss: 'drop',
  },
  {
    name: 'promiscuous_port',
    purpose:
      "Frames from a promiscuous port (an outside L2 network bridged into a network or segment, many MACs behind it): no anti-spoofing, they load the port's network or segment (key and zone); each unicast source MAC is learned into l2_lookup (learn(), idle timeout) unless the datapath has enable_ovs_learn_action false, where unknown unicast simply goes to the port; frames from a multicast source are dropped.",
    matches: ['in_port', 'eth_src'],
    next: ['arp_responder'],
    learnsInto: ['l2_lookup'],
    miss: 'drop',
  },
  {
    name: 'port_security',
    purpose:
      'Classify and anti-spoof local ports: a bound VM may send only from its leased MAC and IPv4 addresses (ARP sha/spa too) or DHCP from 0.0.0.0, which loads its network (metadata) and zone (reg5); a port on a segment (no IP) only from its MACs, any ethertype, loading the segment; other ports and IPv6 in networks are dropped.',
    matches: ['in_port', 'eth_src', 'eth_type', 'ipv4_src', 'arp_sha', 'arp_spa', 'ip_proto', 'udp_src', 'udp_dst'],
    next: ['egress_ct', 'arp_responder'],
    miss: 'drop',
  },
  {
    name: 'egress_ct',
    purpose:
      'Send IPv4 from a filtered interface through conntrack in its network zone; non-IP (ARP) continues unfiltered.',
    matches: ['eth_type'],
    next: ['egress_acl', 'arp_responder'],
    miss: 'drop',
  },
  {
    name: 'egress_acl',
    purpose:
      "Judge a filtered interface's outbound packets: replies of live connections and related packets pass, replies of blocked ones drop; every other packet (new or established) meets the egress rules, whose allows set EGRESS_ALLOWED.",
    matches: ['in_port', ...ACL_MATCHES],
    next: ['egress_verdict', 'arp_responder'],
    miss: 'next',
  },
  {
    name: 'egress_verdict',
    purpose:
      'Act on the egress judgement with conntrack: commit allowed new connections, unblock re-allowed ones, and mark established connections the rules no longer allow as blocked (dropped both ways).',
    matches: ['reg0', 'eth_type', 'ct_state', 'ct_mark'],
    next: ['arp_responder'],
    miss: 'drop',
  },
  {
    name: 'arp_responder',
    purpose:
      'Answer ARP requests for every known address of the network (VMs and router interfaces) in the switch, back out of the in_port.',
    matches: ['metadata', 'eth_type', 'arp_op', 'arp_tpa'],
    next: ['services', 'reply_out'],
    miss: 'next',
  },
  {
    name: 'services',
    purpose:
      "DHCP from each local VM of a network with a DHCP service passes that VM's own meter and goes on to dhcp_punt; DNS queries (UDP to port 53) to a DNS service's address in the VM's network pass the VM's DNS meter and go on to dns_punt; TCP from a local VM's own address to 169.254.169.254:80 leaves to the agent's metadata port from the source address that names its interface (stateless: metadata_reply turns the answer back); nothing else is answered by the controller.",
    matches: ['metadata', 'in_port', 'eth_type', 'ip_proto', 'udp_src', 'udp_dst', 'ipv4_src', 'ipv4_dst', 'tcp_dst'],
    next: ['l3_routing', 'dhcp_punt', 'dns_punt'],
    miss: 'next',
  },
  {
    name: 'l3_routing',
    purpose:
      "Distributed routing at the source host, first step: IPv4 to a router MAC of the packet's network selects that router's route link (reg3).",
    matches: ['metadata', 'eth_dst', 'eth_type'],
    next: ['l3_lookup', 'l2_lookup'],
    miss: 'next',
    // Packets that are not routed skip the routing tables.
    missTo: 'l2_lookup',
  },
  {
    name: 'l3_lookup',
    purpose:
      "Per route link: ICMP echo to any router address is answered in the switch; other IPv4 takes the longest matching route to its network (new source MAC, TTL decremented), straight to its next hop when the route has one; a local VM with a floating IP leaves into its physical network from that address (source translated, its own MAC; a port translation only from the VM's TCP/UDP port, rewritten to the outside port); on a host that is not the link's active gateway, the link's other networks' packets into a snat network are tunnelled, unrouted, to the gateway.",
    matches: ['reg3', 'eth_type', 'ip_proto', 'icmpv4_type', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'udp_src'],
    next: ['l3_neighbor', 'snat', 'l2_lookup', 'reply_out'],
    miss: 'drop',
  },
  {
    name: 'l3_neighbor',
    purpose:
      'Resolve the routed destination IPv4 to the VM MAC from the model (no ARP on the wire); unknown destinations are dropped.',
    matches: ['metadata', 'eth_type', 'ipv4_dst'],
    next: ['snat'],
    miss: 'drop',
  },
  {
    name: 'snat',
    purpose:
      "On a router's active gateway: a packet routed on its link into the external network from one of the link's other networks leaves from the gateway address (conntrack NAT in the gateway's zone); every other routed packet passes untranslated.",
    matches: ['reg3', 'metadata', 'eth_type', 'ipv4_src'],
    next: ['snat_result', 'l2_lookup'],
    miss: 'next',
    missTo: 'l2_lookup',
  },
  {
    name: 'snat_result',
    purpose:
      "On a router's active gateway, a packet back from the snat commit: translated, it goes on to the segment; a new connection conntrack could not translate (no free source port for its destination, the zone's or the table's limit) is dropped by a flow of its own, whose packet count is the gateway's exhaustion counter (never leaving with the inside address); anything else it said (invalid) is dropped.",
    matches: ['reg3', 'metadata', 'ct_state'],
    next: ['l2_lookup'],
    miss: 'drop',
  },
  {
    name: 'l2_lookup',
    purpose:
      "L2 forwarding in the network or segment: to a local port, tunnelled once to the host of a remote MAC, or flooded for broadcast/multicast (split horizon for tunnel traffic); unknown unicast is dropped. A frame this host would send onto a physical segment to a MAC it answers for there itself (a floating IP it serves, a router it is the gateway of) re-enters as if from the uplink (classifier): the segment's switch never sends a frame back out of the port it came in on, so hairpin to such an address turns around here.",
    matches: ['metadata', 'eth_dst', 'reg0', 'in_port'],
    next: ['ingress_ct'],
    reenters: ['classifier'],
    miss: 'drop',
  },
  {
    name: 'ingress_ct',
    purpose:
      'Send IPv4 for a filtered destination interface (reg2) through conntrack in the network zone; non-IP goes straight to output.',
    matches: ['eth_type'],
    next: ['ingress_acl', 'output'],
    miss: 'drop',
  },
  {
    name: 'ingress_acl',
    purpose:
      "Judge packets for a filtered destination (reg2) as egress_acl does, with the destination's ingress rules (default deny), whose allows set INGRESS_ALLOWED.",
    matches: ['reg2', ...ACL_MATCHES],
    next: ['ingress_verdict', 'output'],
    miss: 'next',
  },
  {
    name: 'ingress_verdict',
    purpose: 'Act on the ingress judgement with conntrack, as egress_verdict does.',
    matches: ['reg0', 'eth_type', 'ct_state', 'ct_mark'],
    next: ['output'],
    miss: 'drop',
  },
  {
    name: 'output',
    purpose: 'Deliver a filtered packet to the local port named by reg2.',
    matches: ['reg2'],
    next: [],
    miss: 'drop',
  },
  {
    name: 'dhcp_punt',
    purpose:
      "Send DHCP that passed its port's meter to the agent through its network's DHCP meter (one tenant's VMs together cannot starve another's).",
    matches: ['metadata'],
    next: [],
    miss: 'drop',
  },
  {
    name: 'dns_punt',
    purpose:
      "Send DNS queries that passed their port's meter to the agent through their network's DNS meter; the agent answers from the service's records or its upstream servers.",
    matches: ['metadata'],
    next: [],
    miss: 'drop',
  },
  {
    name: 'reply_out',
    purpose:
      "Send an answer the switch made itself (ARP, ICMP echo) back where its request came from: a VLAN sub-interface's (in_port its own number, no port of the bridge) out of its parent's port with its tag pushed; anything else out of in_port (the miss).",
    matches: ['in_port'],
    next: [],
    miss: 'in_port',
  },
] as const satisfies readonly TableSpec[];

/** Table names, from the declaration. */
export type TableName = (typeof DECLARATION)[number]['name'];

/** The pipeline in order. */
export const TABLES: readonly TableSpec[] = DECLARATION;

/** Table number by name: the position in the declaration. */
export const TABLE: Readonly<Record<TableName, number>> = Object.freeze(
  Object.fromEntries(DECLARATION.map((t, i) => [t.name, i])) as Record<TableName, number>,
);

/** Name of table number `n`, or undefined when the pipeline has no such table. */
export function tableName(n: number): TableName | undefined {
  return DECLARATION[n]?.name;
}

/** Where a miss in table `t` continues (for miss 'next'), or undefined. */
export function missTarget(t: TableSpec, index: number): TableName | undefined {
  if (t.miss !== 'next') return undefined;
  return (t.missTo ?? DECLARATION[index + 1]?.name) as TableName | undefined;
}

/** Declaration of a table by name or number. */
export function tableSpec(t: TableName | number): TableSpec | undefined {
  return typeof t === 'number' ? DECLARATION[t] : DECLARATION[TABLE[t]];
}

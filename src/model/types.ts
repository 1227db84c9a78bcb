// The API/feed representation of every resource (the shared server/agent/vnctl contract) and the change-feed types.

/** OpenVNet uuid prefix of each resource kind (openvnet.md §2.1 table), plus ours. */
export const UUID_PREFIX = {
  datapaths: 'dp',
  networks: 'nw',
  interfaces: 'if',
  mac_leases: 'ml',
  ip_leases: 'il',
  network_services: 'ns',
  route_links: 'rl',
  routes: 'r',
  segments: 'seg',
  filters: 'fil',
  translations: 'tr',
  security_groups: 'sg',
  ip_range_groups: 'iprg',
  mac_range_groups: 'mrg',
  dns_services: 'dnss',
} as const;
export type UuidKind = keyof typeof UUID_PREFIX;

/** Prefixes of items that live inside another object (they have uuids but no endpoint of their own). */
export const SUB_PREFIX = {
  security_group_rule: 'sgr',
  ip_range: 'ipr',
  mac_range: 'mr',
  dns_record: 'dnsr',
} as const;

export interface Timestamps {
  created_at: string;
  updated_at: string;
}

export interface Datapath extends Timestamps {
  uuid: string;
  display_name: string;
  /** "0x%016x" */
  dpid: string;
  node_id: string;
  /** The host's tunnel endpoint (underlay IPv4). */
  ipv4_address: string | null;
  dc_segment_id: string | null;
  enable_ovs_learn_action: boolean;
  is_connected: boolean;
  flows_in_sync: boolean;
  last_error: string | null;
  reported_node_id: string | null;
  /** The encapsulation its agent asks senders to use (reported); null until reported: GRE. */
  encap: 'gre' | 'vxlan' | null;
}

export type NetworkMode = 'virtual' | 'physical' | 'internal';
export interface Network extends Timestamps {
  uuid: string;
  display_name: string;
  ipv4_network: string;
  ipv4_prefix: number;
  network_mode: NetworkMode;
  domain_name: string;
  mtu: number | null;
  /** Comma-separated IPv4 list, e.g. "8.8.8.8,1.1.1.1". */
  dns_servers: string | null;
  dhcp_lease_time: number;
  segment_uuid: string | null;
  topology_uuid: string | null;
  /** 24-bit tunnel key, server-allocated, unique. */
  tunnel_key: number;
  /** 16-bit conntrack zone, server-allocated, unique. */
  ct_zone: number;
}

export type InterfaceMode = 'vif' | 'simulated' | 'host' | 'internal' | 'patch' | 'promiscuous' | 'remote';
export interface EmbeddedIpLease {
  uuid: string;
  network_uuid: string;
  ipv4_address: string;
}
export interface EmbeddedMacLease {
  uuid: string;
  mac_address: string;
  ip_leases: EmbeddedIpLease[];
}
export interface Interface extends Timestamps {
  uuid: string;
  display_name: string;
  mode: InterfaceMode;
  owner_datapath_uuid: string | null;
  port_name: string | null;
  enable_routing: boolean;
  enable_route_translation: boolean;
  enable_filtering: boolean;
  /** Convenience: the first MAC lease's address. */
  mac_address: string | null;
  /** Convenience: the first IP lease's network (or the network given at creation without an address). */
  network_uuid: string | null;
  /** Convenience: the first IP lease's address. */
  ipv4_address: string | null;
  segment_uuid: string | null;
  mac_leases: EmbeddedMacLease[];
  security_group_uuids: string[];
  status: 'up' | 'down';
  active_datapath_uuid: string | null;
  active_port_name: string | null;
}

export interface MacLease extends Timestamps {
  uuid: string;
  interface_uuid: string;
  mac_address: string;
  segment_uuid: string | null;
}

export interface IpLease extends Timestamps {
  uuid: string;
  network_uuid: string;
  ipv4_address: string;
  interface_uuid: string | null;
  mac_lease_uuid: string | null;
  enable_routing: boolean;
}

export interface NetworkService extends Timestamps {
  uuid: string;
  display_name: string;
  mode: 'dhcp' | 'dns' | 'router' | null;
  interface_uuid: string | null;
  incoming_port: number | null;
  outgoing_port: number | null;
}

export interface RouteLink extends Timestamps {
  uuid: string;
  display_name: string;
  mac_address: string;
  topology_uuid: string | null;
}

export interface Route extends Timestamps {
  uuid: string;
  display_name: string;
  interface_uuid: string;
  route_link_uuid: string;
  network_uuid: string;
  ipv4_network: string;
  ipv4_prefix: number;
  ingress: boolean;
  egress: boolean;
}

/** Feed uuid "<dp>/<nw>". */
export interface DatapathNetwork extends Timestamps {
  uuid: string;
  datapath_uuid: string;
  network_uuid: string;
  interface_uuid: string | null;
  mac_address: string | null;
  broadcast_mac_address: string | null;
}

/** Feed uuid "<dp>/<rl>". */
export interface DatapathRouteLink extends Timestamps {
  uuid: string;
  datapath_uuid: string;
  route_link_uuid: string;
  interface_uuid: string | null;
  mac_address: string | null;
}

/** Feed uuid "<dp>/<seg>". */
export interface DatapathSegment extends Timestamps {
  uuid: string;
  datapath_uuid: string;
  segment_uuid: string;
  interface_uuid: string | null;
  mac_address: string | null;
}

export interface FilterStatic {
  protocol: 'tcp' | 'udp' | 'icmp' | 'arp' | 'ip';
  action: 'pass' | 'drop' | 'conn';
  src_address: string;
  dst_address: string;
  src_port: number;
  dst_port: number;
}
export interface Filter extends Timestamps {
  uuid: string;
  interface_uuid: string;
  mode: 'static';
  ingress_passthrough: boolean;
  egress_passthrough: boolean;
  statics: FilterStatic[];
}

export interface SecurityGroupRule {
  uuid: string;
  direction: 'ingress' | 'egress';
  protocol: 'tcp' | 'udp' | 'icmp' | 'any';
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_uuid: string | null;
}
export interface SecurityGroup extends Timestamps {
  uuid: string;
  display_name: string;
  description: string;
  rules: SecurityGroupRule[];
}

export interface Segment extends Timestamps {
  uuid: string;
  display_name: string;
  mode: 'physical' | 'virtual';
  topology_uuid: string | null;
}

export interface StaticAddress {
  ingress_ipv4_address: string;
  egress_ipv4_address: string;
  ingress_port_number: number | null;
  egress_port_number: number | null;
  route_link_uuid: string | null;
  ingress_network_uuid: string | null;
  egress_network_uuid: string | null;
}
export interface Translation extends Timestamps {
  uuid: string;
  interface_uuid: string;
  mode: 'static_address';
  passthrough: boolean;
  static_addresses: StaticAddress[];
}

export interface IpRange {
  uuid: string;
  begin_ipv4_address: string;
  end_ipv4_address: string;
}
export interface IpRangeGroup extends Timestamps {
  uuid: string;
  allocation_type: 'incremental' | 'decremental' | 'random';
  ip_ranges: IpRange[];
}

export interface MacRange {
  uuid: string;
  begin_mac_address: string;
  end_mac_address: string;
}
export interface MacRangeGroup extends Timestamps {
  uuid: string;
  allocation_type: 'random' | 'incremental' | 'decremental';
  mac_ranges: MacRange[];
}

export interface DnsRecord {
  uuid: string;
  name: string;
  ipv4_address: string;
}
export interface DnsService extends Timestamps {
  uuid: string;
  network_service_uuid: string;
  public_dns: string | null;
  dns_records: DnsRecord[];
}

/** Every resource kind the store and the feed carry, with its representation. */
export interface ResourceMap {
  datapaths: Datapath;
  networks: Network;
  interfaces: Interface;
  mac_leases: MacLease;
  ip_leases: IpLease;
  network_services: NetworkService;
  route_links: RouteLink;
  routes: Route;
  datapath_networks: DatapathNetwork;
  datapath_route_links: DatapathRouteLink;
  datapath_segments: DatapathSegment;
  filters: Filter;
  security_groups: SecurityGroup;
  segments: Segment;
  translations: Translation;
  ip_range_groups: IpRangeGroup;
  mac_range_groups: MacRangeGroup;
  dns_services: DnsService;
}
export type ResourceKind = keyof ResourceMap;
export const RESOURCE_KINDS: readonly ResourceKind[] = [
  'datapaths',
  'networks',
  'interfaces',
  'mac_leases',
  'ip_leases',
  'network_services',
  'route_links',
  'routes',
  'datapath_networks',
  'datapath_route_links',
  'datapath_segments',
  'filters',
  'security_groups',
  'segments',
  'translations',
  'ip_range_groups',
  'mac_range_groups',
  'dns_services',
];

/** `GET /api/1.0/feed/snapshot`: every resource, consistent at `revision`. */
export interface Snapshot {
  revision: number;
  resources: { [K in ResourceKind]: ResourceMap[K][] };
}

/** One `event: change` of `GET /api/1.0/feed/changes?since=R`. */
export type Change = {
  [K in ResourceKind]: {
    revision: number;
    resource: K;
    uuid: string;
    op: 'upsert' | 'delete';
    item: ResourceMap[K] | null;
  };
}[ResourceKind];

/** `event: resync`: the requested revision is outside the retained history; take a new snapshot. */
export interface ResyncEvent {
  revision: number;
  reason: string;
}

/** `{total_count, offset, limit, items}` of every list endpoint. */
export interface ListResult<T> {
  total_count: number;
  offset: number;
  limit: number;
  items: T[];
}

/** `PUT /datapaths/:uuid/status` body (agent report). */
export interface DatapathStatusReport {
  is_connected: boolean;
  flows_in_sync: boolean;
  last_error: string | null;
  reported_node_id: string;
  ipv4_address?: string;
  encap?: 'gre' | 'vxlan';
}

/** `PUT /interfaces/:uuid/binding` body (agent report). */
export interface InterfaceBindingReport {
  status: 'up' | 'down';
  active_datapath_uuid: string | null;
  active_port_name: string | null;
}

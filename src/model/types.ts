// The API/feed representation of every resource (the shared server/agent/vnctl contract) and the change-feed types.

import type { Static } from 'typebox';
import type { DocOf } from './resource.js';
import {
  DECLARATIONS,
  type dnsRecords,
  type embeddedIpLease,
  type embeddedMacLease,
  type filterStatics,
  type ipRanges,
  type macRanges,
  type securityGroupRules,
  type staticAddresses,
} from './resources/index.js';

export type { InterfaceMode } from './resources/interfaces.js';
export type { NetworkMode } from './resources/networks.js';

type Decls = typeof DECLARATIONS;
/** Every resource kind the store and the feed carry, with its representation (derived from its declaration). */
export type ResourceMap = { [K in keyof Decls]: DocOf<Decls[K]['fields']> };
export type ResourceKind = keyof ResourceMap;

/** Kinds with uuids of their own prefix and endpoints of their own (relation rows have composite ids). */
export type UuidKind = Exclude<ResourceKind, 'datapath_networks' | 'datapath_route_links' | 'datapath_segments'>;
/** OpenVNet uuid prefix of each such kind (openvnet.md §2.1 table, plus ours), from the declarations, in API order. */
export const UUID_PREFIX = Object.fromEntries(
  Object.entries(DECLARATIONS)
    .filter(([, d]) => d.fields.uuid.param?.t === 'uuid')
    .map(([kind, d]) => [kind, d.prefix]),
) as Record<UuidKind, string>;

export interface Timestamps {
  created_at: string;
  updated_at: string;
}
export type Datapath = ResourceMap['datapaths'];
export type Network = ResourceMap['networks'];
export type Subnet = ResourceMap['subnets'];
export type Interface = ResourceMap['interfaces'];
export type MacLease = ResourceMap['mac_leases'];
export type IpLease = ResourceMap['ip_leases'];
export type NetworkService = ResourceMap['network_services'];
export type RouteLink = ResourceMap['route_links'];
export type Route = ResourceMap['routes'];
/** Feed uuid "<dp>/<nw>". */
export type DatapathNetwork = ResourceMap['datapath_networks'];
/** Feed uuid "<dp>/<rl>". */
export type DatapathRouteLink = ResourceMap['datapath_route_links'];
/** Feed uuid "<dp>/<seg>". */
export type DatapathSegment = ResourceMap['datapath_segments'];
export type Filter = ResourceMap['filters'];
export type SecurityGroup = ResourceMap['security_groups'];
export type Segment = ResourceMap['segments'];
export type Translation = ResourceMap['translations'];
export type IpRangeGroup = ResourceMap['ip_range_groups'];
export type MacRangeGroup = ResourceMap['mac_range_groups'];
export type DnsService = ResourceMap['dns_services'];

export type EmbeddedIpLease = Static<typeof embeddedIpLease>;
export type EmbeddedMacLease = Static<typeof embeddedMacLease>;
export type FilterStatic = DocOf<(typeof filterStatics)['fields']>;
export type SecurityGroupRule = DocOf<(typeof securityGroupRules)['fields']>;
export type StaticAddress = DocOf<(typeof staticAddresses)['fields']>;
export type IpRange = DocOf<(typeof ipRanges)['fields']>;
export type MacRange = DocOf<(typeof macRanges)['fields']>;
export type DnsRecord = DocOf<(typeof dnsRecords)['fields']>;

export const RESOURCE_KINDS = Object.keys(DECLARATIONS) as ResourceKind[];

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
    /**
     * When the writing server committed it (ms since the epoch): on live events of that server's own writes only,
     * not on the backlog or on other servers' writes; the agents' change spans measure delivery from it.
     */
    committed_at?: number;
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
  /** How other hosts should reach this one (issue 6 --encap); a field added to the contract. */
  encap?: 'gre' | 'vxlan';
}

/** `PUT /translations/:uuid/status` body (agent report): where its floating addresses are answered. */
export interface TranslationStatusReport {
  active_datapath_uuid: string | null;
}

/** `PUT /interfaces/:uuid/binding` body (agent report). */
export interface InterfaceBindingReport {
  status: 'up' | 'down';
  active_datapath_uuid: string | null;
  active_port_name: string | null;
}

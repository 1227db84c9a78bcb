// Every resource the API, the store and the feed carry, declared once (one file each); the registry in API order.
import type { Fields, ItemDecl } from '../resource.js';
import { datapathNetworks, datapathRouteLinks, datapathSegments } from './datapath-relations.js';
import { datapaths } from './datapaths.js';
import { dnsRecords, dnsServices } from './dns-services.js';
import { filterStatics, filters } from './filters.js';
import { floatingIps } from './floating-ips.js';
import { interfaces } from './interfaces.js';
import { ipLeases, macLeases } from './leases.js';
import { ipLeaseContainers, ipRetentionContainers, leasePolicies } from './lease-policies.js';
import { networkServices } from './network-services.js';
import { networks } from './networks.js';
import { ipRangeGroups, ipRanges, macRangeGroups, macRanges } from './range-groups.js';
import { routeLinks, routes } from './routing.js';
import { securityGroupRules, securityGroups } from './security-groups.js';
import { segments } from './segments.js';
import { subnets } from './subnets.js';
import { staticAddresses, translations } from './translations.js';
import { tokens } from './tokens.js';
import { topologies } from './topologies.js';
import { auditEvents } from './audit.js';

export * from './datapath-relations.js';
export * from './datapaths.js';
export * from './dns-services.js';
export * from './filters.js';
export * from './floating-ips.js';
export * from './interfaces.js';
export * from './leases.js';
export * from './lease-policies.js';
export * from './network-services.js';
export * from './networks.js';
export * from './range-groups.js';
export * from './routing.js';
export * from './security-groups.js';
export * from './segments.js';
export * from './subnets.js';
export * from './tokens.js';
export * from './topologies.js';
export * from './audit.js';
export * from './translations.js';

/** Every stored kind, keyed by its plural name: the store's tables and the feed's resources, in snapshot order. */
export const DECLARATIONS = {
  datapaths,
  networks,
  subnets,
  interfaces,
  mac_leases: macLeases,
  ip_leases: ipLeases,
  network_services: networkServices,
  route_links: routeLinks,
  routes,
  datapath_networks: datapathNetworks,
  datapath_route_links: datapathRouteLinks,
  datapath_segments: datapathSegments,
  filters,
  security_groups: securityGroups,
  segments,
  translations,
  floating_ips: floatingIps,
  ip_range_groups: ipRangeGroups,
  mac_range_groups: macRangeGroups,
  dns_services: dnsServices,
  topologies,
  lease_policies: leasePolicies,
  ip_lease_containers: ipLeaseContainers,
  ip_retention_containers: ipRetentionContainers,
} as const;

/** Kinds the store keeps that the change feed never carries (credentials), keyed by plural name. */
export const PRIVATE_DECLARATIONS = { tokens, audit_events: auditEvents } as const;

/** Items embedded in a parent's list, with the parent kind (routes `/<parent>/:uuid/<segment>`). */
export const ITEMS: readonly { parent: string; decl: ItemDecl<Fields> }[] = [
  { parent: 'security_groups', decl: securityGroupRules },
  { parent: 'ip_range_groups', decl: ipRanges },
  { parent: 'mac_range_groups', decl: macRanges },
  { parent: 'dns_services', decl: dnsRecords },
  { parent: 'filters', decl: filterStatics },
  { parent: 'translations', decl: staticAddresses },
];

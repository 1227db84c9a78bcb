// Top-level resources: their parameters (OpenVNet's names + ours), create/update rules, and delete cascades.
// This file is the registry (RESOURCES, rejectImmutable, the helpers routes and the Neutron dialect import) and
// holds the rules no other rule needs (datapaths, route links, routes, segments, …); the rest is in resources/.
import {
  ArgumentError,
  DeleteRestrictionError,
  DuplicateValue,
  ImmutableField,
  InvalidID,
  MissingArgument,
} from '../model/errors.js';
import { intToIp, ipToInt } from '../model/ipv4.js';
import { cidr } from '../model/params.js';
import * as D from '../model/resources/index.js';
import { prefixHolding } from '../model/resources/subnets.js';
import type { Doc } from '../store/store.js';
import { define, type ResourceDef } from './documents.js';
import { checkAligned, checkVlanFree, networks, subnets } from './resources/addressing.js';
import { floatingIps, translations } from './resources/floating-ips.js';
import { interfaces, ipLeases, macLeases, networkServices } from './resources/interfaces.js';
import { ipLeaseContainers, ipRetentionContainers, leasePolicies } from './resources/lease-policies.js';
import {
  allocate,
  forgetInPolicies,
  freeIpIn,
  freeRandomMac,
  MAX_CT_ZONE,
  MAX_TUNNEL_KEY,
  prefixesOf,
} from './resources/leases.js';
import { inTopologies, topologies } from './topologies.js';
import { randomId, type WriteContext } from './write-context.js';

// ---------- definitions ----------

const datapaths = define(D.datapaths, {
  async check(ctx, p, doc) {
    if (p.dpid === undefined || p.dpid === doc?.dpid) return;
    const dup = await ctx.findOne('datapaths', { dpid: p.dpid as string });
    if (dup) throw new DuplicateValue('dpid', p.dpid as string, dup.uuid);
  },
  async cascade(ctx, doc) {
    // As OpenVNet (its event spec deletes dp-1 and re-creates its dpid as dp-new): the datapath's interface ports
    // go with it, so interfaces it owned keep everything but their port (owner and port name cleared) and can be
    // given the new datapath's (POST /interfaces/:uuid/ports).
    for (const i of await ctx.find('interfaces', { owner_datapath_uuid: doc.uuid }))
      await ctx.update('interfaces', { ...i, owner_datapath_uuid: null, port_name: null });
    for (const k of ['datapath_networks', 'datapath_route_links', 'datapath_segments'] as const)
      for (const r of await ctx.find(k, { datapath_uuid: doc.uuid })) await ctx.remove(k, r.uuid);
    // Bindings reported by the agent of this datapath are no longer true.
    for (const i of await ctx.find('interfaces', { active_datapath_uuid: doc.uuid }))
      await ctx.update('interfaces', { ...i, status: 'down', active_datapath_uuid: null, active_port_name: null });
  },
});

const routeLinks = define(D.routeLinks, {
  async check(ctx, p, doc) {
    if (p.mac_address === undefined) return;
    const dup = await ctx.findOne('route_links', { mac_address: p.mac_address as string });
    if (dup && dup.uuid !== doc?.uuid) throw new DuplicateValue('mac_address', p.mac_address as string, dup.uuid);
  },
  async computed(ctx, p) {
    return { mac_address: p.mac_address ?? (await freeRandomMac(ctx, 'route_links')) };
  },
  async cascade(ctx, doc) {
    // The routes over a link and its per-host rows mean nothing without it (documented cascade).
    for (const r of await ctx.find('routes', { route_link_uuid: doc.uuid })) await ctx.remove('routes', r.uuid);
    for (const r of await ctx.find('datapath_route_links', { route_link_uuid: doc.uuid }))
      await ctx.remove('datapath_route_links', r.uuid);
    // Static associations with it go too (OpenVNet: interface_route_links: :destroy).
    for (const i of await ctx.find('interfaces')) {
      const statics = (i.static_route_link_uuids as string[] | undefined) ?? [];
      if (statics.includes(doc.uuid))
        await ctx.update('interfaces', { ...i, static_route_link_uuids: statics.filter((u) => u !== doc.uuid) });
    }
  },
});

async function routeNetwork(ctx: WriteContext, ifaceUuid: string, given: unknown): Promise<Doc> {
  if (typeof given === 'string') return ctx.must('networks', given, 'network_uuid');
  // Relaxation: a route's network defaults to its router interface's network.
  const lease = await ctx.findOne('ip_leases', { interface_uuid: ifaceUuid });
  const iface = await ctx.must('interfaces', ifaceUuid, 'interface_uuid');
  const nw = (lease?.network_uuid ?? iface.network_uuid) as string | null;
  if (!nw) throw new MissingArgument('network_uuid');
  return ctx.must('networks', nw, 'network_uuid');
}

const routes = define(D.routes, {
  async computed(ctx, p) {
    return { network_uuid: (await routeNetwork(ctx, p.interface_uuid as string, p.network_uuid)).uuid };
  },
  async validate(doc, ctx) {
    checkAligned(doc);
    // Two routes to one destination on one route link: which one the switch uses would be an accident.
    const twin = (
      await ctx.find('routes', {
        route_link_uuid: doc.route_link_uuid as string | null,
        ipv4_network: doc.ipv4_network as string,
      })
    ).find((r) => r.uuid !== doc.uuid && r.ipv4_prefix === doc.ipv4_prefix);
    if (twin)
      throw new DuplicateValue(
        'ipv4_network',
        `${doc.ipv4_network}/${doc.ipv4_prefix} on route link ${doc.route_link_uuid ?? '(none)'}`,
        twin.uuid,
      );
    // The next hop is a neighbour: it must be in the route's own network.
    const gw = doc.gateway_ipv4_address as string | null;
    if (!gw) return;
    const net = await ctx.must('networks', doc.network_uuid as string, 'network_uuid');
    const prefixes = await prefixesOf(ctx, net);
    if (!prefixHolding(prefixes, gw))
      throw new ArgumentError(
        'gateway_ipv4_address',
        `${gw} is not in the route's network ${net.uuid} (${prefixes.map((x) => `${x.ipv4_network}/${x.ipv4_prefix}`).join(', ') || 'no address'})`,
      );
  },
});

const segments = define(D.segments, {
  async computed(ctx) {
    return {
      tunnel_key: await allocate(ctx, 'tunnel_key', MAX_TUNNEL_KEY),
      ct_zone: await allocate(ctx, 'ct_zone', MAX_CT_ZONE),
    };
  },
  async check(ctx, p, doc) {
    await checkVlanFree(ctx, p.vlan_id ?? doc?.vlan_id, doc?.uuid);
  },
  validate(doc) {
    // OpenVNet's agent built a physical segment as a virtual one (segment_manager.rb: "# FIX"); vnet carries it on
    // the uplinks, as a physical network.
    if ((doc.vlan_id ?? null) !== null && doc.mode !== 'physical')
      throw new ArgumentError('vlan_id', `only physical segments have a VLAN (mode is ${doc.mode})`);
  },
  async cascade(ctx, doc) {
    const users = [
      ...(await ctx.find('networks', { segment_uuid: doc.uuid })),
      ...(await ctx.find('interfaces', { segment_uuid: doc.uuid })),
      ...(await ctx.find('mac_leases', { segment_uuid: doc.uuid })),
    ];
    if (users.length > 0)
      throw new DeleteRestrictionError(
        doc.uuid,
        users.map((u) => u.uuid),
      );
    for (const r of await ctx.find('datapath_segments', { segment_uuid: doc.uuid }))
      await ctx.remove('datapath_segments', r.uuid);
  },
});

const filters = define(D.filters);

const securityGroups = define(D.securityGroups, {
  async cascade(ctx, doc) {
    const referencing = (await ctx.find('security_groups')).filter(
      (g) =>
        g.uuid !== doc.uuid &&
        (g.rules as { remote_group_uuid: string | null }[]).some((r) => r.remote_group_uuid === doc.uuid),
    );
    if (referencing.length > 0)
      throw new DeleteRestrictionError(
        doc.uuid,
        referencing.map((g) => `${g.uuid} (rule remote_group_uuid)`),
      );
    // Membership goes with the group (documented cascade); interfaces are re-announced without it.
    for (const i of await ctx.find('interfaces')) {
      const sgs = i.security_group_uuids as string[];
      if (sgs.includes(doc.uuid))
        await ctx.update('interfaces', { ...i, security_group_uuids: sgs.filter((s) => s !== doc.uuid) });
    }
  },
});

const ipRangeGroups = define(D.ipRangeGroups, {
  cascade: (ctx, doc) => forgetInPolicies(ctx, 'ip_range_group_uuid', doc.uuid),
});

const macRangeGroups = define(D.macRangeGroups);

const dnsServices = define(D.dnsServices, {
  async check(ctx, p, doc) {
    if (doc) return; // the network service is fixed at create
    const ns = await ctx.must('network_services', p.network_service_uuid as string, 'network_service_uuid');
    if (ns.mode !== 'dns') throw new InvalidID('network_service_uuid', `${ns.uuid} is not a dns network service`);
    const dup = await ctx.findOne('dns_services', { network_service_uuid: ns.uuid });
    if (dup) throw new DuplicateValue('network_service_uuid', ns.uuid, dup.uuid);
  },
});

/** The rules of one kind (other dialects write through them: src/server/neutron). */
export function resourceDef(kind: string): ResourceDef {
  const def = RESOURCES.find((d) => d.kind === kind);
  if (!def) throw new Error(`no resource ${kind}`);
  return def;
}

export const RESOURCES: readonly ResourceDef[] = [
  inTopologies(datapaths, 'datapath_uuid'),
  inTopologies(networks, 'network_uuid', 'networks'),
  subnets,
  inTopologies(interfaces, 'interface_uuid'),
  macLeases,
  ipLeases,
  networkServices,
  inTopologies(routeLinks, 'route_link_uuid', 'route_links'),
  routes,
  inTopologies(segments, 'segment_uuid', 'segments'),
  filters,
  securityGroups,
  translations,
  floatingIps,
  ipRangeGroups,
  inTopologies(macRangeGroups, 'mac_range_group_uuid'),
  dnsServices,
  topologies,
  leasePolicies,
  ipLeaseContainers,
  ipRetentionContainers,
];

/** Rejects PUT parameters naming immutable fields with a clear 400 (before the unknown-parameter check). */
export function rejectImmutable(
  def: Pick<ResourceDef, 'immutable'>,
  raw: Record<string, unknown>,
  pathUuid: string,
): void {
  for (const f of def.immutable) {
    if (!(f in raw)) continue;
    if (f === 'uuid' && raw[f] === pathUuid) {
      delete raw[f];
      continue;
    }
    throw new ImmutableField(f);
  }
}

export { cidr, freeIpIn, freeRandomMac, intToIp, ipToInt, MAX_CT_ZONE, MAX_TUNNEL_KEY, randomId };

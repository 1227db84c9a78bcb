// Neutron's requests as vnet writes: each create/update/delete goes through the same resource rules as the
// OpenVNet API (src/server/resources.ts: references, address checks, allocations, cascades), so one object is
// one object whichever dialect made it, and its change reaches agents through the same feed.
import { inSubnet } from '../../model/ipv4.js';
import { ruleProtocolNumber } from '../../model/resources/security-groups.js';
import { coerce, type Params } from '../../model/params.js';
import type { Doc } from '../../store/store.js';
import { addSubItem, removeSubItem, SUB_ITEMS } from '../relations.js';
import { freeIpIn, freeRandomMac, resourceDef } from '../resources.js';
import type { ReadContext, WriteContext } from '../write-context.js';
import type { Body, NeutronKind } from './dialect.js';
import { invalid, NeutronError, notFound } from './errors.js';
import {
  createFloating,
  createRouter,
  floatingView,
  ownedFloating,
  ownedRouter,
  removeRouter,
  routerView,
  updateFloating,
  updateRouter,
} from './routers.js';
import type { Caller, NeutronView } from './views.js';

const RULES = SUB_ITEMS.find((s) => s.parentKind === 'security_groups')!;

/** A Neutron feature vnet does not implement: refused, never stored and ignored. */
const unsupported = (attr: string, why: string) => invalid(attr, `not supported by vnet: ${why}`);

/** The project an object is made in: the caller's, or (admins) the one the request names. */
function projectFor(o: Body, caller: Caller): string {
  const p = (o.project_id ?? o.tenant_id) as string | undefined;
  if (o.project_id !== undefined && o.tenant_id !== undefined && o.project_id !== o.tenant_id)
    throw invalid('tenant_id', 'project_id and tenant_id differ');
  return p ?? caller.projectId;
}

/** Settings vnet cannot honour are refused rather than stored and ignored. */
function refuseUnsupported(o: Body): void {
  if (o.admin_state_up === false) throw unsupported('admin_state_up', 'every object is up');
  for (const k of ['allowed_address_pairs', 'extra_dhcp_opts', 'availability_zone_hints'])
    if (Array.isArray(o[k]) && (o[k] as unknown[]).length > 0) throw unsupported(k, 'give an empty list');
  if (o['binding:profile'] && Object.keys(o['binding:profile'] as object).length > 0)
    throw unsupported('binding:profile', 'give {}');
}

async function visibleNetwork(ctx: ReadContext, view: NeutronView, id: string): Promise<Doc> {
  const n = await ctx.get('networks', id);
  if (!n || !view.seesNetwork(n)) throw notFound('Network', id);
  return n;
}

/**
 * The network a new port or subnet goes on: the caller's own, or a shared one. Another project's external network
 * is seen but not attachable (a member would take addresses on the uplink): 404, as Neutron's
 * _validate_network_tenant_ownership answers.
 */
async function attachableNetwork(ctx: ReadContext, view: NeutronView, id: string): Promise<Doc> {
  const n = await visibleNetwork(ctx, view, id);
  if (!view.seesOwn(n) && n.shared !== true) throw notFound('Network', id);
  return n;
}

async function owned(
  ctx: ReadContext,
  view: NeutronView,
  kind: 'subnets' | 'interfaces' | 'security_groups',
  id: string,
  type: string,
) {
  const d = await ctx.get(kind, id);
  if (!d || !view.seesOwn(d)) throw notFound(type, id);
  return d;
}

/** The network of a port: its address's, or the one it names without an address. */
async function portNetwork(ctx: ReadContext, i: Doc): Promise<string | null> {
  const lease = await ctx.findOne('ip_leases', { interface_uuid: i.uuid });
  return ((lease?.network_uuid ?? i.network_uuid) as string | null) ?? null;
}

/** The security group a rule is in (rules live inside their group). */
async function groupOfRule(ctx: ReadContext, view: NeutronView, ruleId: string): Promise<{ group: Doc; rule: Doc }> {
  for (const g of await ctx.find('security_groups')) {
    const rule = (g.rules as Doc[]).find((r) => r.uuid === ruleId);
    if (rule && view.seesOwn(g)) return { group: g, rule };
  }
  throw notFound('SecurityGroupRule', ruleId);
}

/** Every project has a `default` group on first use: all egress, ingress only from its own members. */
export async function defaultGroup(ctx: WriteContext, project: string): Promise<Doc> {
  const mine = await ctx.find('security_groups', { project_id: project });
  const found = mine.find((g) => g.display_name === 'default');
  if (found) return found;
  const g = await resourceDef('security_groups').create(ctx, {
    display_name: 'default',
    description: 'Default security group',
    project_id: project,
  });
  await addSubItem(ctx, RULES, g.uuid, { direction: 'egress', protocol: 'any' });
  await addSubItem(ctx, RULES, g.uuid, { direction: 'ingress', protocol: 'any', remote_group_uuid: g.uuid });
  return (await ctx.get('security_groups', g.uuid))!;
}

// ---------- reads ----------

export async function listOf(view: NeutronView, ctx: ReadContext, kind: NeutronKind): Promise<Body[]> {
  switch (kind) {
    case 'networks':
      return (await ctx.find('networks')).filter((n) => view.seesNetwork(n)).map((n) => view.network(n));
    case 'subnets': {
      const out: Body[] = [];
      for (const s of await ctx.find('subnets')) {
        const n = await ctx.get('networks', s.network_uuid as string);
        if (view.seesSubnet(s, n)) out.push(view.subnet(s, n));
      }
      return out;
    }
    case 'ports': {
      const out: Body[] = [];
      for (const i of await ctx.find('interfaces')) if (view.seesOwn(i)) out.push(await view.port(i));
      return out;
    }
    case 'security_groups':
      return (await ctx.find('security_groups')).filter((g) => view.seesOwn(g)).map((g) => view.securityGroup(g));
    case 'security_group_rules':
      return (await ctx.find('security_groups'))
        .filter((g) => view.seesOwn(g))
        .flatMap((g) => (g.rules as Doc[]).map((r) => view.rule(g, r)));
    case 'routers': {
      const out: Body[] = [];
      // Route links made through the OpenVNet API are routers too (admins see them).
      for (const rl of await ctx.find('route_links')) if (view.seesOwn(rl)) out.push(await routerView(ctx, rl));
      return out;
    }
    case 'floatingips': {
      const out: Body[] = [];
      for (const f of await ctx.find('floating_ips')) if (view.seesOwn(f)) out.push(await floatingView(ctx, f));
      return out;
    }
  }
}

export async function showOf(view: NeutronView, ctx: ReadContext, kind: NeutronKind, id: string): Promise<Body> {
  switch (kind) {
    case 'networks':
      return view.network(await visibleNetwork(ctx, view, id));
    case 'subnets': {
      const s = await ctx.get('subnets', id);
      const n = s ? await ctx.get('networks', s.network_uuid as string) : undefined;
      if (!s || !view.seesSubnet(s, n)) throw notFound('Subnet', id);
      return view.subnet(s, n);
    }
    case 'ports':
      return view.port(await owned(ctx, view, 'interfaces', id, 'Port'));
    case 'security_groups':
      return view.securityGroup(await owned(ctx, view, 'security_groups', id, 'SecurityGroup'));
    case 'security_group_rules': {
      const { group, rule } = await groupOfRule(ctx, view, id);
      return view.rule(group, rule);
    }
    case 'routers':
      return routerView(ctx, await ownedRouter(ctx, view, id));
    case 'floatingips':
      return floatingView(ctx, await ownedFloating(ctx, view, id));
  }
}

// ---------- writes: each returns the uuid of the object to show ----------

function networkParams(o: Body): Params {
  const p: Params = {};
  if (o.name !== undefined) p.display_name = o.name as string;
  if (o.description !== undefined) p.description = o.description as string;
  if (o.shared !== undefined) p.shared = o.shared as boolean;
  if (o['router:external'] !== undefined) p.external = o['router:external'] as boolean;
  if (o.mtu !== undefined) p.mtu = o.mtu as number | null;
  if (o.port_security_enabled === false)
    throw unsupported('port_security_enabled', 'a network cannot turn port security off; set it per port');
  return p;
}

async function createNetwork(ctx: WriteContext, caller: Caller, o: Body): Promise<string> {
  refuseUnsupported(o);
  const type = o['provider:network_type'] as string | null | undefined;
  const seg = o['provider:segmentation_id'] as number | null | undefined;
  if (o['provider:physical_network'] != null)
    throw unsupported(
      'provider:physical_network',
      "a physical network reaches each host's uplink through that host's datapath row (vnctl datapaths networks add DP NW --interface-uuid UPLINK)",
    );
  // An external network is how routers reach the world: on the hosts' uplinks (flat unless a VLAN is given).
  const physical = type === 'flat' || type === 'vlan' || (type == null && o['router:external'] === true);
  if (type === 'vlan' && (seg == null || seg < 1 || seg > 4094))
    throw invalid('provider:segmentation_id', 'a vlan network needs a VLAN id 1-4094');
  if (type !== 'vlan' && seg != null)
    throw invalid('provider:segmentation_id', 'vnet allocates tunnel keys itself; only a vlan network takes one');
  const doc = await resourceDef('networks').create(ctx, {
    ...networkParams(o),
    project_id: projectFor(o, caller),
    network_mode: physical ? 'physical' : 'virtual',
    vlan_id: type === 'vlan' ? (seg as number) : null,
  });
  return doc.uuid;
}

/** Neutron's CIDR "a.b.c.d/n" as vnet's address and prefix (host bits refused, as vnet does). */
function splitCidr(cidr: string): { net: string; prefix: number } {
  const [net, len] = cidr.split('/');
  const prefix = Number(len);
  if (prefix > 30) throw invalid('cidr', `${cidr} leaves no room for a gateway and hosts (vnet needs /30 or larger)`);
  return { net: net!, prefix };
}

function poolsOf(o: Body): { start: string; end: string }[] | undefined {
  if (o.allocation_pools === undefined) return undefined;
  return (o.allocation_pools as Body[]).map((p, i) => {
    if (typeof p?.start !== 'string' || typeof p?.end !== 'string')
      throw invalid('allocation_pools', `entry ${i} needs start and end`);
    return { start: p.start, end: p.end };
  });
}

/**
 * A subnet's network settings (Neutron keeps them on the subnet, vnet on the network it addresses): dns_nameservers
 * and host_routes, checked as the network's own parameters (a bad route is a 400 naming its entry).
 */
async function updateSubnetNetwork(ctx: WriteContext, networkUuid: string, o: Body): Promise<void> {
  const def = resourceDef('networks');
  const p: Params = {};
  if (o.dns_nameservers !== undefined) p.dns_servers = (o.dns_nameservers as string[]).join(',') || null;
  if (o.host_routes !== undefined) {
    const spec = def.updateParams.find((s) => s.name === 'host_routes')!;
    p.host_routes = coerce(spec, o.host_routes);
  }
  if (Object.keys(p).length > 0) await def.update(ctx, await ctx.must('networks', networkUuid), p);
}

/** DNS servers and host routes are the network's, so its first subnet's: a further subnet has none. */
function refuseOnFurtherSubnet(o: Body, network: string): void {
  for (const k of ['dns_nameservers', 'host_routes'])
    if (Array.isArray(o[k]) && (o[k] as unknown[]).length > 0)
      throw unsupported(
        k,
        `only the first subnet of network ${network} carries DNS servers and host routes in vnet (they are the network's)`,
      );
}

async function createSubnet(ctx: WriteContext, view: NeutronView, o: Body): Promise<string> {
  refuseUnsupported(o);
  if (o.ip_version !== 4) throw unsupported('ip_version', 'IPv4 only');
  for (const k of ['subnetpool_id', 'ipv6_ra_mode', 'ipv6_address_mode'])
    if (o[k] != null) throw unsupported(k, 'IPv4 subnets with a given CIDR only');
  const network = await attachableNetwork(ctx, view, o.network_id as string);
  if (!view.seesOwn(network))
    throw new NeutronError(403, 'PolicyNotAuthorized', `network ${network.uuid} is another project's`);
  // A further subnet adds a prefix to the network's L2 (docs/neutron.md): the network keeps its first subnet's DNS
  // servers and host routes, so a further one takes none.
  if (view.subnetOf(network.uuid)) refuseOnFurtherSubnet(o, network.uuid);
  const { net, prefix } = splitCidr(o.cidr as string);
  const overlap = view
    .subnetsOf(network.uuid)
    .find((s) => inSubnet(net, s.ipv4_network as string, Math.min(prefix, s.ipv4_prefix as number)));
  if (overlap)
    throw invalid(
      'cidr',
      `Requested subnet with cidr: ${o.cidr as string} for network: ${network.uuid} overlaps with another subnet (${overlap.uuid})`,
    );
  const p = {
    network_uuid: network.uuid,
    ipv4_network: net,
    ipv4_prefix: prefix,
    display_name: (o.name as string | undefined) ?? '',
    description: (o.description as string | undefined) ?? '',
    project_id: projectFor(o, view.caller),
    ...(o.gateway_ip !== undefined ? { gateway_ipv4_address: o.gateway_ip as string | null } : {}),
    ...(o.enable_dhcp !== undefined ? { enable_dhcp: o.enable_dhcp as boolean } : {}),
    ...(o.allocation_pools !== undefined ? { allocation_pools: poolsOf(o) } : {}),
  };
  const uuid = (await resourceDef('subnets').create(ctx, p as unknown as Params)).uuid;
  // After the subnet: the network has its address then, which the routes' next hops must be in.
  await updateSubnetNetwork(ctx, network.uuid, o);
  return uuid;
}

/** A port's security: vnet filters a port's traffic by its groups when port security is on. */
async function portGroups(ctx: WriteContext, view: NeutronView, o: Body, project: string, enabled: boolean) {
  const given = o.security_groups as string[] | undefined;
  if (!enabled) {
    if (given && given.length > 0)
      throw new NeutronError(
        400,
        'PortSecurityAndIPRequiredForSecurityGroups',
        'Port security must be enabled and port must have an IP address in order to use security groups.',
      );
    return [];
  }
  if (given === undefined) return [(await defaultGroup(ctx, project)).uuid];
  for (const id of given) await owned(ctx, view, 'security_groups', id, 'SecurityGroup');
  return [...new Set(given)];
}

/** binding:host_id names a host; vnet's host is a datapath with that node_id. */
async function datapathOfHost(ctx: ReadContext, host: unknown): Promise<string | null> {
  if (host === undefined || host === null || host === '') return null;
  const dp = await ctx.findOne('datapaths', { node_id: host as string });
  if (!dp) throw invalid('binding:host_id', `no datapath has node_id ${String(host)}`);
  return dp.uuid;
}

/**
 * Neutron's max_fixed_ips_per_port default: each address is a few flows on every host of the network (anti-spoofing,
 * ARP answer, neighbour), so a port does not take a whole pool.
 */
const MAX_FIXED_IPS = 5;

/**
 * The addresses a port asks for, in order (its first is the one DHCP offers): one per `fixed_ips` entry — the given
 * `ip_address` (inside the entry's `subnet_id` when both are given), else one the port already holds in that subnet
 * (a PUT keeps what it can), else a free one of the subnet (the network's first when none is named). No
 * `fixed_ips`: one free address of the network's first subnet, when it has one.
 */
async function fixedIps(
  ctx: WriteContext,
  network: Doc,
  view: NeutronView,
  o: Body,
  held: string[] = [],
): Promise<string[]> {
  const first = view.subnetOf(network.uuid);
  const fixed = o.fixed_ips as Body[] | undefined;
  if (fixed === undefined) return first ? [await freeIpIn(ctx, first, 'fixed_ips')] : [];
  if (fixed.length === 0) return [];
  if (fixed.length > MAX_FIXED_IPS)
    throw invalid('fixed_ips', `Exceeded maximum amount of fixed ips per port (${MAX_FIXED_IPS}).`);
  if (!first) throw invalid('fixed_ips', `network ${network.uuid} has no subnet`);
  const subnets = view.subnetsOf(network.uuid);
  const named = fixed.map((f) => f.ip_address).filter((ip): ip is string => typeof ip === 'string');
  const out: string[] = [];
  for (const [n, want] of fixed.entries()) {
    const subnet = want.subnet_id === undefined ? undefined : subnets.find((s) => s.uuid === want.subnet_id);
    if (want.subnet_id !== undefined && !subnet)
      throw invalid(`fixed_ips[${n}].subnet_id`, `subnet ${String(want.subnet_id)} is not on network ${network.uuid}`);
    const ip = want.ip_address;
    if (typeof ip === 'string') {
      if (out.includes(ip)) throw invalid(`fixed_ips[${n}].ip_address`, `${ip} is given twice`);
      if (subnet && view.subnetHolding(network.uuid, ip)?.uuid !== subnet.uuid)
        throw invalid(`fixed_ips[${n}].ip_address`, `${ip} is not in subnet ${subnet.uuid}`);
      out.push(ip);
      continue;
    }
    const from = subnet ?? first;
    const kept = held.find(
      (h) => !out.includes(h) && !named.includes(h) && view.subnetHolding(network.uuid, h)?.uuid === from.uuid,
    );
    out.push(kept ?? (await freeIpIn(ctx, from, 'fixed_ips', [...out, ...named])));
  }
  return out;
}

/** A further address of a port: an IP lease on its (first) MAC lease, as OpenVNet holds several per interface. */
async function addAddress(ctx: WriteContext, iface: string, network: Doc, ip: string): Promise<void> {
  const ml = await ctx.findOne('mac_leases', { interface_uuid: iface });
  await resourceDef('ip_leases').create(ctx, {
    network_uuid: network.uuid,
    ipv4_address: ip,
    mac_lease_uuid: ml?.uuid ?? null,
  });
}

async function createPort(ctx: WriteContext, view: NeutronView, o: Body): Promise<string> {
  // A port's admin state is served: down, it is not bound (no flows, status DOWN).
  refuseUnsupported({ ...o, admin_state_up: undefined });
  const network = await attachableNetwork(ctx, view, o.network_id as string);
  // Neutron's policy: a port's MAC is chosen by an admin or the network's owner.
  if (o.mac_address !== undefined && !view.seesOwn(network))
    throw new NeutronError(403, 'PolicyNotAuthorized', '(rule:create_port:mac_address) is disallowed by policy');
  const project = projectFor(o, view.caller);
  const security = o.port_security_enabled !== false;
  const [ip, ...more] = await fixedIps(ctx, network, view, o);
  const iface = await resourceDef('interfaces').create(ctx, {
    network_uuid: network.uuid,
    ...(ip ? { ipv4_address: ip } : {}),
    mac_address: (o.mac_address as string | undefined) ?? (await freeRandomMac(ctx, 'mac_leases')),
    display_name: (o.name as string | undefined) ?? '',
    description: (o.description as string | undefined) ?? '',
    project_id: project,
    device_owner: (o.device_owner as string | undefined) ?? '',
    device_id: (o.device_id as string | undefined) ?? '',
    enable_filtering: security,
    admin_state_up: o.admin_state_up !== false,
    owner_datapath_uuid: await datapathOfHost(ctx, o['binding:host_id']),
  });
  for (const extra of more) await addAddress(ctx, iface.uuid, network, extra);
  iface.security_group_uuids = await portGroups(ctx, view, o, project, security);
  await ctx.update('interfaces', iface);
  return iface.uuid;
}

async function updatePort(ctx: WriteContext, view: NeutronView, id: string, o: Body): Promise<void> {
  refuseUnsupported({ ...o, admin_state_up: undefined });
  const iface = await owned(ctx, view, 'interfaces', id, 'Port');
  const p: Params = {};
  if (o.name !== undefined) p.display_name = o.name as string;
  for (const k of ['description', 'device_owner', 'device_id'] as const) if (o[k] !== undefined) p[k] = o[k] as string;
  if (o.mac_address !== undefined) p.mac_address = o.mac_address as string;
  if (o['binding:host_id'] !== undefined) p.owner_datapath_uuid = await datapathOfHost(ctx, o['binding:host_id']);
  if (o.port_security_enabled !== undefined) p.enable_filtering = o.port_security_enabled as boolean;
  if (o.admin_state_up !== undefined) p.admin_state_up = o.admin_state_up as boolean;
  // fixed_ips is the whole new list: addresses not in it go, missing ones are added, the rest stay as they are.
  let added: string[] = [];
  let network: Doc | undefined;
  if (o.fixed_ips !== undefined) {
    // A router's port is its one address on the subnet (the route's interface, the subnet's gateway): Neutron
    // refuses a second IPv4 address on it, in these words.
    const owner = iface.device_owner as string;
    if (
      (owner === 'network:router_interface' || owner === 'network:router_gateway') &&
      (o.fixed_ips as unknown[]).length > 1
    )
      throw new NeutronError(
        400,
        'BadRequest',
        'Bad router request: Cannot have multiple IPv4 subnets on router port.',
      );
    network = await ctx.must('networks', (await portNetwork(ctx, iface)) ?? '');
    const held = await ctx.find('ip_leases', { interface_uuid: iface.uuid });
    const wanted = await fixedIps(
      ctx,
      network,
      view,
      o,
      held.map((l) => l.ipv4_address as string),
    );
    added = wanted.filter((ip) => !held.some((l) => l.ipv4_address === ip));
    // A lease that goes takes a new address in place while there are new ones (its floating IP follows it, as a
    // port's one address changed by PUT always did); the rest go.
    for (const l of held.filter((h) => !wanted.includes(h.ipv4_address as string))) {
      const ip = added.shift();
      if (ip) await resourceDef('ip_leases').update(ctx, l, { ipv4_address: ip });
      else await resourceDef('ip_leases').remove(ctx, l);
    }
    // The first address goes through the interface (it then leaves its own network_uuid to the lease); without
    // any, the port stays on its network (vnet holds that as the interface's network_uuid).
    if (wanted.length === 0) {
      p.ipv4_address = null;
      p.network_uuid = network.uuid;
    } else if (held.length === 0) {
      p.ipv4_address = added.shift()!;
      p.network_uuid = network.uuid;
    }
  }
  const updated = await resourceDef('interfaces').update(ctx, iface, p);
  for (const ip of added) await addAddress(ctx, iface.uuid, network!, ip);
  if (o.security_groups !== undefined || o.port_security_enabled !== undefined) {
    const enabled = updated.enable_filtering === true;
    const groups = o.security_groups === undefined && enabled ? updated.security_group_uuids : undefined;
    updated.security_group_uuids =
      groups ??
      (await portGroups(ctx, view, o, (updated.project_id as string | null) ?? view.caller.projectId, enabled));
    await ctx.update('interfaces', updated);
  }
}

/** The rule's protocol as vnet keeps it: tcp, udp, icmp, any, or a protocol number as given (Neutron reads it back). */
function ruleProtocol(v: unknown): string {
  if (v === null || v === undefined || v === 'any') return 'any';
  const given = String(v);
  if (/^\d+$/.test(given) || ['tcp', 'udp', 'icmp'].includes(given)) return given;
  throw unsupported('protocol', `${given} (tcp, udp, icmp, a protocol number 0-255 or any)`);
}

/** The name Neutron's port checks go by: a protocol number of tcp, udp or icmp counts as that protocol. */
function portRules(protocol: string): string {
  return { 1: 'icmp', 6: 'tcp', 17: 'udp' }[ruleProtocolNumber(protocol) ?? -1] ?? protocol;
}

/** Neutron's checks of a rule's ports (ICMP: type and code), with its messages: clients and Tempest match them. */
function checkRulePorts(protocol: string, min: number | null | undefined, max: number | null | undefined): void {
  for (const v of [min, max])
    if (v != null && (v < 0 || v > 65535))
      throw new NeutronError(400, 'SecurityGroupInvalidPortValue', `Invalid value for port ${v}.`);
  if (protocol === 'tcp' || protocol === 'udp') {
    if (min === 0 || max === 0)
      throw new NeutronError(400, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0.');
    // vnet's own leniency stays: a minimum alone is that one port.
    if ((min == null && max != null) || (min != null && max != null && min > max))
      throw new NeutronError(
        400,
        'SecurityGroupInvalidPortRange',
        'For TCP/UDP protocols, port_range_min must be <= port_range_max',
      );
  }
  if (protocol === 'icmp') {
    for (const [v, field, attr] of [
      [min, 'type', 'port-range-min'],
      [max, 'code', 'port-range-max'],
    ] as const)
      if (v != null && v > 255)
        throw new NeutronError(
          400,
          'SecurityGroupInvalidIcmpValue',
          `Invalid value for ICMP ${field} (${attr}) ${v}. It must be 0 to 255.`,
        );
    if (min == null && max != null)
      throw new NeutronError(
        400,
        'SecurityGroupMissingIcmpType',
        `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
      );
  }
}

async function createRule(ctx: WriteContext, view: NeutronView, o: Body): Promise<string> {
  if (o.ethertype !== undefined && String(o.ethertype).toLowerCase() !== 'ipv4')
    throw unsupported('ethertype', 'IPv4 only');
  if (o.remote_address_group_id != null) throw unsupported('remote_address_group_id', 'no address groups');
  if (o.remote_ip_prefix != null && o.remote_group_id != null)
    throw invalid('remote_ip_prefix', 'give remote_ip_prefix or remote_group_id, not both');
  const group = await owned(ctx, view, 'security_groups', o.security_group_id as string, 'SecurityGroup');
  const protocol = ruleProtocol(o.protocol);
  const ports = o.port_range_min != null || o.port_range_max != null;
  const checked = portRules(protocol);
  checkRulePorts(checked, o.port_range_min as number | null | undefined, o.port_range_max as number | null | undefined);
  if (ports && !['tcp', 'udp', 'icmp'].includes(checked))
    throw invalid('port_range_min', 'ports need protocol tcp or udp (or icmp: type and code)');
  if (o.remote_group_id != null)
    await owned(ctx, view, 'security_groups', o.remote_group_id as string, 'SecurityGroup');
  const p: Params = { direction: o.direction as string, protocol };
  if (o.port_range_min != null) p.port_range_min = o.port_range_min as number;
  if (o.port_range_max != null) p.port_range_max = o.port_range_max as number;
  if (o.remote_ip_prefix != null) p.remote_ip_prefix = o.remote_ip_prefix as string;
  if (o.remote_group_id != null) p.remote_group_uuid = o.remote_group_id as string;
  try {
    return (await addSubItem(ctx, RULES, group.uuid, p)).uuid;
  } catch (e) {
    const m = /already used by (\S+)/.exec((e as Error).message);
    if ((e as { name?: string }).name === 'DuplicateValue' && m)
      throw new NeutronError(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${m[1]}.`);
    throw e;
  }
}

export async function createOf(ctx: WriteContext, view: NeutronView, kind: NeutronKind, o: Body): Promise<string> {
  switch (kind) {
    case 'networks':
      return createNetwork(ctx, view.caller, o);
    case 'subnets':
      return createSubnet(ctx, view, o);
    case 'ports':
      return createPort(ctx, view, o);
    case 'security_groups': {
      if (o.stateful === false) throw unsupported('stateful', 'groups are stateful');
      const project = projectFor(o, view.caller);
      if (
        o.name === 'default' &&
        (await ctx.find('security_groups', { project_id: project })).some((g) => g.display_name === 'default')
      )
        throw new NeutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      await defaultGroup(ctx, project);
      const g = await resourceDef('security_groups').create(ctx, {
        display_name: (o.name as string | undefined) ?? '',
        description: (o.description as string | undefined) ?? '',
        project_id: project,
      });
      await addSubItem(ctx, RULES, g.uuid, { direction: 'egress', protocol: 'any' });
      return g.uuid;
    }
    case 'security_group_rules':
      return createRule(ctx, view, o);
    case 'routers':
      // A router's admin state is served (its routes' flags, routers.ts); the other settings are not.
      refuseUnsupported({ ...o, admin_state_up: undefined });
      return createRouter(ctx, view, o, projectFor(o, view.caller));
    case 'floatingips':
      return createFloating(ctx, view, o, projectFor(o, view.caller));
  }
}

export async function updateOf(ctx: WriteContext, view: NeutronView, kind: NeutronKind, id: string, o: Body) {
  switch (kind) {
    case 'networks': {
      refuseUnsupported(o);
      const n = await visibleNetwork(ctx, view, id);
      if (!view.seesOwn(n)) throw new NeutronError(403, 'PolicyNotAuthorized', `network ${id} is another project's`);
      await resourceDef('networks').update(ctx, n, networkParams(o));
      return;
    }
    case 'subnets': {
      refuseUnsupported(o);
      const s = await owned(ctx, view, 'subnets', id, 'Subnet');
      if (view.subnetOf(s.network_uuid as string)?.uuid !== s.uuid) refuseOnFurtherSubnet(o, s.network_uuid as string);
      await updateSubnetNetwork(ctx, s.network_uuid as string, o);
      const p: Params = {};
      if (o.name !== undefined) p.display_name = o.name as string;
      if (o.description !== undefined) p.description = o.description as string;
      if (o.gateway_ip !== undefined) p.gateway_ipv4_address = o.gateway_ip as string | null;
      if (o.enable_dhcp !== undefined) p.enable_dhcp = o.enable_dhcp as boolean;
      await resourceDef('subnets').update(ctx, s, p);
      return;
    }
    case 'ports':
      return updatePort(ctx, view, id, o);
    case 'security_groups': {
      if (o.stateful === false) throw unsupported('stateful', 'groups are stateful');
      const g = await owned(ctx, view, 'security_groups', id, 'SecurityGroup');
      // A project has one default group: none becomes it by a rename, and it keeps its name.
      const isDefault = g.display_name === 'default' && g.project_id !== null;
      if (o.name === 'default' && !isDefault)
        throw new NeutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      if (o.name !== undefined && o.name !== 'default' && isDefault)
        throw new NeutronError(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      const p: Params = {};
      if (o.name !== undefined) p.display_name = o.name as string;
      if (o.description !== undefined) p.description = o.description as string;
      await resourceDef('security_groups').update(ctx, g, p);
      return;
    }
    case 'security_group_rules':
      throw new NeutronError(405, 'HTTPMethodNotAllowed', 'security group rules cannot be updated');
    case 'routers':
      refuseUnsupported({ ...o, admin_state_up: undefined });
      return updateRouter(ctx, view, id, o);
    case 'floatingips':
      return updateFloating(ctx, view, id, o);
  }
}

export async function removeOf(ctx: WriteContext, view: NeutronView, kind: NeutronKind, id: string): Promise<void> {
  switch (kind) {
    case 'networks': {
      const n = await visibleNetwork(ctx, view, id);
      if (!view.seesOwn(n)) throw new NeutronError(403, 'PolicyNotAuthorized', `network ${id} is another project's`);
      // Ports other than the network's own (its DHCP port) keep it (Neutron's NetworkInUse), and so do floating IPs
      // of it (Neutron's network:floatingip ports): a delete would take other projects' addresses with it.
      const holders = new Set([
        ...(await ctx.find('ip_leases', { network_uuid: n.uuid })).map((l) => l.interface_uuid as string | null),
        ...(await ctx.find('interfaces', { network_uuid: n.uuid })).map((i) => i.uuid),
      ]);
      const users: Doc[] = await ctx.find('floating_ips', { network_uuid: n.uuid });
      for (const uuid of holders) {
        const i = uuid ? await ctx.get('interfaces', uuid) : undefined;
        if (i && i.device_owner !== 'network:dhcp') users.push(i);
      }
      if (users.length > 0)
        throw new NeutronError(
          409,
          'NetworkInUse',
          `Unable to complete operation on network ${id}. There are one or more ports still in use on the network: ${users.map((u) => u.uuid).join(', ')}.`,
        );
      await resourceDef('networks').remove(ctx, n);
      return;
    }
    case 'subnets':
      return resourceDef('subnets').remove(ctx, await owned(ctx, view, 'subnets', id, 'Subnet'));
    case 'ports': {
      const iface = await owned(ctx, view, 'interfaces', id, 'Port');
      // A router's ports go with its interfaces and gateway, not through the port API (Neutron's L3PortInUse).
      const owner = iface.device_owner as string;
      if (
        (owner === 'network:router_interface' || owner === 'network:router_gateway') &&
        (await ctx.get('route_links', iface.device_id as string))
      )
        throw new NeutronError(
          409,
          'L3PortInUse',
          `Port ${id} has owner ${owner} and therefore cannot be deleted directly via the port API.`,
        );
      return resourceDef('interfaces').remove(ctx, iface);
    }
    case 'security_groups': {
      const g = await owned(ctx, view, 'security_groups', id, 'SecurityGroup');
      if (g.display_name === 'default' && g.project_id !== null && !view.caller.admin)
        throw new NeutronError(
          409,
          'SecurityGroupCannotRemoveDefault',
          'Insufficient rights for removing default security group.',
        );
      const users = (await ctx.find('interfaces')).filter((i) => (i.security_group_uuids as string[]).includes(g.uuid));
      if (users.length > 0)
        throw new NeutronError(
          409,
          'SecurityGroupInUse',
          `Security Group ${id} in use by ${users.map((u) => u.uuid).join(', ')}.`,
        );
      return resourceDef('security_groups').remove(ctx, g);
    }
    case 'security_group_rules': {
      const { group } = await groupOfRule(ctx, view, id);
      return removeSubItem(ctx, RULES, group.uuid, id);
    }
    case 'routers':
      return removeRouter(ctx, view, id);
    case 'floatingips':
      return resourceDef('floating_ips').remove(ctx, await ownedFloating(ctx, view, id));
  }
}

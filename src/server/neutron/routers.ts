// Neutron's routers and floating IPs in vnet's terms. A router is a route link; each of its interfaces is a
// routing simulated interface on a network (device_owner network:router_interface, device_id = the router) with
// a route over the link; its external gateway is such an interface on an external (physical) network with the
// routes out (the external subnet, and the default route through that subnet's gateway) and, with enable_snat,
// a snat translation. A floating IP is vnet's floating_ips resource, whose association is a static_address
// translation of the port (docs/north-south.md).
import { inSubnet } from '../../model/ipv4.js';
import type { Params } from '../../model/params.js';
import { prefixHolding } from '../../model/resources/subnets.js';
import type { Doc } from '../../store/store.js';
import { freeIpIn, freeRandomMac, resourceDef } from '../resources.js';
import { prefixesOf } from '../resources/leases.js';
import type { ReadContext, WriteContext } from '../write-context.js';
import type { Body } from './dialect.js';
import { invalid, NeutronError, notFound } from './errors.js';
import { type NeutronView, projectOf, stamp } from './views.js';

const ROUTER_INTERFACE = 'network:router_interface';
const ROUTER_GATEWAY = 'network:router_gateway';
const badRequest = (message: string) => new NeutronError(400, 'BadRequest', message);

async function portsOf(ctx: ReadContext, router: string, owner: string): Promise<Doc[]> {
  return (await ctx.find('interfaces', { device_id: router })).filter((i) => i.device_owner === owner);
}

async function firstLease(ctx: ReadContext, iface: string): Promise<Doc | undefined> {
  return ctx.findOne('ip_leases', { interface_uuid: iface });
}

/** The subnet holding a port's (first) address: a network's subnets are told apart by address. */
async function subnetOfPort(ctx: ReadContext, iface: Doc): Promise<Doc | undefined> {
  const lease = await firstLease(ctx, iface.uuid);
  if (!lease) return undefined;
  const network = await ctx.get('networks', lease.network_uuid as string);
  if (!network) return undefined;
  return prefixHolding(await prefixesOf(ctx, network), lease.ipv4_address as string)?.subnet as Doc | undefined;
}

/** A router that is down routes nothing: its routes carry neither entering nor leaving traffic. */
const routeState = (rl: Doc) => ({ ingress: rl.admin_state_up !== false, egress: rl.admin_state_up !== false });

/** The router's admin state onto every route over its link (the agents honour the routes' flags). */
async function setAdminState(ctx: WriteContext, rl: Doc, up: boolean | undefined): Promise<void> {
  if (up === undefined) return;
  for (const r of await ctx.find('routes', { route_link_uuid: rl.uuid }))
    if (r.ingress !== up || r.egress !== up) await resourceDef('routes').update(ctx, r, { ingress: up, egress: up });
}

export async function ownedRouter(ctx: ReadContext, view: NeutronView, id: string): Promise<Doc> {
  const rl = await ctx.get('route_links', id);
  if (!rl || !view.seesOwn(rl)) throw notFound('Router', id);
  return rl;
}

export async function routerView(ctx: ReadContext, rl: Doc): Promise<Body> {
  const project = projectOf(rl);
  const gw = (await portsOf(ctx, rl.uuid, ROUTER_GATEWAY))[0];
  let gateway: Body | null = null;
  if (gw) {
    const lease = await firstLease(ctx, gw.uuid);
    const network = (lease?.network_uuid ?? gw.network_uuid) as string;
    const subnet = await ctx.findOne('subnets', { network_uuid: network });
    const snat = (await ctx.find('translations', { interface_uuid: gw.uuid })).some((t) => t.mode === 'snat');
    gateway = {
      network_id: network,
      enable_snat: snat,
      external_fixed_ips: lease ? [{ subnet_id: subnet?.uuid ?? null, ip_address: lease.ipv4_address }] : [],
    };
  }
  return {
    id: rl.uuid,
    name: rl.display_name ?? '',
    description: rl.description ?? '',
    project_id: project,
    tenant_id: project,
    admin_state_up: rl.admin_state_up !== false,
    status: rl.admin_state_up === false ? 'DOWN' : 'ACTIVE',
    external_gateway_info: gateway,
    routes: [],
    distributed: true,
    ha: false,
    flavor_id: null,
    availability_zones: [],
    availability_zone_hints: [],
    tags: [],
    created_at: stamp(rl.created_at),
    updated_at: stamp(rl.updated_at),
    revision_number: 0,
  };
}

/** The router's gateway as asked: set (network, snat, fixed IP), or cleared by `{}` / null. */
async function setGateway(ctx: WriteContext, rl: Doc, info: Body | null | undefined): Promise<void> {
  if (info === undefined) return;
  const current = (await portsOf(ctx, rl.uuid, ROUTER_GATEWAY))[0];
  const wanted = info && typeof info.network_id === 'string' ? info : null;
  if (info && Object.keys(info).length > 0 && !wanted) throw invalid('external_gateway_info', 'network_id is required');
  const snat = wanted?.enable_snat !== false;
  const fixed = (wanted?.external_fixed_ips as Body[] | undefined)?.[0];
  if (current && wanted) {
    // Same network and address: only the snat setting may change.
    const lease = await firstLease(ctx, current.uuid);
    const sameIp = !fixed?.ip_address || fixed.ip_address === lease?.ipv4_address;
    if (lease?.network_uuid === wanted.network_id && sameIp) {
      const tr = (await ctx.find('translations', { interface_uuid: current.uuid })).find((t) => t.mode === 'snat');
      if (snat && !tr) await resourceDef('translations').create(ctx, { interface_uuid: current.uuid, mode: 'snat' });
      if (!snat && tr) await resourceDef('translations').remove(ctx, tr);
      return;
    }
  }
  if (current) {
    // Floating IPs reached through this gateway keep it on its network (Neutron's 409).
    const net = ((await firstLease(ctx, current.uuid))?.network_uuid ?? current.network_uuid) as string;
    if (wanted?.network_id !== net && (await floatingIpsThrough(ctx, rl.uuid, net)).length > 0)
      throw new NeutronError(
        409,
        'RouterExternalGatewayInUseByFloatingIp',
        `Gateway cannot be updated for router ${rl.uuid}, since a gateway to external network ${net} is required by one or more floating IPs.`,
      );
    await resourceDef('interfaces').remove(ctx, current);
  }
  if (!wanted) return;
  const network = await ctx.get('networks', wanted.network_id as string);
  if (!network) throw notFound('Network', String(wanted.network_id));
  if (network.external !== true)
    throw badRequest(`Network ${String(wanted.network_id)} is not a valid external network.`);
  const subnet = await ctx.findOne('subnets', { network_uuid: network.uuid });
  if (!subnet) throw badRequest(`Network ${network.uuid} has no subnet to take the gateway's address from.`);
  const ip =
    typeof fixed?.ip_address === 'string' ? fixed.ip_address : await freeIpIn(ctx, subnet, 'external_gateway_info');
  const iface = await resourceDef('interfaces').create(ctx, {
    mode: 'simulated',
    enable_routing: true,
    network_uuid: network.uuid,
    ipv4_address: ip,
    mac_address: await freeRandomMac(ctx, 'mac_leases'),
    device_owner: ROUTER_GATEWAY,
    device_id: rl.uuid,
    project_id: rl.project_id as string | null,
  });
  const route = (ipv4_network: string, ipv4_prefix: number, hop: string | null) =>
    resourceDef('routes').create(ctx, {
      interface_uuid: iface.uuid,
      route_link_uuid: rl.uuid,
      network_uuid: network.uuid,
      ipv4_network,
      ipv4_prefix,
      gateway_ipv4_address: hop,
      ...routeState(rl),
    });
  await route(subnet.ipv4_network as string, subnet.ipv4_prefix as number, null);
  // The world is beyond the external subnet's gateway (the upstream router, registered as a mode=remote interface).
  if (subnet.gateway_ipv4_address) await route('0.0.0.0', 0, subnet.gateway_ipv4_address as string);
  if (snat) await resourceDef('translations').create(ctx, { interface_uuid: iface.uuid, mode: 'snat' });
}

/** Neutron's policy: only an admin picks the gateway's address (a member could take the upstream router's). */
function checkGatewayPolicy(view: NeutronView, info: unknown, op: 'create' | 'update'): void {
  const fixed = (info as Body | null | undefined)?.external_fixed_ips;
  if (!view.caller.admin && Array.isArray(fixed) && fixed.length > 0)
    throw new NeutronError(
      403,
      'PolicyNotAuthorized',
      `(rule:${op}_router:external_gateway_info:external_fixed_ips) is disallowed by policy`,
    );
}

export async function createRouter(ctx: WriteContext, view: NeutronView, o: Body, project: string): Promise<string> {
  checkGatewayPolicy(view, o.external_gateway_info, 'create');
  const rl = await resourceDef('route_links').create(ctx, {
    display_name: (o.name as string | undefined) ?? '',
    description: (o.description as string | undefined) ?? '',
    project_id: project,
    admin_state_up: o.admin_state_up !== false,
  });
  await setGateway(ctx, rl, o.external_gateway_info as Body | null | undefined);
  return rl.uuid;
}

export async function updateRouter(ctx: WriteContext, view: NeutronView, id: string, o: Body): Promise<void> {
  const rl = await ownedRouter(ctx, view, id);
  checkGatewayPolicy(view, o.external_gateway_info, 'update');
  const p: Params = {};
  if (o.name !== undefined) p.display_name = o.name as string;
  if (o.description !== undefined) p.description = o.description as string;
  if (o.admin_state_up !== undefined) p.admin_state_up = o.admin_state_up as boolean;
  const updated = await resourceDef('route_links').update(ctx, rl, p);
  await setGateway(ctx, updated, o.external_gateway_info as Body | null | undefined);
  await setAdminState(ctx, updated, o.admin_state_up as boolean | undefined);
}

export async function removeRouter(ctx: WriteContext, view: NeutronView, id: string): Promise<void> {
  const rl = await ownedRouter(ctx, view, id);
  const inside = await portsOf(ctx, rl.uuid, ROUTER_INTERFACE);
  if (inside.length > 0)
    throw new NeutronError(409, 'RouterInUse', `Router ${id} still has ports: ${inside.map((i) => i.uuid).join(', ')}`);
  for (const gw of await portsOf(ctx, rl.uuid, ROUTER_GATEWAY)) await resourceDef('interfaces').remove(ctx, gw);
  await resourceDef('route_links').remove(ctx, rl);
}

/** PUT /routers/:id/add_router_interface: by subnet (a new port at its gateway_ip) or by an existing port. */
export async function addRouterInterface(ctx: WriteContext, view: NeutronView, id: string, body: Body): Promise<Body> {
  const rl = await ownedRouter(ctx, view, id);
  if ((body.subnet_id === undefined) === (body.port_id === undefined))
    throw badRequest('Bad router request: give subnet_id or port_id, not both or neither.');
  let iface: Doc;
  let subnet: Doc | undefined;
  if (typeof body.subnet_id === 'string') {
    subnet = await ctx.get('subnets', body.subnet_id);
    if (!subnet || !view.seesOwn(subnet)) throw notFound('Subnet', body.subnet_id);
    if (!subnet.gateway_ipv4_address) throw badRequest(`Bad router request: Subnet ${subnet.uuid} has no gateway IP.`);
    // One port per subnet (a network with several subnets takes one on each, as Neutron does).
    for (const i of await portsOf(ctx, rl.uuid, ROUTER_INTERFACE))
      if ((await subnetOfPort(ctx, i))?.uuid === subnet.uuid)
        throw badRequest(`Bad router request: Router already has a port on subnet ${subnet.uuid}.`);
    // Two networks behind one router with overlapping addresses: which one a packet goes to would be an accident.
    for (const r of await ctx.find('routes', { route_link_uuid: rl.uuid })) {
      const net = r.ipv4_network as string;
      const len = r.ipv4_prefix as number;
      const shortest = Math.min(len, subnet.ipv4_prefix as number);
      if (len > 0 && inSubnet(net, subnet.ipv4_network as string, shortest))
        throw badRequest(
          `Bad router request: Cidr ${subnet.ipv4_network}/${subnet.ipv4_prefix} of subnet ${subnet.uuid} overlaps with cidr ${net}/${len} routed by ${rl.uuid}.`,
        );
    }
    iface = await resourceDef('interfaces').create(ctx, {
      mode: 'simulated',
      enable_routing: true,
      network_uuid: subnet.network_uuid as string,
      ipv4_address: subnet.gateway_ipv4_address as string,
      mac_address: await freeRandomMac(ctx, 'mac_leases'),
      device_owner: ROUTER_INTERFACE,
      device_id: rl.uuid,
      project_id: rl.project_id as string | null,
    });
  } else {
    const port = await ctx.get('interfaces', String(body.port_id));
    if (!port || !view.seesOwn(port)) throw notFound('Port', String(body.port_id));
    if (port.device_owner === ROUTER_INTERFACE || port.device_owner === ROUTER_GATEWAY || port.device_id)
      throw new NeutronError(
        409,
        'PortInUse',
        `Port ${port.uuid} is in use by ${String(port.device_id) || 'a device'}.`,
      );
    const lease = await firstLease(ctx, port.uuid);
    if (!lease) throw badRequest(`Bad router request: Router port ${port.uuid} must have at least one fixed IP.`);
    // The router is one address on the network (its route's interface): a second one would be leased and unused.
    if ((await ctx.find('ip_leases', { interface_uuid: port.uuid })).length > 1)
      throw badRequest('Bad router request: Cannot have multiple IPv4 subnets on router port.');
    subnet = await subnetOfPort(ctx, port);
    iface = await resourceDef('interfaces').update(ctx, port, {
      mode: 'simulated',
      enable_routing: true,
      enable_filtering: false,
      device_owner: ROUTER_INTERFACE,
      device_id: rl.uuid,
    });
    iface.security_group_uuids = [];
    await ctx.update('interfaces', iface);
  }
  const network = (await firstLease(ctx, iface.uuid))!.network_uuid as string;
  // The route leads to the port's own prefix: a network with two subnets is two routes, one per router port.
  const net = subnet ?? (await ctx.must('networks', network));
  await resourceDef('routes').create(ctx, {
    interface_uuid: iface.uuid,
    route_link_uuid: rl.uuid,
    network_uuid: network,
    ipv4_network: net.ipv4_network as string,
    ipv4_prefix: net.ipv4_prefix as number,
    ...routeState(rl),
  });
  return interfaceInfo(rl, iface, network, subnet);
}

function interfaceInfo(rl: Doc, iface: Doc, network: string, subnet: Doc | undefined): Body {
  const project = projectOf(rl);
  return {
    id: rl.uuid,
    subnet_id: subnet?.uuid ?? null,
    subnet_ids: subnet ? [subnet.uuid] : [],
    port_id: iface.uuid,
    network_id: network,
    project_id: project,
    tenant_id: project,
    tags: [],
  };
}

/** PUT /routers/:id/remove_router_interface: the router's port on that subnet (or that port) goes. */
export async function removeRouterInterface(
  ctx: WriteContext,
  view: NeutronView,
  id: string,
  body: Body,
): Promise<Body> {
  const rl = await ownedRouter(ctx, view, id);
  if (body.subnet_id === undefined && body.port_id === undefined)
    throw badRequest('Bad router request: give subnet_id or port_id.');
  for (const iface of await portsOf(ctx, rl.uuid, ROUTER_INTERFACE)) {
    const lease = await firstLease(ctx, iface.uuid);
    const network = (lease?.network_uuid ?? iface.network_uuid) as string;
    const subnet = await subnetOfPort(ctx, iface);
    if (body.port_id !== undefined && body.port_id !== iface.uuid) continue;
    if (body.subnet_id !== undefined && body.subnet_id !== subnet?.uuid) {
      if (body.port_id !== undefined)
        throw new NeutronError(
          409,
          'SubnetMismatchForPort',
          `Subnet ${String(body.subnet_id)} is not the subnet of port ${iface.uuid}.`,
        );
      continue;
    }
    const gw = (await portsOf(ctx, rl.uuid, ROUTER_GATEWAY))[0];
    const gwNetwork = gw ? ((await firstLease(ctx, gw.uuid))?.network_uuid as string | undefined) : undefined;
    if (gwNetwork && (await floatingIpsThrough(ctx, rl.uuid, gwNetwork, network)).length > 0)
      throw new NeutronError(
        409,
        'RouterInterfaceInUseByFloatingIP',
        `Router interface for subnet ${subnet?.uuid ?? network} on router ${rl.uuid} cannot be deleted, as it is required by one or more floating IPs.`,
      );
    await resourceDef('interfaces').remove(ctx, iface);
    return interfaceInfo(rl, iface, network, subnet);
  }
  throw new NeutronError(
    404,
    'RouterInterfaceNotFound',
    `Router ${id} has no interface ${body.port_id !== undefined ? `with port ${String(body.port_id)}` : `on subnet ${String(body.subnet_id)}`}.`,
  );
}

// ---------- floating IPs ----------

/** The router that makes an association work: gatewayed on the floating network, with an interface on the port's. */
async function routerFor(ctx: ReadContext, fipNetwork: string, portNetwork: string | null): Promise<string | null> {
  if (!portNetwork) return null;
  for (const inside of (await ctx.find('interfaces', { device_owner: ROUTER_INTERFACE })).filter((i) => i.device_id)) {
    const lease = await firstLease(ctx, inside.uuid);
    if ((lease?.network_uuid ?? inside.network_uuid) !== portNetwork) continue;
    for (const gw of await portsOf(ctx, inside.device_id as string, ROUTER_GATEWAY))
      if ((await firstLease(ctx, gw.uuid))?.network_uuid === fipNetwork) return inside.device_id as string;
  }
  return null;
}

/** The associated floating IPs of `fipNetwork` whose router (router_id) is this one; only ports on `portNetwork`. */
async function floatingIpsThrough(
  ctx: ReadContext,
  router: string,
  fipNetwork: string,
  portNetwork?: string,
): Promise<Doc[]> {
  const out: Doc[] = [];
  for (const f of await ctx.find('floating_ips', { network_uuid: fipNetwork })) {
    if (!f.interface_uuid) continue;
    const net = ((await firstLease(ctx, f.interface_uuid as string))?.network_uuid as string | undefined) ?? null;
    if (portNetwork !== undefined && net !== portNetwork) continue;
    if ((await routerFor(ctx, fipNetwork, net)) === router) out.push(f);
  }
  return out;
}

export async function floatingView(ctx: ReadContext, f: Doc): Promise<Body> {
  const project = projectOf(f);
  const port = f.interface_uuid as string | null;
  const lease = port ? await firstLease(ctx, port) : undefined;
  const subnet = await ctx.findOne('subnets', { network_uuid: f.network_uuid as string });
  return {
    id: f.uuid,
    description: f.description ?? '',
    project_id: project,
    tenant_id: project,
    floating_network_id: f.network_uuid,
    floating_ip_address: f.ipv4_address,
    subnet_id: subnet?.uuid ?? null,
    port_id: port,
    fixed_ip_address: f.fixed_ipv4_address,
    router_id: port ? await routerFor(ctx, f.network_uuid as string, (lease?.network_uuid as string) ?? null) : null,
    status: port ? 'ACTIVE' : 'DOWN',
    port_details: null,
    dns_domain: '',
    dns_name: '',
    port_forwardings: [],
    tags: [],
    created_at: stamp(f.created_at),
    updated_at: stamp(f.updated_at),
    revision_number: 0,
  };
}

/** A port may be associated only when a router joins its network to the floating network (Neutron's rule). */
async function checkAssociable(
  ctx: WriteContext,
  view: NeutronView,
  fipNetwork: string,
  portId: unknown,
): Promise<void> {
  if (portId === null || portId === undefined) return;
  const port = await ctx.get('interfaces', String(portId));
  if (!port || !view.seesOwn(port)) throw notFound('Port', String(portId));
  const lease = await firstLease(ctx, port.uuid);
  if (!(await routerFor(ctx, fipNetwork, (lease?.network_uuid as string) ?? null)))
    throw new NeutronError(
      404,
      'ExternalGatewayForFloatingIPNotFound',
      `External network ${fipNetwork} is not reachable from subnet of port ${port.uuid}. Therefore, cannot associate Port ${port.uuid} with a Floating IP.`,
    );
}

export async function createFloating(ctx: WriteContext, view: NeutronView, o: Body, project: string): Promise<string> {
  const network = await ctx.get('networks', o.floating_network_id as string);
  if (!network || !view.seesNetwork(network)) throw notFound('Network', String(o.floating_network_id));
  if (network.external !== true)
    throw badRequest(`Bad floatingip request: Network ${network.uuid} is not a valid external network.`);
  if (o.subnet_id != null) {
    const subnet = await ctx.findOne('subnets', { network_uuid: network.uuid });
    if (subnet?.uuid !== o.subnet_id)
      throw badRequest(`Bad floatingip request: subnet ${String(o.subnet_id)} is not on ${network.uuid}.`);
  }
  await checkAssociable(ctx, view, network.uuid, o.port_id);
  const f = await resourceDef('floating_ips').create(ctx, {
    network_uuid: network.uuid,
    description: (o.description as string | undefined) ?? '',
    project_id: project,
    ...(o.floating_ip_address ? { ipv4_address: o.floating_ip_address as string } : {}),
    ...(o.port_id ? { interface_uuid: o.port_id as string } : {}),
    ...(o.fixed_ip_address ? { fixed_ipv4_address: o.fixed_ip_address as string } : {}),
  });
  return f.uuid;
}

export async function ownedFloating(ctx: ReadContext, view: NeutronView, id: string): Promise<Doc> {
  const f = await ctx.get('floating_ips', id);
  if (!f || !view.seesOwn(f)) throw notFound('FloatingIP', id);
  return f;
}

export async function updateFloating(ctx: WriteContext, view: NeutronView, id: string, o: Body): Promise<void> {
  const f = await ownedFloating(ctx, view, id);
  // As Neutron's API reference says: an update without port_id disassociates.
  const port = o.port_id === undefined ? null : (o.port_id as string | null);
  await checkAssociable(ctx, view, f.network_uuid as string, port);
  const p: Params = { interface_uuid: port, fixed_ipv4_address: (o.fixed_ip_address as string | undefined) ?? null };
  if (o.description !== undefined) p.description = o.description as string;
  await resourceDef('floating_ips').update(ctx, f, p);
}

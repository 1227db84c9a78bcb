// Networks and subnets (Neutron's addressing of a network: gateway, allocation pools, the DHCP port): a subnet
// makes and drops its DHCP port through the interface rules, and a network's delete takes its floating IPs.
import { ArgumentError, DeleteRestrictionError, DuplicateValue, NotSupported } from '../../model/errors.js';
import { inSubnet, intToIp, ipToInt, isAligned, isNetworkOrBroadcast } from '../../model/ipv4.js';
import * as D from '../../model/resources/index.js';
import { UUID_PREFIX } from '../../model/types.js';
import type { Doc } from '../../store/store.js';
import { applyUpdate, define, newDoc, type ResourceDef } from '../documents.js';
import type { WriteContext } from '../write-context.js';
import { floatingIps } from './floating-ips.js';
import { interfaces, networkServices } from './interfaces.js';
import {
  allocate,
  freeIpIn,
  freeRandomMac,
  has,
  MAX_CT_ZONE,
  MAX_TUNNEL_KEY,
  type Pool,
  forgetInPolicies,
  removeIpLease,
} from './leases.js';

const P = UUID_PREFIX;

/** A destination must be a network address: no host bits below its prefix. */
/**
 * One VLAN carries one network or physical segment: two on one tag would be one broadcast domain on the uplink.
 * `self` is the object being written (its own tag is no clash).
 */
export async function checkVlanFree(ctx: WriteContext, vlan: unknown, self: string | undefined): Promise<void> {
  if (typeof vlan !== 'number') return;
  for (const kind of ['networks', 'segments'] as const) {
    const dup = (await ctx.find(kind, { vlan_id: vlan })).find((o) => o.uuid !== self);
    if (dup) throw new DuplicateValue('vlan_id', String(vlan), dup.uuid);
  }
}

export function checkAligned(doc: Doc): void {
  const net = doc.ipv4_network as string | null;
  if (net === null) return; // a Neutron network before its subnet
  const prefix = doc.ipv4_prefix as number;
  if (!isAligned(net, prefix)) throw new ArgumentError('ipv4_network', `${net} has host bits set for prefix ${prefix}`);
}

/**
 * A host route's next hop must be a host address of the network: a client installs a route only through a
 * neighbour it can reach on its link (Linux refuses the rest: "Nexthop has invalid gateway").
 */
export function checkHostRoutes(doc: Doc): void {
  const routes = (doc.host_routes as { destination: string; nexthop: string }[] | undefined) ?? [];
  if (routes.length === 0) return;
  const net = doc.ipv4_network as string | null;
  const prefix = doc.ipv4_prefix as number;
  if (net === null) throw new ArgumentError('host_routes', 'the network has no address yet (make its subnet first)');
  for (const [i, r] of routes.entries())
    if (!inSubnet(r.nexthop, net, prefix) || isNetworkOrBroadcast(r.nexthop, net, prefix))
      throw new ArgumentError(
        `host_routes[${i}].nexthop`,
        `${r.nexthop} (route to ${r.destination}) is not a host address of ${net}/${prefix}`,
      );
}

export const networks = define(D.networks, {
  async computed(ctx) {
    return {
      tunnel_key: await allocate(ctx, 'tunnel_key', MAX_TUNNEL_KEY),
      ct_zone: await allocate(ctx, 'ct_zone', MAX_CT_ZONE),
    };
  },
  async check(ctx, p, doc) {
    // OpenVNet layered a network's L2 on a segment (one broadcast domain for both); vnet does not, so it refuses
    // the field rather than store it to be ignored.
    if (typeof p.segment_uuid === 'string')
      throw new NotSupported(
        'segment_uuid',
        'a network on a segment is not supported: a segment carries interfaces with segment_uuid and no network',
      );
    await checkVlanFree(ctx, p.vlan_id ?? doc?.vlan_id, doc?.uuid);
  },
  validate(doc) {
    checkAligned(doc);
    checkHostRoutes(doc);
    if (doc.vlan_id !== null && doc.network_mode !== 'physical')
      throw new ArgumentError('vlan_id', `only physical networks have a VLAN (network_mode is ${doc.network_mode})`);
  },
  async cascade(ctx, doc) {
    // Cascade as OpenVNet did: per-host rows, routes and IP leases of the network go with it.
    for (const fip of await ctx.find('floating_ips', { network_uuid: doc.uuid })) await floatingIps.remove(ctx, fip);
    for (const sn of await ctx.find('subnets', { network_uuid: doc.uuid })) {
      await dropDhcpPort(ctx, sn);
      await ctx.remove('subnets', sn.uuid);
    }
    for (const r of await ctx.find('datapath_networks', { network_uuid: doc.uuid }))
      await ctx.remove('datapath_networks', r.uuid);
    for (const r of await ctx.find('routes', { network_uuid: doc.uuid })) await ctx.remove('routes', r.uuid);
    for (const l of await ctx.find('ip_leases', { network_uuid: doc.uuid })) await removeIpLease(ctx, l);
    await forgetInPolicies(ctx, 'network_uuid', doc.uuid);
    for (const i of await ctx.find('interfaces', { network_uuid: doc.uuid }))
      await ctx.update('interfaces', { ...i, network_uuid: null });
  },
});

// ---------- subnets (Neutron's addressing of a network) ----------

/** Every host address of the subnet but the gateway, as one or two ranges (Neutron's default pools). */
function defaultPools(net: string, prefix: number, gateway: string | null): Pool[] {
  const first = ipToInt(net) + 1;
  const last = ipToInt(net) + 2 ** (32 - prefix) - 2;
  const gw = gateway === null ? -1 : ipToInt(gateway);
  const ranges: [number, number][] =
    gw < first || gw > last
      ? [[first, last]]
      : [
          [first, gw - 1],
          [gw + 1, last],
        ];
  return ranges.filter(([a, b]) => a <= b).map(([a, b]) => ({ start: intToIp(a), end: intToIp(b) }));
}

/** The gateway must be a host address of the subnet. */
function checkGateway(doc: Doc): void {
  const gw = doc.gateway_ipv4_address as string | null;
  if (gw === null) return;
  const net = doc.ipv4_network as string;
  const prefix = doc.ipv4_prefix as number;
  if (!inSubnet(gw, net, prefix) || isNetworkOrBroadcast(gw, net, prefix))
    throw new ArgumentError('gateway_ipv4_address', `${gw} is not a host address of ${net}/${prefix}`);
}

/** Given pools (Neutron's rules): ranges of host addresses of the subnet, each in order, none overlapping another. */
function checkPools(doc: Doc): void {
  const net = doc.ipv4_network as string;
  const prefix = doc.ipv4_prefix as number;
  const pools = doc.allocation_pools as Pool[];
  for (const [i, p] of pools.entries()) {
    const range = `${p.start}-${p.end}`;
    for (const ip of [p.start, p.end])
      if (!inSubnet(ip, net, prefix) || isNetworkOrBroadcast(ip, net, prefix))
        throw new ArgumentError('allocation_pools', `${range}: ${ip} is not a host address of ${net}/${prefix}`);
    if (ipToInt(p.start) > ipToInt(p.end))
      throw new ArgumentError('allocation_pools', `${range} ends before it starts`);
    const other = pools
      .slice(0, i)
      .find((q) => ipToInt(q.start) <= ipToInt(p.end) && ipToInt(p.start) <= ipToInt(q.end));
    if (other) throw new DuplicateValue('allocation_pools', range, `pool ${other.start}-${other.end}`);
  }
}

/** The gateway stays out of the pools, or ports would be handed the router's address (Neutron's 409). */
function checkGatewayOutsidePools(doc: Doc, field: 'allocation_pools' | 'gateway_ipv4_address'): void {
  const gw = doc.gateway_ipv4_address as string | null;
  if (gw === null) return;
  const g = ipToInt(gw);
  const pool = (doc.allocation_pools as Pool[]).find((p) => ipToInt(p.start) <= g && g <= ipToInt(p.end));
  if (!pool) return;
  if (field === 'allocation_pools')
    throw new DuplicateValue(field, `${pool.start}-${pool.end}`, `the gateway ${gw} (gateway_ipv4_address)`);
  throw new DuplicateValue(field, gw, `allocation pool ${pool.start}-${pool.end}`);
}

/** The network's DHCP port (a simulated interface with an address from the pools) and its dhcp service. */
async function makeDhcpPort(ctx: WriteContext, subnet: Doc): Promise<string> {
  const network = await ctx.must('networks', subnet.network_uuid as string);
  const iface = await interfaces.create(ctx, {
    mode: 'simulated',
    network_uuid: network.uuid,
    mac_address: await freeRandomMac(ctx, 'mac_leases'),
    ipv4_address: await freeIpIn(ctx, subnet, 'enable_dhcp'),
    display_name: `dhcp of ${subnet.uuid}`,
    device_owner: 'network:dhcp',
    device_id: `dhcp-${network.uuid}`,
    project_id: subnet.project_id as string | null,
  });
  await networkServices.create(ctx, { interface_uuid: iface.uuid, mode: 'dhcp', display_name: 'dhcp' });
  return iface.uuid;
}

async function dropDhcpPort(ctx: WriteContext, subnet: Doc): Promise<void> {
  const iface = subnet.dhcp_interface_uuid ? await ctx.get('interfaces', subnet.dhcp_interface_uuid as string) : null;
  if (iface) await interfaces.remove(ctx, iface);
  subnet.dhcp_interface_uuid = null;
}

export const subnets: ResourceDef = {
  ...define(D.subnets),
  async create(ctx, p) {
    const network = await ctx.must('networks', p.network_uuid as string, 'network_uuid');
    const net = p.ipv4_network as string;
    const prefix = p.ipv4_prefix as number;
    if (!isAligned(net, prefix))
      throw new ArgumentError('ipv4_network', `${net} has host bits set for prefix ${prefix}`);
    const others = await ctx.find('subnets', { network_uuid: network.uuid });
    if (others.length === 0) {
      // An OpenVNet network with its address already may take a subnet of that same address, and no other.
      if (network.ipv4_network !== null && (network.ipv4_network !== net || network.ipv4_prefix !== prefix))
        throw new ArgumentError(
          'ipv4_network',
          `${network.uuid} is ${network.ipv4_network}/${network.ipv4_prefix}, not ${net}/${prefix}`,
        );
    } else {
      // A further prefix on the same L2 network. Physical networks keep one: their gateway, floating IPs and the
      // uplink's ARP answers are per network address (docs/neutron.md, "Several subnets per network").
      if (network.network_mode !== 'virtual')
        throw new NotSupported(
          'network_uuid',
          `${network.uuid} is a ${String(network.network_mode)} network: only virtual networks take a second subnet`,
        );
      const overlap = others.find((o) =>
        inSubnet(net, o.ipv4_network as string, Math.min(prefix, o.ipv4_prefix as number)),
      );
      if (overlap)
        throw new ArgumentError(
          'ipv4_network',
          `${net}/${prefix} overlaps subnet ${overlap.uuid} (${overlap.ipv4_network}/${overlap.ipv4_prefix}) of ${network.uuid}`,
        );
    }
    const gateway =
      p.gateway_ipv4_address === undefined ? intToIp(ipToInt(net) + 1) : (p.gateway_ipv4_address as string | null);
    const doc = newDoc(D.subnets, p, {
      uuid: await ctx.newUuid('subnets', P.subnets, p.uuid),
      gateway_ipv4_address: gateway,
      allocation_pools: (p.allocation_pools as Pool[] | undefined) ?? defaultPools(net, prefix, gateway),
      dhcp_interface_uuid: null,
    });
    checkGateway(doc);
    if (p.allocation_pools !== undefined) {
      checkPools(doc);
      checkGatewayOutsidePools(doc, 'allocation_pools');
    }
    if (others.length === 0) await ctx.update('networks', { ...network, ipv4_network: net, ipv4_prefix: prefix });
    await ctx.insert('subnets', doc);
    if (doc.enable_dhcp) {
      doc.dhcp_interface_uuid = await makeDhcpPort(ctx, doc);
      await ctx.update('subnets', doc);
    }
    return doc;
  },
  async update(ctx, doc, p) {
    const hadDhcp = doc.enable_dhcp === true;
    applyUpdate(D.subnets, doc, p);
    checkGateway(doc);
    if (has(p, 'gateway_ipv4_address')) checkGatewayOutsidePools(doc, 'gateway_ipv4_address');
    if (doc.enable_dhcp && !hadDhcp) doc.dhcp_interface_uuid = await makeDhcpPort(ctx, doc);
    if (!doc.enable_dhcp && hadDhcp) await dropDhcpPort(ctx, doc);
    return ctx.update('subnets', doc);
  },
  async remove(ctx, doc) {
    // Addresses of it held by ports other than the subnet's own DHCP port, or by floating IPs, keep it (Neutron's
    // SubnetInUse: a floating IP's address is its hidden port's).
    const net = doc.ipv4_network as string;
    const prefix = doc.ipv4_prefix as number;
    const mine = (l: Doc) => inSubnet(l.ipv4_address as string, net, prefix);
    const held = (await ctx.find('ip_leases', { network_uuid: doc.network_uuid as string })).filter(
      (l) => l.interface_uuid !== doc.dhcp_interface_uuid && mine(l),
    );
    const floating = (await ctx.find('floating_ips', { network_uuid: doc.network_uuid as string })).filter(mine);
    if (held.length > 0 || floating.length > 0)
      throw new DeleteRestrictionError(doc.uuid, [
        ...held.map((l) => `${l.interface_uuid ?? l.uuid} (${l.ipv4_address})`),
        ...floating.map((f) => `${f.uuid} (${f.ipv4_address})`),
      ]);
    await dropDhcpPort(ctx, doc);
    await ctx.remove('subnets', doc.uuid);
    const network = await ctx.get('networks', doc.network_uuid as string);
    if (!network || network.ipv4_network !== net || network.ipv4_prefix !== prefix) return;
    // The network's own address goes: the next subnet becomes it, without the DNS servers and host routes that were
    // the removed subnet's (their next hops were in it).
    const next = await ctx.findOne('subnets', { network_uuid: network.uuid });
    await ctx.update('networks', {
      ...network,
      ipv4_network: (next?.ipv4_network as string | undefined) ?? null,
      ...(next ? { ipv4_prefix: next.ipv4_prefix, dns_servers: null } : {}),
      host_routes: [],
    });
  },
};

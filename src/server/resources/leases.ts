// The lease and address helpers the resource rules share: MAC and IP leases, free-address checks, allocation
// (MACs, pool addresses, tunnel keys, conntrack zones); it defines no resource, so every rule file may import it.
import { ArgumentError, DuplicateValue, InvalidID } from '../../model/errors.js';
import { intToIp, ipToInt, isNetworkOrBroadcast } from '../../model/ipv4.js';
import type { Params } from '../../model/params.js';
import { type NetworkPrefix, networkPrefixes, prefixHolding } from '../../model/resources/subnets.js';
import { UUID_PREFIX } from '../../model/types.js';
import type { Doc } from '../../store/store.js';
import type { ReadContext, WriteContext } from '../write-context.js';

const P = UUID_PREFIX;

export const has = (p: Params, k: string) => p[k] !== undefined;
/** Applies the given keys of `p` onto `doc`. */
export function assign(doc: Doc, p: Params, keys: string[]): void {
  for (const k of keys) if (has(p, k)) doc[k] = p[k];
}

export const MAX_TUNNEL_KEY = 0xffffff;
export const MAX_CT_ZONE = 0xffff;

/**
 * The lowest free value of `field`: a tunnel key, shared by networks and segments (both are the packet's key in
 * the pipeline and on the wire); a conntrack zone, shared by networks, segments and snat translations.
 */
export async function allocate(ctx: WriteContext, field: string, max: number): Promise<number> {
  const holders = [...(await ctx.find('networks')), ...(await ctx.find('segments'))];
  if (field === 'ct_zone') holders.push(...(await ctx.find('translations')));
  const used = new Set(holders.map((n) => n[field] as number));
  for (let v = 1; v <= max; v++) if (!used.has(v)) return v;
  throw new ArgumentError(field, 'no free value left');
}

export async function checkMacFree(ctx: WriteContext, macAddr: string, field: string, self?: string): Promise<void> {
  const other = await ctx.findOne('mac_leases', { mac_address: macAddr });
  if (other && other.uuid !== self) throw new DuplicateValue(field, macAddr, `${other.interface_uuid} (${other.uuid})`);
}

/**
 * The address must be a host address inside one of the network's subnets, not leased in that network yet and not a
 * floating IP of it (a floating IP holds its address without a lease, as Neutron's hidden network:floatingip port).
 */
export async function checkIpFree(
  ctx: WriteContext,
  network: Doc,
  ip: string,
  field: string,
  self?: string,
): Promise<void> {
  const prefixes = await prefixesOf(ctx, network);
  if (prefixes.length === 0)
    throw new ArgumentError(field, `${network.uuid} has no address yet: give it a subnet first`);
  const holder = prefixHolding(prefixes, ip);
  const all = prefixes.map((p) => `${p.ipv4_network}/${p.ipv4_prefix}`).join(', ');
  if (!holder) throw new ArgumentError(field, `${ip} is not inside ${network.uuid} (${all})`);
  if (isNetworkOrBroadcast(ip, holder.ipv4_network, holder.ipv4_prefix))
    throw new ArgumentError(
      field,
      `${ip} is the network or broadcast address of ${holder.ipv4_network}/${holder.ipv4_prefix}`,
    );
  const other = await ctx.findOne('ip_leases', { network_uuid: network.uuid, ipv4_address: ip });
  if (other && other.uuid !== self)
    throw new DuplicateValue(
      field,
      ip,
      `${other.interface_uuid ?? 'an unattached lease'} (${other.uuid}) in ${network.uuid}`,
    );
  const floating = await ctx.findOne('floating_ips', { network_uuid: network.uuid, ipv4_address: ip });
  if (floating) throw new DuplicateValue(field, ip, `floating IP ${floating.uuid} in ${network.uuid}`);
}

/** A network's prefixes (its own, then its further subnets'): model/resources/subnets.ts says which. */
export async function prefixesOf(ctx: ReadContext, network: Doc): Promise<NetworkPrefix[]> {
  const subnets = await ctx.find('subnets', { network_uuid: network.uuid });
  return networkPrefixes(
    network as unknown as Parameters<typeof networkPrefixes>[0],
    subnets as unknown as Parameters<typeof networkPrefixes>[1],
  );
}

/** A locally administered MAC no mac lease or route link uses. */
export async function freeRandomMac(ctx: WriteContext, kind: 'mac_leases' | 'route_links'): Promise<string> {
  for (;;) {
    const b = [0x02, ...Array.from({ length: 5 }, () => Math.floor(Math.random() * 256))];
    const m = b.map((x) => x.toString(16).padStart(2, '0')).join(':');
    if (!(await ctx.findOne(kind, { mac_address: m }))) return m;
  }
}

function macToNum(m: string): number {
  return Number.parseInt(m.replaceAll(':', ''), 16);
}
function numToMac(n: number): string {
  return n.toString(16).padStart(12, '0').match(/../g)!.join(':');
}

/** Allocates the first free MAC of a mac range group (OpenVNet's mac_range_group_uuid on interfaces). */
export async function macFromGroup(ctx: WriteContext, groupUuid: string): Promise<string> {
  const g = await ctx.must('mac_range_groups', groupUuid, 'mac_range_group_uuid');
  for (const r of g.mac_ranges as { begin_mac_address: string; end_mac_address: string }[]) {
    const end = macToNum(r.end_mac_address);
    // Bounded scan: a group with thousands of leases should use random allocation (not implemented yet).
    for (let n = macToNum(r.begin_mac_address), i = 0; n <= end && i < 65536; n++, i++) {
      const m = numToMac(n);
      if (!(await ctx.findOne('mac_leases', { mac_address: m }))) return m;
    }
  }
  throw new ArgumentError('mac_range_group_uuid', `${groupUuid} has no free MAC address`);
}

// ---------- leases (shared by interfaces, mac_leases, ip_leases) ----------

export async function createMacLease(
  ctx: WriteContext,
  ifaceUuid: string,
  macAddr: string,
  field: string,
  given?: unknown,
  segment: string | null = null,
) {
  await checkMacFree(ctx, macAddr, field);
  const doc: Doc = {
    uuid: await ctx.newUuid('mac_leases', P.mac_leases, given),
    interface_uuid: ifaceUuid,
    mac_address: macAddr,
    segment_uuid: segment,
  };
  await ctx.insert('mac_leases', doc);
  ctx.touch('interfaces', ifaceUuid);
  return doc;
}

export async function createIpLease(
  ctx: WriteContext,
  network: Doc,
  ip: string,
  field: string,
  owner: { interface_uuid: string | null; mac_lease_uuid: string | null },
  extra: { uuid?: unknown; enable_routing?: boolean } = {},
) {
  await checkIpFree(ctx, network, ip, field);
  const doc: Doc = {
    uuid: await ctx.newUuid('ip_leases', P.ip_leases, extra.uuid),
    network_uuid: network.uuid,
    ipv4_address: ip,
    interface_uuid: owner.interface_uuid,
    mac_lease_uuid: owner.mac_lease_uuid,
    enable_routing: extra.enable_routing ?? false,
  };
  await ctx.insert('ip_leases', doc);
  ctx.touch('interfaces', owner.interface_uuid);
  return doc;
}

export async function removeIpLease(ctx: WriteContext, lease: Doc) {
  await ctx.remove('ip_leases', lease.uuid);
  ctx.touch('interfaces', lease.interface_uuid as string | null);
  await forgetLease(ctx, lease.uuid);
}

// ---------- what lease policies keep about a lease (src/server/resources/lease-policies.ts) ----------

/** One lease an ip retention container times (declared in src/model/resources/lease-policies.ts). */
export type Retention = {
  ip_lease_uuid: string;
  interface_uuid: string | null;
  leased_at: string;
  released_at: string | null;
};

/**
 * A lease was attached to `iface` (a new lease term: leased_at restarts) or released from its interface
 * (`null`: grace_time starts, the interface is remembered so the address can go back to it).
 */
export async function markRetentions(ctx: WriteContext, leaseUuid: string, iface: string | null): Promise<void> {
  for (const c of await ctx.find('ip_retention_containers')) {
    const list = c.ip_retentions as Retention[];
    if (!list.some((r) => r.ip_lease_uuid === leaseUuid)) continue;
    const next = list.map((r) => {
      if (r.ip_lease_uuid !== leaseUuid) return r;
      if (iface === null) return { ...r, released_at: r.released_at ?? ctx.now };
      return { ...r, interface_uuid: iface, leased_at: ctx.now, released_at: null };
    });
    await ctx.update('ip_retention_containers', { ...c, ip_retentions: next });
  }
}

/**
 * A network, range group or interface that goes leaves the lease policies naming it (OpenVNet destroyed their
 * lease_policy_base_networks / _interfaces rows with it); the leases a policy handed out are deleted by their own rules.
 */
export async function forgetInPolicies(
  ctx: WriteContext,
  field: 'network_uuid' | 'ip_range_group_uuid' | 'interface_uuid',
  uuid: string,
): Promise<void> {
  const list = field === 'interface_uuid' ? 'interfaces' : 'networks';
  for (const lp of await ctx.find('lease_policies')) {
    const rows = lp[list] as Record<string, unknown>[];
    const keep = rows.filter((r) => r[field] !== uuid);
    if (keep.length !== rows.length) await ctx.update('lease_policies', { ...lp, [list]: keep });
  }
}

/** A deleted lease leaves the containers and lease policies that named it. */
async function forgetLease(ctx: WriteContext, leaseUuid: string): Promise<void> {
  for (const c of await ctx.find('ip_lease_containers')) {
    const list = c.ip_lease_uuids as string[];
    if (list.includes(leaseUuid))
      await ctx.update('ip_lease_containers', { ...c, ip_lease_uuids: list.filter((u) => u !== leaseUuid) });
  }
  for (const c of await ctx.find('ip_retention_containers')) {
    const list = c.ip_retentions as Retention[];
    if (list.some((r) => r.ip_lease_uuid === leaseUuid))
      await ctx.update('ip_retention_containers', {
        ...c,
        ip_retentions: list.filter((r) => r.ip_lease_uuid !== leaseUuid),
      });
  }
  for (const lp of await ctx.find('lease_policies')) {
    const list = lp.interfaces as { ip_lease_uuid: string | null }[];
    if (list.some((e) => e.ip_lease_uuid === leaseUuid))
      await ctx.update('lease_policies', {
        ...lp,
        interfaces: list.map((e) => (e.ip_lease_uuid === leaseUuid ? { ...e, ip_lease_uuid: null } : e)),
      });
  }
}

export async function removeMacLease(ctx: WriteContext, lease: Doc) {
  for (const l of await ctx.find('ip_leases', { mac_lease_uuid: lease.uuid })) await removeIpLease(ctx, l);
  await ctx.remove('mac_leases', lease.uuid);
  ctx.touch('interfaces', lease.interface_uuid as string);
}

/** Resolves interface/mac lease of an IP lease: mac_lease_uuid wins, else the interface's first MAC lease. */
export async function leaseOwner(ctx: WriteContext, p: Params) {
  if (has(p, 'mac_lease_uuid') && p.mac_lease_uuid !== null) {
    const ml = await ctx.must('mac_leases', p.mac_lease_uuid as string, 'mac_lease_uuid');
    if (has(p, 'interface_uuid') && p.interface_uuid !== null && p.interface_uuid !== ml.interface_uuid)
      throw new InvalidID('mac_lease_uuid', `${ml.uuid} belongs to ${ml.interface_uuid}, not ${p.interface_uuid}`);
    return { interface_uuid: ml.interface_uuid as string, mac_lease_uuid: ml.uuid };
  }
  if (has(p, 'interface_uuid') && p.interface_uuid !== null) {
    const iface = await ctx.must('interfaces', p.interface_uuid as string, 'interface_uuid');
    const ml = await ctx.findOne('mac_leases', { interface_uuid: iface.uuid });
    if (!ml) throw new ArgumentError('interface_uuid', `${iface.uuid} has no MAC lease to attach the IP lease to`);
    return { interface_uuid: iface.uuid, mac_lease_uuid: ml.uuid };
  }
  return { interface_uuid: null, mac_lease_uuid: null };
}

export type Pool = { start: string; end: string };

/** The first address of the subnet's pools no lease in its network holds (409-style error when none). */
export async function freeIpIn(ctx: WriteContext, subnet: Doc, field: string, held: string[] = []): Promise<string> {
  const used = new Set<unknown>([
    ...held,
    ...(await ctx.find('ip_leases', { network_uuid: subnet.network_uuid as string })).map((l) => l.ipv4_address),
    ...(await ctx.find('floating_ips', { network_uuid: subnet.network_uuid as string })).map((f) => f.ipv4_address),
  ]);
  for (const pool of subnet.allocation_pools as Pool[])
    for (let n = ipToInt(pool.start); n <= ipToInt(pool.end); n++) if (!used.has(intToIp(n))) return intToIp(n);
  throw new DuplicateValue(field, 'every address of the allocation pools', `the ports of ${subnet.network_uuid}`);
}

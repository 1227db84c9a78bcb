// Lease policies and their containers (OpenVNet's lease_policies, ip_lease_containers, ip_retention_containers):
// handing an interface an address from a policy's range group, the relations, and the retention sweep that
// releases leases after lease_time and deletes released ones after grace_time. The sweep reads only stored times,
// so any server (after a restart, or one of several on PostgreSQL) does the same thing, once.
import {
  ArgumentError,
  DuplicateValue,
  NotSupported,
  RelationAlreadyExists,
  UnknownResource,
} from '../../model/errors.js';
import { intToIp, ipToInt, isNetworkOrBroadcast } from '../../model/ipv4.js';
import * as D from '../../model/resources/index.js';
import type { Doc } from '../../store/store.js';
import { define } from '../documents.js';
import type { ReadContext, WriteContext } from '../write-context.js';
import { ipLeases } from './interfaces.js';
import { createIpLease, markRetentions, type Retention } from './leases.js';

type PolicyNetwork = { network_uuid: string; ip_range_group_uuid: string };
type PolicyInterface = { interface_uuid: string; label: string | null; ip_lease_uuid: string | null };

export const leasePolicies = define(D.leasePolicies, {
  validate(doc) {
    // OpenVNet refused to lease to an interface unless timing was immediate, and never leased at DHCP time.
    if (doc.timing === 'dhcp')
      throw new NotSupported('timing', 'leasing when the VM asks by DHCP is not supported; use immediate');
  },
});

/** Lease policies forget a container that goes (OpenVNet destroyed the relation rows with it). */
async function forgetContainer(
  ctx: WriteContext,
  field: 'ip_lease_container_uuids' | 'ip_retention_container_uuids',
  uuid: string,
) {
  for (const lp of await ctx.find('lease_policies')) {
    const list = lp[field] as string[];
    if (list.includes(uuid)) await ctx.update('lease_policies', { ...lp, [field]: list.filter((u) => u !== uuid) });
  }
}

export const ipLeaseContainers = define(D.ipLeaseContainers, {
  cascade: (ctx, doc) => forgetContainer(ctx, 'ip_lease_container_uuids', doc.uuid),
});

export const ipRetentionContainers = define(D.ipRetentionContainers, {
  cascade: (ctx, doc) => forgetContainer(ctx, 'ip_retention_container_uuids', doc.uuid),
});

// ---------- relations ----------

export async function addPolicyNetwork(ctx: WriteContext, lpUuid: string, nwUuid: string, rgUuid: string) {
  const lp = await ctx.must('lease_policies', lpUuid, 'uuid');
  await ctx.must('networks', nwUuid, 'network_uuid');
  await ctx.must('ip_range_groups', rgUuid, 'ip_range_group_uuid');
  const nws = lp.networks as PolicyNetwork[];
  if (nws.some((n) => n.network_uuid === nwUuid))
    throw new RelationAlreadyExists(`network_uuid: ${lpUuid} already has ${nwUuid}`, 'network_uuid');
  return ctx.update('lease_policies', {
    ...lp,
    networks: [...nws, { network_uuid: nwUuid, ip_range_group_uuid: rgUuid }],
  });
}

/** Removes the entry of `uuid` from one of the policy's lists (404 naming `field` when it is not there). */
export async function removeFromPolicy(
  ctx: WriteContext,
  lpUuid: string,
  list: 'networks' | 'interfaces' | 'ip_lease_container_uuids' | 'ip_retention_container_uuids',
  field: string,
  uuid: string,
) {
  const lp = await ctx.must('lease_policies', lpUuid, 'uuid');
  const items = lp[list] as (string | Record<string, unknown>)[];
  const keep = items.filter((i) => (typeof i === 'string' ? i : i[field]) !== uuid);
  if (keep.length === items.length) throw new UnknownResource(`${field}: ${lpUuid} has no ${uuid}`);
  return ctx.update('lease_policies', { ...lp, [list]: keep });
}

export async function addPolicyContainer(
  ctx: WriteContext,
  lpUuid: string,
  kind: 'ip_lease_containers' | 'ip_retention_containers',
  uuid: string,
) {
  const lp = await ctx.must('lease_policies', lpUuid, 'uuid');
  const field = kind === 'ip_lease_containers' ? 'ip_lease_container_uuid' : 'ip_retention_container_uuid';
  const container = await ctx.must(kind, uuid, field);
  const list = `${field}s` as 'ip_lease_container_uuids' | 'ip_retention_container_uuids';
  if ((lp[list] as string[]).includes(uuid))
    throw new RelationAlreadyExists(`${field}: ${lpUuid} <=> ${uuid} already exists`, field);
  await ctx.update('lease_policies', { ...lp, [list]: [...(lp[list] as string[]), uuid] });
  return container;
}

// ---------- allocation ----------

/**
 * A free address of the range group inside the network (OpenVNet's schedule): not leased, not a floating IP, not
 * the network or broadcast address; the lowest (incremental), highest (decremental) or any (random).
 */
async function addressFrom(ctx: WriteContext, network: Doc, group: Doc): Promise<string> {
  const net = network.ipv4_network as string | null;
  if (net === null)
    throw new ArgumentError('network_uuid', `${network.uuid} has no address yet: give it a subnet first`);
  const prefix = network.ipv4_prefix as number;
  const used = new Set<unknown>([
    ...(await ctx.find('ip_leases', { network_uuid: network.uuid })).map((l) => l.ipv4_address),
    ...(await ctx.find('floating_ips', { network_uuid: network.uuid })).map((f) => f.ipv4_address),
  ]);
  const first = ipToInt(net);
  const last = first + 2 ** (32 - prefix) - 1;
  const free: number[] = [];
  for (const r of group.ip_ranges as { begin_ipv4_address: string; end_ipv4_address: string }[]) {
    const from = Math.max(first, ipToInt(r.begin_ipv4_address));
    const to = Math.min(last, ipToInt(r.end_ipv4_address));
    // Bounded: a range group is scanned at most 65536 addresses a lease.
    for (let n = from; n <= to && free.length < 65_536; n++) {
      const ip = intToIp(n);
      if (!used.has(ip) && !isNetworkOrBroadcast(ip, net, prefix)) free.push(n);
    }
  }
  if (free.length === 0)
    throw new DuplicateValue(
      'ip_range_group_uuid',
      `every address of ${group.uuid} in ${network.uuid}`,
      'other leases',
    );
  const pick =
    group.allocation_type === 'decremental'
      ? Math.max(...free)
      : group.allocation_type === 'random'
        ? free[Math.floor(Math.random() * free.length)]!
        : Math.min(...free);
  return intToIp(pick);
}

/** Puts a lease the policy handed out into the policy's lease containers and retention containers. */
async function collect(ctx: WriteContext, lp: Doc, lease: Doc) {
  for (const uuid of lp.ip_lease_container_uuids as string[]) {
    const c = await ctx.get('ip_lease_containers', uuid);
    if (c && !(c.ip_lease_uuids as string[]).includes(lease.uuid))
      await ctx.update('ip_lease_containers', {
        ...c,
        ip_lease_uuids: [...(c.ip_lease_uuids as string[]), lease.uuid],
      });
  }
  for (const uuid of lp.ip_retention_container_uuids as string[]) {
    const c = await ctx.get('ip_retention_containers', uuid);
    if (!c) continue;
    const retention: Retention = {
      ip_lease_uuid: lease.uuid,
      interface_uuid: lease.interface_uuid as string | null,
      leased_at: ctx.now,
      released_at: null,
    };
    const rest = (c.ip_retentions as Retention[]).filter((r) => r.ip_lease_uuid !== lease.uuid);
    await ctx.update('ip_retention_containers', { ...c, ip_retentions: [...rest, retention] });
  }
}

/** A new lease from the policy's first network (OpenVNet's allocate_ip), attached to `owner` when given. */
export async function leaseFromPolicy(
  ctx: WriteContext,
  lpUuid: string,
  owner: { interface_uuid: string; mac_lease_uuid: string } | null,
  given: { ip_lease_uuid?: unknown } = {},
): Promise<Doc> {
  const lp = await ctx.must('lease_policies', lpUuid, 'uuid');
  const base = (lp.networks as PolicyNetwork[])[0];
  if (!base) throw new ArgumentError('network_uuid', `${lpUuid} has no network: add one (lease_policies networks add)`);
  const network = await ctx.must('networks', base.network_uuid, 'network_uuid');
  const group = await ctx.must('ip_range_groups', base.ip_range_group_uuid, 'ip_range_group_uuid');
  const ip = await addressFrom(ctx, network, group);
  const lease = await createIpLease(
    ctx,
    network,
    ip,
    'ip_range_group_uuid',
    owner ?? { interface_uuid: null, mac_lease_uuid: null },
    { uuid: given.ip_lease_uuid },
  );
  await collect(ctx, lp, lease);
  return lease;
}

/** A released lease this policy's retention containers still keep for `iface` (within its grace time). */
async function retainedFor(ctx: WriteContext, lp: Doc, iface: string): Promise<Doc | undefined> {
  for (const uuid of lp.ip_retention_container_uuids as string[]) {
    const c = await ctx.get('ip_retention_containers', uuid);
    for (const r of (c?.ip_retentions ?? []) as Retention[]) {
      if (r.interface_uuid !== iface || r.released_at === null) continue;
      const lease = await ctx.get('ip_leases', r.ip_lease_uuid);
      if (lease && lease.interface_uuid === null) return lease;
    }
  }
  return undefined;
}

/**
 * Adds an interface to a policy: it gets back the address the policy's retention containers keep for it (released,
 * within grace_time), else a new one from the policy's range group (OpenVNet's POST /lease_policies/:uuid/interfaces).
 */
export async function addPolicyInterface(ctx: WriteContext, lpUuid: string, ifUuid: string, label: string | null) {
  const lp = await ctx.must('lease_policies', lpUuid, 'uuid');
  const iface = await ctx.must('interfaces', ifUuid, 'interface_uuid');
  const entries = lp.interfaces as PolicyInterface[];
  if (entries.some((e) => e.interface_uuid === ifUuid))
    throw new RelationAlreadyExists(`interface_uuid: ${lpUuid} already has ${ifUuid}`, 'interface_uuid');
  const ml = await ctx.findOne('mac_leases', { interface_uuid: iface.uuid });
  if (!ml) throw new ArgumentError('interface_uuid', `${ifUuid} has no MAC address to lease an address to`);
  if (iface.segment_uuid) throw new ArgumentError('interface_uuid', `${ifUuid} is on a segment, which has no IP`);
  const owner = { interface_uuid: ifUuid, mac_lease_uuid: ml.uuid };
  const kept = await retainedFor(ctx, lp, ifUuid);
  const lease = kept ? await ipLeases.update(ctx, kept, owner) : await leaseFromPolicy(ctx, lpUuid, owner);
  const fresh = await ctx.must('lease_policies', lpUuid);
  const entry: PolicyInterface = { interface_uuid: ifUuid, label, ip_lease_uuid: lease.uuid };
  await ctx.update('lease_policies', { ...fresh, interfaces: [...(fresh.interfaces as PolicyInterface[]), entry] });
  return lease;
}

// ---------- retention sweep ----------

const dueAt = (since: string, seconds: number) => Date.parse(since) + seconds * 1000;

/** What the sweep would do now: leases past lease_time to release, released ones past grace_time to delete. */
function due(c: Doc, now: number) {
  const lease = c.lease_time as number | null;
  const grace = c.grace_time as number | null;
  const retentions = c.ip_retentions as Retention[];
  return {
    release: lease === null ? [] : retentions.filter((r) => r.released_at === null && dueAt(r.leased_at, lease) <= now),
    remove:
      grace === null ? [] : retentions.filter((r) => r.released_at !== null && dueAt(r.released_at, grace) <= now),
  };
}

/** Whether any retention is due (a read, so idle servers write nothing). */
export async function retentionsDue(ctx: ReadContext, now: number): Promise<boolean> {
  for (const c of await ctx.find('ip_retention_containers')) {
    const d = due(c, now);
    if (d.release.length + d.remove.length > 0) return true;
  }
  return false;
}

/**
 * Releases leases past their lease_time and deletes released leases past their grace_time; returns how many it
 * changed. Run in one write transaction that re-reads everything, so two servers sweeping at once change each
 * lease once (writes are serialised: the second finds nothing due).
 */
export async function sweepRetentions(ctx: WriteContext, now: number): Promise<number> {
  let n = 0;
  for (const c of await ctx.find('ip_retention_containers')) {
    const d = due(c, now);
    for (const r of d.release) {
      const lease = await ctx.get('ip_leases', r.ip_lease_uuid);
      if (!lease) continue;
      // Released from its interface: ipLeases.update marks every retention of the lease released.
      if (lease.interface_uuid !== null)
        await ipLeases.update(ctx, lease, { interface_uuid: null, mac_lease_uuid: null });
      else await markRetentions(ctx, lease.uuid, null);
      n++;
    }
    for (const r of d.remove) {
      const lease = await ctx.get('ip_leases', r.ip_lease_uuid);
      if (lease) await ipLeases.remove(ctx, lease);
      n++;
    }
  }
  return n;
}

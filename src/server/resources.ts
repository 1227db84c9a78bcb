// Top-level resources: their parameters (OpenVNet's names + ours), create/update rules, and delete cascades.
import {
  ArgumentError,
  DeleteRestrictionError,
  DuplicateValue,
  ImmutableField,
  InvalidID,
  MissingArgument,
  NotSupported,
} from '../model/errors.js';
import { inSubnet, intToIp, ipToInt, isAligned, isNetworkOrBroadcast } from '../model/ipv4.js';
import { cidr, type Params } from '../model/params.js';
import * as D from '../model/resources/index.js';
import { UUID_PREFIX } from '../model/types.js';
import type { Doc } from '../store/store.js';
import { applyUpdate, define, newDoc, type ResourceDef } from './documents.js';
import { addKeyedItem, KEYED_ITEMS } from './relations.js';
import { randomId, type WriteContext } from './write-context.js';

const P = UUID_PREFIX;
const has = (p: Params, k: string) => p[k] !== undefined;
/** Applies the given keys of `p` onto `doc`. */
function assign(doc: Doc, p: Params, keys: string[]): void {
  for (const k of keys) if (has(p, k)) doc[k] = p[k];
}

export const MAX_TUNNEL_KEY = 0xffffff;
export const MAX_CT_ZONE = 0xffff;

/**
 * The lowest free value of `field`: a tunnel key, shared by networks and segments (both are the packet's key in
 * the pipeline and on the wire); a conntrack zone, shared by networks, segments and snat translations.
 */
async function allocate(ctx: WriteContext, field: string, max: number): Promise<number> {
  const holders = [...(await ctx.find('networks')), ...(await ctx.find('segments'))];
  if (field === 'ct_zone') holders.push(...(await ctx.find('translations')));
  const used = new Set(holders.map((n) => n[field] as number));
  for (let v = 1; v <= max; v++) if (!used.has(v)) return v;
  throw new ArgumentError(field, 'no free value left');
}

async function checkMacFree(ctx: WriteContext, macAddr: string, field: string, self?: string): Promise<void> {
  const other = await ctx.findOne('mac_leases', { mac_address: macAddr });
  if (other && other.uuid !== self) throw new DuplicateValue(field, macAddr, `${other.interface_uuid} (${other.uuid})`);
}

/**
 * The address must be a host address inside the network's subnet, not leased in that network yet and not a
 * floating IP of it (a floating IP holds its address without a lease, as Neutron's hidden network:floatingip port).
 */
async function checkIpFree(ctx: WriteContext, network: Doc, ip: string, field: string, self?: string): Promise<void> {
  const net = network.ipv4_network as string | null;
  const prefix = network.ipv4_prefix as number;
  if (net === null) throw new ArgumentError(field, `${network.uuid} has no address yet: give it a subnet first`);
  if (!inSubnet(ip, net, prefix))
    throw new ArgumentError(field, `${ip} is not inside ${network.uuid} (${net}/${prefix})`);
  if (isNetworkOrBroadcast(ip, net, prefix))
    throw new ArgumentError(field, `${ip} is the network or broadcast address of ${net}/${prefix}`);
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

/** A locally administered MAC no mac lease or route link uses. */
async function freeRandomMac(ctx: WriteContext, kind: 'mac_leases' | 'route_links'): Promise<string> {
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
async function macFromGroup(ctx: WriteContext, groupUuid: string): Promise<string> {
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

async function createMacLease(
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

async function createIpLease(
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

async function removeIpLease(ctx: WriteContext, lease: Doc) {
  await ctx.remove('ip_leases', lease.uuid);
  ctx.touch('interfaces', lease.interface_uuid as string | null);
}

async function removeMacLease(ctx: WriteContext, lease: Doc) {
  for (const l of await ctx.find('ip_leases', { mac_lease_uuid: lease.uuid })) await removeIpLease(ctx, l);
  await ctx.remove('mac_leases', lease.uuid);
  ctx.touch('interfaces', lease.interface_uuid as string);
}

/** Resolves interface/mac lease of an IP lease: mac_lease_uuid wins, else the interface's first MAC lease. */
async function leaseOwner(ctx: WriteContext, p: Params) {
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

// ---------- segments on interfaces ----------

/** Interface modes that may be on a segment: the ones bound to a VM's (or a container's) port. */
const SEGMENT_MODES: ReadonlySet<unknown> = new Set(['vif', 'internal']);

/**
 * An interface on a segment (segment_uuid) is on it instead of a network: no network_uuid, no IP leases (its
 * addresses are configured in the VM), its MAC leases on no other segment, and a mode that binds a VM's port.
 * OpenVNet let a network and a segment meet on one interface only when the segment was the network's; networks on
 * segments are refused here, so that is always a mismatch, answered as OpenVNet did (InvalidID naming `field`).
 */
async function checkSegmentInterface(ctx: WriteContext, iface: Doc, field: string): Promise<void> {
  const seg = iface.segment_uuid as string | null;
  const leases = await ctx.find('mac_leases', { interface_uuid: iface.uuid });
  const stray = leases.find((ml) => ml.segment_uuid && ml.segment_uuid !== seg);
  if (stray)
    throw new InvalidID(
      field,
      `MAC lease ${stray.uuid} of ${iface.uuid} is on segment ${stray.segment_uuid}, the interface on ${seg ?? 'none'} (set the interface's segment_uuid)`,
    );
  if (!seg) return;
  if (!SEGMENT_MODES.has(iface.mode))
    throw new NotSupported(
      field,
      `${iface.uuid} is mode ${iface.mode}; only vif and internal interfaces can be on a segment`,
    );
  if (iface.network_uuid)
    throw new InvalidID(
      field,
      `${iface.uuid} cannot be on segment ${seg} and in network ${iface.network_uuid}: ${seg} is not that network's segment (an interface is on a network or on a segment)`,
    );
  const ip = await ctx.findOne('ip_leases', { interface_uuid: iface.uuid });
  if (ip)
    throw new InvalidID(
      field,
      `${iface.uuid} on segment ${seg} cannot have an IP lease (${ip.uuid} in ${ip.network_uuid}): a segment has no IP, its VMs configure their own addresses`,
    );
}

/** The field a request that broke checkSegmentInterface is answered with: the first of `fields` it gave. */
function givenField(p: Params, fields: string[]): string {
  return fields.find((k) => has(p, k)) ?? fields[0]!;
}

// ---------- definitions ----------

const datapaths = define(D.datapaths, {
  async check(ctx, p, doc) {
    if (p.dpid === undefined || p.dpid === doc?.dpid) return;
    const dup = await ctx.findOne('datapaths', { dpid: p.dpid as string });
    if (dup) throw new DuplicateValue('dpid', p.dpid as string, dup.uuid);
  },
  async cascade(ctx, doc) {
    const owned = await ctx.find('interfaces', { owner_datapath_uuid: doc.uuid });
    if (owned.length > 0)
      throw new DeleteRestrictionError(
        doc.uuid,
        owned.map((i) => `${i.uuid} (owner_datapath_uuid)`),
      );
    for (const k of ['datapath_networks', 'datapath_route_links', 'datapath_segments'] as const)
      for (const r of await ctx.find(k, { datapath_uuid: doc.uuid })) await ctx.remove(k, r.uuid);
    // Bindings reported by the agent of this datapath are no longer true.
    for (const i of await ctx.find('interfaces', { active_datapath_uuid: doc.uuid }))
      await ctx.update('interfaces', { ...i, status: 'down', active_datapath_uuid: null, active_port_name: null });
  },
});

/** A destination must be a network address: no host bits below its prefix. */
function checkAligned(doc: Doc): void {
  const net = doc.ipv4_network as string | null;
  if (net === null) return; // a Neutron network before its subnet
  const prefix = doc.ipv4_prefix as number;
  if (!isAligned(net, prefix)) throw new ArgumentError('ipv4_network', `${net} has host bits set for prefix ${prefix}`);
}

const networks = define(D.networks, {
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
    // One VLAN carries one network: two networks on one tag would be one broadcast domain on the uplink.
    const vlan = p.vlan_id ?? doc?.vlan_id;
    if (typeof vlan !== 'number') return;
    const dup = (await ctx.find('networks', { vlan_id: vlan })).find((n) => n.uuid !== doc?.uuid);
    if (dup) throw new DuplicateValue('vlan_id', String(vlan), dup.uuid);
  },
  validate(doc) {
    checkAligned(doc);
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
    for (const i of await ctx.find('interfaces', { network_uuid: doc.uuid }))
      await ctx.update('interfaces', { ...i, network_uuid: null });
  },
});

const interfaces: ResourceDef = {
  ...define(D.interfaces),
  async create(ctx, p) {
    if (p.owner_datapath_uuid) await ctx.must('datapaths', p.owner_datapath_uuid as string, 'owner_datapath_uuid');
    if (p.segment_uuid) await ctx.must('segments', p.segment_uuid as string, 'segment_uuid');
    const network = has(p, 'network_uuid')
      ? await ctx.must('networks', p.network_uuid as string, 'network_uuid')
      : null;
    if (has(p, 'ipv4_address') && !network) throw new MissingArgument('network_uuid');
    let macAddr = p.mac_address as string | undefined;
    if (!macAddr && has(p, 'mac_range_group_uuid')) macAddr = await macFromGroup(ctx, p.mac_range_group_uuid as string);
    if (has(p, 'ipv4_address') && !macAddr) throw new MissingArgument('mac_address');
    const id = await ctx.newUuid('interfaces', P.interfaces, p.uuid);
    const doc = await ctx.insert('interfaces', {
      uuid: id,
      display_name: (p.display_name as string | undefined) ?? '',
      mode: p.mode ?? 'vif',
      owner_datapath_uuid: p.owner_datapath_uuid ?? null,
      port_name: p.port_name ?? null,
      enable_routing: p.enable_routing ?? false,
      enable_route_translation: p.enable_route_translation ?? false,
      enable_filtering: p.enable_filtering ?? false,
      network_uuid: network && !has(p, 'ipv4_address') ? network.uuid : null,
      segment_uuid: p.segment_uuid ?? null,
      project_id: p.project_id ?? null,
      description: p.description ?? '',
      device_owner: p.device_owner ?? '',
      device_id: p.device_id ?? '',
      security_group_uuids: [],
      status: 'down',
      active_datapath_uuid: null,
      active_port_name: null,
    });
    if (macAddr) {
      const ml = await createMacLease(ctx, id, macAddr, 'mac_address', undefined, doc.segment_uuid as string | null);
      if (network && has(p, 'ipv4_address'))
        await createIpLease(ctx, network, p.ipv4_address as string, 'ipv4_address', {
          interface_uuid: id,
          mac_lease_uuid: ml.uuid,
        });
    }
    await checkSegmentInterface(ctx, doc, 'segment_uuid');
    return doc;
  },
  async update(ctx, doc, p) {
    if (p.owner_datapath_uuid) await ctx.must('datapaths', p.owner_datapath_uuid as string, 'owner_datapath_uuid');
    if (p.segment_uuid) await ctx.must('segments', p.segment_uuid as string, 'segment_uuid');
    assign(doc, p, [
      'display_name',
      'mode',
      'owner_datapath_uuid',
      'port_name',
      'segment_uuid',
      'enable_routing',
      'enable_route_translation',
      'enable_filtering',
      'description',
      'device_owner',
      'device_id',
    ]);
    // Addresses live in leases: PUT edits the first MAC lease and its first IP lease (the convenience fields).
    let ml = await ctx.findOne('mac_leases', { interface_uuid: doc.uuid });
    if (has(p, 'mac_address')) {
      if (p.mac_address === null) {
        if (ml) await removeMacLease(ctx, ml);
        ml = undefined;
      } else if (ml) {
        if (ml.mac_address !== p.mac_address) {
          await checkMacFree(ctx, p.mac_address as string, 'mac_address', ml.uuid);
          await ctx.update('mac_leases', { ...ml, mac_address: p.mac_address });
        }
      } else
        ml = await createMacLease(
          ctx,
          doc.uuid,
          p.mac_address as string,
          'mac_address',
          undefined,
          doc.segment_uuid as string | null,
        );
    }
    // Its MAC leases follow the interface's segment (OpenVNet kept the segment on the MAC lease).
    if (has(p, 'segment_uuid'))
      for (const l of await ctx.find('mac_leases', { interface_uuid: doc.uuid }))
        if (l.segment_uuid !== doc.segment_uuid)
          await ctx.update('mac_leases', { ...l, segment_uuid: doc.segment_uuid });
    if (has(p, 'ipv4_address') || has(p, 'network_uuid')) {
      const il = ml ? await ctx.findOne('ip_leases', { mac_lease_uuid: ml.uuid }) : undefined;
      if (p.ipv4_address === null) {
        if (il) await removeIpLease(ctx, il);
        if (has(p, 'network_uuid')) doc.network_uuid = p.network_uuid;
      } else if (il) {
        const network =
          has(p, 'network_uuid') && p.network_uuid !== null
            ? await ctx.must('networks', p.network_uuid as string, 'network_uuid')
            : await ctx.must('networks', il.network_uuid as string);
        if (p.network_uuid === null) throw new ArgumentError('network_uuid', 'cannot be cleared while an IP is leased');
        const ip = (p.ipv4_address as string | undefined) ?? (il.ipv4_address as string);
        await checkIpFree(ctx, network, ip, has(p, 'ipv4_address') ? 'ipv4_address' : 'network_uuid', il.uuid);
        await ctx.update('ip_leases', { ...il, network_uuid: network.uuid, ipv4_address: ip });
        ctx.touch('interfaces', doc.uuid);
      } else if (has(p, 'ipv4_address')) {
        const nwUuid = (p.network_uuid ?? doc.network_uuid) as string | null;
        if (!nwUuid) throw new MissingArgument('network_uuid');
        const network = await ctx.must('networks', nwUuid, 'network_uuid');
        if (!ml) throw new MissingArgument('mac_address');
        await createIpLease(ctx, network, p.ipv4_address as string, 'ipv4_address', {
          interface_uuid: doc.uuid,
          mac_lease_uuid: ml.uuid,
        });
        doc.network_uuid = null;
      } else {
        if (p.network_uuid) await ctx.must('networks', p.network_uuid as string, 'network_uuid');
        doc.network_uuid = p.network_uuid;
      }
    }
    await checkSegmentInterface(
      ctx,
      doc,
      givenField(p, ['segment_uuid', 'network_uuid', 'ipv4_address', 'mode', 'mac_address']),
    );
    const updated = await ctx.update('interfaces', doc);
    await refloat(ctx, doc.uuid);
    return updated;
  },
  async remove(ctx, doc) {
    for (const ml of await ctx.find('mac_leases', { interface_uuid: doc.uuid })) await removeMacLease(ctx, ml);
    for (const il of await ctx.find('ip_leases', { interface_uuid: doc.uuid })) await removeIpLease(ctx, il);
    // Floating IPs stay held, no longer associated (Neutron: a port's delete disassociates them).
    for (const fip of await ctx.find('floating_ips', { interface_uuid: doc.uuid }))
      await ctx.update('floating_ips', {
        ...fip,
        interface_uuid: null,
        fixed_ipv4_address: null,
        translation_uuid: null,
      });
    // Objects that only exist for this interface go with it (documented cascade).
    for (const k of ['filters', 'translations', 'routes'] as const)
      for (const d of await ctx.find(k, { interface_uuid: doc.uuid })) await ctx.remove(k, d.uuid);
    for (const ns of await ctx.find('network_services', { interface_uuid: doc.uuid }))
      await networkServices.remove(ctx, ns);
    for (const k of ['datapath_networks', 'datapath_route_links', 'datapath_segments'] as const)
      for (const d of await ctx.find(k, { interface_uuid: doc.uuid }))
        await ctx.update(k, { ...d, interface_uuid: null });
    await ctx.remove('interfaces', doc.uuid);
  },
};

const macLeases: ResourceDef = {
  ...define(D.macLeases),
  async create(ctx, p) {
    await ctx.must('interfaces', p.interface_uuid as string, 'interface_uuid');
    if (p.segment_uuid) await ctx.must('segments', p.segment_uuid as string, 'segment_uuid');
    const ml = await createMacLease(
      ctx,
      p.interface_uuid as string,
      p.mac_address as string,
      'mac_address',
      p.uuid,
      (p.segment_uuid as string | null | undefined) ?? null,
    );
    await checkSegmentInterface(ctx, await ctx.must('interfaces', ml.interface_uuid as string), 'segment_uuid');
    return ml;
  },
  async update(ctx, doc, p) {
    if (has(p, 'mac_address')) await checkMacFree(ctx, p.mac_address as string, 'mac_address', doc.uuid);
    if (p.segment_uuid) await ctx.must('segments', p.segment_uuid as string, 'segment_uuid');
    if (has(p, 'interface_uuid') && p.interface_uuid !== doc.interface_uuid) {
      await ctx.must('interfaces', p.interface_uuid as string, 'interface_uuid');
      ctx.touch('interfaces', doc.interface_uuid as string);
      // IP leases follow their MAC lease to the new interface.
      for (const il of await ctx.find('ip_leases', { mac_lease_uuid: doc.uuid }))
        await ctx.update('ip_leases', { ...il, interface_uuid: p.interface_uuid });
    }
    assign(doc, p, ['interface_uuid', 'mac_address', 'segment_uuid']);
    ctx.touch('interfaces', doc.interface_uuid as string);
    const updated = await ctx.update('mac_leases', doc);
    await checkSegmentInterface(
      ctx,
      await ctx.must('interfaces', doc.interface_uuid as string),
      givenField(p, ['segment_uuid', 'interface_uuid']),
    );
    return updated;
  },
  async remove(ctx, doc) {
    await removeMacLease(ctx, doc);
  },
};

const ipLeases: ResourceDef = {
  ...define(D.ipLeases),
  async create(ctx, p) {
    const network = await ctx.must('networks', p.network_uuid as string, 'network_uuid');
    const owner = await leaseOwner(ctx, p);
    const lease = await createIpLease(ctx, network, p.ipv4_address as string, 'ipv4_address', owner, {
      uuid: p.uuid,
      enable_routing: (p.enable_routing as boolean | undefined) ?? false,
    });
    if (owner.interface_uuid)
      await checkSegmentInterface(
        ctx,
        await ctx.must('interfaces', owner.interface_uuid),
        givenField(p, ['interface_uuid', 'mac_lease_uuid']),
      );
    return lease;
  },
  async update(ctx, doc, p) {
    const before = doc.interface_uuid as string | null;
    if (has(p, 'network_uuid') || has(p, 'ipv4_address')) {
      const network = await ctx.must('networks', (p.network_uuid ?? doc.network_uuid) as string, 'network_uuid');
      const ip = (p.ipv4_address ?? doc.ipv4_address) as string;
      await checkIpFree(ctx, network, ip, has(p, 'ipv4_address') ? 'ipv4_address' : 'network_uuid', doc.uuid);
      doc.network_uuid = network.uuid;
      doc.ipv4_address = ip;
    }
    if (has(p, 'interface_uuid') || has(p, 'mac_lease_uuid')) {
      ctx.touch('interfaces', doc.interface_uuid as string | null);
      const owner = await leaseOwner(ctx, p);
      doc.interface_uuid = owner.interface_uuid;
      doc.mac_lease_uuid = owner.mac_lease_uuid;
    }
    assign(doc, p, ['enable_routing']);
    ctx.touch('interfaces', doc.interface_uuid as string | null);
    const updated = await ctx.update('ip_leases', doc);
    if (doc.interface_uuid)
      await checkSegmentInterface(
        ctx,
        await ctx.must('interfaces', doc.interface_uuid as string),
        givenField(p, ['interface_uuid', 'mac_lease_uuid']),
      );
    await refloat(ctx, before);
    return updated;
  },
  async remove(ctx, doc) {
    await removeIpLease(ctx, doc);
    await refloat(ctx, doc.interface_uuid as string | null);
  },
};

const networkServices = define(D.networkServices, {
  async cascade(ctx, ns) {
    for (const d of await ctx.find('dns_services', { network_service_uuid: ns.uuid }))
      await ctx.remove('dns_services', d.uuid);
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
    if (!inSubnet(gw, net.ipv4_network as string, net.ipv4_prefix as number))
      throw new ArgumentError(
        'gateway_ipv4_address',
        `${gw} is not in the route's network ${net.uuid} (${net.ipv4_network}/${net.ipv4_prefix})`,
      );
  },
});

// ---------- subnets (Neutron's addressing of a network) ----------

type Pool = { start: string; end: string };

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

const subnets: ResourceDef = {
  ...define(D.subnets),
  async create(ctx, p) {
    const network = await ctx.must('networks', p.network_uuid as string, 'network_uuid');
    const twin = await ctx.findOne('subnets', { network_uuid: network.uuid });
    if (twin) throw new DuplicateValue('network_uuid', `${network.uuid} (one subnet per network)`, twin.uuid);
    const net = p.ipv4_network as string;
    const prefix = p.ipv4_prefix as number;
    if (!isAligned(net, prefix))
      throw new ArgumentError('ipv4_network', `${net} has host bits set for prefix ${prefix}`);
    // An OpenVNet network with its address already may take a subnet of that same address, and no other.
    if (network.ipv4_network !== null && (network.ipv4_network !== net || network.ipv4_prefix !== prefix))
      throw new ArgumentError(
        'ipv4_network',
        `${network.uuid} is ${network.ipv4_network}/${network.ipv4_prefix}, not ${net}/${prefix}`,
      );
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
    await ctx.update('networks', { ...network, ipv4_network: net, ipv4_prefix: prefix });
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
    // Addresses held by ports other than the subnet's own DHCP port, or by floating IPs, keep it (Neutron's
    // SubnetInUse: a floating IP's address is its hidden port's).
    const held = (await ctx.find('ip_leases', { network_uuid: doc.network_uuid as string })).filter(
      (l) => l.interface_uuid !== doc.dhcp_interface_uuid,
    );
    const floating = await ctx.find('floating_ips', { network_uuid: doc.network_uuid as string });
    if (held.length > 0 || floating.length > 0)
      throw new DeleteRestrictionError(doc.uuid, [
        ...held.map((l) => `${l.interface_uuid ?? l.uuid} (${l.ipv4_address})`),
        ...floating.map((f) => `${f.uuid} (${f.ipv4_address})`),
      ]);
    await dropDhcpPort(ctx, doc);
    await ctx.remove('subnets', doc.uuid);
    const network = await ctx.get('networks', doc.network_uuid as string);
    if (network) await ctx.update('networks', { ...network, ipv4_network: null });
  },
};

const segments = define(D.segments, {
  async computed(ctx) {
    return {
      tunnel_key: await allocate(ctx, 'tunnel_key', MAX_TUNNEL_KEY),
      ct_zone: await allocate(ctx, 'ct_zone', MAX_CT_ZONE),
    };
  },
  validate(doc) {
    // OpenVNet never implemented physical segments (its agent has only virtual ones): refused, not stored.
    if (doc.mode === 'physical')
      throw new NotSupported('mode', 'physical segments are not supported; a segment is virtual (tunnelled)');
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

const translations = define(D.translations, {
  async computed(ctx, p) {
    // A gateway's connections get their own zone: two routers may translate the same inside addresses.
    return { ct_zone: p.mode === 'snat' ? await allocate(ctx, 'ct_zone', MAX_CT_ZONE) : null };
  },
  async check(ctx, p, doc) {
    if (doc || p.mode !== 'snat') return;
    // The gateway translates from its router interface's address on an external (physical) network.
    const i = await ctx.must('interfaces', p.interface_uuid as string, 'interface_uuid');
    const lease = await ctx.findOne('ip_leases', { interface_uuid: i.uuid });
    const nw = (lease?.network_uuid ?? i.network_uuid) as string | null;
    const net = nw ? await ctx.must('networks', nw, 'interface_uuid') : null;
    if (i.mode !== 'simulated' || i.enable_routing !== true || net?.network_mode !== 'physical')
      throw new ArgumentError(
        'interface_uuid',
        `a snat translation needs a router interface (simulated, enable_routing) on a physical network; ${i.uuid} is ${i.mode}${i.enable_routing ? ' routing' : ''} on ${net ? `${net.network_mode} network ${net.uuid}` : 'no network'}`,
      );
    const dup = (await ctx.find('translations', { interface_uuid: i.uuid })).find((t) => t.mode === 'snat');
    if (dup) throw new DuplicateValue('interface_uuid', i.uuid, dup.uuid);
  },
});

// ---------- floating IPs (Neutron's; realised as static_address translations) ----------

const STATIC_ADDRESS = KEYED_ITEMS.find((k) => k.parentKind === 'translations')!;

/** An address of the network no lease and no other floating IP holds. */
async function checkFloatingFree(ctx: WriteContext, network: Doc, ip: string, self?: string): Promise<void> {
  await checkIpFree(ctx, network, ip, 'ipv4_address');
  const other = await ctx.findOne('floating_ips', { network_uuid: network.uuid, ipv4_address: ip });
  if (other && other.uuid !== self) throw new DuplicateValue('ipv4_address', ip, other.uuid);
}

/** The floating IP forwards to `fip.interface_uuid`: its translation is (re)made for the current association. */
async function realise(ctx: WriteContext, fip: Doc): Promise<void> {
  const old = fip.translation_uuid ? await ctx.get('translations', fip.translation_uuid as string) : undefined;
  if (old) await ctx.remove('translations', old.uuid);
  fip.translation_uuid = null;
  if (!fip.interface_uuid) {
    fip.fixed_ipv4_address = null;
    return;
  }
  const leases = await ctx.find('ip_leases', { interface_uuid: fip.interface_uuid as string });
  if (leases.length === 0)
    throw new ArgumentError('interface_uuid', `${fip.interface_uuid} has no address to forward to`);
  const fixed = (fip.fixed_ipv4_address as string | null) ?? (leases[0]!.ipv4_address as string);
  if (!leases.some((l) => l.ipv4_address === fixed))
    throw new ArgumentError('fixed_ipv4_address', `${fixed} is not an address of ${fip.interface_uuid}`);
  const twin = (await ctx.find('floating_ips', { interface_uuid: fip.interface_uuid as string })).find(
    (o) => o.uuid !== fip.uuid && o.fixed_ipv4_address === fixed,
  );
  if (twin) throw new DuplicateValue('fixed_ipv4_address', `${fixed} of ${fip.interface_uuid}`, twin.uuid);
  const tr = await translations.create(ctx, { interface_uuid: fip.interface_uuid as string, mode: 'static_address' });
  await addKeyedItem(ctx, STATIC_ADDRESS, tr.uuid, {
    ingress_ipv4_address: fixed,
    egress_ipv4_address: fip.ipv4_address as string,
  });
  fip.fixed_ipv4_address = fixed;
  fip.translation_uuid = tr.uuid;
}

/**
 * An interface's floating IPs forward to addresses it holds: after its addresses change, one whose fixed address
 * it no longer holds follows its first address, or (none left) is disassociated and stays held, as on its delete.
 * Else the translation would send the floating address's traffic to whichever port takes the old address next.
 */
async function refloat(ctx: WriteContext, iface: string | null): Promise<void> {
  if (!iface) return;
  const held = new Set((await ctx.find('ip_leases', { interface_uuid: iface })).map((l) => l.ipv4_address));
  for (const fip of await ctx.find('floating_ips', { interface_uuid: iface })) {
    if (held.has(fip.fixed_ipv4_address)) continue;
    const doc: Doc = { ...fip, fixed_ipv4_address: null, ...(held.size === 0 ? { interface_uuid: null } : {}) };
    await realise(ctx, doc);
    await ctx.update('floating_ips', doc);
  }
}

const floatingIps: ResourceDef = {
  ...define(D.floatingIps),
  async create(ctx, p) {
    const network = await ctx.must('networks', p.network_uuid as string, 'network_uuid');
    if (network.external !== true)
      throw new ArgumentError('network_uuid', `${network.uuid} is not an external network (external = false)`);
    if (p.interface_uuid) await ctx.must('interfaces', p.interface_uuid as string, 'interface_uuid');
    let ip = p.ipv4_address as string | undefined;
    if (ip) await checkFloatingFree(ctx, network, ip);
    else {
      const subnet = await ctx.findOne('subnets', { network_uuid: network.uuid });
      if (!subnet) throw new MissingArgument('ipv4_address');
      const held = (await ctx.find('floating_ips', { network_uuid: network.uuid })).map(
        (f) => f.ipv4_address as string,
      );
      ip = await freeIpIn(ctx, subnet, 'ipv4_address', held);
    }
    const doc = newDoc(D.floatingIps, p, {
      uuid: await ctx.newUuid('floating_ips', P.floating_ips, p.uuid),
      ipv4_address: ip,
      translation_uuid: null,
    });
    await realise(ctx, doc);
    return ctx.insert('floating_ips', doc);
  },
  async update(ctx, doc, p) {
    if (p.interface_uuid) await ctx.must('interfaces', p.interface_uuid as string, 'interface_uuid');
    // A new interface without a fixed address takes that interface's first one.
    if (has(p, 'interface_uuid') && !has(p, 'fixed_ipv4_address')) doc.fixed_ipv4_address = null;
    applyUpdate(D.floatingIps, doc, p);
    await realise(ctx, doc);
    return ctx.update('floating_ips', doc);
  },
  async remove(ctx, doc) {
    doc.interface_uuid = null;
    await realise(ctx, doc);
    await ctx.remove('floating_ips', doc.uuid);
  },
};

const ipRangeGroups = define(D.ipRangeGroups);

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

export const RESOURCES: readonly ResourceDef[] = [
  datapaths,
  networks,
  subnets,
  interfaces,
  macLeases,
  ipLeases,
  networkServices,
  routeLinks,
  routes,
  segments,
  filters,
  securityGroups,
  translations,
  floatingIps,
  ipRangeGroups,
  macRangeGroups,
  dnsServices,
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

export { cidr, freeRandomMac, intToIp, ipToInt, randomId };

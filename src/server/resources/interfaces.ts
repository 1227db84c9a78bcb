// Interfaces and what hangs on them: MAC leases, IP leases, network services, and the segment rules they share;
// an interface's delete removes its network services, so those are defined here too.
import {
  ArgumentError,
  DeleteRestrictionError,
  DuplicateValue,
  InvalidID,
  MissingArgument,
  NotSupported,
} from '../../model/errors.js';
import type { Params } from '../../model/params.js';
import * as D from '../../model/resources/index.js';
import { UUID_PREFIX } from '../../model/types.js';
import type { Doc } from '../../store/store.js';
import { applyUpdate, define, newDoc, type ResourceDef } from '../documents.js';
import type { WriteContext } from '../write-context.js';
import { refloat } from './floating-ips.js';
import {
  assign,
  checkIpFree,
  checkMacFree,
  createIpLease,
  createMacLease,
  forgetInPolicies,
  has,
  leaseOwner,
  macFromGroup,
  markRetentions,
  removeIpLease,
  removeMacLease,
} from './leases.js';

const P = UUID_PREFIX;

// ---------- segments on interfaces ----------

/**
 * Interface modes that may be on a segment: the ones bound to a VM's (or a container's) port, and a promiscuous
 * port (an outside L2 network bridged into the segment, as OpenVNet's promiscuous_seg datasets do).
 */
const SEGMENT_MODES: ReadonlySet<unknown> = new Set(['vif', 'internal', 'promiscuous']);

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
      `${iface.uuid} is mode ${iface.mode}; only vif, internal and promiscuous interfaces can be on a segment`,
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

// ---------- VLAN sub-interfaces ----------

/**
 * A sub-interface (parent_interface_uuid + vlan_tag) rides its parent's port: the parent is a vif that is not
 * itself a sub-interface, one sub-interface per (parent, tag), and it names no port, datapath or segment of its own
 * (it is bound wherever its parent is). A tag means nothing without a parent. Each failure names its field.
 */
async function checkSubInterface(ctx: WriteContext, iface: Doc): Promise<void> {
  const parentUuid = iface.parent_interface_uuid as string | null;
  const tag = iface.vlan_tag as number | null;
  if (!parentUuid) {
    if (tag !== null && tag !== undefined)
      throw new ArgumentError('vlan_tag', 'a VLAN tag is given only with parent_interface_uuid (the trunk port)');
    return;
  }
  if (tag === null || tag === undefined) throw new MissingArgument('vlan_tag');
  if (parentUuid === iface.uuid) throw new InvalidID('parent_interface_uuid', `${iface.uuid} cannot be its own parent`);
  const parent = await ctx.must('interfaces', parentUuid, 'parent_interface_uuid');
  if (parent.mode !== 'vif')
    throw new InvalidID('parent_interface_uuid', `${parentUuid} is mode ${parent.mode}; a trunk parent is a vif`);
  if (parent.parent_interface_uuid)
    throw new InvalidID(
      'parent_interface_uuid',
      `${parentUuid} is itself a sub-interface of ${parent.parent_interface_uuid}; sub-interfaces do not nest`,
    );
  if ((iface.mode ?? 'vif') !== 'vif')
    throw new NotSupported('mode', `${iface.uuid}: a sub-interface is a vif (it is mode ${iface.mode})`);
  for (const own of ['port_name', 'owner_datapath_uuid', 'segment_uuid'] as const)
    if (iface[own])
      throw new ArgumentError(own, `a sub-interface has no ${own} of its own: it is bound wherever ${parentUuid} is`);
  const same = (await ctx.find('interfaces', { parent_interface_uuid: parentUuid })).find(
    (o) => o.uuid !== iface.uuid && o.vlan_tag === tag,
  );
  if (same) throw new DuplicateValue('vlan_tag', `${tag} on ${parentUuid}`, same.uuid);
}

/** A trunk parent keeps its sub-interfaces' conditions: it stays a vif, and goes only after them (409). */
async function subInterfacesOf(ctx: WriteContext, uuid: string): Promise<Doc[]> {
  return ctx.find('interfaces', { parent_interface_uuid: uuid });
}

/** The field a request that broke checkSegmentInterface is answered with: the first of `fields` it gave. */
function givenField(p: Params, fields: string[]): string {
  return fields.find((k) => has(p, k)) ?? fields[0]!;
}

/**
 * The convenience fields of an interface's first MAC and IP lease: the leases hold them (represent.ts shows them
 * on the interface), so the rules below set them, never the declaration's plain create and update. network_uuid
 * is the interface's own only while it has no IP lease.
 */
const LEASE_FIELDS = ['mac_address', 'network_uuid', 'ipv4_address', 'mac_leases'] as const;

/** A new interface's document: its declared fields but those its leases hold (network_uuid stays: see above). */
function storedOf(doc: Doc): Doc {
  for (const k of LEASE_FIELDS) if (k !== 'network_uuid') delete doc[k];
  return doc;
}

/** The request without the lease fields, for the declared fields' plain update. */
function withoutLeaseFields(p: Params): Params {
  const rest = { ...p };
  for (const k of LEASE_FIELDS) delete rest[k];
  return rest;
}

export const interfaces: ResourceDef = {
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
    const doc = await ctx.insert(
      'interfaces',
      storedOf(
        newDoc(D.interfaces, p, {
          uuid: id,
          // An address given: the network is its IP lease's, not the interface's own.
          network_uuid: network && !has(p, 'ipv4_address') ? network.uuid : null,
        }),
      ),
    );
    if (macAddr) {
      const ml = await createMacLease(ctx, id, macAddr, 'mac_address', undefined, doc.segment_uuid as string | null);
      if (network && has(p, 'ipv4_address'))
        await createIpLease(ctx, network, p.ipv4_address as string, 'ipv4_address', {
          interface_uuid: id,
          mac_lease_uuid: ml.uuid,
        });
    }
    await checkSegmentInterface(ctx, doc, 'segment_uuid');
    await checkSubInterface(ctx, doc);
    return doc;
  },
  async update(ctx, doc, p) {
    if (p.owner_datapath_uuid) await ctx.must('datapaths', p.owner_datapath_uuid as string, 'owner_datapath_uuid');
    if (p.segment_uuid) await ctx.must('segments', p.segment_uuid as string, 'segment_uuid');
    applyUpdate(D.interfaces, doc, withoutLeaseFields(p));
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
    await checkSubInterface(ctx, doc);
    if (doc.mode !== 'vif' && (await subInterfacesOf(ctx, doc.uuid)).length > 0)
      throw new ArgumentError('mode', `${doc.uuid} has VLAN sub-interfaces; a trunk parent stays a vif`);
    const updated = await ctx.update('interfaces', doc);
    await refloat(ctx, doc.uuid);
    return updated;
  },
  async remove(ctx, doc) {
    const subs = await subInterfacesOf(ctx, doc.uuid);
    if (subs.length > 0)
      throw new DeleteRestrictionError(
        doc.uuid,
        subs.map((s) => `${s.uuid} (parent_interface_uuid, vlan_tag ${s.vlan_tag})`),
      );
    for (const ml of await ctx.find('mac_leases', { interface_uuid: doc.uuid })) await removeMacLease(ctx, ml);
    for (const il of await ctx.find('ip_leases', { interface_uuid: doc.uuid })) await removeIpLease(ctx, il);
    await forgetInPolicies(ctx, 'interface_uuid', doc.uuid);
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

export const macLeases: ResourceDef = {
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

export const ipLeases: ResourceDef = {
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
    // Retention containers time a lease from its attach and its grace from its release (OpenVNet's ip_retentions).
    if (doc.interface_uuid !== before) await markRetentions(ctx, doc.uuid, doc.interface_uuid as string | null);
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

export const networkServices = define(D.networkServices, {
  async cascade(ctx, ns) {
    for (const d of await ctx.find('dns_services', { network_service_uuid: ns.uuid }))
      await ctx.remove('dns_services', d.uuid);
  },
});

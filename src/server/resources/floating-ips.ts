// Translations and Neutron's floating IPs, realised as static_address translations: apart from the other rules
// because interfaces re-point their floating IPs (refloat) when their addresses change, and networks remove them.
import { ArgumentError, DuplicateValue, MissingArgument } from '../../model/errors.js';
import * as D from '../../model/resources/index.js';
import { UUID_PREFIX } from '../../model/types.js';
import type { Doc } from '../../store/store.js';
import { applyUpdate, define, newDoc, type ResourceDef } from '../documents.js';
import { addKeyedItem, KEYED_ITEMS } from '../relations.js';
import type { WriteContext } from '../write-context.js';
import { allocate, checkIpFree, freeIpIn, has, MAX_CT_ZONE } from './leases.js';

const P = UUID_PREFIX;

export const translations = define(D.translations, {
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
 * it no longer holds follows its first address no other floating IP forwards to, or (none left) is disassociated
 * and stays held, as on its delete. Else the translation would send the floating address's traffic to whichever
 * port takes the old address next.
 */
export async function refloat(ctx: WriteContext, iface: string | null): Promise<void> {
  if (!iface) return;
  const held = (await ctx.find('ip_leases', { interface_uuid: iface })).map((l) => l.ipv4_address as string);
  const fips = await ctx.find('floating_ips', { interface_uuid: iface });
  const taken = new Set(fips.map((f) => f.fixed_ipv4_address).filter((ip) => held.includes(ip as string)));
  for (const fip of fips) {
    if (held.includes(fip.fixed_ipv4_address as string)) continue;
    const next = held.find((ip) => !taken.has(ip));
    if (next) taken.add(next);
    const doc: Doc = { ...fip, fixed_ipv4_address: next ?? null, ...(next ? {} : { interface_uuid: null }) };
    await realise(ctx, doc);
    await ctx.update('floating_ips', doc);
  }
}

export const floatingIps: ResourceDef = {
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

// Stored document → API representation; only interfaces embed other objects (their MAC and IP leases).
import type { EmbeddedMacLease, ResourceKind } from '../model/types.js';
import type { Doc, Where } from '../store/store.js';

/** The one read represent() needs (ReadContext has it); declared here so represent.ts depends on no context. */
export interface DocFinder {
  find(kind: ResourceKind, where?: Where): Promise<Doc[]>;
}

/** Leases of every interface, pre-grouped, so lists and snapshots need no query per interface. */
export interface LeaseIndex {
  macByIface: Map<string, Doc[]>;
  ipByMac: Map<string, Doc[]>;
}

export function buildLeaseIndex(macLeases: Doc[], ipLeases: Doc[]): LeaseIndex {
  const macByIface = new Map<string, Doc[]>();
  for (const m of macLeases) {
    const k = m.interface_uuid as string;
    const list = macByIface.get(k);
    if (list) list.push(m);
    else macByIface.set(k, [m]);
  }
  const ipByMac = new Map<string, Doc[]>();
  for (const l of ipLeases) {
    const k = l.mac_lease_uuid as string | null;
    if (!k) continue;
    const list = ipByMac.get(k);
    if (list) list.push(l);
    else ipByMac.set(k, [l]);
  }
  return { macByIface, ipByMac };
}

/** Interface representation from its document and its leases (in creation order). */
export function representInterface(doc: Doc, macs: Doc[], ipsOf: (mac: Doc) => Doc[]): Doc {
  const mac_leases: EmbeddedMacLease[] = macs.map((m) => ({
    uuid: m.uuid,
    mac_address: m.mac_address as string,
    ip_leases: ipsOf(m).map((l) => ({
      uuid: l.uuid,
      network_uuid: l.network_uuid as string,
      ipv4_address: l.ipv4_address as string,
    })),
  }));
  const firstIp = mac_leases.flatMap((m) => m.ip_leases)[0];
  return {
    ...doc,
    mac_address: mac_leases[0]?.mac_address ?? null,
    network_uuid: firstIp?.network_uuid ?? (doc.network_uuid as string | null) ?? null,
    ipv4_address: firstIp?.ipv4_address ?? null,
    mac_leases,
  };
}

export async function represent(ctx: DocFinder, kind: ResourceKind, doc: Doc): Promise<Doc> {
  if (kind !== 'interfaces') return doc;
  const macs = await ctx.find('mac_leases', { interface_uuid: doc.uuid });
  const ips = new Map<string, Doc[]>();
  for (const m of macs) ips.set(m.uuid, await ctx.find('ip_leases', { mac_lease_uuid: m.uuid }));
  return representInterface(doc, macs, (m) => ips.get(m.uuid) ?? []);
}

// Topologies: their relations (/topologies/:uuid/<relation>/:other) and the datapath_networks, datapath_segments and
// datapath_route_links rows they derive. The rows stay the one record the agents read (uplinks, per-host MACs,
// gateway candidates, which networks a topology's datapath carries); each derived row names its topology, and a
// sync after every topology change makes the rows exactly what the topologies say (docs/topologies.md).
import {
  ArgumentError,
  DeleteRestrictionError,
  NotSupported,
  RelationAlreadyExists,
  UnknownResource,
} from '../model/errors.js';
import type { Params } from '../model/params.js';
import * as D from '../model/resources/index.js';
import type { ResourceKind } from '../model/types.js';
import type { Doc } from '../store/store.js';
import { define, kindOfPrefix, newDoc, type ResourceDef } from './documents.js';
import type { WriteContext } from './write-context.js';

type Relation = D.TopologyRelation;
type Row = Record<string, string>;

/** What a topology provisions, per related list: the per-datapath row kind and its field. */
const PROVISIONED = [
  { list: 'networks', kind: 'datapath_networks', field: 'network_uuid', decl: D.datapathNetworks },
  { list: 'segments', kind: 'datapath_segments', field: 'segment_uuid', decl: D.datapathSegments },
  { list: 'route_links', kind: 'datapath_route_links', field: 'route_link_uuid', decl: D.datapathRouteLinks },
] as const;

const rowsOf = (topo: Doc, rel: Relation) => (topo[rel.segment] ?? []) as Row[];

export function topologyRelation(segment: string): Relation {
  const rel = D.TOPOLOGY_RELATIONS.find((r) => r.segment === segment);
  if (!rel) throw new Error(`no topology relation ${segment}`);
  return rel;
}

/** A relation row as the API shows it: the topology, the related object and what the row carries. */
export function relationRow(topoUuid: string, row: Row, rel: Relation): Doc {
  return { uuid: `${topoUuid}/${row[rel.otherField]}`, topology_uuid: topoUuid, ...row } as Doc;
}

/** The checks OpenVNet's models make (a mode that takes the relation) and the ones vnet adds. */
async function checkRelation(ctx: WriteContext, topo: Doc, rel: Relation, other: string, p: Params): Promise<Row> {
  const mode = topo.mode as D.TopologyMode;
  if (!rel.modes.includes(mode))
    throw new ArgumentError('mode', `a ${mode} topology has no ${rel.segment} (${rel.modes.join(' or ')} have them)`);
  const target = await ctx.must(kindOfPrefix(rel.otherPrefix), other, rel.otherField);
  if (rowsOf(topo, rel).some((r) => r[rel.otherField] === other))
    throw new RelationAlreadyExists(`${rel.otherField}: ${topo.uuid} already has ${other}`, rel.otherField);
  if (rel.segment === 'underlays') {
    if (target.mode !== 'simple_underlay')
      throw new ArgumentError('underlay_uuid', `${other} is ${target.mode}: an underlay is a simple_underlay topology`);
    return { underlay_uuid: other };
  }
  if (rel.segment !== 'datapaths') return { [rel.otherField]: other };
  if (p.ip_lease_uuid !== undefined && p.ip_lease_uuid !== null)
    throw new NotSupported(
      'ip_lease_uuid',
      "vnet tunnels from the datapath's ipv4_address, else its host interface's address; choose neither lease",
    );
  const ifUuid = p.interface_uuid as string;
  const iface = await ctx.must('interfaces', ifUuid, 'interface_uuid');
  if (iface.mode !== 'host' || iface.owner_datapath_uuid !== other)
    throw new ArgumentError('interface_uuid', `${ifUuid} is not a host interface of ${other}`);
  return { datapath_uuid: other, interface_uuid: ifUuid };
}

/** POST /topologies/:uuid/<relation>/:other. */
export async function addToTopology(
  ctx: WriteContext,
  rel: Relation,
  topoUuid: string,
  other: string,
  p: Params,
): Promise<Doc> {
  const topo = await ctx.must('topologies', topoUuid, 'uuid');
  const row = await checkRelation(ctx, topo, rel, other, p);
  topo[rel.segment] = [...rowsOf(topo, rel), row];
  await ctx.update('topologies', topo);
  await syncTopologyRows(ctx);
  return relationRow(topoUuid, row, rel);
}

/** DELETE /topologies/:uuid/<relation>/:other: the rows it provisioned through that object are withdrawn. */
export async function removeFromTopology(ctx: WriteContext, rel: Relation, topoUuid: string, other: string) {
  const topo = await ctx.must('topologies', topoUuid, 'uuid');
  const rows = rowsOf(topo, rel);
  if (!rows.some((r) => r[rel.otherField] === other))
    throw new UnknownResource(`${topoUuid} has no ${rel.singular} ${other}`);
  topo[rel.segment] = rows.filter((r) => r[rel.otherField] !== other);
  await ctx.update('topologies', topo);
  await syncTopologyRows(ctx);
}

/** An object that is going: out of every topology's lists (its own rows go with its own cascade). */
export async function forgetInTopologies(ctx: WriteContext, field: string, uuid: string, except?: string) {
  let changed = false;
  for (const topo of await ctx.find('topologies')) {
    if (topo.uuid === except) continue;
    let mine = false;
    for (const rel of D.TOPOLOGY_RELATIONS) {
      const rows = rowsOf(topo, rel);
      const kept = rows.filter((r) => r[field] !== uuid);
      if (kept.length === rows.length) continue;
      topo[rel.segment] = kept;
      mine = true;
    }
    if (!mine) continue;
    await ctx.update('topologies', topo);
    changed = true;
  }
  if (changed) await syncTopologyRows(ctx, except);
}

/** A host interface a topology uses for a datapath cannot go first (409 naming the topology). */
export async function refuseIfTopologyInterface(ctx: WriteContext, ifUuid: string) {
  const users = (await ctx.find('topologies'))
    .filter((t) => rowsOf(t, topologyRelation('datapaths')).some((r) => r.interface_uuid === ifUuid))
    .map((t) => `${t.uuid} (datapaths interface_uuid)`);
  if (users.length > 0) throw new DeleteRestrictionError(ifUuid, users);
}

interface Wanted {
  kind: (typeof PROVISIONED)[number]['kind'];
  decl: (typeof PROVISIONED)[number]['decl'];
  field: string;
  datapath: string;
  other: string;
  topology: string;
  interfaceUuid: string;
  /** The carrying underlay's MAC range groups: where a new row's MAC comes from. */
  macGroups: string[];
}

/** Every row the topologies call for; the first topology (by uuid) to call for one owns it. */
function wantedRows(topos: Doc[]): Map<string, Wanted> {
  const byUuid = new Map(topos.map((t) => [t.uuid, t]));
  const want = new Map<string, Wanted>();
  for (const t of [...topos].sort((a, b) => a.uuid.localeCompare(b.uuid))) {
    const carriers =
      t.mode === 'simple_underlay'
        ? [t]
        : rowsOf(t, topologyRelation('underlays')).flatMap((r) => byUuid.get(r.underlay_uuid!) ?? []);
    for (const u of carriers) {
      const macGroups = rowsOf(u, topologyRelation('mac_range_groups')).map((r) => r.mac_range_group_uuid!);
      for (const dp of rowsOf(u, topologyRelation('datapaths')))
        for (const p of PROVISIONED)
          for (const r of (t[p.list] ?? []) as Row[]) {
            const key = `${p.kind}\u0000${dp.datapath_uuid}/${r[p.field]}`;
            if (want.has(key)) continue;
            want.set(key, {
              kind: p.kind,
              decl: p.decl,
              field: p.field,
              datapath: dp.datapath_uuid!,
              other: r[p.field]!,
              topology: t.uuid,
              interfaceUuid: dp.interface_uuid!,
              macGroups,
            });
          }
    }
  }
  return want;
}

const macNum = (m: string) => Number.parseInt(m.replaceAll(':', ''), 16);
const numMac = (n: number) => n.toString(16).padStart(12, '0').match(/../g)!.join(':');

/** The first MAC of the groups' ranges no per-datapath row or MAC lease holds; null: no group, or all taken. */
async function macFrom(ctx: WriteContext, groups: string[], used: Set<string>): Promise<string | null> {
  for (const g of groups) {
    const group = await ctx.get('mac_range_groups', g);
    for (const r of (group?.mac_ranges ?? []) as { begin_mac_address: string; end_mac_address: string }[]) {
      const end = macNum(r.end_mac_address);
      for (let n = macNum(r.begin_mac_address), i = 0; n <= end && i < 65536; n++, i++) {
        const m = numMac(n);
        if (used.has(m) || (await ctx.findOne('mac_leases', { mac_address: m }))) continue;
        used.add(m);
        return m;
      }
    }
  }
  return null;
}

/**
 * Makes the derived rows exactly what the topologies call for: new ones inserted (with a MAC from the underlay's
 * MAC range group when it has one), ones no topology calls for any more removed, a changed owner or host interface
 * updated. A row written through /datapaths wins over a derived one (OpenVNet skipped an existing row too).
 * `without`: a topology being deleted, whose rows go.
 */
export async function syncTopologyRows(ctx: WriteContext, without?: string): Promise<void> {
  const want = wantedRows((await ctx.find('topologies')).filter((t) => t.uuid !== without));
  const used = new Set<string>();
  const existing: { kind: ResourceKind; row: Doc }[] = [];
  for (const p of PROVISIONED)
    for (const row of await ctx.find(p.kind)) {
      existing.push({ kind: p.kind, row });
      if (typeof row.mac_address === 'string') used.add(row.mac_address);
    }
  for (const { kind, row } of existing) {
    const key = `${kind}\u0000${row.uuid}`;
    const w = want.get(key);
    want.delete(key);
    if (!row.topology_uuid) continue; // written by hand: not the topologies' to change
    if (!w) await ctx.remove(kind, row.uuid);
    else if (row.topology_uuid !== w.topology || row.interface_uuid !== w.interfaceUuid) {
      const mac = row.mac_address ?? (await macFrom(ctx, w.macGroups, used));
      await ctx.update(kind, { ...row, topology_uuid: w.topology, interface_uuid: w.interfaceUuid, mac_address: mac });
    }
  }
  for (const w of want.values()) {
    const doc = newDoc(
      w.decl,
      {},
      {
        uuid: `${w.datapath}/${w.other}`,
        datapath_uuid: w.datapath,
        [w.field]: w.other,
        interface_uuid: w.interfaceUuid,
        mac_address: await macFrom(ctx, w.macGroups, used),
        topology_uuid: w.topology,
      },
    );
    await ctx.insert(w.kind, doc);
  }
}

/**
 * A mode changed in place (OpenVNet stored it under any members): taken only while every member the topology has
 * is one the new mode takes, and, away from simple_underlay, while no overlay rides it — so the rows it derives
 * never hold a member its mode cannot carry.
 */
async function checkModeChange(ctx: WriteContext, p: Params, doc?: Doc): Promise<void> {
  const mode = p.mode as D.TopologyMode | undefined;
  if (!doc || mode === undefined || mode === doc.mode) return;
  for (const rel of D.TOPOLOGY_RELATIONS)
    if (rowsOf(doc, rel).length > 0 && !rel.modes.includes(mode))
      throw new ArgumentError(
        'mode',
        `${doc.uuid} has ${rel.segment} (${rowsOf(doc, rel)
          .map((r) => r[rel.otherField])
          .join(', ')}), which a ${mode} topology does not take: remove them first`,
      );
  if (doc.mode === 'simple_underlay') {
    const riders = (await ctx.find('topologies')).filter((t) =>
      rowsOf(t, topologyRelation('underlays')).some((r) => r.underlay_uuid === doc.uuid),
    );
    if (riders.length > 0)
      throw new ArgumentError(
        'mode',
        `${doc.uuid} is the underlay of ${riders.map((t) => t.uuid).join(', ')}: take it out of their underlays first`,
      );
  }
}

const declaredTopologies = define(D.topologies, {
  check: checkModeChange,
  async cascade(ctx, doc) {
    // Overlays lose it as an underlay; then every row it (or an overlay through it) provisioned is withdrawn.
    await forgetInTopologies(ctx, 'underlay_uuid', doc.uuid, doc.uuid);
    await syncTopologyRows(ctx, doc.uuid);
  },
});

export const topologies: ResourceDef = {
  ...declaredTopologies,
  async update(ctx, doc, p) {
    const before = doc.mode; // the update writes onto `doc`
    const updated = await declaredTopologies.update(ctx, doc, p);
    // What a topology derives follows its mode; its other fields (display_name) derive nothing.
    if (updated.mode !== before) await syncTopologyRows(ctx);
    return updated;
  },
};

/**
 * A kind topologies name (by `field` in their rows), wrapped so that deleting one takes it out of every topology
 * first (an interface a topology uses is refused instead); `join`: OpenVNet's `topology_uuid` on create of a
 * network, segment or route link adds it to that topology, as POST /topologies/:uuid/<join>/:uuid would.
 */
export function inTopologies(def: ResourceDef, field: string, join?: 'networks' | 'segments' | 'route_links') {
  const rel = join && topologyRelation(join);
  return {
    ...def,
    async create(ctx, p) {
      if (rel && typeof p.topology_uuid === 'string') await ctx.must('topologies', p.topology_uuid, 'topology_uuid');
      const doc = await def.create(ctx, p);
      if (rel && typeof p.topology_uuid === 'string') await addToTopology(ctx, rel, p.topology_uuid, doc.uuid, {});
      return doc;
    },
    async remove(ctx, doc) {
      if (field === 'interface_uuid') await refuseIfTopologyInterface(ctx, doc.uuid);
      else await forgetInTopologies(ctx, field, doc.uuid);
      await def.remove(ctx, doc);
    },
  } satisfies ResourceDef;
}

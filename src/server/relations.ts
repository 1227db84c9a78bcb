// Relation and sub-item endpoints: datapath networks/route links/segments, ports, memberships, rules, statics, ranges.
import {
  ArgumentError,
  DuplicateValue,
  InvalidID,
  RelationAlreadyExists,
  UnknownResource,
  UnknownUUIDResource,
  LimitExceeded,
} from '../model/errors.js';
import { ipToInt } from '../model/ipv4.js';
import { bool, type ParamSpec, type Params, str, uuid } from '../model/params.js';
import { type ItemDecl, paramsFor } from '../model/resource.js';
import * as D from '../model/resources/index.js';
import { type ResourceKind, UUID_PREFIX } from '../model/types.js';
import type { Doc } from '../store/store.js';
import { checkStaticAddress } from './resources/static-addresses.js';
import type { WriteContext } from './write-context.js';

const P = UUID_PREFIX;
const has = (p: Params, k: string) => p[k] !== undefined;

/** A per-datapath relation row (OpenVNet's datapath_networks / datapath_route_links / datapath_segments). */
export interface DatapathRelationDef {
  kind: 'datapath_networks' | 'datapath_route_links' | 'datapath_segments';
  /** Path segment after /datapaths/:uuid/ */
  segment: 'networks' | 'route_links' | 'segments';
  otherKind: ResourceKind;
  otherField: 'network_uuid' | 'route_link_uuid' | 'segment_uuid';
  otherPrefix: string;
  params: ParamSpec[];
}

export const DATAPATH_RELATIONS: readonly DatapathRelationDef[] = [
  {
    kind: 'datapath_networks',
    segment: 'networks',
    otherKind: 'networks',
    otherField: 'network_uuid',
    otherPrefix: P.networks,
    params: paramsFor(D.datapathNetworks.fields, 'update'),
  },
  {
    kind: 'datapath_route_links',
    segment: 'route_links',
    otherKind: 'route_links',
    otherField: 'route_link_uuid',
    otherPrefix: P.route_links,
    params: paramsFor(D.datapathRouteLinks.fields, 'update'),
  },
  {
    kind: 'datapath_segments',
    segment: 'segments',
    otherKind: 'segments',
    otherField: 'segment_uuid',
    otherPrefix: P.segments,
    params: paramsFor(D.datapathSegments.fields, 'update'),
  },
];

export async function datapathRelationPut(
  ctx: WriteContext,
  def: DatapathRelationDef,
  dp: string,
  other: string,
  p: Params,
  create: boolean,
): Promise<Doc> {
  await ctx.must('datapaths', dp, 'uuid');
  await ctx.must(def.otherKind, other, def.otherField);
  if (p.interface_uuid) await ctx.must('interfaces', p.interface_uuid as string, 'interface_uuid');
  const id = `${dp}/${other}`;
  const existing = await ctx.get(def.kind, id);
  if (create && existing)
    throw new RelationAlreadyExists(`${def.otherField}: ${dp} already has ${other}`, def.otherField);
  if (!create && !existing) throw new UnknownUUIDResource(id);
  const doc: Doc = existing ?? {
    uuid: id,
    datapath_uuid: dp,
    [def.otherField]: other,
    // Every settable field of the row, null until given (host interface, MACs, gateway priority).
    ...Object.fromEntries(def.params.map((s) => [s.name, null])),
    topology_uuid: null,
  };
  for (const s of def.params) if (has(p, s.name)) doc[s.name] = p[s.name];
  return existing ? ctx.update(def.kind, doc) : ctx.insert(def.kind, doc);
}

// ---------- interface ports (OpenVNet's interface_ports; here the interface's one owner datapath + port name) ----------

export const PORT_PARAMS: ParamSpec[] = [
  uuid('datapath_uuid', P.datapaths, { nullable: true }),
  str('port_name', { nullable: true }),
  bool('singular'),
];

export function portsOf(iface: Doc): Doc[] {
  if (iface.owner_datapath_uuid === null && iface.port_name === null) return [];
  return [
    {
      uuid: `${iface.uuid}/port`,
      interface_uuid: iface.uuid,
      datapath_uuid: iface.owner_datapath_uuid,
      port_name: iface.port_name,
      singular: true,
    },
  ];
}

export async function addPort(ctx: WriteContext, ifUuid: string, p: Params): Promise<Doc> {
  const iface = await ctx.must('interfaces', ifUuid, 'uuid');
  if (p.singular === false)
    throw new ArgumentError('singular', 'only singular ports are supported (one per interface)');
  if (p.datapath_uuid) await ctx.must('datapaths', p.datapath_uuid as string, 'datapath_uuid');
  if (has(p, 'datapath_uuid')) iface.owner_datapath_uuid = p.datapath_uuid;
  if (has(p, 'port_name')) iface.port_name = p.port_name;
  await ctx.update('interfaces', iface);
  return (
    portsOf(iface)[0] ?? { interface_uuid: ifUuid, datapath_uuid: null, port_name: null, singular: true, uuid: '' }
  );
}

export async function removePorts(ctx: WriteContext, ifUuid: string, p: Params): Promise<Doc[]> {
  const iface = await ctx.must('interfaces', ifUuid, 'uuid');
  const ports = portsOf(iface).filter(
    (x) =>
      (!has(p, 'datapath_uuid') || x.datapath_uuid === p.datapath_uuid) &&
      (!has(p, 'port_name') || x.port_name === p.port_name),
  );
  if (ports.length === 0) throw new UnknownResource(`${ifUuid} has no matching port`);
  await ctx.update('interfaces', { ...iface, owner_datapath_uuid: null, port_name: null });
  return ports;
}

// ---------- security group membership and rules ----------

export async function setMembership(ctx: WriteContext, ifUuid: string, sg: string, member: boolean): Promise<Doc> {
  const iface = await ctx.must('interfaces', ifUuid, 'uuid');
  await ctx.must('security_groups', sg, 'security_group_uuid');
  const sgs = iface.security_group_uuids as string[];
  if (member && !sgs.includes(sg)) iface.security_group_uuids = [...sgs, sg];
  else if (!member) {
    if (!sgs.includes(sg)) throw new UnknownResource(`${ifUuid} is not a member of ${sg}`);
    iface.security_group_uuids = sgs.filter((s) => s !== sg);
  }
  return ctx.update('interfaces', iface);
}

function describeRule(r: Record<string, unknown>): string {
  const ports = r.port_range_min === null ? '' : ` ${r.port_range_min}-${r.port_range_max}`;
  const remote = r.remote_group_uuid ?? r.remote_ip_prefix ?? 'anywhere';
  return `${r.direction} ${r.protocol}${ports} ${r.direction === 'ingress' ? 'from' : 'to'} ${remote}`;
}

// ---------- items embedded in a parent document, addressed by their own uuid ----------

export interface SubItemDef {
  parentKind: ResourceKind;
  /** Path segment after /<parent>/:uuid/ */
  segment: string;
  /** Array field of the parent document. */
  field: string;
  prefix: string;
  params: ParamSpec[];
  max: number;
  /** Validates and builds the item (without uuid). */
  build(ctx: WriteContext, parent: Doc, p: Params): Promise<Record<string, unknown>>;
}

/** Where an item kind lives and what it takes, from its declaration (and the registry's parent). */
function itemRoute(decl: ItemDecl) {
  const parent = D.ITEMS.find((i) => i.decl === decl);
  if (!parent) throw new Error(`item ${decl.segment} is not in the ITEMS registry`);
  return {
    parentKind: parent.parent as ResourceKind,
    segment: decl.segment,
    field: decl.field,
    params: paramsFor(decl.fields, 'create'),
    max: decl.max,
  };
}

/** 409 when the parent's list is full (ItemDecl.max). */
function checkRoom(def: { field: string; max: number }, parentUuid: string, items: readonly unknown[]): void {
  if (items.length >= def.max)
    throw new LimitExceeded(def.field, `${parentUuid} already has ${items.length} (the limit is ${def.max})`);
}

function subItem(decl: ItemDecl, build: SubItemDef['build']): SubItemDef {
  return { ...itemRoute(decl), prefix: decl.prefix!, build };
}

/** A begin/end range item: begin must not be after end (compared as numbers). */
function range(decl: ItemDecl, begin: string, end: string, num: (v: string) => number): SubItemDef {
  return subItem(decl, async (_ctx, _parent, p) => {
    if (num(p[begin] as string) > num(p[end] as string)) throw new ArgumentError(begin, 'begin is after end');
    return { [begin]: p[begin], [end]: p[end] };
  });
}

const macNum = (m: string) => Number.parseInt(m.replaceAll(':', ''), 16);

export const SUB_ITEMS: readonly SubItemDef[] = [
  subItem(D.securityGroupRules, async (ctx, parent, p) => {
    const number = D.ruleProtocolNumber(p.protocol as string);
    if (number !== null && number > 255) throw new ArgumentError('protocol', `${number} is not an IP protocol (0-255)`);
    const tcpUdp = number === 6 || number === 17;
    const icmp = number === 1;
    for (const f of ['port_range_min', 'port_range_max'])
      if (p[f] !== undefined && p[f] !== null && !tcpUdp && !icmp)
        throw new ArgumentError(f, 'only for protocol tcp or udp (ports) or icmp (type and code)');
    const min = (p.port_range_min as number | null | undefined) ?? null;
    // ICMP, as Neutron: port_range_min is the type, port_range_max the code (none: any code of that type).
    const max = (p.port_range_max as number | null | undefined) ?? (icmp ? null : min);
    if (icmp) {
      if (min !== null && min > 255) throw new ArgumentError('port_range_min', `ICMP type ${min} is not 0-255`);
      if (max !== null && max > 255) throw new ArgumentError('port_range_max', `ICMP code ${max} is not 0-255`);
      if (min === null && max !== null) throw new ArgumentError('port_range_max', 'an ICMP code needs its type');
    } else if (min !== null && max !== null && min > max)
      throw new ArgumentError('port_range_min', 'greater than port_range_max');
    if (p.remote_ip_prefix && p.remote_group_uuid)
      throw new ArgumentError('remote_group_uuid', 'give remote_ip_prefix or remote_group_uuid, not both');
    if (p.remote_group_uuid && p.remote_group_uuid !== parent.uuid)
      await ctx.must('security_groups', p.remote_group_uuid as string, 'remote_group_uuid');
    const rule = {
      direction: p.direction,
      protocol: p.protocol,
      port_range_min: min,
      port_range_max: min === null ? null : max,
      remote_ip_prefix: p.remote_ip_prefix ?? null,
      remote_group_uuid: p.remote_group_uuid ?? null,
    };
    // As Neutron does: a second identical rule would change nothing but the list an operator has to read (a
    // protocol by name and by number is the same rule).
    const same = (parent.rules as Doc[]).find((r) =>
      Object.entries(rule).every(([k, v]) =>
        k === 'protocol' ? D.ruleProtocolNumber(r[k] as string) === number : r[k] === v,
      ),
    );
    if (same) throw new DuplicateValue('rule', describeRule(rule), String(same.uuid));
    return rule;
  }),
  range(D.ipRanges, 'begin_ipv4_address', 'end_ipv4_address', ipToInt),
  range(D.macRanges, 'begin_mac_address', 'end_mac_address', macNum),
  subItem(D.dnsRecords, async (_ctx, _parent, p) => ({ name: p.name, ipv4_address: p.ipv4_address })),
];

export async function addSubItem(ctx: WriteContext, def: SubItemDef, parentUuid: string, p: Params): Promise<Doc> {
  const parent = await ctx.must(def.parentKind, parentUuid, 'uuid');
  const items = parent[def.field] as Doc[];
  checkRoom(def, parentUuid, items);
  const body = await def.build(ctx, parent, p);
  let id = p.uuid as string | undefined;
  if (id !== undefined) {
    if (items.some((i) => i.uuid === id)) throw new RelationAlreadyExists(`uuid: ${id} already exists`, 'uuid');
    // Sub-item uuids are unique across parents too, so one uuid names one rule everywhere.
    for (const other of await ctx.find(def.parentKind))
      if ((other[def.field] as Doc[]).some((i) => i.uuid === id))
        throw new RelationAlreadyExists(`uuid: ${id} already exists in ${other.uuid}`, 'uuid');
  } else {
    const { randomId } = await import('./write-context.js');
    id = `${def.prefix}-${randomId()}`;
  }
  const item = { uuid: id, ...body } as Doc;
  parent[def.field] = [...items, item];
  await ctx.update(def.parentKind, parent);
  return item;
}

export async function removeSubItem(ctx: WriteContext, def: SubItemDef, parentUuid: string, id: string) {
  const parent = await ctx.must(def.parentKind, parentUuid, 'uuid');
  const items = parent[def.field] as Doc[];
  if (!items.some((i) => i.uuid === id)) throw new UnknownUUIDResource(id);
  parent[def.field] = items.filter((i) => i.uuid !== id);
  await ctx.update(def.parentKind, parent);
}

// ---------- items without uuid, identified by their fields (filter statics, translation static addresses) ----------

export interface KeyedItemDef {
  parentKind: ResourceKind;
  segment: string;
  field: string;
  params: ParamSpec[];
  max: number;
  /** Builds the full item with defaults (also used to identify the item on DELETE). */
  build(ctx: WriteContext, p: Params, forDelete: boolean): Promise<Record<string, unknown>>;
  /** Fields compared to identify an item on DELETE (given ones only). */
  keys: string[];
}

export const KEYED_ITEMS: readonly KeyedItemDef[] = [
  {
    ...itemRoute(D.filterStatics),
    keys: ['protocol', 'action', 'src_address', 'dst_address', 'src_port', 'dst_port'],
    async build(_ctx, p, forDelete) {
      if (!forDelete && !has(p, 'action')) throw new ArgumentError('action', 'required (pass, drop or conn)');
      const tcpUdp = p.protocol === 'tcp' || p.protocol === 'udp';
      for (const f of ['src_port', 'dst_port'])
        if (!tcpUdp && p[f]) throw new ArgumentError(f, 'only for protocol tcp or udp');
      return {
        protocol: p.protocol,
        action: p.action,
        src_address: p.src_address ?? '0.0.0.0/0',
        dst_address: p.dst_address ?? '0.0.0.0/0',
        src_port: p.src_port ?? 0,
        dst_port: p.dst_port ?? 0,
      };
    },
  },
  {
    ...itemRoute(D.staticAddresses),
    keys: [
      'ingress_ipv4_address',
      'egress_ipv4_address',
      'ingress_port_number',
      'egress_port_number',
      'route_link_uuid',
    ],
    async build(ctx, p, forDelete) {
      if (has(p, 'ingress_port_number') !== has(p, 'egress_port_number'))
        throw new ArgumentError(
          'ingress_port_number',
          'give both ingress_port_number and egress_port_number, or neither',
        );
      if (!forDelete) {
        if (p.route_link_uuid) await ctx.must('route_links', p.route_link_uuid as string, 'route_link_uuid');
        for (const f of ['ingress_network_uuid', 'egress_network_uuid'])
          if (p[f]) await ctx.must('networks', p[f] as string, f);
      }
      return {
        ingress_ipv4_address: p.ingress_ipv4_address,
        egress_ipv4_address: p.egress_ipv4_address,
        ingress_port_number: p.ingress_port_number ?? null,
        egress_port_number: p.egress_port_number ?? null,
        route_link_uuid: p.route_link_uuid ?? null,
        ingress_network_uuid: p.ingress_network_uuid ?? null,
        egress_network_uuid: p.egress_network_uuid ?? null,
      };
    },
  },
];

function sameKeys(def: KeyedItemDef, a: Record<string, unknown>, b: Record<string, unknown>, only?: Params) {
  return def.keys.every((k) => (only && !has(only, k) ? true : a[k] === b[k]));
}

export async function addKeyedItem(ctx: WriteContext, def: KeyedItemDef, parentUuid: string, p: Params) {
  const parent = await ctx.must(def.parentKind, parentUuid, 'uuid');
  if (def.parentKind === 'translations' && parent.mode === 'snat')
    throw new ArgumentError(
      'mode',
      `${parentUuid} is a snat translation: it translates from its router interface's address and takes no static addresses`,
    );
  const item = await def.build(ctx, p, false);
  const items = parent[def.field] as Record<string, unknown>[];
  checkRoom(def, parentUuid, items);
  if (items.some((i) => sameKeys(def, i, item)))
    throw new RelationAlreadyExists(`${parentUuid} already has this entry`);
  if (
    def.parentKind === 'translations' &&
    items.some(
      (i) => i.ingress_ipv4_address === item.ingress_ipv4_address && i.ingress_port_number === item.ingress_port_number,
    )
  )
    throw new InvalidID('ingress_ipv4_address', `${item.ingress_ipv4_address} is already translated by ${parentUuid}`);
  // Outside addresses and ports, read by the translation's form (docs/north-south.md).
  if (def.parentKind === 'translations')
    await checkStaticAddress(ctx, parent, item as unknown as Parameters<typeof checkStaticAddress>[2]);
  parent[def.field] = [...items, item];
  await ctx.update(def.parentKind, parent);
  return item;
}

/** Removes the entries matching the given identifying fields (defaults apply to the filter fields). */
export async function removeKeyedItem(ctx: WriteContext, def: KeyedItemDef, parentUuid: string, p: Params) {
  const parent = await ctx.must(def.parentKind, parentUuid, 'uuid');
  const probe = await def.build(ctx, p, true);
  const items = parent[def.field] as Record<string, unknown>[];
  // Filter statics: omitted addresses/ports mean their defaults, as in OpenVNet; omitted action matches any.
  const only: Params =
    def.parentKind === 'filters' ? { ...p, src_address: 1, dst_address: 1, src_port: 1, dst_port: 1 } : p;
  const gone = items.filter((i) => sameKeys(def, i, probe, only));
  if (gone.length === 0) throw new UnknownResource(`${parentUuid} has no matching ${def.segment} entry`);
  parent[def.field] = items.filter((i) => !gone.includes(i));
  await ctx.update(def.parentKind, parent);
  return gone;
}

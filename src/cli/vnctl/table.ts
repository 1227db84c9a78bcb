// vnctl's command table: the resources, relations and items come from their declarations (src/model/resources),
// so add/modify/filter options, their types, help and "required" marks are the server's own; what is vnctl's
// alone (command names, help order, table columns, item placeholders, interface ports, ip lease actions) is data here.
import type { ParamSpec } from '../../model/params.js';
import { type Declared, type Fields, type ItemDecl, type Operation, paramsFor } from '../../model/resource.js';
import * as D from '../../model/resources/index.js';
import { TRACE_PARAMS, TRACE_SOURCE_PARAMS } from '../../model/trace.js';
import type { ActionSpec, OptionSpec, OptionType, RelationSpec, ResourceSpec } from './spec.js';

const opt = (name: string, type: OptionType, help: string): OptionSpec => ({ name, type, help });

/** A declared request parameter as an option: ints and bools keep their type, the rest is text the server checks. */
function optionOf(p: ParamSpec): OptionSpec {
  if (p.type.t === 'records') {
    const o: OptionSpec = { name: p.name, type: 'array', help: p.doc ?? '', item: Object.keys(p.type.item) };
    return p.required ? { ...o, required: true } : o;
  }
  const type: OptionType = p.type.t === 'int' ? 'integer' : p.type.t === 'bool' ? 'boolean' : 'string';
  let help = p.doc ?? '';
  // Help names what a uuid looks like unless the doc already does ("interface (if-…)").
  if (p.type.t === 'uuid' && !help.includes(`${p.type.prefix}-`)) help += ` (${p.type.prefix}-…)`;
  return p.required ? { name: p.name, type, help, required: true } : { name: p.name, type, help };
}

/** The options of one operation on a declared field set, in declaration order. */
const options = (fields: Fields, op: Operation): OptionSpec[] => paramsFor(fields, op).map(optionOf);

/** `show` without a uuid lists; these page through the list. */
export const LIST_OPTIONS: readonly OptionSpec[] = [
  opt('limit', 'integer', 'page size (the server caps it)'),
  opt('offset', 'integer', 'index of the first item'),
];

/**
 * `vnctl trace IF --dst ADDR …`: a packet's way from an interface, POST /traces's own parameters (the sender is the
 * positional IF); `--flows` is vnctl's own.
 */
export const TRACE_OPTIONS: readonly OptionSpec[] = [
  ...TRACE_PARAMS.filter((p) => !(TRACE_SOURCE_PARAMS as readonly string[]).includes(p.name)).map(optionOf),
  opt('flows', 'boolean', "also print each host's OpenFlow tables and flows the packet hit"),
];

/** How a relation's rows are addressed: by a second uuid in the path, or (`params`) by their fields on `del`. */
interface Addressing {
  readonly add: 'path' | 'none';
  readonly del: 'path' | 'params';
  readonly modify?: true;
}

/** A relation or item collection whose options are a declared field set's create (and update) parameters. */
function declaredRelation(
  fields: Fields,
  how: Addressing,
  r: Pick<RelationSpec, 'name' | 'singular' | 'help' | 'columns'> & { item?: string },
): RelationSpec {
  const add = options(fields, 'create');
  return {
    ...r,
    add: { target: how.add, method: 'POST', options: add },
    del: { target: how.del, options: how.del === 'params' ? add : [] },
    show: true,
    ...(how.modify ? { modify: { options: options(fields, 'update') } } : {}),
  };
}

/** A per-datapath relation row (`datapaths networks add DP NW`): addressed by the other object's uuid in the path. */
const datapathRelation = (decl: Declared, name: string, singular: string, item: string) =>
  declaredRelation(
    decl.fields,
    { add: 'path', del: 'path', modify: true },
    {
      name,
      singular,
      item,
      help: decl.doc,
      // Every field but the row's composite uuid and the timestamps: datapath, other object, host interface, MACs.
      columns: Object.entries(decl.fields)
        .filter(([k, fl]) => k !== 'uuid' && fl.param)
        .map(([k]) => k),
    },
  );

/** Items with their own uuid (`add` creates under the parent, an optional `--uuid` picks the id; `del BASE ITEM`). */
const childCollection = (decl: ItemDecl, singular: string, item: string, columns: readonly string[]) =>
  declaredRelation(
    decl.fields,
    { add: 'none', del: 'path' },
    { name: decl.segment, singular, item, help: decl.doc, columns },
  );

/** Items without an id: `del` names the row by its fields. */
const keyedByParams = (decl: ItemDecl, singular: string, columns: readonly string[]) =>
  declaredRelation(
    decl.fields,
    { add: 'none', del: 'params' },
    { name: decl.segment, singular, help: decl.doc, columns },
  );

// ---------- vnctl's own: no declaration behind them ----------

/** Interface ports: OpenVNet's interface_ports, here the interface's owner datapath and port name. */
const portOptions = [
  opt('datapath_uuid', 'string', 'datapath (dp-…)'),
  opt('port_name', 'string', 'OVS port name'),
  opt('singular', 'boolean', 'the interface is bound on this datapath only'),
];
const ports: RelationSpec = {
  name: 'ports',
  singular: 'port',
  help: 'where the interface is bound (datapath and OVS port name)',
  add: { target: 'none', method: 'POST', options: portOptions },
  del: { target: 'params', options: portOptions },
  show: true,
  columns: ['uuid', 'datapath_uuid', 'port_name', 'singular'],
};

/** Security group membership; listed per interface, there is no endpoint for one membership row. */
const membership: RelationSpec = {
  name: 'security_groups',
  singular: 'security_group',
  item: 'SG',
  help: 'security group membership',
  add: { target: 'path', method: 'PUT', options: [] },
  del: { target: 'path', options: [] },
  show: true,
  showItem: false,
  columns: ['uuid', 'display_name', 'description'],
};

/**
 * OpenVNet's interface associations: `interfaces segments modify IF SEG --static true` (its vnctl's spelling;
 * `add` is vnet's older one), a PUT on the row. Route links have no list endpoint (nor had OpenVNet).
 */
const staticOption = [opt('static', 'boolean', 'true: static; false: not')];
const association = (name: string, singular: string, item: string): RelationSpec => ({
  name,
  singular,
  item,
  help: `the interface's ${name} (static: kept without ${name === 'route_links' ? 'routes' : 'leases'})`,
  add: { target: 'path', method: 'PUT', options: staticOption },
  modify: { options: staticOption },
  show: true,
  showItem: false,
  columns: ['interface_uuid', `${singular}_uuid`, 'static'],
});

const attach: ActionSpec = {
  name: 'attach',
  method: 'PUT',
  help: 'attach the lease to an interface or MAC lease',
  options: [opt('interface_uuid', 'string', 'interface (if-…)'), opt('mac_lease_uuid', 'string', 'MAC lease (ml-…)')],
};
const release: ActionSpec = {
  name: 'release',
  method: 'PUT',
  help: 'detach the lease from its interface',
  options: [],
};

/** A lease policy's relation to another object (`lease_policies networks add LP NW --ip-range-group-uuid …`). */
function policyRelation(
  name: string,
  singular: string,
  item: string,
  options: OptionSpec[],
  columns: string[],
): RelationSpec {
  return {
    name,
    singular,
    item,
    help: `the lease policy's ${name}`,
    add: { target: 'path', method: 'POST', options },
    del: { target: 'path', options: [] },
    show: true,
    showItem: false,
    columns,
  };
}
const leaseFrom = {
  ...opt('ip_range_group_uuid', 'string', 'range group its addresses come from (iprg-…)'),
  required: true,
};

/** What a container holds: listed, changed only through its lease policies. */
const listedOnly = (name: string, singular: string, columns: string[]): RelationSpec => ({
  name,
  singular,
  help: `the ${name} it holds`,
  show: true,
  showItem: false,
  columns,
});

/** A top-level resource: names, help and options from its declaration, the rest from vnctl. */
function resource(
  decl: Declared,
  own: Pick<ResourceSpec, 'columns'> & Partial<Pick<ResourceSpec, 'relations' | 'actions'>>,
): ResourceSpec {
  return {
    name: decl.kind,
    singular: decl.singular,
    prefix: decl.prefix,
    help: decl.doc,
    add: options(decl.fields, 'create'),
    modify: options(decl.fields, 'update'),
    filters: options(decl.fields, 'filter'),
    relations: [],
    actions: [],
    ...own,
  };
}

/** Every resource vnctl knows, in help order. */
export const RESOURCES: readonly ResourceSpec[] = [
  resource(D.datapaths, {
    columns: ['uuid', 'display_name', 'dpid', 'node_id', 'ipv4_address', 'is_connected', 'flows_in_sync'],
    relations: [
      datapathRelation(D.datapathNetworks, 'networks', 'network', 'NW'),
      datapathRelation(D.datapathSegments, 'segments', 'segment', 'SEG'),
      datapathRelation(D.datapathRouteLinks, 'route_links', 'route_link', 'RL'),
    ],
  }),
  resource(D.networks, {
    columns: ['uuid', 'display_name', 'ipv4_network', 'ipv4_prefix', 'network_mode', 'domain_name', 'tunnel_key'],
  }),
  resource(D.interfaces, {
    columns: [
      'uuid',
      'mode',
      'mac_address',
      'ipv4_address',
      'network_uuid',
      'owner_datapath_uuid',
      'port_name',
      'status',
    ],
    relations: [
      ports,
      membership,
      association('networks', 'network', 'NW'),
      association('segments', 'segment', 'SEG'),
      association('route_links', 'route_link', 'RL'),
    ],
  }),
  resource(D.networkServices, {
    columns: ['uuid', 'display_name', 'mode', 'interface_uuid', 'incoming_port', 'outgoing_port'],
  }),
  resource(D.routeLinks, { columns: ['uuid', 'display_name', 'mac_address'] }),
  resource(D.routes, {
    columns: [
      'uuid',
      'interface_uuid',
      'route_link_uuid',
      'network_uuid',
      'ipv4_network',
      'ipv4_prefix',
      'ingress',
      'egress',
    ],
  }),
  resource(D.segments, { columns: ['uuid', 'mode'] }),
  resource(D.subnets, {
    columns: [
      'uuid',
      'display_name',
      'network_uuid',
      'ipv4_network',
      'ipv4_prefix',
      'gateway_ipv4_address',
      'enable_dhcp',
    ],
  }),
  resource(D.floatingIps, {
    columns: ['uuid', 'network_uuid', 'ipv4_address', 'interface_uuid', 'fixed_ipv4_address', 'project_id'],
  }),
  resource(D.filters, {
    columns: ['uuid', 'interface_uuid', 'mode', 'ingress_passthrough', 'egress_passthrough'],
    relations: [keyedByParams(D.filterStatics, 'statics', Object.keys(D.filterStatics.fields))],
  }),
  resource(D.translations, {
    columns: ['uuid', 'interface_uuid', 'mode', 'passthrough'],
    relations: [
      keyedByParams(D.staticAddresses, 'static_addresses', [
        'ingress_ipv4_address',
        'egress_ipv4_address',
        'ingress_port_number',
        'egress_port_number',
        'route_link_uuid',
      ]),
    ],
  }),
  resource(D.ipLeases, {
    columns: ['uuid', 'network_uuid', 'ipv4_address', 'interface_uuid', 'mac_lease_uuid', 'enable_routing'],
    actions: [attach, release],
  }),
  resource(D.macLeases, { columns: ['uuid', 'interface_uuid', 'mac_address'] }),
  resource(D.ipRangeGroups, {
    columns: ['uuid', 'allocation_type'],
    relations: [childCollection(D.ipRanges, 'ip_range', 'IPR', ['uuid', 'begin_ipv4_address', 'end_ipv4_address'])],
  }),
  resource(D.macRangeGroups, {
    columns: ['uuid', 'allocation_type'],
    relations: [childCollection(D.macRanges, 'mac_range', 'MR', ['uuid', 'begin_mac_address', 'end_mac_address'])],
  }),
  resource(D.dnsServices, {
    columns: ['uuid', 'network_service_uuid', 'public_dns'],
    relations: [childCollection(D.dnsRecords, 'dns_record', 'DNSR', ['uuid', 'name', 'ipv4_address', 'ttl'])],
  }),
  resource(D.securityGroups, {
    columns: ['uuid', 'display_name', 'description'],
    relations: [
      childCollection(D.securityGroupRules, 'rule', 'SGR', [
        'uuid',
        'direction',
        'protocol',
        'port_range_min',
        'port_range_max',
        'remote_ip_prefix',
        'remote_group_uuid',
      ]),
    ],
  }),
  resource(D.topologies, {
    columns: ['uuid', 'display_name', 'mode'],
    // No endpoint shows one row (OpenVNet has none): `show TOPO` lists.
    relations: D.TOPOLOGY_RELATIONS.map((rel) => ({
      ...declaredRelation(
        rel.fields,
        { add: 'path', del: 'path' },
        {
          name: rel.segment,
          singular: rel.singular,
          item: rel.otherPrefix.toUpperCase(),
          help: rel.doc,
          columns: ['topology_uuid', rel.otherField, ...Object.keys(rel.fields)],
        },
      ),
      showItem: false,
    })),
  }),
  resource(D.leasePolicies, {
    columns: ['uuid', 'display_name', 'mode', 'timing'],
    relations: [
      policyRelation('networks', 'network', 'NW', [leaseFrom], ['uuid', 'display_name', 'ipv4_network', 'ipv4_prefix']),
      policyRelation(
        'interfaces',
        'interface',
        'IF',
        [opt('label', 'string', 'a label for the relation')],
        ['uuid', 'mac_address', 'ipv4_address', 'network_uuid'],
      ),
      policyRelation('ip_lease_containers', 'ip_lease_container', 'ILC', [], ['uuid']),
      policyRelation(
        'ip_retention_containers',
        'ip_retention_container',
        'IRC',
        [],
        ['uuid', 'lease_time', 'grace_time'],
      ),
    ],
    actions: [
      {
        name: 'ip_leases',
        method: 'POST',
        help: 'lease an address from the policy to no interface',
        options: [opt('ip_lease_uuid', 'string', "the new lease's uuid (il-…)"), opt('label', 'string', 'a label')],
      },
    ],
  }),
  resource(D.ipLeaseContainers, {
    columns: ['uuid'],
    relations: [listedOnly('ip_leases', 'ip_lease', ['uuid', 'network_uuid', 'ipv4_address', 'interface_uuid'])],
  }),
  resource(D.ipRetentionContainers, {
    columns: ['uuid', 'lease_time', 'grace_time'],
    relations: [
      listedOnly('ip_retentions', 'ip_retention', ['ip_lease_uuid', 'interface_uuid', 'leased_at', 'released_at']),
    ],
  }),
  // `token` is in the create reply only: the one time the secret is shown.
  resource(D.tokens, { columns: ['uuid', 'display_name', 'role', 'node_id', 'expires_at', 'token'] }),
];

// vnctl's command table as data: every resource, relation, action and declared option (OpenVNet 1.0 + ours).
import type { ActionSpec, OptionSpec, OptionType, RelationSpec, ResourceSpec } from './spec.js';

const opt = (name: string, type: OptionType, help: string, required = false): OptionSpec =>
  required ? { name, type, help, required } : { name, type, help };
const s = (name: string, help: string, required = false) => opt(name, 'string', help, required);
const i = (name: string, help: string, required = false) => opt(name, 'integer', help, required);
const b = (name: string, help: string) => opt(name, 'boolean', help);

const uuid = (prefix: string) => s('uuid', `the object's uuid (${prefix}-…); generated when omitted`);
const displayName = s('display_name', 'a human-readable name');
/** `modify` takes what `add` takes except the uuid, which is the positional argument. */
const editable = (options: readonly OptionSpec[], ...fixed: string[]): OptionSpec[] =>
  options.filter((o) => o.name !== 'uuid' && !fixed.includes(o.name)).map(({ required: _required, ...o }) => o);

/** `show` without a uuid lists; these page through the list. */
export const LIST_OPTIONS: readonly OptionSpec[] = [
  i('limit', 'page size (the server caps it)'),
  i('offset', 'index of the first item'),
];

const datapathAdd = [
  uuid('dp'),
  displayName,
  s('dpid', 'the bridge datapath id, hex (0x000002fdee8e0a44)', true),
  s('node_id', 'the id of the agent (vna) that owns the bridge', true),
  s('ipv4_address', "the host's tunnel endpoint (underlay IPv4 address)"),
  s('dc_segment_id', 'OpenVNet 0.x data-center segment id (stored)'),
  b('enable_ovs_learn_action', 'let flows use OVS learn()'),
];

const networkAdd = [
  uuid('nw'),
  displayName,
  s('ipv4_network', 'network address, e.g. 10.0.0.0', true),
  i('ipv4_prefix', 'prefix length (default 24)'),
  s('network_mode', 'virtual | physical | internal'),
  s('mode', 'old spelling of --network-mode'),
  s('domain_name', 'DNS domain handed out by DHCP'),
  s('segment_uuid', 'segment (seg-…) the network lives on'),
  s('topology_uuid', 'topology (topo-…)'),
  i('mtu', 'interface MTU handed out by DHCP'),
  s('dns_servers', 'comma-separated IPv4 DNS servers handed out by DHCP'),
  i('dhcp_lease_time', 'DHCP lease time in seconds (default 86400)'),
];

const interfaceAdd = [
  uuid('if'),
  displayName,
  s('mode', 'vif (default) | simulated | host | internal | patch | promiscuous | remote'),
  s('owner_datapath_uuid', 'datapath (dp-…) the interface belongs to'),
  s('port_name', 'OVS port name the agent binds it to'),
  s('mac_address', 'MAC address (first MAC lease)'),
  s('mac_range_group_uuid', 'MAC range group (mrg-…) to allocate the MAC from'),
  s('network_uuid', 'network (nw-…) of the first IP lease'),
  s('ipv4_address', 'IPv4 address of the first IP lease'),
  s('segment_uuid', 'segment (seg-…)'),
  b('enable_routing', 'the interface routes (router port)'),
  b('enable_route_translation', 'apply translations when routing'),
  b('enable_filtering', 'apply filters and security groups'),
];

const networkServiceAdd = [
  uuid('ns'),
  displayName,
  s('interface_uuid', 'the simulated interface (if-…) that serves'),
  s('mode', 'dhcp | dns | router'),
  s('type', 'old spelling of --mode'),
  i('incoming_port', 'service port it listens on'),
  i('outgoing_port', 'service port it answers from'),
];

const routeLinkAdd = [
  uuid('rl'),
  displayName,
  s('mac_address', 'MAC of the route link (generated when omitted)'),
  s('topology_uuid', 'topology (topo-…)'),
];

const routeAdd = [
  uuid('r'),
  displayName,
  s('interface_uuid', 'router interface (if-…)', true),
  s('route_link_uuid', 'route link (rl-…)', true),
  s('network_uuid', "network (nw-…); default: the router interface's network"),
  s('ipv4_network', 'destination network address', true),
  i('ipv4_prefix', 'destination prefix length (default 24)'),
  b('ingress', 'route traffic entering from this network (default true)'),
  b('egress', 'route traffic leaving to this network (default true)'),
];

const segmentAdd = [
  uuid('seg'),
  displayName,
  s('mode', 'virtual | physical', true),
  s('topology_uuid', 'topology (topo-…)'),
];

const filterAdd = [
  uuid('fil'),
  s('interface_uuid', 'interface (if-…) filtered', true),
  s('mode', 'static', true),
  b('ingress_passthrough', 'pass unmatched incoming traffic (default false: drop)'),
  b('egress_passthrough', 'pass unmatched outgoing traffic (default false: drop)'),
];

const filterStatic = [
  s('protocol', 'tcp | udp | icmp | arp | ip', true),
  s('action', 'pass | drop | conn', true),
  s('src_address', 'source CIDR (default 0.0.0.0/0)'),
  s('dst_address', 'destination CIDR (default 0.0.0.0/0)'),
  i('src_port', 'source port, tcp/udp (0 = any)'),
  i('dst_port', 'destination port, tcp/udp (0 = any)'),
];

const translationAdd = [
  uuid('tr'),
  s('interface_uuid', 'interface (if-…) translated', true),
  s('mode', 'static_address', true),
  b('passthrough', 'pass untranslated traffic'),
];

const staticAddress = [
  s('ingress_ipv4_address', 'inside address', true),
  s('egress_ipv4_address', 'outside address', true),
  i('ingress_port_number', 'inside port (with --egress-port-number)'),
  i('egress_port_number', 'outside port (with --ingress-port-number)'),
  s('route_link_uuid', 'route link (rl-…)'),
  s('ingress_network_uuid', 'inside network (nw-…)'),
  s('egress_network_uuid', 'outside network (nw-…)'),
];

const ipLeaseAdd = [
  uuid('il'),
  s('network_uuid', 'network (nw-…)', true),
  s('ipv4_address', 'address inside the network', true),
  s('interface_uuid', 'interface (if-…) holding it (its first MAC lease)'),
  s('mac_lease_uuid', 'MAC lease (ml-…) holding it'),
  b('enable_routing', 'the address routes'),
];

const macLeaseAdd = [
  uuid('ml'),
  s('interface_uuid', 'interface (if-…)', true),
  s('mac_address', 'MAC address', true),
  s('segment_uuid', 'segment (seg-…)'),
];

const rangeGroupAdd = (prefix: string) => [uuid(prefix), s('allocation_type', 'incremental | decremental | random')];

const dnsServiceAdd = [
  uuid('dnss'),
  s('network_service_uuid', 'the dns network service (ns-…)', true),
  s('public_dns', 'comma-separated upstream DNS servers'),
];

const securityGroupAdd = [uuid('sg'), displayName, s('description', 'free text')];

const securityGroupRule = [
  s('uuid', "the rule's uuid (sgr-…); generated when omitted"),
  s('direction', 'ingress | egress', true),
  s('protocol', 'tcp | udp | icmp | any', true),
  i('port_range_min', 'first port (tcp/udp)'),
  i('port_range_max', 'last port (tcp/udp)'),
  s('remote_ip_prefix', 'peer CIDR'),
  s('remote_group_uuid', 'peer security group (sg-…)'),
];

/** A relation whose rows are addressed by a second uuid in the path. */
function pathRelation(
  name: string,
  singular: string,
  item: string,
  help: string,
  addOptions: readonly OptionSpec[],
  columns: readonly string[],
  extra: Partial<Pick<RelationSpec, 'modify' | 'showItem'>> & { addMethod?: 'POST' | 'PUT' } = {},
): RelationSpec {
  return {
    name,
    singular,
    item,
    help,
    add: { target: 'path', method: extra.addMethod ?? 'POST', options: addOptions },
    del: { target: 'path', options: [] },
    show: true,
    columns,
    ...(extra.modify ? { modify: extra.modify } : {}),
    ...(extra.showItem === false ? { showItem: false } : {}),
  };
}

/** A collection under a resource whose rows get their own uuid (`add` creates, `del BASE ITEM` removes). */
function childCollection(
  name: string,
  singular: string,
  item: string,
  help: string,
  addOptions: readonly OptionSpec[],
  columns: readonly string[],
): RelationSpec {
  return {
    name,
    singular,
    item,
    help,
    add: { target: 'none', method: 'POST', options: addOptions },
    del: { target: 'path', options: [] },
    show: true,
    columns,
  };
}

/** A collection whose rows have no id: `del` names the row by its fields. */
function keyedByParams(
  name: string,
  singular: string,
  help: string,
  options: readonly OptionSpec[],
  columns: readonly string[],
): RelationSpec {
  return {
    name,
    singular,
    help,
    add: { target: 'none', method: 'POST', options },
    del: { target: 'params', options },
    show: true,
    columns,
  };
}

const attach: ActionSpec = {
  name: 'attach',
  method: 'PUT',
  help: 'attach the lease to an interface or MAC lease',
  options: [s('interface_uuid', 'interface (if-…)'), s('mac_lease_uuid', 'MAC lease (ml-…)')],
};
const release: ActionSpec = {
  name: 'release',
  method: 'PUT',
  help: 'detach the lease from its interface',
  options: [],
};

function resource(
  r: Omit<ResourceSpec, 'modify' | 'relations' | 'actions' | 'filters'> &
    Partial<Pick<ResourceSpec, 'modify' | 'relations' | 'actions' | 'filters'>>,
): ResourceSpec {
  return { modify: editable(r.add), relations: [], actions: [], filters: [], ...r };
}

/** A list filter: named as the field it matches (help text comes from the name). */
const f = (name: string) => s(name, '');

/** Every resource vnctl knows, in help order. */
export const RESOURCES: readonly ResourceSpec[] = [
  resource({
    name: 'datapaths',
    filters: [f('dpid'), f('node_id')],
    singular: 'datapath',
    prefix: 'dp',
    help: 'Open vSwitch bridges, one per host, each driven by an agent',
    add: datapathAdd,
    columns: ['uuid', 'display_name', 'dpid', 'node_id', 'ipv4_address', 'is_connected', 'flows_in_sync'],
    relations: [
      pathRelation(
        'networks',
        'network',
        'NW',
        'per-host settings of a network on the datapath',
        [
          s('interface_uuid', 'host interface (if-…)'),
          s('mac_address', "the datapath's MAC on the network"),
          s('broadcast_mac_address', 'broadcast MAC (OpenVNet 0.x)'),
        ],
        ['datapath_uuid', 'network_uuid', 'interface_uuid', 'mac_address', 'broadcast_mac_address'],
        {
          modify: {
            options: [
              s('interface_uuid', 'host interface (if-…)'),
              s('mac_address', "the datapath's MAC on the network"),
              s('broadcast_mac_address', 'broadcast MAC (OpenVNet 0.x)'),
            ],
          },
        },
      ),
      pathRelation(
        'segments',
        'segment',
        'SEG',
        'per-host settings of a segment on the datapath',
        [s('interface_uuid', 'host interface (if-…)'), s('mac_address', "the datapath's MAC on the segment")],
        ['datapath_uuid', 'segment_uuid', 'interface_uuid', 'mac_address'],
        {
          modify: {
            options: [
              s('interface_uuid', 'host interface (if-…)'),
              s('mac_address', "the datapath's MAC on the segment"),
            ],
          },
        },
      ),
      pathRelation(
        'route_links',
        'route_link',
        'RL',
        'per-host settings of a route link on the datapath',
        [s('interface_uuid', 'host interface (if-…)'), s('mac_address', "the datapath's MAC on the route link")],
        ['datapath_uuid', 'route_link_uuid', 'interface_uuid', 'mac_address'],
        {
          modify: {
            options: [
              s('interface_uuid', 'host interface (if-…)'),
              s('mac_address', "the datapath's MAC on the route link"),
            ],
          },
        },
      ),
    ],
  }),
  resource({
    name: 'networks',
    filters: [f('network_mode'), f('segment_uuid')],
    singular: 'network',
    prefix: 'nw',
    help: 'virtual (or physical) IPv4 networks',
    add: networkAdd,
    // Fixed at creation: the server refuses to change them (delete and re-create).
    modify: editable(networkAdd, 'ipv4_network', 'ipv4_prefix'),
    columns: ['uuid', 'display_name', 'ipv4_network', 'ipv4_prefix', 'network_mode', 'domain_name', 'tunnel_key'],
  }),
  resource({
    name: 'interfaces',
    filters: [f('mode'), f('owner_datapath_uuid'), f('port_name'), f('active_datapath_uuid')],
    singular: 'interface',
    prefix: 'if',
    help: 'VM/container ports, router and service ports, host ports',
    add: interfaceAdd,
    // Fixed at creation: the server refuses to change them (delete and re-create).
    modify: editable(interfaceAdd, 'mac_range_group_uuid'),
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
      keyedByParams(
        'ports',
        'port',
        'where the interface is bound (datapath and OVS port name)',
        [
          s('datapath_uuid', 'datapath (dp-…)'),
          s('port_name', 'OVS port name'),
          b('singular', 'the interface is bound on this datapath only'),
        ],
        ['uuid', 'datapath_uuid', 'port_name', 'singular'],
      ),
      pathRelation(
        'security_groups',
        'security_group',
        'SG',
        'security group membership',
        [],
        ['uuid', 'display_name', 'description'],
        // Membership is listed per interface; there is no endpoint for one membership row.
        { addMethod: 'PUT', showItem: false },
      ),
    ],
  }),
  resource({
    name: 'network_services',
    filters: [f('mode'), f('interface_uuid')],
    singular: 'network_service',
    prefix: 'ns',
    help: 'DHCP, DNS and router services on simulated interfaces',
    add: networkServiceAdd,
    columns: ['uuid', 'display_name', 'mode', 'interface_uuid', 'incoming_port', 'outgoing_port'],
  }),
  resource({
    name: 'route_links',
    filters: [f('mac_address')],
    singular: 'route_link',
    prefix: 'rl',
    help: 'transit links joining router interfaces of several networks',
    add: routeLinkAdd,
    columns: ['uuid', 'display_name', 'mac_address'],
  }),
  resource({
    name: 'routes',
    filters: [f('interface_uuid'), f('route_link_uuid'), f('network_uuid')],
    singular: 'route',
    prefix: 'r',
    help: 'routes of a router interface over a route link',
    add: routeAdd,
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
  resource({
    name: 'segments',
    filters: [f('mode')],
    singular: 'segment',
    prefix: 'seg',
    help: 'L2 segments',
    add: segmentAdd,
    columns: ['uuid', 'mode'],
  }),
  resource({
    name: 'filters',
    filters: [f('interface_uuid')],
    singular: 'filter',
    prefix: 'fil',
    help: 'static per-interface firewall rules (OpenVNet filters)',
    add: filterAdd,
    // Fixed at creation: the server refuses to change them (delete and re-create).
    modify: editable(filterAdd, 'mode'),
    columns: ['uuid', 'interface_uuid', 'mode', 'ingress_passthrough', 'egress_passthrough'],
    relations: [
      keyedByParams('static', 'statics', 'the static rules of a filter', filterStatic, [
        'protocol',
        'action',
        'src_address',
        'dst_address',
        'src_port',
        'dst_port',
      ]),
    ],
  }),
  resource({
    name: 'translations',
    filters: [f('interface_uuid')],
    singular: 'translation',
    prefix: 'tr',
    help: 'address translations (1:1 NAT)',
    add: translationAdd,
    // Fixed at creation: the server refuses to change them (delete and re-create).
    modify: editable(translationAdd, 'mode'),
    columns: ['uuid', 'interface_uuid', 'mode', 'passthrough'],
    relations: [
      keyedByParams('static_address', 'static_addresses', 'the static address pairs of a translation', staticAddress, [
        'ingress_ipv4_address',
        'egress_ipv4_address',
        'ingress_port_number',
        'egress_port_number',
        'route_link_uuid',
      ]),
    ],
  }),
  resource({
    name: 'ip_leases',
    filters: [f('network_uuid'), f('interface_uuid'), f('ipv4_address')],
    singular: 'ip_lease',
    prefix: 'il',
    help: 'IPv4 addresses leased to interfaces',
    add: ipLeaseAdd,
    columns: ['uuid', 'network_uuid', 'ipv4_address', 'interface_uuid', 'mac_lease_uuid', 'enable_routing'],
    actions: [attach, release],
  }),
  resource({
    name: 'mac_leases',
    filters: [f('interface_uuid'), f('mac_address')],
    singular: 'mac_lease',
    prefix: 'ml',
    help: 'MAC addresses leased to interfaces',
    add: macLeaseAdd,
    columns: ['uuid', 'interface_uuid', 'mac_address'],
  }),
  resource({
    name: 'ip_range_groups',
    singular: 'ip_range_group',
    prefix: 'iprg',
    help: 'pools of IPv4 ranges',
    add: rangeGroupAdd('iprg'),
    columns: ['uuid', 'allocation_type'],
    relations: [
      childCollection(
        'ip_ranges',
        'ip_range',
        'IPR',
        'the ranges of the group',
        [uuid('ipr'), s('begin_ipv4_address', 'first address', true), s('end_ipv4_address', 'last address', true)],
        ['uuid', 'begin_ipv4_address', 'end_ipv4_address'],
      ),
    ],
  }),
  resource({
    name: 'mac_range_groups',
    singular: 'mac_range_group',
    prefix: 'mrg',
    help: 'pools of MAC ranges',
    add: rangeGroupAdd('mrg'),
    columns: ['uuid', 'allocation_type'],
    relations: [
      childCollection(
        'mac_ranges',
        'mac_range',
        'MR',
        'the ranges of the group',
        [uuid('mr'), s('begin_mac_address', 'first MAC', true), s('end_mac_address', 'last MAC', true)],
        ['uuid', 'begin_mac_address', 'end_mac_address'],
      ),
    ],
  }),
  resource({
    name: 'dns_services',
    filters: [f('network_service_uuid')],
    singular: 'dns_service',
    prefix: 'dnss',
    help: 'DNS services and their records',
    add: dnsServiceAdd,
    // Fixed at creation: the server refuses to change them (delete and re-create).
    modify: editable(dnsServiceAdd, 'network_service_uuid'),
    columns: ['uuid', 'network_service_uuid', 'public_dns'],
    relations: [
      childCollection(
        'dns_records',
        'dns_record',
        'DNSR',
        'the records of the service',
        [uuid('dnsr'), s('name', 'host name', true), s('ipv4_address', 'its address')],
        ['uuid', 'name', 'ipv4_address', 'ttl'],
      ),
    ],
  }),
  resource({
    name: 'security_groups',
    singular: 'security_group',
    prefix: 'sg',
    help: 'stateful firewall groups (ours; membership: interfaces security_groups add IF SG)',
    add: securityGroupAdd,
    columns: ['uuid', 'display_name', 'description'],
    relations: [
      childCollection('rules', 'rule', 'SGR', 'the rules of the group', securityGroupRule, [
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
];

// Networks: tenant IPv4 networks (virtual: tunnelled between hosts; physical: on the hosts' uplinks, flat or one
// VLAN), each with a tunnel key (also its local id on a host) and conntrack zone.
import { f, resource, SET } from '../resource.js';
import { description, displayName, projectId, timestamps, topologyUuid, uuidField, DNS_NAME } from './common.js';

export const NETWORK_MODES = ['virtual', 'physical', 'internal'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const networks = resource({
  kind: 'networks',
  prefix: 'nw',
  doc: 'virtual (or physical) IPv4 networks',
  fields: {
    uuid: uuidField('nw'),
    display_name: displayName,
    // Required through the OpenVNet API; a Neutron network has none until its subnet is made (subnets.ts).
    ipv4_network: f.ipv4({
      ...SET.fixed,
      nullable: true,
      doc: 'network address, e.g. 10.0.0.0 (null: a Neutron network without a subnet yet, L2 only)',
    }),
    ipv4_prefix: f.int(1, 32, { create: 'optional', default: 24, doc: 'prefix length (default 24)' }),
    network_mode: f.enum([...NETWORK_MODES], {
      ...SET.editable,
      filter: true,
      default: 'virtual',
      doc: 'virtual (default) | physical | internal',
    }),
    mode: f.enum([...NETWORK_MODES], {
      ...SET.editable,
      paramOnly: true,
      aliasOf: 'network_mode',
      doc: 'old spelling of network_mode',
    }),
    // DHCP carries it as ASCII (option 15): one bad byte would stop DHCP for the whole network.
    domain_name: f.string({ ...SET.editable, default: '', doc: 'DNS domain handed out by DHCP ("" = none)' }, 253, {
      re: new RegExp(`^$|${DNS_NAME.re.source}`),
      text: DNS_NAME.text,
    }),
    vlan_id: f.int(1, 4094, {
      ...SET.clearable,
      filter: true,
      doc: "physical networks: the VLAN tag on the hosts' uplinks (null: flat, untagged)",
    }),
    segment_uuid: f.ref('seg', 'restrict', { ...SET.clearable, filter: true, doc: 'segment the network lives on' }),
    topology_uuid: topologyUuid,
    mtu: f.int(68, 65535, { ...SET.clearable, doc: 'interface MTU handed out by DHCP' }),
    dns_servers: f.ipv4list({ ...SET.clearable, doc: 'comma-separated IPv4 DNS servers handed out by DHCP' }),
    // DHCP option 121 (RFC 3442) carries them; at most 20, as Neutron's max_subnet_host_routes.
    host_routes: f.records(
      {
        destination: f.cidr({ doc: 'where the route leads (a.b.c.d/n; a bare address is /32)' }),
        nexthop: f.ipv4({ doc: 'the router to send it to: an address in this network' }),
      },
      { max: 20, key: ['destination'] },
      {
        ...SET.editable,
        doc: 'static routes handed out by DHCP (option 121): [{"destination": "10.9.0.0/16", "nexthop": "10.0.0.1"}]; a PUT replaces the list',
      },
    ),
    dhcp_lease_time: f.int(60, 2 ** 31 - 1, {
      ...SET.editable,
      default: 86400,
      doc: 'DHCP lease time in seconds (default 86400)',
    }),
    project_id: projectId,
    description,
    shared: f.bool({ ...SET.editable, default: false, doc: "every project may attach ports to it (Neutron's shared)" }),
    external: f.bool({
      ...SET.editable,
      default: false,
      filter: true,
      doc: "routers may take their gateway on it and floating IPs come from it (Neutron's router:external)",
    }),
    tunnel_key: f.int(1, 0xffffff, { immutable: true, doc: '24-bit tunnel key, allocated by the server' }),
    ct_zone: f.int(1, 0xffff, { immutable: true, doc: '16-bit conntrack zone, allocated by the server' }),
    ...timestamps,
  },
  deleteNotes: ['interfaces that named it without an address forget it (network_uuid becomes null)'],
});

// Interfaces: VM/container ports, router and service ports, host ports; their addresses live in MAC/IP leases.
import Type from 'typebox';
import { f, resource } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const INTERFACE_MODES = ['vif', 'simulated', 'host', 'internal', 'patch', 'promiscuous', 'remote'] as const;
export type InterfaceMode = (typeof INTERFACE_MODES)[number];

/** An interface's MAC lease as the interface embeds it, with that MAC's IP leases. */
export const embeddedIpLease = Type.Object({
  uuid: Type.String(),
  network_uuid: Type.String(),
  ipv4_address: Type.String(),
});
export const embeddedMacLease = Type.Object({
  uuid: Type.String(),
  mac_address: Type.String(),
  ip_leases: Type.Array(embeddedIpLease),
});

export const interfaces = resource({
  kind: 'interfaces',
  singular: 'interface',
  prefix: 'if',
  doc: 'VM/container ports, router and service ports, host ports',
  fields: {
    uuid: uuidField('if'),
    display_name: displayName,
    mode: f.enum([...INTERFACE_MODES], {
      create: 'optional',
      update: 'optional',
      filter: true,
      doc: 'vif (default) | simulated | host | internal | patch | promiscuous | remote',
    }),
    owner_datapath_uuid: f.uuid('dp', {
      create: 'nullable',
      update: 'nullable',
      filter: true,
      nullable: true,
      ref: { kind: 'datapaths', onDelete: 'restrict' },
      doc: 'datapath (dp-…) the interface belongs to',
    }),
    port_name: f.string({
      create: 'nullable',
      update: 'nullable',
      filter: true,
      nullable: true,
      doc: 'OVS port name the agent binds it to',
    }),
    mac_address: f.mac({
      create: 'optional',
      update: 'nullable',
      nullable: true,
      doc: 'MAC address (first MAC lease; null removes it)',
    }),
    mac_range_group_uuid: f.uuid('mrg', {
      create: 'optional',
      paramOnly: true,
      doc: 'MAC range group (mrg-…) to allocate the MAC from',
    }),
    network_uuid: f.uuid('nw', {
      create: 'optional',
      update: 'nullable',
      nullable: true,
      ref: { kind: 'networks', onDelete: 'nullify' },
      doc: 'network (nw-…) of the first IP lease',
    }),
    ipv4_address: f.ipv4({
      create: 'optional',
      update: 'nullable',
      nullable: true,
      doc: 'IPv4 address of the first IP lease (null removes it)',
    }),
    segment_uuid: f.uuid('seg', {
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      ref: { kind: 'segments', onDelete: 'restrict' },
      doc: 'segment (seg-…)',
    }),
    enable_routing: f.bool({ create: 'optional', update: 'optional', doc: 'the interface routes (router port)' }),
    enable_route_translation: f.bool({
      create: 'optional',
      update: 'optional',
      doc: 'apply translations when routing',
    }),
    enable_filtering: f.bool({ create: 'optional', update: 'optional', doc: 'apply filters and security groups' }),
    mac_leases: f.list(embeddedMacLease, { doc: 'its MAC leases, each with its IP leases' }),
    security_group_uuids: f.list(Type.String(), {
      doc: 'security groups it belongs to (interfaces security_groups add)',
    }),
    status: f.enum(['up', 'down'], {
      status: true,
      report: 'required',
      immutable: true,
      doc: 'up while an agent has it bound to a port',
    }),
    active_datapath_uuid: f.uuid('dp', {
      status: true,
      report: 'nullable',
      filter: true,
      nullable: true,
      immutable: true,
      doc: 'the datapath whose agent bound it (reported)',
    }),
    active_port_name: f.string({
      status: true,
      report: 'nullable',
      nullable: true,
      immutable: true,
      doc: 'the OVS port it is bound to (reported)',
    }),
    ...timestamps,
  },
  deleteNotes: [
    'its MAC and IP leases, filters, translations, routes and network services go with it',
    'datapath relation rows naming it as their host interface forget it (interface_uuid becomes null)',
  ],
});

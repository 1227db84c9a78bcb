// Networks: tenant IPv4 networks (virtual: tunnelled between hosts), each with a tunnel key and conntrack zone.
import { f, resource } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const NETWORK_MODES = ['virtual', 'physical', 'internal'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const networks = resource({
  kind: 'networks',
  singular: 'network',
  prefix: 'nw',
  doc: 'virtual (or physical) IPv4 networks',
  fields: {
    uuid: uuidField('nw'),
    display_name: displayName,
    ipv4_network: f.ipv4({ create: 'required', doc: 'network address, e.g. 10.0.0.0' }),
    ipv4_prefix: f.int(1, 32, { create: 'optional', doc: 'prefix length (default 24)' }),
    network_mode: f.enum([...NETWORK_MODES], {
      create: 'optional',
      update: 'optional',
      filter: true,
      doc: 'virtual | physical | internal',
    }),
    mode: f.enum([...NETWORK_MODES], {
      create: 'optional',
      update: 'optional',
      paramOnly: true,
      doc: 'old spelling of network_mode',
    }),
    domain_name: f.string({ create: 'optional', update: 'optional', doc: 'DNS domain handed out by DHCP' }),
    segment_uuid: f.uuid('seg', {
      create: 'nullable',
      update: 'nullable',
      filter: true,
      nullable: true,
      ref: { kind: 'segments', onDelete: 'restrict' },
      doc: 'segment (seg-…) the network lives on',
    }),
    topology_uuid: f.string({ create: 'nullable', update: 'nullable', nullable: true, doc: 'topology (topo-…)' }),
    mtu: f.int(68, 65535, {
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      doc: 'interface MTU handed out by DHCP',
    }),
    dns_servers: f.ipv4list({
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      doc: 'comma-separated IPv4 DNS servers handed out by DHCP',
    }),
    dhcp_lease_time: f.int(60, 2 ** 31 - 1, {
      create: 'optional',
      update: 'optional',
      doc: 'DHCP lease time in seconds (default 86400)',
    }),
    tunnel_key: f.int(1, 0xffffff, { immutable: true, doc: '24-bit tunnel key, allocated by the server' }),
    ct_zone: f.int(1, 0xffff, { immutable: true, doc: '16-bit conntrack zone, allocated by the server' }),
    ...timestamps,
  },
  deleteNotes: ['interfaces that named it without an address forget it (network_uuid becomes null)'],
});

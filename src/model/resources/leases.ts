// MAC and IP leases: the addresses an interface holds (an IP lease hangs off a MAC lease).
import { f, resource } from '../resource.js';
import { timestamps, uuidField } from './common.js';

export const macLeases = resource({
  kind: 'mac_leases',
  singular: 'mac_lease',
  prefix: 'ml',
  doc: 'MAC addresses leased to interfaces',
  fields: {
    uuid: uuidField('ml'),
    interface_uuid: f.uuid('if', {
      create: 'required',
      update: 'optional',
      filter: true,
      ref: { kind: 'interfaces', onDelete: 'cascade' },
      doc: 'interface (if-…)',
    }),
    mac_address: f.mac({ create: 'required', update: 'optional', filter: true, doc: 'MAC address' }),
    segment_uuid: f.uuid('seg', {
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      ref: { kind: 'segments', onDelete: 'restrict' },
      doc: 'segment (seg-…)',
    }),
    ...timestamps,
  },
  deleteNotes: ['its IP leases go with it'],
});

export const ipLeases = resource({
  kind: 'ip_leases',
  singular: 'ip_lease',
  prefix: 'il',
  doc: 'IPv4 addresses leased to interfaces',
  fields: {
    uuid: uuidField('il'),
    network_uuid: f.uuid('nw', {
      create: 'required',
      update: 'optional',
      filter: true,
      ref: { kind: 'networks', onDelete: 'cascade' },
      doc: 'network (nw-…)',
    }),
    ipv4_address: f.ipv4({ create: 'required', update: 'optional', filter: true, doc: 'address inside the network' }),
    mac_lease_uuid: f.uuid('ml', {
      create: 'optional',
      update: 'nullable',
      nullable: true,
      ref: { kind: 'mac_leases', onDelete: 'cascade' },
      doc: 'MAC lease (ml-…) holding it',
    }),
    interface_uuid: f.uuid('if', {
      create: 'optional',
      update: 'nullable',
      filter: true,
      nullable: true,
      ref: { kind: 'interfaces', onDelete: 'cascade' },
      doc: 'interface (if-…) holding it (its first MAC lease)',
    }),
    enable_routing: f.bool({ create: 'optional', update: 'optional', doc: 'the address routes' }),
    ...timestamps,
  },
});

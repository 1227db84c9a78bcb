// MAC and IP leases: the addresses an interface holds (an IP lease hangs off a MAC lease).
import { f, resource, SET } from '../resource.js';
import { timestamps, uuidField } from './common.js';

export const macLeases = resource({
  kind: 'mac_leases',
  prefix: 'ml',
  doc: 'MAC addresses leased to interfaces',
  fields: {
    uuid: uuidField('ml'),
    interface_uuid: f.ref('if', 'cascade', { ...SET.required, filter: true, doc: 'interface' }),
    mac_address: f.mac({ ...SET.required, filter: true, doc: 'MAC address' }),
    segment_uuid: f.ref('seg', 'restrict', { ...SET.clearable, doc: 'segment' }),
    ...timestamps,
  },
  deleteNotes: ['its IP leases go with it'],
});

export const ipLeases = resource({
  kind: 'ip_leases',
  prefix: 'il',
  doc: 'IPv4 addresses leased to interfaces',
  fields: {
    uuid: uuidField('il'),
    network_uuid: f.ref('nw', 'cascade', { ...SET.required, filter: true, doc: 'network' }),
    ipv4_address: f.ipv4({ ...SET.required, filter: true, doc: 'address inside the network' }),
    mac_lease_uuid: f.ref('ml', 'cascade', {
      create: 'optional',
      update: 'nullable',
      nullable: true,
      doc: 'MAC lease holding it',
    }),
    interface_uuid: f.ref('if', 'cascade', {
      create: 'optional',
      update: 'nullable',
      filter: true,
      nullable: true,
      doc: 'interface holding it, through its first MAC lease',
    }),
    enable_routing: f.bool({ ...SET.editable, doc: 'the address routes' }),
    ...timestamps,
  },
});

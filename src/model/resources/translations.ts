// Translations: OpenVNet's static address translations (1:1 NAT) of an interface.
import { f, item, resource } from '../resource.js';
import { timestamps, uuidField } from './common.js';

export const staticAddresses = item({
  segment: 'static_address',
  field: 'static_addresses',
  prefix: null,
  doc: 'the static address pairs of a translation',
  fields: {
    ingress_ipv4_address: f.ipv4({ create: 'required', doc: 'inside address' }),
    egress_ipv4_address: f.ipv4({ create: 'required', doc: 'outside address' }),
    ingress_port_number: f.int(1, 65535, {
      create: 'optional',
      nullable: true,
      doc: 'inside port (with --egress-port-number)',
    }),
    egress_port_number: f.int(1, 65535, {
      create: 'optional',
      nullable: true,
      doc: 'outside port (with --ingress-port-number)',
    }),
    route_link_uuid: f.uuid('rl', { create: 'optional', nullable: true, doc: 'route link (rl-…)' }),
    ingress_network_uuid: f.uuid('nw', { create: 'optional', nullable: true, doc: 'inside network (nw-…)' }),
    egress_network_uuid: f.uuid('nw', { create: 'optional', nullable: true, doc: 'outside network (nw-…)' }),
  },
});

export const translations = resource({
  kind: 'translations',
  singular: 'translation',
  prefix: 'tr',
  doc: 'address translations (1:1 NAT)',
  fields: {
    uuid: uuidField('tr'),
    interface_uuid: f.uuid('if', {
      create: 'required',
      update: 'optional',
      filter: true,
      ref: { kind: 'interfaces', onDelete: 'cascade' },
      doc: 'interface (if-…) translated',
    }),
    mode: f.enum(['static_address'], { create: 'optional', doc: 'static_address' }),
    passthrough: f.bool({ create: 'optional', update: 'optional', doc: 'pass untranslated traffic' }),
    static_addresses: f.list(staticAddresses.schema, { doc: 'its address pairs (translations static_address add)' }),
    ...timestamps,
  },
});

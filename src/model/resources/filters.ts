// Filters: OpenVNet's static per-interface firewall rules.
import { f, item, resource } from '../resource.js';
import { timestamps, uuidField } from './common.js';

export const filterStatics = item({
  segment: 'static',
  field: 'statics',
  prefix: null,
  doc: 'the static rules of a filter',
  fields: {
    protocol: f.enum(['tcp', 'udp', 'icmp', 'arp', 'ip'], { create: 'required', doc: 'tcp | udp | icmp | arp | ip' }),
    action: f.enum(['pass', 'drop', 'conn'], { create: 'optional', doc: 'pass | drop | conn (required to add)' }),
    src_address: f.cidr({ create: 'optional', doc: 'source CIDR (default 0.0.0.0/0)' }),
    dst_address: f.cidr({ create: 'optional', doc: 'destination CIDR (default 0.0.0.0/0)' }),
    src_port: f.int(0, 65535, { create: 'optional', doc: 'source port, tcp/udp (0 = any)' }),
    dst_port: f.int(0, 65535, { create: 'optional', doc: 'destination port, tcp/udp (0 = any)' }),
  },
});

export const filters = resource({
  kind: 'filters',
  singular: 'filter',
  prefix: 'fil',
  doc: 'static per-interface firewall rules (OpenVNet filters)',
  fields: {
    uuid: uuidField('fil'),
    interface_uuid: f.uuid('if', {
      create: 'required',
      update: 'optional',
      filter: true,
      ref: { kind: 'interfaces', onDelete: 'cascade' },
      doc: 'interface (if-…) filtered',
    }),
    mode: f.enum(['static'], { create: 'optional', doc: 'static' }),
    ingress_passthrough: f.bool({
      create: 'optional',
      update: 'optional',
      doc: 'pass unmatched incoming traffic (default false: drop)',
    }),
    egress_passthrough: f.bool({
      create: 'optional',
      update: 'optional',
      doc: 'pass unmatched outgoing traffic (default false: drop)',
    }),
    statics: f.list(filterStatics.schema, { doc: 'its static rules (filters static add)' }),
    ...timestamps,
  },
});

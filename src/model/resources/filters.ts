// Filters: OpenVNet's static per-interface firewall rules.
import { f, item, resource, SET } from '../resource.js';
import { timestamps, uuidField } from './common.js';

const port = (which: string) => f.int(0, 65535, { create: 'optional', doc: `${which} port, tcp/udp (0 = any)` });

// A static is written as traffic arriving at the interface, as OpenVNet's are: src_* is the far end, dst_* the
// interface's own; going out, the agent matches the mirror (flows-security.ts). conn acts on the way out only.

export const filterStatics = item({
  segment: 'static',
  max: 1_000,
  field: 'statics',
  prefix: null,
  doc: 'the static rules of a filter',
  fields: {
    protocol: f.enum(['tcp', 'udp', 'icmp', 'arp', 'ip'], { create: 'required', doc: 'tcp | udp | icmp | arp | ip' }),
    action: f.enum(['pass', 'drop', 'conn'], {
      create: 'optional',
      doc: 'pass (both ways, stateless) | drop (both ways) | conn (own connections out, stateful) (required to add)',
    }),
    src_address: f.cidr({ create: 'optional', doc: 'far end CIDR (default 0.0.0.0/0)' }),
    dst_address: f.cidr({ create: 'optional', doc: "interface's own CIDR (default 0.0.0.0/0)" }),
    src_port: port('far end'),
    dst_port: port("interface's own"),
  },
});

const passthrough = (which: string) =>
  f.bool({ ...SET.editable, default: false, doc: `pass unmatched ${which} traffic (default false: drop)` });

export const filters = resource({
  kind: 'filters',
  prefix: 'fil',
  doc: 'static per-interface firewall rules (OpenVNet filters)',
  fields: {
    uuid: uuidField('fil'),
    interface_uuid: f.ref('if', 'cascade', { ...SET.required, filter: true, doc: 'interface filtered' }),
    mode: f.enum(['static'], { create: 'optional', default: 'static', doc: 'static' }),
    ingress_passthrough: passthrough('incoming'),
    egress_passthrough: passthrough('outgoing'),
    statics: f.list(filterStatics.schema, { doc: 'its static rules (filters static add)' }),
    ...timestamps,
  },
});

// Translations: OpenVNet's static address translations (1:1 NAT) of an interface, and vnet's source NAT of a
// router's external interface (mode snat: the route link's VMs without a floating IP leave from its address).
import { f, item, resource, SET } from '../resource.js';
import { timestamps, uuidField } from './common.js';

const optional = { create: 'optional', nullable: true } as const;

export const staticAddresses = item({
  segment: 'static_address',
  max: 1_000,
  field: 'static_addresses',
  prefix: null,
  doc: 'the static address pairs of a translation',
  fields: {
    ingress_ipv4_address: f.ipv4({ create: 'required', doc: 'inside address' }),
    egress_ipv4_address: f.ipv4({ create: 'required', doc: 'outside address' }),
    ingress_port_number: f.int(1, 65535, { ...optional, doc: 'inside port (with --egress-port-number)' }),
    egress_port_number: f.int(1, 65535, { ...optional, doc: 'outside port (with --ingress-port-number)' }),
    route_link_uuid: f.uuid('rl', { ...optional, doc: 'route link (rl-…)' }),
    ingress_network_uuid: f.uuid('nw', { ...optional, doc: 'inside network (nw-…)' }),
    egress_network_uuid: f.uuid('nw', { ...optional, doc: 'outside network (nw-…)' }),
  },
});

export const translations = resource({
  kind: 'translations',
  prefix: 'tr',
  doc: 'address translations (1:1 NAT of a VM; snat of a router gateway)',
  fields: {
    uuid: uuidField('tr'),
    interface_uuid: f.ref('if', 'cascade', { ...SET.required, filter: true, doc: 'interface translated' }),
    mode: f.enum(['static_address', 'snat'], {
      create: 'optional',
      default: 'static_address',
      doc: "static_address (floating IPs of a VM) or snat (a router interface on an external physical network: the other networks of its route links leave from the interface's address)",
    }),
    passthrough: f.bool({ ...SET.editable, default: false, doc: 'pass untranslated traffic' }),
    static_addresses: f.list(staticAddresses.schema, { doc: 'its address pairs (translations static_address add)' }),
    active_datapath_uuid: f.uuid('dp', {
      status: true,
      report: 'nullable',
      nullable: true,
      immutable: true,
      doc: 'the datapath that answers its floating addresses, or translates as the gateway, now (reported by that agent; null: nowhere)',
    }),
    ct_zone: f.int(1, 0xffff, {
      immutable: true,
      nullable: true,
      doc: "conntrack zone of a snat translation's connections, allocated by the server (null for static_address)",
    }),
    ...timestamps,
  },
});

// Floating IPs: an address of an external network held for a project (Neutron's floating IP). Associated with a
// port, it is realised as that port's static_address translation (docs/north-south.md "Floating IPs").
import { f, resource, SET } from '../resource.js';
import { description, projectId, timestamps, uuidField } from './common.js';

export const floatingIps = resource({
  kind: 'floating_ips',
  prefix: 'fip',
  doc: "an external network's address held for a project; associated with an interface, its 1:1 translation",
  fields: {
    uuid: uuidField('fip'),
    description,
    project_id: projectId,
    network_uuid: f.ref('nw', 'cascade', {
      ...SET.fixed,
      filter: true,
      doc: 'the external network it is an address of (external = true)',
    }),
    ipv4_address: f.ipv4({
      create: 'optional',
      filter: true,
      doc: "the floating address (default: a free one of the network's subnet pools)",
    }),
    interface_uuid: f.ref('if', 'nullify', {
      ...SET.clearable,
      filter: true,
      doc: 'the interface it forwards to (null: held, not associated)',
    }),
    fixed_ipv4_address: f.ipv4({
      ...SET.clearable,
      doc: "the interface's address it forwards to (default: the interface's first)",
    }),
    translation_uuid: f.uuid('tr', {
      nullable: true,
      immutable: true,
      doc: 'the static_address translation realising the association (made and removed with it)',
    }),
    ...timestamps,
  },
});

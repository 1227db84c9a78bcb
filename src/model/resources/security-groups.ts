// Security groups: stateful firewall groups (ours, as Neutron's) and their rules.
import { f, item, resource } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const securityGroupRules = item({
  segment: 'rules',
  field: 'rules',
  prefix: 'sgr',
  doc: 'the rules of the group',
  fields: {
    uuid: f.uuid('sgr', { create: 'optional', doc: "the rule's uuid (sgr-…); generated when omitted" }),
    direction: f.enum(['ingress', 'egress'], { create: 'required', doc: 'ingress | egress' }),
    protocol: f.enum(['tcp', 'udp', 'icmp', 'any'], { create: 'required', doc: 'tcp | udp | icmp | any' }),
    port_range_min: f.int(0, 65535, { create: 'nullable', nullable: true, doc: 'first port (tcp/udp)' }),
    port_range_max: f.int(0, 65535, { create: 'nullable', nullable: true, doc: 'last port (tcp/udp)' }),
    remote_ip_prefix: f.cidr({ create: 'nullable', nullable: true, doc: 'peer CIDR' }),
    remote_group_uuid: f.uuid('sg', {
      create: 'nullable',
      nullable: true,
      ref: { kind: 'security_groups', onDelete: 'restrict' },
      doc: 'peer security group (sg-…)',
    }),
  },
});

export const securityGroups = resource({
  kind: 'security_groups',
  singular: 'security_group',
  prefix: 'sg',
  doc: 'stateful firewall groups (ours; membership: interfaces security_groups add IF SG)',
  fields: {
    uuid: uuidField('sg'),
    display_name: displayName,
    description: f.string({ create: 'optional', update: 'optional', doc: 'free text' }, 1024),
    rules: f.list(securityGroupRules.schema, { immutable: true, doc: 'its rules (security_groups rules add)' }),
    ...timestamps,
  },
  deleteNotes: ['interfaces leave it (membership goes with the group)'],
});

// Security groups: stateful firewall groups (ours, as Neutron's) and their rules.
import { f, item, resource, SET } from '../resource.js';
import { displayName, projectId, timestamps, uuidField } from './common.js';

const optional = { create: 'nullable', nullable: true } as const;

export const securityGroupRules = item({
  segment: 'rules',
  max: 1_000,
  field: 'rules',
  prefix: 'sgr',
  doc: 'the rules of the group',
  fields: {
    uuid: uuidField('sgr', "the rule's"),
    direction: f.enum(['ingress', 'egress'], { create: 'required', doc: 'ingress | egress' }),
    protocol: f.string(
      {
        create: 'required',
        doc: 'tcp | udp | icmp | any, or an IP protocol number 0-255 (kept as given; 6, 17 and 1 are tcp, udp and icmp)',
      },
      4,
      { re: /^(tcp|udp|icmp|any|[0-9]{1,3})$/, text: 'tcp, udp, icmp, any or an IP protocol number 0-255' },
    ),
    port_range_min: f.int(0, 65535, { ...optional, doc: 'first port (tcp/udp); the ICMP type (icmp)' }),
    port_range_max: f.int(0, 65535, { ...optional, doc: 'last port (tcp/udp); the ICMP code (icmp; none: any code)' }),
    remote_ip_prefix: f.cidr({ ...optional, doc: 'peer CIDR' }),
    remote_group_uuid: f.ref('sg', 'restrict', { ...optional, doc: 'peer security group' }),
  },
});

const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17 };

/**
 * A rule's protocol as an IP protocol number (null: any), whether it was given by name or by number — how the
 * flows match it, how ports are read (tcp/udp ports, ICMP type and code) and how two rules are compared.
 */
export function ruleProtocolNumber(protocol: string): number | null {
  if (protocol === 'any') return null;
  return PROTOCOL_NUMBERS[protocol] ?? Number(protocol);
}

export const securityGroups = resource({
  kind: 'security_groups',
  prefix: 'sg',
  doc: 'stateful firewall groups (ours; membership: interfaces security_groups add IF SG)',
  fields: {
    uuid: uuidField('sg'),
    display_name: displayName,
    description: f.string({ ...SET.editable, default: '', doc: 'free text' }, 1024),
    project_id: projectId,
    rules: f.list(securityGroupRules.schema, { immutable: true, doc: 'its rules (security_groups rules add)' }),
    ...timestamps,
  },
  deleteNotes: ['interfaces leave it (membership goes with the group)'],
});

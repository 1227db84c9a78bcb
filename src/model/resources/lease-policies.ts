// Lease policies (OpenVNet's lease_policies): an interface added to a policy gets an address from the policy's
// ip_range_groups in its network; ip lease containers collect the leases a policy hands out, ip retention
// containers time them (lease_time until release, grace_time until the released address is deleted).
import { Type } from '../schema.js';
import { f, resource, SET } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

/** A network of a policy and the range group its addresses come from (OpenVNet's lease_policy_base_networks). */
export const leasePolicyNetwork = Type.Object({ network_uuid: Type.String(), ip_range_group_uuid: Type.String() });
/** An interface added to a policy (lease_policy_base_interfaces) and the lease it was given. */
export const leasePolicyInterface = Type.Object({
  interface_uuid: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  ip_lease_uuid: Type.Union([Type.String(), Type.Null()]),
});

export const leasePolicies = resource({
  kind: 'lease_policies',
  singular: 'lease_policy',
  prefix: 'lp',
  doc: 'lease policies: interfaces added to one get an address from its ip range groups',
  fields: {
    uuid: uuidField('lp'),
    display_name: displayName,
    mode: f.enum(['simple'], { create: 'optional', default: 'simple', doc: 'simple (the only mode)' }),
    timing: f.enum(['immediate', 'dhcp'], {
      ...SET.editable,
      default: 'immediate',
      doc: 'immediate (default: the address is leased when the interface is added) | dhcp (refused: not supported)',
    }),
    networks: f.list(leasePolicyNetwork, {
      doc: 'its networks, each with the ip range group its addresses come from (lease_policies networks add)',
    }),
    interfaces: f.list(leasePolicyInterface, { doc: 'interfaces added to it (lease_policies interfaces add)' }),
    ip_lease_container_uuids: f.list(Type.String(), {
      doc: 'containers every lease it hands out goes into (lease_policies ip_lease_containers add)',
    }),
    ip_retention_container_uuids: f.list(Type.String(), {
      doc: 'containers timing every lease it hands out (lease_policies ip_retention_containers add)',
    }),
    ...timestamps,
  },
  deleteNotes: ['the leases it handed out stay (as in OpenVNet); its relations go with it'],
});

export const ipLeaseContainers = resource({
  kind: 'ip_lease_containers',
  prefix: 'ilc',
  doc: 'collections of the IP leases lease policies hand out',
  fields: {
    uuid: uuidField('ilc'),
    ip_lease_uuids: f.list(Type.String(), { doc: 'its IP leases (ip_lease_containers ip_leases)' }),
    ...timestamps,
  },
  deleteNotes: ['its leases stay; lease policies forget it'],
});

/** One lease a retention container times: leased_at starts lease_time, released_at starts grace_time. */
export const ipRetention = Type.Object({
  ip_lease_uuid: Type.String(),
  /** The interface that held it last: a released lease goes back to it when it is added to the policy again. */
  interface_uuid: Type.Union([Type.String(), Type.Null()]),
  leased_at: Type.String(),
  released_at: Type.Union([Type.String(), Type.Null()]),
});

const seconds = (doc: string) => f.int(0, 0x7fffffff, { ...SET.clearable, doc });

export const ipRetentionContainers = resource({
  kind: 'ip_retention_containers',
  prefix: 'irc',
  doc: 'timers of the IP leases lease policies hand out (lease_time, grace_time)',
  fields: {
    uuid: uuidField('irc'),
    lease_time: seconds('seconds from leasing until the lease is released from its interface; null: never'),
    grace_time: seconds('seconds a released lease is kept for its interface before it is deleted; null: kept'),
    ip_retentions: f.list(ipRetention, { doc: 'the leases it times (ip_retention_containers ip_retentions)' }),
    ...timestamps,
  },
  deleteNotes: ['its leases stay, no longer timed; lease policies forget it'],
});

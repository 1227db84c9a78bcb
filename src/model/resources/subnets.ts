// Subnets: a network's IPv4 addressing as Neutron sees it — one per network. Making one gives the network its
// address (networks.ipv4_network); with enable_dhcp the server also makes the network's DHCP port and service.
import { Type } from '../schema.js';
import { f, resource, SET } from '../resource.js';
import { description, displayName, projectId, timestamps, uuidField } from './common.js';

/** A range of addresses the server hands out to new ports (Neutron's allocation_pools entry). */
export const allocationPool = Type.Object({
  start: Type.String({ format: 'ipv4' }),
  end: Type.String({ format: 'ipv4' }),
});

export const subnets = resource({
  kind: 'subnets',
  prefix: 'sn',
  doc: "a network's IPv4 addressing (Neutron's subnet): one per network",
  fields: {
    uuid: uuidField('sn'),
    display_name: displayName,
    description,
    project_id: projectId,
    network_uuid: f.ref('nw', 'cascade', { ...SET.fixed, filter: true, doc: 'the network it addresses' }),
    ipv4_network: f.ipv4({ ...SET.fixed, doc: 'network address (the network takes it)' }),
    ipv4_prefix: f.int(1, 30, { ...SET.fixed, doc: 'prefix length' }),
    gateway_ipv4_address: f.ipv4({
      ...SET.clearable,
      doc: "the router's address in it (Neutron's gateway_ip: kept out of the pools); null: none",
    }),
    enable_dhcp: f.bool({
      ...SET.editable,
      default: true,
      doc: 'the network has a DHCP service (a network:dhcp port with a dhcp network service)',
    }),
    allocation_pools: f.list(allocationPool, {
      immutable: true,
      doc: 'the ranges new ports get addresses from (default: every host address but the gateway)',
    }),
    dhcp_interface_uuid: f.uuid('if', {
      nullable: true,
      immutable: true,
      doc: 'the DHCP port serving it (made and removed with enable_dhcp)',
    }),
    ...timestamps,
  },
  deleteNotes: ['its network loses its address (when no port holds one) and its DHCP port'],
});

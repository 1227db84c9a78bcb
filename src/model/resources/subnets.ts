// Subnets: a network's IPv4 addressing as Neutron sees it — one or more IPv4 prefixes on one L2 network. The first
// gives the network its address (networks.ipv4_network, where OpenVNet keeps it); further ones add prefixes to the
// same broadcast domain. With enable_dhcp the server also makes the subnet's DHCP port and service.
import { inSubnet } from '../ipv4.js';
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
  doc: "an IPv4 prefix of a network (Neutron's subnet): the first is the network's own address, further ones share its L2",
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

/** One IPv4 prefix of a network, with the subnet that declares it (null: an OpenVNet network's own address). */
export interface NetworkPrefix {
  ipv4_network: string;
  ipv4_prefix: number;
  subnet: SubnetLike | null;
}
type SubnetLike = { uuid: string; ipv4_network: string; ipv4_prefix: number; gateway_ipv4_address?: string | null };
type NetworkLike = { ipv4_network: string | null; ipv4_prefix?: number | null };

/**
 * A network's prefixes, its own first (the first subnet's, or an OpenVNet network's ipv4_network), then its further
 * subnets' in the order given. The one place that says which addresses a network holds: the server's lease checks,
 * routes and DHCP's choice of mask and router all read it.
 */
export function networkPrefixes(network: NetworkLike, subnets: readonly SubnetLike[]): NetworkPrefix[] {
  const out: NetworkPrefix[] = [];
  const own = network.ipv4_network;
  const ownLen = network.ipv4_prefix ?? 24;
  if (own !== null) {
    const sn = subnets.find((s) => s.ipv4_network === own && s.ipv4_prefix === ownLen) ?? null;
    out.push({ ipv4_network: own, ipv4_prefix: ownLen, subnet: sn });
  }
  for (const s of subnets)
    if (!out.some((p) => p.subnet === s || (p.ipv4_network === s.ipv4_network && p.ipv4_prefix === s.ipv4_prefix)))
      out.push({ ipv4_network: s.ipv4_network, ipv4_prefix: s.ipv4_prefix, subnet: s });
  return out;
}

/** The prefix of `prefixes` that holds `ip` (they never overlap), if any. */
export function prefixHolding(prefixes: readonly NetworkPrefix[], ip: string): NetworkPrefix | undefined {
  return prefixes.find((p) => inSubnet(ip, p.ipv4_network, p.ipv4_prefix));
}

// Neutron's objects built from vnet's documents: one model, two dialects. A network is a vnet network, a subnet its
// addressing, a port an interface with its leases, a security group the same group vnctl shows. Who sees what
// (a member its project's objects, plus shared and external networks) is decided here too.
import { type NetworkPrefix, networkPrefixes, prefixHolding } from '../../model/resources/subnets.js';
import type { Doc } from '../../store/store.js';
import { represent } from '../represent.js';
import type { ReadContext } from '../write-context.js';
import type { Body } from './dialect.js';

/** Who is calling, as Neutron sees it. */
export interface Caller {
  admin: boolean;
  /** The project objects are made in, and (for members) the only one they see. */
  projectId: string;
}

/** Neutron's timestamps have whole seconds. */
export const stamp = (iso: unknown) => (typeof iso === 'string' ? iso.replace(/\.\d+Z$/, 'Z') : null);
/** Objects made through the OpenVNet API belong to no project: Neutron shows an empty one (admins see them). */
export const projectOf = (d: Doc) => (d.project_id as string | null) ?? '';

function standard(d: Doc): Body {
  const project = projectOf(d);
  return {
    id: d.uuid,
    name: (d.display_name as string | undefined) ?? '',
    description: (d.description as string | undefined) ?? '',
    project_id: project,
    tenant_id: project,
    tags: [],
    created_at: stamp(d.created_at),
    updated_at: stamp(d.updated_at),
    revision_number: 0,
  };
}

/** Everything one request's answer is built from, read in one transaction. */
export class NeutronView {
  private constructor(
    private readonly ctx: ReadContext,
    readonly caller: Caller,
    /** network uuid → its prefixes, its own first (model/resources/subnets.ts). */
    private readonly prefixesOfNetwork: Map<string, NetworkPrefix[]>,
    private readonly nodeOfDatapath: Map<string, string>,
  ) {}

  static async load(ctx: ReadContext, caller: Caller): Promise<NeutronView> {
    const subnets = await ctx.find('subnets');
    const dps = await ctx.find('datapaths');
    const byNetwork = new Map<string, Doc[]>();
    for (const s of subnets)
      byNetwork.set(s.network_uuid as string, [...(byNetwork.get(s.network_uuid as string) ?? []), s]);
    const prefixes = new Map<string, NetworkPrefix[]>();
    for (const [nw, list] of byNetwork) {
      const n = await ctx.get('networks', nw);
      if (n) prefixes.set(nw, networkPrefixes(n as never, list as never));
    }
    return new NeutronView(ctx, caller, prefixes, new Map(dps.map((d) => [d.uuid, d.node_id as string])));
  }

  private owns(d: Doc): boolean {
    return this.caller.admin || projectOf(d) === this.caller.projectId;
  }

  /** Members see their project's networks and the shared and external ones. */
  seesNetwork(n: Doc): boolean {
    return this.owns(n) || n.shared === true || n.external === true;
  }

  /** A subnet is seen with its network when that network is shared (not merely external: Neutron hides those). */
  seesSubnet(s: Doc, network: Doc | undefined): boolean {
    return this.owns(s) || network?.shared === true;
  }

  seesOwn(d: Doc): boolean {
    return this.owns(d);
  }

  /** The network's first subnet: the one that is the network's own address (its DNS servers and host routes). */
  subnetOf(networkUuid: string): Doc | undefined {
    return this.subnetsOf(networkUuid)[0];
  }

  /** Every subnet of the network, its first first. */
  subnetsOf(networkUuid: string): Doc[] {
    return (this.prefixesOfNetwork.get(networkUuid) ?? []).flatMap((p) => (p.subnet ? [p.subnet as Doc] : []));
  }

  /** The subnet of the network that holds `ip`. */
  subnetHolding(networkUuid: string, ip: string): Doc | undefined {
    return prefixHolding(this.prefixesOfNetwork.get(networkUuid) ?? [], ip)?.subnet as Doc | undefined;
  }

  network(n: Doc): Body {
    const physical = n.network_mode === 'physical';
    return {
      ...standard(n),
      admin_state_up: true,
      status: 'ACTIVE',
      subnets: this.subnetsOf(n.uuid).map((s) => s.uuid),
      shared: n.shared === true,
      'router:external': n.external === true,
      mtu: n.mtu ?? null,
      port_security_enabled: true,
      // The tunnel key is the GRE key or VXLAN VNI, whichever the agents use; physical networks are flat or a VLAN.
      'provider:network_type': physical ? (n.vlan_id === null ? 'flat' : 'vlan') : 'vxlan',
      'provider:physical_network': null,
      'provider:segmentation_id': physical ? n.vlan_id : n.tunnel_key,
      availability_zones: [],
      availability_zone_hints: [],
      ipv4_address_scope: null,
      ipv6_address_scope: null,
    };
  }

  subnet(s: Doc, network: Doc | undefined): Body {
    // The network holds its first subnet's DNS servers and host routes; a further subnet has none (refused).
    const first = network?.ipv4_network === s.ipv4_network && network?.ipv4_prefix === s.ipv4_prefix;
    const dns = first ? ((network?.dns_servers as string | null) ?? '') : '';
    return {
      ...standard(s),
      network_id: s.network_uuid,
      ip_version: 4,
      cidr: `${s.ipv4_network}/${s.ipv4_prefix}`,
      gateway_ip: s.gateway_ipv4_address,
      allocation_pools: s.allocation_pools,
      enable_dhcp: s.enable_dhcp === true,
      dns_nameservers: dns === '' ? [] : dns.split(','),
      host_routes: first ? ((network?.host_routes as unknown[] | undefined) ?? []) : [],
      ipv6_ra_mode: null,
      ipv6_address_mode: null,
      subnetpool_id: null,
      segment_id: null,
      service_types: [],
    };
  }

  /** A port: the interface with its MAC and IP leases (as the OpenVNet API shows them). */
  async port(i: Doc): Promise<Body> {
    const shown = await represent(this.ctx, 'interfaces', i);
    const macs = shown.mac_leases as {
      mac_address: string;
      ip_leases: { network_uuid: string; ipv4_address: string }[];
    }[];
    const ips = macs.flatMap((m) => m.ip_leases);
    const owner = i.owner_datapath_uuid as string | null;
    return {
      ...standard(i),
      network_id: ips[0]?.network_uuid ?? i.network_uuid ?? null,
      admin_state_up: i.admin_state_up !== false,
      mac_address: macs[0]?.mac_address ?? null,
      fixed_ips: ips.map((l) => ({
        subnet_id: this.subnetHolding(l.network_uuid, l.ipv4_address)?.uuid ?? null,
        ip_address: l.ipv4_address,
      })),
      device_id: i.device_id ?? '',
      device_owner: i.device_owner ?? '',
      status: i.status === 'up' ? 'ACTIVE' : 'DOWN',
      security_groups: i.security_group_uuids,
      port_security_enabled: i.enable_filtering === true,
      allowed_address_pairs: [],
      extra_dhcp_opts: [],
      'binding:host_id': owner ? (this.nodeOfDatapath.get(owner) ?? '') : '',
      'binding:vnic_type': 'normal',
      'binding:profile': {},
      'binding:vif_type': 'ovs',
      'binding:vif_details': {},
    };
  }

  securityGroup(g: Doc): Body {
    return {
      ...standard(g),
      security_group_rules: (g.rules as Doc[]).map((r) => this.rule(g, r)),
      stateful: true,
      shared: false,
    };
  }

  rule(g: Doc, r: Doc): Body {
    const project = projectOf(g);
    return {
      id: r.uuid,
      description: '',
      project_id: project,
      tenant_id: project,
      security_group_id: g.uuid,
      direction: r.direction,
      ethertype: 'IPv4',
      protocol: r.protocol === 'any' ? null : r.protocol,
      port_range_min: r.port_range_min,
      port_range_max: r.port_range_max,
      remote_ip_prefix: r.remote_ip_prefix,
      remote_group_id: r.remote_group_uuid,
      remote_address_group_id: null,
      belongs_to_default_sg: g.display_name === 'default' && g.project_id !== null,
      created_at: stamp(g.created_at),
      updated_at: stamp(g.updated_at),
      revision_number: 0,
    };
  }
}

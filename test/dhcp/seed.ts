// The seeds' router_v2v layout as change-feed resources (the shared contract's JSON), for DHCP context tests.
import type { DhcpResources } from '../../src/dhcp/index.js';
import type { InterfaceMode } from '../../src/model/types.js';

const ts = { created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };

export function iface(uuid: string, mode: InterfaceMode, mac: string, leases: [string, string][], extra: object = {}) {
  return {
    uuid,
    display_name: uuid,
    mode,
    owner_datapath_uuid: null,
    port_name: null,
    enable_routing: false,
    enable_route_translation: false,
    enable_filtering: false,
    mac_address: mac,
    network_uuid: leases[0]?.[0] ?? null,
    ipv4_address: leases[0]?.[1] ?? null,
    mac_leases: [
      {
        uuid: `ml-${uuid}`,
        mac_address: mac,
        ip_leases: leases.map(([nw, ip], i) => ({ uuid: `il-${uuid}-${i}`, network_uuid: nw, ipv4_address: ip })),
      },
    ],
    security_group_uuids: [],
    status: 'up',
    active_datapath_uuid: null,
    active_port_name: null,
    ...ts,
    ...extra,
  };
}

function network(uuid: string, net: string, extra: object = {}) {
  return {
    uuid,
    display_name: uuid,
    ipv4_network: net,
    ipv4_prefix: 24,
    network_mode: 'virtual',
    domain_name: 'vnet.example',
    mtu: null,
    dns_servers: null,
    dhcp_lease_time: 86400,
    segment_uuid: null,
    tunnel_key: 1,
    ct_zone: 1,
    ...ts,
    ...extra,
  };
}

/** The seeds' router_v2v layout: two networks joined by rl-1, a DHCP and a DNS service in vnet1. */
export function seed(): DhcpResources {
  return {
    networks: [
      network('nw-vnet1', '10.101.0.0'),
      network('nw-vnet2', '10.102.0.0', { dns_servers: '8.8.8.8, 8.8.4.4', mtu: 1400 }),
    ],
    interfaces: [
      iface('if-vm1', 'vif', '52:54:00:00:00:01', [['nw-vnet1', '10.101.0.10']]),
      iface('if-vm2', 'vif', '52:54:00:00:00:02', [['nw-vnet2', '10.102.0.10']]),
      iface('if-nolease', 'vif', '52:54:00:00:00:09', []),
      iface('if-dhcp1', 'simulated', '02:00:00:00:01:11', [['nw-vnet1', '10.101.0.2']]),
      iface('if-dhcp2', 'simulated', '02:00:00:00:02:11', [['nw-vnet2', '10.102.0.2']]),
      iface('if-dns1', 'simulated', '02:00:00:00:01:12', [['nw-vnet1', '10.101.0.3']]),
      iface('if-router1', 'simulated', '02:00:00:00:01:01', [['nw-vnet1', '10.101.0.1']], { enable_routing: true }),
      iface('if-router2', 'simulated', '02:00:00:00:02:01', [['nw-vnet2', '10.102.0.1']], { enable_routing: true }),
    ],
    network_services: [
      { uuid: 'ns-dhcp1', mode: 'dhcp', interface_uuid: 'if-dhcp1' },
      { uuid: 'ns-dhcp2', mode: 'dhcp', interface_uuid: 'if-dhcp2' },
      { uuid: 'ns-dns1', mode: 'dns', interface_uuid: 'if-dns1' },
    ],
    routes: [
      {
        uuid: 'r-1',
        interface_uuid: 'if-router1',
        route_link_uuid: 'rl-1',
        network_uuid: 'nw-vnet1',
        ipv4_network: '10.101.0.0',
        ipv4_prefix: 24,
        ingress: true,
        egress: true,
      },
      {
        uuid: 'r-2',
        interface_uuid: 'if-router2',
        route_link_uuid: 'rl-1',
        network_uuid: 'nw-vnet2',
        ipv4_network: '10.102.0.0',
        ipv4_prefix: 24,
        ingress: true,
        egress: true,
      },
    ],
  };
}

/** The seed with vm1's and the DHCP server's addresses in the top-level lease lists (interfaces embed none). */
export function topLevelLeases(): DhcpResources {
  const res = seed();
  res.interfaces = res.interfaces!.map((i) => ({ ...i, mac_leases: [], network_uuid: null, ipv4_address: null }));
  res.mac_leases = [
    { uuid: 'ml-a', interface_uuid: 'if-vm1', mac_address: '52:54:00:00:00:01' },
    { uuid: 'ml-d', interface_uuid: 'if-dhcp1', mac_address: '02:00:00:00:01:11' },
  ];
  res.ip_leases = [
    {
      uuid: 'il-a',
      network_uuid: 'nw-vnet1',
      ipv4_address: '10.101.0.10',
      interface_uuid: 'if-vm1',
      mac_lease_uuid: 'ml-a',
    },
    {
      uuid: 'il-d',
      network_uuid: 'nw-vnet1',
      ipv4_address: '10.101.0.2',
      interface_uuid: 'if-dhcp1',
      mac_lease_uuid: 'ml-d',
    },
  ];
  return res;
}

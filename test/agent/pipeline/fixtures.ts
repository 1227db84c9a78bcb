// Model fixtures for pipeline tests: the seed's three networks and router, spread over hosts as a test asks.
import type { InterfaceMode } from '../../../src/model/types.js';
import type { FeedItem, FeedResources, LocalContext, LocalPort } from '../../../src/agent/pipeline/model-view.js';

type InterfaceRes = FeedItem<'interfaces'>;

export interface VmSpec {
  uuid: string;
  network: string;
  ip: string;
  mac: string;
  /** Datapath the VM's port is on. */
  dp: string;
}

export const DP1 = 'dp-1';
export const DP2 = 'dp-2';
export const DP3 = 'dp-3';
export const DP_IP: Record<string, string> = { [DP1]: '10.200.0.1', [DP2]: '10.200.0.2', [DP3]: '10.200.0.3' };

export const NET = {
  net1: { uuid: 'nw-net1', ipv4_network: '172.16.1.0', ipv4_prefix: 24, tunnel_key: 101, ct_zone: 11 },
  net2: { uuid: 'nw-net2', ipv4_network: '172.16.2.0', ipv4_prefix: 24, tunnel_key: 102, ct_zone: 12 },
  net3: { uuid: 'nw-net3', ipv4_network: '172.16.1.0', ipv4_prefix: 24, tunnel_key: 103, ct_zone: 13 },
} as const;

export const ROUTER = {
  net1: { uuid: 'if-rt1', mac: '02:00:10:00:00:01', ip: '172.16.1.254' },
  net2: { uuid: 'if-rt2', mac: '02:00:10:00:00:02', ip: '172.16.2.254' },
};
export const DHCP_IF = { uuid: 'if-dhcp1', mac: '02:00:20:00:00:01', ip: '172.16.1.253' };

/** The seed's six VMs: net1 (veth1 .1, veth2 .2), net2 (veth3 .3, veth4 .4), net3 overlapping net1 (veth5 .1, veth6 .2). */
export function seedVms(place: (n: number) => string = () => DP1): VmSpec[] {
  const spec: [string, string][] = [
    ['nw-net1', '172.16.1.1'],
    ['nw-net1', '172.16.1.2'],
    ['nw-net2', '172.16.2.3'],
    ['nw-net2', '172.16.2.4'],
    ['nw-net3', '172.16.1.1'],
    ['nw-net3', '172.16.1.2'],
  ];
  return spec.map(([network, ip], k) => ({
    uuid: `if-veth${k + 1}`,
    network,
    ip,
    mac: `02:00:00:00:00:0${k + 1}`,
    dp: place(k + 1),
  }));
}

export function iface(
  uuid: string,
  mode: InterfaceMode,
  network: string,
  mac: string,
  ip: string | null,
  extra: Partial<InterfaceRes> = {},
): InterfaceRes {
  return {
    uuid,
    mode,
    owner_datapath_uuid: null,
    port_name: null,
    mac_address: mac,
    network_uuid: network,
    ipv4_address: ip,
    enable_routing: mode === 'simulated',
    enable_filtering: false,
    mac_leases: [
      {
        uuid: `ml-${uuid}`,
        mac_address: mac,
        ip_leases: ip ? [{ uuid: `il-${uuid}`, network_uuid: network, ipv4_address: ip }] : [],
      },
    ],
    security_group_uuids: [],
    active_datapath_uuid: null,
    ...extra,
  };
}

/** The three datapaths (dpid = index, node hostN, the DP_IP address), each with `extra(uuid)`'s fields. */
export function datapathItems(extra: (uuid: string) => Record<string, unknown> = () => ({})) {
  return [DP1, DP2, DP3].map((uuid, k) => ({
    uuid,
    dpid: `0x000000000000000${k + 1}`,
    node_id: `host${k + 1}`,
    ipv4_address: DP_IP[uuid]!,
    ...extra(uuid),
  }));
}

/** Resources for the seed layout; VMs active on their datapath. */
export function seedResources(vms: VmSpec[] = seedVms(), opts: { encap?: Record<string, 'gre' | 'vxlan'> } = {}) {
  const interfaces: InterfaceRes[] = vms.map((v) =>
    iface(v.uuid, 'vif', v.network, v.mac, v.ip, { active_datapath_uuid: v.dp }),
  );
  interfaces.push(
    iface(ROUTER.net1.uuid, 'simulated', NET.net1.uuid, ROUTER.net1.mac, ROUTER.net1.ip),
    iface(ROUTER.net2.uuid, 'simulated', NET.net2.uuid, ROUTER.net2.mac, ROUTER.net2.ip),
    iface(DHCP_IF.uuid, 'simulated', NET.net1.uuid, DHCP_IF.mac, DHCP_IF.ip),
  );
  const res: FeedResources = {
    datapaths: datapathItems((uuid) => (opts.encap?.[uuid] ? { encap: opts.encap[uuid] } : {})),
    networks: Object.values(NET).map((n) => ({ ...n, network_mode: 'virtual' })),
    interfaces,
    network_services: [{ uuid: 'ns-dhcp1', mode: 'dhcp', interface_uuid: DHCP_IF.uuid }],
    route_links: [{ uuid: 'rl-1', mac_address: '02:00:30:00:00:01' }],
    routes: [
      {
        uuid: 'r-net1',
        interface_uuid: ROUTER.net1.uuid,
        route_link_uuid: 'rl-1',
        network_uuid: NET.net1.uuid,
        ipv4_network: '172.16.1.0',
        ipv4_prefix: 24,
        ingress: true,
        egress: true,
      },
      {
        uuid: 'r-net2',
        interface_uuid: ROUTER.net2.uuid,
        route_link_uuid: 'rl-1',
        network_uuid: NET.net2.uuid,
        ipv4_network: '172.16.2.0',
        ipv4_prefix: 24,
        ingress: true,
        egress: true,
      },
    ],
  };
  return res;
}

export const GRE_PORT = 100;
export const VXLAN_PORT = 101;

/** LocalContext of datapath `dp` holding ports named after the VM uuids, ofport = VM number. */
export function localFor(
  dp: string,
  vms: VmSpec[],
  opts: { encap?: 'gre' | 'vxlan'; tunnelIp?: string | null } = {},
): LocalContext {
  const ports = new Map<string, LocalPort>();
  for (const v of vms) if (v.dp === dp) ports.set(v.uuid, { ofport: Number(v.uuid.replace(/\D/g, '')) });
  ports.set('t-gre', { ofport: GRE_PORT });
  ports.set('t-vxlan', { ofport: VXLAN_PORT });
  return {
    datapathUuid: dp,
    dpid: BigInt(Number(dp.replace(/\D/g, ''))),
    tunnelIp: opts.tunnelIp === undefined ? DP_IP[dp]! : opts.tunnelIp,
    encap: opts.encap ?? 'gre',
    tunnelPorts: { gre: GRE_PORT, vxlan: VXLAN_PORT },
    ports,
    underlayMtu: 1500,
  };
}

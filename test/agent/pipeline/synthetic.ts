// Synthetic models for scale tests and the flow benchmark: N interfaces in M networks over H hosts, with routers.
import type { FeedItem, FeedResources, LocalContext, LocalPort } from '../../../src/agent/pipeline/model-view.js';

type InterfaceRes = FeedItem<'interfaces'>;

export interface SyntheticOptions {
  interfaces: number;
  networks: number;
  /** Hosts the VMs are spread over (round robin); the local host is dp-0. */
  hosts: number;
  /** Networks per router (route link); 0 = no routing. */
  networksPerRouter?: number;
}

const ip = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const mac = (n: number) =>
  `02:${[24, 16, 8, 0].map((s) => ((n >>> s) & 255).toString(16).padStart(2, '0')).join(':')}:01`;

export function networkUuid(k: number): string {
  return `nw-s${k}`;
}

export function synthetic(o: SyntheticOptions): { resources: FeedResources; local: LocalContext } {
  const per = o.networksPerRouter ?? 0;
  const networks = Array.from({ length: o.networks }, (_, k) => ({
    uuid: networkUuid(k),
    ipv4_network: ip((10 << 24) | (k << 8)),
    ipv4_prefix: 24,
    network_mode: 'virtual' as const,
    tunnel_key: 1000 + k,
    ct_zone: 1000 + k,
  }));
  const interfaces: InterfaceRes[] = [];
  const ports = new Map<string, LocalPort>();
  for (let k = 0; k < o.interfaces; k++) {
    const nw = k % o.networks;
    const host = k % o.hosts;
    const uuid = `if-s${k}`;
    const addr = ip((10 << 24) | (nw << 8) | (1 + Math.floor(k / o.networks)));
    interfaces.push({
      uuid,
      mode: 'vif',
      port_name: `tap${k}`,
      mac_address: mac(k),
      network_uuid: networks[nw]!.uuid,
      ipv4_address: addr,
      mac_leases: [
        {
          uuid: `ml-s${k}`,
          mac_address: mac(k),
          ip_leases: [{ uuid: `il-s${k}`, network_uuid: networks[nw]!.uuid, ipv4_address: addr }],
        },
      ],
      security_group_uuids: [],
      active_datapath_uuid: `dp-${host}`,
    });
    if (host === 0) ports.set(`tap${k}`, { ofport: ports.size + 1 });
  }
  const routes = [];
  const routeLinks = [];
  if (per > 0)
    for (let r = 0; r * per < o.networks; r++) {
      routeLinks.push({ uuid: `rl-s${r}`, mac_address: mac(0x7f000000 + r) });
      for (let j = 0; j < per && r * per + j < o.networks; j++) {
        const nk = r * per + j;
        const rif = `if-r${nk}`;
        const raddr = ip((10 << 24) | (nk << 8) | 254);
        interfaces.push({
          uuid: rif,
          mode: 'simulated',
          mac_address: mac(0x7e000000 + nk),
          network_uuid: networks[nk]!.uuid,
          ipv4_address: raddr,
          mac_leases: [
            {
              uuid: `ml-r${nk}`,
              mac_address: mac(0x7e000000 + nk),
              ip_leases: [{ uuid: `il-r${nk}`, network_uuid: networks[nk]!.uuid, ipv4_address: raddr }],
            },
          ],
          security_group_uuids: [],
        });
        routes.push({
          uuid: `r-s${nk}`,
          interface_uuid: rif,
          route_link_uuid: `rl-s${r}`,
          network_uuid: networks[nk]!.uuid,
          ipv4_network: networks[nk]!.ipv4_network,
          ipv4_prefix: 24,
          ingress: true,
          egress: true,
        });
      }
    }
  const datapaths = Array.from({ length: o.hosts }, (_, h) => ({
    uuid: `dp-${h}`,
    dpid: `0x${h.toString(16).padStart(16, '0')}`,
    ipv4_address: ip((10 << 24) | (250 << 16) | (h + 1)),
  }));
  ports.set('t-gre', { ofport: 60000 });
  ports.set('t-vxlan', { ofport: 60001 });
  return {
    resources: { datapaths, networks, interfaces, routes, route_links: routeLinks },
    local: {
      datapathUuid: 'dp-0',
      dpid: 0n,
      tunnelIp: '10.250.0.1',
      encap: 'gre',
      tunnelPorts: { gre: 60000, vxlan: 60001 },
      ports,
      underlayMtu: 1500,
    },
  };
}

/**
 * The issue-7 figure: `members` local interfaces in one group whose `rules` ingress rules each name one of 3
 * remote groups (10 members each, on another host).
 */
export function securityScenario(members: number, rules: number) {
  const { resources, local } = synthetic({
    interfaces: members,
    networks: Math.max(1, Math.ceil(members / 10)),
    hosts: 1,
  });
  for (const i of resources.interfaces!) i.security_group_uuids = ['sg-big'];
  resources.security_groups = [
    {
      uuid: 'sg-big',
      rules: Array.from({ length: rules }, (_, j) => ({
        uuid: `sgr-${j}`,
        direction: 'ingress' as const,
        protocol: 'tcp' as const,
        port_range_min: 1000 + j,
        port_range_max: 1000 + j,
        remote_group_uuid: `sg-r${j % 3}`,
      })),
    },
    ...[0, 1, 2].map((g) => ({ uuid: `sg-r${g}`, rules: [] })),
  ];
  for (let k = 0; k < 30; k++)
    resources.interfaces!.push({
      uuid: `if-rg${k}`,
      mode: 'vif',
      mac_address: `02:00:00:02:00:${k.toString(16).padStart(2, '0')}`,
      network_uuid: 'nw-s0',
      ipv4_address: `10.0.0.${100 + k}`,
      mac_leases: [],
      security_group_uuids: [`sg-r${k % 3}`],
      active_datapath_uuid: 'dp-remote',
    });
  return { resources, local };
}

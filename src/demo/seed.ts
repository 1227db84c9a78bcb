// The seed layout (three networks, net3 overlapping net1, a router between net1 and net2, six VMs)
// as data: the API calls that build it, the vnctl lines of the seeds, and the expected reachability.

export interface SeedNetwork {
  uuid: string;
  name: string;
  ipv4Network: string;
  prefix: number;
  /** The simulated router interface of this network, if it is on the route link. */
  gateway: { uuid: string; ip: string; mac: string; service: string; route: string } | null;
}

export interface SeedVm {
  /** VM (namespace) name as in the seeds: ns1..ns6. */
  name: string;
  /** Interface uuid; also the OVS port name (OpenVNet's convention, ≤ 15 chars). */
  uuid: string;
  network: string;
  ip: string;
  mac: string;
  gateway: string | null;
}

export const ROUTE_LINK = { uuid: 'rl-vnetlink1', mac: '52:54:00:60:11:11' } as const;

export const SEED_NETWORKS: readonly SeedNetwork[] = [
  {
    uuid: 'nw-net1',
    name: 'net1',
    ipv4Network: '172.16.1.0',
    prefix: 24,
    gateway: {
      uuid: 'if-vnet1gw',
      ip: '172.16.1.254',
      mac: '52:54:00:74:00:00',
      service: 'ns-vnet1gw',
      route: 'r-vnet1',
    },
  },
  {
    uuid: 'nw-net2',
    name: 'net2',
    ipv4Network: '172.16.2.0',
    prefix: 24,
    gateway: {
      uuid: 'if-vnet2gw',
      ip: '172.16.2.254',
      mac: '52:54:00:74:22:22',
      service: 'ns-vnet2gw',
      route: 'r-vnet2',
    },
  },
  { uuid: 'nw-net3', name: 'net3', ipv4Network: '172.16.1.0', prefix: 24, gateway: null },
];

export const SEED_VMS: readonly SeedVm[] = [
  {
    name: 'ns1',
    uuid: 'if-veth1',
    network: 'nw-net1',
    ip: '172.16.1.1',
    mac: '52:54:00:0d:84:01',
    gateway: '172.16.1.254',
  },
  {
    name: 'ns2',
    uuid: 'if-veth2',
    network: 'nw-net1',
    ip: '172.16.1.2',
    mac: '52:54:00:0d:84:02',
    gateway: '172.16.1.254',
  },
  {
    name: 'ns3',
    uuid: 'if-veth3',
    network: 'nw-net2',
    ip: '172.16.2.3',
    mac: '52:54:00:0d:84:03',
    gateway: '172.16.2.254',
  },
  {
    name: 'ns4',
    uuid: 'if-veth4',
    network: 'nw-net2',
    ip: '172.16.2.4',
    mac: '52:54:00:0d:84:04',
    gateway: '172.16.2.254',
  },
  { name: 'ns5', uuid: 'if-veth5', network: 'nw-net3', ip: '172.16.1.1', mac: '52:54:00:0d:84:05', gateway: null },
  { name: 'ns6', uuid: 'if-veth6', network: 'nw-net3', ip: '172.16.1.2', mac: '52:54:00:0d:84:06', gateway: null },
];

export function seedNetwork(uuid: string): SeedNetwork {
  const n = SEED_NETWORKS.find((x) => x.uuid === uuid);
  if (!n) throw new Error(`no seed network ${uuid}`);
  return n;
}

/** One API write (OpenVNet parameter names; POST bodies are sent as JSON). */
export interface ApiCall {
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
}

/**
 * Every write that builds the seed model. `datapaths` are added with their networks and the route
 * link (optional rows in vnet, kept because the seeds make them).
 */
export function seedApiCalls(datapaths: readonly { uuid: string }[] = []): ApiCall[] {
  const calls: ApiCall[] = [];
  const post = (path: string, body: Record<string, unknown> = {}): void => {
    calls.push({ method: 'POST', path, body });
  };
  for (const n of SEED_NETWORKS) {
    post('/networks', {
      uuid: n.uuid,
      display_name: n.name,
      ipv4_network: n.ipv4Network,
      ipv4_prefix: n.prefix,
      domain_name: `dom${n.name.slice(3)}`,
      network_mode: 'virtual',
    });
    for (const dp of datapaths) post(`/datapaths/${dp.uuid}/networks/${n.uuid}`);
  }
  for (const vm of SEED_VMS) {
    post('/interfaces', { uuid: vm.uuid, network_uuid: vm.network, ipv4_address: vm.ip, mac_address: vm.mac });
  }
  for (const n of SEED_NETWORKS) {
    if (!n.gateway) continue;
    post('/interfaces', {
      uuid: n.gateway.uuid,
      network_uuid: n.uuid,
      mac_address: n.gateway.mac,
      ipv4_address: n.gateway.ip,
      mode: 'simulated',
    });
    post('/network_services', { uuid: n.gateway.service, interface_uuid: n.gateway.uuid, display_name: 'router' });
  }
  post('/route_links', { uuid: ROUTE_LINK.uuid, mac_address: ROUTE_LINK.mac });
  for (const dp of datapaths) post(`/datapaths/${dp.uuid}/route_links/${ROUTE_LINK.uuid}`);
  for (const n of SEED_NETWORKS) {
    if (!n.gateway) continue;
    post('/routes', {
      uuid: n.gateway.route,
      interface_uuid: n.gateway.uuid,
      route_link_uuid: ROUTE_LINK.uuid,
      ipv4_network: n.ipv4Network,
    });
  }
  return calls;
}

/** A curl command line that POSTs `fields` (each `name=value`) as a form to `url`. */
function curlPost(url: string, fields: string[]): string[] {
  return ['curl', '-sf', '-X', 'POST', ...fields.flatMap((f) => ['--data-urlencode', f]), url];
}

/**
 * The seed's own command lines (vnctl, and curl where the seed's vnctl lacked an option), for the
 * one-host test and for showing users. `api` is the server base URL.
 */
export function seedVnctlLines(
  api: string,
  dp: { uuid: string; dpid: string; nodeId: string; ip: string },
): string[][] {
  const lines: string[][] = [
    [
      'vnctl',
      'datapath',
      'add',
      '--uuid',
      dp.uuid,
      '--display-name=br0',
      '--dc-segment-id=seg1',
      `--dpid=${dp.dpid}`,
      `--ipv4-address=${dp.ip}`,
      `--node-id=${dp.nodeId}`,
    ],
  ];
  for (const n of SEED_NETWORKS) {
    lines.push([
      'vnctl',
      'network',
      'add',
      '--uuid',
      n.uuid,
      `--display-name=${n.name}`,
      '--ipv4-network',
      n.ipv4Network,
      `--ipv4-prefix=${n.prefix}`,
      `--domain-name=dom${n.name.slice(3)}`,
      '--network-mode=virtual',
    ]);
    lines.push(['vnctl', 'datapath', 'networks', 'add', dp.uuid, n.uuid, '--broadcast-mac-address=08:00:27:10:03:01']);
  }
  for (const vm of SEED_VMS) {
    lines.push([
      'vnctl',
      'interface',
      'add',
      `--uuid=${vm.uuid}`,
      `--ipv4-address=${vm.ip}`,
      `--network-uuid=${vm.network}`,
      `--mac-address=${vm.mac}`,
    ]);
  }
  for (const n of SEED_NETWORKS) {
    if (!n.gateway) continue;
    lines.push(
      curlPost(`${api}/api/interfaces`, [
        `uuid=${n.gateway.uuid}`,
        `network_uuid=${n.uuid}`,
        `mac_address=${n.gateway.mac}`,
        `ipv4_address=${n.gateway.ip}`,
        'mode=simulated',
      ]),
    );
    lines.push([
      'vnctl',
      'network_service',
      'add',
      `--uuid=${n.gateway.service}`,
      `--interface-uuid=${n.gateway.uuid}`,
      '--display-name=router',
    ]);
  }
  lines.push(['vnctl', 'route_link', 'add', `--uuid=${ROUTE_LINK.uuid}`, `--mac-address=${ROUTE_LINK.mac}`]);
  lines.push(
    curlPost(`${api}/api/datapaths/${dp.uuid}/route_links/${ROUTE_LINK.uuid}`, [
      `route_link_uuid=${ROUTE_LINK.uuid}`,
      'mac_address=08:00:27:20:01:01',
    ]),
  );
  for (const n of SEED_NETWORKS) {
    if (!n.gateway) continue;
    lines.push(
      curlPost(`${api}/api/routes`, [
        `uuid=${n.gateway.route}`,
        `interface_uuid=${n.gateway.uuid}`,
        `route_link_uuid=${ROUTE_LINK.uuid}`,
        `ipv4_network=${n.ipv4Network}`,
      ]),
    );
  }
  return lines;
}

/** A column of the reachability matrix: a VM, or a router interface address. */
export interface MatrixTarget {
  label: string;
  ip: string;
  /** The VM that must answer (null for router addresses, answered by the switch). */
  vm: SeedVm | null;
}

export function matrixTargets(): MatrixTarget[] {
  const t: MatrixTarget[] = SEED_VMS.map((vm) => ({ label: vm.name, ip: vm.ip, vm }));
  for (const n of SEED_NETWORKS) if (n.gateway) t.push({ label: `gw ${n.gateway.ip}`, ip: n.gateway.ip, vm: null });
  return t;
}

const ROUTED = new Set(SEED_NETWORKS.filter((n) => n.gateway).map((n) => n.uuid));

/** What the seed layout promises: same network, or both networks on the route link. */
export function expectedReachable(src: SeedVm, target: MatrixTarget): boolean {
  if (target.vm === src) return true;
  if (target.vm) return target.vm.network === src.network || (ROUTED.has(src.network) && ROUTED.has(target.vm.network));
  return ROUTED.has(src.network);
}

// The north-south topology as data: an external VLAN-10 network behind the lab's upstream router, and tenants
// that each have a router (route link) with an interface on it doing SNAT, overlapping inside subnets allowed.
// One declaration for the e2e (test/e2e/snat), the benchmark (bench/north-south) and anyone trying it by hand.
import type { ApiCall } from './seed.js';

export const EXTERNAL = {
  uuid: 'nw-ext',
  ipv4_network: '192.168.10.0',
  ipv4_prefix: 24,
  network_mode: 'physical',
  vlan_id: 10,
} as const;
/** The lab's upstream router on the external network (`lab.addInternet()`'s default). */
export const UPSTREAM_IP = '192.168.10.1';

export interface Tenant {
  /** Short name: route link rl-<t>, network nw-<t>, router interfaces if-r<t>in / if-r<t>ext, snat tr-snat<t>. */
  t: string;
  /** Inside subnet (a /24) and the router's address in it. */
  subnet: string;
  router: string;
  /** The router's address on the external network: what the world sees of the tenant's VMs. */
  gateway: string;
  extMac: string;
  inMac: string;
}

export const TENANTS: readonly Tenant[] = [
  {
    t: 'a',
    subnet: '10.0.0.0',
    router: '10.0.0.1',
    gateway: '192.168.10.11',
    extMac: '02:00:10:00:0a:01',
    inMac: '02:00:10:00:0a:02',
  },
  {
    t: 'b',
    subnet: '10.0.0.0',
    router: '10.0.0.1',
    gateway: '192.168.10.12',
    extMac: '02:00:10:00:0b:01',
    inMac: '02:00:10:00:0b:02',
  },
];

/** A host with an uplink on the external network (port ext0), optionally a gateway candidate. */
export interface UplinkHost {
  host: string;
  datapath: string;
  gatewayPriority?: number;
}

/** The external network, the upstream router as a mode=remote interface (its MAC from the lab), the hosts' uplinks. */
export function externalApiCalls(opts: { upstreamMac: string; uplinks: readonly UplinkHost[] }): ApiCall[] {
  const calls: ApiCall[] = [
    { method: 'POST', path: '/networks', body: { ...EXTERNAL } },
    {
      method: 'POST',
      path: '/interfaces',
      body: {
        uuid: 'if-upstream',
        mode: 'remote',
        network_uuid: EXTERNAL.uuid,
        ipv4_address: UPSTREAM_IP,
        mac_address: opts.upstreamMac,
      },
    },
  ];
  for (const u of opts.uplinks)
    calls.push(
      {
        method: 'POST',
        path: '/interfaces',
        body: { uuid: `if-up${u.host}`, mode: 'host', port_name: 'ext0', owner_datapath_uuid: u.datapath },
      },
      {
        method: 'POST',
        path: `/datapaths/${u.datapath}/networks/${EXTERNAL.uuid}`,
        body: {
          interface_uuid: `if-up${u.host}`,
          ...(u.gatewayPriority === undefined ? {} : { gateway_priority: u.gatewayPriority }),
        },
      },
    );
  return calls;
}

/**
 * A router's way out: on route link `routeLink`, an interface `if-r<t>ext` on the external network at
 * `gateway`, routes to the external subnet and the default route through the upstream router, and a snat
 * translation `tr-snat<t>` from that address for the link's other networks.
 */
export function gatewayApiCalls(g: { t: string; routeLink: string; gateway: string; extMac: string }): ApiCall[] {
  const calls: ApiCall[] = [
    {
      method: 'POST',
      path: '/interfaces',
      body: {
        uuid: `if-r${g.t}ext`,
        mode: 'simulated',
        enable_routing: true,
        network_uuid: EXTERNAL.uuid,
        ipv4_address: g.gateway,
        mac_address: g.extMac,
      },
    },
  ];
  for (const [ipv4_network, ipv4_prefix, hop] of [
    [EXTERNAL.ipv4_network, EXTERNAL.ipv4_prefix, null],
    ['0.0.0.0', 0, UPSTREAM_IP],
  ] as const)
    calls.push({
      method: 'POST',
      path: '/routes',
      body: {
        interface_uuid: `if-r${g.t}ext`,
        route_link_uuid: g.routeLink,
        network_uuid: EXTERNAL.uuid,
        ipv4_network,
        ipv4_prefix,
        ...(hop ? { gateway_ipv4_address: hop } : {}),
      },
    });
  calls.push({
    method: 'POST',
    path: '/translations',
    body: { uuid: `tr-snat${g.t}`, interface_uuid: `if-r${g.t}ext`, mode: 'snat' },
  });
  return calls;
}

/**
 * Every write that builds it: the external side (externalApiCalls), and per tenant a network, a router with its
 * inside interface and route, and its way out (gatewayApiCalls).
 */
export function northSouthApiCalls(opts: {
  upstreamMac: string;
  uplinks: readonly UplinkHost[];
  tenants?: readonly Tenant[];
}): ApiCall[] {
  const calls = externalApiCalls(opts);
  for (const { t, subnet, router, gateway, extMac, inMac } of opts.tenants ?? TENANTS) {
    const rl = `rl-${t}`;
    calls.push(
      { method: 'POST', path: '/route_links', body: { uuid: rl } },
      { method: 'POST', path: '/networks', body: { uuid: `nw-${t}`, ipv4_network: subnet } },
      {
        method: 'POST',
        path: '/interfaces',
        body: {
          uuid: `if-r${t}in`,
          mode: 'simulated',
          enable_routing: true,
          network_uuid: `nw-${t}`,
          ipv4_address: router,
          mac_address: inMac,
        },
      },
      {
        method: 'POST',
        path: '/routes',
        body: {
          interface_uuid: `if-r${t}in`,
          route_link_uuid: rl,
          network_uuid: `nw-${t}`,
          ipv4_network: subnet,
          ipv4_prefix: 24,
        },
      },
      ...gatewayApiCalls({ t, routeLink: rl, gateway, extMac }),
    );
  }
  return calls;
}

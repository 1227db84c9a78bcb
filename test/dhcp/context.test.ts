// dhcpContextFrom(): deriving the responder's context from change-feed resources (the shared contract's JSON).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhcpModel, type DhcpResources, DhcpResponder, dhcpContextFrom } from '../../src/dhcp/index.js';
import type { InterfaceMode } from '../../src/model/types.js';
import { DHO_CLASSLESS_STATIC_ROUTE, getOption, readClasslessRoutes } from '../../src/packet/index.js';
import { clientFrame, decodeReply } from './helpers.js';

const ts = { created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };

function iface(uuid: string, mode: InterfaceMode, mac: string, leases: [string, string][], extra: object = {}) {
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
function seed(): DhcpResources {
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

describe('dhcpContextFrom', () => {
  test('vnet1: server, client lease, router, routes via rl-1, DNS from the dns service', () => {
    const ctx = dhcpContextFrom(seed(), 'nw-vnet1', '52:54:00:00:00:01', { encapsulation: 'gre', underlayMtu: 1500 });
    assert.ok(ctx);
    assert.deepEqual(ctx.server, {
      interfaceUuid: 'if-dhcp1',
      ipv4Address: '10.101.0.2',
      macAddress: '02:00:00:00:01:11',
    });
    assert.deepEqual(ctx.client, {
      interfaceUuid: 'if-vm1',
      macAddress: '52:54:00:00:00:01',
      ipv4Address: '10.101.0.10',
    });
    assert.deepEqual(ctx.router, { ipv4Address: '10.101.0.1' });
    assert.deepEqual(ctx.routes, [{ ipv4Network: '10.102.0.0', ipv4Prefix: 24, router: '10.101.0.1' }]);
    assert.deepEqual(ctx.network.dnsServers, []);
    assert.equal(ctx.dnsService, '10.101.0.3');
    assert.equal(ctx.network.domainName, 'vnet.example');
    assert.equal(ctx.network.leaseTime, 86400);
    assert.equal(ctx.encapsulation, 'gre');
  });

  test('vnet2: dns_servers parsed, network mtu carried, routes point back to vnet1', () => {
    const ctx = dhcpContextFrom(seed(), 'nw-vnet2', '52:54:00:00:00:02', { encapsulation: 'vxlan' });
    assert.ok(ctx);
    assert.deepEqual(ctx.network.dnsServers, ['8.8.8.8', '8.8.4.4']);
    assert.equal(ctx.network.mtu, 1400);
    assert.equal(ctx.underlayMtu, 1500);
    assert.deepEqual(ctx.routes, [{ ipv4Network: '10.101.0.0', ipv4Prefix: 24, router: '10.102.0.1' }]);
    assert.equal(ctx.dnsService, null);
  });

  test('MAC matching is case-insensitive; unknown and lease-less MACs give client null / no address', () => {
    assert.equal(
      dhcpContextFrom(seed(), 'nw-vnet1', '52:54:00:00:00:01'.toUpperCase(), { encapsulation: 'gre' })?.client
        ?.ipv4Address,
      '10.101.0.10',
    );
    assert.equal(dhcpContextFrom(seed(), 'nw-vnet1', '52:54:00:aa:bb:cc', { encapsulation: 'gre' })?.client, null);
    assert.deepEqual(dhcpContextFrom(seed(), 'nw-vnet1', '52:54:00:00:00:09', { encapsulation: 'gre' })?.client, {
      interfaceUuid: 'if-nolease',
      macAddress: '52:54:00:00:00:09',
      ipv4Address: null,
    });
    // vm2's lease is in vnet2: asking in vnet1 gets no address.
    assert.equal(
      dhcpContextFrom(seed(), 'nw-vnet1', '52:54:00:00:00:02', { encapsulation: 'gre' })?.client?.ipv4Address,
      null,
    );
  });

  test('no dhcp service or unknown network → null (do not answer)', () => {
    const res = seed();
    res.network_services = res.network_services!.filter((s) => s.mode !== 'dhcp');
    assert.equal(dhcpContextFrom(res, 'nw-vnet1', '52:54:00:00:00:01', { encapsulation: 'gre' }), null);
    assert.equal(dhcpContextFrom(seed(), 'nw-nope', '52:54:00:00:00:01', { encapsulation: 'gre' }), null);
  });

  test('a route with ingress=false advertises nothing; egress=false hides that far network', () => {
    const noIngress = seed();
    noIngress.routes![0]!.ingress = false;
    const a = dhcpContextFrom(noIngress, 'nw-vnet1', '52:54:00:00:00:01', { encapsulation: 'gre' });
    assert.deepEqual(a?.routes, []);
    const noEgress = seed();
    noEgress.routes![1]!.egress = false;
    assert.deepEqual(dhcpContextFrom(noEgress, 'nw-vnet1', '52:54:00:00:00:01', { encapsulation: 'gre' })?.routes, []);
  });

  test('leases from the top-level mac_leases/ip_leases lists when interfaces carry none', () => {
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
    const ctx = dhcpContextFrom(res, 'nw-vnet1', '52:54:00:00:00:01', { encapsulation: 'vxlan' });
    assert.equal(ctx?.client?.ipv4Address, '10.101.0.10');
    assert.equal(ctx?.server.ipv4Address, '10.101.0.2');
  });

  test('end to end with the responder: the offer carries the derived routes', () => {
    const ctx = dhcpContextFrom(seed(), 'nw-vnet1', '52:54:00:00:00:01', { encapsulation: 'vxlan' })!;
    const res = new DhcpResponder().handle(clientFrame({ type: 1, mac: '52:54:00:00:00:01' }), ctx);
    assert.equal(res.event, 'offer');
    const { dhcp } = decodeReply(res.reply);
    assert.equal(dhcp.yiaddr, '10.101.0.10');
    assert.deepEqual(readClasslessRoutes(getOption(dhcp, DHO_CLASSLESS_STATIC_ROUTE)!), [
      { network: '10.102.0.0', prefix: 24, router: '10.101.0.1' },
      { network: '0.0.0.0', prefix: 0, router: '10.101.0.1' },
    ]);
  });

  test('a held DhcpModel answers every request exactly as the one-off form', () => {
    const res = seed();
    const model = new DhcpModel(res);
    for (const nw of ['nw-vnet1', 'nw-vnet2', 'nw-nope']) {
      for (const mac of [
        '52:54:00:00:00:01',
        '52:54:00:00:00:02',
        '52:54:00:00:00:09',
        '52:54:00:aa:bb:cc',
        'garbage',
      ]) {
        for (const encapsulation of ['gre', 'vxlan'] as const) {
          assert.deepEqual(
            model.context(nw, mac, { encapsulation }),
            dhcpContextFrom(res, nw, mac, { encapsulation }),
            `${nw} ${mac}`,
          );
        }
      }
    }
  });

  test('repeated calls follow the feed: a replaced item (new object) changes the answer', () => {
    const res = seed();
    const ask = () =>
      dhcpContextFrom({ ...res, interfaces: [...res.interfaces!] }, 'nw-vnet1', '52:54:00:00:00:01', {
        encapsulation: 'gre',
      });
    assert.equal(ask()?.client?.ipv4Address, '10.101.0.10');
    assert.equal(ask()?.client?.ipv4Address, '10.101.0.10');
    // The feed upserts vm1 with a new lease: the mirror holds a new object in the same place.
    res.interfaces = res.interfaces!.map((i) =>
      i.uuid === 'if-vm1' ? iface('if-vm1', 'vif', '52:54:00:00:00:01', [['nw-vnet1', '10.101.0.11']]) : i,
    );
    assert.equal(ask()?.client?.ipv4Address, '10.101.0.11');
    // A network field change reaches the next answer too (e.g. PUT mtu).
    res.networks = res.networks!.map((n) => (n.uuid === 'nw-vnet1' ? { ...n, mtu: 1300 } : n));
    assert.equal(ask()?.network.mtu, 1300);
    // And a deleted dhcp service stops answers.
    res.network_services = res.network_services!.filter((x) => x.uuid !== 'ns-dhcp1');
    assert.equal(ask(), null);
  });
});

// dhcpContextFrom(): deriving the responder's context from change-feed resources (the shared contract's JSON).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhcpModel, DhcpResponder, dhcpContextFrom } from '../../src/dhcp/index.js';
import { DHO, getOption, readClasslessRoutes } from '../../src/packet/index.js';
import { clientFrame, decodeReply } from './helpers.js';
import { iface, seed, topLevelLeases } from './seed.js';

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

  test("a network's host_routes reach the context and the OFFER's option 121; the metadata address only without a router", () => {
    const res = seed();
    const nw1 = res.networks![0]!;
    (res.networks as unknown[])[0] = { ...nw1, host_routes: [{ destination: '10.9.0.0/16', nexthop: '10.101.0.254' }] };
    const local = { encapsulation: 'gre', metadataIp: '169.254.169.254' } as const;
    const ctx = dhcpContextFrom(res, 'nw-vnet1', '52:54:00:00:00:01', local);
    assert.deepEqual(ctx?.hostRoutes, [{ network: '10.9.0.0', prefix: 16, router: '10.101.0.254' }]);
    const reply = new DhcpResponder().handle(clientFrame({ type: 1, mac: '52:54:00:00:00:01' }), ctx!);
    assert.deepEqual(readClasslessRoutes(getOption(decodeReply(reply.reply).dhcp, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '10.9.0.0', prefix: 16, router: '10.101.0.254' },
      { network: '10.102.0.0', prefix: 24, router: '10.101.0.1' },
      { network: '0.0.0.0', prefix: 0, router: '10.101.0.1' },
    ]);
    // Entries the API would have refused (an older or hand-made document) are skipped, never thrown on.
    const junk = [
      { destination: '10.9.0.0/99', nexthop: '10.101.0.254' },
      { destination: 'x', nexthop: '10.101.0.254' },
      { destination: '10.8.0.0/16', nexthop: 'y' },
      null,
    ];
    (res.networks as unknown[])[0] = { ...nw1, host_routes: junk };
    assert.deepEqual(dhcpContextFrom(res, 'nw-vnet1', '52:54:00:00:00:01', local)?.hostRoutes, []);
    (res.networks as unknown[])[0] = { ...nw1, host_routes: [{ destination: '10.9.0.0/16', nexthop: '10.101.0.254' }] };
    // Without its router (and route), vnet1's VMs are told the way to the metadata address: the DHCP server.
    res.interfaces = res.interfaces!.filter((i) => i.uuid !== 'if-router1');
    const lone = dhcpContextFrom(res, 'nw-vnet1', '52:54:00:00:00:01', local);
    assert.equal(lone?.router, null);
    const reply2 = new DhcpResponder().handle(clientFrame({ type: 1, mac: '52:54:00:00:00:01' }), lone!);
    assert.deepEqual(readClasslessRoutes(getOption(decodeReply(reply2.reply).dhcp, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '10.9.0.0', prefix: 16, router: '10.101.0.254' },
      { network: '169.254.169.254', prefix: 32, router: '10.101.0.2' },
    ]);
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
    const res = topLevelLeases();
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
    assert.deepEqual(readClasslessRoutes(getOption(dhcp, DHO.CLASSLESS_STATIC_ROUTE)!), [
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

// DhcpResponder unit tests driven by udhcpc-shaped frames (and the captured udhcpc frames themselves).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhcpResponder } from '../../src/dhcp/index.js';
import {
  BOOTP_BROADCAST,
  BOOTP_OP,
  buildUdpFrame,
  DHCP_MESSAGE_TYPE,
  dhcpMessageType,
  DHO,
  fromHex,
  getOption,
  readClasslessRoutes,
  readIpv4ListOption,
  readIpv4Option,
  readStringOption,
  readUintOption,
  toHex,
} from '../../src/packet/index.js';
import { UDHCPC_DISCOVER, UDHCPC_REQUEST } from '../packet/fixtures.js';
import { CLIENT_MAC, clientFrame, context, decodeReply, SERVER_MAC } from './helpers.js';

const opt = (m: { options: { code: number; data: Uint8Array }[] }, code: number) => getOption(m, code);

describe('DISCOVER → OFFER', () => {
  test('the captured udhcpc DISCOVER gets an OFFER of the leased address with every option', () => {
    const r = new DhcpResponder();
    const res = r.handle(fromHex(UDHCPC_DISCOVER), context());
    assert.equal(res.event, 'offer', res.reason);
    assert.equal(res.yiaddr, '10.0.0.20');
    assert.equal(res.xid, 0x8fe63808);
    const { eth, ipv4, udp, dhcp } = decodeReply(res.reply);
    // Flags 0 and ciaddr 0: unicast to yiaddr and chaddr (RFC 2131 §4.1).
    assert.equal(eth.dst, CLIENT_MAC);
    assert.equal(eth.src, SERVER_MAC);
    assert.equal(ipv4.src, '10.0.0.2');
    assert.equal(ipv4.dst, '10.0.0.20');
    assert.deepEqual([udp.srcPort, udp.dstPort], [67, 68]);
    assert.equal(dhcp.op, BOOTP_OP.REPLY);
    assert.equal(dhcp.xid, 0x8fe63808);
    assert.equal(dhcp.chaddr, CLIENT_MAC);
    assert.equal(dhcp.yiaddr, '10.0.0.20');
    assert.equal(dhcp.ciaddr, '0.0.0.0');
    assert.equal(dhcpMessageType(dhcp), DHCP_MESSAGE_TYPE.OFFER);
    assert.equal(readIpv4Option(opt(dhcp, DHO.DHCP_SERVER_IDENTIFIER)!, 54), '10.0.0.2');
    assert.equal(readUintOption(opt(dhcp, DHO.DHCP_LEASE_TIME)!, 4, 51), 86400);
    assert.equal(readUintOption(opt(dhcp, DHO.DHCP_RENEWAL_TIME)!, 4, 58), 43200);
    assert.equal(readUintOption(opt(dhcp, DHO.DHCP_REBINDING_TIME)!, 4, 59), 75600);
    assert.equal(readIpv4Option(opt(dhcp, DHO.SUBNET_MASK)!, 1), '255.255.255.0');
    assert.equal(readIpv4Option(opt(dhcp, DHO.BROADCAST_ADDRESS)!, 28), '10.0.0.255');
    assert.deepEqual(readIpv4ListOption(opt(dhcp, DHO.ROUTERS)!, 3), ['10.0.0.1']);
    assert.deepEqual(readIpv4ListOption(opt(dhcp, DHO.DOMAIN_NAME_SERVERS)!, 6), ['8.8.8.8', '1.1.1.1']);
    assert.equal(readStringOption(opt(dhcp, DHO.DOMAIN_NAME)!), 'vnet1.example');
    assert.equal(readUintOption(opt(dhcp, DHO.INTERFACE_MTU)!, 2, 26), 1450);
    // RFC 3442 clients ignore option 3 when 121 is present, so the default route rides in 121 too.
    assert.deepEqual(readClasslessRoutes(opt(dhcp, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '10.102.0.0', prefix: 24, router: '10.0.0.1' },
      { network: '0.0.0.0', prefix: 0, router: '10.0.0.1' },
    ]);
    assert.equal(toHex(opt(dhcp, DHO.DHCP_CLIENT_IDENTIFIER)!), '01525400123456');
    assert.equal(r.counters.offer, 1);
  });

  test('MTU: VXLAN 1450, GRE 1458 (42 bytes with key), network mtu wins, underlay MTU follows', () => {
    const mtu = (ctx: ReturnType<typeof context>) =>
      readUintOption(
        opt(decodeReply(new DhcpResponder().handle(fromHex(UDHCPC_DISCOVER), ctx).reply).dhcp, 26)!,
        2,
        26,
      );
    assert.equal(mtu(context({ encapsulation: 'vxlan' })), 1450);
    assert.equal(mtu(context({ encapsulation: 'gre' })), 1458);
    assert.ok(mtu(context({ encapsulation: 'gre' })) <= 1462);
    assert.equal(mtu(context({ encapsulation: 'vxlan', underlayMtu: 9000 })), 8950);
    assert.equal(mtu(context({}, { mtu: 1400 })), 1400);
  });

  test('broadcast flag → reply to 255.255.255.255 / ff:ff:ff:ff:ff:ff', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, flags: BOOTP_BROADCAST }),
      context(),
    );
    const { eth, ipv4, dhcp } = decodeReply(res.reply);
    assert.equal(eth.dst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(ipv4.dst, '255.255.255.255');
    assert.equal(dhcp.flags, BOOTP_BROADCAST);
  });

  test('an 802.1Q-tagged request gets a reply with the same tag', () => {
    const tag = { tpid: 0x8100, pcp: 0, dei: false, vid: 42 };
    const res = new DhcpResponder().handle(clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, vlans: [tag] }), context());
    assert.deepEqual(decodeReply(res.reply).eth.vlans, [tag]);
  });

  test('no lease → no offer; unknown MAC → no offer', () => {
    const r = new DhcpResponder();
    const noLease = r.handle(
      fromHex(UDHCPC_DISCOVER),
      context({ client: { interfaceUuid: 'if-vm1', macAddress: CLIENT_MAC, ipv4Address: null } }),
    );
    assert.equal(noLease.event, 'ignored');
    assert.equal(noLease.reply, undefined);
    assert.match(noLease.reason!, /no IP lease/);
    const unknown = r.handle(fromHex(UDHCPC_DISCOVER), context({ client: null }));
    assert.equal(unknown.event, 'ignored');
    assert.equal(unknown.reply, undefined);
    // A context for another MAC does not leak that interface's lease.
    const other = r.handle(
      fromHex(UDHCPC_DISCOVER),
      context({ client: { interfaceUuid: 'if-x', macAddress: '52:54:00:00:00:99', ipv4Address: '10.0.0.99' } }),
    );
    assert.equal(other.event, 'ignored');
    assert.equal(r.counters.ignored, 3);
  });

  test('chaddr differing from the source MAC is ignored (no lease stealing)', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, mac: '52:54:00:66:66:66', chaddr: CLIENT_MAC }),
      context(),
    );
    assert.equal(res.event, 'ignored');
    assert.match(res.reason!, /chaddr/);
  });

  test('relayed requests (giaddr set) are not served', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, giaddr: '10.9.9.9' }),
      context(),
    );
    assert.equal(res.event, 'ignored');
  });

  test('a lease outside the network prefix is not handed out', () => {
    const res = new DhcpResponder().handle(
      fromHex(UDHCPC_DISCOVER),
      context({ client: { interfaceUuid: 'if-vm1', macAddress: CLIENT_MAC, ipv4Address: '192.168.1.5' } }),
    );
    assert.equal(res.event, 'ignored');
    assert.match(res.reason!, /outside/);
  });
});

describe('options follow the model', () => {
  const offer = (ctx: ReturnType<typeof context>) =>
    decodeReply(new DhcpResponder().handle(fromHex(UDHCPC_DISCOVER), ctx).reply).dhcp;

  test('DNS: network dns_servers, else the dns service address, else none', () => {
    assert.deepEqual(readIpv4ListOption(opt(offer(context({ dnsService: '10.0.0.3' })), 6)!, 6), [
      '8.8.8.8',
      '1.1.1.1',
    ]);
    assert.deepEqual(readIpv4ListOption(opt(offer(context({ dnsService: '10.0.0.3' }, { dnsServers: [] })), 6)!, 6), [
      '10.0.0.3',
    ]);
    assert.equal(opt(offer(context({ dnsService: null }, { dnsServers: [] })), 6), undefined);
  });

  test('router without routes: option 3 only; no router: neither 3 nor 121', () => {
    const noRoutes = offer(context({ routes: [] }));
    assert.deepEqual(readIpv4ListOption(opt(noRoutes, DHO.ROUTERS)!, 3), ['10.0.0.1']);
    assert.equal(opt(noRoutes, DHO.CLASSLESS_STATIC_ROUTE), undefined);
    const noRouter = offer(context({ router: null, routes: [] }));
    assert.equal(opt(noRouter, DHO.ROUTERS), undefined);
    assert.equal(opt(noRouter, DHO.CLASSLESS_STATIC_ROUTE), undefined);
  });

  test('routes are normalised, deduplicated, and may name their own gateway', () => {
    const m = offer(
      context({
        routes: [
          { ipv4Network: '10.102.0.7', ipv4Prefix: 24 },
          { ipv4Network: '10.102.0.0', ipv4Prefix: 24 },
          { ipv4Network: '172.16.0.0', ipv4Prefix: 12, router: '10.0.0.254' },
        ],
      }),
    );
    assert.deepEqual(readClasslessRoutes(opt(m, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '10.102.0.0', prefix: 24, router: '10.0.0.1' },
      { network: '172.16.0.0', prefix: 12, router: '10.0.0.254' },
      { network: '0.0.0.0', prefix: 0, router: '10.0.0.1' },
    ]);
  });

  test('host routes go first, then the far networks, then the default route via the router', () => {
    const m = offer(
      context({
        hostRoutes: [
          { network: '10.9.0.0', prefix: 16, router: '10.0.0.254' },
          { network: '10.102.0.0', prefix: 24, router: '10.0.0.253' },
        ],
        metadataIp: '169.254.169.254',
      }),
    );
    // The host route to 10.102.0.0/24 wins over the route link's; with a router, no metadata route (the default
    // route reaches it). Byte-exact: RFC 3442's encoding of each (prefix, significant octets, router).
    const data = opt(m, DHO.CLASSLESS_STATIC_ROUTE)!;
    assert.equal(toHex(data), ['100a09' + '0a0000fe', '180a6600' + '0a0000fd', '00' + '0a000001'].join(''));
    assert.deepEqual(readClasslessRoutes(data), [
      { network: '10.9.0.0', prefix: 16, router: '10.0.0.254' },
      { network: '10.102.0.0', prefix: 24, router: '10.0.0.253' },
      { network: '0.0.0.0', prefix: 0, router: '10.0.0.1' },
    ]);
  });

  test('a host route 0.0.0.0/0 replaces the default route via the router', () => {
    const m = offer(context({ routes: [], hostRoutes: [{ network: '0.0.0.0', prefix: 0, router: '10.0.0.9' }] }));
    assert.deepEqual(readClasslessRoutes(opt(m, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '0.0.0.0', prefix: 0, router: '10.0.0.9' },
    ]);
  });

  test('no router: the metadata address via the DHCP server (when the host serves it), and no default route', () => {
    const m = offer(
      context({
        router: null,
        routes: [],
        hostRoutes: [{ network: '10.9.0.0', prefix: 16, router: '10.0.0.254' }],
        metadataIp: '169.254.169.254',
      }),
    );
    assert.equal(opt(m, DHO.ROUTERS), undefined);
    assert.deepEqual(readClasslessRoutes(opt(m, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '10.9.0.0', prefix: 16, router: '10.0.0.254' },
      { network: '169.254.169.254', prefix: 32, router: '10.0.0.2' },
    ]);
    const bare = offer(context({ router: null, routes: [], metadataIp: '169.254.169.254' }));
    assert.deepEqual(readClasslessRoutes(opt(bare, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '169.254.169.254', prefix: 32, router: '10.0.0.2' },
    ]);
  });

  test('no domain → no option 15; infinite lease → no T1/T2', () => {
    const m = offer(context({}, { domainName: null, leaseTime: 0xffffffff }));
    assert.equal(opt(m, DHO.DOMAIN_NAME), undefined);
    assert.equal(readUintOption(opt(m, DHO.DHCP_LEASE_TIME)!, 4, 51), 0xffffffff);
    assert.equal(opt(m, DHO.DHCP_RENEWAL_TIME), undefined);
    assert.equal(opt(m, DHO.DHCP_REBINDING_TIME), undefined);
  });

  test('a reply that would exceed the client maximum sheds routes, keeps the essentials', () => {
    const routes = Array.from({ length: 60 }, (_, i) => ({ ipv4Network: `10.${100 + i}.0.0`, ipv4Prefix: 16 }));
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, maxSize: 576 }),
      context({ routes }),
    );
    const { ipv4, dhcp } = decodeReply(res.reply);
    assert.ok(ipv4.payload.length + 20 <= 576, `reply is ${ipv4.payload.length + 20} bytes`);
    assert.equal(opt(dhcp, DHO.CLASSLESS_STATIC_ROUTE), undefined);
    assert.ok(opt(dhcp, DHO.ROUTERS));
    // With a larger maximum the routes stay.
    const big = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, maxSize: 1500 }),
      context({ routes }),
    );
    assert.equal(readClasslessRoutes(opt(decodeReply(big.reply).dhcp, DHO.CLASSLESS_STATIC_ROUTE)!).length, 61);
  });
});

describe('REQUEST → ACK / NAK', () => {
  test('the captured udhcpc REQUEST (SELECTING) is ACKed', () => {
    const res = new DhcpResponder().handle(fromHex(UDHCPC_REQUEST), context());
    assert.equal(res.event, 'ack', res.reason);
    const { dhcp, ipv4 } = decodeReply(res.reply);
    assert.equal(dhcpMessageType(dhcp), DHCP_MESSAGE_TYPE.ACK);
    assert.equal(dhcp.yiaddr, '10.0.0.20');
    assert.equal(ipv4.dst, '10.0.0.20');
    assert.equal(readUintOption(opt(dhcp, DHO.INTERFACE_MTU)!, 2, 26), 1450);
  });

  test('SELECTING another server → silent', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, requested: '10.0.0.20', serverId: '10.0.0.9' }),
      context(),
    );
    assert.equal(res.event, 'ignored');
    assert.equal(res.reply, undefined);
  });

  test('SELECTING a different address → NAK, broadcast, with a message', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, requested: '10.0.0.21', serverId: '10.0.0.2' }),
      context(),
    );
    assert.equal(res.event, 'nak');
    const { eth, ipv4, dhcp } = decodeReply(res.reply);
    assert.equal(dhcpMessageType(dhcp), DHCP_MESSAGE_TYPE.NAK);
    assert.equal(eth.dst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(ipv4.dst, '255.255.255.255');
    assert.equal(dhcp.yiaddr, '0.0.0.0');
    assert.match(readStringOption(opt(dhcp, DHO.DHCP_MESSAGE)!), /10\.0\.0\.21/);
    assert.equal(opt(dhcp, DHO.DHCP_LEASE_TIME), undefined);
  });

  test('INIT-REBOOT: the right address is ACKed, a stale one NAKed', () => {
    const r = new DhcpResponder();
    assert.equal(
      r.handle(clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, requested: '10.0.0.20' }), context()).event,
      'ack',
    );
    assert.equal(
      r.handle(clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, requested: '10.0.0.77' }), context()).event,
      'nak',
    );
    // The interface lost its lease: its old address is taken away.
    const lost = context({ client: { interfaceUuid: 'if-vm1', macAddress: CLIENT_MAC, ipv4Address: null } });
    assert.equal(r.handle(clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, requested: '10.0.0.20' }), lost).event, 'nak');
    // An unknown MAC is nobody we have a record of: silent (RFC 2131 §4.3.2).
    assert.equal(
      r.handle(clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, requested: '10.0.0.20' }), context({ client: null }))
        .event,
      'ignored',
    );
  });

  test('RENEWING: unicast from ciaddr to the server is ACKed by unicast', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, ciaddr: '10.0.0.20', dstIp: '10.0.0.2', dstMac: SERVER_MAC }),
      context(),
    );
    assert.equal(res.event, 'ack');
    const { eth, ipv4, dhcp } = decodeReply(res.reply);
    assert.equal(ipv4.dst, '10.0.0.20');
    assert.equal(eth.dst, CLIENT_MAC);
    assert.equal(dhcp.ciaddr, '10.0.0.20');
    assert.equal(dhcp.yiaddr, '10.0.0.20');
  });

  test('REBINDING with an address the model moved → NAK', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, ciaddr: '10.0.0.30' }),
      context(),
    );
    assert.equal(res.event, 'nak');
  });

  test('a unicast to some other server address is not ours', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.REQUEST, ciaddr: '10.0.0.20', dstIp: '10.0.0.50' }),
      context(),
    );
    assert.equal(res.event, 'ignored');
  });
});

describe('RELEASE, DECLINE, INFORM', () => {
  test('RELEASE and DECLINE are reported, never answered', () => {
    const r = new DhcpResponder();
    const rel = r.handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.RELEASE, ciaddr: '10.0.0.20', serverId: '10.0.0.2', dstIp: '10.0.0.2' }),
      context(),
    );
    assert.equal(rel.event, 'release');
    assert.equal(rel.reply, undefined);
    const dec = r.handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.DECLINE, requested: '10.0.0.20', serverId: '10.0.0.2' }),
      context(),
    );
    assert.equal(dec.event, 'decline');
    assert.match(dec.reason!, /10\.0\.0\.20/);
    assert.equal(dec.reply, undefined);
    const elsewhere = r.handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.RELEASE, ciaddr: '10.0.0.20', serverId: '10.0.0.9' }),
      context(),
    );
    assert.equal(elsewhere.event, 'ignored');
    assert.deepEqual([r.counters.release, r.counters.decline, r.counters.ignored], [1, 1, 1]);
  });

  test('INFORM gets an ACK with parameters and no lease', () => {
    const res = new DhcpResponder().handle(
      clientFrame({ type: DHCP_MESSAGE_TYPE.INFORM, ciaddr: '10.0.0.20', dstIp: '10.0.0.2' }),
      context(),
    );
    assert.equal(res.event, 'inform');
    const { ipv4, dhcp } = decodeReply(res.reply);
    assert.equal(dhcpMessageType(dhcp), DHCP_MESSAGE_TYPE.ACK);
    assert.equal(dhcp.yiaddr, '0.0.0.0');
    assert.equal(dhcp.ciaddr, '10.0.0.20');
    assert.equal(ipv4.dst, '10.0.0.20');
    assert.equal(opt(dhcp, DHO.DHCP_LEASE_TIME), undefined);
    assert.equal(opt(dhcp, DHO.DHCP_RENEWAL_TIME), undefined);
    assert.ok(opt(dhcp, DHO.SUBNET_MASK));
    assert.ok(opt(dhcp, DHO.INTERFACE_MTU));
  });

  test('server messages sent by a VM (OFFER/ACK/NAK) are ignored', () => {
    for (const type of [DHCP_MESSAGE_TYPE.OFFER, DHCP_MESSAGE_TYPE.ACK, DHCP_MESSAGE_TYPE.NAK]) {
      assert.equal(new DhcpResponder().handle(clientFrame({ type }), context()).event, 'ignored');
    }
  });
});

describe('malformed and oversized input', () => {
  test('each is counted as malformed and dropped', () => {
    const r = new DhcpResponder();
    const good = fromHex(UDHCPC_DISCOVER);
    const badIpSum = good.slice();
    badIpSum[24]! ^= 0xff;
    const badCookie = good.slice();
    badCookie[42 + 236] = 0;
    const badOpt50 = clientFrame({
      type: DHCP_MESSAGE_TYPE.REQUEST,
      extra: [{ code: 50, data: Uint8Array.of(10, 0, 0) }],
    });
    const oversized = new Uint8Array(2000);
    oversized.set(good);
    const cases = [
      good.subarray(0, 20),
      good.subarray(0, 100),
      badIpSum,
      badCookie,
      badOpt50,
      oversized,
      new Uint8Array(0),
    ];
    for (const frame of cases) {
      const res = r.handle(frame, context());
      assert.equal(res.event, 'malformed', `${frame.length} bytes: ${res.reason}`);
      assert.equal(res.reply, undefined);
      assert.ok(res.reason);
    }
    assert.equal(r.counters.malformed, cases.length);
    assert.match(r.handle(oversized, context()).reason!, /oversized/);
  });

  test('UDP checksums: tolerated by default (offloaded partial sums), checked when asked', () => {
    const good = fromHex(UDHCPC_DISCOVER);
    const badUdpSum = good.slice();
    badUdpSum[40]! ^= 0xff;
    assert.equal(new DhcpResponder().handle(badUdpSum, context()).event, 'offer');
    const strict = new DhcpResponder({ verifyUdpChecksum: true }).handle(badUdpSum, context());
    assert.equal(strict.event, 'malformed');
    assert.match(strict.reason!, /udp\.checksum/);
  });

  test('non-DHCP traffic is ignored, not malformed', () => {
    const r = new DhcpResponder();
    const dns = buildUdpFrame({
      srcMac: CLIENT_MAC,
      dstMac: SERVER_MAC,
      srcIp: '10.0.0.20',
      dstIp: '10.0.0.2',
      srcPort: 5353,
      dstPort: 53,
      payload: new Uint8Array(20),
    });
    const arp = fromHex(
      'ffffffffffff52540012345608060001080006040001525400123456' + '0a00000a' + '000000000000' + '0a000001',
    );
    assert.equal(r.handle(dns, context()).event, 'ignored');
    assert.equal(r.handle(arp, context()).event, 'ignored');
    assert.equal(r.counters.malformed, 0);
  });

  test('a maxFrameBytes option lowers the limit', () => {
    const r = new DhcpResponder({ maxFrameBytes: 300 });
    const res = r.handle(fromHex(UDHCPC_DISCOVER), context());
    assert.equal(res.event, 'malformed');
  });

  test('a bad context (invalid server address) is reported, not blamed on the client', () => {
    const res = new DhcpResponder().handle(
      fromHex(UDHCPC_DISCOVER),
      context({ server: { ipv4Address: '10.0.0.2', macAddress: 'nonsense' } }),
    );
    assert.equal(res.event, 'ignored');
    assert.match(res.reason!, /bad DHCP context/);
  });

  test('replies echo the xid, and IPv4 ids advance', () => {
    const r = new DhcpResponder();
    const a = decodeReply(r.handle(clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, xid: 1 }), context()).reply);
    const b = decodeReply(r.handle(clientFrame({ type: DHCP_MESSAGE_TYPE.DISCOVER, xid: 2 }), context()).reply);
    assert.deepEqual([a.dhcp.xid, b.dhcp.xid], [1, 2]);
    assert.notEqual(a.ipv4.id, b.ipv4.id);
  });
});

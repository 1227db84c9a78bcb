// DHCP codec tests: busybox udhcpc/udhcpd captures decode and re-encode byte for byte; RFC 3442/3396 cases; tcpdump agrees.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  BOOTP_OP,
  buildUdpFrame,
  classlessRoutesOption,
  DHCP_MESSAGE_TYPE,
  DHO,
  decodeDhcp,
  decodeUdpFrame,
  dhcpMessageType,
  encodeDhcp,
  fromHex,
  getOption,
  PacketMalformedError,
  PacketTruncatedError,
  PacketValueError,
  pcapFile,
  readClasslessRoutes,
  readIpv4Option,
  readStringOption,
  readUintOption,
  toHex,
} from '../../src/packet/index.js';
import { UDHCPC_DISCOVER, UDHCPC_REQUEST, UDHCPD_ACK, UDHCPD_OFFER } from './fixtures.js';

function dhcpOf(hex: string) {
  const f = decodeUdpFrame(fromHex(hex));
  return { ...f, dhcp: decodeDhcp(f.udp.payload) };
}

describe('DHCP codec on busybox captures', () => {
  test('udhcpc DISCOVER decodes', () => {
    const { ipv4, udp, dhcp } = dhcpOf(UDHCPC_DISCOVER);
    assert.equal(ipv4.src, '0.0.0.0');
    assert.equal(ipv4.dst, '255.255.255.255');
    assert.equal(udp.srcPort, 68);
    assert.equal(dhcp.op, BOOTP_OP.REQUEST);
    assert.equal(dhcp.xid, 0x8fe63808);
    assert.equal(dhcp.chaddr, '52:54:00:12:34:56');
    assert.equal(dhcpMessageType(dhcp), DHCP_MESSAGE_TYPE.DISCOVER);
    assert.equal(readUintOption(getOption(dhcp, DHO.DHCP_MAX_MESSAGE_SIZE)!, 2, 57), 576);
    assert.deepEqual([...getOption(dhcp, DHO.DHCP_PARAMETER_REQUEST_LIST)!], [1, 3, 6, 12, 15, 28, 42]);
    assert.equal(readStringOption(getOption(dhcp, DHO.VENDOR_CLASS_IDENTIFIER)!), 'udhcp 1.35.0');
    assert.equal(toHex(getOption(dhcp, DHO.DHCP_CLIENT_IDENTIFIER)!), '01525400123456');
  });

  test('udhcpc REQUEST (SELECTING) carries requested address and server id', () => {
    const { dhcp } = dhcpOf(UDHCPC_REQUEST);
    assert.equal(dhcpMessageType(dhcp), DHCP_MESSAGE_TYPE.REQUEST);
    assert.equal(dhcp.secs, 2);
    assert.equal(readIpv4Option(getOption(dhcp, DHO.DHCP_REQUESTED_ADDRESS)!, 50), '10.0.0.20');
    assert.equal(readIpv4Option(getOption(dhcp, DHO.DHCP_SERVER_IDENTIFIER)!, 54), '10.0.0.2');
  });

  test('udhcpd OFFER decodes, including option 121 and 26', () => {
    const { dhcp } = dhcpOf(UDHCPD_OFFER);
    assert.equal(dhcp.op, BOOTP_OP.REPLY);
    assert.equal(dhcpMessageType(dhcp), DHCP_MESSAGE_TYPE.OFFER);
    assert.equal(dhcp.yiaddr, '10.0.0.20');
    assert.equal(readUintOption(getOption(dhcp, DHO.INTERFACE_MTU)!, 2, 26), 1450);
    assert.equal(readStringOption(getOption(dhcp, DHO.DOMAIN_NAME)!), 'example.com');
    assert.deepEqual(readClasslessRoutes(getOption(dhcp, DHO.CLASSLESS_STATIC_ROUTE)!), [
      { network: '10.1.0.0', prefix: 24, router: '10.0.0.1' },
      { network: '0.0.0.0', prefix: 0, router: '10.0.0.1' },
    ]);
  });

  for (const [name, hex] of Object.entries({ UDHCPC_DISCOVER, UDHCPC_REQUEST, UDHCPD_OFFER, UDHCPD_ACK })) {
    test(`${name} re-encodes to the captured frame byte for byte`, () => {
      const { eth, ipv4, udp, dhcp } = dhcpOf(hex);
      const frame = buildUdpFrame({
        srcMac: eth.src,
        dstMac: eth.dst,
        srcIp: ipv4.src,
        dstIp: ipv4.dst,
        srcPort: udp.srcPort,
        dstPort: udp.dstPort,
        ttl: ipv4.ttl,
        id: ipv4.id,
        // busybox pads requests past END to 300 bytes and replies not at all; keep the captured length.
        payload: encodeDhcp(dhcp, udp.payload.length),
      });
      assert.equal(toHex(frame), hex);
    });
  }
});

describe('DHCP options', () => {
  test('RFC 3442 §3 destination encodings', () => {
    const cases: [string, number, string][] = [
      ['0.0.0.0', 0, '00'],
      ['10.0.0.0', 8, '080a'],
      ['10.17.0.0', 16, '100a11'],
      ['10.27.129.0', 24, '180a1b81'],
      ['10.229.0.128', 25, '190ae50080'],
      ['10.198.122.47', 32, '200ac67a2f'],
    ];
    for (const [network, prefix, dest] of cases) {
      const opt = classlessRoutesOption([{ network, prefix, router: '192.0.2.1' }]);
      assert.equal(toHex(opt.data), `${dest}c0000201`, `${network}/${prefix}`);
      assert.deepEqual(readClasslessRoutes(opt.data), [{ network, prefix, router: '192.0.2.1' }]);
    }
  });

  test('option 121 refuses host bits and reports truncation', () => {
    assert.throws(
      () => classlessRoutesOption([{ network: '10.0.0.1', prefix: 24, router: '10.0.0.1' }]),
      (e: unknown) => e instanceof PacketValueError && e.field === 'dhcp.options[121][0].network',
    );
    assert.throws(() => readClasslessRoutes(fromHex('180a0000c00002')), PacketTruncatedError);
    assert.throws(
      () => readClasslessRoutes(fromHex('21')),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'dhcp.options[121][0].prefix',
    );
  });

  test('RFC 3396: a 600-byte option is split on encode and concatenated on decode', () => {
    const { dhcp } = dhcpOf(UDHCPC_DISCOVER);
    const long = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    const bytes = encodeDhcp({ ...dhcp, options: [...dhcp.options, { code: DHO.HOST_NAME, data: long }] });
    // 600 bytes take 3 pieces: 255 + 255 + 90.
    const back = decodeDhcp(bytes);
    assert.deepEqual(getOption(back, DHO.HOST_NAME), long);
    assert.equal(
      bytes.length,
      240 + [...dhcp.options.map((o) => o.data.length + 2)].reduce((a, b) => a + b) + 600 + 6 + 1,
    );
  });

  test('option overload (52) continues options in file and sname', () => {
    const { dhcp } = dhcpOf(UDHCPC_DISCOVER);
    const bytes = encodeDhcp({ ...dhcp, options: [...dhcp.options, { code: 52, data: Uint8Array.of(3) }] });
    bytes.set([12, 3, 0x61, 0x62, 0x63, 255], 108); // host name "abc" in file
    bytes.set([15, 2, 0x78, 0x79], 44); // domain "xy" in sname, no END (tolerated)
    const m = decodeDhcp(bytes);
    assert.equal(readStringOption(getOption(m, DHO.HOST_NAME)!), 'abc');
    assert.equal(readStringOption(getOption(m, DHO.DOMAIN_NAME)!), 'xy');
    assert.equal(m.file, '');
    assert.equal(m.sname, '');
  });

  test('malformed input names the field', () => {
    const payload = decodeUdpFrame(fromHex(UDHCPC_DISCOVER)).udp.payload;
    assert.throws(
      () => decodeDhcp(payload.subarray(0, 235)),
      (e: unknown) => e instanceof PacketTruncatedError && e.field === 'dhcp.header',
    );
    const cookie = payload.slice();
    cookie[236] = 0;
    assert.throws(
      () => decodeDhcp(cookie),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'dhcp.cookie',
    );
    const hlen = payload.slice();
    hlen[2] = 17;
    assert.throws(
      () => decodeDhcp(hlen),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'dhcp.hlen',
    );
    const overrun = payload.slice(0, 240 + 3);
    overrun.set([53, 5, 1], 240);
    assert.throws(
      () => decodeDhcp(overrun),
      (e: unknown) => e instanceof PacketTruncatedError && e.field === 'dhcp.options[53]',
    );
    assert.throws(
      () => readIpv4Option(Uint8Array.of(1, 2, 3), 50),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'dhcp.options[50]',
    );
  });

  test('encoder refuses values that do not fit', () => {
    const { dhcp } = dhcpOf(UDHCPC_DISCOVER);
    assert.throws(
      () => encodeDhcp({ ...dhcp, ciaddr: '10.0.0.300' }),
      (e: unknown) => e instanceof PacketValueError && e.field === 'dhcp.ciaddr',
    );
    assert.throws(
      () => encodeDhcp({ ...dhcp, sname: 'x'.repeat(64) }),
      (e: unknown) => e instanceof PacketValueError && e.field === 'dhcp.sname',
    );
    assert.throws(() => encodeDhcp({ ...dhcp, options: [{ code: 255, data: new Uint8Array() }] }), PacketValueError);
  });
});

test('tcpdump decodes what the encoder builds', (t) => {
  let tcpdump = '';
  try {
    tcpdump = execFileSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' }).trim();
  } catch {}
  if (!tcpdump) {
    // The oracle is a dev-machine tool; say so loudly rather than pass silently.
    t.diagnostic('tcpdump not installed: oracle check not run');
    assert.fail('tcpdump is required for this oracle test (apt-get install tcpdump)');
  }
  const dir = mkdtempSync(join(tmpdir(), `vnet-pcap-${process.pid}-`));
  try {
    const { dhcp } = dhcpOf(UDHCPD_OFFER);
    const frame = buildUdpFrame({
      srcMac: '02:00:00:00:00:02',
      dstMac: '52:54:00:12:34:56',
      srcIp: '10.0.0.2',
      dstIp: '10.0.0.20',
      srcPort: 67,
      dstPort: 68,
      payload: encodeDhcp({
        ...dhcp,
        options: [
          ...dhcp.options.filter((o) => o.code !== DHO.CLASSLESS_STATIC_ROUTE),
          classlessRoutesOption([
            { network: '10.1.0.0', prefix: 16, router: '10.0.0.1' },
            { network: '0.0.0.0', prefix: 0, router: '10.0.0.1' },
          ]),
        ],
      }),
    });
    const file = join(dir, 'offer.pcap');
    writeFileSync(file, pcapFile([frame]));
    const out = execFileSync(tcpdump, ['-r', file, '-n', '-vv'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.match(out, /10\.0\.0\.2\.67 > 10\.0\.0\.20\.68: \[udp sum ok\]/);
    assert.match(out, /Your-IP 10\.0\.0\.20/);
    assert.match(out, /DHCP-Message \(53\), length 1: Offer/);
    assert.match(out, /MTU \(26\), length 2: 1450/);
    assert.match(out, /\(10\.1\.0\.0\/16:10\.0\.0\.1\),\(default:10\.0\.0\.1\)/);
    assert.doesNotMatch(out, /bad cksum|malformed|truncated/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

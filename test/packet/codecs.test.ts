// Golden-byte tests of the Ethernet/ARP/IPv4/UDP/ICMP codecs against frames built with python3 struct.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ARPOP,
  decodeArp,
  decodeEthernet,
  decodeFrame,
  decodeIcmp,
  decodeIpv4,
  decodeUdp,
  ETH_P_8021Q,
  ETH_P_ARP,
  encodeArp,
  encodeEthernet,
  encodeIcmp,
  encodeIpv4,
  encodeUdp,
  echoIdentifier,
  echoSequence,
  fromHex,
  fragNeededFrame,
  gratuitousArpFrame,
  ICMP_TYPE,
  ICMP_FRAG_NEEDED,
  icmpEcho,
  internetChecksum,
  isIpv4,
  IPPROTO,
  ipv4ToInt,
  intToIpv4,
  normalizeMac,
  PacketMalformedError,
  PacketTruncatedError,
  PacketValueError,
  parseMac,
  toHex,
} from '../../src/packet/index.js';
import { ARP_VLAN, ICMP_ECHO_FRAME, UDP_ODD_FRAME } from './fixtures.js';

describe('bytes helpers', () => {
  test('RFC 1071 §3 example sums to ddf2, checksum 220d', () => {
    const b = fromHex('0001f203f4f5f6f7');
    assert.equal(internetChecksum(b, 0, b.length), 0x220d);
  });
  test('MAC and IPv4 text forms', () => {
    assert.equal(normalizeMac('52-54-00-AB-cd-EF'), '52:54:00:ab:cd:ef');
    assert.equal(normalizeMac('52:54:00:ab:cd'), null);
    assert.throws(
      () => parseMac('zz:54:00:ab:cd:ef', 'x.mac'),
      (e: unknown) => e instanceof PacketValueError && e.field === 'x.mac',
    );
    assert.equal(ipv4ToInt('10.1.2.3'), 0x0a010203);
    assert.equal(intToIpv4(0xffffff00), '255.255.255.0');
    for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4', ' 1.2.3.4', '']) {
      assert.throws(() => ipv4ToInt(bad, 'f'), PacketValueError, bad);
    }
  });
});

describe('ethernet + 802.1Q + ARP', () => {
  test('a gratuitous ARP: broadcast from the MAC, sender and target the announced address, tagged or not', () => {
    for (const vlan of [10, null]) {
      const frame = gratuitousArpFrame('02:00:00:01:00:01', '192.168.10.50', vlan);
      assert.equal(frame.length, 60);
      const eth = decodeEthernet(frame);
      assert.equal(eth.dst, 'ff:ff:ff:ff:ff:ff');
      assert.equal(eth.src, '02:00:00:01:00:01');
      assert.deepEqual(eth.vlans, vlan === null ? [] : [{ tpid: ETH_P_8021Q, pcp: 0, dei: false, vid: 10 }]);
      assert.equal(eth.ethertype, ETH_P_ARP);
      assert.deepEqual(decodeArp(eth.payload), {
        op: ARPOP.REQUEST,
        sha: '02:00:00:01:00:01',
        spa: '192.168.10.50',
        tha: '00:00:00:00:00:00',
        tpa: '192.168.10.50',
      });
    }
  });

  test('fragmentation needed: back to the sender, same tag, from the address it sent to, quoting header + 8 bytes', () => {
    const big = (df: boolean, payload: Uint8Array) =>
      encodeEthernet({
        dst: '02:00:00:0a:00:11',
        src: '02:00:00:ee:00:01',
        vlans: [{ tpid: ETH_P_8021Q, pcp: 0, dei: false, vid: 10 }],
        ethertype: 0x0800,
        payload: encodeIpv4({
          dscp: 0,
          ecn: 0,
          id: 7,
          df,
          mf: false,
          fragmentOffset: 0,
          ttl: 63,
          protocol: IPPROTO.ICMP,
          src: '198.51.100.10',
          dst: '192.168.10.60',
          options: new Uint8Array(0),
          payload,
        }),
      });
    const echo = encodeIcmp(icmpEcho(ICMP_TYPE.ECHO, 1, 2, new Uint8Array(1472)));
    const reply = fragNeededFrame(big(true, echo), 1450)!;
    const eth = decodeEthernet(reply);
    assert.equal(eth.dst, '02:00:00:ee:00:01');
    assert.equal(eth.src, '02:00:00:0a:00:11');
    assert.deepEqual(eth.vlans, [{ tpid: ETH_P_8021Q, pcp: 0, dei: false, vid: 10 }]);
    const ip = decodeIpv4(eth.payload);
    assert.equal(ip.src, '192.168.10.60');
    assert.equal(ip.dst, '198.51.100.10');
    const icmp = decodeIcmp(ip.payload);
    assert.equal(icmp.type, ICMP_TYPE.DEST_UNREACH);
    assert.equal(icmp.code, ICMP_FRAG_NEEDED);
    assert.equal(icmp.rest, 1450);
    assert.equal(icmp.payload.length, 28);
    // The quoted header is the sender's own (its destination, the floating address, is what its kernel matches).
    assert.deepEqual([...icmp.payload.subarray(16, 20)], [192, 168, 10, 60]);
    // Without DF it would have to be fragmented: no error. Nor about an ICMP error.
    assert.equal(fragNeededFrame(big(false, echo), 1450), null);
    assert.equal(
      fragNeededFrame(big(true, encodeIcmp({ type: 3, code: 4, rest: 1400, payload: new Uint8Array(28) })), 1450),
      null,
    );
  });

  const bytes = fromHex(ARP_VLAN);
  test('decodes the golden tagged ARP request', () => {
    const eth = decodeEthernet(bytes);
    assert.equal(eth.dst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(eth.src, '52:54:00:12:34:56');
    assert.deepEqual(eth.vlans, [{ tpid: ETH_P_8021Q, pcp: 3, dei: false, vid: 100 }]);
    assert.equal(eth.ethertype, ETH_P_ARP);
    assert.deepEqual(decodeArp(eth.payload), {
      op: ARPOP.REQUEST,
      sha: '52:54:00:12:34:56',
      spa: '10.0.0.10',
      tha: '00:00:00:00:00:00',
      tpa: '10.0.0.1',
    });
  });
  test('encodes the same bytes', () => {
    const eth = decodeEthernet(bytes);
    const out = encodeEthernet({ ...eth, payload: encodeArp(decodeArp(eth.payload)) });
    assert.equal(toHex(out), ARP_VLAN);
  });
  test('pads to the minimum frame size when asked', () => {
    const eth = decodeEthernet(bytes);
    assert.equal(encodeEthernet(eth, 60).length, 60);
  });
  test('truncation names the field', () => {
    assert.throws(
      () => decodeEthernet(bytes.subarray(0, 13)),
      (e: unknown) => e instanceof PacketTruncatedError && e.field === 'ethernet.header',
    );
    assert.throws(
      () => decodeEthernet(bytes.subarray(0, 16)),
      (e: unknown) => e instanceof PacketTruncatedError && e.field === 'ethernet.vlan',
    );
    assert.throws(
      () => decodeArp(decodeEthernet(bytes).payload.subarray(0, 27)),
      (e: unknown) => e instanceof PacketTruncatedError && e.field === 'arp',
    );
  });
  test('refuses a non-Ethernet ARP and three VLAN tags', () => {
    const arp = decodeEthernet(bytes).payload.slice();
    arp[1] = 6; // htype IEEE 802
    assert.throws(
      () => decodeArp(arp),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'arp.htype',
    );
    const tags = fromHex('ffffffffffff525400123456' + '81000001'.repeat(3) + '0806');
    assert.throws(
      () => decodeEthernet(tags),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'ethernet.vlan',
    );
  });
  test('encoder refuses out-of-range VLAN ids', () => {
    const eth = decodeEthernet(bytes);
    assert.throws(
      () => encodeEthernet({ ...eth, vlans: [{ tpid: ETH_P_8021Q, pcp: 0, dei: false, vid: 4096 }] }),
      (e: unknown) => e instanceof PacketValueError && e.field === 'ethernet.vlan[0].vid',
    );
  });
});

describe('IPv4 + ICMP', () => {
  const bytes = fromHex(ICMP_ECHO_FRAME);
  test('decodes the golden echo request', () => {
    const d = decodeFrame(bytes);
    assert.ok(d.ipv4 && d.icmp);
    assert.equal(d.ipv4.src, '10.0.0.10');
    assert.equal(d.ipv4.dst, '10.0.0.1');
    assert.equal(d.ipv4.df, true);
    assert.equal(d.ipv4.id, 0x4242);
    assert.equal(d.ipv4.protocol, IPPROTO.ICMP);
    assert.equal(d.icmp.type, ICMP_TYPE.ECHO);
    assert.equal(echoIdentifier(d.icmp), 0x1234);
    assert.equal(echoSequence(d.icmp), 1);
    assert.equal(Buffer.from(d.icmp.payload).toString(), 'abcdefgh');
  });
  test('encodes the same bytes (checksums computed)', () => {
    const d = decodeFrame(bytes);
    const icmp = encodeIcmp(icmpEcho(ICMP_TYPE.ECHO, 0x1234, 1, Buffer.from('abcdefgh')));
    const ip = encodeIpv4({ ...d.ipv4!, payload: icmp });
    assert.equal(toHex(encodeEthernet({ ...d.eth, payload: ip })), ICMP_ECHO_FRAME);
  });
  test('checksum errors name the field', () => {
    const bad = bytes.slice();
    bad[14 + 10]! ^= 1;
    assert.throws(
      () => decodeIpv4(bad.subarray(14)),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'ipv4.header_checksum',
    );
    assert.doesNotThrow(() => decodeIpv4(bad.subarray(14), { verifyChecksum: false }));
    const badIcmp = bytes.slice();
    badIcmp[bytes.length - 1]! ^= 1;
    assert.throws(
      () => decodeIcmp(badIcmp.subarray(34)),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'icmp.checksum',
    );
  });
  test('length fields are checked against the bytes present', () => {
    const ip = bytes.subarray(14);
    assert.throws(
      () => decodeIpv4(ip.subarray(0, ip.length - 1)),
      (e: unknown) => e instanceof PacketTruncatedError && e.field === 'ipv4.total_length',
    );
    const v6 = ip.slice();
    v6[0] = 0x65;
    assert.throws(
      () => decodeIpv4(v6),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'ipv4.version',
    );
    const ihl = ip.slice();
    ihl[0] = 0x44;
    assert.throws(
      () => decodeIpv4(ihl),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'ipv4.ihl',
    );
  });
  test('Ethernet padding after total_length is cut off', () => {
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes);
    const d = decodeFrame(padded);
    assert.equal(d.icmp?.payload.length, 8);
  });
  test('a non-first fragment stops at the IPv4 layer', () => {
    const ip = decodeIpv4(bytes.subarray(14));
    const frag = encodeIpv4({ ...ip, df: false, fragmentOffset: 100, payload: new Uint8Array(3) });
    const d = decodeFrame(encodeEthernet({ ...decodeEthernet(bytes), payload: frag }));
    assert.equal(d.icmp, undefined);
    assert.equal(d.ipv4?.fragmentOffset, 100);
  });
});

describe('UDP', () => {
  const bytes = fromHex(UDP_ODD_FRAME);
  test('decodes the golden odd-length datagram and verifies the pseudo-header checksum', () => {
    const d = decodeFrame(bytes);
    assert.ok(d.ipv4 && d.udp);
    assert.equal(d.ipv4.dscp, 0xb8 >> 2);
    assert.equal(d.ipv4.ttl, 63);
    assert.equal(d.udp.srcPort, 5000);
    assert.equal(d.udp.dstPort, 53);
    assert.equal(Buffer.from(d.udp.payload).toString(), 'hello');
  });
  test('encodes the same bytes', () => {
    const d = decodeFrame(bytes);
    const udp = encodeUdp(d.udp!, d.ipv4!);
    assert.equal(toHex(encodeEthernet({ ...d.eth, payload: encodeIpv4({ ...d.ipv4!, payload: udp }) })), UDP_ODD_FRAME);
  });
  test('wrong checksum and short length name the field; checksum 0 means none', () => {
    const d = decodeFrame(bytes);
    const udp = encodeUdp(d.udp!, d.ipv4!);
    const bad = udp.slice();
    bad[bad.length - 1]! ^= 0xff;
    assert.throws(
      () => decodeUdp(bad, d.ipv4!),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'udp.checksum',
    );
    const none = encodeUdp(d.udp!);
    assert.equal((none[6]! << 8) | none[7]!, 0);
    assert.doesNotThrow(() => decodeUdp(none, d.ipv4!));
    const short = udp.slice();
    short[5] = 4;
    assert.throws(
      () => decodeUdp(short),
      (e: unknown) => e instanceof PacketMalformedError && e.field === 'udp.length',
    );
    assert.throws(
      () => decodeUdp(udp.subarray(0, 7)),
      (e: unknown) => e instanceof PacketTruncatedError && e.field === 'udp.header',
    );
  });
  test('encoder refuses bad ports', () => {
    assert.throws(
      () => encodeUdp({ srcPort: 70000, dstPort: 1, payload: new Uint8Array() }),
      (e: unknown) => e instanceof PacketValueError && e.field === 'udp.src_port',
    );
  });
});

describe('hand-written parsers agree with the textbook regexes', () => {
  const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const MAC_RE = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;
  test('isIpv4 accepts exactly the strict dotted quads', () => {
    const text = fc
      .array(fc.constantFrom(...'0123456789.'.split(''), '25', '255', '256', '00'), { maxLength: 12 })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(text, (s) => {
        assert.equal(isIpv4(s), IPV4_RE.test(s), s);
        if (IPV4_RE.test(s)) assert.equal(intToIpv4(ipv4ToInt(s)), s);
      }),
      { numRuns: 20_000 },
    );
  });
  test('normalizeMac accepts exactly colon or dash MACs', () => {
    const text = fc.array(fc.constantFrom(...'0aF:-g'.split(''), 'ff', '00'), { maxLength: 20 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(text, fc.constant('52:54:00:ab:cd:ef'), fc.constant('52-54-00-AB-CD-EF')), (s) => {
        assert.equal(normalizeMac(s) !== null, MAC_RE.test(s), s);
        if (MAC_RE.test(s)) assert.equal(normalizeMac(s), s.toLowerCase().replaceAll('-', ':'));
      }),
      { numRuns: 20_000 },
    );
  });
});

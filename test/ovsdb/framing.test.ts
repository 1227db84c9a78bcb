// The concatenated-JSON splitter: golden edge cases, size limit, poisoning, and a property test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { JsonSplitter } from '../../src/ovsdb/framing.js';
import { OvsdbFramingError } from '../../src/ovsdb/errors.js';

const feed = (s: JsonSplitter, ...chunks: Array<string | Buffer>) =>
  chunks.flatMap((c) => s.push(typeof c === 'string' ? Buffer.from(c) : c));

test('splits back-to-back objects and arrays, whitespace between them ignored', () => {
  const s = new JsonSplitter();
  assert.deepEqual(feed(s, '{"a":1}{"b":[2,{"c":3}]} \r\n\t[4]'), [{ a: 1 }, { b: [2, { c: 3 }] }, [4]]);
  assert.equal(s.buffered, 0);
});

test('braces and brackets inside strings, escaped quotes and backslashes do not count', () => {
  const s = new JsonSplitter();
  const tricky = [{ m: '}{' }, { m: 'a\\"}' }, { m: '\\' }, { m: '\\\\"]' }, { m: '"{[' }, { '}': ']', '{': '[' }];
  const wire = tricky.map((v) => JSON.stringify(v)).join('');
  // Byte by byte: every state transition crosses a chunk boundary at least once.
  const out: unknown[] = [];
  for (const b of Buffer.from(wire)) out.push(...s.push(Buffer.from([b])));
  assert.deepEqual(out, tricky);
});

test('a multi-byte UTF-8 character split across chunks is reassembled', () => {
  const s = new JsonSplitter();
  const buf = Buffer.from(JSON.stringify({ s: 'ünï€😀{' }));
  const cut = buf.indexOf(0x80); // inside a multi-byte sequence
  assert.ok(cut > 0);
  assert.deepEqual(feed(s, buf.subarray(0, cut)), []);
  assert.deepEqual(feed(s, buf.subarray(cut)), [{ s: 'ünï€😀{' }]);
});

test('a message larger than the limit is rejected, whether in one chunk or many', () => {
  const big = JSON.stringify({ x: 'y'.repeat(200) });
  const one = new JsonSplitter(100);
  assert.throws(
    () => one.push(Buffer.from(big)),
    (e: unknown) => e instanceof OvsdbFramingError && e.reason === 'too-large',
  );
  const many = new JsonSplitter(100);
  assert.throws(
    () => {
      for (let i = 0; i < big.length; i += 10) many.push(Buffer.from(big.slice(i, i + 10)));
    },
    (e: unknown) => e instanceof OvsdbFramingError && e.reason === 'too-large' && e.code === 'OVSDB_FRAMING',
  );
  // Just under the limit is fine, and the counter does not leak into the next message.
  const ok = new JsonSplitter(100);
  const small = JSON.stringify({ x: 'y'.repeat(80) });
  assert.equal(feed(ok, small, small, small).length, 3);
});

test('garbage between messages and invalid JSON poison the splitter', () => {
  const a = new JsonSplitter();
  assert.throws(
    () => a.push(Buffer.from('{"a":1} x')),
    (e: unknown) => e instanceof OvsdbFramingError && e.reason === 'bad-top-level',
  );
  // Once failed, the position in the stream is unknown: it keeps failing.
  assert.throws(() => a.push(Buffer.from('{"b":2}')), OvsdbFramingError);
  const b = new JsonSplitter();
  assert.throws(
    () => b.push(Buffer.from('{"a":tru}')),
    (e: unknown) => e instanceof OvsdbFramingError && e.reason === 'bad-json',
  );
  const c = new JsonSplitter();
  assert.throws(
    () => c.push(Buffer.from('42')),
    (e: unknown) => e instanceof OvsdbFramingError && e.reason === 'bad-top-level',
  );
});

test('property: random JSON values, concatenated, split at random points, come back equal', () => {
  const container = fc.oneof(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), fc.array(fc.jsonValue()));
  const ws = fc.constantFrom('', ' ', '\n', '\r\n', '\t ');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(container, ws), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (values, cuts) => {
        const wire = Buffer.from(values.map(([v, w]) => JSON.stringify(v) + w).join(''));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const s = new JsonSplitter();
        const out: unknown[] = [];
        let prev = 0;
        for (const p of [...points, wire.length]) {
          out.push(...s.push(wire.subarray(prev, p)));
          prev = p;
        }
        // JSON round trip normalises -0 and the like, exactly as the peer would.
        assert.deepEqual(
          out,
          values.map(([v]) => JSON.parse(JSON.stringify(v))),
        );
        assert.equal(s.buffered, 0);
      },
    ),
    { numRuns: 300 },
  );
});

// OVSDB data encodings, operation builders, targets, datapath ids and cache value decoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDatapathId } from '../../src/ovsdb/bridge.js';
import { decodeValue, valuesEqual } from '../../src/ovsdb/cache.js';
import { columnType, OvsdbClient, parseTarget } from '../../src/ovsdb/client.js';
import {
  decodeDatum,
  map,
  NamedUuid,
  namedUuid,
  OvsMap,
  OvsSet,
  set,
  setValues,
  Uuid,
  uuid,
} from '../../src/ovsdb/data.js';
import { OvsdbInputError, OvsdbProtocolError, OvsdbTransactionError } from '../../src/ovsdb/errors.js';
import { op, where } from '../../src/ovsdb/ops.js';

const U = '6b1d5c3a-1b2c-4d5e-8f90-0123456789ab';

test('datum classes serialise to the RFC 7047 wire forms', () => {
  assert.equal(JSON.stringify(uuid(U)), `["uuid","${U}"]`);
  assert.equal(JSON.stringify(namedUuid('row1')), '["named-uuid","row1"]');
  assert.equal(JSON.stringify(set(['a', 1, true])), '["set",["a",1,true]]');
  assert.equal(JSON.stringify(set([uuid(U)])), `["set",[["uuid","${U}"]]]`);
  assert.equal(JSON.stringify(map({ k: 'v', n: 2 })), '["map",[["k","v"],["n",2]]]');
  assert.equal(JSON.stringify(map(new Map([['a', 'b']]))), '["map",[["a","b"]]]');
  assert.equal(JSON.stringify(map([])), '["map",[]]');
});

test('decodeDatum recognises tagged forms and leaves bare atoms alone', () => {
  const u = decodeDatum(['uuid', U]);
  assert.ok(u instanceof Uuid && u.uuid === U);
  assert.ok(decodeDatum(['named-uuid', 'x']) instanceof NamedUuid);
  const s = decodeDatum(['set', ['a', ['uuid', U]]]);
  assert.ok(s instanceof OvsSet);
  assert.deepEqual(
    setValues(s).map((v) => (v instanceof Uuid ? v.uuid : v)),
    ['a', U],
  );
  const m = decodeDatum(['map', [['k', 1]]]);
  assert.ok(m instanceof OvsMap && m.entries[0]![0] === 'k' && m.entries[0]![1] === 1);
  assert.equal(decodeDatum('plain'), 'plain');
  assert.deepEqual(setValues('one'), ['one']);
  assert.throws(
    () => decodeDatum({ not: 'an atom' }, 'Bridge.name'),
    (e: unknown) => e instanceof OvsdbProtocolError && /Bridge\.name/.test(e.message),
  );
  assert.throws(() => decodeDatum(['map', [['k']]], 'm'), OvsdbProtocolError);
  assert.throws(() => decodeDatum(['set', 'x'], 's'), OvsdbProtocolError);
});

test('decodeValue follows the column type: scalar, optional, set, map', () => {
  const scalar = columnType({ type: 'string' });
  const optional = columnType({ type: { key: 'string', min: 0, max: 1 } });
  const many = columnType({ type: { key: { type: 'uuid', refTable: 'Port' }, min: 0, max: 'unlimited' } });
  const strmap = columnType({ type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } });
  assert.equal(decodeValue(scalar, 'br0', 'f'), 'br0');
  assert.equal(decodeValue(optional, ['set', []], 'f'), undefined);
  assert.equal(decodeValue(optional, 'secure', 'f'), 'secure');
  assert.deepEqual(decodeValue(many, ['uuid', U], 'f'), [U]); // a one-element set travels bare
  assert.deepEqual(
    decodeValue(
      many,
      [
        'set',
        [
          ['uuid', U],
          ['uuid', U.replace('6', '7')],
        ],
      ],
      'f',
    ),
    [U, U.replace('6', '7')],
  );
  assert.deepEqual(decodeValue(strmap, ['map', [['iface-id', 'if-1']]], 'f'), new Map([['iface-id', 'if-1']]));
  assert.throws(() => decodeValue(strmap, 'x', 'Interface.external_ids'), /Interface\.external_ids: expected a map/);
  assert.throws(() => decodeValue(optional, ['set', ['a', 'b']], 'f'), OvsdbProtocolError);
  assert.throws(() => decodeValue(scalar, ['set', []], 'f'), OvsdbProtocolError);
  assert.ok(valuesEqual(['a', 'b'], ['b', 'a']));
  assert.ok(!valuesEqual(new Map([['a', '1']]), new Map([['a', '2']])));
});

test('operation builders produce RFC 7047 operations', () => {
  assert.deepEqual(
    JSON.parse(JSON.stringify(op.insert('Bridge', { name: 'br0', ports: set([namedUuid('p')]) }, 'b'))),
    {
      op: 'insert',
      table: 'Bridge',
      row: { name: 'br0', ports: ['set', [['named-uuid', 'p']]] },
      'uuid-name': 'b',
    },
  );
  assert.deepEqual(
    JSON.parse(
      JSON.stringify(op.mutate('Bridge', [where.eq('_uuid', uuid(U))], [['ports', 'delete', set([uuid(U)])]])),
    ),
    {
      op: 'mutate',
      table: 'Bridge',
      where: [['_uuid', '==', ['uuid', U]]],
      mutations: [['ports', 'delete', ['set', [['uuid', U]]]]],
    },
  );
  assert.deepEqual(op.wait('Bridge', [], ['name'], '==', [{ name: 'x' }], 0), {
    op: 'wait',
    table: 'Bridge',
    where: [],
    columns: ['name'],
    until: '==',
    rows: [{ name: 'x' }],
    timeout: 0,
  });
  assert.deepEqual(op.select('Port'), { op: 'select', table: 'Port', where: [] });
  assert.deepEqual(op.comment('hi'), { op: 'comment', comment: 'hi' });
  assert.deepEqual(op.assert('lk'), { op: 'assert', lock: 'lk' });
});

test('transaction errors say which operation failed and why', () => {
  const e = new OvsdbTransactionError(
    2,
    { op: 'insert', table: 'Bridge' },
    'constraint violation',
    'duplicate name',
    'vnet: x',
  );
  assert.equal(e.code, 'OVSDB_TRANSACTION');
  assert.match(e.message, /operation 2 \(insert Bridge\): constraint violation: duplicate name/);
  assert.match(
    new OvsdbTransactionError(-1, undefined, 'referential integrity violation', undefined).message,
    /at commit/,
  );
});

test('targets: unix, tcp and ssl forms; anything else is a typed input error', () => {
  assert.deepEqual(parseTarget('unix:/run/db.sock'), { path: '/run/db.sock' });
  assert.deepEqual(parseTarget('tcp:127.0.0.1:6640'), { host: '127.0.0.1', port: 6640 });
  assert.deepEqual(parseTarget('tcp:[::1]:6640'), { host: '::1', port: 6640 });
  // ssl: since 2026-12-07 (test/ovsdb/ssl.ovs.test.ts); without a key and certificates it is refused.
  assert.deepEqual(parseTarget('ssl:h:1'), { host: 'h', port: 1, ssl: true });
  assert.throws(
    () => new OvsdbClient('ssl:h:1'),
    (e: unknown) => e instanceof OvsdbInputError && e.field === 'tls',
  );
  for (const bad of ['unix:', 'tcp:host', 'tcp:h:0', 'tcp:h:70000', 'ssl:h:0', 'pssl:h:1', '/run/db.sock']) {
    assert.throws(
      () => parseTarget(bad),
      (e: unknown) => e instanceof OvsdbInputError && e.field === 'target',
      bad,
    );
  }
});

test('datapath ids normalise to 16 hex digits; bad ones name the field', () => {
  assert.equal(formatDatapathId('0x1234'), '0000000000001234');
  assert.equal(formatDatapathId('00:00:00:00:00:00:ab:CD'), '000000000000abcd');
  assert.equal(formatDatapathId(0xffff_ffff_ffff_ffffn), 'ffffffffffffffff');
  assert.throws(
    () => formatDatapathId('xyz'),
    (e: unknown) => e instanceof OvsdbInputError && e.field === 'datapathId',
  );
  assert.throws(() => formatDatapathId('0x1ffffffffffffffff'), OvsdbInputError);
  assert.throws(() => formatDatapathId(-1n), OvsdbInputError);
});

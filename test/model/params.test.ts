// Parameter coercion and validation: accepted forms, refusals naming the field, and properties over random input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiError, ArgumentError, InvalidUUID, MissingArgument } from '../../src/model/errors.js';
import { inSubnet, intToIp, ipToInt, isAligned, isNetworkOrBroadcast } from '../../src/model/ipv4.js';
import { bool, cidr, coerce, int, ipv4, isUuid, mac, oneOf, parseParams, str, uuid } from '../../src/model/params.js';

describe('coerce', () => {
  it('accepts the string forms query strings and forms carry', () => {
    assert.equal(coerce(int('n', 0, 10), '7'), 7);
    assert.equal(coerce(int('n', 0, 10), 7), 7);
    assert.equal(coerce(bool('b'), 'true'), true);
    assert.equal(coerce(bool('b'), 'F'), false);
    assert.equal(coerce(bool('b'), '1'), true);
    assert.equal(coerce(bool('b'), false), false);
    assert.equal(coerce(ipv4('ip'), '10.0.0.1'), '10.0.0.1');
    assert.equal(coerce(mac('m'), 'AA:bb:CC:00:11:22'), 'aa:bb:cc:00:11:22');
    assert.equal(coerce({ name: 'd', type: { t: 'dpid' } }, 'ABC'), '0x0000000000000abc');
    assert.equal(coerce({ name: 'd', type: { t: 'dpid' } }, '0x000002fdee8e0a44'), '0x000002fdee8e0a44');
    assert.equal(coerce({ name: 'd', type: { t: 'dpid' } }, '0xffffffffffffffff'), '0xffffffffffffffff');
    assert.equal(coerce(cidr('c'), '10.0.0.0'), '10.0.0.0/32');
    assert.equal(coerce({ name: 'l', type: { t: 'ipv4list' } }, '8.8.8.8, 1.1.1.1'), '8.8.8.8,1.1.1.1');
    assert.equal(coerce(str('s', { nullable: true }), ''), null);
    assert.equal(coerce(str('s', { nullable: true }), null), null);
  });

  it('refuses with the field named', () => {
    const cases: [Parameters<typeof coerce>[0], unknown][] = [
      [int('n', 0, 10), '11'],
      [int('n', 0, 10), '1.5'],
      [int('n', 0, 10), '99999999999999999999'],
      [int('n', 0, 10), 1.5],
      [bool('n'), 'perhaps'],
      [ipv4('n'), '1.2.3.4.5'],
      [ipv4('n'), 5],
      [ipv4('n'), '010.0.0.1'],
      [mac('n'), '00:11:22:33:44'],
      [cidr('n'), '10.0.0.0/33'],
      [cidr('n'), '10.0.0.0/8/8'],
      [uuid('n', 'nw'), 'nw-ABC'],
      [uuid('n', 'nw'), 'if-abc'],
      [uuid('n', 'nw'), 42],
      [oneOf('n', ['a', 'b']), 'c'],
      [str('n'), 'x'.repeat(256)],
      [str('n'), ['a', 'b']],
      [str('n'), { a: 1 }],
      [str('n'), null],
      [{ name: 'n', type: { t: 'dpid' } }, '0x10000000000000000'],
    ];
    for (const [spec, v] of cases) {
      assert.throws(
        () => coerce(spec, v),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.field === 'n' && e.message.includes('n'),
        `${JSON.stringify(v)} for ${spec.type.t}`,
      );
    }
    assert.throws(() => coerce(uuid('n', 'nw'), 'nw-'), InvalidUUID);
  });

  it('never throws anything but an ApiError, whatever the input', () => {
    const specs = [
      int('a', -5, 5),
      bool('b'),
      ipv4('c'),
      mac('d'),
      cidr('e'),
      uuid('f', 'if'),
      str('g'),
      oneOf('h', ['x']),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...specs), fc.anything(), (spec, v) => {
        try {
          coerce(spec, v);
        } catch (e) {
          assert.ok(e instanceof ApiError, String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseParams', () => {
  const specs = [uuid('uuid', 'nw'), ipv4('ipv4_network', { required: true }), int('ipv4_prefix', 1, 32)];
  it('unknown names are refused, all of them named', () => {
    assert.throws(
      () => parseParams(specs, { ipv4_network: '10.0.0.0', colour: 'red', size: 1 }),
      (e: unknown) => e instanceof ArgumentError && e.field === 'colour' && /colour, size/.test(e.message),
    );
  });
  it('missing required → MissingArgument whose message is the name', () => {
    assert.throws(
      () => parseParams(specs, { ipv4_prefix: '8' }),
      (e: unknown) => e instanceof MissingArgument && e.message === 'ipv4_network' && e.code === '111',
    );
  });
  it('path-repeating names only when equal', () => {
    assert.deepEqual(parseParams(specs, { ipv4_network: '10.0.0.0', network_uuid: 'nw-1' }, { network_uuid: 'nw-1' }), {
      ipv4_network: '10.0.0.0',
    });
    assert.throws(
      () => parseParams(specs, { ipv4_network: '10.0.0.0', network_uuid: 'nw-2' }, { network_uuid: 'nw-1' }),
      ArgumentError,
    );
  });
  it('uuid rule matches OpenVNet: prefix-[a-z0-9]{1,16}', () => {
    for (const ok of ['if-veth1', 'dp-br0', 'rl-vnetlink1', 'nw-net1', 'if-0123456789abcdef'])
      assert.ok(isUuid(ok, ok.split('-')[0]!), ok);
    for (const bad of ['if-', 'if-0123456789abcdefg', 'if-Veth', 'if_veth', 'if-a-b', 'ifveth'])
      assert.ok(!isUuid(bad, 'if'), bad);
  });
});

describe('ipv4 helpers', () => {
  it('round trip and subnet arithmetic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (n, prefix) => {
        const ip = intToIp(n);
        assert.equal(ipToInt(ip), n);
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const net = intToIp((n & mask) >>> 0);
        assert.ok(isAligned(net, prefix));
        assert.ok(inSubnet(ip, net, prefix));
      }),
    );
    assert.ok(!inSubnet('10.0.1.1', '10.0.0.0', 24));
    assert.ok(isNetworkOrBroadcast('10.0.0.255', '10.0.0.0', 24));
    assert.ok(isNetworkOrBroadcast('10.0.0.0', '10.0.0.0', 24));
    assert.ok(!isNetworkOrBroadcast('10.0.0.1', '10.0.0.0', 24));
    assert.ok(!isNetworkOrBroadcast('10.0.0.1', '10.0.0.0', 31));
  });
});

describe('records (a list of objects)', () => {
  const routes = {
    name: 'host_routes',
    type: {
      t: 'records',
      item: { destination: { t: 'cidr' }, nexthop: { t: 'ipv4' } },
      max: 2,
      key: ['destination'],
    },
  } as const;
  const refused = (raw: unknown, field: RegExp, msg: RegExp) =>
    assert.throws(
      () => coerce(routes, raw),
      (e: unknown) => e instanceof ArgumentError && field.test(e.field ?? '') && msg.test(e.message),
      JSON.stringify(raw),
    );

  it('takes a JSON list or its text (forms), each entry coerced as its fields', () => {
    const want = [{ destination: '10.9.0.0/16', nexthop: '10.0.0.1' }];
    assert.deepEqual(coerce(routes, want), want);
    assert.deepEqual(coerce(routes, JSON.stringify(want)), want);
    assert.deepEqual(coerce(routes, [{ destination: '192.0.2.7', nexthop: '10.0.0.1' }]), [
      { destination: '192.0.2.7/32', nexthop: '10.0.0.1' },
    ]);
    assert.deepEqual(coerce(routes, []), []);
  });

  it('refuses, naming the entry and its field', () => {
    refused('10.9.0.0/16', /^host_routes$/, /list of objects/);
    refused({ destination: '10.9.0.0/16' }, /^host_routes$/, /list of objects/);
    refused([7], /^host_routes\[0\]$/, /must be an object/);
    refused([{ destination: '10.9.0.0/16' }], /^host_routes\[0\]\.nexthop$/, /missing/);
    refused([{ destination: '10.9.0.1/16', nexthop: '10.0.0.1' }], /^host_routes\[0\]\.destination$/, /host bits/);
    refused([{ destination: '10.9.0.0/16', nexthop: '127.0.0.1' }], /^host_routes\[0\]\.nexthop$/, /loopback/);
    refused([{ destination: '10.9.0.0/16', nexthop: '10.0.0.1', x: 1 }], /^host_routes\[0\]$/, /unknown field 'x'/);
    const a = { destination: '10.9.0.0/16', nexthop: '10.0.0.1' };
    refused([a, { ...a, nexthop: '10.0.0.2' }], /^host_routes\[1\]$/, /repeats host_routes\[0\]/);
    refused([a, a, a], /^host_routes$/, /at most 2/);
  });

  it('never throws anything but an ArgumentError, whatever the JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          coerce(routes, v);
        } catch (e) {
          assert.ok(e instanceof ApiError, String(e));
        }
      }),
    );
  });
});

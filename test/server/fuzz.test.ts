// Randomized malformed requests (fast-check): bad types, huge values, unknown fields, broken JSON, bad uuids/IPs/MACs.
// Every answer must be a non-5xx with the error body shape when it is an error.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import YAML from 'yaml';
import { RESOURCES } from '../../src/server/resources.js';
import { bootstrapAdminToken } from '../../src/server/auth/token-rows.js';
import { ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
/** The same model on a server that requires tokens, and credentials of every kind to send it. */
let guarded: TestServer;
const credentials: Record<string, string | undefined> = {};

async function seed(s: TestServer) {
  await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-a', dpid: '0xa', node_id: 'a' });
  await ok(s, 'POST', '/api/networks', { uuid: 'nw-a', ipv4_network: '10.0.0.0', ipv4_prefix: 24 });
  await ok(s, 'POST', '/api/interfaces', {
    uuid: 'if-a',
    network_uuid: 'nw-a',
    ipv4_address: '10.0.0.2',
    mac_address: '02:00:00:00:00:02',
  });
  await ok(s, 'POST', '/api/route_links', { uuid: 'rl-a' });
  await ok(s, 'POST', '/api/security_groups', { uuid: 'sg-a' });
  await ok(s, 'POST', '/api/filters', { uuid: 'fil-a', interface_uuid: 'if-a' });
  await ok(s, 'POST', '/api/translations', { uuid: 'tr-a', interface_uuid: 'if-a' });
  await ok(s, 'POST', '/api/ip_range_groups', { uuid: 'iprg-a' });
  await ok(s, 'POST', '/api/mac_range_groups', { uuid: 'mrg-a' });
}

before(async () => {
  s = await startServer({ listen: false });
  await seed(s);
  // The guarded server: its bootstrap admin mints one token of each role through the API.
  guarded = await startServer({ listen: false, auth: { mode: 'tokens' } });
  const file = join(mkdtempSync(join(tmpdir(), 'vnet-fuzz-')), 'admin.token');
  await bootstrapAdminToken(guarded.service, file);
  const admin = readFileSync(file, 'utf8').trim();
  const mint = async (body: object) => {
    const res = await guarded.app.inject({
      method: 'POST',
      url: '/api/1.0/tokens',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    return JSON.parse(res.body).token as string;
  };
  for (const [path, body] of [
    ['/api/1.0/datapaths', { uuid: 'dp-a', dpid: '0xa', node_id: 'a' }],
    ['/api/1.0/networks', { uuid: 'nw-a', ipv4_network: '10.0.0.0', ipv4_prefix: 24 }],
  ] as const)
    await guarded.app.inject({
      method: 'POST',
      url: path,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  Object.assign(credentials, {
    none: undefined,
    admin: `Bearer ${admin}`,
    reader: `Bearer ${await mint({ role: 'reader' })}`,
    agent: `Bearer ${await mint({ role: 'agent', node_id: 'a' })}`,
    enrollment: `Bearer ${await mint({ role: 'enrollment', node_id: 'b' })}`,
    unknown: 'Bearer tk-nobody.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    garbage: 'Bearer \u0000%%%',
    basic: 'Basic YTpi',
  });
});
after(async () => {
  await s.close();
  await guarded.close();
});

const PARAM_NAMES = [
  ...new Set(RESOURCES.flatMap((r) => [...r.createParams, ...r.updateParams].map((p) => p.name))),
  'limit',
  'offset',
  'since',
  'status',
  'is_connected',
  'flows_in_sync',
  'broadcast_mac_address',
  'protocol',
  'action',
  'direction',
  'begin_ipv4_address',
  'end_mac_address',
  '__proto__',
  'constructor',
  'toString',
];

const uuidLike = fc.oneof(
  fc.constantFrom('dp-a', 'nw-a', 'if-a', 'rl-a', 'sg-a', 'fil-a', 'tr-a', 'iprg-a', 'mrg-a', 'sgr-x', 'ns-zz'),
  fc.constantFrom(
    'dp-',
    'if-A',
    'nw-' + 'a'.repeat(17),
    '..',
    '%00',
    '%2F',
    'if-a%2Fb',
    'x'.repeat(2000),
    '%E2%82',
    '-',
  ),
  fc.stringMatching(/^[a-z]{1,4}-[a-z0-9]{0,20}$/),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);

const badValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 250, maxLength: 1000 }),
  fc.integer(),
  fc.double(),
  fc.bigInt().map((b) => b.toString()),
  fc.constantFrom(
    '999.1.1.1',
    '10.0.0.256',
    '1.2.3',
    '::1',
    '10.0.0.0/99',
    'gg:00:00:00:00:00',
    '02:00:00:00:00',
    '0x1ffffffffffffffff',
    '-1',
    '1e309',
    'NaN',
    'true',
    '',
    '\u0000',
    '\ud800',
    '9007199254740993',
  ),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

const params = fc.dictionary(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 12 })), badValue, {
  maxKeys: 6,
});

const path = fc.oneof(
  fc.constantFrom(...RESOURCES.map((r) => `/${r.kind}`)).map((p) => ({ p, sub: '' })),
  fc
    .tuple(fc.constantFrom(...RESOURCES.map((r) => `/${r.kind}`)), uuidLike)
    .map(([p, u]) => ({ p: `${p}/${u}`, sub: '' })),
  fc
    .tuple(
      uuidLike,
      fc.constantFrom(
        'networks',
        'route_links',
        'segments',
        'ports',
        'security_groups',
        'rules',
        'static',
        'static_address',
        'ip_ranges',
        'mac_ranges',
        'dns_records',
        'status',
        'binding',
        'attach',
        'release',
      ),
      fc.option(uuidLike, { nil: undefined }),
    )
    .chain(([u, rel, other]) =>
      fc
        .constantFrom(
          'datapaths',
          'interfaces',
          'security_groups',
          'filters',
          'translations',
          'ip_range_groups',
          'mac_range_groups',
          'dns_services',
          'ip_leases',
        )
        .map((parent) => ({ p: `/${parent}/${u}/${rel}${other ? `/${other}` : ''}`, sub: rel })),
    ),
  fc.constantFrom('/feed/snapshot', '/nope', '', '/', '/datapaths/', '//datapaths').map((p) => ({ p, sub: '' })),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  prefix: fc.constantFrom('/api/1.0', '/api', '/api/2.0'),
  suffix: fc.constantFrom('', '', '.json', '.yml', '.xml'),
  path,
  params,
  encoding: fc.constantFrom('query', 'form', 'json', 'wrapped', 'broken-json', 'raw', 'wrong-type'),
  raw: fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.constantFrom('{"a":', '[', 'null', '{"__proto__":{"x":1}}', '{"a":{"b":{"c":1}}}', '{}'),
  ),
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** Sends one generated request; asserts no 5xx and the error shape. Returns the status. */
async function sendOne(server: TestServer, r: FuzzRequest, authorization?: string): Promise<number> {
  let url = r.prefix + r.path.p + r.suffix;
  const headers: Record<string, string> = authorization ? { authorization } : {};
  let payload: string | undefined;
  const stringify = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  switch (r.encoding) {
    case 'query':
      url += `?${new URLSearchParams(Object.entries(r.params).map(([k, v]): [string, string] => [k, stringify(v)]))}`;
      break;
    case 'form':
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(
        Object.entries(r.params).map(([k, v]): [string, string] => [k, stringify(v)]),
      ).toString();
      break;
    case 'json':
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(r.params);
      break;
    case 'wrapped':
      headers['content-type'] = 'application/json';
      payload = JSON.stringify({ interface: r.params });
      break;
    case 'broken-json':
      headers['content-type'] = 'application/json';
      payload = r.raw;
      break;
    case 'raw':
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = r.raw;
      break;
    case 'wrong-type':
      headers['content-type'] = 'text/plain';
      payload = r.raw;
      break;
  }
  if (r.method === 'GET' || r.method === 'HEAD' || r.method === 'OPTIONS') payload = undefined;
  const res = await server.app.inject({ method: r.method as 'GET', url, headers, payload });
  assert.ok(res.statusCode < 500, `${r.method} ${url} ${payload ?? ''} → ${res.statusCode} ${res.body}`);
  if (res.statusCode >= 400 && r.method !== 'HEAD') {
    // YAML is a superset of JSON: .yml answers parse the same way.
    const body = YAML.parse(res.body);
    assert.equal(typeof body.error, 'string');
    assert.equal(typeof body.message, 'string');
    assert.equal(typeof body.code, 'string');
  }
  return res.statusCode;
}

it('≥10k malformed requests: zero 5xx, every error has {error, message, code}', async () => {
  let count = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      count++;
      // The change stream never ends by design; it is exercised with bad `since` values only.
      if (r.path.p === '/feed/changes') return;
      const status = await sendOne(s, r);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
    { numRuns: 10_500, seed: Number(process.env.FUZZ_SEED ?? 424242) },
  );
  assert.ok(count >= 10_000);
  // Sanity: the generator reaches both successes and several kinds of errors.
  const codes = [...statuses.keys()];
  assert.ok(codes.some((c) => c < 300) && codes.includes(400) && codes.includes(404), JSON.stringify([...statuses]));
  const r = await s.app.inject({ method: 'GET', url: '/api/1.0/feed/changes?since=%00' });
  assert.equal(r.statusCode, 400);
});

it('≥10k malformed requests to a server that requires tokens, with every kind of credential: zero 5xx', async () => {
  const statuses = new Map<number, number>();
  const kinds = Object.keys(credentials);
  await fc.assert(
    fc.asyncProperty(request, fc.constantFrom(...kinds), async (r, kind) => {
      if (r.path.p === '/feed/changes') return;
      const status = await sendOne(guarded, r, credentials[kind]);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
    { numRuns: 10_500, seed: Number(process.env.FUZZ_SEED ?? 424243) },
  );
  // Answers of every kind: successes (admin, reader), 401 (none, unknown, garbage), 403 (roles) and 400s.
  const codes = [...statuses.keys()];
  for (const c of [401, 403, 400]) assert.ok(codes.includes(c), `${c} in ${JSON.stringify([...statuses])}`);
  assert.ok(
    codes.some((c) => c < 300),
    JSON.stringify([...statuses]),
  );
});

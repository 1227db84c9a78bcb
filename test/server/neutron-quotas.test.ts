// Per-project quotas of the Neutron API (issue 23 item 5 with the projects of issue 20): a project at its quota
// gets Neutron's 409 OverQuota, another project is not affected, and deleting frees room. Small quotas make it
// quick; the defaults are Neutron's (src/server/neutron/quotas.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildNeutronApp } from '../../src/server/neutron/app.js';
import { DEFAULT_QUOTAS, parseQuotas } from '../../src/server/neutron/quotas.js';
import { ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
let neutron: FastifyInstance;
const tokens: Record<string, string> = {};

async function post(collection: string, key: string, obj: Record<string, unknown>, project: string) {
  const r = await neutron.inject({
    method: 'POST',
    url: `/v2.0/${collection}`,
    headers: { 'x-auth-token': tokens[project]!, 'content-type': 'application/json' },
    payload: JSON.stringify({ [key]: obj }),
  });
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

before(async () => {
  s = await startServer({ listen: false });
  neutron = await buildNeutronApp({
    service: s.service,
    mode: 'tokens',
    quotas: parseQuotas(['networks=2', 'security_group_rules=-1']),
  });
  await neutron.ready();
  for (const p of ['q1', 'q2'])
    tokens[p] = (await ok(s, 'POST', '/api/1.0/tokens', { role: 'member', project_id: p })).token;
});

after(async () => {
  await neutron?.close();
  await s?.close();
});

test('a project at its quota gets 409 OverQuota; another project and a freed slot are fine', async () => {
  for (const name of ['a', 'b']) assert.equal((await post('networks', 'network', { name }, 'q1')).status, 201);
  const over = await post('networks', 'network', { name: 'c' }, 'q1');
  assert.equal(over.status, 409, JSON.stringify(over.body));
  assert.deepEqual(over.body.NeutronError.type, 'OverQuota');
  assert.match(over.body.NeutronError.message, /Quota exceeded for resources: \['network'\]/);
  // q2 has its own quota.
  assert.equal((await post('networks', 'network', { name: 'a' }, 'q2')).status, 201);
  // Deleting one of q1's networks makes room again.
  const mine = await neutron.inject({ method: 'GET', url: '/v2.0/networks', headers: { 'x-auth-token': tokens.q1! } });
  const id = JSON.parse(mine.body).networks[0].id;
  const del = await neutron.inject({
    method: 'DELETE',
    url: `/v2.0/networks/${id}`,
    headers: { 'x-auth-token': tokens.q1! },
  });
  assert.equal(del.statusCode, 204);
  assert.equal((await post('networks', 'network', { name: 'c' }, 'q1')).status, 201);
});

test("quotas default to Neutron's and a bad --neutron-quota is refused naming the kinds", () => {
  assert.equal(parseQuotas([]).ports, DEFAULT_QUOTAS.ports);
  assert.equal(DEFAULT_QUOTAS.ports, 500);
  assert.throws(() => parseQuotas(['vms=3']), /--neutron-quota: 'vms=3' is not KIND=N \(KIND: networks/);
  assert.throws(() => parseQuotas(['ports=x']), /is not KIND=N/);
});

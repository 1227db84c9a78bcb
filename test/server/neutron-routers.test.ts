// A Neutron router's admin state is served, not stored and ignored: a router that is down has every route over its
// link with ingress and egress off (the agents route nothing over such routes), and coming up turns them on.
// Also Neutron's answers for a gateway on no network (404) and overlapping subnets behind one router (400).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildNeutronApp } from '../../src/server/neutron/app.js';
import { ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
let neutron: FastifyInstance;

async function api(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) {
  const r = await neutron.inject({
    method,
    url,
    ...(body ? { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

before(async () => {
  s = await startServer({ listen: false });
  neutron = await buildNeutronApp({ service: s.service, mode: 'local' });
  await neutron.ready();
});

after(async () => {
  await neutron?.close();
  await s?.close();
});

const routesOf = async (rl: string) =>
  (await ok(s, 'GET', '/api/1.0/routes', { route_link_uuid: rl })).items as { ingress: boolean; egress: boolean }[];

test('a router made down routes nothing until it is up', async () => {
  const net = (await api('POST', '/v2.0/networks', { network: { name: 'n' } })).body.network;
  const sub = (
    await api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.9.0.0/24' } })
  ).body.subnet;
  const made = await api('POST', '/v2.0/routers', { router: { name: 'r', admin_state_up: false } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const r = made.body.router;
  assert.equal(r.admin_state_up, false);
  assert.equal((await api('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { subnet_id: sub.id })).status, 200);
  const down = await routesOf(r.id);
  assert.equal(down.length, 1);
  assert.deepEqual([down[0]!.ingress, down[0]!.egress], [false, false]);
  const up = await api('PUT', `/v2.0/routers/${r.id}`, { router: { admin_state_up: true } });
  assert.equal(up.body.router.admin_state_up, true);
  assert.equal(up.body.router.status, 'ACTIVE');
  for (const route of await routesOf(r.id)) assert.deepEqual([route.ingress, route.egress], [true, true]);
  await api('PUT', `/v2.0/routers/${r.id}`, { router: { admin_state_up: false } });
  for (const route of await routesOf(r.id)) assert.deepEqual([route.ingress, route.egress], [false, false]);

  // Overlapping addresses behind one router are refused (400), as Neutron does.
  const other = (await api('POST', '/v2.0/networks', { network: { name: 'o' } })).body.network;
  const overlap = (
    await api('POST', '/v2.0/subnets', { subnet: { network_id: other.id, ip_version: 4, cidr: '10.9.0.0/16' } })
  ).body.subnet;
  const refused = await api('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { subnet_id: overlap.id });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.match(refused.body.NeutronError.message, /overlaps/);
});

test('a gateway on a network that does not exist is 404 NetworkNotFound', async () => {
  const r = (await api('POST', '/v2.0/routers', { router: { name: 'g' } })).body.router;
  const res = await api('PUT', `/v2.0/routers/${r.id}`, {
    router: { external_gateway_info: { network_id: 'nw-nothere' } },
  });
  assert.equal(res.status, 404, JSON.stringify(res.body));
  assert.equal(res.body.NeutronError.type, 'NetworkNotFound');
});

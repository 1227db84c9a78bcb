// Neutron semantics Tempest's network API tests caught (scripts/tempest.mjs, docs/neutron.md "Tempest"): bodiless
// requests with Content-Type: application/json, bulk create, the fixed_ips filter, a network owner's MAC, the
// default security group's name, and security group rules' port checks with Neutron's messages.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { insertToken } from '../../src/server/auth/token-rows.js';
import { buildNeutronApp } from '../../src/server/neutron/app.js';
import { startServer, type TestServer } from './helpers.js';

let s: TestServer;
let neutron: FastifyInstance;
let member: string;

before(async () => {
  s = await startServer({ listen: false });
  neutron = await buildNeutronApp({ service: s.service, mode: 'local' });
  await neutron.ready();
  const { result } = await s.service.write((ctx) => insertToken(ctx, { role: 'member', project_id: 'p1' }));
  member = result.token;
});
after(async () => {
  await neutron.close();
  await s.close();
});

/** As Tempest sends everything: Content-Type: application/json, with or without a body. */
async function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token?: string) {
  const r = await neutron.inject({
    method,
    url,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.body === '' ? undefined : JSON.parse(r.body) };
}

test('a DELETE or GET with Content-Type: application/json and no body is served', async () => {
  const n = await api('POST', '/v2.0/networks', { network: { name: 'n' } });
  assert.equal(n.status, 201);
  assert.equal((await api('GET', `/v2.0/networks/${n.body.network.id}`)).status, 200);
  assert.equal((await api('DELETE', `/v2.0/networks/${n.body.network.id}`)).status, 204);
  // A POST still needs its body.
  assert.equal((await api('POST', '/v2.0/networks')).status, 400);
});

test('bulk create: all in one answer, or none when one is refused', async () => {
  const made = await api('POST', '/v2.0/networks', { networks: [{ name: 'b1' }, { name: 'b2' }] });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.deepEqual(
    made.body.networks.map((n: { name: string }) => n.name),
    ['b1', 'b2'],
  );
  const subnets = await api('POST', '/v2.0/subnets', {
    subnets: made.body.networks.map((n: { id: string }, i: number) => ({
      network_id: n.id,
      ip_version: 4,
      cidr: `10.60.${i}.0/24`,
    })),
  });
  assert.equal(subnets.status, 201, JSON.stringify(subnets.body));
  assert.equal(subnets.body.subnets.length, 2);
  const refused = await api('POST', '/v2.0/networks', { networks: [{ name: 'b3' }, { name: 'b4', bogus: 1 }] });
  assert.equal(refused.status, 400);
  const names = (await api('GET', '/v2.0/networks?name=b3')).body.networks;
  assert.deepEqual(names, []);
});

test('ports filtered by fixed_ips=ip_address=… and subnet_id=…', async () => {
  const net = (await api('POST', '/v2.0/networks', { network: { name: 'f' } })).body.network;
  const sub = (
    await api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.61.0.0/24' } })
  ).body.subnet;
  const a = (await api('POST', '/v2.0/ports', { port: { network_id: net.id } })).body.port;
  await api('POST', '/v2.0/ports', { port: { network_id: net.id } }); // another port on the same subnet: filtered out
  const ip = a.fixed_ips[0].ip_address;
  const hits = (await api('GET', `/v2.0/ports?fixed_ips=ip_address%3D${ip}`)).body.ports;
  assert.deepEqual(
    hits.map((p: { id: string }) => p.id),
    [a.id],
  );
  // Every port with an address there (the subnet's DHCP port too), and only those.
  const bySubnet = (await api('GET', `/v2.0/ports?fixed_ips=subnet_id%3D${sub.id}`)).body.ports;
  const all = (await api('GET', `/v2.0/ports?network_id=${net.id}`)).body.ports;
  assert.ok(bySubnet.length >= 2);
  assert.deepEqual(bySubnet, all);
  assert.equal((await api('GET', `/v2.0/ports?fixed_ips=subnet_id%3Dsn-none`)).body.ports.length, 0);
});

test("a member may choose a port's MAC on its own network, not on another's, and may not change it", async () => {
  const mine = (await api('POST', '/v2.0/networks', { network: { name: 'm' } }, member)).body.network;
  const port = await api(
    'POST',
    '/v2.0/ports',
    { port: { network_id: mine.id, mac_address: '02:00:00:00:61:01' } },
    member,
  );
  assert.equal(port.status, 201, JSON.stringify(port.body));
  assert.equal(port.body.port.mac_address, '02:00:00:00:61:01');
  const change = await api(
    'PUT',
    `/v2.0/ports/${port.body.port.id}`,
    { port: { mac_address: '02:00:00:00:61:02' } },
    member,
  );
  assert.equal(change.status, 403);
  const shared = (await api('POST', '/v2.0/networks', { network: { name: 'shared', shared: true } })).body.network;
  const other = await api(
    'POST',
    '/v2.0/ports',
    { port: { network_id: shared.id, mac_address: '02:00:00:00:61:03' } },
    member,
  );
  assert.equal(other.status, 403);
  assert.equal(other.body.NeutronError.type, 'PolicyNotAuthorized');
});

test("no group is renamed to 'default', and the default group keeps its name", async () => {
  const g = (await api('POST', '/v2.0/security-groups', { security_group: { name: 'web' } }, member)).body
    .security_group;
  const r = await api('PUT', `/v2.0/security-groups/${g.id}`, { security_group: { name: 'default' } }, member);
  assert.equal(r.status, 409);
  assert.equal(r.body.NeutronError.type, 'SecurityGroupDefaultAlreadyExists');
  const groups = (await api('GET', '/v2.0/security-groups?name=default', undefined, member)).body.security_groups;
  const d = await api('PUT', `/v2.0/security-groups/${groups[0].id}`, { security_group: { name: 'x' } }, member);
  assert.equal(d.status, 409);
  assert.equal(d.body.NeutronError.type, 'SecurityGroupCannotUpdateDefault');
  assert.equal(
    (await api('PUT', `/v2.0/security-groups/${g.id}`, { security_group: { description: 'd' } }, member)).status,
    200,
  );
});

test("security group rules' ports: Neutron's checks and messages", async () => {
  const g = (await api('POST', '/v2.0/security-groups', { security_group: { name: 'ports' } })).body.security_group;
  const rule = (protocol: string, min: number | null, max: number | null) =>
    api('POST', '/v2.0/security-group-rules', {
      security_group_rule: {
        security_group_id: g.id,
        direction: 'ingress',
        protocol,
        port_range_min: min,
        port_range_max: max,
      },
    });
  for (const [protocol, min, max, message] of [
    ['tcp', -16, 80, 'Invalid value for port -16'],
    ['tcp', 80, 79, 'port_range_min must be <= port_range_max'],
    ['tcp', 80, 65536, 'Invalid value for port 65536'],
    ['tcp', null, 6, 'port_range_min must be <= port_range_max'],
    ['icmp', 1, 256, 'Invalid value for ICMP code'],
    ['icmp', -1, 25, 'Invalid value'],
    ['icmp', null, 6, 'ICMP type (port-range-min) is missing'],
    ['icmp', 300, 1, 'Invalid value for ICMP type'],
  ] as const) {
    const r = await rule(protocol, min, max);
    assert.equal(r.status, 400, `${protocol} ${min}-${max}`);
    assert.ok(r.body.NeutronError.message.includes(message), `${r.body.NeutronError.message} ∌ ${message}`);
  }
  assert.equal((await rule('tcp', 22, 22)).status, 201);
  assert.equal((await rule('udp', 53, null)).status, 201); // vnet's leniency: one port
});

// The minimal Keystone v3 on the Neutron listener (src/server/neutron/keystone.ts): password logins mint vnet
// tokens in the user's project, the Neutron routes take them, and a member's token sees only its project.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildNeutronApp } from '../../src/server/neutron/app.js';
import { parseKeystoneUsers, stableId } from '../../src/server/neutron/keystone.js';
import { startServer, type TestServer } from './helpers.js';

const USERS = `
- {name: admin, password: adminpw, project: admin, roles: [admin]}
- {name: demo, password: demopw, project: demo, roles: [member]}
- {name: demo2, password: demo2pw, project: demo2, project_id: p-demo2, roles: [member]}
`;

let s: TestServer;
let neutron: FastifyInstance;

before(async () => {
  s = await startServer({ listen: false, auth: { mode: 'tokens' } });
  neutron = await buildNeutronApp({ service: s.service, mode: 'tokens', keystoneUsers: parseKeystoneUsers(USERS) });
  await neutron.ready();
});
after(async () => {
  await neutron.close();
  await s.close();
});

const login = (name: string, password: string, scope?: unknown) =>
  neutron.inject({
    method: 'POST',
    url: '/identity/v3/auth/tokens',
    headers: { host: 'neutron.example:9696' },
    payload: {
      auth: {
        identity: { methods: ['password'], password: { user: { name, password, domain: { name: 'Default' } } } },
        ...(scope ? { scope } : {}),
      },
    },
  });

async function tokenOf(name: string, password: string): Promise<string> {
  const r = await login(name, password);
  assert.equal(r.statusCode, 201, r.body);
  return r.headers['x-subject-token'] as string;
}

const api = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  neutron.inject({ method, url, headers: { 'x-auth-token': token }, ...(payload ? { payload } : {}) });

test('version discovery and login need no token; the token body carries the catalog back to this listener', async () => {
  const v = await neutron.inject({ method: 'GET', url: '/identity/v3', headers: { host: 'neutron.example:9696' } });
  assert.equal(v.statusCode, 200);
  assert.equal(v.json().version.status, 'stable');
  assert.equal(v.json().version.links[0].href, 'http://neutron.example:9696/identity/v3/');

  const r = await login('demo', 'demopw', { project: { name: 'demo', domain: { name: 'Default' } } });
  assert.equal(r.statusCode, 201, r.body);
  assert.match(String(r.headers['x-subject-token']), /^tk-/);
  const t = r.json().token;
  assert.equal(t.user.name, 'demo');
  assert.equal(t.project.id, stableId('project', 'demo'));
  assert.deepEqual(
    t.roles.map((x: { name: string }) => x.name),
    ['member'],
  );
  assert.ok(Date.parse(t.expires_at) > Date.now() + 3000_000);
  assert.match(t.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const network = t.catalog.find((c: { type: string }) => c.type === 'network');
  assert.equal(network.endpoints[0].url, 'http://neutron.example:9696');
  assert.equal(network.endpoints[0].region, 'RegionOne');
  const identity = t.catalog.find((c: { type: string }) => c.type === 'identity');
  assert.equal(identity.endpoints[0].url, 'http://neutron.example:9696/identity');

  // The token is a vnet token: the Neutron routes take it, and it validates through Keystone's GET.
  const token = r.headers['x-subject-token'] as string;
  assert.equal((await api(token, 'GET', '/v2.0/networks')).statusCode, 200);
  const check = await neutron.inject({
    method: 'GET',
    url: '/identity/v3/auth/tokens',
    headers: { 'x-auth-token': token, 'x-subject-token': token },
  });
  assert.equal(check.statusCode, 200, check.body);
  assert.equal(check.json().token.project.name, 'demo');
});

test('a wrong password, an unknown user, another domain or another project: 401 in Keystone error shape', async () => {
  for (const r of [
    await login('demo', 'wrong'),
    await login('demo', ''),
    await login('nobody', 'demopw'),
    await login('demo', 'demopw', { project: { name: 'demo2', domain: { name: 'Default' } } }),
    await login('demo', 'demopw', { project: { id: 'p-demo2' } }),
  ]) {
    assert.equal(r.statusCode, 401, r.body);
    assert.equal(r.json().error.code, 401);
    assert.equal(r.json().error.title, 'Unauthorized');
    assert.equal(r.headers['x-subject-token'], undefined);
  }
  const otherDomain = await neutron.inject({
    method: 'POST',
    url: '/identity/v3/auth/tokens',
    payload: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'demo', password: 'demopw', domain: { name: 'Other' } } },
        },
      },
    },
  });
  assert.equal(otherDomain.statusCode, 401);
  const byId = await neutron.inject({
    method: 'POST',
    url: '/identity/v3/auth/tokens',
    payload: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { id: stableId('user', 'demo2'), password: 'demo2pw' } },
        },
      },
    },
  });
  assert.equal(byId.statusCode, 201, byId.body);
  assert.equal(byId.json().token.project.id, 'p-demo2');
  const token = await neutron.inject({
    method: 'POST',
    url: '/identity/v3/auth/tokens',
    payload: { auth: { identity: { methods: ['token'], token: { id: 'x' } } } },
  });
  assert.equal(token.statusCode, 400);
  // Other identity routes are not public: without a token, the listener's 401.
  assert.equal((await neutron.inject({ method: 'GET', url: '/identity/v3/auth/tokens' })).statusCode, 401);
});

test("a member's token sees and changes only its project; the admin's sees all", async () => {
  const demo = await tokenOf('demo', 'demopw');
  const demo2 = await tokenOf('demo2', 'demo2pw');
  const admin = await tokenOf('admin', 'adminpw');
  const mine = await api(demo, 'POST', '/v2.0/networks', { network: { name: 'demo-net' } });
  assert.equal(mine.statusCode, 201, mine.body);
  const net = mine.json().network;
  assert.equal(net.project_id, stableId('project', 'demo'));
  const theirs = await api(demo2, 'POST', '/v2.0/networks', { network: { name: 'demo2-net' } });
  assert.equal(theirs.json().network.project_id, 'p-demo2');

  const names = async (token: string) =>
    (await api(token, 'GET', '/v2.0/networks'))
      .json()
      .networks.map((n: { name: string }) => n.name)
      .sort();
  assert.deepEqual(await names(demo), ['demo-net']);
  assert.deepEqual(await names(demo2), ['demo2-net']);
  assert.deepEqual(await names(admin), ['demo-net', 'demo2-net']);
  assert.equal((await api(demo2, 'GET', `/v2.0/networks/${net.id}`)).statusCode, 404);
  assert.equal((await api(demo2, 'PUT', `/v2.0/networks/${net.id}`, { network: { name: 'x' } })).statusCode, 404);
  assert.equal((await api(demo2, 'DELETE', `/v2.0/networks/${net.id}`)).statusCode, 404);
  assert.equal((await api(admin, 'DELETE', `/v2.0/networks/${net.id}`)).statusCode, 204);
  // A member may not name another project.
  const forged = await api(demo, 'POST', '/v2.0/networks', { network: { name: 'n', project_id: 'p-demo2' } });
  assert.equal(forged.statusCode, 403);
});

test('a login prunes the expired tokens of earlier logins', async () => {
  await tokenOf('demo', 'demopw');
  const logins = async () =>
    (await s.service.read((ctx) => ctx.tx.find('tokens'))).filter((t) =>
      String(t.display_name).startsWith('keystone login: '),
    );
  const before = await logins();
  assert.ok(before.length >= 2);
  await s.service.write(async (ctx) => {
    for (const t of before) await ctx.wtx.update('tokens', { ...t, expires_at: '2000-01-01T00:00:00.000Z' });
  });
  const token = await tokenOf('demo', 'demopw');
  const left = await logins();
  assert.equal(left.length, 1);
  assert.equal(token.split('.')[0], left[0]!.uuid);
});

test('the users file: bad entries are refused with where they are', () => {
  assert.throws(() => parseKeystoneUsers('- {name: a, password: p, project: x, roles: [owner]}'), /user 1: roles/);
  assert.throws(() => parseKeystoneUsers('- {name: a, project: x}'), /user 1: password/);
  assert.throws(
    () => parseKeystoneUsers('- {name: a, password: p, project: x}\n- {name: a, password: q, project: y}'),
    /user 2: user a appears twice/,
  );
  assert.throws(() => parseKeystoneUsers('- {name: a, password: p, project: x, extra: 1}'), /unknown key extra/);
  const [u] = parseKeystoneUsers('users:\n  - {name: a, password: p, project: x}');
  assert.deepEqual(u!.roles, ['member']);
  assert.equal(u!.project.id, stableId('project', 'x'));
});

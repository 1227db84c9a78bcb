// Keystone logins are rate limited (src/server/neutron/keystone.ts LOGIN_RATES), through real HTTP: a user name
// tried more than its burst gets 429 with Retry-After — even with the right password, and before the password is
// looked at — and the refusal is logged; other names are still served until the source's own bucket is empty.
// The buckets are the default sizes, refilled a thousand times slower so a slow machine does not refill them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildNeutronApp } from '../../src/server/neutron/app.js';
import { LOGIN_RATES as DEFAULT_RATES, parseKeystoneUsers } from '../../src/server/neutron/keystone.js';

const LOGIN_RATES = {
  perUser: { ...DEFAULT_RATES.perUser, perSecond: DEFAULT_RATES.perUser.perSecond / 1000 },
  perSource: { ...DEFAULT_RATES.perSource, perSecond: DEFAULT_RATES.perSource.perSecond / 1000 },
};
import { startServer, type TestServer } from './helpers.js';

const USERS = `
- {name: alice, password: alicepw, project: demo, roles: [member]}
- {name: bob, password: bobpw, project: demo, roles: [member]}
`;
const lines: Record<string, unknown>[] = [];
let s: TestServer;
let neutron: FastifyInstance;
let base = '';

before(async () => {
  s = await startServer({ listen: false, auth: { mode: 'tokens' } });
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  neutron = await buildNeutronApp({
    service: s.service,
    mode: 'tokens',
    keystoneUsers: parseKeystoneUsers(USERS),
    loginRates: LOGIN_RATES,
    logger,
  });
  const address = await neutron.listen({ host: '127.0.0.1', port: 0 });
  base = address;
});
after(async () => {
  await neutron.close();
  await s.close();
});

const login = (name: string, password: string) =>
  fetch(`${base}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user: { name, password, domain: { id: 'default' } } } } },
    }),
  });

test('a name tried beyond its burst is refused with 429 and Retry-After, logged; other names still log in', async () => {
  const burst = LOGIN_RATES.perUser.burst;
  for (let i = 0; i < burst - 1; i++) assert.equal((await login('alice', `guess${i}`)).status, 401, `guess ${i}`);
  assert.equal((await login('alice', 'alicepw')).status, 201, 'the last attempt of the burst, right password');
  const refused = await login('alice', 'alicepw');
  assert.equal(refused.status, 429, 'over the limit: refused even with the right password');
  const wait = Number(refused.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= Math.ceil(1 / LOGIN_RATES.perUser.perSecond), `Retry-After ${wait}`);
  const body = (await refused.json()) as { error: { code: number; title: string } };
  assert.equal(body.error.code, 429);
  assert.equal(body.error.title, 'Too Many Requests');
  assert.equal(refused.headers.get('x-subject-token'), null);
  const line = lines.find((l) => l.msg === 'keystone login refused: too many attempts');
  assert.ok(line, JSON.stringify(lines.slice(-3)));
  assert.equal(line.user, 'alice');
  assert.equal(line.source, '127.0.0.1');
  // Another user from the same address is still served (the address's bucket is bigger).
  assert.equal((await login('bob', 'bobpw')).status, 201);
});

test('one address trying many names is refused once its own bucket is empty', async () => {
  const left = LOGIN_RATES.perSource.burst - LOGIN_RATES.perUser.burst - 2; // the first test's attempts
  for (let i = 0; i < left; i++) assert.equal((await login(`nobody${i}`, 'x')).status, 401, `name ${i}`);
  const r = await login('bob', 'bobpw');
  assert.equal(r.status, 429, 'the address is over its limit');
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
});

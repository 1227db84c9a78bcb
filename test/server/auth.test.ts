// Who may do what, through real HTTP: 401 without a valid token on every endpoint of a server that requires
// tokens, roles (reader, agent, enrollment), an agent confined to its own node's rows, revocation and expiry,
// tokens never in the feed, and local trust's Host and Origin checks (DNS rebinding, CSRF).
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bootstrapAdminToken } from '../../src/server/auth/token-rows.js';
import { startServer, type TestServer } from './helpers.js';

interface Sent {
  status: number;
  body: any;
}

async function send(
  s: TestServer,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(s.base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

function expect(r: Sent, status: number, what: string): any {
  assert.equal(r.status, status, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

describe('a server that requires tokens', () => {
  let s: TestServer;
  let admin: string;
  before(async () => {
    s = await startServer({ auth: { mode: 'tokens' } });
    const file = join(mkdtempSync(join(tmpdir(), 'vnet-auth-')), 'admin.token');
    assert.equal(await bootstrapAdminToken(s.service, file), file);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the admin token file is private');
    admin = readFileSync(file, 'utf8').trim();
    assert.equal(await bootstrapAdminToken(s.service, `${file}.2`), null, 'an admin token exists: none minted');
  });
  after(() => s.close());

  test('every endpoint answers 401 without a valid token, before looking at the request', async () => {
    const doc = expect(await send(s, 'GET', '/api/openapi.json', { token: admin }), 200, 'openapi');
    const routes: [string, string][] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>))
      for (const method of Object.keys(ops)) routes.push([method.toUpperCase(), path]);
    assert.ok(routes.length > 60, `${routes.length} routes`);
    const bad = ['', 'Bearer', 'Bearer nonsense', `Bearer ${admin.slice(0, -1)}x`, 'Basic YWRtaW46YWRtaW4='];
    for (const [method, path] of [...routes, ['GET', '/api/openapi.json'], ['GET', '/api/1.0/nowhere']] as const) {
      const url = path.replace(/\{(\w+)\}/g, 'x-1');
      for (const authorization of bad) {
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const r = await send(s, method, url, {
          headers,
          body: method === 'GET' || method === 'DELETE' ? undefined : '{',
        });
        // The topology page's files (access `page`) and the health probes (`probe`) hold no data and need no
        // token; a token given is checked.
        if ((url.startsWith('/ui') || url === '/healthz' || url === '/readyz') && authorization === '') {
          assert.equal(r.status, 200, `${method} ${url} without a token`);
          continue;
        }
        assert.equal(r.status, 401, `${method} ${url} with '${authorization}': ${r.status} ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, '130');
      }
    }
  });

  test('X-Auth-Token works as well as Authorization: Bearer', async () => {
    expect(await send(s, 'GET', '/api/1.0/networks', { headers: { 'x-auth-token': admin } }), 200, 'x-auth-token');
  });

  test('a reader reads and writes nothing; a revoked or expired token is refused', async () => {
    const reader = expect(
      await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'reader', display_name: 'grafana' } }),
      200,
      'create reader',
    );
    assert.match(reader.token, /^tk-[a-z0-9]+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(reader.secret_sha256, undefined, 'the hash is never shown');
    expect(await send(s, 'GET', '/api/1.0/networks', { token: reader.token }), 200, 'reader lists');
    expect(await send(s, 'GET', '/api/1.0/feed/snapshot', { token: reader.token }), 200, 'reader snapshots');
    const denied = expect(
      await send(s, 'POST', '/api/1.0/networks', { token: reader.token, body: { ipv4_network: '10.9.0.0' } }),
      403,
      'reader creates',
    );
    assert.equal(denied.code, '131');
    expect(await send(s, 'GET', '/api/1.0/tokens', { token: reader.token }), 403, 'reader lists tokens');
    const listed = expect(await send(s, 'GET', '/api/1.0/tokens?role=reader', { token: admin }), 200, 'list');
    assert.deepEqual(
      listed.items.map((t: { uuid: string }) => t.uuid),
      [reader.uuid],
    );
    assert.ok(listed.items.every((t: object) => !('secret_sha256' in t) && !('token' in t)));
    expect(await send(s, 'DELETE', `/api/1.0/tokens/${reader.uuid}`, { token: admin }), 200, 'revoke');
    expect(await send(s, 'GET', '/api/1.0/networks', { token: reader.token }), 401, 'revoked');

    const short = expect(
      await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'reader', expires_in: 60 } }),
      200,
      'create expiring',
    );
    expect(await send(s, 'GET', '/api/1.0/networks', { token: short.token }), 200, 'before expiry');
    await s.service.write(async (ctx) => {
      const row = (await ctx.wtx.get('tokens', short.uuid))!;
      await ctx.wtx.update('tokens', { ...row, expires_at: new Date(Date.now() - 1000).toISOString() });
    });
    const expired = expect(await send(s, 'GET', '/api/1.0/networks', { token: short.token }), 401, 'expired');
    assert.match(expired.message, /expired/);
  });

  test('token parameters are checked and named', async () => {
    const noNode = expect(
      await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'agent' } }),
      400,
      'x',
    );
    assert.equal(noNode.field, 'node_id');
    const role = expect(await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'root' } }), 400, 'x');
    assert.equal(role.field, 'role');
    const node = expect(
      await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'reader', node_id: 'h1' } }),
      400,
      'x',
    );
    assert.equal(node.field, 'node_id');
    const t = expect(await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'reader' } }), 200, 'x');
    const renamed = expect(
      await send(s, 'PUT', `/api/1.0/tokens/${t.uuid}`, { token: admin, body: { display_name: 'ui' } }),
      200,
      'rename',
    );
    assert.equal(renamed.display_name, 'ui');
    const immutable = expect(
      await send(s, 'PUT', `/api/1.0/tokens/${t.uuid}`, { token: admin, body: { role: 'admin' } }),
      400,
      'promote',
    );
    assert.deepEqual([immutable.code, immutable.field], ['121', 'role']);
  });

  test('an agent writes only its own node’s datapath status and bindings', async () => {
    const mk = async (path: string, body: object) =>
      expect(await send(s, 'POST', `/api/1.0${path}`, { token: admin, body }), 200, `POST ${path}`);
    await mk('/datapaths', { uuid: 'dp-ha', dpid: '0xa1', node_id: 'ha' });
    await mk('/datapaths', { uuid: 'dp-hb', dpid: '0xb1', node_id: 'hb' });
    await mk('/networks', { uuid: 'nw-auth', ipv4_network: '10.50.0.0', ipv4_prefix: 24 });
    await mk('/interfaces', { uuid: 'if-va', network_uuid: 'nw-auth', mac_address: '02:00:00:00:50:01' });
    await mk('/interfaces', { uuid: 'if-vb', network_uuid: 'nw-auth', mac_address: '02:00:00:00:50:02' });
    const agent = (await mk('/tokens', { role: 'agent', node_id: 'ha' })).token as string;
    const status = { is_connected: true, flows_in_sync: true, reported_node_id: 'ha' };
    const put = (path: string, body: object) => send(s, 'PUT', `/api/1.0${path}`, { token: agent, body });

    expect(await put('/datapaths/dp-ha/status', status), 200, 'own status');
    const other = expect(await put('/datapaths/dp-hb/status', { ...status, ipv4_address: '6.6.6.6' }), 403, 'other');
    assert.match(other.message, /dp-hb/);
    expect(
      await put('/interfaces/if-va/binding', {
        status: 'up',
        active_datapath_uuid: 'dp-ha',
        active_port_name: 'tap-va',
      }),
      200,
      'bind',
    );
    const steal = expect(
      await put('/interfaces/if-va/binding', { status: 'up', active_datapath_uuid: 'dp-hb' }),
      403,
      'redirect',
    );
    assert.equal(steal.field, 'active_datapath_uuid');
    // if-vb is bound on hb (by an admin here); ha's agent cannot release it…
    expect(
      await send(s, 'PUT', '/api/1.0/interfaces/if-vb/binding', {
        token: admin,
        body: { status: 'up', active_datapath_uuid: 'dp-hb', active_port_name: 'tap-vb' },
      }),
      200,
      'admin binds',
    );
    // Releasing it changes nothing (the report crossed hb's claim): the object as it is, not a refusal to retry.
    const moot = expect(await put('/interfaces/if-vb/binding', { status: 'down' }), 200, 'moot release');
    assert.equal(moot.active_datapath_uuid, 'dp-hb');
    assert.equal(moot.status, 'up');
    // …but a VM that moved to ha is claimed by ha's agent (live migration), and released by it.
    expect(
      await put('/interfaces/if-vb/binding', {
        status: 'up',
        active_datapath_uuid: 'dp-ha',
        active_port_name: 'tap-vb',
      }),
      200,
      'claim',
    );
    expect(await put('/interfaces/if-vb/binding', { status: 'down' }), 200, 'release own');

    expect(
      await send(s, 'POST', '/api/1.0/networks', { token: agent, body: { ipv4_network: '10.51.0.0' } }),
      403,
      'net',
    );
    expect(await send(s, 'DELETE', '/api/1.0/datapaths/dp-hb', { token: agent }), 403, 'delete');
    expect(await send(s, 'PUT', '/api/1.0/datapaths/dp-ha', { token: agent, body: { node_id: 'x' } }), 403, 'modify');
    const reg = (node_id: string, dpid: string) =>
      send(s, 'POST', '/api/1.0/datapaths', { token: agent, body: { dpid, node_id } });
    expect(await reg('hb', '0xb2'), 403, 'register for another node');
    expect(await reg('ha', '0xa2'), 200, 'register its own');
    expect(await send(s, 'GET', '/api/1.0/feed/changes?since=0&node_id=hb', { token: agent }), 403, 'presence of hb');
    expect(await send(s, 'GET', '/api/1.0/feed/snapshot', { token: agent }), 200, 'the agent reads everything');
  });

  test('an enrollment token is traded once for an agent token of its node, and does nothing else', async () => {
    const enroll = expect(
      await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'enrollment', node_id: 'hc' } }),
      200,
      'issue',
    );
    assert.ok(Date.parse(enroll.expires_at) - Date.now() <= 3600_000, 'enrollment tokens expire within an hour');
    expect(await send(s, 'GET', '/api/1.0/networks', { token: enroll.token }), 403, 'reads');
    const got = expect(
      await send(s, 'POST', '/api/1.0/tokens/enroll', { token: enroll.token, body: {} }),
      200,
      'enroll',
    );
    assert.equal(got.role, 'agent');
    assert.equal(got.node_id, 'hc');
    assert.equal(got.expires_at, null);
    expect(await send(s, 'POST', '/api/1.0/tokens/enroll', { token: enroll.token, body: {} }), 401, 'used twice');
    expect(await send(s, 'GET', '/api/1.0/networks', { token: got.token }), 200, 'the agent token works');
    expect(
      await send(s, 'POST', '/api/1.0/tokens/enroll', { token: got.token, body: {} }),
      403,
      'agents do not enroll',
    );
  });

  test('request rates are limited per credential by role (429 with Retry-After); admins are not', async () => {
    const reader = expect(
      await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'reader' } }),
      200,
      'reader',
    );
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    // Until the first 429 (at most 2,000 requests), 13 at a time: a reader has a burst of 200 and 50 more per
    // second, so how many pass depends on how fast the server answers (~4 ms a request on SQLite, ~10 on
    // PostgreSQL on a loaded machine, where 260 one by one let the refill keep up and no 429 ever came).
    const t0 = performance.now();
    while (!statuses.includes(429) && statuses.length < 2000)
      await Promise.all(
        Array.from({ length: 13 }, async () => {
          const res = await fetch(`${s.base}/api/1.0/networks?limit=1`, {
            headers: { authorization: `Bearer ${reader.token}` },
          });
          statuses.push(res.status);
          if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
          await res.text();
        }),
      );
    const seconds = (performance.now() - t0) / 1000;
    const passed = statuses.filter((x) => x === 200).length;
    assert.ok(
      statuses.every((x) => x === 200 || x === 429),
      `200 or 429 only: ${statuses}`,
    );
    assert.ok(passed >= 200, `the burst (200) passes: ${passed}`);
    assert.ok(statuses.includes(429), 'then the reader is slowed down');
    assert.ok(
      passed <= 200 + 50 * seconds + 13,
      `no more than the burst and 50/s pass: ${passed} in ${seconds.toFixed(2)} s`,
    );
    assert.ok(Number(retryAfter) >= 1, `Retry-After: ${retryAfter}`);
    for (let i = 0; i < 300; i++)
      expect(await send(s, 'GET', '/api/1.0/networks?limit=1', { token: admin }), 200, 'admin');
  });

  test('tokens are never in the snapshot or the change feed', async () => {
    const before = await s.service.snapshot();
    await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'reader' } });
    const after = await s.service.snapshot();
    assert.equal(after.revision, before.revision, 'creating a token is no change of the model');
    assert.ok(!('tokens' in after.resources));
  });
});

describe('a loopback-only server (local trust)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ auth: { mode: 'local' } });
  });
  after(() => s.close());

  test('serves local users without a token, and checks a token that is given', async () => {
    expect(await send(s, 'GET', '/api/1.0/networks'), 200, 'no token');
    expect(
      await send(s, 'POST', '/api/1.0/networks', { body: { uuid: 'nw-local', ipv4_network: '10.1.0.0' } }),
      200,
      'w',
    );
    expect(
      await send(s, 'GET', '/api/1.0/networks', { token: 'tk-nope.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
      401,
      'x',
    );
  });

  test('a foreign Host header is refused (DNS rebinding)', async () => {
    // fetch will not send a Host of our choosing; node:http will.
    const get = (host: string) =>
      new Promise<Sent>((resolve, reject) => {
        const req = httpRequest(`${s.base}/api/1.0/networks`, { headers: { host } }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end();
      });
    const r = expect(await get('evil.example:9090'), 403, 'host');
    assert.match(r.message, /evil\.example/);
    expect(await get('localhost:9090'), 200, 'localhost');
    expect(await get('127.0.0.1'), 200, '127.0.0.1');
  });

  test('cross-origin writes are refused (CSRF), same-origin ones pass', async () => {
    const form = {
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'direction=ingress&protocol=tcp&remote_ip_prefix=0.0.0.0/0',
    };
    expect(await send(s, 'POST', '/api/1.0/security_groups', form), 403, 'cross-origin form post');
    expect(
      await send(s, 'POST', '/api/1.0/security_groups', { headers: { 'sec-fetch-site': 'cross-site' }, body: {} }),
      403,
      'Sec-Fetch-Site',
    );
    expect(
      await send(s, 'POST', '/api/1.0/security_groups', { headers: { origin: 'null' }, body: {} }),
      403,
      'opaque origin',
    );
    const host = new URL(s.base).host;
    expect(
      await send(s, 'POST', '/api/1.0/security_groups', { headers: { origin: `http://${host}` }, body: {} }),
      200,
      'same origin',
    );
  });
});

describe('the audit trail', () => {
  let s: TestServer;
  let admin: string;
  before(async () => {
    s = await startServer({ auth: { mode: 'tokens' } });
    const file = join(mkdtempSync(join(tmpdir(), 'vnet-audit-')), 'admin.token');
    await bootstrapAdminToken(s.service, file);
    admin = readFileSync(file, 'utf8').trim();
  });
  after(() => s.close());

  test('every write that changed the model has an entry naming who, what and the revisions, in its transaction', async () => {
    const adminId = admin.split('.')[0];
    const nw = await send(s, 'POST', '/api/1.0/networks', { token: admin, body: { ipv4_network: '10.80.0.0' } });
    expect(nw, 200, 'create');
    const agent = expect(
      await send(s, 'POST', '/api/1.0/tokens', { token: admin, body: { role: 'agent', node_id: 'ha' } }),
      200,
      'agent token',
    );
    expect(
      await send(s, 'POST', '/api/1.0/datapaths', {
        token: agent.token,
        body: { uuid: 'dp-au', dpid: '0xa9', node_id: 'ha' },
      }),
      200,
      'register',
    );
    expect(await send(s, 'POST', '/api/1.0/networks', { token: admin, body: { ipv4_network: 'bad' } }), 400, 'refused');
    // Agents' reports are their account of their hosts, not audited.
    expect(
      await send(s, 'PUT', '/api/1.0/datapaths/dp-au/status', {
        token: agent.token,
        body: { is_connected: true, flows_in_sync: true, reported_node_id: 'ha' },
      }),
      200,
      'report',
    );
    const trail = expect(await send(s, 'GET', '/api/1.0/audit_events', { token: admin }), 200, 'trail');
    const rows = trail.items.map((e: any) => [e.who, e.role, e.method, e.path]);
    assert.deepEqual(rows, [
      [adminId, 'admin', 'POST', '/api/1.0/networks'],
      [agent.uuid, 'agent', 'POST', '/api/1.0/datapaths'],
    ]);
    const changes = (await s.store.changesSince(0, 1000)).changes;
    const dpChange = changes.find((c) => c.uuid === 'dp-au')!;
    assert.equal(trail.items[1].revision, dpChange.revision, 'the entry names the revision its write made');
    const mine = expect(await send(s, 'GET', `/api/1.0/audit_events?who=${agent.uuid}`, { token: admin }), 200, 'x');
    assert.equal(mine.total_count, 1);
    expect(await send(s, 'GET', '/api/1.0/audit_events', { token: agent.token }), 403, 'agents do not read it');
  });
});

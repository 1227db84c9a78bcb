// What vnet does not do is refused, never stored to be ignored (issue 19 item 8): every request below answers 400
// NotSupported (code 125) naming its field; docs/api.md's "Not implemented" list names exactly the fields the code
// refuses with NotSupported; and OpenVNet's interface associations (item 5) behave as documented.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fails, ok, startServer, type TestServer } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

type Call = [method: string, path: string, params?: Record<string, unknown>];
/** One unsupported request, the objects it needs first, and the field it must be refused for. */
const REFUSED: { what: string; setup: Call[]; request: Call; field: string }[] = [
  {
    what: 'network on a segment',
    setup: [],
    request: ['POST', '/api/networks', { ipv4_network: '10.9.0.0', segment_uuid: 'seg-n' }],
    field: 'segment_uuid',
  },
  {
    what: 'segment on a simulated interface',
    setup: [],
    request: ['POST', '/api/interfaces', { mode: 'simulated', segment_uuid: 'seg-n' }],
    field: 'segment_uuid',
  },
  {
    what: 'lease policy timing dhcp',
    setup: [],
    request: ['POST', '/api/lease_policies', { timing: 'dhcp' }],
    field: 'timing',
  },
  {
    what: 'static association with a second network',
    setup: [['POST', '/api/networks', { uuid: 'nw-n2', ipv4_network: '10.8.0.0' }]],
    request: ['PUT', '/api/interfaces/if-n/networks/nw-n2', { static: true }],
    field: 'network_uuid',
  },
];

/** docs/api.md's "Not implemented" paragraph. */
function notImplementedDoc(): string {
  const md = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
  const start = md.indexOf('- **Not implemented**');
  assert.ok(start >= 0, 'docs/api.md has a "Not implemented" item');
  const end = md.indexOf('\n\n', start);
  return md.slice(start, end);
}

/** The fields the code refuses with NotSupported by name (a literal first argument). */
function refusedInCode(): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/new NotSupported\(\s*'([a-z_]+)'/g)) out.add(m[1]!);
    }
  };
  walk(join(ROOT, 'src'));
  return out;
}

describe('not implemented', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ listen: false });
    await ok(s, 'POST', '/api/segments', { uuid: 'seg-n' });
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-n', ipv4_network: '10.7.0.0' });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-n',
      network_uuid: 'nw-n',
      mac_address: '02:00:00:07:00:02',
      ipv4_address: '10.7.0.2',
    });
  });
  after(() => s.close());

  it('each unsupported request is a 400 NotSupported naming its field, and nothing is stored', async () => {
    for (const r of REFUSED) {
      for (const [m, p, b] of r.setup) await ok(s, m, p, b ?? {});
      const before = (await s.store.changesSince(0, 1)).current;
      await fails(s, r.request[0], r.request[1], r.request[2] ?? {}, 400, '125', r.field);
      assert.equal((await s.store.changesSince(0, 1)).current, before, `${r.what} stored something`);
    }
  });

  it('docs/api.md lists exactly the fields the code refuses as not supported', () => {
    const doc = notImplementedDoc();
    const documented = new Set([...doc.matchAll(/\(`([a-z_]+)`\)/g)].map((m) => m[1]!));
    const code = refusedInCode();
    for (const f of code) assert.ok(documented.has(f), `NotSupported('${f}') in src/ is not in docs/api.md's list`);
    // segment_uuid is also refused through a variable (the field the request gave): it is in the code all the same.
    for (const f of documented) assert.ok(code.has(f), `docs/api.md lists (\`${f}\`) but nothing in src/ refuses it`);
    for (const r of REFUSED) assert.ok(documented.has(r.field), `${r.what}: ${r.field} not in the list`);
  });
});

describe('interface associations (OpenVNet PUT /interfaces/:uuid/{networks,segments,route_links}/:uuid static)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ listen: false });
    await ok(s, 'POST', '/api/segments', { uuid: 'seg-a' });
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-a', ipv4_network: '10.6.0.0' });
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-s', mac_address: '02:00:00:06:00:01' });
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-w', mac_address: '02:00:00:06:00:02' });
  });
  after(() => s.close());

  it('static=true puts the interface on the segment, GET lists it, static=false takes it off', async () => {
    assert.deepEqual(await ok(s, 'PUT', '/api/interfaces/if-s/segments/seg-a', {}), {});
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-s/segments')).total_count, 0);
    const row = await ok(s, 'PUT', '/api/interfaces/if-s/segments/seg-a', { static: true });
    assert.deepEqual(row, { interface_uuid: 'if-s', segment_uuid: 'seg-a', static: true });
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-s')).segment_uuid, 'seg-a');
    assert.deepEqual((await ok(s, 'GET', '/api/interfaces/if-s/segments')).items, [row]);
    await ok(s, 'PUT', '/api/interfaces/if-s/segments/seg-a', { static: false });
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-s')).segment_uuid, null);
    await fails(s, 'PUT', '/api/interfaces/if-s/segments/seg-a', { static: false }, 404, '114');
    await fails(s, 'PUT', '/api/interfaces/if-s/segments/seg-zz', { static: true }, 404, '100', 'segment_uuid');
  });

  it('static=true with a network keeps the interface in it without a lease; its leases make the rest', async () => {
    const row = await ok(s, 'PUT', '/api/interfaces/if-w/networks/nw-a', { static: true });
    assert.deepEqual(row, { interface_uuid: 'if-w', network_uuid: 'nw-a', static: true });
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-w')).network_uuid, 'nw-a');
    await ok(s, 'PUT', '/api/interfaces/if-w', { ipv4_address: '10.6.0.5' });
    assert.deepEqual((await ok(s, 'GET', '/api/interfaces/if-w/networks')).items, [
      { interface_uuid: 'if-w', network_uuid: 'nw-a', static: false },
    ]);
    await ok(s, 'PUT', '/api/interfaces/if-w/networks/nw-a', { static: false });
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-w')).ipv4_address, '10.6.0.5', 'the lease stays');
  });

  it('route links: routes make an association, static=true keeps one without them, deleting the link drops it', async () => {
    await ok(s, 'POST', '/api/route_links', { uuid: 'rl-a' });
    await ok(s, 'POST', '/api/route_links', { uuid: 'rl-b' });
    await ok(s, 'POST', '/api/routes', {
      uuid: 'r-a',
      interface_uuid: 'if-w',
      route_link_uuid: 'rl-a',
      ipv4_network: '10.6.0.0',
    });
    const list = async () => (await ok(s, 'GET', '/api/interfaces/if-w/route_links')).items;
    assert.deepEqual(await list(), [{ interface_uuid: 'if-w', route_link_uuid: 'rl-a', static: false }]);
    assert.deepEqual(await ok(s, 'PUT', '/api/interfaces/if-w/route_links/rl-b', {}), {});
    await fails(s, 'PUT', '/api/interfaces/if-w/route_links/rl-b', { static: false }, 404, '114');
    const row = await ok(s, 'PUT', '/api/interfaces/if-w/route_links/rl-b', { static: true });
    assert.deepEqual(row, { interface_uuid: 'if-w', route_link_uuid: 'rl-b', static: true });
    await ok(s, 'PUT', '/api/interfaces/if-w/route_links/rl-a', { static: true });
    assert.deepEqual(await list(), [
      { interface_uuid: 'if-w', route_link_uuid: 'rl-a', static: true },
      { interface_uuid: 'if-w', route_link_uuid: 'rl-b', static: true },
    ]);
    assert.deepEqual((await ok(s, 'GET', '/api/interfaces/if-w')).static_route_link_uuids, ['rl-a', 'rl-b']);
    // Not static any more: rl-a stays (its route makes it), rl-b goes.
    await ok(s, 'PUT', '/api/interfaces/if-w/route_links/rl-a', { static: false });
    await ok(s, 'PUT', '/api/interfaces/if-w/route_links/rl-b', { static: false });
    assert.deepEqual(await list(), [{ interface_uuid: 'if-w', route_link_uuid: 'rl-a', static: false }]);
    await ok(s, 'PUT', '/api/interfaces/if-w/route_links/rl-b', { static: true });
    await ok(s, 'DELETE', '/api/route_links/rl-b');
    assert.deepEqual((await ok(s, 'GET', '/api/interfaces/if-w')).static_route_link_uuids, []);
    await fails(s, 'PUT', '/api/interfaces/if-w/route_links/rl-zz', { static: true }, 404, '100', 'route_link_uuid');
  });
});

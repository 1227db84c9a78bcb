// GET /ui: the topology page's fixed list of files with their types and CSP, nothing else under /ui, the request
// guard in front (Host; a token server serves the files without a token but no data); and the page's graph
// model (ui/model.js) on the seed topology, kept current by the real change feed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedApiCalls } from '../../src/demo/seed.js';
import { UI_CSP, UI_FILES } from '../../src/server/routes/ui.js';
import { graphOf, layoutOf, Topology } from '../../ui/model.js';
import { adminToken, startServer, type TestServer } from './helpers.js';

describe('a local-trust server', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test('serves each file of the page with its type, the CSP and nosniff', async () => {
    for (const f of UI_FILES) {
      const res = await fetch(s.base + f.url);
      const body = await res.text();
      assert.equal(res.status, 200, `${f.url}: ${body.slice(0, 200)}`);
      assert.equal(
        res.headers.get('content-type'),
        {
          html: 'text/html; charset=utf-8',
          js: 'text/javascript; charset=utf-8',
          css: 'text/css; charset=utf-8',
        }[f.type],
      );
      assert.equal(res.headers.get('content-security-policy'), UI_CSP);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(body.length > 100, f.url);
    }
    assert.match(UI_CSP, /script-src 'self'(;|$)/);
    assert.doesNotMatch(UI_CSP, /unsafe/);
  });

  test('the page has no inline script or style, and everything it loads is served', async () => {
    const html = await (await fetch(`${s.base}/ui`)).text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'inline style or handler');
    const served = new Set(UI_FILES.map((f) => f.url));
    for (const m of html.matchAll(/\b(?:src|href)="(?!data:)([^"#]+)"/g))
      assert.ok(served.has(m[1]!), `${m[1]} not served`);
    const app = await (await fetch(`${s.base}/ui/app.js`)).text();
    for (const m of app.matchAll(/from '\.\/([^']+)'/g)) assert.ok(served.has(`/ui/${m[1]}`), `${m[1]} not served`);
  });

  test('nothing else under /ui: no traversal, no other file', async () => {
    for (const path of [
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/ui/..%2fpackage.json',
      '/ui/tsconfig.json',
      '/ui/vendor/cytoscape.esm.min.d.ts',
      '/ui/vendor/cytoscape.cjs.js',
      '/ui/index.html',
      '/ui//app.js',
      '/ui/app.js/',
    ]) {
      const res = await fetch(s.base + path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /"name": "vnet"|compilerOptions/, path);
    }
  });

  test('a Host that is not loopback is refused (DNS rebinding), as for the API', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/ui', headers: { host: 'evil.example:9090' } });
    assert.equal(res.statusCode, 403);
  });
});

describe('a server that requires tokens', () => {
  let s: TestServer;
  let admin: string;
  before(async () => {
    s = await startServer({ auth: { mode: 'tokens' } });
    admin = await adminToken(s);
  });
  after(() => s.close());

  test('serves the page without a token (a navigation cannot carry one), but no data', async () => {
    for (const f of UI_FILES) assert.equal((await fetch(s.base + f.url)).status, 200, f.url);
    for (const path of ['/api/1.0/feed/snapshot', '/api/1.0/networks', '/metrics'])
      assert.equal((await fetch(s.base + path)).status, 401, path);
    const bad = await fetch(`${s.base}/ui`, { headers: { authorization: 'Bearer tk-nope.x' } });
    assert.equal(bad.status, 401, 'a token given is checked');
    const ok = await fetch(`${s.base}/api/1.0/feed/snapshot`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(ok.status, 200);
  });
});

describe('the page model (ui/model.js)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  async function send(method: string, path: string, body?: Record<string, unknown>): Promise<any> {
    const res = await fetch(`${s.base}/api/1.0${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${text}`);
    return JSON.parse(text);
  }

  /** The change feed's events after `since` up to `until`, read as the page reads them (a fetch stream). */
  async function changes(since: number, until: number): Promise<any[]> {
    const stop = new AbortController();
    const res = await fetch(`${s.base}/api/1.0/feed/changes?since=${since}`, { signal: stop.signal });
    const out: any[] = [];
    const text = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body!) {
        buf += text.decode(chunk as Uint8Array, { stream: true });
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const record = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = /^data: (.*)$/m.exec(record);
          if (/^event: change$/m.test(record) && data) out.push(JSON.parse(data[1]!));
        }
        if (out.at(-1)?.revision >= until) break;
      }
    } finally {
      stop.abort();
    }
    return out;
  }

  test('the seed topology: hosts with their VMs, networks, the router and its ports; changes from the feed', async () => {
    const dps = [];
    for (const [i, node] of ['h1', 'h2'].entries())
      dps.push(await send('POST', '/datapaths', { uuid: `dp-${node}`, node_id: node, dpid: `0x${i + 1}` }));
    for (const c of seedApiCalls(dps)) await send(c.method, c.path, c.body);
    await send('PUT', '/datapaths/dp-h1/status', { is_connected: true, flows_in_sync: true, reported_node_id: 'h1' });
    await send('PUT', '/interfaces/if-veth1/binding', {
      status: 'up',
      active_datapath_uuid: 'dp-h1',
      active_port_name: 'if-veth1',
    });
    const t = new Topology();
    t.load(await send('GET', '/feed/snapshot'));
    const g = graphOf(t);
    const ids = (kind: string) =>
      g.nodes
        .filter((n) => n.kind === kind)
        .map((n) => n.id)
        .sort();
    assert.deepEqual(ids('host'), ['dp-h1', 'dp-h2']);
    assert.deepEqual(ids('network'), ['nw-net1', 'nw-net2', 'nw-net3']);
    assert.deepEqual(ids('router'), ['rl-vnetlink1']);
    // The router's interfaces are edges (network ↔ router), not nodes.
    assert.deepEqual(ids('interface'), ['if-veth1', 'if-veth2', 'if-veth3', 'if-veth4', 'if-veth5', 'if-veth6']);
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    assert.equal(byId.get('dp-h1')!.state, 'connected');
    assert.equal(byId.get('dp-h2')!.state, 'disconnected');
    assert.equal(byId.get('if-veth1')!.parent, 'dp-h1');
    assert.equal(byId.get('if-veth1')!.state, 'up');
    assert.equal(byId.get('if-veth2')!.parent, undefined);
    assert.equal(byId.get('if-veth2')!.state, 'unbound');
    const edges = g.edges.map((e) => `${e.kind} ${e.source} ${e.target} ${e.label}`.trim()).sort();
    assert.deepEqual(edges, [
      'member if-veth1 nw-net1',
      'member if-veth2 nw-net1',
      'member if-veth3 nw-net2',
      'member if-veth4 nw-net2',
      'member if-veth5 nw-net3',
      'member if-veth6 nw-net3',
      'router-port nw-net1 rl-vnetlink1 172.16.1.254',
      'router-port nw-net2 rl-vnetlink1 172.16.2.254',
    ]);

    // The layout: routers above the networks they join, networks in a row, each host's interfaces in a block of
    // their own below (the unbound ones after the hosts), every node somewhere and no two in one place.
    const at = layoutOf(g);
    // (A host with interfaces is drawn around them: it has no place of its own.)
    const placed = g.nodes.filter((n) => !g.nodes.some((c) => c.parent === n.id)).map((n) => n.id);
    assert.deepEqual(Object.keys(at).sort(), placed.sort());
    assert.equal(new Set(Object.values(at).map((p) => `${p.x},${p.y}`)).size, placed.length);
    const y = (id: string) => at[id]!.y;
    assert.ok(y('rl-vnetlink1') < y('nw-net1') && y('nw-net1') === y('nw-net3') && y('nw-net1') < y('if-veth1'));
    const rlX = at['rl-vnetlink1']!.x;
    assert.ok(
      Math.min(at['nw-net1']!.x, at['nw-net2']!.x) <= rlX && rlX <= Math.max(at['nw-net1']!.x, at['nw-net2']!.x),
    );
    assert.ok(at['if-veth1']!.x < Math.min(...['if-veth2', 'if-veth5'].map((id) => at[id]!.x)), 'h1 first');
    assert.deepEqual(layoutOf(graphOf(t)), at, 'the same model, the same places');

    // Changes as the feed sends them: a new VM, a floating IP, a host's agent coming up, a deleted network.
    const since = t.revision;
    await send('POST', '/interfaces', {
      uuid: 'if-new',
      network_uuid: 'nw-net2',
      ipv4_address: '172.16.2.50',
      mac_address: '52:54:00:0d:84:50',
    });
    await send('POST', '/translations', { uuid: 'tr-fip', interface_uuid: 'if-veth1' });
    await send('POST', '/translations/tr-fip/static_address', {
      ingress_ipv4_address: '172.16.1.1',
      egress_ipv4_address: '192.168.10.50',
    });
    await send('PUT', '/datapaths/dp-h2/status', { is_connected: true, flows_in_sync: false, reported_node_id: 'h2' });
    await send('DELETE', '/networks/nw-net3');
    const until = (await send('GET', '/feed/snapshot')).revision;
    for (const c of await changes(since, until)) t.apply(c);
    assert.equal(t.revision, until);
    assert.ok(!t.apply({ revision: since, resource: 'networks', uuid: 'nw-x', op: 'delete' }), 'an old change');
    const after = graphOf(t);
    const node = (id: string) => after.nodes.find((n) => n.id === id);
    assert.equal(node('if-new')?.kind, 'interface');
    assert.ok(after.edges.some((e) => e.id === 'member:if-new:nw-net2'));
    assert.equal(node('tr-fip')?.label, 'floating 192.168.10.50');
    assert.ok(after.edges.some((e) => e.kind === 'translation' && e.source === 'tr-fip' && e.target === 'if-veth1'));
    assert.equal(node('dp-h2')?.state, 'out-of-sync');
    assert.equal(node('nw-net3'), undefined);
    assert.ok(!after.edges.some((e) => e.target === 'nw-net3'), 'no edge to a deleted network');
    assert.equal(node('nw-net1')?.label, 'net1\n172.16.1.0/24');
    // A Neutron network before its subnet has no address: said so, not `null/24`.
    t.apply({
      revision: until + 1,
      resource: 'networks',
      uuid: 'nw-l2',
      op: 'upsert',
      item: { uuid: 'nw-l2', display_name: 'l2', ipv4_network: null, ipv4_prefix: 24 },
    });
    assert.equal(graphOf(t).nodes.find((n) => n.id === 'nw-l2')?.label, 'l2\nno subnet (L2 only)');
    t.resources.get('networks')!.delete('nw-l2');
    const moved = layoutOf(after);
    assert.deepEqual(moved['if-veth1'], at['if-veth1'], 'a VM of a host that gained nothing stays where it was');
    assert.ok(moved['nw-net1']!.y < moved['tr-fip']!.y && moved['tr-fip']!.y < moved['if-veth1']!.y, 'above its VM');
  });
});

// Issue 22 item 3: the live topology page in a real browser (Debian's chromium, headless, driven by playwright-core)
// against a two-host lab with the seed topology. The server requires tokens (it listens on every address): the
// page asks for one. Its graph's nodes and edges match the API; a change made with vnctl appears without a
// reload; a trace run from the page shows its verdict; a screenshot is saved.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { Cluster, VNCTL_BIN } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { type Browser, type DrawnGraph, drawnGraph, launchBrowser, waitForNode } from '../lib/browser.js';
import { waitFor } from '../lib/wait-for.js';
import { addSeedVm, assertE2eEnvironment, assertReaches, failureReport, labPrefix } from './helpers.js';

let cluster: Cluster;
let browser: Browser;
let page: Page;
const shots = mkdtempSync(join(tmpdir(), 'vnet-ui-e2e-'));

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('eui'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addSeedVm(cluster, 'ns1', 'h1');
  await addSeedVm(cluster, 'ns2', 'h2');
  await addSeedVm(cluster, 'ns3', 'h2');
  await cluster.waitInSync(20_000);
  // As trace.e2e.test.ts does: a ping first. Before any traffic h1's switch has not resolved the underlay
  // neighbour of h2's tunnel address, ofproto/trace shows no tunnel output, and the trace (vnctl's too) says
  // "dropped in l2_lookup".
  await assertReaches(cluster, 'ns1', '172.16.2.3');
  browser = await launchBrowser();
  page = await browser.page();
});

after(async () => {
  await browser?.close();
  await cluster?.down();
});

type Item = Record<string, any>;

/** The graph the page should show, computed from the API's lists (not with the page's own code). */
async function expectedGraph(): Promise<{ nodes: string[]; edges: string[] }> {
  const list = async (r: string) => (await cluster.call<{ items: Item[] }>('GET', `/${r}?limit=1000`)).items;
  const [datapaths, networks, routeLinks, interfaces, routes, translations] = await Promise.all(
    ['datapaths', 'networks', 'route_links', 'interfaces', 'routes', 'translations'].map(list),
  );
  const ports = new Map<string, string[]>();
  for (const r of routes!) ports.set(r.interface_uuid, [...(ports.get(r.interface_uuid) ?? []), r.route_link_uuid]);
  const nets = (i: Item) => [
    ...new Set<string>(i.mac_leases.flatMap((m: Item) => m.ip_leases.map((l: Item) => l.network_uuid))),
  ];
  const state = (d: Item) => (d.is_connected !== true ? 'disconnected' : d.flows_in_sync ? 'connected' : 'out-of-sync');
  const nodes = [
    ...datapaths!.map((d) => `host ${d.uuid} ${state(d)}`),
    ...networks!.map((n) => `network ${n.uuid}`),
    ...routeLinks!.map((r) => `router ${r.uuid}`),
    ...interfaces!.filter((i) => !ports.has(i.uuid)).map((i) => `interface ${i.uuid} in ${i.active_datapath_uuid}`),
    ...translations!.map((t) => `translation ${t.uuid}`),
  ];
  const edges = interfaces!.flatMap((i) =>
    nets(i).flatMap((nw) =>
      ports.has(i.uuid) ? ports.get(i.uuid)!.map((rl) => `router-port ${nw} ${rl}`) : [`member ${i.uuid} ${nw}`],
    ),
  );
  return { nodes: nodes.sort(), edges: [...new Set(edges)].sort() };
}

function shown(g: DrawnGraph): { nodes: string[]; edges: string[] } {
  return {
    nodes: g.nodes
      .map((n) =>
        n.kind === 'host'
          ? `host ${n.id} ${n.state}`
          : n.kind === 'interface'
            ? `interface ${n.id} in ${n.parent ?? null}`
            : `${n.kind} ${n.id}`,
      )
      .sort(),
    edges: g.edges.map((e) => `${e.kind} ${e.source} ${e.target}`).sort(),
  };
}

/** Waits until the page shows what the API says (agents' reports may move states meanwhile: both re-read). */
async function assertMatchesApi(): Promise<DrawnGraph> {
  let last = '';
  return waitFor(
    async () => {
      const g = await drawnGraph(page);
      if (!g) return null;
      const want = await expectedGraph();
      const got = shown(g);
      last = `page:\n${JSON.stringify(got, null, 1)}\napi:\n${JSON.stringify(want, null, 1)}`;
      return JSON.stringify(got) === JSON.stringify(want) ? g : null;
    },
    () => `the page's graph to match the API\n${last}`,
    { timeoutMs: 20_000, everyMs: 200 },
  );
}

async function vnctl(...args: string[]): Promise<string> {
  const r = await cluster.lab
    .host('h1')
    .exec([VNCTL_BIN, '--api', cluster.labApi, '--token', cluster.adminToken!, ...args]);
  assert.equal(r.code, 0, `vnctl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('the page asks for a token, then draws what the API says: hosts with their VMs, networks, the router', async () => {
  assert.ok(cluster.adminToken, 'the lab server requires tokens');
  const res = await page.goto(`${cluster.api}/ui`);
  assert.equal(res?.status(), 200);
  assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  // No token yet: the feed answers 401 and the page asks.
  await page.locator('#token-form').waitFor({ state: 'visible', timeout: 10_000 });
  await page.fill('#token-input', cluster.adminToken!);
  await page.click('#token-form button[type=submit]');
  await page.locator('#feed-state[data-state=live]').waitFor({ timeout: 10_000 });
  const g = await assertMatchesApi();
  const kinds = (k: string) => g.nodes.filter((n) => n.kind === k).length;
  assert.equal(kinds('host'), 2);
  assert.equal(kinds('network'), 3);
  assert.equal(kinds('router'), 1);
  assert.equal(g.edges.filter((e) => e.kind === 'router-port').length, 2, 'net1 and net2 joined by the router');
  const bound = g.nodes.filter((n) => n.kind === 'interface' && n.parent).map((n) => n.id);
  assert.deepEqual(bound.sort(), ['if-veth1', 'if-veth2', 'if-veth3']);
  // The side panel lists each host with its agent's state.
  for (const n of g.nodes.filter((x) => x.kind === 'host'))
    await page.locator(`#host-list li[data-host="${n.id}"][data-state="connected"]`).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate("sessionStorage.getItem('vnet.token')"), cluster.adminToken);
});

test('changes made with vnctl appear without a reload', async () => {
  // A mark on this document: a reload would lose it.
  await page.evaluate('globalThis.stillThisPage = true');
  const before = (await drawnGraph(page))!.revision;
  await vnctl('networks', 'add', '--uuid', 'nw-uinew', '--ipv4-network', '10.9.0.0', '--display-name', 'uinet');
  await vnctl(
    'interfaces',
    'add',
    '--uuid',
    'if-uinew',
    '--network-uuid',
    'nw-uinew',
    '--ipv4-address',
    '10.9.0.5',
    '--mac-address',
    '52:54:00:0d:84:60',
  );
  const g = await waitForNode(page, 'if-uinew');
  assert.ok(g.revision > before);
  await assertMatchesApi();
  const after = await drawnGraph(page);
  assert.ok(after!.edges.some((e) => e.kind === 'member' && e.source === 'if-uinew' && e.target === 'nw-uinew'));
  await vnctl('interfaces', 'del', 'if-uinew');
  await vnctl('networks', 'del', 'nw-uinew');
  await waitFor(async () => !(await drawnGraph(page))!.nodes.some((n) => n.id === 'nw-uinew'), 'nw-uinew to go');
  await assertMatchesApi();
  assert.equal(await page.evaluate('globalThis.stillThisPage'), true);
});

test('select an interface, see its details, trace from it: the verdict and the path', async () => {
  // The agents have the previous test's changes (and their removal) in their switches.
  await cluster.waitInSync(20_000);
  const g = (await drawnGraph(page))!;
  const box = (await page.locator('#graph').boundingBox())!;
  const at = g.positions['if-veth1']!;
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await page.locator('#details-title', { hasText: 'interface if-veth1' }).waitFor({ timeout: 5000 });
  const details = (await page.locator('#details-list').textContent()) ?? '';
  assert.match(details, /172\.16\.1\.1 on nw-net1/);
  assert.match(details, /bound on\s*h1 \(dp-/);
  await page.fill('#trace-dst', '172.16.2.3');
  await page.selectOption('#trace-proto', 'icmp');
  await page.click('#trace-form button[type=submit]');
  const verdict = page.locator('#trace-verdict[data-result]:not([data-result=""])');
  await verdict.waitFor({ timeout: 30_000 });
  const text = (await verdict.textContent()) ?? '';
  if ((await verdict.getAttribute('data-result')) !== 'delivered')
    assert.fail(`trace: ${text}\n${await failureReport(cluster)}`);
  assert.match(text, /delivered to if-veth3/);
  const path = (await page.locator('#trace-path').textContent()) ?? '';
  for (const part of ['interface if-vnet1gw', 'route_link rl-vnetlink1', 'interface if-veth3'])
    assert.ok(path.includes(part), `path lacks ${part}: ${path}`);
  assert.match(path, /tunnel/);
  const shot = join(shots, 'ui-trace.png');
  await page.screenshot({ path: shot });
  console.log(`# screenshot: ${shot}`);
});

test('the token stays for the tab: a reload draws again without asking', async () => {
  await page.reload();
  await page.locator('#feed-state[data-state=live]').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#token-form').isVisible(), false);
  await assertMatchesApi();
  // Nothing the page did was refused by its CSP or failed in its scripts (401s before the token are expected).
  const errors = browser.errors.filter((e) => !/status of 401/.test(e));
  assert.deepEqual(errors, []);
});

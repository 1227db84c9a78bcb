// Benchmark of the live topology page (issue 22, docs/ui.md) in headless Chromium (Debian's `chromium`, driven by
// playwright-core) against a `vnet server` process on loopback (local trust: no token) holding the seed topology on
// two datapaths whose agents report in sync, plus --vms more VMs bound alternately to them:
//   page load: navigation start → the graph drawn (the page's own performance.now() at its first drawing: the HTML,
//     cytoscape, the snapshot, the model and the layout), over --loads fresh tabs;
//   write → shown: a POST /interfaces (a new VM) sent → the page has drawn its node (the write, the change feed,
//     the model, the layout), over --writes writes, one at a time.
// No root and no lab needed: the page sees the API and the feed, not the switches.
//   node --import tsx bench/ui.ts [--vms 100] [--loads 5] [--writes 20] [--json] [--screenshot FILE.png]
import { percentile } from './compare/report.js';
import { startServerProcess } from './lib/server-process.js';
import { launchBrowser, waitForNode } from '../test/lib/browser.js';
import { seedApiCalls } from '../src/demo/seed.js';
import { numOption } from './lib/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => numOption(args, name, def);
const VMS = opt('vms', 100);
const LOADS = opt('loads', 5);
const WRITES = opt('writes', 20);
const json = args.includes('--json');
const screenshot = args.includes('--screenshot') ? args[args.indexOf('--screenshot') + 1] : undefined;

const ms = (x: number | null) => (x === null ? Number.NaN : Math.round(x * 10) / 10);
const hex = (i: number) => (i & 0xff).toString(16).padStart(2, '0');
const macOf = (i: number) => `52:54:00:aa:${hex(i >> 8)}:${hex(i)}`;

async function main() {
  const server = await startServerProcess('bench-ui');
  const browser = await launchBrowser();
  const send = (method: string, path: string, body?: Record<string, unknown>) =>
    server.api.send<any>({ method, path, body });
  const results: Record<string, number> = {};
  try {
    const dps = ['b1', 'b2'].map((node) => ({ uuid: `dp-${node}`, node }));
    for (const [i, dp] of dps.entries()) {
      await send('POST', '/datapaths', { uuid: dp.uuid, node_id: dp.node, dpid: `0x${i + 1}` });
      await send('PUT', `/datapaths/${dp.uuid}/status`, {
        is_connected: true,
        flows_in_sync: true,
        reported_node_id: dp.node,
      });
    }
    for (const c of seedApiCalls(dps)) await send(c.method, c.path, c.body);
    // More VMs, on a network of their own (a /16), each bound on one of the two hosts.
    await send('POST', '/networks', { uuid: 'nw-bench', ipv4_network: '10.20.0.0', ipv4_prefix: 16 });
    for (let i = 0; i < VMS; i++) {
      const uuid = `if-b${i}`;
      await send('POST', '/interfaces', {
        uuid,
        network_uuid: 'nw-bench',
        ipv4_address: `10.20.${(i >> 8) + 1}.${i & 0xff}`,
        mac_address: macOf(i),
      });
      await send('PUT', `/interfaces/${uuid}/binding`, {
        status: 'up',
        active_datapath_uuid: dps[i % 2]!.uuid,
        active_port_name: uuid,
      });
    }

    const url = `${server.base}/ui`;
    const loads: number[] = [];
    let nodes = 0;
    for (let i = 0; i < LOADS; i++) {
      const page = await browser.page();
      await page.goto(url);
      const g = await waitForNode(page, 'rl-vnetlink1');
      loads.push(g.firstDrawnMs);
      nodes = g.nodes;
      await page.close();
    }
    results.nodes = nodes;
    results.load_p50_ms = ms(percentile(loads, 50));
    results.load_max_ms = ms(Math.max(...loads));

    const page = await browser.page();
    await page.goto(url);
    await waitForNode(page, 'rl-vnetlink1');
    const shown: number[] = [];
    const acked: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const uuid = `if-w${i}`;
      const seen = waitForNode(page, uuid);
      const t0 = performance.now();
      await send('POST', '/interfaces', {
        uuid,
        network_uuid: 'nw-bench',
        ipv4_address: `10.20.200.${i + 1}`,
        mac_address: macOf(0x8000 + i),
      });
      acked.push(performance.now() - t0);
      await seen;
      shown.push(performance.now() - t0);
    }
    results.write_ack_p50_ms = ms(percentile(acked, 50));
    results.write_to_shown_p50_ms = ms(percentile(shown, 50));
    results.write_to_shown_p95_ms = ms(percentile(shown, 95));
    results.write_to_shown_max_ms = ms(Math.max(...shown));
    if (screenshot) await page.screenshot({ path: screenshot });
    if (browser.errors.length) throw new Error(`the page logged errors:\n${browser.errors.join('\n')}`);
  } finally {
    await browser.close();
    await server.stop();
  }
  if (json) console.log(JSON.stringify(results));
  else {
    console.log(`topology page bench (seed topology + ${VMS} VMs on 2 hosts, loads=${LOADS}, writes=${WRITES})`);
    for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(24)} ${v}`);
  }
}

await main();

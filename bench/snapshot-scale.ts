// GET /feed/snapshot at 100,000 interfaces (issue 21), SQLite and PostgreSQL: a `vnet server` process serves a
// model of `--interfaces` interfaces (each with its MAC and IP lease) in `--networks` networks over `--datapaths`
// datapaths; measured: the snapshot's time (first, after a write, and served from the cache), its size, the
// server's RSS before and its peak; then an agent's start-up over it (the agent's own FeedSource: the snapshot
// fetched and parsed, the ModelView built, the FlowCompiler run for a datapath with `--local` ports) in a child
// process, with its RSS.
// The model is written straight into the store in batches (cloned from documents the API made, so they are what
// the API writes): 100,000 creates through the API would take ~20 minutes here.
//   node --import tsx bench/snapshot-scale.ts [--interfaces 100000] [--networks 1000] [--datapaths 1000]
//     [--local 100] [--stores sqlite,postgres] [--keep DIR] [--json]
//   node --import tsx bench/snapshot-scale.ts --agent URL DATAPATH LOCAL   (the child: one agent start-up)
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowCompiler } from '../src/agent/pipeline/flows.js';
import { buildModelView, type FeedResources, type LocalContext } from '../src/agent/pipeline/model-view.js';
import { ServerFeed } from '../src/agent/runtime/feed-source.js';
import { ApiClient } from '../src/client/index.js';
import { PostgresStore } from '../src/store/postgres.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { Doc, Store } from '../src/store/store.js';
import { startPostgres } from '../test/lib/postgres.js';
import { procStat } from './compare/procstat.js';
import { type ServerProcess, startServerProcess } from './lib/server-process.js';
import { ms, numOption } from './lib/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => numOption(args, name, def);
const json = args.includes('--json');
const IFS = opt('interfaces', 100_000);
const NETS = opt('networks', 1000);
const DPS = opt('datapaths', 1000);
const LOCAL = opt('local', 100);
const storesArg = args.indexOf('--stores');
const STORES = (storesArg >= 0 ? args[storesArg + 1]! : 'sqlite,postgres').split(',');
const keepArg = args.indexOf('--keep');
/** Where the SQLite model is made and left (to profile it afterwards), instead of a temp directory removed. */
const KEEP = keepArg >= 0 ? args[keepArg + 1]! : null;

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
const mac = (i: number): string =>
  `52:54:${hex((i >> 24) & 0xff, 2)}:${hex((i >> 16) & 0xff, 2)}:${hex((i >> 8) & 0xff, 2)}:${hex(i & 0xff, 2)}`;
/** Network k is 10.(k/256).(k%256).0/24; its interfaces take .2 up (100 each at the default sizes). */
const netIp = (k: number, host: number): string => `10.${(k >> 8) & 0xff}.${k & 0xff}.${host}`;

/** One agent's start-up over the snapshot, in this (child) process; prints one JSON line. */
async function agentStartup(base: string, datapath: string, local: number): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const feed = new ServerFeed(new ApiClient({ baseUrl: base }));
  const snapshot = await new Promise<{ revision: number; resources: Record<string, Record<string, unknown>[]> }>(
    (resolve) =>
      feed.start((ev) => {
        if (ev.kind === 'snapshot') resolve(ev);
      }),
  );
  const fetched = performance.now();
  const view = buildModelView(snapshot.resources as FeedResources, snapshot.revision);
  const built = performance.now();
  const dp = view.datapaths.get(datapath)!;
  const ports = new Map<string, { ofport: number }>();
  // Its local ports: the interfaces bound to it in the model (the bench binds `local` of them).
  for (const i of view.interfaces.values())
    if (i.active_datapath_uuid === datapath && ports.size < local) ports.set(i.uuid, { ofport: 10 + ports.size });
  const ctx: LocalContext = {
    datapathUuid: datapath,
    dpid: BigInt(dp.dpid as string),
    tunnelIp: '192.0.2.1',
    encap: 'vxlan',
    tunnelPorts: { gre: 1, vxlan: 2 },
    ports,
    underlayMtu: 1500,
  };
  const compiler = new FlowCompiler();
  compiler.update(view, ctx, []);
  const flows = compiler.flows().length;
  const computed = performance.now();
  feed.close();
  process.stdout.write(
    `${JSON.stringify({
      snapshot_fetch_parse_ms: ms(fetched - t0),
      model_view_ms: ms(built - fetched),
      flows_ms: ms(computed - built),
      startup_ms: ms(computed - t0),
      local_ports: ports.size,
      flows,
      rss_mib: Math.round((process.memoryUsage().rss - rss0) / 1048576),
      peak_rss_mib: Math.round(procStat(process.pid).peakMiB ?? 0),
    })}\n`,
  );
  process.exit(0);
}

/** Clones of the API's documents for interface i (the template made through the API is i = 0). */
function clone(tpl: { itf: Doc; mac: Doc; ip: Doc }, i: number) {
  const net = i % NETS;
  const host = 2 + Math.floor(i / NETS);
  const dp = i % DPS;
  const ifUuid = `if-x${i}`;
  const macUuid = `ml-x${i}`;
  const itf: Doc = {
    ...tpl.itf,
    uuid: ifUuid,
    network_uuid: `nw-x${net}`,
    owner_datapath_uuid: `dp-x${dp}`,
    active_datapath_uuid: `dp-x${dp}`,
    active_port_name: ifUuid,
    status: 'up',
  };
  const macLease: Doc = { ...tpl.mac, uuid: macUuid, interface_uuid: ifUuid, mac_address: mac(i + 1) };
  const ipLease: Doc = {
    ...tpl.ip,
    uuid: `il-x${i}`,
    interface_uuid: ifUuid,
    mac_lease_uuid: macUuid,
    network_uuid: `nw-x${net}`,
    ipv4_address: netIp(net, host),
  };
  return { itf, macLease, ipLease };
}

async function populate(server: ServerProcess, open: () => Promise<Store>): Promise<void> {
  const { api } = server;
  for (let k = 0; k < NETS; k++)
    await api.send({
      method: 'POST',
      path: '/networks',
      body: { uuid: `nw-x${k}`, ipv4_network: netIp(k, 0), ipv4_prefix: 24 },
    });
  for (let d = 0; d < DPS; d++)
    await api.send({
      method: 'POST',
      path: '/datapaths',
      body: { uuid: `dp-x${d}`, dpid: `0x${hex(d + 1, 16)}`, node_id: `node${d}` },
    });
  // The template: one interface made through the API, with its leases.
  await api.send({
    method: 'POST',
    path: '/interfaces',
    body: { uuid: 'if-tpl', network_uuid: 'nw-x0', mac_address: '52:54:ff:00:00:01', ipv4_address: netIp(0, 254) },
  });
  await server.stop();
  const store = await open();
  try {
    const tpl = await store.read(async (tx) => ({
      itf: (await tx.get('interfaces', 'if-tpl'))!,
      mac: (await tx.find('mac_leases', { interface_uuid: 'if-tpl' }))[0]!,
      ip: (await tx.find('ip_leases', { interface_uuid: 'if-tpl' }))[0]!,
    }));
    const BATCH = 2000;
    for (let start = 0; start < IFS; start += BATCH)
      await store.write(async (tx) => {
        for (let i = start; i < Math.min(IFS, start + BATCH); i++) {
          const c = clone(tpl, i);
          await tx.insert('interfaces', c.itf);
          await tx.insert('mac_leases', c.macLease);
          await tx.insert('ip_leases', c.ipLease);
        }
        // One change, so the revision moves and a server's snapshot cache is not stale.
        await tx.appendChange({ resource: 'interfaces', uuid: `if-x${start}`, op: 'upsert', item: null });
      });
  } finally {
    await store.close();
  }
}

async function measure(label: string, dbArgs: string[], open: () => Promise<Store>) {
  const out: Record<string, number | string> = { store: label, interfaces: IFS };
  const t0 = performance.now();
  await populate(await startServerProcess('snapshot-scale', dbArgs), open);
  out.populate_s = Math.round((performance.now() - t0) / 100) / 10;
  const server = await startServerProcess('snapshot-scale', dbArgs);
  try {
    const get = async () => {
      const s = performance.now();
      const r = await fetch(`${server.base}/api/1.0/feed/snapshot`);
      const body = await r.text();
      if (r.status !== 200) throw new Error(`snapshot → ${r.status} ${body.slice(0, 200)}`);
      return { ms: ms(performance.now() - s), bytes: body.length };
    };
    out.server_rss_before_mib = Math.round(procStat(server.proc.pid).rssMiB ?? 0);
    const first = await get();
    out.snapshot_first_ms = first.ms;
    out.snapshot_mib = Math.round((first.bytes / 1048576) * 10) / 10;
    out.snapshot_cached_ms = (await get()).ms;
    await server.api.send({ method: 'PUT', path: '/networks/nw-x0', body: { display_name: 'changed' } });
    out.snapshot_after_write_ms = (await get()).ms;
    // Ten agents asking at once, right after a write (a server restart, a failover: all of them resnapshot).
    await server.api.send({ method: 'PUT', path: '/networks/nw-x0', body: { display_name: 'changed again' } });
    const s = performance.now();
    await Promise.all(Array.from({ length: 10 }, get));
    out.snapshot_10_at_once_ms = ms(performance.now() - s);
    const st = procStat(server.proc.pid);
    out.server_rss_after_mib = Math.round(st.rssMiB ?? 0);
    out.server_peak_rss_mib = Math.round(st.peakMiB ?? 0);
    const child = fork(fileURLToPath(import.meta.url), ['--agent', server.base, 'dp-x0', String(LOCAL)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let text = '';
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await new Promise((r) => child.once('exit', r));
    for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, number>)) out[`agent_${k}`] = v;
  } finally {
    await server.stop();
  }
  return out;
}

async function main() {
  const loadBefore = loadavg()[0]!.toFixed(1);
  const results: Record<string, number | string>[] = [];
  if (STORES.includes('sqlite')) {
    const dir = KEEP ?? mkdtempSync(join(tmpdir(), `vnet-snapshot-scale-${process.pid}-`));
    const path = join(dir, 'vnet.db');
    try {
      results.push(await measure('sqlite', ['--db', path], async () => new SqliteStore({ path })));
    } finally {
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
    }
  }
  if (STORES.includes('postgres')) {
    const cluster = await startPostgres({ durable: true });
    try {
      const url = await cluster.createDatabase();
      results.push(await measure('postgres', ['--db', url], () => PostgresStore.open({ url })));
    } finally {
      await cluster.stop();
    }
  }
  const load = `load ${loadBefore} → ${loadavg()[0]!.toFixed(1)}`;
  if (json) process.stdout.write(`${JSON.stringify({ load, results })}\n`);
  else {
    console.log(`snapshot-scale: ${IFS} interfaces, ${NETS} networks, ${DPS} datapaths; ${load}`);
    for (const r of results) {
      console.log(`\n${r.store}`);
      for (const [k, v] of Object.entries(r)) if (k !== 'store') console.log(`  ${k.padEnd(30)} ${v}`);
    }
  }
}

if (args[0] === '--agent') await agentStartup(args[1]!, args[2]!, Number(args[3]));
else await main();

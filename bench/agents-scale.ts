// 1,000 simulated agents on real servers (issue 21): each agent (bench/agents-scale-worker.ts) has its own agent
// token, follows the change feed with the agent's own FeedSource and reports its datapath status and bindings with
// the agent's Reporter, spread over the servers by --server lists in different orders. Per setup (one server on
// SQLite; one and two servers on one PostgreSQL with its durable defaults; every server with --require-auth):
//   - state load: all agents start at once (snapshot, stream, reports, the echoes of their reports) → time until
//     each agent sees what it reported; server CPU and peak RSS over it;
//   - a writer changes one network's display_name `--writes` times, one every `--interval` ms, through the servers
//     in turn; each change goes to every agent: write sent → delivered to all N (p50/p95/p99 over writes) and
//     write sent → delivered, every delivery; server CPU and RSS while the agents are connected; bytes the server
//     wrote in each phase (/proc wchar) and the snapshot's size plain and gzip-encoded;
//   - feed connections each server holds (its vnet_feed_watchers gauge).
//   node --import tsx bench/agents-scale.ts [--agents 1000] [--writes 100] [--interval 100] [--workers N/125]
//     [--ramp-ms N*10] [--setups sqlite,pg1,pg2] [--json]
// --ramp-ms: the agents start spread evenly over this long (a fleet's hosts boot over seconds, not in one
// millisecond); 0 starts them all at once, which the server must survive too (snapshots beyond its in-flight limit
// are refused with 503 + Retry-After, and the agents wait).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ApiClient } from '../src/client/index.js';
import { startPostgres } from '../test/lib/postgres.js';
import { procStat } from './compare/procstat.js';
import { MARK_NETWORK, type ScaleAgentSpec } from './agents-scale-worker.js';
import { eachLimited } from './lib/each-limited.js';
import { type ServerProcess, startServerProcess } from './lib/server-process.js';
import { ms, numOption, pct } from './lib/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => numOption(args, name, def);
const json = args.includes('--json');
const N = opt('agents', 1000);
const M = opt('writes', 100);
const INTERVAL = opt('interval', 100);
// Agents per process: one Node process holding 500 agents' snapshots and streams was too busy to read them for
// the 45 s the feed's idle timeout allows (and grew to 3.3 GB); 250 per process, at least 2. Not more: on a shared
// machine every runnable process takes an equal share, so 8 agent processes left the server a 1/27 share at
// load 27 (26 CPU s in 6 min, its accept queue full) — the agents are the hosts, the server is what is measured.
const WORKERS = opt('workers', Math.max(2, Math.ceil(N / 250)));
const RAMP_MS = opt('ramp-ms', N * 10);
const setupsArg = args.indexOf('--setups');
const SETUPS = (setupsArg >= 0 ? args[setupsArg + 1]! : 'sqlite,pg1,pg2').split(',');
const PORTS_PER_AGENT = 2;
const AGENTS_PER_NETWORK = 10;
const WORKER = fileURLToPath(new URL('./agents-scale-worker.ts', import.meta.url));

const wall = (): number => performance.timeOrigin + performance.now();
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
const mac = (i: number): string =>
  `52:54:00:${hex((i >> 16) & 0xff, 2)}:${hex((i >> 8) & 0xff, 2)}:${hex(i & 0xff, 2)}`;
const ip = (net: number, host: number): string => `10.${Math.floor(net / 256)}.${net % 256}.${host}`;

/** CPU seconds of a set of processes (a server, or PostgreSQL's postmaster and every child of it). */
function cpuOf(pids: readonly number[]): number {
  return pids.reduce((s, p) => s + (procStat(p).cpuS ?? 0), 0);
}

/** Bytes the processes wrote (/proc/PID/io wchar: their sockets, and a server's SQLite file and log). */
function bytesWritten(pids: readonly number[]): number {
  return pids.reduce((n, p) => {
    try {
      return n + Number(/^wchar: (\d+)/m.exec(readFileSync(`/proc/${p}/io`, 'utf8'))?.[1] ?? 0);
    } catch {
      return n;
    }
  }, 0);
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function postgresPids(url: string): Promise<() => number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const dir = (await c.query('SHOW data_directory')).rows[0].data_directory as string;
  await c.end();
  const postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return () => [postmaster, ...childrenOf(postmaster)];
}

async function watchersOf(s: ServerProcess): Promise<number> {
  const r = await fetch(`${s.base}/metrics`, { headers: s.api.auth });
  const m = /^vnet_feed_watchers (\d+)/m.exec(await r.text());
  return m ? Number(m[1]) : Number.NaN;
}

function waitFor<T>(child: ChildProcess, pick: (m: Record<string, unknown>) => T | undefined, timeoutMs: number) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMsg);
      reject(new Error(`agents: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMsg = (m: Record<string, unknown>): void => {
      const v = pick(m);
      if (v === undefined) return;
      clearTimeout(timer);
      child.off('message', onMsg);
      resolve(v);
    };
    child.on('message', onMsg);
  });
}

interface WorkerStats {
  loaded: number;
  disconnects: number;
  reportsSent: number;
  reportsFailed: number;
  errors: Record<string, number>;
}

async function measure(label: string, servers: ServerProcess[], pgPids: (() => number[]) | null) {
  const admin = servers[0]!.api;
  const bases = servers.map((s) => s.base);
  const serverPids = servers.map((s) => s.proc.pid!);
  const out: Record<string, number | string> = { setup: label, agents: N, workers: WORKERS, ramp_ms: RAMP_MS };
  // The model: N/10 networks, N datapaths, 2 interfaces per datapath (leases included), N agent tokens.
  const t0 = performance.now();
  const networks = Math.ceil(N / AGENTS_PER_NETWORK);
  await eachLimited([MARK_NETWORK, ...Array.from({ length: networks }, (_, k) => k)], 16, async (k) => {
    const body =
      typeof k === 'string'
        ? { uuid: k, ipv4_network: '172.16.0.0', ipv4_prefix: 24 }
        : { uuid: `nw-s${k}`, ipv4_network: ip(k, 0), ipv4_prefix: 24 };
    await admin.send({ method: 'POST', path: '/networks', body });
  });
  const specs: ScaleAgentSpec[] = [];
  for (let a = 0; a < N; a++) {
    const ports: Record<string, string> = {};
    for (let p = 0; p < PORTS_PER_AGENT; p++)
      ports[`if-s${a * PORTS_PER_AGENT + p}`] = `if-s${a * PORTS_PER_AGENT + p}`;
    // Each agent starts on a different server: the lists are rotated (agent a begins with server a mod S).
    const first = a % bases.length;
    specs.push({
      node: `sim${a}`,
      datapath: `dp-s${a}`,
      tunnelIp: `192.0.${Math.floor(a / 250)}.${1 + (a % 250)}`,
      token: '',
      servers: [...bases.slice(first), ...bases.slice(0, first)],
      ports,
      startDelayMs: Math.round((a / N) * RAMP_MS),
    });
  }
  await eachLimited(specs, 16, async (s, a = Number(s.node.slice(3))) => {
    await admin.send({
      method: 'POST',
      path: '/datapaths',
      body: { uuid: s.datapath, dpid: `0x${hex(a + 1, 16)}`, node_id: s.node },
    });
    const net = Math.floor(a / AGENTS_PER_NETWORK);
    for (const [k, uuid] of Object.keys(s.ports).entries()) {
      const i = a * PORTS_PER_AGENT + k;
      await admin.send({
        method: 'POST',
        path: '/interfaces',
        body: { uuid, network_uuid: `nw-s${net}`, mac_address: mac(i + 1), ipv4_address: ip(net, 1 + (i % 200)) },
      });
    }
    const t = await admin.send<{ token: string }>({
      method: 'POST',
      path: '/tokens',
      body: { role: 'agent', node_id: s.node, display_name: s.node },
    });
    s.token = t.token;
  });
  out.model_build_s = Math.round((performance.now() - t0) / 100) / 10;
  const snapT = performance.now();
  const snapJson = await (await fetch(`${bases[0]}/api/1.0/feed/snapshot`, { headers: admin.auth })).text();
  out.snapshot_ms = ms(performance.now() - snapT);
  out.snapshot_kib = Math.round(snapJson.length / 1024);
  // What an agent downloads: the same snapshot as the server sends it to a client that takes gzip.
  const gz = await new Promise<number>((resolve, reject) =>
    httpGet(`${bases[0]}/api/1.0/feed/snapshot`, { headers: { ...admin.auth, 'accept-encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (b: Buffer) => (n += b.length));
      res.on('end', () => resolve(n));
    }).on('error', reject),
  );
  out.snapshot_gzip_kib = Math.round(gz / 1024);

  // State load: every agent at once.
  const cpu0 = cpuOf(serverPids);
  const written0 = bytesWritten(serverPids);
  const pg0 = pgPids ? cpuOf(pgPids()) : 0;
  const loaded: { started: number; at: number }[] = [];
  const arrivals = new Map<number, number[]>();
  const children: ChildProcess[] = [];
  try {
    for (let w = 0; w < WORKERS && w < N; w++) {
      const child = fork(WORKER, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (m: { loaded?: { started: number; at: number }; marks?: [number, number][] }) => {
        if (m.loaded) loaded.push(m.loaded);
        for (const [k, at] of m.marks ?? []) {
          const list = arrivals.get(k);
          if (list) list.push(at);
          else arrivals.set(k, [at]);
        }
      });
      // Every WORKERS-th agent: each process's agents spread over the whole ramp.
      child.send({ specs: specs.filter((_, a) => a % WORKERS === w) });
      children.push(child);
    }
    // A worker holds hundreds of agents in one event loop: parsing their snapshots keeps it from answering for
    // tens of seconds on a loaded machine (500 agents × 2.6 MB at N = 1,000).
    // Numbered: the answer to a request given up on must not be taken for the next one's.
    let statsAsked = 0;
    const stats = async (timeoutMs = 180_000): Promise<WorkerStats> => {
      const seq = ++statsAsked;
      const all = await Promise.all(
        children.map((c) => {
          const p = waitFor(c, (m) => (m.seq === seq ? (m.stats as WorkerStats) : undefined), timeoutMs);
          c.send({ stats: seq });
          return p;
        }),
      );
      return all.reduce((a, b) => ({
        loaded: a.loaded + b.loaded,
        disconnects: a.disconnects + b.disconnects,
        reportsSent: a.reportsSent + b.reportsSent,
        reportsFailed: a.reportsFailed + b.reportsFailed,
        // Summed per reason over the processes (each sends its top 3).
        errors: Object.fromEntries(
          [...new Set([...Object.keys(a.errors), ...Object.keys(b.errors)])].map((k) => [
            k,
            (a.errors[k] ?? 0) + (b.errors[k] ?? 0),
          ]),
        ),
      }));
    };
    const loadDeadline = Date.now() + 600_000;
    let progressAt = Date.now() + 10_000;
    while (loaded.length < N && Date.now() < loadDeadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (Date.now() < progressAt) continue;
      progressAt = Date.now() + 10_000;
      const st = await stats(5_000).catch(() => null);
      if (!st) {
        process.stderr.write(`${label}: ${loaded.length}/${N} loaded (the agent processes are too busy to count)\n`);
        continue;
      }
      const w = await Promise.all(servers.map((s) => watchersOf(s).catch(() => Number.NaN)));
      process.stderr.write(
        `${label}: ${st.loaded}/${N} loaded, ${st.reportsSent} reports (${st.reportsFailed} failed), ${st.disconnects} stream errors ${JSON.stringify(st.errors)}, watchers ${w.join(' + ')}\n`,
      );
    }
    const afterLoad = await stats();
    // From the first agent's start (the agent processes' own start-up left out) to the last one loaded.
    const loadedMs = loaded.map((l) => l.at - l.started);
    out.load_all_s =
      Math.round((Math.max(...loaded.map((l) => l.at)) - Math.min(...loaded.map((l) => l.started))) / 100) / 10;
    out.load_agent_p50_s = ms(pct(loadedMs, 50) / 1000);
    out.load_agent_p99_s = ms(pct(loadedMs, 99) / 1000);
    out.load_loaded = afterLoad.loaded;
    out.load_reports = afterLoad.reportsSent;
    out.load_report_failures = afterLoad.reportsFailed;
    out.load_disconnects = afterLoad.disconnects;
    out.load_server_cpu_s = Math.round((cpuOf(serverPids) - cpu0) * 10) / 10;
    out.load_server_written_mib = Math.round((bytesWritten(serverPids) - written0) / 2 ** 20);
    if (pgPids) out.load_postgres_cpu_s = Math.round((cpuOf(pgPids()) - pg0) * 10) / 10;
    out.load_server_peak_rss_mib = Math.round(Math.max(...serverPids.map((p) => procStat(p).peakMiB ?? 0)));
    if (afterLoad.loaded < N) throw new Error(`${label}: only ${afterLoad.loaded} of ${N} agents loaded in time`);
    await new Promise((r) => setTimeout(r, 2000));
    out.watchers = (await Promise.all(servers.map(watchersOf))).join(' + ');

    // The writer: one change every INTERVAL ms, through the servers in turn; every agent hears every one.
    const cpu1 = cpuOf(serverPids);
    const written1 = bytesWritten(serverPids);
    const pg1 = pgPids ? cpuOf(pgPids()) : 0;
    const steadyT0 = performance.now();
    const sentAt: number[] = [];
    const ackMs: number[] = [];
    for (let k = 0; k < M; k++) {
      const slot = steadyT0 + k * INTERVAL;
      const wait = slot - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt[k] = wall();
      await servers[k % servers.length]!.api.send({
        method: 'PUT',
        path: `/networks/${MARK_NETWORK}`,
        body: { display_name: `m${k}` },
      });
      ackMs.push(wall() - sentAt[k]!);
    }
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && [...Array(M).keys()].some((k) => (arrivals.get(k)?.length ?? 0) < N))
      await new Promise((r) => setTimeout(r, 250));
    const steadyS = (performance.now() - steadyT0) / 1000;
    const toAll: number[] = [];
    const each: number[] = [];
    let missing = 0;
    for (let k = 0; k < M; k++) {
      const got = arrivals.get(k) ?? [];
      missing += N - got.length;
      if (got.length === N) toAll.push(Math.max(...got) - sentAt[k]!);
      for (const at of got) each.push(at - sentAt[k]!);
    }
    const afterSteady = await stats();
    out.write_ack_p50_ms = ms(pct(ackMs, 50));
    out.write_to_all_p50_ms = ms(pct(toAll, 50));
    out.write_to_all_p95_ms = ms(pct(toAll, 95));
    out.write_to_all_p99_ms = ms(pct(toAll, 99));
    out.write_to_each_p50_ms = ms(pct(each, 50));
    out.write_to_each_p99_ms = ms(pct(each, 99));
    out.deliveries_missing = missing;
    out.steady_disconnects = afterSteady.disconnects - afterLoad.disconnects;
    out.steady_server_cpu_pct = Math.round(((cpuOf(serverPids) - cpu1) / steadyS) * 100);
    out.steady_server_written_mib = Math.round((bytesWritten(serverPids) - written1) / 2 ** 20);
    if (pgPids) out.steady_postgres_cpu_pct = Math.round(((cpuOf(pgPids()) - pg1) / steadyS) * 100);
    out.server_rss_mib = servers.map((s) => Math.round(procStat(s.proc.pid).rssMiB ?? 0)).join(' + ');
  } finally {
    for (const c of children) if (c.connected) c.send({ stop: true });
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
    );
  }
  return out;
}

async function main() {
  const results: Record<string, number | string>[] = [];
  const loadBefore = loadavg()[0]!.toFixed(1);
  // The machine is shared: the 1-minute load average over the whole run, sampled, goes with the figures.
  const loads: number[] = [];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 10_000);
  const dir = mkdtempSync(join(tmpdir(), `vnet-agents-scale-${process.pid}-`));
  const tokenFile = join(dir, 'admin.token');
  try {
    if (SETUPS.includes('sqlite')) {
      const s = await startServerProcess('agents-scale', ['--require-auth']);
      try {
        results.push(await measure('sqlite, 1 server', [s], null));
      } finally {
        await s.stop();
      }
    }
    const counts = SETUPS.flatMap((s) => (/^pg(\d)$/.exec(s) ? [Number(s.slice(2))] : []));
    if (counts.length > 0) {
      const cluster = await startPostgres({ durable: true });
      try {
        const pgPids = await postgresPids(cluster.url);
        for (const count of counts) {
          const url = await cluster.createDatabase();
          rmSync(tokenFile, { force: true });
          const servers: ServerProcess[] = [];
          try {
            for (let k = 0; k < count; k++)
              servers.push(
                await startServerProcess('agents-scale', [
                  '--require-auth',
                  '--admin-token-file',
                  tokenFile,
                  '--db',
                  url,
                ]),
              );
            const token = readFileSync(tokenFile, 'utf8').trim();
            for (const s of servers) s.api = new ApiClient({ baseUrl: s.base, token });
            results.push(await measure(`postgres, ${count} server${count > 1 ? 's' : ''}`, servers, pgPids));
          } finally {
            for (const s of servers) await s.stop();
          }
        }
      } finally {
        await cluster.stop();
      }
    }
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
  const range = loads.length ? `, ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during` : '';
  const load = `load ${loadBefore} → ${loadavg()[0]!.toFixed(1)}${range}`;
  if (json) process.stdout.write(`${JSON.stringify({ load, results })}\n`);
  else {
    console.log(
      `agents-scale: ${N} agents started over ${RAMP_MS} ms, ${M} writes every ${INTERVAL} ms, ${WORKERS} agent processes; ${load}`,
    );
    for (const r of results) {
      console.log(`\n${r.setup}`);
      for (const [k, v] of Object.entries(r)) if (k !== 'setup') console.log(`  ${k.padEnd(30)} ${v}`);
    }
  }
}

await main();

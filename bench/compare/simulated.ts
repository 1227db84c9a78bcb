// Metric 7, scale without OVS: N simulated agents (bench/compare/sim-agents.ts, split over two child
// processes, one per core) follow one real `vnet server`; the figure is the delay from one API write (t0 just
// before the POST) to the moment the last of the N agents has applied it and recomputed its flows. The server
// requires tokens and each agent has its own (as real ones do): a server allows one credential 50 change streams,
// so agents sharing the local admin stopped at 50.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ApiClient } from '../../src/client/api-client.js';
import { eachLimited } from '../lib/each-limited.js';
import { startServerProcess } from '../lib/server-process.js';
import { procStat } from './procstat.js';
import { percentile } from './report.js';
import type { SimAgentSpec } from './sim-agents.js';

const WORKER = fileURLToPath(new URL('./sim-agents.ts', import.meta.url));
const WORKERS = 2;
const PORTS_PER_AGENT = 2;
const AGENTS_PER_NETWORK = 10;

export interface SimulatedResult {
  agents: number;
  networks: number;
  interfaces: number;
  samples: number[];
  p50Ms: number | null;
  p95Ms: number | null;
  /** Resident memory of the worker processes divided by the agents they hold. */
  rssPerAgentMiB: number | null;
  setupMs: number;
}

const wall = (): number => performance.timeOrigin + performance.now();
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
const mac = (i: number): string =>
  `52:54:00:${hex((i >> 16) & 0xff, 2)}:${hex((i >> 8) & 0xff, 2)}:${hex(i & 0xff, 2)}`;
const ip = (net: number, host: number): string => `10.${Math.floor(net / 256)}.${net % 256}.${host}`;

/** POSTs `bodies` to `path`, 16 at a time. */
const postAll = (api: ApiClient, path: string, bodies: object[]): Promise<void> =>
  eachLimited(bodies, 16, (body) => api.send({ method: 'POST', path, body }));

function once<T>(child: ChildProcess, pick: (m: Record<string, unknown>) => T | undefined, timeoutMs: number) {
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`simulated agents: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMsg = (m: Record<string, unknown>): void => {
      const v = pick(m);
      if (v === undefined) return;
      done();
      resolve(v);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`simulated agents exited with ${code}`));
    };
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

export async function runSimulated(n: number, writes: number): Promise<SimulatedResult> {
  const t0 = Date.now();
  const server = await startServerProcess('sim', ['--require-auth']);
  const children: ChildProcess[] = [];
  try {
    const { api } = server;
    const networks = Math.max(1, Math.ceil(n / AGENTS_PER_NETWORK));
    await postAll(
      api,
      '/networks',
      Array.from({ length: networks }, (_, k) => ({ uuid: `nw-sim${k}`, ipv4_network: ip(k, 0), ipv4_prefix: 24 })),
    );
    const specs: SimAgentSpec[] = [];
    const dps: object[] = [];
    const ifs: object[] = [];
    for (let a = 0; a < n; a++) {
      const uuid = `dp-sim${a}`;
      const tunnelIp = `192.0.${Math.floor(a / 250)}.${1 + (a % 250)}`;
      dps.push({ uuid, dpid: `0x${hex(a + 1, 16)}`, node_id: `sim${a}`, ipv4_address: tunnelIp });
      const ports: string[] = [];
      for (let p = 0; p < PORTS_PER_AGENT; p++) {
        const i = a * PORTS_PER_AGENT + p;
        const net = Math.floor(a / AGENTS_PER_NETWORK);
        ports.push(`if-s${i}`);
        ifs.push({
          uuid: `if-s${i}`,
          network_uuid: `nw-sim${net}`,
          mac_address: mac(i + 1),
          ipv4_address: ip(net, 1 + (i % 200)),
        });
      }
      specs.push({ datapathUuid: uuid, dpid: `0x${hex(a + 1, 16)}`, tunnelIp, ports, token: '' });
    }
    await postAll(api, '/datapaths', dps);
    await postAll(api, '/interfaces', ifs);
    await eachLimited(specs, 16, async (spec, a) => {
      const t = await api.send<{ token: string }>({
        method: 'POST',
        path: '/tokens',
        body: { role: 'agent', node_id: `sim${a}`, display_name: `sim${a}` },
      });
      spec.token = t.token;
    });
    const per = Math.ceil(n / WORKERS);
    for (let w = 0; w < WORKERS && w * per < n; w++) {
      const part = specs.slice(w * per, (w + 1) * per);
      children.push(
        fork(WORKER, [server.base, JSON.stringify(part)], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          env: { ...process.env, VNET_LOG_LEVEL: 'warn' },
        }),
      );
    }
    await Promise.all(children.map((c) => once(c, (m) => (m.ready ? true : undefined), 300_000)));
    const setupMs = Date.now() - t0;
    const samples: number[] = [];
    for (let k = 0; k < writes; k++) {
      const uuid = `if-w${k}`;
      const answers = children.map((c) => once(c, (m) => (m.done === uuid ? Number(m.at) : undefined), 60_000));
      for (const c of children) c.send({ await: uuid });
      const start = wall();
      await api.send({
        method: 'POST',
        path: '/interfaces',
        body: { uuid, network_uuid: 'nw-sim0', mac_address: mac(0xf00000 + k), ipv4_address: ip(0, 201 + (k % 50)) },
      });
      const ats = await Promise.all(answers);
      samples.push(Math.max(...ats) - start);
      await api.send({ method: 'DELETE', path: `/interfaces/${uuid}` });
      await new Promise((r) => setTimeout(r, 50));
    }
    const rss = children.map((c) => procStat(c.pid).rssMiB);
    const rssSum = rss.every((x) => x !== null) ? (rss as number[]).reduce((a, b) => a + b, 0) : null;
    return {
      agents: n,
      networks,
      interfaces: ifs.length,
      samples,
      p50Ms: percentile(samples, 50),
      p95Ms: percentile(samples, 95),
      rssPerAgentMiB: rssSum === null ? null : rssSum / n,
      setupMs,
    };
  } finally {
    for (const c of children) if (c.connected) c.send({ stop: true });
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await server.stop();
  }
}

// Standalone: node --import tsx bench/compare/simulated.ts [N...]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const n of (process.argv.slice(2).length ? process.argv.slice(2) : ['10', '100']).map(Number)) {
    const r = await runSimulated(n, 10);
    console.log(
      `simulated agents N=${n}: write → all computed p50 ${r.p50Ms?.toFixed(1)} ms, p95 ${r.p95Ms?.toFixed(1)} ms; ` +
        `${r.rssPerAgentMiB?.toFixed(2)} MiB per agent; setup ${r.setupMs} ms`,
    );
  }
}

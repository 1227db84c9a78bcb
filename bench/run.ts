// vnet vs OVN in one run (issue 8): builds the same 2-host topology with vnet and with OVN (the shared lab's
// scripts, called where they live), one after the other, and writes a markdown + JSON report of each metric
// with vnet, OVN and the ratio. Cleans up everything it started, also on Ctrl-C.
//   npm run bench -- [--quick] [--out DIR] [--skip-ovn] [--skip-vnet] [--only a,b,...]
// Phases: latency (metrics 1, 3, 4 on vnet), extra (2, 5 on vnet), scale (3), throughput (6: vnet, OVN and the bare
// bridge up at once, their runs interleaved), ovn (1, 3, 4), ovn-extra (2, 5), simulated (7). "extra" and
// "ovn-extra" run the same workload: two VMs.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../src/demo/cluster.js';
import { cleanupLeftovers } from '../src/lab/cleanup.js';
import { type OvnBenchResult, type OvnExtra, ovnCleanup, runOvnBench, runOvnExtra } from './compare/ovn.js';
import { runInterleavedThroughput, type ThroughputResult } from './compare/throughput.js';
import {
  machineInfo,
  type MetricRow,
  percentile,
  type Report,
  ratio,
  toMarkdown,
  writeReport,
} from './compare/report.js';
import { runSimulated, type SimulatedResult } from './compare/simulated.js';
import {
  type FlowScale,
  runFlowScale,
  runVnetExtra,
  runVnetLatency,
  setupProbePair,
  startBenchCluster,
  type VnetExtraResult,
  type VnetLatencyResult,
} from './compare/vnet.js';

// Benchmarks measure what production runs: FlowCompiler's table-contract check (on outside production) stays off,
// here and in the agents this run starts (they inherit the environment).
process.env.NODE_ENV ??= 'production';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
const flag = (n: string): boolean => args.includes(`--${n}`);
const value = (n: string): string | undefined => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : undefined;
};
if (flag('help')) {
  process.stdout.write(
    'usage: npm run bench -- [--quick] [--out DIR] [--skip-ovn] [--skip-vnet] [--only PHASES]\n' +
      '  phases: latency,extra,scale,throughput,ovn,ovn-extra,simulated (default: all)\n' +
      '  --quick: fewer levels and repetitions (under 10 minutes); the full run takes under 60\n' +
      '  report: DIR/bench-<time>.md and .json (default bench/results)\n',
  );
  process.exit(0);
}
const quick = flag('quick');
const outDir = value('out') ?? join(ROOT, 'bench', 'results');
const only = value('only')?.split(',');
const PHASES = ['latency', 'extra', 'scale', 'throughput', 'ovn', 'ovn-extra', 'simulated'] as const;
type Phase = (typeof PHASES)[number];
const enabled = (p: Phase): boolean =>
  (!only || only.includes(p)) &&
  !(flag('skip-ovn') && p.startsWith('ovn')) &&
  !(flag('skip-vnet') && !p.startsWith('ovn') && p !== 'throughput');
for (const p of only ?? []) if (!PHASES.includes(p as Phase)) throw new Error(`--only: unknown phase '${p}'`);

// Same levels, repetitions and encapsulation on both sides. OVN 23.03 has no GRE: VXLAN on both.
const CFG = quick
  ? {
      levels: [0, 10, 100, 200],
      reps: 3,
      coldReps: 2,
      iperfS: 5,
      // Interleaved rounds (vnet, OVN, bare each): at least, at most (stops once every spread is known).
      iperfRounds: [3, 6] as [number, number],
      pingN: 500,
      sim: [10, 100, 1000],
      simWrites: 5,
    }
  : {
      levels: [0, 10, 100, 200, 1000],
      reps: 10,
      coldReps: 5,
      iperfS: 10,
      iperfRounds: [5, 12] as [number, number],
      pingN: 1000,
      sim: [10, 100, 1000],
      simWrites: 20,
    };
const SCALE: [number, number][] = quick
  ? [
      [100, 10],
      [1000, 100],
    ]
  : [
      [100, 10],
      [100, 100],
      [1000, 10],
      [1000, 100],
    ];
const ENCAP = 'vxlan' as const;
const PREFIX = `vb${process.pid % 10000}`;

const children = new Set<ChildProcess>();
const clusters = new Set<Cluster>();
const prefixes = new Set<string>();
let interrupted = false;
const log = (s: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

async function cleanupAll(): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  for (const c of clusters) await c.down().catch(() => undefined);
  clusters.clear();
  // Whatever an interrupted phase left (a lab is found by its name prefix, even half-built).
  for (const p of prefixes) await cleanupLeftovers(p).catch(() => undefined);
}
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: cleaning up (Ctrl-C again to exit at once)');
  void (async () => {
    await cleanupAll();
    if (enabled('ovn')) await ovnCleanup(children, join(outDir, 'ovn-cleanup.log'));
    process.exit(130);
  })();
});

async function withCluster<T>(tag: string, fn: (c: Cluster, dps: Map<string, string>) => Promise<T>): Promise<T> {
  const prefix = `${PREFIX}${tag}`.slice(0, 8);
  prefixes.add(prefix);
  const { c, dps } = await startBenchCluster(prefix, ENCAP);
  clusters.add(c);
  try {
    return await fn(c, dps);
  } finally {
    clusters.delete(c);
    await c.down();
  }
}

async function phase<T>(name: Phase, gaps: string[], fn: () => Promise<T>): Promise<T | null> {
  if (!enabled(name) || interrupted) return null;
  const t0 = Date.now();
  log(`phase ${name} …`);
  try {
    const r = await fn();
    log(`phase ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return r;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`phase ${name} FAILED: ${msg}`);
    gaps.push(`${name}: failed: ${msg.split('\n')[0]}`);
    return null;
  }
}

const median = (xs: readonly number[]): number | null => percentile(xs, 50);
/**
 * The p95's 90% bootstrap interval (1,000 resamples, a fixed seed so a report reproduces): how far another run's
 * p95 could land with this many samples.
 */
function interval(xs: readonly number[]): string {
  if (xs.length < 5) return `– (${xs.length} samples)`;
  let seed = 1;
  const rnd = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const p95s: number[] = [];
  for (let i = 0; i < 1000; i++)
    p95s.push(
      percentile(
        Array.from({ length: xs.length }, () => xs[Math.floor(rnd() * xs.length)]!),
        95,
      )!,
    );
  return `${percentile(p95s, 5)!.toFixed(0)}–${percentile(p95s, 95)!.toFixed(0)} ms`;
}
const nums = (xs: readonly (number | null | undefined)[]): number[] =>
  xs.filter((x): x is number => typeof x === 'number');
const sumOrNull = (xs: (number | null | undefined)[]): number | null =>
  xs.every((x) => typeof x === 'number') ? (xs as number[]).reduce((a, b) => a + b, 0) : null;

function buildRows(
  v: VnetLatencyResult | null,
  vx: VnetExtraResult | null,
  scale: FlowScale[] | null,
  tp: ThroughputResult | null,
  o: OvnBenchResult | null,
  ox: OvnExtra | null,
  sim: SimulatedResult[] | null,
): MetricRow[] {
  const rows: MetricRow[] = [];
  // 1. Port-up latency: API write (lsp-add) for a pre-plugged VM → first ping from the other host.
  for (const n of CFG.levels) {
    const vs = nums((v?.samples ?? []).filter((s) => s.n === n).map((s) => s.pingMs));
    const os = nums((o?.cases ?? []).filter((c) => c.kind === 'preplug' && c.n === n).map((c) => c.pingMs));
    for (const p of [50, 95] as const)
      rows.push({
        metric: 1,
        name: `port-up, pre-plugged, ${n} other ports, p${p}`,
        unit: 'ms',
        vnet: percentile(vs, p),
        ovn: percentile(os, p),
        note: `${vs.length} vnet / ${os.length} OVN samples${p === 95 ? `; p95's 90% bootstrap interval vnet ${interval(vs)}, OVN ${interval(os)}` : ''}`,
      });
  }
  const lo = CFG.levels.find((n) => n >= 10)!;
  const hi = CFG.levels.at(-1)!;
  const growth = (pick: (n: number) => number[]): number | null => {
    const a = median(pick(lo));
    const b = median(pick(hi));
    return a !== null && b !== null && a > 0 ? b / a : null;
  };
  rows.push({
    metric: 1,
    name: `port-up median growth from ${lo} to ${hi} ports`,
    unit: '×',
    vnet: growth((n) => nums((v?.samples ?? []).filter((s) => s.n === n).map((s) => s.pingMs))),
    ovn: growth((n) => nums((o?.cases ?? []).filter((c) => c.kind === 'preplug' && c.n === n).map((c) => c.pingMs))),
    note: 'target: vnet < 1.5',
  });
  // 2. Reconvergence.
  rows.push({
    metric: 2,
    name: 'VM moves host → first ping',
    unit: 'ms',
    vnet: median(vx?.moveMs ?? []),
    ovn: ox?.moveMs ?? null,
    note: `port removed on one host, plugged on the other with the same iface-id${vx?.moveLabMs.length ? `; vnet: ${median(vx.moveLabMs)?.toFixed(0)} ms of it is the lab's unplug/plug` : ''}`,
  });
  rows.push({
    metric: 2,
    name: 'interface deleted and re-created → first ping',
    unit: 'ms',
    vnet: median(vx?.recreateMs ?? []),
    ovn: ox?.recreateMs ?? null,
    note: 'VM stays plugged',
  });
  // 3. Flows per port (one network, from the latency levels) and at the scale points.
  const vl = v?.levels ?? [];
  const v0 = vl.find((l) => l.n === 0);
  const vTop = vl.find((l) => l.n === hi);
  const ol = o?.levels ?? [];
  const o0 = ol.find((l) => l.n === 0);
  const oTop = ol.find((l) => l.n === hi);
  const perPort = (f0: number | null | undefined, f1: number | null | undefined): number | null =>
    typeof f0 === 'number' && typeof f1 === 'number' && hi > 0 ? (f1 - f0) / hi : null;
  rows.push({
    metric: 3,
    name: `flows per port on host 1 (one network, 0 → ${hi} ports)`,
    unit: 'flows',
    vnet: perPort(v0?.flowsH1, vTop?.flowsH1),
    ovn: perPort(o0?.flowsCh1, oTop?.flowsCh1),
    note: 'added flows / added ports (half of them local); target vnet ≤ 6',
  });
  rows.push({
    metric: 3,
    name: `flows in total on host 1 at ${hi} ports`,
    unit: 'flows',
    vnet: vTop?.flowsH1 ?? null,
    ovn: oTop?.flowsCh1 ?? null,
  });
  for (const s of scale ?? [])
    rows.push({
      metric: 3,
      name: `flows on host 1: ${s.ports} ports in ${s.networks} networks`,
      unit: 'flows',
      vnet: s.flowsH1,
      ovn: null,
      note: `${(s.flowsH1 / s.ports).toFixed(2)} per port; settled in ${s.settleMs} ms (vnet only: bench.sh has one switch)`,
    });
  // 4. Control-plane CPU and memory, same workload (background ports + the probes at every level).
  const ctl = (l: (typeof ol)[number] | undefined, d: string) => l?.daemons[d];
  rows.push({
    metric: 4,
    name: `agent vs ovn-controller (host 2) CPU, whole workload to ${hi} ports`,
    unit: 's',
    vnet: vTop?.agentH2.cpuS ?? null,
    ovn: ctl(oTop, 'ctl2')?.cpuS ?? null,
  });
  rows.push({
    metric: 4,
    name: `agent vs ovn-controller (host 2) RSS at ${hi} ports`,
    unit: 'MiB',
    vnet: vTop?.agentH2.rssMiB ?? null,
    ovn: ctl(oTop, 'ctl2')?.rssMiB ?? null,
    note: `vnet peak ${vTop?.agentH2.peakMiB?.toFixed(1) ?? '–'} MiB`,
  });
  const growthPer1000 = (a: number | null | undefined, b: number | null | undefined): number | null =>
    typeof a === 'number' && typeof b === 'number' && hi > 0 ? ((b - a) / hi) * 1000 : null;
  rows.push({
    metric: 4,
    name: 'agent vs ovn-controller memory growth per 1,000 interfaces',
    unit: 'MiB',
    vnet: growthPer1000(v0?.agentH2.rssMiB, vTop?.agentH2.rssMiB),
    ovn: growthPer1000(ctl(o0, 'ctl2')?.rssMiB, ctl(oTop, 'ctl2')?.rssMiB),
    note: `extrapolated from 0 → ${hi} ports`,
  });
  rows.push({
    metric: 4,
    name: 'server vs ovn-northd + NB + SB CPU, whole workload',
    unit: 's',
    vnet: vTop?.server.cpuS ?? null,
    ovn: sumOrNull(['northd', 'nb', 'sb'].map((d) => ctl(oTop, d)?.cpuS)),
  });
  rows.push({
    metric: 4,
    name: `server vs ovn-northd + NB + SB RSS at ${hi} ports`,
    unit: 'MiB',
    vnet: vTop?.server.rssMiB ?? null,
    ovn: sumOrNull(['northd', 'nb', 'sb'].map((d) => ctl(oTop, d)?.rssMiB)),
  });
  // 5. Agent restart.
  rows.push({
    metric: 5,
    name: 'agent restart (kill -9) → flows in sync',
    unit: 'ms',
    vnet: vx?.restart?.syncMs ?? null,
    ovn: ox?.restartSyncMs ?? null,
    note: 'vnet: reported flows_in_sync; OVN: as many flows as before',
  });
  rows.push({
    metric: 5,
    name: 'packets lost by a 100/s ping during the restart',
    unit: 'packets',
    vnet: vx?.restart ? vx.restart.sent - vx.restart.received : null,
    ovn: ox?.pingSent !== null && ox?.pingSent !== undefined ? ox.pingSent - (ox.pingReceived ?? 0) : null,
    note: 'target vnet: 0',
  });
  // 6. Throughput: interleaved runs (throughput.ts); the spread, CPU per gigabit and the load in the notes.
  const st = (k: 'vnet' | 'ovn' | 'bare') => tp?.stats[k];
  const spread = (k: 'vnet' | 'ovn' | 'bare'): string => {
    const x = st(k);
    return x?.runs
      ? `${k} ${x.runs} runs ${x.minMbps?.toFixed(0)}–${x.maxMbps?.toFixed(0)} (SE ${((x.relSe ?? 0) * 100).toFixed(1)}%)`
      : `${k} –`;
  };
  const loads = (tp?.samples ?? []).map((x) => x.load1);
  const vb = st('vnet')?.medianMbps;
  const bb = st('bare')?.medianMbps;
  rows.push({
    metric: 6,
    name: `TCP VM↔VM across hosts (iperf3, ${tp?.seconds ?? CFG.iperfS} s runs interleaved, median)`,
    unit: 'Mbit/s',
    vnet: st('vnet')?.medianMbps ?? null,
    ovn: st('ovn')?.medianMbps ?? null,
    other: { label: 'bare bridge', value: bb ?? null },
    note: `${['vnet', 'ovn', 'bare'].map((k) => spread(k as 'vnet')).join('; ')}; load ${loads.length ? `${Math.min(...loads)}–${Math.max(...loads)}` : '–'}${
      vb && bb ? `; vnet = ${((100 * vb) / bb).toFixed(0)}% of the bare bridge (target ≥ 95%)` : ''
    }`,
  });
  rows.push({
    metric: 6,
    name: 'CPU per gigabit carried (both ovs-vswitchd + both iperf3), median',
    unit: 'CPU-s/Gbit',
    vnet: st('vnet')?.medianCpuSPerGbit ?? null,
    ovn: st('ovn')?.medianCpuSPerGbit ?? null,
    other: { label: 'bare bridge', value: st('bare')?.medianCpuSPerGbit ?? null },
    note: 'the same runs; lower is better',
  });
  // 7. Simulated agents.
  for (const s of sim ?? [])
    rows.push({
      metric: 7,
      name: `simulated: write → all ${s.agents} agents computed, p50 (p95 ${s.p95Ms?.toFixed(1) ?? '–'})`,
      unit: 'ms',
      vnet: s.p50Ms,
      ovn: null,
      note: `simulated agents, no OVS; ${s.interfaces} interfaces, ${s.networks} networks; ${s.rssPerAgentMiB?.toFixed(2) ?? '–'} MiB per agent`,
    });
  return rows;
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const m0 = machineInfo();
  const startedAt = new Date().toISOString();
  const gaps: string[] = [];
  log(
    `${quick ? 'quick' : 'full'} run, ${ENCAP}, levels ${CFG.levels.join(' ')}, reps ${CFG.reps}; report in ${outDir}`,
  );

  const vnet = await phase('latency', gaps, () =>
    withCluster('l', (c, dps) =>
      runVnetLatency(c, dps, {
        levels: CFG.levels,
        reps: CFG.reps,
        deadlineS: 20,
        log,
      }),
    ),
  );
  for (const e of vnet?.errors ?? []) gaps.push(`vnet latency: ${e.split('\n')[0]}`);
  const vnetExtra = await phase('extra', gaps, () =>
    withCluster('x', (c, dps) => runVnetExtra(c, dps, { deadlineS: 20, pingN: CFG.pingN })),
  );
  for (const e of vnetExtra?.errors ?? []) gaps.push(`vnet extra: ${e.split('\n')[0]}`);
  const scale = await phase('scale', gaps, async () => {
    const out: FlowScale[] = [];
    for (const [ports, networks] of SCALE) {
      if (interrupted) break;
      const s = await withCluster('s', (c, dps) => runFlowScale(c, dps, ports, networks));
      log(`vnet scale ${ports} ports / ${networks} networks: flows h1=${s.flowsH1} h2=${s.flowsH2}`);
      out.push(s);
    }
    return out;
  });
  const throughput = await phase('throughput', gaps, async () => {
    const prefix = `${PREFIX}b`.slice(0, 8);
    prefixes.add(prefix);
    const run = (c: Cluster | null) =>
      runInterleavedThroughput({
        vnet: c,
        ovn: !flag('skip-ovn'),
        bare: { prefix, encap: ENCAP },
        seconds: CFG.iperfS,
        minRounds: CFG.iperfRounds[0],
        maxRounds: CFG.iperfRounds[1],
        workDir: outDir,
        children,
        log,
      });
    if (flag('skip-vnet')) return run(null);
    return withCluster('t', async (c, dps) => {
      await setupProbePair(c, dps, true);
      return run(c);
    });
  });
  for (const e of throughput?.errors ?? []) gaps.push(`throughput: ${e.split('\n')[0]}`);
  const ovn = await phase('ovn', gaps, async () => {
    const r = await runOvnBench(
      {
        encap: ENCAP,
        levels: CFG.levels,
        reps: CFG.reps,
        coldReps: CFG.coldReps,
        workDir: outDir,
        timeoutMs: 40 * 60_000,
      },
      children,
    );
    if (r.exitCode !== 0) gaps.push(`OVN bench.sh exited ${r.exitCode} (log ${r.log})`);
    return r;
  });
  const ovnExtra = await phase('ovn-extra', gaps, async () => {
    const r = await runOvnExtra(
      {
        encap: ENCAP,
        workDir: outDir,
        // Throughput is measured in the interleaved phase, not here.
        iperfS: CFG.iperfS,
        iperfRuns: 0,
        pingN: CFG.pingN,
        timeoutMs: 10 * 60_000,
      },
      children,
    );
    if (r.exitCode !== 0) gaps.push(`OVN extra measurements exited ${r.exitCode} (log ${r.log})`);
    return r;
  });
  const sim = await phase('simulated', gaps, async () => {
    const out: SimulatedResult[] = [];
    for (const n of CFG.sim) {
      if (interrupted) break;
      const r = await runSimulated(n, CFG.simWrites);
      log(`simulated N=${n}: p50 ${r.p50Ms?.toFixed(1)} ms p95 ${r.p95Ms?.toFixed(1)} ms`);
      out.push(r);
    }
    return out;
  });
  if (!enabled('ovn') && !enabled('ovn-extra')) gaps.push('OVN not run in this report (--skip-ovn or --only)');

  const rows = buildRows(vnet, vnetExtra, scale, throughput, ovn, ovnExtra, sim);
  const report: Report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick,
    machine: { cpus: m0.cpus, loadavgStart: m0.loadavg, loadavgEnd: machineInfo().loadavg, kernel: m0.kernel },
    encap: ENCAP,
    rows,
    gaps,
    raw: { config: CFG, scale: SCALE, vnet, vnetExtra, flowScale: scale, throughput, ovn, ovnExtra, simulated: sim },
  };
  const files = writeReport(report, outDir);
  process.stdout.write(`${toMarkdown(report)}\n`);
  log(`report: ${files.md} and ${files.json}`);
  for (const r of rows.filter((x) => x.vnet !== null && x.ovn !== null))
    log(`#${r.metric} ${r.name}: vnet/OVN = ${ratio(r.vnet, r.ovn)?.toFixed(2)}`);
}

try {
  await main();
} finally {
  await cleanupAll();
}

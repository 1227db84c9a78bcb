// TCP throughput of vnet, OVN and a bare bridge, believable on a shared machine (issue 18 item 5): the three labs
// are up at once and their iperf3 runs interleave (vnet, OVN, bare, then the next round in a rotated order), so a
// burst of other work falls on all of them alike; rounds repeat until each system's spread is known (the standard
// error of its mean under 5 %, or the round limit). Each run also counts the CPU it cost — both hosts'
// ovs-vswitchd (the userspace datapath forwards there) and both iperf3 processes — per gigabit carried, and the
// machine's load when it ran.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../../src/demo/cluster.js';
import { Lab } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { OVN_LAB_DIR } from './ovn.js';
import { procStat } from './procstat.js';
import { percentile } from './report.js';
import { PROBE } from './vnet.js';

export type ThroughputSystem = 'vnet' | 'ovn' | 'bare';

export interface ThroughputSample {
  system: ThroughputSystem;
  round: number;
  mbps: number;
  /** CPU seconds of both ovs-vswitchd and both iperf3 over the run. */
  cpuS: number;
  cpuSPerGbit: number;
  /** The machine's 1-minute load average when the run started. */
  load1: number;
}

export interface ThroughputStat {
  runs: number;
  medianMbps: number | null;
  minMbps: number | null;
  maxMbps: number | null;
  /** Standard error of the mean, as a share of the mean. */
  relSe: number | null;
  medianCpuSPerGbit: number | null;
}

export interface ThroughputResult {
  seconds: number;
  samples: ThroughputSample[];
  stats: Partial<Record<ThroughputSystem, ThroughputStat>>;
  errors: string[];
}

/** One system under test: runs one iperf3 and says what it carried and what its daemons spent. */
interface Runner {
  name: ThroughputSystem;
  run(seconds: number): Promise<{ bps: number; cpuS: number }>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

interface IperfJson {
  end?: {
    sum_received?: { bits_per_second?: number; seconds?: number };
    cpu_utilization_percent?: { host_total?: number; remote_total?: number };
  };
}

/** bps and the two iperf3 processes' CPU seconds from iperf3 -J's report. */
function fromIperf(text: string, seconds: number): { bps: number; iperfCpuS: number } {
  const j = JSON.parse(text) as IperfJson;
  const bps = j.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number') throw new Error(`iperf3 gave no result: ${text.slice(0, 300)}`);
  const cpu = j.end?.cpu_utilization_percent;
  const dur = j.end?.sum_received?.seconds ?? seconds;
  return { bps, iperfCpuS: (((cpu?.host_total ?? 0) + (cpu?.remote_total ?? 0)) / 100) * dur };
}

const cpuOf = (pids: number[]) => pids.reduce((a, p) => a + (procStat(p).cpuS ?? 0), 0);

/** A lab of src/lab (vnet's cluster, or the plain-mode bare bridge): iperf3 between two of its VMs. */
function labRunner(name: ThroughputSystem, lab: Lab, client: string, server: string, ip: string): Runner {
  const pids = lab
    .status()
    .hosts.map((h) => h.vswitchdPid)
    .filter((p): p is number => p !== null);
  return {
    name,
    async run(seconds) {
      await lab.exec(server, ['iperf3', '-s', '-1', '-D']);
      await sleep(500);
      const c0 = cpuOf(pids);
      const r = await lab.exec(client, [
        'timeout',
        String(seconds + 20),
        'iperf3',
        '-c',
        ip,
        '-t',
        String(seconds),
        '-J',
      ]);
      const { bps, iperfCpuS } = fromIperf(r.stdout, seconds);
      return { bps, cpuS: cpuOf(pids) - c0 + iperfCpuS };
    },
    close: async () => undefined,
  };
}

/**
 * OVN: the shared lab's lib.sh (sourced where it lives) builds two chassis with a VM each on one switch, says READY
 * with its ovs-vswitchd pids, then runs one iperf3 per `iperf` line on its stdin until `quit` (then cleans up).
 */
const OVN_SCRIPT = String.raw`
set -u
source "$OVN_LAB_DIR/lib.sh"
trap 'lab_cleanup >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM
lab_cleanup >/dev/null 2>&1
{
start_central; start_underlay; start_chassis 1; start_chassis 2
wait_chassis 2 30 || die "chassis not up"
nb ls-add sw
for v in "a 1 0a:20:00:00:00:11 10.20.0.11" "b 2 0a:20:00:00:00:12 10.20.0.12"; do
  set -- $v
  nb lsp-add sw $1 -- lsp-set-addresses $1 "$3 $4" -- lsp-set-port-security $1 "$3 $4"
  vm_add $1 $2 $1 $3 $4/24
  ip netns exec $PFX-$1 ethtool -K eth0 tx off
  ip netns exec $PFX-ch$2 ethtool -K v-$1 tx off
done
nb --wait=hv sync
wait_ping a 10.20.0.12 20 || die "a cannot ping b"
} >&2
echo "READY $(cat $LAB/ch1/ovs-vswitchd.pid) $(cat $LAB/ch2/ovs-vswitchd.pid)"
while read -r cmd secs; do
  [ "$cmd" = iperf ] || break
  ip netns exec $PFX-b iperf3 -s -1 -D >/dev/null 2>&1; sleep 0.5
  echo "START"
  read -r go
  echo "RESULT $(ip netns exec $PFX-a timeout $((secs + 20)) iperf3 -c 10.20.0.12 -t $secs -J 2>/dev/null | tr -d '\n')"
done
`;

async function ovnRunner(children: Set<import('node:child_process').ChildProcess>, logFile: string): Promise<Runner> {
  const child = spawn('bash', ['-c', OVN_SCRIPT], {
    env: { ...process.env, OVN_LAB_DIR },
    cwd: OVN_LAB_DIR,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.stderr.pipe(createWriteStream(logFile, { flags: 'a' }));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`the OVN lab script ended (log ${logFile})`);
    return r.value;
  };
  const ready = await next();
  const pids = ready.split(' ').slice(1).map(Number);
  if (!ready.startsWith('READY') || pids.length !== 2) throw new Error(`OVN lab: ${ready}`);
  return {
    name: 'ovn',
    async run(seconds) {
      child.stdin.write(`iperf ${seconds}\n`);
      if ((await next()) !== 'START') throw new Error('OVN lab: no START');
      const c0 = cpuOf(pids);
      child.stdin.write('go\n');
      const line = await next();
      const { bps, iperfCpuS } = fromIperf(line.replace(/^RESULT /, ''), seconds);
      return { bps, cpuS: cpuOf(pids) - c0 + iperfCpuS };
    },
    async close() {
      child.stdin.end('quit\n');
      await new Promise((r) => child.once('close', r));
      children.delete(child);
    },
  };
}

function statOf(xs: ThroughputSample[]): ThroughputStat {
  const m = xs.map((s) => s.mbps);
  const mean = m.reduce((a, b) => a + b, 0) / Math.max(1, m.length);
  const sd = Math.sqrt(m.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, m.length - 1));
  return {
    runs: m.length,
    medianMbps: percentile(m, 50),
    minMbps: m.length ? Math.min(...m) : null,
    maxMbps: m.length ? Math.max(...m) : null,
    relSe: m.length > 1 && mean > 0 ? sd / Math.sqrt(m.length) / mean : null,
    medianCpuSPerGbit: percentile(
      xs.map((s) => s.cpuSPerGbit),
      50,
    ),
  };
}

/**
 * Interleaved rounds over the systems given (vnet: a cluster already carrying the probe pair; OVN and the bare bridge
 * are built here and removed at the end). At least `minRounds`, at most `maxRounds`.
 */
export async function runInterleavedThroughput(o: {
  vnet: Cluster | null;
  ovn: boolean;
  bare: { prefix: string; encap: 'gre' | 'vxlan' } | null;
  seconds: number;
  minRounds: number;
  maxRounds: number;
  workDir: string;
  children: Set<import('node:child_process').ChildProcess>;
  log: (s: string) => void;
}): Promise<ThroughputResult> {
  const res: ThroughputResult = { seconds: o.seconds, samples: [], stats: {}, errors: [] };
  const runners: Runner[] = [];
  let bareLab: Lab | null = null;
  try {
    if (o.vnet) runners.push(labRunner('vnet', o.vnet.lab, 'bref', 'bprobe', PROBE.ip));
    if (o.ovn)
      try {
        runners.push(await ovnRunner(o.children, join(o.workDir, 'ovn-throughput.log')));
      } catch (e) {
        res.errors.push(`OVN: ${String(e)}`);
      }
    if (o.bare) {
      bareLab = await Lab.up(defaultTopology(2, 2), { prefix: o.bare.prefix, encap: o.bare.encap, mode: 'plain' });
      const ip2 = bareLab.vm('vm2').ip!;
      const w = await bareLab.waitPing('vm1', ip2, { timeoutMs: 20_000 });
      if (!w.ok) throw new Error(`bare lab: vm1 cannot ping vm2\n${w.output}`);
      runners.push(labRunner('bare', bareLab, 'vm1', 'vm2', ip2));
    }
    for (let round = 1; round <= o.maxRounds; round++) {
      // Rotated order: no system always runs first (after a pause) or last.
      const order = runners.map((_, i) => runners[(i + round - 1) % runners.length]!);
      for (const r of order) {
        const l = load1();
        try {
          const { bps, cpuS } = await r.run(o.seconds);
          const gbit = (bps * o.seconds) / 1e9;
          res.samples.push({ system: r.name, round, mbps: bps / 1e6, cpuS, cpuSPerGbit: cpuS / gbit, load1: l });
          o.log(
            `throughput round ${round} ${r.name}: ${(bps / 1e6).toFixed(0)} Mbit/s, ${(cpuS / gbit).toFixed(2)} CPU-s/Gbit, load ${l}`,
          );
        } catch (e) {
          res.errors.push(`${r.name} round ${round}: ${String(e).split('\n')[0]}`);
        }
      }
      for (const r of runners) res.stats[r.name] = statOf(res.samples.filter((s) => s.system === r.name));
      const known = runners.every((r) => (res.stats[r.name]?.relSe ?? 1) < 0.05);
      if (round >= o.minRounds && known) break;
    }
  } finally {
    for (const r of runners) await r.close().catch(() => undefined);
    await bareLab?.down().catch(() => undefined);
  }
  return res;
}

// OVN side: runs the shared OVN lab's bench.sh where it lives (never copied), parses its $OUTDIR TSVs,
// and measures what bench.sh does not (iperf3, ovn-controller restart) by sourcing its lib.sh.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from './report.js';

export const OVN_LAB_DIR = process.env.OVN_LAB_DIR ?? '/work/shared/lab/ovn';

export interface OvnCase {
  kind: 'cold' | 'probe' | 'preplug';
  n: number;
  rep: number;
  nbMs: number | null;
  bindMs: number | null;
  instMs: number | null;
  upMs: number | null;
  pingMs: number | null;
}

export interface OvnLevel {
  n: number;
  flowsCh1: number | null;
  flowsCh2: number | null;
  lflows: number | null;
  /** Cumulative, quiescent: daemon name → {cpuS, rssMiB} (ctl1, ctl2, northd, nb, sb, vsd1, vsd2). */
  daemons: Record<string, { cpuS: number | null; rssMiB: number | null }>;
  batchCpuCtl2: number | null;
}

export interface OvnBenchResult {
  encap: string;
  cases: OvnCase[];
  levels: OvnLevel[];
  log: string;
  exitCode: number | null;
}

function num(s: string | undefined): number | null {
  if (s === undefined || s === '' || s === 'NA') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** Runs a command with output appended to `logFile`; resolves with the exit code. Tracks the child for SIGINT. */
export function runLogged(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; timeoutMs: number },
  children: Set<import('node:child_process').ChildProcess>,
): Promise<number | null> {
  return new Promise((resolve) => {
    const out = createWriteStream(opts.logFile, { flags: 'a' });
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    // bench.sh traps TERM and runs its own lab_cleanup, so a timeout still leaves nothing behind.
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.on('error', (e) => out.write(`spawn error: ${String(e)}\n`));
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      out.end();
      resolve(code);
    });
  });
}

/** A bench.sh TSV file's rows (header dropped), each split into its columns. */
function tsvRows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((r) => r.split('\t'));
}

/** Parses bench.sh's `bench-<ts>.tsv` and `levels-<ts>.tsv` (the newest pair in `dir`). */
export function parseOvnResults(dir: string): { cases: OvnCase[]; levels: OvnLevel[] } {
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const bench = files.filter((f) => /^bench-.*\.tsv$/.test(f)).sort();
  const lvl = files.filter((f) => /^levels-.*\.tsv$/.test(f)).sort();
  const cases: OvnCase[] = [];
  const levels: OvnLevel[] = [];
  if (bench.length > 0) {
    for (const c of tsvRows(join(dir, bench.at(-1)!))) {
      if (c.length < 8) continue;
      cases.push({
        kind: c[0] as OvnCase['kind'],
        n: Number(c[1]),
        rep: Number(c[2]),
        nbMs: num(c[3]),
        bindMs: num(c[4]),
        instMs: num(c[5]),
        upMs: num(c[6]),
        pingMs: num(c[7]),
      });
    }
  }
  if (lvl.length > 0) {
    // N batch nb bind allup cpu1 cpu2 cpun f1 f2 l1 l2 g1 g2 lflows reach pc1 pc2 pcn "name=cpu/rss ..."
    for (const c of tsvRows(join(dir, lvl.at(-1)!))) {
      const daemons: OvnLevel['daemons'] = {};
      for (const kv of (c[19] ?? '').trim().split(/\s+/)) {
        const m = /^(\w+)=([^/]*)\/(.*)$/.exec(kv);
        if (m) daemons[m[1]!] = { cpuS: num(m[2]), rssMiB: num(m[3]) };
      }
      levels.push({
        n: Number(c[0]),
        flowsCh1: num(c[8]),
        flowsCh2: num(c[9]),
        lflows: num(c[14]),
        daemons,
        batchCpuCtl2: num(c[6]),
      });
    }
  }
  return { cases, levels };
}

/** bench.sh with the given levels; results parsed from a fresh OUTDIR under `workDir`. */
export async function runOvnBench(
  o: {
    encap: 'vxlan' | 'geneve';
    levels: number[];
    reps: number;
    coldReps: number;
    workDir: string;
    timeoutMs: number;
  },
  children: Set<import('node:child_process').ChildProcess>,
): Promise<OvnBenchResult> {
  const outdir = join(o.workDir, `ovn-${o.encap}`);
  mkdirSync(outdir, { recursive: true });
  const log = join(o.workDir, `ovn-${o.encap}.log`);
  const exitCode = await runLogged(
    'bash',
    [join(OVN_LAB_DIR, 'bench.sh')],
    {
      env: {
        LEVELS: o.levels.join(' '),
        REPS: String(o.reps),
        COLD_REPS: String(o.coldReps),
        ENCAP: o.encap,
        OUTDIR: outdir,
        DEADLINE: '20',
      },
      cwd: OVN_LAB_DIR,
      logFile: log,
      timeoutMs: o.timeoutMs,
    },
    children,
  );
  return { encap: o.encap, ...parseOvnResults(outdir), log, exitCode };
}

/**
 * What bench.sh does not measure, with lib.sh's own functions (sourced from where it lives): a 2-chassis
 * lab with two VMs on one switch; iperf3 TCP across the tunnel (IPERF_RUNS runs of IPERF_S s); ovn-controller on ch1 killed and
 * restarted during a 100/s ping (lost packets, time until the restarted controller has as many flows as before).
 */
export const OVN_EXTRA_SCRIPT = String.raw`
set -u
source "$OVN_LAB_DIR/lib.sh"
trap 'lab_cleanup >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM
lab_cleanup >/dev/null 2>&1
start_central; start_underlay; start_chassis 1; start_chassis 2
wait_chassis 2 30 || die "chassis not up"
nb ls-add sw
for v in "a 1 0a:20:00:00:00:11 10.20.0.11" "b 2 0a:20:00:00:00:12 10.20.0.12"; do
  set -- $v
  nb lsp-add sw $1 -- lsp-set-addresses $1 "$3 $4" -- lsp-set-port-security $1 "$3 $4"
  vm_add $1 $2 $1 $3 $4/24
  ip netns exec $PFX-$1 ethtool -K eth0 tx off >/dev/null 2>&1
  ip netns exec $PFX-ch$2 ethtool -K v-$1 tx off >/dev/null 2>&1
done
nb --wait=hv sync
wait_ping a 10.20.0.12 20 || die "a cannot ping b"
echo "RESULT flows_ch1=$(flow_count ch1)"
for i in $(seq \${IPERF_RUNS:-1}); do
  ip netns exec $PFX-b iperf3 -s -1 -D >/dev/null 2>&1; sleep 0.5
  bps=$(ip netns exec $PFX-a timeout 30 iperf3 -c 10.20.0.12 -t \${IPERF_S:-10} -J 2>/dev/null | awk -F'[:,]' '/"bits_per_second"/{v=$2} END{print v}')
  echo "RESULT iperf_bps=\${bps:-NA}"
done
before=$(flow_count ch1)
ip netns exec $PFX-a ping -n -q -i 0.01 -c \${PING_N:-600} -W 1 10.20.0.12 > $LAB/ping.out 2>&1 &
pp=$!
sleep 1
pid=$(cat $LAB/ch1/ovn-controller.pid)
cmd=$(tr '\0' ' ' < /proc/$pid/cmdline)
kill -9 $pid; sleep 0.2
t0=$(now)
d=$LAB/ch1
ip netns exec $PFX-ch1 env OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d OVN_RUNDIR=$d OVN_LOGDIR=$d $cmd >/dev/null 2>&1
# wait until the restarted controller has installed as many flows as before
while [ "$(flow_count ch1 2>/dev/null || echo 0)" -lt "$before" ]; do sleep 0.01; [ $(ms_since $t0) -gt 20000 ] && break; done
echo "RESULT restart_sync_ms=$(ms_since $t0) flows_before=$before flows_after=$(flow_count ch1)"
wait $pp
echo "RESULT ping=$(grep -Eo '[0-9]+ packets transmitted, [0-9]+ received' $LAB/ping.out | tr ' ,' '__')"
# reconvergence: b moves from ch2 to ch1 (port removed there, a new veth plugged here, same iface-id)
ip -n $PFX-a neigh flush all
t0=$(now); vsctl ch2 del-port br-int v-b; ip netns del $PFX-b
vm_add b 1 b 0a:20:00:00:00:12 10.20.0.12/24
wait_ping a 10.20.0.12 20 && echo "RESULT move_ms=$(ms_since $t0)"
# reconvergence: the logical port is deleted, then re-created (VM stays plugged)
nb lsp-del b; nb --wait=hv sync
for i in $(seq 100); do ping_ok a 10.20.0.12 1 || break; done
ip -n $PFX-a neigh flush all; ip -n $PFX-b neigh flush all
t0=$(now)
nb lsp-add sw b -- lsp-set-addresses b "0a:20:00:00:00:12 10.20.0.12" -- lsp-set-port-security b "0a:20:00:00:00:12 10.20.0.12"
wait_ping a 10.20.0.12 20 && echo "RESULT recreate_ms=$(ms_since $t0)"
`.replaceAll('\\$', '$'); // String.raw keeps "\${" (escaped so TS does not interpolate): bash wants "${".

export interface OvnExtra {
  /** Median of the runs. */
  iperfBps: number | null;
  iperfSamplesBps: number[];
  restartSyncMs: number | null;
  pingSent: number | null;
  pingReceived: number | null;
  flowsCh1: number | null;
  moveMs: number | null;
  recreateMs: number | null;
  log: string;
  exitCode: number | null;
}

export async function runOvnExtra(
  o: {
    encap: 'vxlan' | 'geneve';
    workDir: string;
    iperfS: number;
    iperfRuns: number;
    pingN: number;
    timeoutMs: number;
  },
  children: Set<import('node:child_process').ChildProcess>,
): Promise<OvnExtra> {
  const log = join(o.workDir, `ovn-extra-${o.encap}.log`);
  // This run's RESULT lines only: runLogged appends, and an older run's figures would match first.
  rmSync(log, { force: true });
  const exitCode = await runLogged(
    'bash',
    ['-c', OVN_EXTRA_SCRIPT],
    {
      env: {
        OVN_LAB_DIR,
        ENCAP: o.encap,
        IPERF_S: String(o.iperfS),
        IPERF_RUNS: String(o.iperfRuns),
        PING_N: String(o.pingN),
      },
      cwd: OVN_LAB_DIR,
      logFile: log,
      timeoutMs: o.timeoutMs,
    },
    children,
  );
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  const get = (re: RegExp): string | undefined => re.exec(text)?.[1];
  const ping = /RESULT ping=(\d+)_packets_transmitted__(\d+)_received/.exec(text);
  const iperf = [...text.matchAll(/RESULT iperf_bps=\s*(\S+)/g)]
    .map((m) => num(m[1]))
    .filter((v): v is number => v !== null);
  return {
    iperfBps: percentile(iperf, 50),
    iperfSamplesBps: iperf,
    restartSyncMs: num(get(/RESULT restart_sync_ms=(\S+)/)),
    pingSent: ping ? Number(ping[1]) : null,
    pingReceived: ping ? Number(ping[2]) : null,
    flowsCh1: num(get(/RESULT flows_ch1=(\S+)/)),
    moveMs: num(get(/RESULT move_ms=(\S+)/)),
    recreateMs: num(get(/RESULT recreate_ms=(\S+)/)),
    log,
    exitCode,
  };
}

/** The shared lab's cleanup.sh (stops only what it started, by pidfile + cmdline). */
export function ovnCleanup(
  children: Set<import('node:child_process').ChildProcess>,
  logFile: string,
): Promise<number | null> {
  return runLogged('bash', [join(OVN_LAB_DIR, 'cleanup.sh')], { logFile, timeoutMs: 60_000 }, children);
}

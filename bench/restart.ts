// An agent killed (-9) and started again on a bridge with N ports, under a 100/s ping between two VMs on the two
// hosts: the time from the new process's spawn to its flows in sync, stage by stage (issue 18 item 3), and the
// pings lost. The stages come from the agent's own `in sync since process start` line (startup-span.ts: Node and
// the imports, the OVSDB and OpenFlow handshakes, the feed's snapshot, compute, dump, diff, flow-mods acknowledged);
// the bench adds what happens before the process runs (the lab's spawn through `ip netns exec`, bin/vnet) and
// after (the status report reaching the server: `flows_in_sync` on the datapath, what `npm run bench` times).
// Needs root and a build (`npm run build`: the agents run bin/vnet).
//   node --import tsx bench/restart.ts [--ports 1000] [--restarts 5] [--switch-socket none] [--cpu-prof DIR]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../src/demo/cluster.js';
import {
  addInternalPorts,
  bgPort,
  createInterfaces,
  createNetwork,
  PROBE,
  plugProbePair,
  REF,
} from './compare/vnet.js';
import { ms, numOption, pct } from './lib/stats.js';

const args = process.argv.slice(2);
const PORTS = numOption(args, 'ports', 1000);
const RESTARTS = numOption(args, 'restarts', 5);
// `--switch-socket none`: the restarted agent listens and waits for ovs-vswitchd to dial it (the path before the
// agent dialed the bridge's mgmt socket), for a before/after in one lab. The first restart switches the mode over.
const SWITCH_SOCKET = args.includes('--switch-socket') ? args[args.indexOf('--switch-socket') + 1]! : null;
// `--cpu-prof DIR`: each restarted agent runs under `node --cpu-prof` (Node refuses it in NODE_OPTIONS) and is
// stopped with SIGTERM, not -9, so that its profile is written: where a restart's CPU goes, function by function.
const CPU_PROF = args.includes('--cpu-prof') ? args[args.indexOf('--cpu-prof') + 1]! : null;
const NETWORK = 'nw-restart';
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface StartupLine {
  time: number;
  process_started_at: number;
  since_process_start_ms: Record<string, number>;
  cpu_ms?: Record<string, number>;
  installed_flows: number;
  flow_mods: number;
}

/** The agent's start-up line, once it is in its log (null: not yet). */
function startupLine(log: string): StartupLine | null {
  for (const line of readFileSync(log, 'utf8').split('\n'))
    if (line.includes('"span":"startup"'))
      try {
        return JSON.parse(line) as StartupLine;
      } catch {
        /* being written */
      }
  return null;
}

const ORDER = [
  'loaded',
  'started',
  'ovsdb_connected',
  'ovsdb_ready',
  'bridge_taken_over',
  'snapshot',
  'switch_connected',
  'computed',
  'desired_keyed',
  'dumped',
  'dump_keyed',
  'diffed',
  'flow_mods_written',
  'in_sync',
] as const;

console.log(`load average at start: ${loadavg()}`);
const prefix = `rst${process.pid % 100000}`.slice(0, 8);
const c = await Cluster.start({ prefix, hosts: ['h1', 'h2'], encap: 'vxlan', env: { VNET_LOG_LEVEL: 'info' } });
let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  void c.down().then(() => process.exit(130));
});
const rows: Record<string, number>[] = [];
const loads: string[] = [];
try {
  const dps = new Map([...(await c.waitDatapaths(60_000))].map(([h, d]) => [h, String(d.uuid)]));
  await createNetwork(c, [...dps.values()], NETWORK, ['10.10.0.0', 16]);
  await createInterfaces(c, [
    { ...REF, network: NETWORK },
    { ...PROBE, network: NETWORK },
  ]);
  // Every background port on h1, the host whose agent restarts: its bridge holds PORTS + 2 ports.
  const bg = Array.from({ length: PORTS }, (_, i) => ({ ...bgPort(i), network: NETWORK }));
  await createInterfaces(c, bg);
  await addInternalPorts(
    c,
    'h1',
    bg.map((b, i) => ({ name: `${prefix.slice(0, 6)}b${i}`, ifaceId: b.uuid })),
  );
  await plugProbePair(c);
  await c.waitInSync(300_000);
  // `flows_in_sync` can be reported before the agent has bound every one of 1,000 fresh ports (a first restart then
  // lost every ping, before the kill too): the path must carry a ping before any kill is timed.
  for (let i = 0; ; i++) {
    const r = await c.lab.exec('bref', ['ping', '-n', '-q', '-c', '1', '-W', '1', PROBE.ip]);
    if (r.code === 0) break;
    if (i >= 120) throw new Error(`no ping from bref to ${PROBE.ip} after 120 tries: the lab's path is down`);
    await sleep(500);
  }
  const dp = dps.get('h1')!;
  for (let r = 1; r <= RESTARTS; r++) {
    loads.push(loadavg());
    // Not -q, with -D: each reply's time and icmp_seq say *when* any loss was (before the kill, during the restart).
    const pinging = c.lab.exec('bref', ['ping', '-n', '-D', '-i', '0.01', '-c', '1000', '-W', '1', PROBE.ip]);
    await sleep(1000);
    const killAt = Date.now();
    if (CPU_PROF && r > 1) await c.lab.stopProcess('h1', 'agent');
    else await c.stopAgent('h1', 'SIGKILL');
    await sleep(200);
    const spawnedAt = Date.now();
    const extra = SWITCH_SOCKET ? ['--switch-socket', SWITCH_SOCKET] : [];
    const p = CPU_PROF
      ? await c.lab.spawn(
          'h1',
          'agent',
          [
            process.execPath,
            '--cpu-prof',
            '--cpu-prof-dir',
            CPU_PROF,
            ...c.agentArgs('h1', ['--token-file', join(c.lab.host('h1').dir, 'agent.token'), ...extra]),
          ],
          { env: { ...process.env, VNET_LOG_LEVEL: 'info' } },
        )
      : await c.startAgent('h1', extra);
    let line: StartupLine | null = null;
    let reportedAt: number | null = null;
    for (let i = 0; i < 600 && (line === null || reportedAt === null); i++) {
      line ??= startupLine(p.log);
      if (reportedAt === null) {
        const d = await c.call<Record<string, unknown>>('GET', `/datapaths/${dp}`);
        const upd = Date.parse(String(d.updated_at));
        if (d.flows_in_sync === true && d.is_connected === true && upd >= spawnedAt - 50) reportedAt = upd;
      }
      await sleep(20);
    }
    const out = await pinging;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out.stdout);
    const row: Record<string, number> = {};
    if (line) {
      const s = line.since_process_start_ms;
      row['spawn → process started (ip netns exec, bin/vnet)'] = line.process_started_at - spawnedAt;
      // Absolute, not deltas: the handshakes and the snapshot run side by side, in no fixed order.
      for (const k of ORDER) if (s[k] !== undefined) row[`process start → ${k}`] = s[k]!;
      // The agent's CPU time at each milestone: the work, where the wall time at high load is mostly the wait.
      for (const k of ORDER) if (line.cpu_ms?.[k] !== undefined) row[`CPU ms at ${k}`] = line.cpu_ms[k]!;
      row['spawn → flows in sync'] = line.process_started_at + s.in_sync! - spawnedAt;
      row['flows on the switch'] = line.installed_flows;
      row['flow-mods sent'] = line.flow_mods;
    }
    if (reportedAt !== null) row['spawn → flows_in_sync on the server'] = reportedAt - spawnedAt;
    if (m) row['pings lost (of 1,000 at 100/s)'] = Number(m[1]) - Number(m[2]);
    // The replies (not `Destination Host Unreachable` errors, which carry an icmp_seq too), with their times: the
    // longest run of unanswered requests lies between two replies, in ms from the kill (negative: before it).
    const replies = [...out.stdout.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)/gm)].map((x) => ({
      at: Number(x[1]) * 1000,
      seq: Number(x[2]),
    }));
    let gap: { after: number; before: number; n: number } | null = null;
    for (let i = 1; i < replies.length; i++) {
      const n = replies[i]!.seq - replies[i - 1]!.seq - 1;
      if (n > 0 && n > (gap?.n ?? 0)) gap = { after: replies[i - 1]!.at, before: replies[i]!.at, n };
    }
    if (gap) {
      row['longest loss: requests'] = gap.n;
      row['longest loss: last reply before, ms after the kill'] = gap.after - killAt;
      row['longest loss: first reply after, ms after the kill'] = gap.before - killAt;
    }
    if (/Destination Host Unreachable/.test(out.stdout)) row['`Destination Host Unreachable` (ARP failed)'] = 1;
    rows.push(row);
    console.log(`restart ${r}: ${JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, ms(v)])))}`);
    await c.waitInSync(60_000);
  }
} finally {
  if (CPU_PROF) await c.lab.stopProcess('h1', 'agent').catch(() => undefined);
  await c.down();
}

console.log(
  `\nagent restart on a bridge with ${PORTS + 2} ports, ${rows.length} restarts, switch: ${SWITCH_SOCKET ? `--switch-socket ${SWITCH_SOCKET}` : 'dialed (mgmt socket)'}; load average ${loads.join(' | ')}\n`,
);
console.log('| stage (`process start →` lines: the agent’s own marks) | p50 ms | max ms | samples |');
console.log('|---|---|---|---|');
const keys: string[] = [];
for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
for (const k of keys) {
  const xs = rows.map((r) => r[k]).filter((x): x is number => x !== undefined);
  console.log(`| ${k} | ${ms(pct(xs, 50))} | ${ms(Math.max(...xs))} | ${xs.length} |`);
}

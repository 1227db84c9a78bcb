// Where port-up and a VM move spend their time, stage by stage (issue 18 item 1): a two-host lab (src/demo/cluster.ts),
// the reference VM on h1, the probe VM on h2 plugged beforehand (iface-id set), like `npm run bench`'s port-up.
//   port-up: t0 = POST /interfaces of the probe → commit (the feed's committed_at) → each agent's pass for the
//   write (its `flows reconciled` span: deliver, apply, wait, compute, send, barrier) → h2's binding report
//   committed → h1's pass for the binding (the tunnel back to the probe) → the first ping reply (a ping every 5 ms
//   from the probe to the reference VM, as the bench does).
//   move: the probe VM moved h2 → h1 and back by the lab (unplug, veth, plug) → the new host's pass for its port
//   (no feed change) → its binding report committed → the other host's pass → first ping from the reference VM.
// Needs root and a build (`npm run build`: the agents run bin/vnet).
//   node --import tsx bench/stages.ts [--ports 20] [--background 0] [--moves 5]
import { readFileSync } from 'node:fs';
import { FeedClient } from '../src/client/index.js';
import type { Change } from '../src/client/types.js';
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
const PORTS = numOption(args, 'ports', 20);
const BACKGROUND = numOption(args, 'background', 0);
const MOVES = numOption(args, 'moves', 5);
const NETWORK = 'nw-stages';
const STAGES = ['deliver', 'apply', 'wait', 'compute', 'meters', 'send', 'barrier'] as const;

interface Span {
  time: number;
  revision?: number;
  first_revision?: number;
  changes: number;
  committed_at?: number;
  flow_mods: number;
  stages: Partial<Record<`${(typeof STAGES)[number]}_ms`, number>>;
}

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const VERBOSE = args.includes('--verbose');
/** When the pass's flows were computed, and when it started (ms since the epoch). */
const computedAt = (s: Span) =>
  s.time - (s.stages.meters_ms ?? 0) - (s.stages.send_ms ?? 0) - (s.stages.barrier_ms ?? 0);
const startOf = (s: Span) => computedAt(s) - (s.stages.compute_ms ?? 0);

/** The agent's `span: 'change'` lines (pino's `time` is when the pass ended), from its log file. */
function spans(c: Cluster, host: string): Span[] {
  const out: Span[] = [];
  for (const line of readFileSync(c.agents.get(host)!.log, 'utf8').split('\n')) {
    if (!line.includes('"span":"change"')) continue;
    try {
      out.push(JSON.parse(line) as Span);
    } catch {
      /* a line being written */
    }
  }
  return out;
}

const covering = (ss: Span[], rev: number) =>
  ss.find((s) => s.revision !== undefined && s.first_revision! <= rev && rev <= s.revision);

/** Rows of one measurement: stage name → ms. */
type Row = Record<string, number>;

function stagesOf(prefix: string, s: Span | undefined, row: Row): void {
  if (!s) return;
  for (const k of STAGES) {
    const v = s.stages[`${k}_ms`];
    if (v !== undefined) row[`${prefix} ${k}`] = v;
  }
  row[`${prefix} flow-mods (count)`] = s.flow_mods;
}

function report(title: string, rows: Row[]): void {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  console.log(`\n${title} (${rows.length} samples)\n`);
  console.log('| stage | p50 ms | p95 ms | samples |');
  console.log('|---|---|---|---|');
  for (const k of keys) {
    const xs = rows.map((r) => r[k]).filter((x): x is number => x !== undefined && Number.isFinite(x));
    console.log(`| ${k} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 95))} | ${xs.length} |`);
  }
}

async function firstReply(c: Cluster, vm: string, ip: string, deadlineS = 10): Promise<boolean> {
  const end = Date.now() + deadlineS * 1000;
  while (Date.now() < end) {
    const left = Math.max(1, Math.ceil((end - Date.now()) / 1000));
    if ((await c.lab.exec(vm, ['ping', '-q', '-n', '-c1', '-i', '0.005', '-w', String(left), ip])).ok) return true;
    await sleep(10);
  }
  return false;
}

const flush = async (c: Cluster, vms: string[]) => {
  for (const v of vms) await c.lab.exec(v, ['ip', 'neigh', 'flush', 'all']);
};

console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
const prefix = `stg${process.pid % 100000}`.slice(0, 8);
const c = await Cluster.start({ prefix, hosts: ['h1', 'h2'], encap: 'vxlan', env: { VNET_LOG_LEVEL: 'info' } });
let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  void c.down().then(() => process.exit(130));
});
const feed = new FeedClient({ api: c.client });
try {
  const dpsByHost = new Map([...(await c.waitDatapaths(60_000))].map(([h, d]) => [h, String(d.uuid)]));
  await createNetwork(c, [...dpsByHost.values()], NETWORK, ['10.10.0.0', 16]);
  await createInterfaces(c, [{ ...REF, network: NETWORK }]);
  if (BACKGROUND > 0) {
    const bg = Array.from({ length: BACKGROUND }, (_, i) => ({ ...bgPort(i), network: NETWORK, i }));
    await createInterfaces(c, bg);
    for (const host of ['h1', 'h2'])
      await addInternalPorts(
        c,
        host,
        bg
          .filter((b) => (b.i % 2 === 0) === (host === 'h1'))
          .map((b) => ({ name: `${prefix.slice(0, 6)}b${b.i}`, ifaceId: b.uuid })),
      );
  }
  await plugProbePair(c);
  await c.waitInSync(120_000);

  const changes: Change[] = [];
  feed.on('change', (ch) => changes.push(ch));
  feed.start();
  await sleep(500);
  const boundTo = (dp: string, after: number) =>
    changes.find(
      (ch) =>
        ch.revision > after &&
        ch.resource === 'interfaces' &&
        ch.uuid === PROBE.uuid &&
        (ch.item as { active_datapath_uuid?: string } | null)?.active_datapath_uuid === dp,
    );

  // ---------------------------------------------------------------- port-up
  const up: Row[] = [];
  for (let r = 0; r < PORTS && !stopping; r++) {
    await flush(c, ['bref', 'bprobe']);
    await sleep(300);
    const before = changes.at(-1)?.revision ?? 0;
    const t0 = Date.now();
    const tp = performance.now();
    await c.call('POST', '/interfaces', {
      uuid: PROBE.uuid,
      network_uuid: NETWORK,
      ipv4_address: PROBE.ip,
      mac_address: PROBE.mac,
    });
    const apiMs = performance.now() - tp;
    const ok = await firstReply(c, 'bprobe', REF.ip);
    const pingAt = t0 + (performance.now() - tp);
    await sleep(300);
    const write = changes.find(
      (ch) => ch.revision > before && ch.resource === 'interfaces' && ch.uuid === PROBE.uuid && ch.op === 'upsert',
    );
    const bind = write && boundTo(dpsByHost.get('h2')!, write.revision);
    const row: Row = { 'API write → reply': apiMs };
    if (write?.committed_at !== undefined) {
      row['API write → commit'] = write.committed_at - t0;
      const h1 = spans(c, 'h1');
      const h2 = spans(c, 'h2');
      const s2 = covering(h2, write.revision);
      const s1w = covering(h1, write.revision);
      stagesOf('h2 (probe) write:', s2, row);
      stagesOf('h1 write:', s1w, row);
      if (s2) row['h2 write: commit → flows in'] = s2.time - write.committed_at;
      if (s1w) row['h1 write: commit → flows in'] = s1w.time - write.committed_at;
      // The agent reports a binding as soon as its flows are computed, while they are sent.
      if (bind?.committed_at !== undefined && s2) {
        row['h2 flows computed → binding report committed'] = bind.committed_at - computedAt(s2);
        const s1b = covering(h1, bind.revision);
        stagesOf('h1 binding:', s1b, row);
        // What the report adds to the path: h1's binding pass ends after h2's own flows are in.
        if (s1b) row['h1 binding: commit (of the write) → flows in'] = s1b.time - write.committed_at;
      }
      const seen = [...h1, ...h2].filter((s) => s.time >= t0 && s.time <= pingAt);
      if (seen.length > 0)
        row['last flows in (either host) → first ping reply'] = pingAt - Math.max(...seen.map((s) => s.time));
      row['passes with flow-mods, both hosts'] = seen.filter((s) => s.flow_mods > 0).length;
      if (VERBOSE) {
        const rel = (x: number | undefined) => (x === undefined ? '?' : `+${Math.round(x - t0)}`);
        console.log(`  commit ${rel(write.committed_at)}, binding ${rel(bind?.committed_at)}, ping ${rel(pingAt)}`);
        for (const [h, ss] of [
          ['h1', h1],
          ['h2', h2],
        ] as const)
          for (const s of ss.filter((x) => x.time >= t0 - 50 && x.time <= pingAt + 300))
            console.log(
              `  ${h} ${rel(s.time)}: revs ${s.first_revision}-${s.revision} mods ${s.flow_mods} ${JSON.stringify(s.stages)}`,
            );
      }
    }
    if (ok) row['API write → first ping reply'] = pingAt - t0;
    // What the measuring costs by itself: the same ping, the path already up (spawn, ARP, one round trip, exit).
    await flush(c, ['bref', 'bprobe']);
    const tf = performance.now();
    if (await firstReply(c, 'bprobe', REF.ip)) row['ping tool alone, path already up'] = performance.now() - tf;
    up.push(row);
    console.log(`port-up ${r + 1}: ${ok ? `first ping ${Math.round(pingAt - t0)} ms` : 'NO PING'}`);
    await c.call('DELETE', `/interfaces/${PROBE.uuid}`);
    await c.waitInSync(60_000);
  }
  report(`port-up, ${BACKGROUND} background ports`, up);

  // ---------------------------------------------------------------- move
  await c.call('POST', '/interfaces', {
    uuid: PROBE.uuid,
    network_uuid: NETWORK,
    ipv4_address: PROBE.ip,
    mac_address: PROBE.mac,
  });
  await c.waitInSync(60_000);
  if (!(await firstReply(c, 'bref', PROBE.ip))) throw new Error('the probe is not reachable before the moves');
  const moves: Row[] = [];
  let where = 'h2';
  for (let r = 0; r < MOVES * 2 && !stopping; r++) {
    const to = where === 'h2' ? 'h1' : 'h2';
    const other = where;
    await flush(c, ['bref', 'bprobe']);
    await sleep(300);
    const before = changes.at(-1)?.revision ?? 0;
    const t0 = Date.now();
    const tp = performance.now();
    await c.lab.moveVm('bprobe', to);
    const labAt = t0 + (performance.now() - tp);
    const ok = await firstReply(c, 'bref', PROBE.ip);
    const pingAt = t0 + (performance.now() - tp);
    await sleep(300);
    const row: Row = { 'lab: unplug, veth, plug': labAt - t0 };
    // The new host's pass for the port: the first one after the lab began that sent flow-mods for no feed change.
    const local = spans(c, to).find((s) => s.changes === 0 && s.flow_mods > 0 && startOf(s) >= t0);
    if (local) {
      row[`${to} (new host) port seen → pass start (after the lab's plug returned)`] = startOf(local) - labAt;
      stagesOf(`${to} port:`, local, row);
    }
    const bind = boundTo(dpsByHost.get(to)!, before);
    if (bind?.committed_at !== undefined && local) {
      row[`${to} flows computed → binding report committed`] = bind.committed_at - computedAt(local);
      const sOther = covering(spans(c, other), bind.revision);
      stagesOf(`${other} (old host) binding:`, sOther, row);
      const sNew = covering(spans(c, to), bind.revision);
      const last = Math.max(sOther?.time ?? 0, sNew?.time ?? 0, local.time);
      row['last flows in → first ping reply'] = pingAt - last;
    }
    if (ok) row['move → first ping reply'] = pingAt - t0;
    await flush(c, ['bref', 'bprobe']);
    const tf = performance.now();
    if (await firstReply(c, 'bref', PROBE.ip)) row['ping tool alone, path already up'] = performance.now() - tf;
    moves.push(row);
    console.log(`move ${where}→${to}: ${ok ? `first ping ${Math.round(pingAt - t0)} ms` : 'NO PING'}`);
    where = to;
    await c.waitInSync(60_000);
  }
  report('VM move (h2 → h1 and back)', moves);
} finally {
  await feed.stop();
  console.log(`\nload average at end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  await c.down();
}

// vnet side: the same measurements as the OVN lab, on a vnet Cluster (server + one agent per host) in
// the namespace lab: pre-plugged port-up latency with N background ports, flows, CPU/RSS, reconvergence,
// agent restart under a continuous ping (throughput: throughput.ts, interleaved with OVN and the bare bridge).
import { Cluster } from '../../src/demo/cluster.js';
import type { Lab } from '../../src/lab/lab.js';
import { procStat, type ProcStat } from './procstat.js';
import { percentile } from './report.js';

export const REF = { uuid: 'if-bref', ip: '10.10.0.2', mac: '0a:10:00:00:00:02' } as const;
export const PROBE = { uuid: 'if-bprobe', ip: '10.10.0.3', mac: '0a:10:00:00:00:03' } as const;
const NETWORK = 'nw-bench';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Background port i: its interface uuid, address and MAC (10.10.1.1 …, one /16 like OVN's bench switch). */
export function bgPort(i: number, net = 0): { uuid: string; ip: string; mac: string } {
  const hi = 1 + Math.floor(i / 250);
  const lo = 1 + (i % 250);
  return {
    uuid: `if-bg${net}x${i}`,
    ip: net === 0 ? `10.10.${hi}.${lo}` : `10.${100 + Math.floor(net / 200)}.${net % 200}.${1 + (i % 250)}`,
    mac: `0a:${(0x11 + (net >> 8)).toString(16)}:${(net & 0xff).toString(16).padStart(2, '0')}:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
  };
}

export interface LatencySample {
  n: number;
  rep: number;
  apiMs: number;
  pingMs: number | null;
}

export interface LevelStat {
  n: number;
  flowsH1: number;
  flowsH2: number;
  agentH1: ProcStat;
  agentH2: ProcStat;
  server: ProcStat;
  /** Time from the first background write to all agents in sync again, ms. */
  batchMs: number;
}

export interface VnetLatencyResult {
  samples: LatencySample[];
  levels: LevelStat[];
  errors: string[];
}

/** The OVN lab's extra measurements on the same workload: two VMs on one network, nothing else. */
export interface VnetExtraResult {
  moveMs: number[];
  /** Of moveMs, the lab's own plumbing (unplug, veth, plug: ip/ethtool/ovs-vsctl runs), before vnet sees the port. */
  moveLabMs: number[];
  recreateMs: number[];
  restart: { syncMs: number | null; sent: number; received: number } | null;
  errors: string[];
}

/** Count of flows on a host's bridge, as the OVN lab counts them. */
export async function flowCount(c: Cluster, host: string): Promise<number> {
  const h = c.lab.host(host);
  const out = await h.ofctl('dump-flows', h.bridge);
  return out.split('\n').filter((l) => l.includes('cookie=')).length;
}

/** Runs `ping` from a VM until the first echo reply (a request every 5 ms, like the OVN lab's wait_ping). */
async function firstReply(c: Cluster, vm: string, ip: string, deadlineS: number): Promise<boolean> {
  const end = Date.now() + deadlineS * 1000;
  for (;;) {
    const left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) return false;
    const r = await c.lab.exec(vm, ['ping', '-q', '-n', '-c1', '-i', '0.005', '-w', String(left), ip]);
    if (r.ok) return true;
    await sleep(10);
  }
}

async function flushNeigh(c: Cluster, vms: string[]): Promise<void> {
  for (const v of vms) await c.lab.exec(v, ['ip', 'neigh', 'flush', 'all']);
}

/** Creates a network attached to every datapath. */
export async function createNetwork(c: Cluster, dps: string[], uuid: string, cidr: [string, number]): Promise<void> {
  await c.call('POST', '/networks', {
    uuid,
    display_name: uuid,
    ipv4_network: cidr[0],
    ipv4_prefix: cidr[1],
    network_mode: 'virtual',
  });
  for (const dp of dps) await c.call('POST', `/datapaths/${dp}/networks/${uuid}`, {});
}

/** POSTs interfaces `concurrency` at a time (the server group-commits concurrent writes). */
export async function createInterfaces(
  c: Cluster,
  items: { uuid: string; ip: string; mac: string; network: string }[],
  concurrency = 16,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const it = items[next++]!;
      await c.call('POST', '/interfaces', {
        uuid: it.uuid,
        network_uuid: it.network,
        ipv4_address: it.ip,
        mac_address: it.mac,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Background ports: OVS internal ports bound by iface-id (no namespaces), one ovs-vsctl transaction per 200. */
export async function addInternalPorts(c: Cluster, host: string, ports: { name: string; ifaceId: string }[]) {
  const h = c.lab.host(host);
  for (let i = 0; i < ports.length; i += 200) {
    const args: string[] = [];
    for (const p of ports.slice(i, i + 200))
      args.push(
        '--',
        'add-port',
        h.bridge,
        p.name,
        '--',
        'set',
        'interface',
        p.name,
        'type=internal',
        `external_ids:iface-id=${p.ifaceId}`,
      );
    await h.vsctl(...args);
  }
}

export async function startBenchCluster(
  prefix: string,
  encap: 'gre' | 'vxlan',
): Promise<{ c: Cluster; dps: Map<string, string> }> {
  const c = await Cluster.start({ prefix, hosts: ['h1', 'h2'], encap, env: { VNET_LOG_LEVEL: 'warn' } });
  try {
    const m = await c.waitDatapaths(60_000);
    const dps = new Map([...m].map(([h, d]) => [h, String(d.uuid)]));
    return { c, dps };
  } catch (e) {
    await c.down();
    throw e;
  }
}

/** The network, the reference VM on h1 and the probe VM on h2 (plugged; its interface optional). */
export async function setupProbePair(c: Cluster, dps: Map<string, string>, withProbe: boolean): Promise<void> {
  await createNetwork(c, [...dps.values()], NETWORK, ['10.10.0.0', 16]);
  await createInterfaces(c, [{ ...REF, network: NETWORK }, ...(withProbe ? [{ ...PROBE, network: NETWORK }] : [])]);
  // The probe VM is plugged (iface-id set) before any t0: only the API write happens after t0.
  await plugProbePair(c);
  await c.waitInSync(60_000);
}

/** The reference VM bref on h1 and the probe VM bprobe on h2, bound by iface-id to REF and PROBE. */
export async function plugProbePair(c: Cluster): Promise<void> {
  await c.lab.addVm({ name: 'bref', host: 'h1', mac: REF.mac, ip: `${REF.ip}/16`, port: 'p-bref', ifaceId: REF.uuid });
  await c.lab.addVm({
    name: 'bprobe',
    host: 'h2',
    mac: PROBE.mac,
    ip: `${PROBE.ip}/16`,
    port: 'p-bprobe',
    ifaceId: PROBE.uuid,
  });
}

/** Port-up latency at each level of background ports, with flows, CPU and memory per level. */
export async function runVnetLatency(
  c: Cluster,
  dps: Map<string, string>,
  o: { levels: number[]; reps: number; deadlineS: number; log: (s: string) => void },
): Promise<VnetLatencyResult> {
  const res: VnetLatencyResult = { samples: [], levels: [], errors: [] };
  await setupProbePair(c, dps, false);
  const agentPid = (h: string): number | undefined => c.agents.get(h)?.pid;
  let have = 0;
  for (const n of o.levels) {
    const t0 = Date.now();
    if (n > have) {
      const add = Array.from({ length: n - have }, (_, k) => have + k);
      await createInterfaces(
        c,
        add.map((i) => ({ ...bgPort(i), network: NETWORK })),
      );
      for (const host of ['h1', 'h2'])
        await addInternalPorts(
          c,
          host,
          add
            .filter((i) => (i % 2 === 0) === (host === 'h1'))
            .map((i) => ({ name: `${c.lab.prefix.slice(0, 6)}b${i}`, ifaceId: bgPort(i).uuid })),
        );
      have = n;
    }
    await sleep(500);
    await c.waitInSync(120_000);
    const lvl: LevelStat = {
      n,
      flowsH1: await flowCount(c, 'h1'),
      flowsH2: await flowCount(c, 'h2'),
      agentH1: procStat(agentPid('h1')),
      agentH2: procStat(agentPid('h2')),
      server: procStat(c.server?.pid),
      batchMs: Date.now() - t0,
    };
    res.levels.push(lvl);
    o.log(`vnet N=${n}: flows h1=${lvl.flowsH1} h2=${lvl.flowsH2}, agent h2 rss ${lvl.agentH2.rssMiB?.toFixed(1)} MiB`);
    for (let r = 1; r <= o.reps; r++) {
      await flushNeigh(c, ['bref', 'bprobe']);
      await sleep(300);
      const t = performance.now();
      await c.call('POST', '/interfaces', {
        uuid: PROBE.uuid,
        network_uuid: NETWORK,
        ipv4_address: PROBE.ip,
        mac_address: PROBE.mac,
      });
      const apiMs = performance.now() - t;
      const ok = await firstReply(c, 'bprobe', REF.ip, o.deadlineS);
      const pingMs = ok ? performance.now() - t : null;
      res.samples.push({ n, rep: r, apiMs, pingMs });
      o.log(`vnet N=${n} rep ${r}: api ${apiMs.toFixed(0)} ms, first ping ${pingMs?.toFixed(0) ?? 'TIMEOUT'} ms`);
      if (!ok)
        res.errors.push(`N=${n} rep ${r}: no ping within ${o.deadlineS} s\n${(await c.diagnostics()).slice(-4000)}`);
      await c.call('DELETE', `/interfaces/${PROBE.uuid}`);
      await c.waitInSync(60_000);
    }
  }
  return res;
}

/**
 * What the OVN lab's extra script measures, on the same workload (two VMs, one network, no background
 * ports): agent restart under a continuous ping, a move, a delete + re-create.
 */
export async function runVnetExtra(
  c: Cluster,
  dps: Map<string, string>,
  o: { deadlineS: number; pingN: number },
): Promise<VnetExtraResult> {
  const res: VnetExtraResult = {
    moveMs: [],
    moveLabMs: [],
    recreateMs: [],
    restart: null,
    errors: [],
  };
  await setupProbePair(c, dps, true);
  if (!(await firstReply(c, 'bref', PROBE.ip, o.deadlineS))) res.errors.push('probe not reachable');

  // Agent restart (kill -9) during a 100/s ping from h1's VM to h2's: loss, and time to flows in sync.
  try {
    const pinging = c.lab.exec('bref', ['ping', '-n', '-q', '-i', '0.01', '-c', String(o.pingN), '-W', '1', PROBE.ip]);
    await sleep(1000);
    await c.stopAgent('h1', 'SIGKILL');
    await sleep(200);
    const tStart = Date.now();
    await c.startAgent('h1');
    let syncMs: number | null = null;
    const dp = dps.get('h1')!;
    for (let i = 0; i < 600; i++) {
      const d = await c.call<Record<string, unknown>>('GET', `/datapaths/${dp}`);
      const upd = Date.parse(String(d.updated_at));
      if (d.flows_in_sync === true && d.is_connected === true && upd >= tStart - 50) {
        syncMs = upd - tStart;
        break;
      }
      await sleep(50);
    }
    const r = await pinging;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    res.restart = { syncMs, sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) };
  } catch (e) {
    res.errors.push(`restart: ${String(e)}`);
  }

  // Reconvergence after a move (h2 → h1, same iface-id), and after delete + re-create.
  try {
    await c.waitInSync(60_000);
    await flushNeigh(c, ['bref']);
    let t = performance.now();
    await c.lab.moveVm('bprobe', 'h1');
    res.moveLabMs.push(performance.now() - t);
    if (await firstReply(c, 'bref', PROBE.ip, o.deadlineS)) res.moveMs.push(performance.now() - t);
    else res.errors.push('move h2→h1: no ping');
    await flushNeigh(c, ['bref', 'bprobe']);
    t = performance.now();
    await c.lab.moveVm('bprobe', 'h2');
    res.moveLabMs.push(performance.now() - t);
    if (await firstReply(c, 'bref', PROBE.ip, o.deadlineS)) res.moveMs.push(performance.now() - t);
    else res.errors.push('move h1→h2: no ping');
    await c.call('DELETE', `/interfaces/${PROBE.uuid}`);
    await c.waitInSync(60_000);
    for (let i = 0; i < 100 && (await c.lab.ping('bref', PROBE.ip, { count: 1, timeoutS: 1 })).ok; i++) await sleep(50);
    await flushNeigh(c, ['bref', 'bprobe']);
    t = performance.now();
    await c.call('POST', '/interfaces', {
      uuid: PROBE.uuid,
      network_uuid: NETWORK,
      ipv4_address: PROBE.ip,
      mac_address: PROBE.mac,
    });
    if (await firstReply(c, 'bref', PROBE.ip, o.deadlineS)) res.recreateMs.push(performance.now() - t);
    else res.errors.push('re-create: no ping');
  } catch (e) {
    res.errors.push(`reconvergence: ${String(e)}`);
  }
  return res;
}

export interface FlowScale {
  ports: number;
  networks: number;
  flowsH1: number;
  flowsH2: number;
  agentH1: ProcStat;
  server: ProcStat;
  settleMs: number;
}

/** `ports` interfaces spread over `networks` networks, half on each host as internal ports; flows once in sync. */
export async function runFlowScale(
  c: Cluster,
  dps: Map<string, string>,
  ports: number,
  networks: number,
): Promise<FlowScale> {
  const dpList = [...dps.values()];
  for (let k = 1; k <= networks; k++)
    await createNetwork(c, dpList, `nw-s${k}`, [`10.${100 + Math.floor(k / 200)}.${k % 200}.0`, 24]);
  const items = Array.from({ length: ports }, (_, i) => {
    const net = 1 + (i % networks);
    return { ...bgPort(Math.floor(i / networks), net), network: `nw-s${net}`, i };
  });
  const t0 = Date.now();
  await createInterfaces(c, items);
  for (const host of ['h1', 'h2'])
    await addInternalPorts(
      c,
      host,
      items
        .filter((it) => (it.i % 2 === 0) === (host === 'h1'))
        .map((it) => ({ name: `${c.lab.prefix.slice(0, 6)}s${it.i}`, ifaceId: it.uuid })),
    );
  await sleep(500);
  await c.waitInSync(300_000);
  return {
    ports,
    networks,
    flowsH1: await flowCount(c, 'h1'),
    flowsH2: await flowCount(c, 'h2'),
    agentH1: procStat(c.agents.get('h1')?.pid),
    server: procStat(c.server?.pid),
    settleMs: Date.now() - t0,
  };
}

/**
 * iperf3 TCP from `client` to `server` (`runs` times, `seconds` each): the median and every run's figure.
 * One 2-core machine shared with other work swings a single run by ±40%; the median of a few steadies it.
 */
export async function iperfMedian(
  lab: Pick<Lab, 'exec'>,
  client: string,
  server: string,
  ip: string,
  seconds: number,
  runs: number,
): Promise<{ median: number | null; samples: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await lab.exec(server, ['iperf3', '-s', '-1', '-D']);
    await sleep(500);
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
    const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
    const bps = j.end?.sum_received?.bits_per_second;
    if (typeof bps === 'number') samples.push(bps);
  }
  return { median: percentile(samples, 50), samples };
}

// Lab benchmark of the way out (issue 17), through real agents: h1 is the gateway (SNAT) and has an uplink, h2
// has an uplink and the VMs, the internet host is behind the lab's upstream router (src/demo/north-south.ts).
//   floating IP latency: t0 = the API writes (translation + static address), then a ping every 5 ms from the
//     internet host to the floating address until the first reply;
//   flows per floating IP: flows on the VM's host and on the other host, before and after FIPS floating IPs;
//   throughput (iperf3 TCP to the internet host, median): through SNAT (a VM with no floating IP, tunnelled to
//     the gateway) and through a floating IP, against routed VM-to-VM across the same two hosts;
//   failover gap: pings every 50 ms from a VM behind SNAT while the active gateway's agent is killed (and
//     started again): pings lost × 50 ms.
// Then the same on OVN (bench/compare/ovn-north-south.ts: the shared OVN lab, same layout, OVN's gateway port with
// lr-nat-add snat and distributed dnat_and_snat), one after the other in the same run, and both side by side.
// Needs root; builds its own labs.
//   npx tsc -p tsconfig.build.json && node --import tsx bench/north-south.ts [--rounds 10] [--fips 5]
//     [--iperf-s 5] [--iperf-runs 3] [--failovers 3] [--no-ovn]
import { loadavg } from 'node:os';
import { Cluster } from '../src/demo/cluster.js';
import { northSouthApiCalls, TENANTS } from '../src/demo/north-south.js';
import { percentile } from './compare/report.js';
import { median, runOvnNorthSouth } from './compare/ovn-north-south.js';
import { flowCount, iperfMedian } from './compare/vnet.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const ROUNDS = arg('rounds', 10);
const FIPS = arg('fips', 5);
const IPERF_S = arg('iperf-s', 5);
const IPERF_RUNS = arg('iperf-runs', 3);
const FAILOVERS = arg('failovers', 3);
const OVN = !process.argv.includes('--no-ovn');
const load = () => loadavg()[0]!.toFixed(1);
/** vnet's figures, for the side-by-side table after OVN's run. */
const vnet = {
  fipMs: [] as number[],
  fipWriteMs: [] as number[],
  flowsVmHost: Number.NaN,
  flowsOther: Number.NaN,
  snat: null as number | null,
  snatLocal: null as number | null,
  fip: null as number | null,
  routed: null as number | null,
  load: [] as string[],
};

const prefix = `dns${process.pid % 100000}`.slice(0, 8);
const cluster = await Cluster.start({ prefix, hosts: ['h1', 'h2'] });
const lab = cluster.lab;
const fmt = (xs: number[]) =>
  `p50 ${(percentile(xs, 50) ?? Number.NaN).toFixed(0)} ms, p95 ${(percentile(xs, 95) ?? Number.NaN).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
const mbit = (t: { median: number | null; samples: number[] }) =>
  `${((t.median ?? Number.NaN) / 1e6).toFixed(0)} Mbit/s (runs ${t.samples.map((b) => (b / 1e6).toFixed(0)).join(', ')})`;
vnet.load.push(load());
try {
  const dps = await cluster.waitDatapaths();
  const dp = (h: string) => String(dps.get(h)!.uuid);
  for (const h of ['h1', 'h2']) await lab.addUplink(h);
  const { router, inet } = await lab.addInternet();
  await cluster.apply(
    northSouthApiCalls({
      upstreamMac: router.mac,
      uplinks: [
        { host: 'h1', datapath: dp('h1'), gatewayPriority: 200 },
        { host: 'h2', datapath: dp('h2'), gatewayPriority: 100 },
      ],
      tenants: [TENANTS[0]!],
    }),
  );
  // A second inside network on the same router, for the routed VM-to-VM baseline.
  await cluster.call('POST', '/networks', { uuid: 'nw-c', ipv4_network: '10.3.0.0' });
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-rcin',
    mode: 'simulated',
    enable_routing: true,
    network_uuid: 'nw-c',
    ipv4_address: '10.3.0.1',
    mac_address: '02:00:10:00:0c:02',
  });
  await cluster.call('POST', '/routes', {
    interface_uuid: 'if-rcin',
    route_link_uuid: 'rl-a',
    network_uuid: 'nw-c',
    ipv4_network: '10.3.0.0',
  });
  const vms = [
    { name: 'c1', host: 'h1', net: 'nw-c', ip: '10.3.0.10', gw: '10.3.0.1' },
    { name: 'nat', host: 'h2', net: 'nw-a', ip: '10.0.0.9', gw: '10.0.0.1' },
    // Behind SNAT on the gateway itself: the SNAT path without the tunnel (where the rest of the cost is).
    { name: 'nat1', host: 'h1', net: 'nw-a', ip: '10.0.0.8', gw: '10.0.0.1' },
    ...Array.from({ length: FIPS }, (_, i) => ({
      name: `f${i}`,
      host: 'h2',
      net: 'nw-a',
      ip: `10.0.0.${20 + i}`,
      gw: '10.0.0.1',
    })),
  ];
  for (const [i, v] of vms.entries()) {
    const mac = `02:00:00:0b:00:${(16 + i).toString(16)}`;
    await cluster.call('POST', '/interfaces', {
      uuid: `if-${v.name}`,
      network_uuid: v.net,
      ipv4_address: v.ip,
      mac_address: mac,
    });
    await lab.addVm({
      name: v.name,
      host: v.host,
      mac,
      ip: `${v.ip}/24`,
      gateway: v.gw,
      port: `if-${v.name}`,
      mtu: 1450,
    });
  }
  await cluster.waitInSync(30_000);
  const fip = (i: number) => `192.168.10.${100 + i}`;
  const addFip = async (i: number) => {
    await cluster.call('POST', '/translations', { uuid: `tr-f${i}`, interface_uuid: `if-f${i}` });
    await cluster.call('POST', '/translations/tr-f' + i + '/static_address', {
      ingress_ipv4_address: `10.0.0.${20 + i}`,
      egress_ipv4_address: fip(i),
    });
  };
  const answers = (ip: string, wait: string) =>
    lab.exec('inet', ['ping', '-q', '-n', '-c1', '-W', wait, ip]).then((r) => r.ok);

  // 1. Floating IP created → first reply from the internet host.
  const created: number[] = [];
  /** Of which the API writes themselves (both answered). */
  const written: number[] = [];
  const errors: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // The upstream router resolves the floating address afresh each round (as on OVN's side).
    await lab.run(router.name, ['ip', 'neigh', 'flush', 'all']);
    const t0 = performance.now();
    await addFip(0);
    written.push(performance.now() - t0);
    for (;;) {
      if (await lab.exec('inet', ['ping', '-q', '-n', '-c1', '-i', '0.005', '-w', '10', fip(0)]).then((x) => x.ok))
        break;
      if (performance.now() - t0 > 10_000) {
        errors.push(`round ${r}: no reply 10 s after creating the floating IP`);
        break;
      }
    }
    created.push(performance.now() - t0);
    await cluster.call('DELETE', '/translations/tr-f0');
    while (await answers(fip(0), '0.2')) if (performance.now() - t0 > 20_000) break;
    await cluster.waitInSync(30_000);
  }
  console.log(
    `floating IP created → first reply from the internet host, ${ROUNDS} rounds: ${fmt(created)} (of which the two API writes: ${fmt(written)})`,
  );
  vnet.fipMs = created;
  vnet.fipWriteMs = written;

  // 2. Flows per floating IP, on the VM's host and on the other host.
  const before = { h1: await flowCount(cluster, 'h1'), h2: await flowCount(cluster, 'h2') };
  for (let i = 0; i < FIPS; i++) await addFip(i);
  await cluster.waitInSync(30_000);
  const after = { h1: await flowCount(cluster, 'h1'), h2: await flowCount(cluster, 'h2') };
  vnet.flowsVmHost = (after.h2 - before.h2) / FIPS;
  vnet.flowsOther = (after.h1 - before.h1) / FIPS;
  console.log(
    `flows per floating IP (${FIPS} floating IPs): on the VM's host ${((after.h2 - before.h2) / FIPS).toFixed(1)}, on the other host ${((after.h1 - before.h1) / FIPS).toFixed(1)}`,
  );

  // 3. Throughput to the internet host: SNAT, floating IP; routed VM to VM across the same hosts.
  const snat = await iperfMedian(lab, 'nat', 'inet', inet.ip!, IPERF_S, IPERF_RUNS);
  const snatLocal = await iperfMedian(lab, 'nat1', 'inet', inet.ip!, IPERF_S, IPERF_RUNS);
  const floating = await iperfMedian(lab, 'f0', 'inet', inet.ip!, IPERF_S, IPERF_RUNS);
  const routed = await iperfMedian(lab, 'nat', 'c1', '10.3.0.10', IPERF_S, IPERF_RUNS);
  Object.assign(vnet, { snat: snat.median, snatLocal: snatLocal.median, fip: floating.median, routed: routed.median });
  const share = (x: { median: number | null }) =>
    x.median !== null && routed.median ? `${((100 * x.median) / routed.median).toFixed(0)} %` : 'n/a';
  console.log(`iperf3 TCP, median of ${IPERF_RUNS} × ${IPERF_S} s:`);
  console.log(`  SNAT (h2 → tunnel → gateway h1 → internet):  ${mbit(snat)}, ${share(snat)} of routed`);
  console.log(`  SNAT from a VM on the gateway h1 (no tunnel): ${mbit(snatLocal)}, ${share(snatLocal)} of routed`);
  console.log(`  floating IP (h2 → internet):                  ${mbit(floating)}, ${share(floating)} of routed`);
  console.log(`  routed VM to VM (h2 → h1):                    ${mbit(routed)}`);

  // 3b. Where the SNAT path's time goes: the userspace datapath's own counters (dpif-netdev/pmd-stats-show) while
  // one iperf3 runs on each path — packets each switch handled and its datapath passes per packet (1 + the
  // recirculations: tunnel decapsulation, each ct()).
  const switches = [
    { name: 'h1', ovs: lab.host('h1') },
    { name: 'h2', ovs: lab.host('h2') },
    { name: 'segment', ovs: lab.segmentOvs() },
  ];
  for (const [path, client, server, ip] of [
    ['SNAT', 'nat', 'inet', inet.ip!],
    ['SNAT on the gateway', 'nat1', 'inet', inet.ip!],
    ['floating IP', 'f0', 'inet', inet.ip!],
    ['routed', 'nat', 'c1', '10.3.0.10'],
  ] as const) {
    for (const sw of switches) await sw.ovs.appctl('dpif-netdev/pmd-stats-clear');
    await iperfMedian(lab, client, server, ip, IPERF_S, 1);
    const parts: string[] = [];
    for (const sw of switches) {
      const text = await sw.ovs.appctl('dpif-netdev/pmd-stats-show');
      const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
      const received = sum(/packets received: (\d+)/g);
      const recirc = sum(/packet recirculations: (\d+)/g);
      if (received > 1000)
        parts.push(
          `${sw.name} ${(received / 1000).toFixed(0)}k packets × ${((received + recirc) / received).toFixed(2)} passes`,
        );
    }
    console.log(`  datapath work on the ${path} path (one ${IPERF_S} s iperf3): ${parts.join('; ')}`);
  }

  // 4. Failover gap: the active gateway's agent killed, then started again (it takes over again).
  const gaps: number[] = [];
  const backs: number[] = [];
  const lost = async (disrupt: () => Promise<void>) => {
    const pinging = lab.exec('nat', ['ping', '-n', '-q', '-i', '0.05', '-c', '120', '-W', '1', inet.ip!]);
    await new Promise((r) => setTimeout(r, 1000));
    await disrupt();
    const m = /(\d+) packets transmitted, (\d+) received/.exec((await pinging).stdout);
    return m ? (Number(m[1]) - Number(m[2])) * 50 : Number.NaN;
  };
  const activeAt = async (host: string) => {
    const t0 = performance.now();
    while (performance.now() - t0 < 15_000) {
      const t = await cluster.call<{ active_datapath_uuid: string | null }>('GET', '/translations/tr-snata');
      if (t.active_datapath_uuid === dp(host)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    errors.push(`the gateway did not move to ${host} within 15 s`);
  };
  for (let r = 0; r < FAILOVERS; r++) {
    gaps.push(
      await lost(async () => {
        await cluster.stopAgent('h1', 'SIGKILL');
        await activeAt('h2');
      }),
    );
    backs.push(
      await lost(async () => {
        await cluster.startAgent('h1');
        await activeAt('h1');
      }),
    );
    await cluster.waitInSync(30_000);
  }
  console.log(
    `failover gap, ${FAILOVERS} rounds (pings every 50 ms): agent killed ${fmt(gaps)}; agent back ${fmt(backs)}`,
  );
  for (const e of errors) console.log(`  error: ${e}`);
} finally {
  vnet.load.push(load());
  await cluster.down();
}

if (OVN) {
  const ovnLoad = [load()];
  const o = await runOvnNorthSouth(
    { workDir: '/tmp', rounds: ROUNDS, fips: FIPS, iperfS: IPERF_S, iperfRuns: IPERF_RUNS, timeoutMs: 1_800_000 },
    new Set(),
  );
  ovnLoad.push(load());
  if (o.exitCode !== 0) console.log(`OVN run failed (exit ${o.exitCode}); its log: ${o.log}`);
  const pct = (x: number | null, of: number | null) => (x !== null && of ? `${((100 * x) / of).toFixed(0)} %` : 'n/a');
  const mb = (x: number | null) => (x === null ? 'n/a' : `${(x / 1e6).toFixed(0)} Mbit/s`);
  const p = (xs: number[], q: number) => (percentile(xs, q) ?? Number.NaN).toFixed(0);
  const ovn = {
    snat: median(o.iperf.snat),
    snatLocal: median(o.iperf.snat1),
    fip: median(o.iperf.fip),
    routed: median(o.iperf.routed),
  };
  const perFip = (a: number, b: number) => ((b - a) / FIPS).toFixed(1);
  console.log(`\n| measurement | vnet | OVN 23.03 |\n| --- | --- | --- |`);
  console.log(
    `| floating IP created → first reply from the internet host (${ROUNDS} rounds) | p50 ${p(vnet.fipMs, 50)} ms, p95 ${p(vnet.fipMs, 95)} ms (API writes p50 ${p(vnet.fipWriteMs, 50)} ms) | p50 ${p(o.fipMs, 50)} ms, p95 ${p(o.fipMs, 95)} ms (nbctl p50 ${p(o.fipWriteMs, 50)} ms)${o.fipFailed ? ` (${o.fipFailed} rounds no reply in 10 s)` : ''} |`,
  );
  console.log(
    `| flows per floating IP (${FIPS}): the VM's host / the gateway | ${vnet.flowsVmHost.toFixed(1)} / ${vnet.flowsOther.toFixed(1)} | ${o.flows ? `${perFip(o.flows.beforeCh2, o.flows.afterCh2)} / ${perFip(o.flows.beforeCh1, o.flows.afterCh1)}` : 'n/a'} |`,
  );
  console.log(
    `| iperf3 TCP through SNAT, share of routed | ${mb(vnet.snat)}, ${pct(vnet.snat, vnet.routed)} | ${mb(ovn.snat)}, ${pct(ovn.snat, ovn.routed)} |`,
  );
  console.log(
    `| iperf3 TCP through SNAT from a VM on the gateway itself (no tunnel), share of routed | ${mb(vnet.snatLocal)}, ${pct(vnet.snatLocal, vnet.routed)} | ${mb(ovn.snatLocal)}, ${pct(ovn.snatLocal, ovn.routed)} |`,
  );
  console.log(
    `| iperf3 TCP through a floating IP, share of routed | ${mb(vnet.fip)}, ${pct(vnet.fip, vnet.routed)} | ${mb(ovn.fip)}, ${pct(ovn.fip, ovn.routed)} |`,
  );
  console.log(`| iperf3 TCP routed VM to VM across the two hosts | ${mb(vnet.routed)} | ${mb(ovn.routed)} |`);
  console.log(`| seen at the internet host: SNAT / floating IP | (the e2e checks it) | ${o.seen.nat} / ${o.seen.f0} |`);
  console.log(`| 1-min load at start / end of the part | ${vnet.load.join(' / ')} | ${ovnLoad.join(' / ')} |`);
  for (const k of ['snat', 'snat1', 'fip', 'routed'] as const)
    console.log(`OVN datapath work on the ${k} path (last iperf3 run): ${o.passes[k] ?? 'n/a'}`);
  console.log(
    `OVN samples: fip ms ${o.fipMs.join(', ')}; iperf snat ${o.iperf.snat.map((b) => (b / 1e6).toFixed(0)).join(', ')}, snat from ch1 ${o.iperf.snat1.map((b) => (b / 1e6).toFixed(0)).join(', ')}, fip ${o.iperf.fip.map((b) => (b / 1e6).toFixed(0)).join(', ')}, routed ${o.iperf.routed.map((b) => (b / 1e6).toFixed(0)).join(', ')} Mbit/s`,
  );
}

// Lab benchmark of a remote-group membership change through real agents on two hosts: ns2 (h2) is in
// sg-web, whose rules admit members of sg-admin; ns1 (h1) joins and leaves sg-admin through the API.
//   join:  t0 = the PUT, then a ping every 5 ms from ns1 to ns2 until the first reply;
//   leave: t0 = the DELETE, then one new ping at a time (a fresh ICMP id, so no conntrack entry carries it)
//          until one goes unanswered.
// Then the cost of stateful filtering on throughput: iperf3 TCP ns1 → ns2 across the tunnel with both VMs
// filtered (every request-direction segment meets the rules) and with neither.
// Needs root; builds its own lab.
//   npx tsc -p tsconfig.build.json && node --import tsx bench/security-lab.ts [--rounds 10] [--rules 50]
//     [--iperf-s 5] [--iperf-runs 3]
import { Cluster } from '../src/demo/cluster.js';
import { seedApiCalls } from '../src/demo/seed.js';
import { percentile } from './compare/report.js';
import { iperfMedian } from './compare/vnet.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const ROUNDS = arg('rounds', 10);
const RULES = arg('rules', 50);
const IPERF_S = arg('iperf-s', 5);
const IPERF_RUNS = arg('iperf-runs', 3);
const NS2 = '172.16.1.2';

const prefix = `dsl${process.pid % 100000}`.slice(0, 8);
const cluster = await Cluster.start({ prefix, hosts: ['h1', 'h2'] });
try {
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  for (const [vm, host, ip, mac, uuid] of [
    ['ns1', 'h1', '172.16.1.1', '52:54:00:0d:84:01', 'if-veth1'],
    ['ns2', 'h2', NS2, '52:54:00:0d:84:02', 'if-veth2'],
  ] as const)
    await cluster.lab.addVm({ name: vm, host, mac, ip: `${ip}/24`, gateway: '172.16.1.254', port: uuid });
  await cluster.call('POST', '/security_groups', { uuid: 'sg-admin' });
  await cluster.call('POST', '/security_groups', { uuid: 'sg-web' });
  // One icmp rule naming the group, and RULES-1 tcp rules naming it too (each gains the member's address).
  await cluster.call('POST', '/security_groups/sg-web/rules', {
    direction: 'ingress',
    protocol: 'icmp',
    remote_group_uuid: 'sg-admin',
  });
  for (let k = 1; k < RULES; k++)
    await cluster.call('POST', '/security_groups/sg-web/rules', {
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 1000 + k,
      remote_group_uuid: 'sg-admin',
    });
  await cluster.call('PUT', '/interfaces/if-veth2/security_groups/sg-web');
  await cluster.waitInSync(30_000);

  const ping = (wait: string) =>
    cluster.lab.exec('ns1', ['ping', '-q', '-n', '-c1', '-i', '0.005', '-W', wait, NS2]).then((r) => r.ok);

  const join: number[] = [];
  const leave: number[] = [];
  const errors: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = performance.now();
    await cluster.call('PUT', '/interfaces/if-veth1/security_groups/sg-admin');
    for (;;) {
      if (await cluster.lab.exec('ns1', ['ping', '-q', '-n', '-c1', '-i', '0.005', '-w', '10', NS2]).then((x) => x.ok))
        break;
      if (performance.now() - t0 > 10_000) {
        errors.push(`round ${r}: no reply 10 s after joining`);
        break;
      }
    }
    join.push(performance.now() - t0);
    await cluster.waitInSync(30_000);

    t0 = performance.now();
    await cluster.call('DELETE', '/interfaces/if-veth1/security_groups/sg-admin');
    // The time is when the first refused ping was sent (the one before it was still answered).
    let sent = performance.now();
    while (await ping('0.2')) {
      sent = performance.now();
      if (sent - t0 > 10_000) {
        errors.push(`round ${r}: still answered 10 s after leaving`);
        break;
      }
    }
    leave.push(sent - t0);
    await cluster.waitInSync(30_000);
  }
  const fmt = (xs: number[]) =>
    `p50 ${(percentile(xs, 50) ?? Number.NaN).toFixed(0)} ms, p95 ${(percentile(xs, 95) ?? Number.NaN).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
  console.log(`remote-group membership change, ${RULES} rules naming the group, across 2 hosts, ${ROUNDS} rounds:`);
  console.log(`  join  (API write → first admitted ping):  ${fmt(join)}`);
  console.log(`  leave (API write → first refused ping sent):  ${fmt(leave)}`);
  for (const e of errors) console.log(`  error: ${e}`);

  // Throughput: ns1 (sg-admin) → ns2 (sg-web, tcp/5201 from sg-admin), then both unfiltered.
  await cluster.call('POST', '/security_groups/sg-web/rules', {
    direction: 'ingress',
    protocol: 'tcp',
    port_range_min: 5201,
    remote_group_uuid: 'sg-admin',
  });
  await cluster.call('PUT', '/interfaces/if-veth1/security_groups/sg-admin');
  await cluster.waitInSync(30_000);
  const mbit = (t: { median: number | null; samples: number[] }) =>
    `${((t.median ?? Number.NaN) / 1e6).toFixed(0)} Mbit/s (runs ${t.samples.map((b) => (b / 1e6).toFixed(0)).join(', ')})`;
  const filtered = await iperfMedian(cluster.lab, 'ns1', 'ns2', NS2, IPERF_S, IPERF_RUNS);
  await cluster.call('DELETE', '/interfaces/if-veth1/security_groups/sg-admin');
  await cluster.call('DELETE', '/interfaces/if-veth2/security_groups/sg-web');
  await cluster.waitInSync(30_000);
  const plain = await iperfMedian(cluster.lab, 'ns1', 'ns2', NS2, IPERF_S, IPERF_RUNS);
  console.log(`iperf3 TCP ns1 → ns2 across hosts, median of ${IPERF_RUNS} × ${IPERF_S} s:`);
  console.log(`  both filtered (stateful, ${RULES + 1} rules):  ${mbit(filtered)}`);
  console.log(`  unfiltered:                    ${mbit(plain)}`);
} finally {
  await cluster.down();
}

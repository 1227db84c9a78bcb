// Issue 22 item 1: `vnctl trace` on the seed's topology across two hosts — a routed ping (both router
// interfaces, the route link and the tunnel named), a packet a security group drops (the group and the missing
// rule named), an address that overlaps another network's (never reaching it), a VM without a binding; and
// `--flows`, whose tables and cookies are the ones `ovs-ofctl dump-flows` shows on each host.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster, VNCTL_BIN } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import type { TraceResult } from '../../src/model/trace.js';
import { addSeedVm, assertE2eEnvironment, assertReaches, failureReport, labPrefix } from './helpers.js';

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('etrc'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  // ns5 (net3, 172.16.1.1 like ns1) is declared by the seed but plugged in nowhere: unbound.
  await addSeedVm(cluster, 'ns1', 'h1');
  await addSeedVm(cluster, 'ns2', 'h2');
  await addSeedVm(cluster, 'ns3', 'h2');
  await addSeedVm(cluster, 'ns4', 'h2');
  await addSeedVm(cluster, 'ns6', 'h2');
  // ns4 only takes ssh.
  await cluster.call('POST', '/security_groups', { uuid: 'sg-ssh', display_name: 'ssh only' });
  await cluster.call('POST', '/security_groups/sg-ssh/rules', {
    direction: 'ingress',
    protocol: 'tcp',
    port_range_min: 22,
    remote_ip_prefix: '0.0.0.0/0',
  });
  await cluster.call('POST', '/interfaces/if-veth4/security_groups/sg-ssh');
  await cluster.waitInSync(20_000);
  await assertReaches(cluster, 'ns1', '172.16.2.3');
});

after(async () => {
  await cluster?.down();
});

/** Runs vnctl as an operator on h1 would (the lab's server URL, the admin token). */
async function vnctl(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const token = cluster.adminToken ? ['--token', cluster.adminToken] : [];
  return cluster.lab.host('h1').exec([VNCTL_BIN, '--api', cluster.labApi, ...token, ...args]);
}

async function trace(...args: string[]): Promise<TraceResult> {
  const r = await vnctl('-o', 'json', 'trace', ...args);
  if (r.code !== 0)
    assert.fail(
      `vnctl trace ${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}\n${await failureReport(cluster)}`,
    );
  return JSON.parse(r.stdout) as TraceResult;
}

test('a routed ping: both router interfaces, the route link and the tunnel to the other host, delivered', async () => {
  const r = await trace('if-veth1', '--dst', '172.16.2.3');
  const why = JSON.stringify(r, null, 2);
  assert.equal(r.result, 'delivered', why);
  assert.equal(r.packet.eth_dst, '52:54:00:74:00:00', 'the next hop is net1 router port');
  const path = r.path.join(' → ');
  for (const part of [
    'interface if-veth1',
    'interface if-vnet1gw',
    'route_link rl-vnetlink1',
    'interface if-vnet2gw',
    'interface if-veth3',
  ])
    assert.ok(path.includes(part), `path lacks ${part}: ${path}`);
  assert.match(path, /tunnel \((gre|vxlan) key \d+\) from dp-\S+ to dp-\S+/);
  assert.equal(r.hops.length, 2, why);
  assert.equal(r.hops[0]!.node_id, 'h1');
  assert.equal(r.hops[1]!.node_id, 'h2');
  assert.deepEqual(r.hops[1]!.outcome.kind, 'delivered');
  // The human form says the same.
  const human = await vnctl('-o', 'table', 'trace', 'if-veth1', '--dst', '172.16.2.3');
  assert.equal(human.code, 0, human.stderr);
  console.log(human.stdout.replace(/^/gm, '# '));
  assert.match(human.stdout, /verdict: delivered: delivered to if-veth3/);
});

test('a packet the security group does not admit: dropped, naming the group and the missing rule', async () => {
  const r = await trace('if-veth1', '--dst', '172.16.2.4', '--proto', 'tcp', '--dport', '80');
  console.log(`# ${r.verdict}`);
  assert.equal(r.result, 'dropped', JSON.stringify(r, null, 2));
  assert.match(r.verdict, /sg-ssh/);
  assert.match(r.verdict, /no ingress rule admits tcp\/80 from 172\.16\.1\.1/);
  assert.equal(r.hops.at(-1)!.node_id, 'h2', 'judged at the receiving port');
  const ssh = await trace('if-veth1', '--dst', '172.16.2.4', '--proto', 'tcp', '--dport', '22');
  assert.equal(ssh.result, 'delivered', JSON.stringify(ssh, null, 2));
});

test('--explain: a connection the security group admits works both ways (the reply of a committed connection)', async () => {
  const r = await trace('if-veth1', '--dst', '172.16.2.4', '--proto', 'tcp', '--dport', '22', '--explain');
  const why = JSON.stringify(r, null, 2);
  assert.equal(r.reply?.result, 'delivered', why);
  assert.match(r.explanation ?? '', /both ways work: if-veth1 reaches if-veth4, .*conntrack: est,rpl,trk/);
  const blocked = await vnctl(
    '-o',
    'table',
    'trace',
    'if-veth1',
    '--dst',
    '172.16.2.4',
    '--proto',
    'tcp',
    '--dport',
    '80',
    '--explain',
  );
  assert.equal(blocked.code, 0, blocked.stderr);
  assert.match(
    blocked.stdout,
    /^explain: if-veth1 does not reach 172\.16\.2\.4: dropped by the security groups and filters of if-veth4 \(sg-ssh\)/m,
  );
});

test('an address another network also has: only its own network is reached', async () => {
  // 172.16.1.2 is ns2 in net1 and ns6 in net3, both on h2.
  const r = await trace('if-veth1', '--dst', '172.16.1.2');
  assert.equal(r.result, 'delivered', JSON.stringify(r, null, 2));
  assert.match(r.verdict, /if-veth2/);
  assert.ok(!r.path.some((p) => p.includes('if-veth6') || p.includes('nw-net3')), r.path.join(' → '));
});

test('a VM without a binding: said so, no host asked', async () => {
  const r = await trace('if-veth5', '--dst', '172.16.1.2');
  assert.equal(r.result, 'unbound');
  assert.match(r.verdict, /no binding for if-veth5/);
  assert.equal(r.hops.length, 0);
});

test("--flows: each host's tables and cookies are those ovs-ofctl dump-flows shows", async () => {
  const r = await trace('if-veth1', '--dst', '172.16.2.3');
  for (const hop of r.hops) {
    const host = hop.node_id;
    const dump = await cluster.lab.host(host).ofctl('dump-flows', '--no-stats', cluster.lab.host(host).bridge);
    const installed = new Set(
      dump
        .split('\n')
        .map((l) => /cookie=(0x[0-9a-f]+),(?: table=(\d+),)?/.exec(l.trim()))
        .filter((m) => m !== null)
        // --no-stats leaves out table=0.
        .map((m) => `${BigInt(m[1]!).toString(16)}/${m[2] ?? 0}`),
    );
    const hit = hop.flows.filter((f) => f.bridge === cluster.lab.host(host).bridge && f.cookie !== null);
    assert.ok(hit.length >= 3, `only ${hit.length} flows on ${host}`);
    for (const f of hit) {
      assert.ok(
        installed.has(`${BigInt(f.cookie!).toString(16)}/${f.table}`),
        `${host}: ${f.cookie} table ${f.table} not in dump-flows`,
      );
      assert.ok(f.table_name, `${host}: table ${f.table} has no name`);
    }
  }
  const human = await vnctl('-o', 'table', 'trace', 'if-veth1', '--dst', '172.16.2.3', '--flows');
  assert.equal(human.code, 0, human.stderr);
  console.log(human.stdout.replace(/^/gm, '# '));
  assert.match(human.stdout, /table \d+ classifier .*cookie 0x/);
  assert.match(human.stdout, /interface if-veth1/);
});

test('bad input names the field', async () => {
  const r = await vnctl('trace', 'if-veth1', '--dst', 'nowhere');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /dst/);
  const unknown = await vnctl('trace', 'if-nope', '--dst', '172.16.2.3');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /if-nope/);
});

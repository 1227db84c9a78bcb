// Issue 19 item 9: OpenVNet's stateless filter statics next to an unfiltered VM (its filter spec's fil-test1
// and vm6). A stateless `pass` does not commit the connection, so conntrack calls the reply of a request nobody
// committed (an echo reply, a SYN-ACK) invalid: ICMP and TCP used to die there while UDP (a reply is just a new
// datagram) passed. Real OVS conntrack, real pings and TCP connections, both directions, across two hosts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { addSeedVm, assertE2eEnvironment, failureReport, labPrefix, seedVm } from './helpers.js';

let cluster: Cluster;
const ns3 = seedVm('ns3');
const ns4 = seedVm('ns4');

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('efst'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addSeedVm(cluster, 'ns3', 'h1');
  await addSeedVm(cluster, 'ns4', 'h2');
  // ns3: OpenVNet's fil-test1 — tcp, udp and icmp pass from and to anywhere, statelessly; nothing else.
  await cluster.call('POST', '/filters', { uuid: 'fil-test1', interface_uuid: ns3.uuid });
  for (const protocol of ['tcp', 'udp', 'icmp', 'arp'])
    await cluster.call('POST', '/filters/fil-test1/static', { protocol, action: 'pass' });
  await cluster.waitInSync(20_000);
  for (const vm of ['ns3', 'ns4']) await cluster.lab.spawn(vm, 'http', ['python3', '-m', 'http.server', '8080']);
});

after(async () => {
  await cluster?.down();
});

async function assertPing(from: string, to: string): Promise<void> {
  const r = await cluster.lab.waitPing(from, to, { timeoutMs: 10_000 });
  if (!r.ok) assert.fail(`${from} -> ${to} ping failed\n${r.output}\n${await failureReport(cluster)}`);
}

async function assertTcp(from: string, to: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 20; i++) {
    const r = await cluster.lab.exec(from, ['curl', '-sS', '-o', '/dev/null', '--max-time', '2', `http://${to}:8080/`]);
    if (r.ok) return;
    last = r.stderr;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.fail(`${from} -> ${to} tcp/8080 failed: ${last}\n${await failureReport(cluster)}`);
}

test('stateless pass: the unfiltered VM pings the filtered one, and the reply comes back', async () => {
  await assertPing('ns4', ns3.ip);
});

test('stateless pass: the filtered VM pings the unfiltered one, and the reply comes back', async () => {
  await assertPing('ns3', ns4.ip);
});

test('stateless pass: TCP connections both ways (SYN-ACK and the rest of the connection pass)', async () => {
  await assertTcp('ns4', ns3.ip);
  await assertTcp('ns3', ns4.ip);
});

test('vnctl trace says delivered both ways', async () => {
  for (const [from, to] of [
    [ns4.uuid, ns3.ip],
    [ns3.uuid, ns4.ip],
  ] as const) {
    const r = await cluster.client.trace({ interface_uuid: from, dst: to, proto: 'tcp', dport: 8080 });
    assert.equal(r.result, 'delivered', JSON.stringify(r, null, 2));
  }
});

test('--explain traces the reply back as conntrack sees it (invalid: nothing committed) — it comes back', async () => {
  const r = await cluster.client.trace({ interface_uuid: ns4.uuid, dst: ns3.ip, explain: true });
  const why = JSON.stringify(r, null, 2);
  assert.equal(r.result, 'delivered', why);
  assert.equal(r.reply?.result, 'delivered', why);
  assert.match(
    r.explanation ?? '',
    /both ways work: if-veth4 reaches if-veth3, and its reply comes back \(conntrack: inv,trk\)/,
  );
  console.log(`# ${r.explanation}`);
});

// A static is written as traffic arriving and matched mirrored on the way out (OpenVNet's), so one static closes
// or opens both ways at once: a drop naming ns4 stops the ping on its way in, and --explain says where.
test('--explain names the filter that drops, and the ping goes unanswered', async () => {
  await cluster.call('POST', '/filters/fil-test1/static', {
    protocol: 'icmp',
    action: 'drop',
    src_address: `${ns4.ip}/32`,
  });
  await cluster.waitInSync(20_000);
  const r = await cluster.client.trace({ interface_uuid: ns4.uuid, dst: ns3.ip, explain: true });
  const why = JSON.stringify(r, null, 2);
  assert.equal(r.result, 'dropped', why);
  assert.match(
    r.explanation ?? '',
    /if-veth4 does not reach 172\.16\.2\.3: dropped by the security groups and filters of if-veth3 \(fil-test1\)/,
  );
  console.log(`# ${r.explanation}`);
  for (const [from, to] of [
    ['ns4', ns3.ip],
    ['ns3', ns4.ip],
  ] as const) {
    const ping = await cluster.lab.ping(from, to, { count: 2, intervalS: 0.2, timeoutS: 1 });
    assert.equal(ping.received, 0, `${from} -> ${to}: ${ping.output}`);
  }
});

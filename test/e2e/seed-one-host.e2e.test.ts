// Issue 6 "Done when" 1: one host laid out as the seed does it (br0 with the seed's dpid, VM ports
// named if-veth1..6, the model entered with the seed's vnctl/curl lines), then its reachability.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster, VNCTL_BIN } from '../../src/demo/cluster.js';
import { seedVnctlLines } from '../../src/demo/seed.js';
import {
  addSeedVm,
  assertE2eEnvironment,
  assertIsolated,
  assertReaches,
  assertSeedMatrix,
  failureReport,
  labPrefix,
} from './helpers.js';
import { waitFor } from '../lib/wait-for.js';

const SEED_DPID = '000002fdee8e0a44';
let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  // The seed registers its datapath by hand, so no --register.
  // One box, as the seed had: the server on 127.0.0.1 (local trust), so the seed's token-less lines work.
  cluster = await Cluster.start({
    prefix: labPrefix('eone'),
    hosts: ['h1'],
    register: false,
    startAgents: false,
    serverListen: 'loopback',
  });
  const h1 = cluster.lab.host('h1');
  // The seed's ovs-create.sh gives br0 a fixed datapath id; the datapath line below names it.
  await h1.vsctl('set', 'bridge', 'br0', `other_config:datapath-id=${SEED_DPID}`);
  // Unlike OpenVNet (which needed the datapath registered first), the agent may start first: it
  // waits for a datapath with its bridge's dpid and says so.
  await cluster.startAgent('h1');
  const log = () => cluster.agents.get('h1')!.logTail(40);
  await waitFor(
    () => /no datapath with dpid 0x000002fdee8e0a44 is registered; waiting/.test(log()),
    () => `the agent to say it waits:\n${log()}`,
    { timeoutMs: 15_000, everyMs: 100 },
  );
  const lines = seedVnctlLines('http://127.0.0.1:9090', {
    uuid: 'dp-br0',
    dpid: `0x${SEED_DPID}`,
    nodeId: '192.168.122.207',
    ip: '192.168.122.207',
  });
  for (const line of lines) {
    // vnctl and curl run in the server's host namespace, against its 127.0.0.1:9090, as users would.
    const argv = line[0] === 'vnctl' ? [VNCTL_BIN, ...line.slice(1)] : line;
    const r = await h1.exec(argv);
    assert.equal(r.code, 0, `${line.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  }
  for (const vm of ['ns1', 'ns2', 'ns3', 'ns4', 'ns5', 'ns6']) await addSeedVm(cluster, vm, 'h1');
});

after(async () => {
  await cluster?.down();
});

test('the agent picks up the hand-registered datapath, binds the six ports and converges', async () => {
  try {
    await cluster.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await failureReport(cluster)}`);
  }
  const dp = await cluster.call<Record<string, unknown>>('GET', '/datapaths/dp-br0');
  assert.equal(dp.is_connected, true);
  assert.equal(dp.flows_in_sync, true);
  assert.equal(dp.reported_node_id, 'h1');
  // The seed's node_id (192.168.122.207) is not this agent's: a warning, never silence.
  assert.match(String(dp.last_error), /node_id '192\.168\.122\.207' differs/);
  for (let i = 1; i <= 6; i++) {
    const itf = await cluster.call<Record<string, unknown>>('GET', `/interfaces/if-veth${i}`);
    assert.equal(itf.status, 'up', `if-veth${i} not up: ${JSON.stringify(itf)}`);
    assert.equal(itf.active_datapath_uuid, 'dp-br0');
    assert.equal(itf.active_port_name, `if-veth${i}`);
  }
});

test('ns1<->ns2, ns3<->ns4, ns5<->ns6 reply; ns1->ns3 and ns4->ns2 are routed', async () => {
  await assertReaches(cluster, 'ns1', '172.16.1.2');
  await assertReaches(cluster, 'ns2', '172.16.1.1');
  await assertReaches(cluster, 'ns3', '172.16.2.4');
  await assertReaches(cluster, 'ns4', '172.16.2.3');
  await assertReaches(cluster, 'ns5', '172.16.1.2');
  await assertReaches(cluster, 'ns6', '172.16.1.1');
  await assertReaches(cluster, 'ns1', '172.16.2.3');
  await assertReaches(cluster, 'ns4', '172.16.1.2');
});

test('ns1 pings both router addresses (answered by the switch)', async () => {
  await assertReaches(cluster, 'ns1', '172.16.1.254');
  await assertReaches(cluster, 'ns1', '172.16.2.254');
});

test("ns5's ping to 172.16.1.2 reaches ns6 and never ns2 (tcpdump counts)", async () => {
  const lab = cluster.lab;
  const onNs2 = await lab.capture('ns2', 'eth0', 'icmp', () =>
    lab.capture('ns6', 'eth0', 'icmp', () => lab.ping('ns5', '172.16.1.2', { count: 5, intervalS: 0.1, timeoutS: 2 })),
  );
  const onNs6 = onNs2.result;
  assert.equal(onNs6.result.received, 5, `ns5's pings were not all answered\n${onNs6.result.output}`);
  assert.equal(onNs6.count, 10, `ns6 should see 5 requests + 5 replies:\n${onNs6.lines.join('\n')}`);
  assert.equal(onNs2.count, 0, `ns2 saw net3 traffic:\n${onNs2.lines.join('\n')}`);
});

test('nothing crosses from net3 to net1/net2: not even ARP for their router', async () => {
  // Same subnet as net1's router port, so these send ARP that net1 would answer.
  await assertIsolated(cluster, 'ns5', '172.16.1.254');
  await assertIsolated(cluster, 'ns6', '172.16.1.254');
});

test('routed traffic from net2 to 172.16.1.1 reaches ns1, never ns5 (tcpdump counts)', async () => {
  const lab = cluster.lab;
  // ICMP only: ns5's own network mates may still be ARPing from the previous test.
  const onNs5 = await lab.capture('ns5', 'eth0', 'icmp', () =>
    lab.capture('ns1', 'eth0', 'icmp', () => lab.ping('ns3', '172.16.1.1', { count: 3, intervalS: 0.1, timeoutS: 2 })),
  );
  assert.equal(onNs5.result.result.received, 3, onNs5.result.result.output);
  assert.equal(onNs5.result.count, 6, onNs5.result.lines.join('\n'));
  assert.equal(onNs5.count, 0, `ns5 saw routed traffic:\n${onNs5.lines.join('\n')}`);
});

test('the full reachability matrix', async () => {
  await assertSeedMatrix(cluster);
});

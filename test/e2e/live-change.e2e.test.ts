// Issue 6 "Done when" 5: deleting an interface or its IP lease cuts the VM off, re-creating it
// restores it, and moving a VM's port to another host restores reachability (bindings follow).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import {
  addSeedVm,
  assertE2eEnvironment,
  assertIsolated,
  assertReaches,
  failureReport,
  labPrefix,
  seedVm,
} from './helpers.js';

let cluster: Cluster;
let dpOf: Map<string, Record<string, unknown>>;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('elive'), hosts: ['h1', 'h2'] });
  dpOf = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dpOf.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addSeedVm(cluster, 'ns1', 'h1');
  await addSeedVm(cluster, 'ns2', 'h2');
  await addSeedVm(cluster, 'ns3', 'h2');
  await cluster.waitInSync(20_000);
  await assertReaches(cluster, 'ns1', '172.16.1.2');
});

after(async () => {
  await cluster?.down();
});

/** Polls until pings from `from` to `ip` stop being answered, then checks twice more. */
async function waitUnreachable(from: string, ip: string, timeoutMs = 10_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const r = await cluster.lab.ping(from, ip, { count: 1, timeoutS: 1 });
    if (!r.ok) break;
    if (Date.now() - t0 > timeoutMs)
      assert.fail(`${from} still reaches ${ip} after ${timeoutMs} ms\n${await failureReport(cluster)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  await assertIsolated(cluster, from, ip);
  return Date.now() - t0;
}

/** Polls the interface until its agent reports it down (10 s), returning it. */
async function waitReportedDown(uuid: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  let itf: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    itf = await cluster.call<Record<string, unknown>>('GET', `/interfaces/${uuid}`);
    if (itf.status === 'down') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(itf.status, 'down', JSON.stringify(itf));
  return itf;
}

test('deleting the interface makes the VM unreachable; re-creating it restores it', async (t) => {
  const vm = seedVm('ns2');
  await cluster.call('DELETE', `/interfaces/${vm.uuid}`);
  t.diagnostic(`unreachable ${await waitUnreachable('ns1', vm.ip)} ms after the DELETE`);
  await cluster.call('POST', '/interfaces', {
    uuid: vm.uuid,
    network_uuid: vm.network,
    ipv4_address: vm.ip,
    mac_address: vm.mac,
  });
  t.diagnostic(`reachable ${await assertReaches(cluster, 'ns1', vm.ip)} ms after the POST`);
  await assertReaches(cluster, 'ns2', '172.16.2.3');
});

test('deleting the IP lease makes the VM unreachable; re-creating it restores it', async () => {
  const vm = seedVm('ns2');
  const itf = await cluster.call<{ mac_leases: { uuid: string; ip_leases: { uuid: string }[] }[] }>(
    'GET',
    `/interfaces/${vm.uuid}`,
  );
  const ml = itf.mac_leases[0];
  const il = ml?.ip_leases[0];
  assert.ok(ml && il, `no lease on ${vm.uuid}: ${JSON.stringify(itf)}`);
  await cluster.call('DELETE', `/ip_leases/${il.uuid}`);
  await waitUnreachable('ns1', vm.ip);
  await cluster.call('POST', '/ip_leases', {
    network_uuid: vm.network,
    ipv4_address: vm.ip,
    interface_uuid: vm.uuid,
    mac_lease_uuid: ml.uuid,
  });
  await assertReaches(cluster, 'ns1', vm.ip);
});

test("moving a VM's port to another host restores reachability and moves its binding", async (t) => {
  const vm = seedVm('ns2');
  const t0 = Date.now();
  await cluster.lab.moveVm('ns2', 'h1');
  const ms = await assertReaches(cluster, 'ns1', vm.ip);
  t.diagnostic(`moved VM answered ${ms} ms after its new port was attached (${Date.now() - t0} ms including the move)`);
  await assertReaches(cluster, 'ns3', vm.ip); // routed, now from the other host
  const h1 = String(dpOf.get('h1')!.uuid);
  const deadline = Date.now() + 10_000;
  let itf: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    itf = await cluster.call<Record<string, unknown>>('GET', `/interfaces/${vm.uuid}`);
    if (itf.active_datapath_uuid === h1 && itf.status === 'up') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(itf.active_datapath_uuid, h1, JSON.stringify(itf));
  assert.equal(itf.status, 'up');
  assert.ok(ms < 10_000, `took ${ms} ms`);
  // And back: the host it left must not keep it down or steal it.
  await cluster.lab.moveVm('ns2', 'h2');
  await assertReaches(cluster, 'ns1', vm.ip);
  await assertReaches(cluster, 'ns3', vm.ip);
});

test('an interface set administratively down carries nothing and is reported down; set up, it works again', async () => {
  await assertReaches(cluster, 'ns1', '172.16.1.2');
  await cluster.call('PUT', '/interfaces/if-veth2', { admin_state_up: false });
  await waitUnreachable('ns1', '172.16.1.2');
  await waitReportedDown('if-veth2');
  await cluster.call('PUT', '/interfaces/if-veth2', { admin_state_up: true });
  await assertReaches(cluster, 'ns1', '172.16.1.2');
});

test('a port that disappears is reported down', async () => {
  await cluster.lab.detachVm('ns3');
  const itf = await waitReportedDown('if-veth3');
  assert.equal(itf.active_datapath_uuid, null);
  await cluster.lab.attachVm('ns3');
  await assertReaches(cluster, 'ns3', '172.16.1.2');
});

// OpenVNet's simple_seg_tp and event_seg_tp on real OVS: our seg_tp dataset (OpenVNet's simple_seg_tp), loaded
// with base + base_topology through the converter into three hosts, places the two segments through the overlay
// topology — no datapath_segments row by hand — and gives simple_seg's matrix. Then event_seg_tp's steps: removing
// seg-left from the topology withdraws it (its VMs no longer reach each other, seg-right's still do), re-adding it
// restores the matrix, deleting the topology withdraws both, recreating it restores them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Cluster } from '../../src/demo/cluster.js';
import { assertE2eEnvironment } from './helpers.js';
import { assertWithdrawn, startOpenVnetLab } from './openvnet-lab.js';
import { addSegVms, assertSegMatrix, assertSegReachable, assertSegVmsBound, SEG_VMS } from './openvnet-seg.js';

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await startOpenVnetLab('osegtp', ['h1', 'h2', 'h3'], 'seg_tp');
  await addSegVms(cluster);
});

after(async () => {
  await cluster?.down();
});

const ip = (name: string) => SEG_VMS.find((v) => v.name === name)!.ip;

/** The topology's rows: the datapath_segments rows topo-over provisioned. */
async function provisioned(): Promise<string[]> {
  const out: string[] = [];
  for (const dp of ['dp-h1', 'dp-h2', 'dp-h3']) {
    const r = await cluster.call<{ items: Record<string, unknown>[] }>('GET', `/datapaths/${dp}/segments`);
    for (const row of r.items) if (row.topology_uuid === 'topo-over') out.push(String(row.uuid));
  }
  return out.sort();
}
const rowsFor = (segments: string[]) =>
  ['dp-h1', 'dp-h2', 'dp-h3'].flatMap((dp) => segments.map((s) => `${dp}/${s}`)).sort();

test('simple_seg_tp: the segments are provisioned by the topology and every VM is bound', async () => {
  assert.deepEqual(await provisioned(), rowsFor(['seg-left', 'seg-right']));
  await assertSegVmsBound(cluster);
});

test("simple_seg_tp: simple_seg's whole matrix", async () => {
  await assertSegMatrix(cluster);
});

test('event_seg_tp: removing seg-left from the topology withdraws it; seg-right keeps working', async () => {
  await cluster.call('DELETE', '/topologies/topo-over/segments/seg-left');
  assert.deepEqual(await provisioned(), rowsFor(['seg-right']));
  await assertWithdrawn(cluster, 'vm1', ip('vm3'));
  await assertWithdrawn(cluster, 'vm1', ip('vm5'));
  await assertSegReachable(cluster, 'vm2', 'vm4');
  await assertSegReachable(cluster, 'vm2', 'vm6');
});

test('event_seg_tp: re-adding it restores the whole matrix', async () => {
  await cluster.call('POST', '/topologies/topo-over/segments/seg-left');
  await assertSegMatrix(cluster);
});

test('event_seg_tp: deleting the topology withdraws both; recreating it restores the matrix', async () => {
  await cluster.call('DELETE', '/topologies/topo-over');
  assert.deepEqual(await provisioned(), []);
  await assertWithdrawn(cluster, 'vm1', ip('vm3'));
  await assertWithdrawn(cluster, 'vm2', ip('vm4'));
  for (const v of SEG_VMS) await cluster.lab.run(v.name, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  await cluster.call('POST', '/topologies', { uuid: 'topo-over', mode: 'simple_overlay' });
  await cluster.call('POST', '/topologies/topo-over/underlays/topo-under');
  for (const s of ['seg-left', 'seg-right']) await cluster.call('POST', `/topologies/topo-over/segments/${s}`);
  assert.deepEqual(await provisioned(), rowsFor(['seg-left', 'seg-right']));
  await assertSegMatrix(cluster);
  for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, `${dp.node_id}: ${dp.last_error}`);
});

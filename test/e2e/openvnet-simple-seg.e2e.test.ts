// Issue 19 "Done when" simple_seg: OpenVNet's overlapping-segment reachability matrix across three hosts. The
// objects are loaded the way OpenVNet's harness loads its datasets (src/openvnet/dataset.ts over our counterpart
// fixtures base.yml + base_dp.yml + seg.yml), into a real server with three real agents on real OVS. Two segments,
// no IP networks; each segment has a VM on every host and the VMs of both segments use the same addresses
// (10.101.0.10/11/12, as OpenVNet's spec sets them): a VM reaches its own segment's VMs, on its host and across
// tunnels, and never the other segment's, whose VM answers to the very same address.
import { after, before, test } from 'node:test';
import type { Cluster } from '../../src/demo/cluster.js';
import { assertE2eEnvironment } from './helpers.js';
import { startOpenVnetLab } from './openvnet-lab.js';
import {
  addSegVms,
  assertSegMatrix,
  assertSegNotReachable,
  assertSegReachable,
  assertSegVmsBound,
} from './openvnet-seg.js';

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await startOpenVnetLab('oseg', ['h1', 'h2', 'h3'], 'seg');
  await addSegVms(cluster);
});

after(async () => {
  await cluster?.down();
});

test("the three agents take the dataset's datapaths by their dpids and converge with every VM bound", async () => {
  await assertSegVmsBound(cluster);
});

// OpenVNet's simple examples (shared_examples/simple.rb), with its names: vm1/vm3/vm5 are "vnet1" (seg-left) and
// vm2/vm4/vm6 "vnet2" (seg-right); vm1-vm2 share a host, vm3-vm4 and vm5-vm6 are across the tunnel from them.
test('seg-left: vm1 reaches vm3 (another host) and vm5 (another host), not vm4 or vm6', async () => {
  await assertSegReachable(cluster, 'vm1', 'vm3');
  await assertSegReachable(cluster, 'vm1', 'vm5');
  await assertSegNotReachable(cluster, 'vm1', 'vm4');
  await assertSegNotReachable(cluster, 'vm1', 'vm6');
});

test('seg-right: vm2 reaches vm4 and vm6, not vm3 or vm5', async () => {
  await assertSegReachable(cluster, 'vm2', 'vm4');
  await assertSegReachable(cluster, 'vm2', 'vm6');
  await assertSegNotReachable(cluster, 'vm2', 'vm3');
  await assertSegNotReachable(cluster, 'vm2', 'vm5');
});

test('the whole matrix: every pair of the same segment reaches, no pair across segments does', async () => {
  await assertSegMatrix(cluster);
});

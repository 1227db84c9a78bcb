// Issue 19 "Done when" simple_seg: OpenVNet's overlapping-segment reachability matrix across three hosts. The
// objects are loaded the way OpenVNet's harness loads its datasets (src/openvnet/dataset.ts over our counterpart
// fixtures base.yml + base_dp.yml + seg.yml), into a real server with three real agents on real OVS. Two segments,
// no IP networks; each segment has a VM on every host and the VMs of both segments use the same addresses
// (10.101.0.10/11/12, as OpenVNet's spec sets them): a VM reaches its own segment's VMs, on its host and across
// tunnels, and never the other segment's, whose VM answers to the very same address.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Cluster } from '../../src/demo/cluster.js';
import { assertE2eEnvironment } from './helpers.js';
import { startOpenVnetLab } from './openvnet-lab.js';
import { type SegVm, segmentReport } from './segment-vms.js';

/** OpenVNet's vm1..vm6: odd ones on the first segment, even ones on the second, two per host (seg.yml). */
const VMS: SegVm[] = [
  { name: 'vm1', uuid: 'if-s1', segment: 'seg-left', host: 'h1', mac: '52:54:00:5e:01:01', ip: '10.101.0.10' },
  { name: 'vm2', uuid: 'if-s2', segment: 'seg-right', host: 'h1', mac: '52:54:00:5e:02:02', ip: '10.101.0.10' },
  { name: 'vm3', uuid: 'if-s3', segment: 'seg-left', host: 'h2', mac: '52:54:00:5e:01:03', ip: '10.101.0.11' },
  { name: 'vm4', uuid: 'if-s4', segment: 'seg-right', host: 'h2', mac: '52:54:00:5e:02:04', ip: '10.101.0.11' },
  { name: 'vm5', uuid: 'if-s5', segment: 'seg-left', host: 'h3', mac: '52:54:00:5e:01:05', ip: '10.101.0.12' },
  { name: 'vm6', uuid: 'if-s6', segment: 'seg-right', host: 'h3', mac: '52:54:00:5e:02:06', ip: '10.101.0.12' },
];
const vm = (name: string) => VMS.find((v) => v.name === name)!;

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await startOpenVnetLab('oseg', ['h1', 'h2', 'h3'], 'seg');
  for (const v of VMS) {
    await cluster.lab.addVm({ name: v.name, host: v.host, mac: v.mac, ip: null, gateway: null, port: v.uuid });
    // As OpenVNet's spec does (vm.change_ipv4_address): the VM sets its own address, no DHCP on a segment.
    await cluster.lab.run(v.name, ['ip', 'addr', 'add', `${v.ip}/24`, 'dev', 'eth0']);
  }
});

after(async () => {
  await cluster?.down();
});

/** The failure report for an echo from `from` to `dstIp`. */
const report = (from: SegVm, dstIp: string) => segmentReport(cluster, VMS, from, dstIp);

/** OpenVNet's be_reachable_to: a ping from one VM to the other's address is answered, by that VM. */
async function assertReachable(from: string, to: string): Promise<void> {
  const src = vm(from);
  const dst = vm(to);
  const r = await cluster.lab.waitPing(from, dst.ip, { timeoutMs: 20_000 });
  if (!r.ok) assert.fail(`${from} -> ${to} (${dst.ip}) got no reply\n${await report(src, dst.ip)}`);
  const neigh = await cluster.lab.run(from, ['ip', 'neigh', 'show', dst.ip]);
  assert.match(neigh, new RegExp(dst.mac), `${from} resolved ${dst.ip} to ${to}'s MAC: ${neigh}`);
}

/** An address no VM has: a ping to it is only ARP broadcasts, which reach exactly the sender's segment. */
const UNUSED = '10.101.0.99';

/**
 * The other segment's VM sees nothing of `from`: a ping to its address goes unanswered when the sender's own
 * segment has no VM there, and in every case not one frame of `from` reaches `to`, broadcasts included. When
 * both have the same address (vm1 and vm2), the ping goes to an unused address so that it leaves `from` at all.
 */
async function assertNotReachable(from: string, to: string): Promise<void> {
  const src = vm(from);
  const dst = vm(to);
  await cluster.lab.run(from, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  const target = dst.ip === src.ip ? UNUSED : dst.ip;
  const sameAddressInOwnSegment = VMS.some((v) => v.segment === src.segment && v.name !== from && v.ip === target);
  const seen = await cluster.lab.capture(to, 'eth0', `ether src ${src.mac}`, () =>
    cluster.lab.ping(from, target, { count: 2, intervalS: 0.2, timeoutS: 1 }),
  );
  if (!sameAddressInOwnSegment && seen.result.received > 0)
    assert.fail(`${from} -> ${to} (${dst.ip}) was answered but must not be\n${await report(src, dst.ip)}`);
  assert.equal(seen.count, 0, `${to} saw ${from}'s frames:\n${seen.lines.join('\n')}`);
}

test("the three agents take the dataset's datapaths by their dpids and converge with every VM bound", async () => {
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  const dps = await cluster.datapaths();
  for (const [uuid, host] of [
    ['dp-h1', 'h1'],
    ['dp-h2', 'h2'],
    ['dp-h3', 'h3'],
  ] as const) {
    const dp = dps.find((d) => d.uuid === uuid);
    assert.ok(dp, `no ${uuid}`);
    assert.equal(dp.reported_node_id ?? dp.node_id, host);
    assert.equal(dp.last_error, null, `${uuid}: ${dp.last_error}`);
  }
  for (const v of VMS) {
    const deadline = Date.now() + 20_000;
    let i: Record<string, unknown>;
    for (;;) {
      i = await cluster.call<Record<string, unknown>>('GET', `/interfaces/${v.uuid}`);
      if (i.status === 'up' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(i.status, 'up', `${v.uuid}: ${JSON.stringify(i)}`);
    assert.equal(i.segment_uuid, v.segment);
    assert.equal(i.network_uuid, null);
  }
});

// OpenVNet's simple examples (shared_examples/simple.rb), with its names: vm1/vm3/vm5 are "vnet1" (seg-left) and
// vm2/vm4/vm6 "vnet2" (seg-right); vm1-vm2 share a host, vm3-vm4 and vm5-vm6 are across the tunnel from them.
test('seg-left: vm1 reaches vm3 (another host) and vm5 (another host), not vm4 or vm6', async () => {
  await assertReachable('vm1', 'vm3');
  await assertReachable('vm1', 'vm5');
  await assertNotReachable('vm1', 'vm4');
  await assertNotReachable('vm1', 'vm6');
});

test('seg-right: vm2 reaches vm4 and vm6, not vm3 or vm5', async () => {
  await assertReachable('vm2', 'vm4');
  await assertReachable('vm2', 'vm6');
  await assertNotReachable('vm2', 'vm3');
  await assertNotReachable('vm2', 'vm5');
});

test('the whole matrix: every pair of the same segment reaches, no pair across segments does', async () => {
  for (const a of VMS)
    for (const b of VMS) {
      if (a === b) continue;
      if (a.segment === b.segment) await assertReachable(a.name, b.name);
      else await assertNotReachable(a.name, b.name);
    }
});

// OpenVNet's simple_seg set-up and checks, shared by the simple_seg and simple_seg_tp/event_seg_tp e2e tests: two
// segments without IP networks, a VM of each on each of three hosts, the same addresses in both segments (as
// OpenVNet's spec sets them), and its be_reachable_to / not_to be_reachable_to made on real packets.
import assert from 'node:assert/strict';
import type { Cluster } from '../../src/demo/cluster.js';
import { plugInterfaceVm } from './helpers.js';
import { type SegVm, segmentReport } from './segment-vms.js';

/** OpenVNet's vm1..vm6: odd ones on the first segment, even ones on the second, two per host (seg.yml, seg_tp.yml). */
export const SEG_VMS: SegVm[] = [
  { name: 'vm1', uuid: 'if-s1', segment: 'seg-left', host: 'h1', mac: '52:54:00:5e:01:01', ip: '10.101.0.10' },
  { name: 'vm2', uuid: 'if-s2', segment: 'seg-right', host: 'h1', mac: '52:54:00:5e:02:02', ip: '10.101.0.10' },
  { name: 'vm3', uuid: 'if-s3', segment: 'seg-left', host: 'h2', mac: '52:54:00:5e:01:03', ip: '10.101.0.11' },
  { name: 'vm4', uuid: 'if-s4', segment: 'seg-right', host: 'h2', mac: '52:54:00:5e:02:04', ip: '10.101.0.11' },
  { name: 'vm5', uuid: 'if-s5', segment: 'seg-left', host: 'h3', mac: '52:54:00:5e:01:05', ip: '10.101.0.12' },
  { name: 'vm6', uuid: 'if-s6', segment: 'seg-right', host: 'h3', mac: '52:54:00:5e:02:06', ip: '10.101.0.12' },
];
const vm = (name: string) => SEG_VMS.find((v) => v.name === name)!;

/** An address no VM has: a ping to it is only ARP broadcasts, which reach exactly the sender's segment. */
const UNUSED = '10.101.0.99';

/** Plugs the six VMs in; as OpenVNet's spec does (vm.change_ipv4_address), each sets its own address: no DHCP. */
export async function addSegVms(cluster: Cluster): Promise<void> {
  for (const v of SEG_VMS) await plugInterfaceVm(cluster, { ...v, selfAddressed: true });
}

/** The agents run the dataset's datapaths (found by dpid) without error, and every VM is reported up. */
export async function assertSegVmsBound(cluster: Cluster): Promise<void> {
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  const dps = await cluster.datapaths();
  for (const h of new Set(SEG_VMS.map((v) => v.host))) {
    const dp = dps.find((d) => d.uuid === `dp-${h}`);
    assert.ok(dp, `no dp-${h}`);
    assert.equal(dp.reported_node_id ?? dp.node_id, h);
    assert.equal(dp.last_error, null, `dp-${h}: ${dp.last_error}`);
  }
  for (const v of SEG_VMS) {
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
}

/** The failure report for an echo from `from` to `dstIp`. */
const report = (cluster: Cluster, from: SegVm, dstIp: string) => segmentReport(cluster, SEG_VMS, from, dstIp);

/** OpenVNet's be_reachable_to: a ping from one VM to the other's address is answered, by that VM. */
export async function assertSegReachable(cluster: Cluster, from: string, to: string): Promise<void> {
  const src = vm(from);
  const dst = vm(to);
  const r = await cluster.lab.waitPing(from, dst.ip, { timeoutMs: 20_000 });
  if (!r.ok) assert.fail(`${from} -> ${to} (${dst.ip}) got no reply\n${await report(cluster, src, dst.ip)}`);
  const neigh = await cluster.lab.run(from, ['ip', 'neigh', 'show', dst.ip]);
  assert.match(neigh, new RegExp(dst.mac), `${from} resolved ${dst.ip} to ${to}'s MAC: ${neigh}`);
}

/**
 * The other segment's VM sees nothing of `from`: a ping to its address goes unanswered when the sender's own
 * segment has no VM there, and in every case not one frame of `from` reaches `to`, broadcasts included. When
 * both have the same address (vm1 and vm2), the ping goes to an unused address so that it leaves `from` at all.
 */
export async function assertSegNotReachable(cluster: Cluster, from: string, to: string): Promise<void> {
  const src = vm(from);
  const dst = vm(to);
  await cluster.lab.run(from, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  const target = dst.ip === src.ip ? UNUSED : dst.ip;
  const sameAddressInOwnSegment = SEG_VMS.some((v) => v.segment === src.segment && v.name !== from && v.ip === target);
  const seen = await cluster.lab.capture(to, 'eth0', `ether src ${src.mac}`, () =>
    cluster.lab.ping(from, target, { count: 2, intervalS: 0.2, timeoutS: 1 }),
  );
  if (!sameAddressInOwnSegment && seen.result.received > 0)
    assert.fail(`${from} -> ${to} (${dst.ip}) was answered but must not be\n${await report(cluster, src, dst.ip)}`);
  assert.equal(seen.count, 0, `${to} saw ${from}'s frames:\n${seen.lines.join('\n')}`);
}

/** The whole matrix: every pair of the same segment reaches, no pair across segments does. */
export async function assertSegMatrix(cluster: Cluster): Promise<void> {
  for (const a of SEG_VMS)
    for (const b of SEG_VMS) {
      if (a === b) continue;
      if (a.segment === b.segment) await assertSegReachable(cluster, a.name, b.name);
      else await assertSegNotReachable(cluster, a.name, b.name);
    }
}

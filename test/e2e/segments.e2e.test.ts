// Issue 19 item 1: segments (OpenVNet's L2 without IP) on two hosts with real OVS. Segments and segment-only
// interfaces are made through the API, the VMs configure their addresses themselves (`ip addr add`), and seg-b
// reuses seg-a's addresses: each VM reaches its own segment's VMs across hosts and never the other segment's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';
import { type SegVm, segmentReport } from './segment-vms.js';

/** seg-a and seg-b each have a VM on h1 and one on h2, with the same addresses; b3 is in seg-b alone. */
const VMS: SegVm[] = [
  { name: 'a1', uuid: 'if-sega1', segment: 'seg-a', host: 'h1', mac: '02:00:00:5e:0a:01', ip: '10.101.0.10' },
  { name: 'a2', uuid: 'if-sega2', segment: 'seg-a', host: 'h2', mac: '02:00:00:5e:0a:02', ip: '10.101.0.11' },
  { name: 'b1', uuid: 'if-segb1', segment: 'seg-b', host: 'h1', mac: '02:00:00:5e:0b:01', ip: '10.101.0.10' },
  { name: 'b2', uuid: 'if-segb2', segment: 'seg-b', host: 'h2', mac: '02:00:00:5e:0b:02', ip: '10.101.0.11' },
  { name: 'b3', uuid: 'if-segb3', segment: 'seg-b', host: 'h2', mac: '02:00:00:5e:0b:03', ip: '10.101.0.13' },
];
const vm = (name: string) => VMS.find((v) => v.name === name)!;

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('seg'), hosts: ['h1', 'h2'], encap: 'gre' });
  const dps = await cluster.waitDatapaths();
  for (const uuid of ['seg-a', 'seg-b']) await cluster.call('POST', '/segments', { uuid, mode: 'virtual' });
  // OpenVNet's datasets register each segment on each datapath; vnet keeps the rows (they place nothing).
  for (const dp of dps.values())
    for (const seg of ['seg-a', 'seg-b']) await cluster.call('POST', `/datapaths/${dp.uuid}/segments/${seg}`, {});
  for (const v of VMS) {
    await cluster.call('POST', '/interfaces', {
      uuid: v.uuid,
      mode: 'vif',
      port_name: v.uuid,
      segment_uuid: v.segment,
      mac_address: v.mac,
    });
    // No address from vnet: the VM sets its own, as OpenVNet's simple_seg spec does.
    await cluster.lab.addVm({ name: v.name, host: v.host, mac: v.mac, ip: null, gateway: null, port: v.uuid });
    await cluster.lab.run(v.name, ['ip', 'addr', 'add', `${v.ip}/24`, 'dev', 'eth0']);
  }
});

after(async () => {
  await cluster?.down();
});

/** The failure report for an echo from `from` to `dstIp`. */
const report = (from: SegVm, dstIp: string) => segmentReport(cluster, VMS, from, dstIp);

async function assertReaches(from: string, dstIp: string, timeoutMs = 15_000): Promise<void> {
  const r = await cluster.lab.waitPing(from, dstIp, { timeoutMs });
  if (!r.ok) assert.fail(`${from} -> ${dstIp} got no reply within ${timeoutMs} ms\n${await report(vm(from), dstIp)}`);
}

async function assertNotReached(from: string, dstIp: string): Promise<void> {
  const r = await cluster.lab.ping(from, dstIp, { count: 2, intervalS: 0.2, timeoutS: 1 });
  if (r.received > 0) assert.fail(`${from} -> ${dstIp} was answered but must not be\n${await report(vm(from), dstIp)}`);
}

test('both agents converge with the segment interfaces bound and no errors', async () => {
  try {
    await cluster.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  const dps = await cluster.datapaths();
  for (const dp of dps) assert.equal(dp.last_error, null, `${dp.node_id}: ${dp.last_error}`);
  for (const v of VMS) {
    const i = await cluster.call<Record<string, unknown>>('GET', `/interfaces/${v.uuid}`);
    assert.equal(i.status, 'up', `${v.uuid}: ${JSON.stringify(i)}`);
    assert.equal(i.network_uuid, null);
    assert.equal(i.segment_uuid, v.segment);
  }
});

test('each segment reaches its own VMs across hosts, with the same addresses in both segments', async () => {
  await assertReaches('a1', '10.101.0.11');
  await assertReaches('a2', '10.101.0.10');
  await assertReaches('b1', '10.101.0.11');
  await assertReaches('b2', '10.101.0.10');
  await assertReaches('b1', '10.101.0.13');
  // ARP was answered by the VM of the sender's own segment, across the tunnel.
  const neigh = await cluster.lab.run('a1', ['ip', 'neigh', 'show', '10.101.0.11']);
  assert.match(neigh, new RegExp(vm('a2').mac), neigh);
  const neighB = await cluster.lab.run('b1', ['ip', 'neigh', 'show', '10.101.0.11']);
  assert.match(neighB, new RegExp(vm('b2').mac), neighB);
});

test("the other segment's VM with the same address sees nothing of it, and seg-b's own address is not reached from seg-a", async () => {
  await assertReaches('a1', '10.101.0.11');
  // While a1 pings 10.101.0.11 (a2's address, and b2's in seg-b), not one frame reaches b2, not even ARP.
  await cluster.lab.run('a1', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  const seen = await cluster.lab.capture('b2', 'eth0', '', () =>
    cluster.lab.ping('a1', '10.101.0.11', { count: 3, intervalS: 0.1 }),
  );
  assert.equal(seen.result.received, 3, seen.result.output);
  assert.equal(seen.count, 0, `b2 saw seg-a's frames:\n${seen.lines.join('\n')}`);
  // 10.101.0.13 exists only in seg-b.
  await assertNotReached('a1', '10.101.0.13');
  await assertNotReached('a2', '10.101.0.13');
});

test('cross-host segment traffic is GRE with the segment key on the underlay', async () => {
  const seg = await cluster.call<{ tunnel_key: number }>('GET', '/segments/seg-a');
  const cap = await cluster.lab.capture('ul', 'ul-h1', 'ip proto 47', () =>
    cluster.lab.ping('a1', '10.101.0.11', { count: 3, intervalS: 0.1 }),
  );
  assert.equal(cap.result.received, 3, cap.result.output);
  assert.ok(cap.count >= 6, `expected GRE on the underlay, saw ${cap.count}:\n${cap.lines.join('\n')}`);
  const key = `key=0x${seg.tunnel_key.toString(16)}`;
  // Only seg-a's frames: seg-b's VMs may be re-validating their neighbours (or still asking for 10.101.0.13)
  // under their own key meanwhile, which is no fault.
  const segA = VMS.filter((v) => v.segment === 'seg-a').map((v) => v.mac);
  const ofSegA = cap.lines.filter((l) => segA.some((mac) => l.includes(`: ${mac} >`)));
  assert.ok(ofSegA.length >= 6, `expected seg-a's echoes on the underlay:\n${cap.lines.join('\n')}`);
  assert.ok(
    ofSegA.every((l) => l.includes(key)),
    `every GRE packet of seg-a's VMs carries ${key}:\n${cap.lines.join('\n')}`,
  );
});

test('no IP anti-spoofing on a segment: a VM may use any address it configures', async () => {
  await cluster.lab.run('a1', ['ip', 'addr', 'add', '10.101.0.50/24', 'dev', 'eth0']);
  const r = await cluster.lab.exec('a1', [
    'ping',
    '-c',
    '2',
    '-i',
    '0.2',
    '-W',
    '2',
    '-I',
    '10.101.0.50',
    '10.101.0.11',
  ]);
  if (r.code !== 0)
    assert.fail(`a1 from 10.101.0.50 -> 10.101.0.11 failed:\n${r.stdout}\n${await report(vm('a1'), '10.101.0.11')}`);
});

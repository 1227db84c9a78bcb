// Issue 19: physical segments (OpenVNet's segments with mode=physical; its agent built them as virtual ones, vnet
// carries them on the hosts' uplinks as physical networks). Two hosts have an uplink (ext0) on the lab's provider
// segment; a VLAN-30 physical segment and a flat one are carried over it through datapath_segments rows naming the
// host interface. VMs set their own addresses (a segment has no IP model): those of the VLAN-30 segment on both
// hosts reach each other across the wire (tagged, no tunnel) and an outside host on VLAN 30; a virtual segment with
// an address in the same subnet reaches none of them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { waitFor } from '../lib/wait-for.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';
import { type SegVm, segmentReport } from './segment-vms.js';

const HOSTS = ['h1', 'h2'];
const SEGMENTS = [
  { uuid: 'seg-p30', mode: 'physical', vlan_id: 30 },
  { uuid: 'seg-pflat', mode: 'physical' },
  { uuid: 'seg-virt', mode: 'virtual' },
];
const VMS: SegVm[] = [
  { name: 'p1', uuid: 'if-p1', segment: 'seg-p30', host: 'h1', mac: '02:00:00:30:00:01', ip: '10.130.0.1' },
  { name: 'p2', uuid: 'if-p2', segment: 'seg-p30', host: 'h2', mac: '02:00:00:30:00:02', ip: '10.130.0.2' },
  { name: 'f1', uuid: 'if-f1', segment: 'seg-pflat', host: 'h1', mac: '02:00:00:31:00:01', ip: '10.131.0.1' },
  { name: 'v1', uuid: 'if-v1', segment: 'seg-virt', host: 'h2', mac: '02:00:00:32:00:01', ip: '10.130.0.3' },
];
const vm = (name: string) => VMS.find((v) => v.name === name)!;
const ANY_ICMP = 'icmp or (vlan and icmp)';

let cluster: Cluster;
const dpOf = new Map<string, string>();

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('pseg'), hosts: HOSTS });
  for (const [host, dp] of await cluster.waitDatapaths()) dpOf.set(host, String(dp.uuid));
  const lab = cluster.lab;
  for (const h of HOSTS) await lab.addUplink(h);
  await lab.addExternal({ name: 'x30', ip: '10.130.0.100/24', vlan: 30 });
  await lab.addExternal({ name: 'x0', ip: '10.131.0.100/24' });

  for (const s of SEGMENTS) await cluster.call('POST', '/segments', s);
  for (const h of HOSTS) {
    await cluster.call('POST', '/interfaces', {
      uuid: `if-up${h}`,
      mode: 'host',
      port_name: 'ext0',
      owner_datapath_uuid: dpOf.get(h)!,
    });
    // OpenVNet's shape: a datapath_segments row per segment, naming the host interface it leaves through.
    for (const s of SEGMENTS)
      await cluster.call('POST', `/datapaths/${dpOf.get(h)}/segments/${s.uuid}`, { interface_uuid: `if-up${h}` });
  }
  for (const v of VMS) {
    await cluster.call('POST', '/interfaces', { uuid: v.uuid, segment_uuid: v.segment, mac_address: v.mac });
    await lab.addVm({ name: v.name, host: v.host, mac: v.mac, ip: null, gateway: null, port: v.uuid });
    await lab.run(v.name, ['ip', 'addr', 'add', `${v.ip}/24`, 'dev', 'eth0']);
  }
});

after(async () => {
  await cluster?.down();
});

async function reaches(from: string, ip: string): Promise<void> {
  const r = await cluster.lab.waitPing(from, ip, { timeoutMs: 15_000 });
  if (!r.ok)
    assert.fail(`${from} -> ${ip} got no reply\n${r.output}\n${await segmentReport(cluster, VMS, vm(from), ip)}`);
}

async function isolated(from: string, ip: string): Promise<void> {
  const r = await cluster.lab.ping(from, ip, { count: 2, intervalS: 0.2, timeoutS: 1 });
  if (r.received > 0) assert.fail(`${from} -> ${ip} was answered but must not be\n${await cluster.diagnostics()}`);
}

test('the agents converge with their uplinks and segment ports bound and no problem reported', async () => {
  try {
    await cluster.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  for (const h of HOSTS) {
    const up = await cluster.call<{ status: string }>('GET', `/interfaces/if-up${h}`);
    assert.equal(up.status, 'up', `uplink of ${h} not bound\n${await cluster.diagnostics()}`);
  }
  for (const v of VMS) {
    const i = await cluster.call<{ status: string }>('GET', `/interfaces/${v.uuid}`);
    assert.equal(i.status, 'up', `${v.uuid} not bound\n${await cluster.diagnostics()}`);
  }
  for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, String(dp.last_error));
});

test('VLAN-30 segment across hosts: p1 (h1) reaches p2 (h2) over the wire, tagged 30, no tunnel', async () => {
  const lab = cluster.lab;
  await reaches('p1', '10.130.0.2');
  const tunnels = await lab.capture('ul', 'ul-h1', 'ip proto 47 or udp port 4789', () =>
    lab.capture('ext', 'up-h1', ANY_ICMP, () => lab.ping('p1', '10.130.0.2', { count: 3, intervalS: 0.1 })),
  );
  const trunk = tunnels.result;
  assert.equal(trunk.result.received, 3, trunk.result.output);
  assert.ok(trunk.count >= 6, `expected the pings on h1's trunk:\n${trunk.lines.join('\n')}`);
  for (const l of trunk.lines) assert.match(l, /vlan 30,/, `not tagged 30 on the trunk: ${l}`);
  assert.equal(tunnels.count, 0, `a physical segment was tunnelled:\n${tunnels.lines.join('\n')}`);
});

test('VMs of physical segments reach the outside hosts of their segment, and are reached from them', async () => {
  await reaches('p1', '10.130.0.100');
  await reaches('p2', '10.130.0.100');
  await reaches('f1', '10.131.0.100');
  const r = await cluster.lab.ping('x30', '10.130.0.2', { count: 2, intervalS: 0.2 });
  assert.equal(r.received, 2, `the outside host cannot reach p2\n${r.output}`);
});

test('segments stay apart: a virtual segment with the same subnet and another physical one reach nothing of VLAN 30', async () => {
  await isolated('v1', '10.130.0.1');
  await isolated('v1', '10.130.0.100');
  await isolated('x30', '10.130.0.3');
  await isolated('f1', '10.130.0.100');
});

test('a physical segment with ports on a host without its uplink row is reported in that datapath status', async () => {
  const dp = dpOf.get('h2')!;
  await cluster.call('DELETE', `/datapaths/${dp}/segments/seg-p30`);
  const want = /physical segment seg-p30: no uplink on this datapath/;
  await waitFor(
    async () =>
      want.test((await cluster.call<{ last_error: string | null }>('GET', `/datapaths/${dp}`)).last_error ?? ''),
    async () => `last_error of ${dp} to name seg-p30\n${await cluster.diagnostics()}`,
    { everyMs: 200 },
  );
  await isolated('p1', '10.130.0.2');
  await cluster.call('POST', `/datapaths/${dp}/segments/seg-p30`, { interface_uuid: 'if-uph2' });
  await reaches('p1', '10.130.0.2');
});

// Issue 17 item 1: physical networks on uplinks, through the real API, agents and OVS. Two hosts have an uplink
// (ext0) on the lab's provider segment; a VLAN-10 network, a VLAN-20 network with the same subnet and a flat
// network are carried over it. VMs of one VLAN network on both hosts reach each other across the segment (tag
// on the wire, no tunnel), reach external hosts of their VLAN, and never the other VLAN.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { waitFor } from '../lib/wait-for.js';
import { addInterfaceVm, assertE2eEnvironment, labPrefix } from './helpers.js';

const HOSTS = ['h1', 'h2'];
const NETS = [
  { uuid: 'nw-v10', ipv4_network: '192.168.10.0', network_mode: 'physical', vlan_id: 10 },
  { uuid: 'nw-v20', ipv4_network: '192.168.10.0', network_mode: 'physical', vlan_id: 20 },
  { uuid: 'nw-flat', ipv4_network: '192.168.0.0', network_mode: 'physical' },
];
const VMS = [
  { name: 'a1', uuid: 'if-a1', host: 'h1', network: 'nw-v10', ip: '192.168.10.1', mac: '02:00:00:10:00:01' },
  { name: 'a2', uuid: 'if-a2', host: 'h2', network: 'nw-v10', ip: '192.168.10.2', mac: '02:00:00:10:00:02' },
  { name: 'b1', uuid: 'if-b1', host: 'h2', network: 'nw-v20', ip: '192.168.10.3', mac: '02:00:00:20:00:03' },
  { name: 'f1', uuid: 'if-f1', host: 'h1', network: 'nw-flat', ip: '192.168.0.1', mac: '02:00:00:00:00:01' },
];
const ANY_ICMP = 'icmp or (vlan and icmp)';

let cluster: Cluster;
const dpOf = new Map<string, string>();

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('phy'), hosts: HOSTS });
  for (const [host, dp] of await cluster.waitDatapaths()) dpOf.set(host, String(dp.uuid));
  const lab = cluster.lab;
  for (const h of HOSTS) await lab.addUplink(h);
  await lab.addExternal({ name: 'x10', ip: '192.168.10.100/24', vlan: 10 });
  await lab.addExternal({ name: 'x20', ip: '192.168.10.200/24', vlan: 20 });
  await lab.addExternal({ name: 'x0', ip: '192.168.0.100/24' });

  for (const n of NETS) await cluster.call('POST', '/networks', n);
  for (const h of HOSTS) {
    // OpenVNet's shape: one host interface per uplink port, and a datapath_networks row per network it carries.
    await cluster.call('POST', '/interfaces', {
      uuid: `if-up${h}`,
      mode: 'host',
      port_name: 'ext0',
      owner_datapath_uuid: dpOf.get(h)!,
    });
    for (const n of NETS)
      await cluster.call('POST', `/datapaths/${dpOf.get(h)}/networks/${n.uuid}`, { interface_uuid: `if-up${h}` });
  }
  for (const v of VMS) await addInterfaceVm(cluster, { ...v, mtu: 1500 });
});

after(async () => {
  await cluster?.down();
});

async function reaches(from: string, ip: string): Promise<void> {
  const r = await cluster.lab.waitPing(from, ip, { timeoutMs: 15_000 });
  if (!r.ok) assert.fail(`${from} -> ${ip} got no reply\n${r.output}\n${await cluster.diagnostics()}`);
}

async function isolated(from: string, ip: string): Promise<void> {
  const r = await cluster.lab.ping(from, ip, { count: 2, intervalS: 0.2, timeoutS: 1 });
  if (r.received > 0) assert.fail(`${from} -> ${ip} was answered but must not be\n${await cluster.diagnostics()}`);
}

test('the agents converge with their uplinks bound and no uplink problem reported', async () => {
  try {
    await cluster.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  for (const h of HOSTS) {
    const up = await cluster.call<{ status: string; active_port_name: string }>('GET', `/interfaces/if-up${h}`);
    assert.equal(up.status, 'up', `uplink of ${h} not bound\n${await cluster.diagnostics()}`);
    assert.equal(up.active_port_name, 'ext0');
  }
  for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, String(dp.last_error));
});

test('VLAN 10 across hosts: a1 (h1) reaches a2 (h2) over the segment, tagged 10 on the trunk, no tunnel', async () => {
  const lab = cluster.lab;
  await reaches('a1', '192.168.10.2');
  const tunnels = await lab.capture('ul', 'ul-h1', 'ip proto 47 or udp port 4789', () =>
    lab.capture('ext', 'up-h1', ANY_ICMP, () => lab.ping('a1', '192.168.10.2', { count: 3, intervalS: 0.1 })),
  );
  const trunk = tunnels.result;
  assert.equal(trunk.result.received, 3, trunk.result.output);
  assert.ok(trunk.count >= 6, `expected the pings on h1's trunk:\n${trunk.lines.join('\n')}`);
  for (const l of trunk.lines) assert.match(l, /vlan 10,/, `not tagged 10 on the trunk: ${l}`);
  assert.equal(tunnels.count, 0, `a physical network was tunnelled:\n${tunnels.lines.join('\n')}`);
});

test('VMs reach external hosts of their own network: VLAN 10 tagged, flat untagged', async () => {
  await reaches('a1', '192.168.10.100');
  await reaches('a2', '192.168.10.100');
  await reaches('f1', '192.168.0.100');
  const r = await cluster.lab.ping('x10', '192.168.10.1', { count: 2, intervalS: 0.2 });
  assert.equal(r.received, 2, `the external host cannot reach a1\n${r.output}`);
});

test('networks on different VLANs stay apart, even with the same subnet', async () => {
  // VLAN 20 works on its own (b1 on h2 reaches its external host), yet nothing of VLAN 10 reaches it.
  await reaches('b1', '192.168.10.200');
  await isolated('a1', '192.168.10.3');
  await isolated('a1', '192.168.10.200');
  await isolated('x10', '192.168.10.3');
  await isolated('f1', '192.168.10.100');
});

/** Waits until datapath `dp`'s last_error satisfies `ok`; a timeout names `what` and shows the lab. */
async function lastErrorUntil(dp: string, ok: (e: string | null) => boolean, what: string): Promise<void> {
  await waitFor(
    async () => ok((await cluster.call<{ last_error: string | null }>('GET', `/datapaths/${dp}`)).last_error),
    async () => `last_error of ${dp} to be ${what}\n${await cluster.diagnostics()}`,
    { everyMs: 200 },
  );
}

test("a cut uplink (no carrier) is reported in its datapath's status, and clears when restored", async () => {
  const dp = dpOf.get('h2')!;
  await cluster.lab.cutUplink('h2');
  await lastErrorUntil(dp, (e) => /uplink if-uph2: port ext0 has no carrier/.test(e ?? ''), 'the cut uplink');
  await cluster.lab.restoreUplink('h2');
  await lastErrorUntil(dp, (e) => e === null, 'null');
  await reaches('a1', '192.168.10.2');
});

test('an uplink whose port is not on the bridge is reported in the datapath status, and the report clears', async () => {
  const dp = dpOf.get('h1')!;
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-upbad',
    mode: 'host',
    port_name: 'eth9',
    owner_datapath_uuid: dp,
  });
  await lastErrorUntil(dp, (e) => /uplink if-upbad: port eth9 is not on the bridge/.test(e ?? ''), 'the missing port');
  await cluster.call('DELETE', '/interfaces/if-upbad');
  await lastErrorUntil(dp, (e) => e === null, 'null');
  // Traffic was never disturbed.
  await reaches('a1', '192.168.10.2');
});

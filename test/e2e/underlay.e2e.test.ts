// Issue 17 item 2: the underlay from the model. Agents run without --tunnel-ip and register datapaths with no
// ipv4_address (OpenVNet's datasets do the same); until the model says where a host is, it serves local traffic
// only and says so; once each host has a host interface with its address (no port: an address, not an
// uplink), VMs of a virtual network on the two hosts reach each other through GRE to those addresses.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { waitFor } from '../lib/wait-for.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const HOSTS = ['h1', 'h2'];
let cluster: Cluster;
const dpOf = new Map<string, string>();

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('uly'), hosts: HOSTS, tunnelIp: false });
  for (const [host, dp] of await cluster.waitDatapaths()) dpOf.set(host, String(dp.uuid));
  await cluster.call('POST', '/networks', { uuid: 'nw-a', ipv4_network: '10.1.0.0' });
  for (const [k, h] of HOSTS.entries()) {
    const uuid = `if-vm${k + 1}`;
    const ip = `10.1.0.${k + 1}`;
    const mac = `02:00:00:01:00:0${k + 1}`;
    await cluster.call('POST', '/interfaces', { uuid, network_uuid: 'nw-a', ipv4_address: ip, mac_address: mac });
    await cluster.lab.addVm({ name: `vm${k + 1}`, host: h, mac, ip: `${ip}/24`, port: uuid });
  }
});

after(async () => {
  await cluster?.down();
});

test('with no tunnel address anywhere, each agent says it serves local traffic only', async () => {
  await waitFor(
    async () => {
      const dps = await cluster.datapaths();
      return dps.length === 2 && dps.every((d) => /no tunnel IP/.test(String(d.last_error)));
    },
    async () =>
      `the no-tunnel warning on both datapaths:\n${(await cluster.datapaths()).map((d) => `${d.uuid}: ${d.last_error}`).join('\n')}`,
    { timeoutMs: 15_000, everyMs: 200 },
  );
  for (const d of await cluster.datapaths()) assert.equal(d.ipv4_address, null);
  const r = await cluster.lab.ping('vm1', '10.1.0.2', { count: 2, intervalS: 0.2, timeoutS: 1 });
  assert.equal(r.received, 0, 'reached a host nobody said how to reach');
});

test("host interfaces with the hosts' addresses make the hosts reach each other over GRE", async () => {
  await cluster.call('POST', '/networks', {
    uuid: 'nw-public',
    ipv4_network: '192.168.100.0',
    network_mode: 'physical',
  });
  for (const [k, h] of HOSTS.entries())
    await cluster.call('POST', '/interfaces', {
      uuid: `if-eth0${h}`,
      mode: 'host',
      owner_datapath_uuid: dpOf.get(h)!,
      network_uuid: 'nw-public',
      ipv4_address: cluster.lab.host(h).underlayIp,
      mac_address: `02:00:00:ff:00:0${k + 1}`,
    });
  const lab = cluster.lab;
  const r = await lab.waitPing('vm1', '10.1.0.2', { timeoutMs: 15_000 });
  if (!r.ok) assert.fail(`vm1 -> vm2 got no reply\n${r.output}\n${await cluster.diagnostics()}`);
  const gre = await lab.capture('ul', 'ul-h1', 'ip proto 47', () =>
    lab.ping('vm1', '10.1.0.2', { count: 3, intervalS: 0.1 }),
  );
  assert.equal(gre.result.received, 3);
  assert.ok(gre.count >= 6, `expected GRE between the host addresses:\n${gre.lines.join('\n')}`);
  for (const d of await cluster.datapaths()) assert.doesNotMatch(String(d.last_error), /no tunnel IP/);
});

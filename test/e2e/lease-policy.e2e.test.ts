// Lease policies end to end (issue 19 item 4, OpenVNet's lease_policy spec): two VMs on two hosts whose interfaces
// got their addresses from a lease policy's range group get those addresses by DHCP (busybox udhcpc) and ping each
// other; once the retention container's lease_time has passed the server releases the leases and the VMs, still
// configured with the addresses, no longer reach each other.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { addDhcpService, assertE2eEnvironment, dhcpLeaseOf, failureReport, labPrefix, udhcpc } from './helpers.js';

const VMS = [
  { name: 'lp1', host: 'h1', uuid: 'if-lp1', mac: '52:54:00:1e:00:01' },
  { name: 'lp2', host: 'h2', uuid: 'if-lp2', mac: '52:54:00:1e:00:02' },
];
/** Long enough for DHCP and a ping on a loaded machine; the expiry test waits it out. */
const LEASE_TIME = 60;

let cluster: Cluster;
async function ipOf(iface: string): Promise<string | null> {
  return (await cluster.call<{ ipv4_address: string | null }>('GET', `/interfaces/${iface}`)).ipv4_address ?? null;
}

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('elease'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addDhcpService(cluster, { uuid: 'if-dhcplp', ip: '172.16.1.253', mac: '52:54:00:1e:00:fd' }, 'ns-dhcplp');
  // OpenVNet's lease_policy dataset in our words: a range group inside net1, a lease and a retention container.
  await cluster.call('POST', '/ip_range_groups', { uuid: 'iprg-lp' });
  await cluster.call('POST', '/ip_range_groups/iprg-lp/ip_ranges', {
    begin_ipv4_address: '172.16.1.120',
    end_ipv4_address: '172.16.1.130',
  });
  await cluster.call('POST', '/lease_policies', { uuid: 'lp-e2e' });
  await cluster.call('POST', '/lease_policies/lp-e2e/networks/nw-net1', { ip_range_group_uuid: 'iprg-lp' });
  await cluster.call('POST', '/ip_lease_containers', { uuid: 'ilc-e2e' });
  await cluster.call('POST', '/lease_policies/lp-e2e/ip_lease_containers/ilc-e2e');
  await cluster.call('POST', '/ip_retention_containers', { uuid: 'irc-e2e', lease_time: LEASE_TIME, grace_time: 600 });
  await cluster.call('POST', '/lease_policies/lp-e2e/ip_retention_containers/irc-e2e');
  // The interfaces have a MAC and nothing else: their addresses come from the policy.
  for (const vm of VMS) {
    await cluster.call('POST', '/interfaces', { uuid: vm.uuid, mac_address: vm.mac });
    await cluster.lab.addVm({ name: vm.name, host: vm.host, mac: vm.mac, ip: null, mtu: 1400, port: vm.uuid });
  }
  await cluster.waitInSync(30_000);
});

after(async () => {
  await cluster?.down();
});

test('VMs whose interfaces got addresses from the policy get them by DHCP and ping each other across hosts', async () => {
  const given: string[] = [];
  for (const vm of VMS) {
    await cluster.call('POST', `/lease_policies/lp-e2e/interfaces/${vm.uuid}`);
    const ip = await ipOf(vm.uuid);
    assert.ok(ip, `${vm.uuid} got no address`);
    given.push(ip);
  }
  assert.deepEqual(given, ['172.16.1.120', '172.16.1.121']);
  await cluster.waitInSync(30_000);
  for (const [i, vm] of VMS.entries()) {
    const r = await udhcpc(cluster, vm.name, { tries: 10 });
    if (r.code !== 0)
      assert.fail(`udhcpc in ${vm.name} failed: ${r.stderr}${r.stdout}\n${await failureReport(cluster)}`);
    assert.equal(dhcpLeaseOf(cluster, vm.mac).ip, given[i]);
  }
  const r = await cluster.lab.waitPing('lp1', given[1]!, { timeoutMs: 20_000 });
  assert.ok(r.ok, `${r.output}\n${await failureReport(cluster)}`);
});

test('after lease_time the server releases the leases and the VMs no longer reach each other', async () => {
  const deadline = Date.now() + (LEASE_TIME + 120) * 1000;
  for (;;) {
    if ((await ipOf('if-lp1')) === null && (await ipOf('if-lp2')) === null) break;
    if (Date.now() > deadline) assert.fail('the leases were not released');
    await new Promise((res) => setTimeout(res, 1_000));
  }
  const retentions = await cluster.call<{ items: { released_at: string | null }[] }>(
    'GET',
    '/ip_retention_containers/irc-e2e/ip_retentions',
  );
  assert.equal(retentions.items.length, 2);
  for (const x of retentions.items) assert.ok(x.released_at, 'released_at recorded');
  await cluster.waitInSync(30_000);
  const ping = await cluster.lab.ping('lp1', '172.16.1.121', { count: 3, intervalS: 0.3, timeoutS: 1 });
  if (ping.received > 0)
    assert.fail(`lp1 still reaches lp2 after its lease was released\n${await failureReport(cluster)}`);
});

// Issue 19 item 6, end to end: metadata at 169.254.169.254 for VMs with the same address in different networks,
// on one host and across hosts, each answered with its own instance-id, hostname and user-data by its host's agent
// (one metadata namespace per host, none per network); a VM that spoofs another's address gets nothing; an update
// of user_data is served at once. Real curl in the VMs' namespaces, real OVS, the agents from dist/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { addSeedVm, assertE2eEnvironment, labPrefix } from './helpers.js';

/**
 * ns1 (net1) and ns5 (net3) are both 172.16.1.1 on h1, ns2 (net1) and ns6 (net3) both 172.16.1.2 on h2, and m4
 * (net4, a fourth network on the same range) is 172.16.1.1 again on h2. ns1/ns2 reach 169.254.169.254 by their
 * default route (the router's MAC); the others by an on-link route (the switch answers ARP for it).
 */
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMetadataTestKeyOnlyForTheLabAAAAAAAAAAAA alice@lab';
const VMS = [
  { name: 'ns1', uuid: 'if-veth1', host: 'h1', hostname: 'vm-one' },
  { name: 'ns5', uuid: 'if-veth5', host: 'h1', hostname: 'vm-five' },
  { name: 'ns2', uuid: 'if-veth2', host: 'h2', hostname: 'vm-two' },
  { name: 'ns6', uuid: 'if-veth6', host: 'h2', hostname: 'vm-six' },
  { name: 'm4', uuid: 'if-m4', host: 'h2', hostname: 'vm-four' },
] as const;

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('emeta'), hosts: ['h1', 'h2'] });
  const dps = [...(await cluster.waitDatapaths()).values()].map((d) => ({ uuid: String(d.uuid) }));
  await cluster.apply(seedApiCalls(dps));
  await cluster.call('POST', '/networks', {
    uuid: 'nw-net4',
    display_name: 'net4',
    ipv4_network: '172.16.1.0',
    ipv4_prefix: 24,
    network_mode: 'virtual',
  });
  for (const dp of dps) await cluster.call('POST', `/datapaths/${dp.uuid}/networks/nw-net4`, {});
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-m4',
    network_uuid: 'nw-net4',
    ipv4_address: '172.16.1.1',
    mac_address: '52:54:00:0d:84:44',
  });
  for (const vm of VMS)
    await cluster.call('PUT', `/interfaces/${vm.uuid}`, {
      hostname: vm.hostname,
      user_data: `#cloud-config\n# for ${vm.name}\n`,
      ...(vm.name === 'ns5' ? { public_keys: KEY } : {}),
    });
  for (const vm of VMS.filter((v) => v.name !== 'm4')) await addSeedVm(cluster, vm.name, vm.host);
  await cluster.lab.addVm({
    name: 'm4',
    host: 'h2',
    mac: '52:54:00:0d:84:44',
    ip: '172.16.1.1/24',
    port: 'if-m4',
  });
  for (const vm of ['ns5', 'ns6', 'm4'])
    await cluster.lab.run(vm, ['ip', 'route', 'add', '169.254.169.254/32', 'dev', 'eth0']);
  await cluster.waitInSync(30_000);
});

after(async () => {
  await cluster?.down();
});

/** curl from inside a VM: the body, or null when nothing answered (or a non-2xx status). */
async function curl(vm: string, path: string, extra: string[] = []): Promise<string | null> {
  const r = await cluster.lab.exec(
    vm,
    ['curl', '-sf', '-m', '5', '--noproxy', '*', ...extra, `http://169.254.169.254${path}`],
    { timeoutMs: 20_000 },
  );
  return r.code === 0 ? r.stdout : null;
}

/** curl until it answers (the first request may race the agent's endpoint coming up); fails with diagnostics. */
async function curlUntil(vm: string, path: string, ok: (body: string) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await curl(vm, path);
    if (last !== null && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.fail(`${vm} GET ${path}: last answer ${JSON.stringify(last)}\n${await cluster.diagnostics()}`);
}

test('every VM reads its own instance-id, hostname, address and user-data, overlapping addresses and all', async () => {
  for (const vm of VMS) {
    await curlUntil(vm.name, '/latest/meta-data/instance-id', (b) => b === vm.uuid);
    assert.equal(await curl(vm.name, '/latest/meta-data/hostname'), vm.hostname);
    assert.equal(
      await curl(vm.name, '/latest/meta-data/local-ipv4'),
      vm.name === 'ns2' || vm.name === 'ns6' ? '172.16.1.2' : '172.16.1.1',
    );
    assert.equal(await curl(vm.name, '/latest/user-data'), `#cloud-config\n# for ${vm.name}\n`);
    assert.equal(await curl(vm.name, '/openstack/latest/user_data'), `#cloud-config\n# for ${vm.name}\n`);
    const md = JSON.parse((await curl(vm.name, '/openstack/latest/meta_data.json')) ?? 'null');
    assert.equal(md.uuid, vm.uuid);
    assert.equal(md.hostname, vm.hostname);
  }
});

test('public keys are served the EC2 and the OpenStack way, to their VM only', async () => {
  assert.equal(await curl('ns5', '/latest/meta-data/public-keys/'), '0=alice@lab');
  assert.equal(await curl('ns5', '/latest/meta-data/public-keys/0/openssh-key'), `${KEY}\n`);
  const md = JSON.parse((await curl('ns5', '/openstack/latest/meta_data.json'))!);
  assert.deepEqual(md.public_keys, { 'alice@lab': KEY });
  // ns1 has the same address on the same host, in another network: none of ns5's keys.
  assert.equal(await curl('ns1', '/latest/meta-data/public-keys/'), null);
  assert.deepEqual(JSON.parse((await curl('ns1', '/openstack/latest/meta_data.json'))!).public_keys, {});
});

test("a VM sending from another VM's address is answered by nobody (anti-spoofing drops it)", async () => {
  // ns5 takes 172.16.1.2 (ns6's address in net3, and ns2's in net1) and asks from it.
  await cluster.lab.run('ns5', ['ip', 'addr', 'add', '172.16.1.2/32', 'dev', 'eth0']);
  try {
    assert.equal(await curl('ns5', '/latest/meta-data/instance-id', ['--interface', '172.16.1.2', '-m', '3']), null);
  } finally {
    await cluster.lab.run('ns5', ['ip', 'addr', 'del', '172.16.1.2/32', 'dev', 'eth0']);
  }
  assert.equal(await curl('ns5', '/latest/meta-data/instance-id'), 'if-veth5');
});

test('an update of user_data is served at once, to that VM only', async () => {
  await cluster.call('PUT', '/interfaces/if-veth6', { user_data: '#!/bin/sh\necho changed\n' });
  await curlUntil('ns6', '/latest/user-data', (b) => b === '#!/bin/sh\necho changed\n', 10_000);
  assert.equal(await curl('ns2', '/latest/user-data'), '#cloud-config\n# for ns2\n');
  await cluster.call('PUT', '/interfaces/if-veth6', { user_data: null });
  await curlUntil('ns6', '/latest/', (b) => b === 'meta-data/', 10_000);
  assert.equal(await curl('ns6', '/latest/user-data'), null);
});

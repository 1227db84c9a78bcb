// Issue 20 "Done when" 1 and 3: seed 003's flow driven by the Debian `openstack` CLI (-f json, exit codes) against
// a two-host lab — an external VLAN network on the hosts' uplinks, a tenant network and subnet (with a host route,
// which the VMs' DHCP clients install), a router with a gateway and an interface, security group rules for ICMP
// and SSH, two ports bound by iface-id as nova+libvirt do, VMs that take their addresses from vnet's DHCP — then
// real packets: VM to VM across hosts, the internet host to a VM's floating IP, a VM to the internet through the
// router's SNAT; a port with two fixed IPs (both reached, anti-spoofing by exactly those, a floating IP of the
// second, changed by PUT). A member token of another project sees and changes none of it, API and CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Cluster } from '../../src/demo/cluster.js';
import type { LabInternetHandles } from '../../src/lab/lab.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const run = promisify(execFile);
let cluster: Cluster;
let net: LabInternetHandles;
const ids: Record<string, string> = {};

/** One `openstack` command as a user of the Neutron endpoint with `token`; JSON output parsed. */
async function os(token: string, args: string[], opts: { json?: boolean } = {}) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OS_AUTH_TYPE: 'admin_token',
    OS_TOKEN: token,
    OS_ENDPOINT: cluster.neutronApi,
  };
  const json = opts.json ?? true;
  const argv = json ? [...args, '-f', 'json'] : args;
  try {
    const { stdout } = await run('openstack', argv, { env, timeout: 60_000 });
    return json && stdout.trim() ? JSON.parse(stdout) : stdout;
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    throw Object.assign(new Error(`openstack ${argv.join(' ')} exited ${err.code}: ${err.stderr}`), {
      exitCode: err.code,
      stderr: err.stderr ?? '',
    });
  }
}
const admin = (args: string[], opts?: { json?: boolean }) => os(cluster.adminToken!, args, opts);

/** Whether a CLI command fails (exit code 1) with `pattern` on stderr. */
async function refused(token: string, args: string[], pattern: RegExp): Promise<void> {
  await assert.rejects(os(token, args), (e: { exitCode?: number; stderr?: string }) => {
    assert.equal(e.exitCode, 1, String(e.stderr));
    assert.match(String(e.stderr), pattern);
    return true;
  });
}

before(async () => {
  assertE2eEnvironment();
  await run('openstack', ['--version']).catch(() =>
    assert.fail('the openstack CLI is missing: apt-get install python3-openstackclient (make test installs it)'),
  );
  cluster = await Cluster.start({ prefix: labPrefix('neut'), hosts: ['h1', 'h2'], neutron: true });
  for (const h of ['h1', 'h2']) await cluster.lab.addUplink(h);
  net = await cluster.lab.addInternet();
  await cluster.waitDatapaths();
});

after(async () => {
  await cluster?.down();
});

test('seed 003 through the openstack CLI: external network, tenant network, router with SNAT, rules, two ports', async () => {
  const ext = await admin([
    'network',
    'create',
    '--external',
    '--provider-network-type',
    'vlan',
    '--provider-segment',
    '10',
    'ext-net',
  ]);
  assert.equal(ext['router:external'], true);
  assert.equal(ext['provider:network_type'], 'vlan');
  ids.ext = ext.id;
  await admin([
    'subnet',
    'create',
    '--network',
    'ext-net',
    '--subnet-range',
    '192.168.10.0/24',
    '--no-dhcp',
    '--gateway',
    '192.168.10.1',
    '--allocation-pool',
    'start=192.168.10.100,end=192.168.10.150',
    'ext-sub',
  ]);
  // The operator's part, through the OpenVNet API on the same objects: the hosts' uplinks on the external network
  // (h1 the preferred gateway) and the upstream router, which vnet does not find by ARP on the wire yet.
  const dps = await cluster.waitDatapaths();
  for (const [h, prio] of [
    ['h1', 200],
    ['h2', 100],
  ] as const) {
    const dp = String(dps.get(h)!.uuid);
    await cluster.call('POST', '/interfaces', {
      uuid: `if-up${h}`,
      mode: 'host',
      port_name: 'ext0',
      owner_datapath_uuid: dp,
    });
    await cluster.call('POST', `/datapaths/${dp}/networks/${ids.ext}`, {
      interface_uuid: `if-up${h}`,
      gateway_priority: prio,
    });
  }
  await cluster.call('POST', '/interfaces', {
    mode: 'remote',
    network_uuid: ids.ext,
    ipv4_address: '192.168.10.1',
    mac_address: net.router.mac,
  });

  ids.net1 = (await admin(['network', 'create', 'net1'])).id;
  const sub = await admin([
    'subnet',
    'create',
    '--network',
    'net1',
    '--subnet-range',
    '10.60.0.0/24',
    '--dns-nameserver',
    '192.168.10.1',
    '--host-route',
    'destination=10.99.0.0/16,gateway=10.60.0.254',
    'sub1',
  ]);
  assert.equal(sub.gateway_ip, '10.60.0.1');
  // The CLI shows host routes as it got them back (a list, or its text in older clients).
  assert.match(JSON.stringify(sub.host_routes), /10\.99\.0\.0\/16.*10\.60\.0\.254/);
  assert.equal(sub.enable_dhcp, true);
  ids.r1 = (await admin(['router', 'create', 'r1'])).id;
  await admin(['router', 'set', '--external-gateway', 'ext-net', 'r1'], { json: false });
  await admin(['router', 'add', 'subnet', 'r1', 'sub1'], { json: false });
  const r1 = await admin(['router', 'show', 'r1']);
  assert.equal(r1.external_gateway_info.enable_snat, true);
  ids.gateway = r1.external_gateway_info.external_fixed_ips[0].ip_address;
  assert.match(ids.gateway!, /^192\.168\.10\.1\d\d$/);
  await admin(['security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default']);
  await admin(['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', 'default']);
  // The same rule twice: Neutron's 409, the CLI's exit code 1.
  await refused(
    cluster.adminToken!,
    ['security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default'],
    /already exists/,
  );

  for (const [name, host] of [
    ['vm1', 'h1'],
    ['vm2', 'h2'],
  ] as const) {
    const port = await admin([
      'port',
      'create',
      '--network',
      'net1',
      '--host',
      host,
      '--device-owner',
      'compute:nova',
      `${name}-port`,
    ]);
    assert.equal(port.fixed_ips.length, 1);
    ids[name] = port.id;
    ids[`${name}-ip`] = port.fixed_ips[0].ip_address;
    ids[`${name}-mac`] = port.mac_address;
    // As nova+libvirt plug a VM: a port with external_ids:iface-id = the Neutron port id; the address from DHCP.
    await cluster.lab.addVm({ name, host, mac: port.mac_address, ip: null, port: `tap-${name}`, ifaceId: port.id });
  }
  // The objects are vnet's own: the OpenVNet API shows the port as an interface with its lease.
  const iface = await cluster.call<{ device_owner: string; mac_leases: { ip_leases: { ipv4_address: string }[] }[] }>(
    'GET',
    `/interfaces/${ids.vm1}`,
  );
  assert.equal(iface.device_owner, 'compute:nova');
  assert.equal(iface.mac_leases[0]!.ip_leases[0]!.ipv4_address, ids['vm1-ip']);
});

test('the VMs take their addresses from DHCP and reach each other across hosts', async () => {
  for (const vm of ['vm1', 'vm2']) {
    const lease = await cluster.lab.dhcp(vm, { tries: 10 });
    assert.ok(lease.ok, `${vm}: no DHCP lease\n${await cluster.diagnostics()}`);
    assert.equal(lease.ip, ids[`${vm}-ip`]);
    assert.equal(lease.router, '10.60.0.1');
    // Option 121: the subnet's host route, and the default route through the router (RFC 3442 clients ignore
    // option 3 when 121 is there); the lab's udhcpc script installs them.
    assert.match(lease.staticRoutes ?? '', /10\.99\.0\.0\/16 10\.60\.0\.254/);
    assert.match(lease.staticRoutes ?? '', /0\.0\.0\.0\/0 10\.60\.0\.1/);
    const table = await cluster.lab.run(vm, ['ip', '-4', 'route', 'show']);
    assert.match(table, /^10\.99\.0\.0\/16 via 10\.60\.0\.254 dev eth0/m, table);
    assert.match(table, /^default via 10\.60\.0\.1 dev eth0/m, table);
  }
  const r = await cluster.lab.waitPing('vm1', ids['vm2-ip']!, { timeoutMs: 15_000 });
  if (!r.ok) assert.fail(`vm1 -> vm2 failed\n${r.output}\n${await cluster.diagnostics()}`);
});

test("north-south: the internet host reaches a VM's floating IP; the other VM leaves through the router's SNAT", async () => {
  const fip = await admin(['floating', 'ip', 'create', '--port', 'vm1-port', 'ext-net']);
  assert.equal(fip.router_id, ids.r1);
  assert.equal(fip.fixed_ip_address, ids['vm1-ip']);
  const inbound = await cluster.lab.waitPing('inet', fip.floating_ip_address, { timeoutMs: 20_000 });
  if (!inbound.ok)
    assert.fail(`inet -> ${fip.floating_ip_address} failed\n${inbound.output}\n${await cluster.diagnostics()}`);
  const out = await cluster.lab.waitPing('vm2', net.inet.ip!, { timeoutMs: 20_000 });
  if (!out.ok) assert.fail(`vm2 -> internet failed\n${out.output}\n${await cluster.diagnostics()}`);
  const seen = async (vm: string) =>
    (await cluster.lab.run(vm, ['curl', '-sS', '--max-time', '5', net.inet.url])).trim();
  assert.equal(await seen('vm2'), ids.gateway, 'vm2 is seen as the router gateway address (SNAT)');
  assert.equal(await seen('vm1'), fip.floating_ip_address, 'vm1 is seen as its floating IP');
});

/** Whether `vm` gets echo replies from `dst` with `src` as its source address. */
async function pingFrom(vm: string, src: string, dst: string): Promise<boolean> {
  return (await cluster.lab.exec(vm, ['ping', '-c', '2', '-i', '0.3', '-W', '2', '-I', src, dst])).code === 0;
}

/** Waits until `vm` no longer reaches `dst` (the agents apply a change a moment after the API acknowledges it). */
async function waitUnreachable(vm: string, dst: string, timeoutMs = 30_000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; )
    if (!(await cluster.lab.ping(vm, dst, { count: 1, timeoutS: 1 })).ok) return true;
  return false;
}

test('a port with two fixed IPs: DHCP offers the first, both answer, anti-spoofing passes exactly those, PUT drops and adds one', async () => {
  const [first, second, stray] = ['10.60.0.21', '10.60.0.22', '10.60.0.23'];
  const port = await admin([
    'port',
    'create',
    '--network',
    'net1',
    '--host',
    'h2',
    '--device-owner',
    'compute:nova',
    '--fixed-ip',
    `ip-address=${first}`,
    '--fixed-ip',
    `ip-address=${second}`,
    'vm3-port',
  ]);
  assert.deepEqual(
    port.fixed_ips.map((f: { ip_address: string }) => f.ip_address),
    [first, second],
  );
  // One interface holding two IP leases under its MAC lease, through the OpenVNet API.
  const iface = await cluster.call<{ mac_leases: { ip_leases: { ipv4_address: string }[] }[] }>(
    'GET',
    `/interfaces/${port.id}`,
  );
  assert.deepEqual(
    iface.mac_leases[0]!.ip_leases.map((l) => l.ipv4_address),
    [first, second],
  );
  await cluster.lab.addVm({
    name: 'vm3',
    host: 'h2',
    mac: port.mac_address,
    ip: null,
    port: 'tap-vm3',
    ifaceId: port.id,
  });
  const lease = await cluster.lab.dhcp('vm3', { tries: 10 });
  assert.ok(lease.ok, `vm3: no DHCP lease\n${await cluster.diagnostics()}`);
  assert.equal(lease.ip, first, 'DHCP offers the first fixed IP');
  // The guest configures the second itself (as with Neutron), and one the port does not hold.
  for (const ip of [second, stray]) await cluster.lab.run('vm3', ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);

  const vm1 = ids['vm1-ip']!;
  for (const ip of [first, second]) {
    const r = await cluster.lab.waitPing('vm1', ip, { timeoutMs: 20_000 });
    if (!r.ok) assert.fail(`vm1 -> ${ip} (vm3, h2) failed\n${r.output}\n${await cluster.diagnostics()}`);
  }
  // Anti-spoofing: neighbours fixed in both guests, so ARP (which the switch answers only for leased addresses)
  // is not what decides — vm3's frames from its second address pass, from the address it was not given do not.
  await cluster.lab.run('vm3', ['ip', 'neigh', 'replace', vm1, 'lladdr', ids['vm1-mac']!, 'dev', 'eth0']);
  await cluster.lab.run('vm1', ['ip', 'neigh', 'replace', stray, 'lladdr', port.mac_address, 'dev', 'eth0']);
  assert.ok(await pingFrom('vm3', second, vm1), `vm3 from ${second} -> vm1`);
  assert.ok(!(await pingFrom('vm3', stray, vm1)), `vm3 from ${stray} (not leased) reached vm1`);
  assert.ok(!(await cluster.lab.ping('vm1', stray, { count: 2, timeoutS: 2 })).ok, `vm1 reached ${stray}`);

  // A floating IP of the second address: the internet host reaches vm3 there, and vm3 leaves from it as the
  // floating IP, from its first address as the router's gateway address (SNAT).
  const fip = await admin(['floating', 'ip', 'create', '--port', 'vm3-port', '--fixed-ip-address', second, 'ext-net']);
  assert.equal(fip.fixed_ip_address, second);
  const inbound = await cluster.lab.waitPing('inet', fip.floating_ip_address, { timeoutMs: 20_000 });
  if (!inbound.ok) assert.fail(`inet -> ${fip.floating_ip_address} failed\n${inbound.output}`);
  const seenFrom = async (src: string) =>
    (await cluster.lab.run('vm3', ['curl', '-sS', '--max-time', '5', '--interface', src, net.inet.url])).trim();
  assert.equal(await seenFrom(second), fip.floating_ip_address);
  assert.equal(await seenFrom(first), ids.gateway);
  await admin(['floating', 'ip', 'delete', fip.id], { json: false });

  // PUT with the first address only: the second stops answering and may no longer be sent from.
  await admin(['port', 'set', '--no-fixed-ip', '--fixed-ip', `ip-address=${first}`, 'vm3-port'], { json: false });
  assert.deepEqual(
    (await admin(['port', 'show', 'vm3-port'])).fixed_ips.map((f: { ip_address: string }) => f.ip_address),
    [first],
  );
  assert.ok(await waitUnreachable('vm1', second), `vm1 still reaches ${second} after it was removed from the port`);
  assert.ok(!(await pingFrom('vm3', second, vm1)), `vm3 still sends from ${second}`);
  assert.ok((await cluster.lab.waitPing('vm1', first, { timeoutMs: 10_000 })).ok, `vm1 -> ${first} after the PUT`);
  // Added back by PUT (the CLI sends the whole list: the first and the second).
  await admin(['port', 'set', '--fixed-ip', `ip-address=${second}`, 'vm3-port'], { json: false });
  assert.equal((await admin(['port', 'show', 'vm3-port'])).fixed_ips.length, 2);
  const back = await cluster.lab.waitPing('vm1', second, { timeoutMs: 20_000 });
  if (!back.ok) assert.fail(`vm1 -> ${second} after it was added back\n${back.output}`);
  assert.ok(await pingFrom('vm3', second, vm1), `vm3 from ${second} after it was added back`);
});

test('a member of another project sees and changes none of it (API and CLI)', async () => {
  const token = (await cluster.call<{ token: string }>('POST', '/tokens', { role: 'member', project_id: 'p2' })).token;
  const names = (await os(token, ['network', 'list'])).map((n: { Name: string }) => n.Name);
  assert.ok(!names.includes('net1'), `p2 sees net1: ${names.join(', ')}`);
  assert.ok(names.includes('ext-net'), 'external networks are visible to every project');
  await refused(token, ['port', 'show', ids.vm1!], /No Port found|could not be found/);
  await refused(token, ['router', 'show', ids.r1!], /No Router found|could not be found/);
  await refused(token, ['port', 'create', '--network', ids.net1!, 'intruder'], /No Network found|could not be found/);
  const fips = await os(token, ['floating', 'ip', 'list']);
  assert.deepEqual(fips, [], 'p2 sees no floating IP of the admin project');
  // Through the API directly: another project's router is a 404, never a 403 that would reveal it.
  const res = await fetch(`${cluster.neutronApi}/v2.0/routers/${ids.r1}`, { headers: { 'x-auth-token': token } });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { NeutronError: { type: string } }).NeutronError.type, 'RouterNotFound');
  // Its own network is its own, and the admin sees it with its project.
  const mine = await os(token, ['network', 'create', 'p2net']);
  assert.equal(mine.project_id, 'p2');
  assert.equal((await admin(['network', 'show', mine.id])).project_id, 'p2');
});

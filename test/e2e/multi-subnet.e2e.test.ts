// Several subnets on one Neutron network, end to end, through the Debian `openstack` CLI on a two-host lab: a network
// with subnets A and B, a VM port in each (on different hosts) and a port with an address in both. Each VM takes
// its own subnet's settings from vnet's DHCP (mask, router = its gateway_ip, DNS, the other subnet on the link as
// Neutron's dnsmasq routes it); the VMs reach each other on the link, and through a router with an interface on
// each subnet once the on-link route is gone (the TTL says it was routed); anti-spoofing still drops a forged
// source, and passes each of the two-subnet port's addresses. Real OVS, namespaces, the agents from dist/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Cluster } from '../../src/demo/cluster.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const run = promisify(execFile);
let cluster: Cluster;
const ids: Record<string, string> = {};

/** One `openstack` command as the admin of the Neutron endpoint; JSON output parsed. */
async function admin(args: string[], opts: { json?: boolean } = {}) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OS_AUTH_TYPE: 'admin_token',
    OS_TOKEN: cluster.adminToken!,
    OS_ENDPOINT: cluster.neutronApi,
  };
  const json = opts.json ?? true;
  const argv = json ? [...args, '-f', 'json'] : args;
  try {
    const { stdout } = await run('openstack', argv, { env, timeout: 60_000 });
    return json && stdout.trim() ? JSON.parse(stdout) : stdout;
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    throw new Error(`openstack ${argv.join(' ')} exited ${err.code}: ${err.stderr}`);
  }
}

/** The TTL of `vm`'s echo replies from `dst` (64 on the link, 63 through one router), or null without a reply. */
async function replyTtl(vm: string, dst: string, src?: string): Promise<number | null> {
  const r = await cluster.lab.exec(vm, ['ping', '-c', '1', '-W', '2', ...(src ? ['-I', src] : []), dst]);
  const m = /ttl=(\d+)/.exec(r.stdout);
  return r.code === 0 && m ? Number(m[1]) : null;
}

/** Polls until `vm` gets a reply from `dst` (agents apply a change a moment after the API acknowledges it). */
async function waitTtl(vm: string, dst: string, src?: string, timeoutMs = 30_000): Promise<number | null> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    const ttl = await replyTtl(vm, dst, src);
    if (ttl !== null) return ttl;
  }
  return null;
}

before(async () => {
  assertE2eEnvironment();
  await run('openstack', ['--version']).catch(() =>
    assert.fail('the openstack CLI is missing: apt-get install python3-openstackclient (make test installs it)'),
  );
  cluster = await Cluster.start({ prefix: labPrefix('msub'), hosts: ['h1', 'h2'], neutron: true });
  await cluster.waitDatapaths();
});

after(async () => {
  await cluster?.down();
});

test('a network with two subnets: a port in each, one with an address in both', async () => {
  ids.net = (await admin(['network', 'create', 'msnet'])).id;
  const a = await admin([
    'subnet',
    'create',
    '--network',
    'msnet',
    '--subnet-range',
    '10.70.0.0/24',
    '--dns-nameserver',
    '10.70.0.53',
    'sub-a',
  ]);
  const b = await admin(['subnet', 'create', '--network', 'msnet', '--subnet-range', '10.71.0.0/24', 'sub-b']);
  assert.equal(b.gateway_ip, '10.71.0.1');
  ids.a = a.id;
  ids.b = b.id;
  const shown = await admin(['network', 'show', 'msnet']);
  assert.deepEqual([...shown.subnets].sort(), [a.id, b.id].sort());
  for (const [name, host, fixed] of [
    ['vma', 'h1', ['--fixed-ip', 'subnet=sub-a']],
    ['vmb', 'h2', ['--fixed-ip', 'subnet=sub-b']],
    ['vmc', 'h1', ['--fixed-ip', 'subnet=sub-a', '--fixed-ip', 'subnet=sub-b']],
  ] as const) {
    const port = await admin(['port', 'create', '--network', 'msnet', '--host', host, ...fixed, `${name}-port`]);
    assert.equal(port.fixed_ips.length, fixed.length / 2);
    port.fixed_ips.forEach((f: { ip_address: string; subnet_id: string }, i: number) => {
      ids[`${name}-ip${i}`] = f.ip_address;
      ids[`${name}-sn${i}`] = f.subnet_id;
    });
    await cluster.lab.addVm({ name, host, mac: port.mac_address, ip: null, port: `tap-${name}`, ifaceId: port.id });
  }
  assert.equal(ids['vma-sn0'], a.id);
  assert.equal(ids['vmb-sn0'], b.id);
  assert.deepEqual([ids['vmc-sn0'], ids['vmc-sn1']], [a.id, b.id]);
  assert.match(ids['vmb-ip0']!, /^10\.71\.0\./);
});

test("DHCP answers each VM with its own subnet's mask, router and DNS, and the other subnet on the link", async () => {
  for (const [vm, net, other, gw, dns] of [
    ['vma', '10.70.0', '10.71.0.0/24', '10.70.0.1', ['10.70.0.53']],
    ['vmb', '10.71.0', '10.70.0.0/24', '10.71.0.1', []],
    ['vmc', '10.70.0', '10.71.0.0/24', '10.70.0.1', ['10.70.0.53']],
  ] as const) {
    const lease = await cluster.lab.dhcp(vm, { tries: 10 });
    assert.ok(lease.ok, `${vm}: no DHCP lease\n${await cluster.diagnostics()}`);
    assert.equal(lease.ip, ids[`${vm}-ip0`]);
    assert.ok(lease.ip!.startsWith(`${net}.`));
    assert.equal(lease.prefixLen, 24);
    // The subnet's gateway_ip, though no router is attached yet (Neutron's dnsmasq hands it out the same).
    assert.equal(lease.router, gw);
    assert.deepEqual(lease.dns ?? [], dns);
    assert.equal(lease.staticRoutes, `${other} 0.0.0.0 0.0.0.0/0 ${gw}`);
    const table = await cluster.lab.run(vm, ['ip', '-4', 'route', 'show']);
    assert.match(table, new RegExp(`^${other.replaceAll('.', '\\.')} dev eth0`, 'm'), table);
  }
  // vmc configures its second address itself (DHCP offers the first), as a guest with two fixed IPs does.
  await cluster.lab.run('vmc', ['ip', 'addr', 'add', `${ids['vmc-ip1']}/24`, 'dev', 'eth0']);
});

test('the subnets reach each other on the link, across hosts; the two-subnet port from each of its addresses', async () => {
  const ttl = await waitTtl('vma', ids['vmb-ip0']!);
  if (ttl === null) assert.fail(`vma -> vmb failed\n${await cluster.diagnostics()}`);
  assert.equal(ttl, 64, 'on the link: not routed');
  for (const src of [ids['vmc-ip0']!, ids['vmc-ip1']!])
    assert.ok((await waitTtl('vmc', ids['vmb-ip0']!, src)) !== null, `vmc from ${src} -> vmb`);
});

test('through a router with an interface on each subnet: routed (TTL 63) once the on-link route is gone', async () => {
  ids.r = (await admin(['router', 'create', 'r-ms'])).id;
  for (const sn of ['sub-a', 'sub-b']) await admin(['router', 'add', 'subnet', 'r-ms', sn], { json: false });
  const ports = await admin(['port', 'list', '--router', 'r-ms', '--long']);
  assert.equal(ports.length, 2);
  // Without the on-link routes the VMs send to their own subnet's router (their default route).
  await cluster.lab.run('vma', ['ip', 'route', 'del', '10.71.0.0/24']);
  await cluster.lab.run('vmb', ['ip', 'route', 'del', '10.70.0.0/24']);
  await cluster.waitInSync(30_000);
  let ttl: number | null = null;
  for (const end = Date.now() + 30_000; Date.now() < end && ttl !== 63; ) ttl = await replyTtl('vma', ids['vmb-ip0']!);
  if (ttl !== 63) assert.fail(`vma -> vmb through r-ms: ttl ${ttl}\n${await cluster.diagnostics()}`);
  // The route is on vnet's switch: the sender's neighbour for the far VM is none, its router is the gateway.
  const neigh = await cluster.lab.run('vma', ['ip', 'route', 'get', ids['vmb-ip0']!]);
  assert.match(neigh, /via 10\.70\.0\.1 dev eth0/, neigh);
});

test('anti-spoofing still drops a forged source in either subnet', async () => {
  for (const forged of ['10.70.0.99', '10.71.0.99']) {
    await cluster.lab.run('vma', ['ip', 'addr', 'add', `${forged}/32`, 'dev', 'eth0']);
    assert.equal(await replyTtl('vma', ids['vmb-ip0']!, forged), null, `vma sending from ${forged}`);
    await cluster.lab.run('vma', ['ip', 'addr', 'del', `${forged}/32`, 'dev', 'eth0']);
  }
  // Its own address still passes.
  assert.notEqual(await waitTtl('vma', ids['vmb-ip0']!), null);
});

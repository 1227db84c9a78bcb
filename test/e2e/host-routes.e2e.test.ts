// Host routes, end to end: an operator sets a network's host routes with vnctl (`--host-route DEST,NEXTHOP`), a VM
// takes its address with real busybox udhcpc from the agent's DHCP, its kernel routing table then holds the routes
// of option 121 (RFC 3442), and a packet to a routed destination is carried to the next hop (a second VM acting as
// the router for it). The network has no router, so option 121 also brings the way to 169.254.169.254 (via the
// DHCP server's address), and metadata answers through it. Real OVS, namespaces and the agents from dist/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster, VNCTL_BIN } from '../../src/demo/cluster.js';
import { assertE2eEnvironment, dhcpLeaseOf, failureReport, labPrefix, udhcpc } from './helpers.js';

const NET = 'nw-hroutes';
const DHCP_IF = { uuid: 'if-hrdhcp', ip: '10.50.0.2', mac: '52:54:00:50:00:02' };
/** The next hop of the host routes: a VM holding 10.9.0.1 (the routed destination) on its loopback. */
const ROUTER = { name: 'hr1', uuid: 'if-hrr1', ip: '10.50.0.254', mac: '52:54:00:50:00:fe' };
/** The VM that learns the routes by DHCP. */
const CLIENT = { name: 'hc1', uuid: 'if-hrc1', ip: '10.50.0.11', mac: '52:54:00:50:00:11' };

let cluster: Cluster;

/** vnctl as an operator on h1 runs it (the lab's server URL, the admin token). */
async function vnctl(...args: string[]) {
  const token = cluster.adminToken ? ['--token', cluster.adminToken] : [];
  return cluster.lab.host('h1').exec([VNCTL_BIN, '--api', cluster.labApi, ...token, ...args]);
}

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('ehrt'), hosts: ['h1'] });
  const dps = [...(await cluster.waitDatapaths()).values()].map((d) => String(d.uuid));
  await cluster.call('POST', '/networks', {
    uuid: NET,
    display_name: 'hroutes',
    ipv4_network: '10.50.0.0',
    ipv4_prefix: 24,
  });
  for (const dp of dps) await cluster.call('POST', `/datapaths/${dp}/networks/${NET}`, {});
  await cluster.call('POST', '/interfaces', {
    uuid: DHCP_IF.uuid,
    network_uuid: NET,
    ipv4_address: DHCP_IF.ip,
    mac_address: DHCP_IF.mac,
    mode: 'simulated',
  });
  await cluster.call('POST', '/network_services', { uuid: 'ns-hrdhcp', interface_uuid: DHCP_IF.uuid, mode: 'dhcp' });
  for (const vm of [ROUTER, CLIENT])
    await cluster.call('POST', '/interfaces', {
      uuid: vm.uuid,
      network_uuid: NET,
      ipv4_address: vm.ip,
      mac_address: vm.mac,
    });
  const set = await vnctl(
    '-o',
    'json',
    'networks',
    'modify',
    NET,
    '--host-route',
    `10.9.0.0/16,${ROUTER.ip}`,
    '--host-route',
    `192.0.2.0/24,${ROUTER.ip}`,
  );
  assert.equal(set.code, 0, `${set.stderr}${set.stdout}`);
  assert.deepEqual(JSON.parse(set.stdout).host_routes, [
    { destination: '10.9.0.0/16', nexthop: ROUTER.ip },
    { destination: '192.0.2.0/24', nexthop: ROUTER.ip },
  ]);
  await cluster.lab.addVm({ name: ROUTER.name, host: 'h1', mac: ROUTER.mac, ip: `${ROUTER.ip}/24`, port: ROUTER.uuid });
  await cluster.lab.run(ROUTER.name, ['ip', 'addr', 'add', '10.9.0.1/32', 'dev', 'lo']);
  // The client starts with no address, as a fresh guest: only DHCP tells it anything.
  await cluster.lab.addVm({ name: CLIENT.name, host: 'h1', mac: CLIENT.mac, ip: null, port: CLIENT.uuid });
  await cluster.waitInSync(30_000);
});

after(async () => {
  await cluster?.down();
});

test('a bad next hop is refused by vnctl with the entry named, and the routes stay as they were', async () => {
  const r = await vnctl('networks', 'modify', NET, '--host-route', '10.9.0.0/16,10.51.0.1');
  assert.equal(r.code, 1, `${r.stderr}${r.stdout}`);
  assert.match(r.stderr + r.stdout, /host_routes\[0\]\.nexthop: 10\.51\.0\.1 .*not a host address of 10\.50\.0\.0\/24/);
  const shown = await cluster.call('GET', `/networks/${NET}`);
  assert.equal((shown as { host_routes: unknown[] }).host_routes.length, 2);
});

test('udhcpc installs option 121: the host routes and, without a router, the way to 169.254.169.254', async () => {
  const r = await udhcpc(cluster, CLIENT.name, { options: ['staticroutes'] });
  if (r.code !== 0) assert.fail(`udhcpc failed: ${r.stderr}${r.stdout}\n${await failureReport(cluster)}`);
  const lease = dhcpLeaseOf(cluster, CLIENT.mac);
  assert.equal(lease.ip, CLIENT.ip);
  assert.equal(lease.router, undefined, 'no router in this network: no option 3');
  assert.equal(
    lease.staticroutes,
    `10.9.0.0/16 ${ROUTER.ip} 192.0.2.0/24 ${ROUTER.ip} 169.254.169.254/32 ${DHCP_IF.ip}`,
  );
  const table = await cluster.lab.run(CLIENT.name, ['ip', '-4', 'route', 'show']);
  assert.match(table, new RegExp(`^10\\.9\\.0\\.0/16 via ${ROUTER.ip.replaceAll('.', '\\.')} dev eth0`, 'm'), table);
  assert.match(table, new RegExp(`^192\\.0\\.2\\.0/24 via ${ROUTER.ip.replaceAll('.', '\\.')} dev eth0`, 'm'), table);
  assert.match(table, /^169\.254\.169\.254 via 10\.50\.0\.2 dev eth0/m, table);
  assert.doesNotMatch(table, /^default/m, table);
  const get = await cluster.lab.run(CLIENT.name, ['ip', 'route', 'get', '10.9.0.1']);
  assert.match(get, /10\.9\.0\.1 via 10\.50\.0\.254 dev eth0/, get);
});

test('a packet to the routed destination reaches the next hop', async () => {
  const sink = await cluster.lab.spawn(ROUTER.name, 'udp-sink', [
    'python3',
    '-c',
    'import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("10.9.0.1",5000))\nwhile True:\n  b,a=s.recvfrom(100)\n  print("got",b.decode(),"from",a[0],flush=True)',
  ]);
  const deadline = Date.now() + 30_000;
  let got = '';
  while (Date.now() < deadline && !got.includes('got hello from 10.50.0.11')) {
    await cluster.lab.exec(CLIENT.name, [
      'python3',
      '-c',
      'import socket\nsocket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b"hello",("10.9.0.1",5000))',
    ]);
    await new Promise((r) => setTimeout(r, 500));
    got = sink.logTail(20);
  }
  assert.match(got, /got hello from 10\.50\.0\.11/, `${got}\n${await failureReport(cluster)}`);
  // It went to the next hop's MAC: the client's neighbour entry for it is the router VM's.
  const neigh = await cluster.lab.run(CLIENT.name, ['ip', 'neigh', 'show', ROUTER.ip]);
  assert.match(neigh, new RegExp(`lladdr ${ROUTER.mac}`), neigh);
});

test('metadata answers through the route option 121 gave (the network has no router)', async () => {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    const r = await cluster.lab.exec(CLIENT.name, [
      'curl',
      '-sf',
      '-m',
      '5',
      '--noproxy',
      '*',
      'http://169.254.169.254/latest/meta-data/instance-id',
    ]);
    last = `${r.code} ${r.stdout}${r.stderr}`;
    if (r.code === 0 && r.stdout === CLIENT.uuid) return;
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.fail(`curl 169.254.169.254 from ${CLIENT.name}: ${last}\n${await failureReport(cluster)}`);
});

test('vnctl --host-routes= clears them; the next lease carries only the metadata route', async () => {
  const r = await vnctl('networks', 'modify', NET, '--host-routes=');
  assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
  await cluster.waitInSync(30_000);
  const again = await udhcpc(cluster, CLIENT.name, { options: ['staticroutes'] });
  assert.equal(again.code, 0, `${again.stderr}${again.stdout}`);
  assert.equal(dhcpLeaseOf(cluster, CLIENT.mac).staticroutes, `169.254.169.254/32 ${DHCP_IF.ip}`);
});

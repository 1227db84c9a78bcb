// DHCP through the agents over VXLAN (test/e2e/dhcp.e2e.test.ts covers GRE): exact 1450 MTU, TCP
// across hosts, a PUT to the network reaching clients at renewal (unicast through OVS), no lease →
// no offer. The DISCOVER flood is measured by bench/dhcp-lab.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { assertE2eEnvironment, failureReport, labPrefix } from '../e2e/helpers.js';
import { waitFor } from '../lib/wait-for.js';

const DHCP_IF = { uuid: 'if-dhcpx', ip: '172.16.1.250', mac: '52:54:00:74:00:fa' };
const VMS = [
  { name: 'x1', host: 'h1', uuid: 'if-x1', ip: '172.16.1.21', mac: '52:54:00:0d:e1:01' },
  { name: 'x2', host: 'h2', uuid: 'if-x2', ip: '172.16.1.22', mac: '52:54:00:0d:e1:02' },
];
const NOLEASE = { name: 'x4', host: 'h2', uuid: 'if-x4', mac: '52:54:00:0d:e1:04' };

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('dvx'), hosts: ['h1', 'h2'], encap: 'vxlan' });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await cluster.call('POST', '/interfaces', {
    uuid: DHCP_IF.uuid,
    network_uuid: 'nw-net1',
    ipv4_address: DHCP_IF.ip,
    mac_address: DHCP_IF.mac,
    mode: 'simulated',
  });
  await cluster.call('POST', '/network_services', { uuid: 'ns-dhcpx', interface_uuid: DHCP_IF.uuid, mode: 'dhcp' });
  await cluster.call('PUT', '/networks/nw-net1', {
    dns_servers: '10.9.9.9',
    dhcp_lease_time: 3600,
    domain_name: 'vx.example',
  });
  for (const vm of VMS) {
    await cluster.call('POST', '/interfaces', {
      uuid: vm.uuid,
      network_uuid: 'nw-net1',
      ipv4_address: vm.ip,
      mac_address: vm.mac,
    });
  }
  await cluster.call('POST', '/interfaces', { uuid: NOLEASE.uuid, network_uuid: 'nw-net1', mac_address: NOLEASE.mac });
  // Fresh guests: no address, MTU 1500; only DHCP can tell them the tunnel MTU.
  for (const vm of [...VMS, NOLEASE]) {
    await cluster.lab.addVm({ name: vm.name, host: vm.host, mac: vm.mac, ip: null, mtu: 1500, port: vm.uuid });
  }
  await cluster.waitInSync(20_000);
});

after(async () => {
  await cluster?.down();
});

test('VXLAN: both hosts hand out exactly 1450, the lease, router, DNS, domain and routes', async (t) => {
  for (const vm of VMS.slice(0, 2)) {
    const lease = await cluster.lab.dhcp(vm.name);
    if (!lease.ok) assert.fail(`udhcpc in ${vm.name}: ${lease.output}\n${await failureReport(cluster)}`);
    t.diagnostic(`${vm.name}: lease in ${lease.elapsedMs} ms`);
    assert.equal(lease.ip, vm.ip);
    assert.equal(lease.prefixLen, 24);
    assert.equal(lease.mtu, 1450);
    assert.equal(lease.router, '172.16.1.254');
    assert.deepEqual(lease.dns, ['10.9.9.9']);
    assert.equal(lease.domain, 'vx.example');
    assert.equal(lease.leaseS, 3600);
    assert.equal(lease.serverId, DHCP_IF.ip);
    assert.match(lease.staticRoutes ?? '', /172\.16\.2\.0\/24 172\.16\.1\.254/);
    assert.match(lease.staticRoutes ?? '', /0\.0\.0\.0\/0 172\.16\.1\.254/);
    const link = await cluster.lab.run(vm.name, ['ip', '-o', 'link', 'show', 'eth0']);
    assert.match(link, /mtu 1450\b/);
  }
});

test('VXLAN: with the DHCP MTU, 4 MB of TCP cross hosts both ways', async () => {
  const [a, b] = [VMS[0]!, VMS[1]!];
  const ping = await cluster.lab.waitPing(a.name, b.ip, { timeoutMs: 10_000 });
  assert.ok(ping.ok, ping.output);
  const sink = await cluster.lab.spawn(b.name, 'sinkx', [
    'python3',
    '-c',
    'import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",5002));s.listen(1)\nc,_=s.accept();n=0\nwhile True:\n  d=c.recv(65536)\n  if not d: break\n  n+=len(d)\nc.sendall(b"x"*n);c.close()',
  ]);
  await new Promise((r) => setTimeout(r, 500));
  const r = await cluster.lab.exec(
    a.name,
    [
      'python3',
      '-c',
      `import socket\ns=socket.create_connection(("${b.ip}",5002),timeout=10)\ns.sendall(b"y"*4000000);s.shutdown(socket.SHUT_WR)\nn=0\nwhile True:\n  d=s.recv(65536)\n  if not d: break\n  n+=len(d)\nprint(n)`,
    ],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.code, 0, `${r.stderr}\n${sink.logTail(10)}\n${await failureReport(cluster)}`);
  assert.equal(r.stdout.trim(), '4000000');
});

test('a PUT to the network reaches a running client at renewal (unicast REQUEST through OVS)', async () => {
  const vm = VMS[1]!;
  const dir = join(cluster.lab.dir, vm.name);
  const pidFile = join(dir, 'udhcpc-renew.pid');
  const script = join(dir, 'udhcpc.sh'); // written by lab.dhcp in the first test; records dhcp.env
  const client = await cluster.lab.spawn(vm.name, 'udhcpc-renew', [
    'busybox',
    'udhcpc',
    '-f',
    '-i',
    'eth0',
    '-t',
    '5',
    '-T',
    '1',
    '-p',
    pidFile,
    '-s',
    script,
    '-O',
    'mtu',
  ]);
  const out = () => readFileSync(client.log, 'utf8');
  // DHCP renewals take a while; a failure shows udhcpc's log and the cluster's state.
  const waitDhcp = (pred: () => boolean, what: string | (() => string)) =>
    waitFor(
      pred,
      async () => `${typeof what === 'string' ? what : what()}\n${client.logTail(20)}\n${await failureReport(cluster)}`,
      { timeoutMs: 15_000, everyMs: 100 },
    );
  try {
    await waitDhcp(() => /lease of .* obtained/.test(out()), 'first lease');
    await cluster.call('PUT', '/networks/nw-net1', { mtu: 1400, dns_servers: '10.9.9.7' });
    await cluster.waitInSync(20_000);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const before = (out().match(/obtained/g) ?? []).length;
    process.kill(pid, 'SIGUSR1');
    await waitDhcp(() => (out().match(/obtained/g) ?? []).length > before, 'renewal');
    assert.match(out(), /sending renew to server 172\.16\.1\.250/);
    // udhcpc logs "obtained" before it runs the script that writes dhcp.env: wait for the script.
    const envNow = () => readFileSync(join(dir, 'dhcp.env'), 'utf8');
    await waitDhcp(
      () => /^mtu=1400$/m.test(envNow()),
      () => `renewed lease without the new MTU:\n${envNow()}`,
    );
    const env = envNow();
    assert.match(env, /^mtu=1400$/m, env);
    assert.match(env, /^dns=10\.9\.9\.7$/m, env);
    assert.match(await cluster.lab.run(vm.name, ['ip', '-o', 'link', 'show', 'eth0']), /mtu 1400\b/);
  } finally {
    await client.stop();
    await cluster.call('PUT', '/networks/nw-net1', { mtu: null, dns_servers: '10.9.9.9' });
  }
});

test('a VM whose interface has no IP lease gets no offer', async () => {
  const lease = await cluster.lab.dhcp(NOLEASE.name, { tries: 3 });
  assert.equal(lease.ok, false, `got a lease without one: ${lease.output}`);
  assert.match(lease.output, /no lease/);
});

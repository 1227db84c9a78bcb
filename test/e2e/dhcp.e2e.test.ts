// Issue 7 DHCP, end to end: real busybox udhcpc in VMs on two hosts gets its lease, router, DNS,
// domain, MTU and classless routes from the agents (packet-in/packet-out), then TCP across hosts
// works with no manual MTU; a VM whose interface has no IP lease gets no offer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { assertE2eEnvironment, dhcpLeaseOf, failureReport, labPrefix, udhcpc as udhcpcIn } from './helpers.js';

const DHCP_IF = { uuid: 'if-dhcp1', ip: '172.16.1.253', mac: '52:54:00:74:00:fd' };
const VMS = [
  { name: 'd1', host: 'h1', uuid: 'if-d1', ip: '172.16.1.11', mac: '52:54:00:0d:d1:01' },
  { name: 'd2', host: 'h2', uuid: 'if-d2', ip: '172.16.1.12', mac: '52:54:00:0d:d1:02' },
];
/** Its interface is in net1 but has no IP lease: it must get no offer. */
const NOLEASE = { name: 'd3', host: 'h2', uuid: 'if-d3', mac: '52:54:00:0d:d1:03' };

let cluster: Cluster;
before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('edhcp'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  // net1 gets a DHCP service (OpenVNet's way: a simulated interface with a dhcp network service).
  await cluster.call('POST', '/interfaces', {
    uuid: DHCP_IF.uuid,
    network_uuid: 'nw-net1',
    ipv4_address: DHCP_IF.ip,
    mac_address: DHCP_IF.mac,
    mode: 'simulated',
  });
  await cluster.call('POST', '/network_services', { uuid: 'ns-dhcp1', interface_uuid: DHCP_IF.uuid, mode: 'dhcp' });
  await cluster.call('PUT', '/networks/nw-net1', { dns_servers: '10.9.9.9,10.9.9.8', dhcp_lease_time: 600 });
  for (const vm of VMS)
    await cluster.call('POST', '/interfaces', {
      uuid: vm.uuid,
      network_uuid: 'nw-net1',
      ipv4_address: vm.ip,
      mac_address: vm.mac,
    });
  await cluster.call('POST', '/interfaces', { uuid: NOLEASE.uuid, network_uuid: 'nw-net1', mac_address: NOLEASE.mac });
  // if-veth3 (172.16.2.3 in net2, from the seed calls) is the routed destination.
  // VMs without addresses, MTU 1500 like a fresh guest: only DHCP can tell them the tunnel MTU.
  for (const vm of [...VMS, NOLEASE])
    await cluster.lab.addVm({ name: vm.name, host: vm.host, mac: vm.mac, ip: null, mtu: 1500, port: vm.uuid });
  await cluster.lab.addVm({
    name: 'ns3',
    host: 'h2',
    mac: '52:54:00:0d:84:03',
    ip: '172.16.2.3/24',
    gateway: '172.16.2.254',
    mtu: 1450,
    port: 'if-veth3',
  });
  await cluster.waitInSync(20_000);
});

after(async () => {
  await cluster?.down();
});

const udhcpc = (vm: string, tries = 5) => udhcpcIn(cluster, vm, { tries, options: ['mtu', 'staticroutes'] });

test('udhcpc on both hosts gets the leased address, router, DNS, domain, GRE MTU and routes', async () => {
  for (const vm of VMS) {
    const r = await udhcpc(vm.name);
    if (r.code !== 0)
      assert.fail(`udhcpc in ${vm.name} failed: ${r.stderr}${r.stdout}\n${await failureReport(cluster)}`);
    const lease = dhcpLeaseOf(cluster, vm.mac);
    assert.equal(lease.ip, vm.ip);
    assert.equal(lease.subnet, '255.255.255.0');
    assert.equal(lease.router, '172.16.1.254');
    assert.equal(lease.dns, '10.9.9.9 10.9.9.8');
    assert.equal(lease.domain, 'dom1');
    assert.equal(lease.serverid, DHCP_IF.ip);
    assert.equal(lease.lease, '600');
    // GRE over a 1500-byte underlay: at most 1462 (issue 7).
    const mtu = Number(lease.mtu);
    assert.ok(mtu > 1400 && mtu <= 1462, `mtu ${lease.mtu}`);
    assert.match(lease.staticroutes ?? '', /172\.16\.2\.0\/24 172\.16\.1\.254/);
    assert.match(lease.staticroutes ?? '', /0\.0\.0\.0\/0 172\.16\.1\.254/);
    const link = await cluster.lab.run(vm.name, ['ip', '-o', 'link', 'show', 'eth0']);
    assert.match(link, new RegExp(`mtu ${mtu}\\b`));
  }
});

test('with the DHCP-given MTU, TCP between VMs on different hosts works (4 MB each way)', async () => {
  const lab = cluster.lab;
  const r1 = await lab.waitPing('d1', VMS[1]!.ip, { timeoutMs: 10_000 });
  assert.ok(r1.ok, r1.output);
  const server = await lab.spawn('d2', 'sink', [
    'python3',
    '-c',
    'import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",5001));s.listen(1)\nc,_=s.accept();n=0\nwhile True:\n  b=c.recv(65536)\n  if not b: break\n  n+=len(b)\nc.sendall(b"x"*n);c.close();print("got",n,flush=True)',
  ]);
  await new Promise((r) => setTimeout(r, 500));
  const client = await lab.exec(
    'd1',
    [
      'python3',
      '-c',
      `import socket\ns=socket.create_connection(("${VMS[1]!.ip}",5001),timeout=10)\ns.sendall(b"y"*4000000);s.shutdown(socket.SHUT_WR)\nn=0\nwhile True:\n  b=s.recv(65536)\n  if not b: break\n  n+=len(b)\nprint(n)`,
    ],
    { timeoutMs: 30_000 },
  );
  assert.equal(client.code, 0, `${client.stderr}\n${server.logTail(10)}\n${await failureReport(cluster)}`);
  assert.equal(client.stdout.trim(), '4000000');
});

test('a DHCP VM reaches a routed network through the router it was given', async () => {
  const r = await cluster.lab.waitPing('d2', '172.16.2.3', { timeoutMs: 10_000 });
  assert.ok(r.ok, `${r.output}\n${await failureReport(cluster)}`);
});

test('a VM whose interface has no IP lease gets no offer', async () => {
  const r = await udhcpc(NOLEASE.name, 3);
  assert.notEqual(r.code, 0, `udhcpc got a lease without one: ${r.stdout}${r.stderr}`);
  const addr = await cluster.lab.run(NOLEASE.name, ['ip', '-o', '-4', 'addr', 'show', 'eth0']);
  assert.equal(addr.trim(), '');
  // The agent counts what it made of each request: the earlier VM's offer and ack, these ignored DISCOVERs.
  const agent = cluster.agents.get(NOLEASE.host)!;
  process.kill(agent.pid, 'SIGUSR2');
  let events: Record<string, number> | undefined;
  for (let i = 0; i < 50 && !events; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const line = agent
      .logTail(200)
      .split('\n')
      .findLast((l) => l.includes('"dhcpEvents"'));
    if (line) events = JSON.parse(line).status.counters.dhcpEvents;
  }
  assert.ok(events, `no status in the agent log:\n${agent.logTail(20)}`);
  assert.ok((events.offer ?? 0) >= 1 && (events.ack ?? 0) >= 1, JSON.stringify(events));
  assert.ok((events.ignored ?? 0) >= 1, JSON.stringify(events));
});

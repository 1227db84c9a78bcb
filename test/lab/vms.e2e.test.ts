// Lab VMs and hosts in detail: topology file, what a VM looks like inside, attach/detach/move, processes, forwarding, agent mode.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { cleanupLeftovers, Lab } from '../../src/lab/lab.js';
import { parseTopology } from '../../src/lab/topology.js';
import { waitFor } from '../lib/wait-for.js';
import { alive, leftovers, report, rootLinks, testPrefix } from './helpers.js';

const P = testPrefix('v');
const P2 = testPrefix('n');
let lab: Lab;

const TOPOLOGY = `
# three hosts, VMs with chosen names, MACs, MTUs and iface-ids
underlay: 10.250.7.0/24
encap: vxlan
hosts: [h1, h2, {name: h3, underlay_ip: 10.250.7.33}]
vms:
  - {name: a, host: h1, mac: "0A:00:00:0A:00:11", ip: 172.16.1.11/24, gateway: 172.16.1.1, mtu: 1400, port: if-veth1, iface-id: if-aaaa1111}
  - {name: b, host: h2, mac: 0a:00:00:0a:00:12, ip: 172.16.1.12/24}
  - {name: c, host: h3, mac: 0a:00:00:0a:00:13, ip: 172.16.1.13/24}
  - {name: d, host: h1, ip: none}
`;

before(async () => {
  lab = await Lab.up(parseTopology(TOPOLOGY), { prefix: P });
});

after(async () => {
  await lab?.down();
  await cleanupLeftovers(P);
  await cleanupLeftovers(P2);
});

async function pingOk(src: string, dst: string, ip: string): Promise<void> {
  const r = await lab.waitPing(src, ip, { timeoutMs: 15000 });
  assert.ok(r.ok, `${src} -> ${dst} (${ip})\n${r.output}\n${await report(lab, src, dst)}`);
}

test('topology file: hosts get their underlay IPs on br-phy; the VM has the chosen MAC, MTU, IP, route, no IPv6, no TX offload', async () => {
  assert.deepEqual(
    lab.hosts().map((h) => [h.name, h.underlayIp, h.dpid]),
    [
      ['h1', '10.250.7.1', '0x0000000000000001'],
      ['h2', '10.250.7.2', '0x0000000000000002'],
      ['h3', '10.250.7.33', '0x0000000000000003'],
    ],
  );
  assert.match(await lab.host('h3').run(['ip', '-4', '-br', 'addr', 'show', 'br-phy']), /10\.250\.7\.33\/24/);
  assert.equal((await lab.host('h1').vsctl('get', 'bridge', 'br0', 'datapath_type')).trim(), 'netdev');
  assert.equal((await lab.host('h1').vsctl('get', 'bridge', 'br0', 'fail_mode')).trim(), 'secure');

  const a = lab.vm('a');
  const link = JSON.parse(await a.run(['ip', '-json', 'link', 'show', 'eth0'])) as { address: string; mtu: number }[];
  assert.equal(link[0]!.address, '0a:00:00:0a:00:11');
  assert.equal(link[0]!.mtu, 1400);
  assert.match(await a.run(['ip', '-4', '-br', 'addr', 'show', 'eth0']), /172\.16\.1\.11\/24/);
  assert.match(await a.run(['ip', 'route', 'show', 'default']), /default via 172\.16\.1\.1 dev eth0/);
  assert.equal((await a.run(['cat', '/proc/sys/net/ipv6/conf/all/disable_ipv6'])).trim(), '1');
  assert.equal((await a.run(['ip', '-6', 'addr', 'show'])).trim(), '', 'no IPv6 address at all');
  assert.match(await a.run(['ethtool', '-k', 'eth0']), /tx-checksumming: off/);
  assert.match(await lab.host('h1').run(['ethtool', '-k', 'if-veth1']), /tx-checksumming: off/);
  assert.equal((await lab.host('h1').run(['cat', '/sys/class/net/if-veth1/mtu'])).trim(), '1400');

  const ids = await lab.host('h1').vsctl('get', 'interface', 'if-veth1', 'external_ids');
  assert.match(ids, /iface-id=if-aaaa1111/);
  assert.match(ids, /attached-mac="0a:00:00:0a:00:11"/);
  assert.ok((await lab.host('h1').vsctl('list-ports', 'br0')).split('\n').includes('if-veth1'));

  // The VM without an address has none; its default MAC and port name are derived from its name/index.
  const d = lab.vm('d');
  assert.equal(d.ip, null);
  assert.equal((await d.run(['ip', '-4', 'addr', 'show', 'eth0'])).trim(), '');
  assert.equal(d.port, 'if-d');
  assert.match(d.mac, /^02:00:00:00:/);

  // Nothing of the lab is visible in the root namespace.
  for (const name of ['if-veth1', 'if-d', 'ul0', 'br-phy', 'ul-h1']) assert.ok(!rootLinks().includes(name), name);
  assert.deepEqual(
    rootLinks().filter((l) => l.startsWith(P)),
    [],
  );
});

test('three hosts over VXLAN: every pair pings (flooding never loops back into the tunnel)', async () => {
  await pingOk('a', 'b', '172.16.1.12');
  await pingOk('a', 'c', '172.16.1.13');
  await pingOk('c', 'b', '172.16.1.12');
  const r = await lab.ping('b', '172.16.1.13', { count: 5, intervalS: 0.05 });
  assert.ok(r.ok, r.output);
  assert.equal(r.received, 5);
  // A broadcast (ARP for a nobody) from h1 reaches h2 over the tunnel, and h2 never sends it on
  // (split horizon): on h2's underlay cable it only ever travels inwards.
  const cap = await lab.capture('ul', 'ul-h2', 'udp port 4789', () =>
    lab.exec('a', ['ping', '-c', '1', '-W', '1', '172.16.1.99']),
  );
  const arps = cap.lines.filter((l) => /Request who-has 172\.16\.1\.99/.test(l));
  const inward = arps.filter((l) => /10\.250\.7\.1\.\d+ > 10\.250\.7\.2\.4789/.test(l));
  assert.ok(inward.length >= 1, `the ARP broadcast reached h2\n${cap.lines.join('\n')}`);
  assert.equal(arps.length, inward.length, `h2 re-flooded a tunnelled broadcast\n${arps.join('\n')}`);
});

test('detach cuts a VM off, attach restores it, move brings it to another host with the same MAC and IP', async () => {
  await pingOk('a', 'b', '172.16.1.12');
  await lab.detachVm('b');
  assert.ok(!(await lab.host('h2').vsctl('list-ports', 'br0')).split('\n').includes('if-b'));
  const cut = await lab.ping('a', '172.16.1.12', { count: 2, intervalS: 0.1, timeoutS: 1 });
  assert.equal(cut.received, 0, 'no reply from a detached VM');
  await lab.attachVm('b', { ifaceId: 'if-bbbb' });
  assert.match(await lab.host('h2').vsctl('get', 'interface', 'if-b', 'external_ids:iface-id'), /if-bbbb/);
  await pingOk('a', 'b', '172.16.1.12');

  await lab.moveVm('b', 'h3');
  assert.equal(lab.vm('b').host, 'h3');
  assert.ok((await lab.host('h3').vsctl('list-ports', 'br0')).split('\n').includes('if-b'));
  assert.ok(!(await lab.host('h2').vsctl('list-ports', 'br0')).split('\n').includes('if-b'));
  assert.equal((await lab.host('h2').exec(['ip', 'link', 'show', 'if-b'])).ok, false, 'old veth removed');
  const link = JSON.parse(await lab.vm('b').run(['ip', '-json', 'link', 'show', 'eth0'])) as { address: string }[];
  assert.equal(link[0]!.address, '0a:00:00:0a:00:12');
  assert.match(await lab.vm('b').run(['ethtool', '-k', 'eth0']), /tx-checksumming: off/);
  await pingOk('a', 'b', '172.16.1.12');
  await pingOk('b', 'c', '172.16.1.13');
  // A second lab object (as the CLI makes) sees the move.
  assert.equal(Lab.open(P).vm('b').host, 'h3');

  await lab.removeVm('d');
  assert.throws(() => lab.vm('d'), { code: 'VNET_LAB_UNKNOWN_NODE' });
  assert.equal(leftovers(P).namespaces.includes(`${P}-d`), false);
});

test('spawn: a long-running process in a host, logged and stoppable; forward: a host reaches a server in the root namespace', async () => {
  const p = await lab
    .host('h2')
    .spawn('talker', ['sh', '-c', 'echo started in $(ip -br link show ul0 | cut -c1-3); exec sleep 600']);
  assert.ok(p.alive());
  await waitFor(() => p.logTail().includes('started in ul0'), 'the forwarder to start in ul0', { timeoutMs: 5000 });
  await p.stop();
  assert.ok(!p.alive());
  assert.ok(!alive(p.pid));

  const server = createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const fwd = await lab.forward({ from: { node: 'h1', port }, to: { node: 'root', port } });
    const r = await lab.host('h1').exec(['curl', '-sS', '--max-time', '5', `http://127.0.0.1:${port}/x`]);
    assert.equal(r.stdout, 'hello /x', r.stderr);
    for (const f of fwd) await f.stop();
    const gone = await lab.host('h1').exec(['curl', '-sS', '--max-time', '2', `http://127.0.0.1:${port}/x`]);
    assert.ok(!gone.ok, 'the forward is gone after stop');
  } finally {
    server.close();
  }
  // Left running on purpose: down() (in after) must stop it; leftovers() there would show it otherwise.
  const keep = await lab.host('h3').spawn('keeper', ['sleep', '600']);
  assert.ok(keep.alive());
});

test('mode none: bridges without flows or tunnel ports (for an agent); createBridge false leaves br0 to it', async () => {
  const topo = parseTopology(`
mode: none
hosts: [{name: h1}, {name: h2, create_bridge: false}]
vms: [{name: x, host: h1, ip: 10.9.0.1/24, iface_id: if-x}, {name: y, host: h2, ip: 10.9.0.2/24, attach: false}]
`);
  const l = await Lab.up(topo, { prefix: P2 });
  try {
    const h1 = l.host('h1');
    assert.equal((await h1.vsctl('get', 'bridge', 'br0', 'fail_mode')).trim(), 'secure');
    assert.deepEqual((await h1.vsctl('list-ports', 'br0')).trim().split('\n'), ['if-x']);
    assert.doesNotMatch(await h1.ofctl('dump-flows', 'br0'), /actions=/, 'no flows: the agent owns br0');
    assert.equal(l.host('h2').dpid, null);
    assert.doesNotMatch(await l.host('h2').vsctl('list-br'), /br0/);
    assert.equal(l.vm('y').state.attached, false);
    // The VM's veth exists in h2, ready for the agent's bridge.
    assert.ok((await l.host('h2').exec(['ip', 'link', 'show', 'if-y'])).ok);
    const r = await l.ping('x', '10.9.0.2', { count: 1, timeoutS: 1 });
    assert.equal(r.received, 0, 'secure bridge without flows drops');
    await assert.rejects(
      l.setEncap('gre').then(() => l.refreshPlainFlows()),
      { code: 'VNET_LAB_NOT_PLAIN' },
    );
  } finally {
    await l.down();
  }
  assert.deepEqual(leftovers(P2), { namespaces: [], processes: [], dir: false, links: [] });
});

test('down removes the lab with its processes', async () => {
  const pids = lab.processes().map((p) => p.pid);
  assert.ok(pids.length > 0);
  await lab.down();
  for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} stopped`);
  assert.deepEqual(leftovers(P), { namespaces: [], processes: [], dir: false, links: [] });
});

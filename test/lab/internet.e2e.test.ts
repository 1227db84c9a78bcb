// The lab's "internet": an upstream router on the provider segment (no NAT) and an internet host behind it
// whose HTTP server answers with the client address it sees.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanupLeftovers, INET_HTTP_PROCESS, Lab, type LabInternetHandles } from '../../src/lab/lab.js';
import { leftovers, testPrefix } from './helpers.js';

const P = testPrefix('i');
let lab: Lab;
let net: LabInternetHandles;

before(async () => {
  lab = await Lab.create({ prefix: P, mode: 'none' });
  net = await lab.addInternet();
  // A node on the router's VLAN (10) whose gateway is the router.
  await lab.addExternal({ name: 'x', ip: '192.168.10.50/24', vlan: 10, gateway: '192.168.10.1' });
});

after(async () => {
  await lab?.down();
  await cleanupLeftovers(P);
});

const report = () => lab.diagnostics();

test('addInternet: router on VLAN 10 forwarding without NAT, internet host behind it, HTTP server running', async () => {
  assert.equal(net.router.name, 'rtr');
  assert.equal(net.router.vlan, 10);
  assert.equal(net.router.cidr, '192.168.10.1/24');
  assert.equal(net.inet.name, 'inet');
  assert.equal(net.inet.netns, `${P}-inet`);
  assert.equal(net.inet.cidr, '198.51.100.10/24');
  assert.equal(net.inet.routerIp, '198.51.100.1');
  assert.equal(net.inet.url, 'http://198.51.100.10/');
  assert.equal((await lab.run('rtr', ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim(), '1');
  // No NAT: whatever packet filter tool there is finds no masquerading in the router.
  for (const cmd of [['iptables-save'], ['nft', 'list', 'ruleset']]) {
    const r = await lab.exec('rtr', cmd);
    if (r.ok) assert.doesNotMatch(r.stdout, /masquerade|snat/i, cmd.join(' '));
  }
  assert.match(await lab.run('rtr', ['ip', '-br', 'addr', 'show', 'eth1']), /198\.51\.100\.1\/24/);
  assert.match(await lab.run('inet', ['ip', 'route', 'show', 'default']), /via 198\.51\.100\.1 dev eth0/);
  assert.match(await lab.run('inet', ['ethtool', '-k', 'eth0']), /tx-checksumming: off/);
  assert.match(await lab.run('rtr', ['ethtool', '-k', 'eth1']), /tx-checksumming: off/);
  assert.ok(lab.processes().some((p) => p.node === 'inet' && p.name === INET_HTTP_PROCESS && p.alive()));
  assert.deepEqual(lab.internet() && [lab.internet()!.router.name, lab.internet()!.inet.name], ['rtr', 'inet']);
  assert.equal(Lab.open(P).status().internet?.ip, '198.51.100.10/24');
});

test('a node on the router VLAN reaches the internet host; HTTP answers with the node address; inet reaches it back', async () => {
  const r = await lab.waitPing('x', '198.51.100.10', { timeoutMs: 10000 });
  assert.ok(r.ok, `${r.output}\n${await report()}`);
  const seen = await lab.run('x', ['curl', '-sS', '--max-time', '5', net.inet.url]);
  assert.equal(seen, '192.168.10.50\n', await report());
  const back = await lab.ping('inet', '192.168.10.50', { count: 2, intervalS: 0.2, timeoutS: 2 });
  assert.ok(back.ok, `${back.output}\n${await report()}`);
  // The access log names the client too.
  assert.match(
    lab
      .processes()
      .find((p) => p.name === INET_HTTP_PROCESS)!
      .logTail(5),
    /192\.168\.10\.50 "GET \/ /,
  );
});

test('iperf3 runs on the internet host on demand', async () => {
  // --forceflush: its log is a file, and "Server listening on 5201" would otherwise wait in a buffer.
  const srv = await lab.spawn('inet', 'iperf3', ['iperf3', '-s', '-1', '--forceflush']);
  for (let i = 0; i < 100 && !srv.logTail(5).includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
  const out = await lab.run('x', ['iperf3', '-c', '198.51.100.10', '-t', '1', '-J']);
  const bps = (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
    .bits_per_second;
  assert.ok(bps > 0, out);
});

test('bad input names the field; one internet per lab; the router cannot be removed alone', async () => {
  await assert.rejects(lab.addInternet(), /internet: the lab has an internet already/);
  await assert.rejects(lab.removeExternal('rtr'), /rtr is the internet's router/);
  const other = await Lab.create({ prefix: testPrefix('j'), mode: 'none' });
  try {
    await assert.rejects(other.addInternet({ inet: { subnet: '198.51.100.5/24' } }), /internet\.inet\.subnet/);
    await assert.rejects(other.addInternet({ inet: { subnet: '198.51.100.0/29' } }), /internet\.inet\.subnet/);
    await assert.rejects(other.addInternet({ router: { vlan: 1 } }), /internet\.router\.vlan/);
    await assert.rejects(other.addInternet({ router: { name: 'a' }, inet: { name: 'a' } }), /internet\.inet\.name/);
    assert.equal(other.internet(), null);
  } finally {
    await other.down();
  }
  assert.deepEqual(leftovers(testPrefix('j')), { namespaces: [], processes: [], dir: false, links: [] });
});

test('down() leaves nothing: router, internet host, HTTP server, segment', async () => {
  const http = lab.processes().find((p) => p.name === INET_HTTP_PROCESS)!;
  await lab.down();
  assert.equal(http.alive(), false);
  assert.deepEqual(leftovers(P), { namespaces: [], processes: [], dir: false, links: [] });
});

test('a half-built internet (recorded, router made, then the build failed) is removed by Lab.destroy', async () => {
  const h = await Lab.create({ prefix: P, mode: 'none' });
  // The internet host's netns exists already: addNetns refuses it, after the router is made.
  await h.run('root', ['ip', 'netns', 'add', `${P}-inet`]);
  await assert.rejects(h.addInternet({ router: { vlan: null } }), /netns .*-inet already exists/);
  assert.equal(Lab.open(P).status().internet?.router, 'rtr');
  assert.ok(leftovers(P).namespaces.includes(`${P}-rtr`));
  await Lab.destroy(P);
  assert.deepEqual(leftovers(P), { namespaces: [], processes: [], dir: false, links: [] });
});

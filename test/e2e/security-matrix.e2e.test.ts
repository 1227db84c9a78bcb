// Issue 7 "Done when" 2: a filter/security-group matrix across two hosts with real tools (ping, nc over
// tcp and udp). Each rule allows exactly what it says, replies of allowed connections pass, unsolicited
// inbound is dropped, and a remote-group rule follows membership changes made through the API.
//
//   h1: ns1 172.16.1.1 (sg-admin, no rules)   ns7 172.16.1.7 (unfiltered)   ns3 172.16.2.3 (filter)
//   h2: ns2 172.16.1.2 (sg-web)               ns4 172.16.2.4 (unfiltered, routed from net1)
//
// Every probe carries a unique token; the echo servers log each token they receive, so a blocked probe
// is checked on both ends: the client got no echo and the server never saw it (or, for a stateless
// `pass`, the server saw it and only the reply was dropped).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { BLOCKED, EchoServers, OPEN, type Outcome, type Probe } from './echo.js';
import {
  addNet1Vm,
  addSeedVm,
  assertE2eEnvironment,
  assertReaches,
  failureReport,
  labPrefix,
  seedVm,
} from './helpers.js';

/** A VM in net1 on h1 with no security configuration: the unfiltered peer. */
const NS7 = { name: 'ns7', uuid: 'if-veth7', ip: '172.16.1.7', mac: '52:54:00:0d:84:07' };
const IP = { ns1: seedVm('ns1').ip, ns2: seedVm('ns2').ip, ns3: seedVm('ns3').ip, ns4: seedVm('ns4').ip, ns7: NS7.ip };

// A long-lived TCP client: one line every 200 ms on one connection, printing each echo.
const TICKER = `
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
i = 0
while True:
    c.sendall(('tick%d\\n' % i).encode())
    print(c.recv(100).decode().strip(), flush=True)
    i += 1
    time.sleep(0.2)
`;

const SERVERS: Record<string, string[]> = {
  ns1: ['tcp/80', 'udp/53'],
  ns2: ['tcp/80', 'tcp/81', 'udp/53', 'udp/54'],
  ns3: ['tcp/22', 'tcp/23', 'udp/5353'],
  ns4: ['tcp/22', 'tcp/80'],
  ns7: ['tcp/8000', 'udp/8000'],
};

let cluster: Cluster;
let echo: EchoServers;

const call = (method: string, path: string, body?: Record<string, unknown>) => cluster.call(method, path, body);

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('esm'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addSeedVm(cluster, 'ns1', 'h1');
  await addSeedVm(cluster, 'ns3', 'h1');
  await addSeedVm(cluster, 'ns2', 'h2');
  await addSeedVm(cluster, 'ns4', 'h2');
  await addNet1Vm(cluster, NS7, 'h1');

  // sg-web on ns2: web from anywhere, DNS from net1 only, ping from members of sg-admin.
  await call('POST', '/security_groups', { uuid: 'sg-admin', display_name: 'admins' });
  await call('POST', '/security_groups', { uuid: 'sg-web', display_name: 'web' });
  for (const rule of [
    { uuid: 'sgr-http', protocol: 'tcp', port_range_min: 80, remote_ip_prefix: '0.0.0.0/0' },
    { uuid: 'sgr-dns', protocol: 'udp', port_range_min: 53, remote_ip_prefix: '172.16.1.0/24' },
    { uuid: 'sgr-ping', protocol: 'icmp', remote_group_uuid: 'sg-admin' },
  ])
    await call('POST', '/security_groups/sg-web/rules', { direction: 'ingress', ...rule });
  await call('PUT', '/interfaces/if-veth2/security_groups/sg-web');
  await call('PUT', '/interfaces/if-veth1/security_groups/sg-admin');

  // An OpenVNet static filter on ns3, each static written as traffic arriving (src = the far end) and mirrored on
  // the way out: its ssh server stateless, its own ssh and pings out stateful, nothing with ns7 by icmp, mDNS.
  await call('POST', '/filters', { uuid: 'fil-ns3', interface_uuid: 'if-veth3' });
  for (const s of [
    { protocol: 'tcp', dst_port: 22, action: 'pass' },
    { protocol: 'tcp', src_port: 22, action: 'conn' },
    { protocol: 'icmp', src_address: `${NS7.ip}/32`, action: 'drop' },
    { protocol: 'icmp', action: 'conn' },
    { protocol: 'udp', dst_port: 5353, action: 'pass' },
  ])
    await call('POST', '/filters/fil-ns3/static', s);

  await cluster.waitInSync(20_000);
  echo = new EchoServers(cluster, (vm) => IP[vm as keyof typeof IP]);
  await echo.start(SERVERS);
  // Unfiltered paths work before anything is asserted about filtered ones.
  await assertReaches(cluster, 'ns7', IP.ns4);
});

after(async () => {
  await cluster?.down();
});

/** Runs the probes at once and compares every outcome; on a mismatch the report has flows and logs. */
const assertProbes = (expected: [Probe, Outcome][]) => echo.assertProbes(expected, () => failureReport(cluster));

/** Pings that must all go unanswered. */
async function assertNoPing(from: string, dst: string): Promise<void> {
  const r = await cluster.lab.ping(from, dst, { count: 2, intervalS: 0.2, timeoutS: 1 });
  if (r.received > 0)
    assert.fail(`${from} -> ${dst} ping was answered but must not be\n${await failureReport(cluster)}`);
}

/** Pings until none is answered (a removal converging), failing with the report after `timeoutMs`. */
async function waitNoPing(from: string, dst: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while ((await cluster.lab.ping(from, dst, { count: 2, intervalS: 0.2, timeoutS: 1 })).received > 0) {
    if (Date.now() - t0 > timeoutMs)
      assert.fail(`${from} -> ${dst} still answered ${timeoutMs} ms after the change\n${await failureReport(cluster)}`);
  }
}

test('security-group rules allow exactly the protocol, port and source they name', async () => {
  await assertProbes([
    // tcp 80 from 0.0.0.0/0: from the same network on the other host, and routed from net2.
    [{ from: 'ns7', to: 'ns2', proto: 'tcp', port: 80 }, OPEN],
    [{ from: 'ns4', to: 'ns2', proto: 'tcp', port: 80 }, OPEN],
    [{ from: 'ns7', to: 'ns2', proto: 'tcp', port: 81 }, BLOCKED],
    // udp 53 from 172.16.1.0/24 only: the reply comes back (stateful), net2 is refused.
    [{ from: 'ns7', to: 'ns2', proto: 'udp', port: 53 }, OPEN],
    [{ from: 'ns4', to: 'ns2', proto: 'udp', port: 53 }, BLOCKED],
    [{ from: 'ns7', to: 'ns2', proto: 'udp', port: 54 }, BLOCKED],
    // The tcp rule opens no udp and the udp rule no tcp.
    [{ from: 'ns7', to: 'ns2', proto: 'udp', port: 80 }, BLOCKED],
  ]);
  // icmp from the members of sg-admin (ns1) only.
  await assertReaches(cluster, 'ns1', IP.ns2);
  await assertNoPing('ns7', IP.ns2);
  await assertNoPing('ns4', IP.ns2);
});

test('filtered VMs open connections outward and their replies pass (stateful)', async () => {
  // ns1 (a member with no rules) and ns2 open anything outward; ns7 and ns4 are unfiltered servers.
  await assertProbes([
    [{ from: 'ns1', to: 'ns7', proto: 'tcp', port: 8000 }, OPEN],
    [{ from: 'ns1', to: 'ns7', proto: 'udp', port: 8000 }, OPEN],
    [{ from: 'ns2', to: 'ns7', proto: 'tcp', port: 8000 }, OPEN],
    [{ from: 'ns2', to: 'ns4', proto: 'tcp', port: 80 }, OPEN],
    [{ from: 'ns1', to: 'ns4', proto: 'tcp', port: 22 }, OPEN],
  ]);
  await assertReaches(cluster, 'ns1', IP.ns7);
  await assertReaches(cluster, 'ns2', IP.ns4);
});

test('unsolicited inbound to a member is dropped: default deny', async () => {
  await assertProbes([
    [{ from: 'ns7', to: 'ns1', proto: 'tcp', port: 80 }, BLOCKED],
    [{ from: 'ns7', to: 'ns1', proto: 'udp', port: 53 }, BLOCKED],
    [{ from: 'ns4', to: 'ns1', proto: 'tcp', port: 80 }, BLOCKED],
    [{ from: 'ns2', to: 'ns1', proto: 'tcp', port: 80 }, BLOCKED],
  ]);
  await assertNoPing('ns7', IP.ns1);
  await assertNoPing('ns2', IP.ns1);
});

test("OpenVNet static filters: pass opens both ways statelessly, conn only the VM's own connections, drop wins", async () => {
  await assertProbes([
    // tcp dst_port 22 pass: connections to ns3's port 22 and their replies (the mirror: from port 22).
    [{ from: 'ns4', to: 'ns3', proto: 'tcp', port: 22 }, OPEN],
    [{ from: 'ns7', to: 'ns3', proto: 'tcp', port: 22 }, OPEN],
    [{ from: 'ns4', to: 'ns3', proto: 'tcp', port: 23 }, BLOCKED],
    // tcp src_port 22 conn: ns3's own connections to port 22 elsewhere.
    [{ from: 'ns3', to: 'ns4', proto: 'tcp', port: 22 }, OPEN],
    // No egress passthrough: outbound needs a static too.
    [{ from: 'ns3', to: 'ns4', proto: 'tcp', port: 80 }, BLOCKED],
    // udp dst_port 5353 pass: the datagram gets in, and the reply from 5353 goes out.
    [{ from: 'ns4', to: 'ns3', proto: 'udp', port: 5353 }, OPEN],
  ]);
  // icmp conn: ns3's own pings, but not to ns7 (the drop static, mirrored, wins); nobody pings ns3.
  await assertReaches(cluster, 'ns3', IP.ns4);
  await assertNoPing('ns3', IP.ns7);
  await assertNoPing('ns4', IP.ns3);
  await assertNoPing('ns7', IP.ns3);
});

test('a removed allow rule refuses new connections and stops established ones; restored, it admits again', async () => {
  const ticker = await cluster.lab.spawn('ns7', 'ticker', ['python3', '-c', TICKER, IP.ns2, '80']);
  const ticks = () =>
    ticker
      .logTail(1000)
      .split('\n')
      .filter((l) => l.startsWith('echo:tick')).length;
  try {
    for (let i = 0; ticks() < 3; i++) {
      assert.ok(i < 100 && ticker.alive(), `ticker did not connect:\n${ticker.logTail(20)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await call('DELETE', '/security_groups/sg-web/rules/sgr-http');
    await cluster.waitInSync(20_000);
    await assertProbes([[{ from: 'ns7', to: 'ns2', proto: 'tcp', port: 80 }, BLOCKED]]);
    // The live connection's next segment meets the rules, finds none, and the connection is blocked both
    // ways (docs/pipeline.md, "What a rule change does to existing connections").
    await new Promise((r) => setTimeout(r, 300));
    const before = ticks();
    await new Promise((r) => setTimeout(r, 1500));
    if (ticks() !== before)
      assert.fail(
        `the established connection still echoes after its rule was removed:\n${ticker.logTail(10)}\n${await failureReport(cluster)}`,
      );
  } finally {
    await ticker.stop();
    await call('POST', '/security_groups/sg-web/rules', {
      uuid: 'sgr-http',
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 80,
      remote_ip_prefix: '0.0.0.0/0',
    });
  }
  await cluster.waitInSync(20_000);
  await assertProbes([[{ from: 'ns7', to: 'ns2', proto: 'tcp', port: 80 }, OPEN]]);
});

test('a remote-group rule follows membership changes', async () => {
  // ns7 joins sg-admin: the icmp rule of sg-web now admits it. ns7 becomes filtered itself.
  await call('PUT', `/interfaces/${NS7.uuid}/security_groups/sg-admin`);
  await assertReaches(cluster, 'ns7', IP.ns2);
  await assertProbes([[{ from: 'ns1', to: 'ns7', proto: 'tcp', port: 8000 }, BLOCKED]]);
  // ns1 leaves: no longer admitted by sg-web, and (in no group now) unfiltered again.
  await call('DELETE', '/interfaces/if-veth1/security_groups/sg-admin');
  await waitNoPing('ns1', IP.ns2);
  await assertReaches(cluster, 'ns7', IP.ns1);
  await assertProbes([
    [{ from: 'ns2', to: 'ns1', proto: 'tcp', port: 80 }, OPEN],
    [{ from: 'ns7', to: 'ns2', proto: 'tcp', port: 80 }, OPEN],
  ]);
});

test('ICMP type and code, and protocols by number, as Neutron gives them', async () => {
  // A rule for ICMP timestamp requests (type 13) from net2 opens no echo; one for echo requests (type 8, code 0)
  // does, and its replies pass (stateful). Protocol "17" is udp, with its port.
  await call('POST', '/security_groups/sg-web/rules', {
    uuid: 'sgr-tstamp',
    direction: 'ingress',
    protocol: 'icmp',
    port_range_min: 13,
    remote_ip_prefix: '172.16.2.0/24',
  });
  await cluster.waitInSync(20_000);
  await assertNoPing('ns4', IP.ns2);
  await call('POST', '/security_groups/sg-web/rules', {
    uuid: 'sgr-echo',
    direction: 'ingress',
    protocol: 'icmp',
    port_range_min: 8,
    port_range_max: 0,
    remote_ip_prefix: '172.16.2.0/24',
  });
  await call('POST', '/security_groups/sg-web/rules', {
    uuid: 'sgr-udp17',
    direction: 'ingress',
    protocol: '17',
    port_range_min: 54,
    remote_ip_prefix: '172.16.2.0/24',
  });
  await assertReaches(cluster, 'ns4', IP.ns2);
  await assertProbes([
    [{ from: 'ns4', to: 'ns2', proto: 'udp', port: 54 }, OPEN],
    [{ from: 'ns4', to: 'ns2', proto: 'udp', port: 53 }, BLOCKED],
  ]);
  await call('DELETE', '/security_groups/sg-web/rules/sgr-echo');
  await waitNoPing('ns4', IP.ns2);
});

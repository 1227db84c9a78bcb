// Issue 19 "Done when" filter: OpenVNet's filter matrix (its integration_test filter spec over filter.yml) on real
// OVS. Our counterpart dataset (test/fixtures/openvnet/filters.yml, loaded with base + base_dp the way OpenVNet's
// harness loads datasets) gives five VMs a static filter each and leaves vm6 unfiltered; every VM gets its address
// from the dataset's DHCP service, vm2 (only DHCP allowed) included. Two hosts:
//
//   h1: vm1 (fil-open) vm2 (fil-dhcponly) vm5 (fil-stateful, conn) vm7 (unfiltered, not in filter.yml)
//   h2: vm3 (fil-fromf1) vm4 (fil-ipfromf1) vm6 (unfiltered)
//
// Each check the spec makes against vm6 is made against vm6 and vm7, so it runs once across the tunnel and once
// on one host. The spec's be_reachable_to (ssh) is a TCP connection, be_able_to_send_udp a datagram, and
// be_able_to_ping a ping; TCP and UDP go through real sockets (echo servers that log each probe's token), so a
// refusal is checked at both ends, and an allowance both ways (the request arrives and the answer comes back).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../../src/demo/cluster.js';
import { BLOCKED, EchoServers, OPEN, type Probe } from './echo.js';
import { assertE2eEnvironment, dhcpLeaseOf, failureReport, udhcpc } from './helpers.js';
import { startOpenVnetLab } from './openvnet-lab.js';

interface FilterVm {
  name: string;
  uuid: string;
  host: string;
  mac: string;
  ip: string;
}

/** filters.yml's VMs (vm1..vm6), and vm7: the unfiltered VM on vm6's other host, made through the API. */
const VMS: FilterVm[] = [
  { name: 'vm1', uuid: 'if-f1', host: 'h1', mac: '52:54:00:66:00:01', ip: '10.60.0.41' },
  { name: 'vm2', uuid: 'if-f2', host: 'h1', mac: '52:54:00:66:00:02', ip: '10.60.0.42' },
  { name: 'vm3', uuid: 'if-f3', host: 'h2', mac: '52:54:00:66:00:03', ip: '10.60.0.43' },
  { name: 'vm4', uuid: 'if-f4', host: 'h2', mac: '52:54:00:66:00:04', ip: '10.60.0.44' },
  { name: 'vm5', uuid: 'if-f5', host: 'h1', mac: '52:54:00:66:00:05', ip: '10.60.0.45' },
  { name: 'vm6', uuid: 'if-f6', host: 'h2', mac: '52:54:00:66:00:06', ip: '10.60.0.46' },
  { name: 'vm7', uuid: 'if-f7', host: 'h1', mac: '52:54:00:66:00:07', ip: '10.60.0.47' },
];
const ipOf = (name: string) => VMS.find((v) => v.name === name)!.ip;
/** The unfiltered VMs: vm6 across the tunnel from h1's VMs, vm7 on their host (and the other way for h2's). */
const UNFILTERED = ['vm6', 'vm7'] as const;

/** Every VM answers TCP on 22 (the spec's ssh) and UDP on 7452; vm3 UDP also on 5300 and 5301 (its 1344/1345). */
const SERVERS: Record<string, string[]> = Object.fromEntries(
  VMS.map((v) => [v.name, ['tcp/22', 'udp/7452', ...(v.name === 'vm3' ? ['udp/5300', 'udp/5301'] : [])]]),
);

let cluster: Cluster;
let echo: EchoServers;
const dhcp = new Map<string, Awaited<ReturnType<typeof udhcpc>>>();

before(async () => {
  assertE2eEnvironment();
  cluster = await startOpenVnetLab('oflt', ['h1', 'h2'], 'filters');
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-f7',
    mode: 'vif',
    port_name: 'if-f7',
    network_uuid: 'nw-amber',
    mac_address: '52:54:00:66:00:07',
    ipv4_address: '10.60.0.47',
  });
  for (const v of VMS)
    await cluster.lab.addVm({ name: v.name, host: v.host, mac: v.mac, ip: null, gateway: null, port: v.uuid });
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  // As OpenVNet's spec sets its VMs up: each asks the network's DHCP service for its address (checked below).
  for (const v of VMS) dhcp.set(v.name, await udhcpc(cluster, v.name, { tries: 10 }));
  echo = new EchoServers(cluster, ipOf);
  await echo.start(SERVERS);
});

after(async () => {
  await cluster?.down();
});

const report = () => failureReport(cluster);

test('every VM gets its address from the DHCP service, the VM that allows only DHCP and the conn one included', async () => {
  for (const v of VMS) {
    const r = dhcp.get(v.name)!;
    if (r.code !== 0) assert.fail(`udhcpc in ${v.name} failed: ${r.stderr}${r.stdout}\n${await report()}`);
    assert.equal(dhcpLeaseOf(cluster, v.mac).ip, v.ip, `${v.name}'s lease`);
  }
  // The unfiltered pair reaches each other before anything is asserted about the filtered ones.
  await assertPing('vm7', 'vm6');
});

const tcp = (from: string, to: string): Probe => ({ from, to, proto: 'tcp', port: 22 });
const udp = (from: string, to: string, port = 7452): Probe => ({ from, to, proto: 'udp', port });

/** A ping answered (waiting for convergence), with the report when it is not. */
async function assertPing(from: string, to: string): Promise<void> {
  const r = await cluster.lab.waitPing(from, ipOf(to), { timeoutMs: 15_000 });
  if (!r.ok) assert.fail(`${from} -> ${to} (${ipOf(to)}) ping got no reply\n${r.output}\n${await report()}`);
}

/** Pings that must all go unanswered. */
async function assertNoPing(from: string, to: string): Promise<void> {
  const r = await cluster.lab.ping(from, ipOf(to), { count: 2, intervalS: 0.2, timeoutS: 1 });
  if (r.received > 0)
    assert.fail(`${from} -> ${to} (${ipOf(to)}) ping was answered but must not be\n${await report()}`);
}

// The spec's groups, in its order, with its wording; `expect(a).to be_reachable_to(b)` is a's connection to b.
describe('passthrough tcp', () => {
  test('vm1 (tcp pass) connects out and accepts connections, with vm6 and vm7', async () => {
    await echo.assertProbes(
      UNFILTERED.flatMap((u) => [
        [tcp('vm1', u), OPEN],
        [tcp(u, 'vm1'), OPEN],
      ]),
      report,
    );
  });
  test('vm2 (only DHCP) blocks incoming and outgoing tcp', async () => {
    await echo.assertProbes(
      UNFILTERED.flatMap((u) => [
        [tcp('vm2', u), BLOCKED],
        [tcp(u, 'vm2'), BLOCKED],
      ]),
      report,
    );
  });
  test('vm3 (tcp from vm1) connects to vm1 and vm1 to it; blocks all else', async () => {
    await echo.assertProbes(
      [
        [tcp('vm3', 'vm1'), OPEN],
        [tcp('vm1', 'vm3'), OPEN],
        ...UNFILTERED.flatMap((u): [Probe, typeof OPEN][] => [
          [tcp('vm3', u), BLOCKED],
          [tcp(u, 'vm3'), BLOCKED],
        ]),
      ],
      report,
    );
  });
});

describe('passthrough udp', () => {
  test('vm1 (udp pass) accepts and sends udp', async () => {
    await echo.assertProbes(
      UNFILTERED.flatMap((u) => [
        [udp(u, 'vm1'), OPEN],
        [udp('vm1', u), OPEN],
      ]),
      report,
    );
  });
  test('vm2 blocks incoming and outgoing udp', async () => {
    await echo.assertProbes(
      UNFILTERED.flatMap((u) => [
        [udp(u, 'vm2'), BLOCKED],
        [udp('vm2', u), BLOCKED],
      ]),
      report,
    );
  });
  test("vm3 accepts udp from vm4's address to its port 5300 only", async () => {
    await echo.assertProbes(
      [
        [udp('vm4', 'vm3', 5300), OPEN],
        ...UNFILTERED.flatMap((u): [Probe, typeof OPEN][] => [
          [udp(u, 'vm3', 5301), BLOCKED],
          [udp(u, 'vm3', 5300), BLOCKED],
        ]),
        [udp('vm4', 'vm3', 5301), BLOCKED],
      ],
      report,
    );
  });
});

describe('passthrough icmp', () => {
  test('vm1 (icmp pass) pings and is pinged', async () => {
    for (const u of UNFILTERED) {
      await assertPing(u, 'vm1');
      await assertPing('vm1', u);
    }
  });
  test('vm2 blocks icmp both ways', async () => {
    for (const u of UNFILTERED) {
      await assertNoPing(u, 'vm2');
      await assertNoPing('vm2', u);
    }
  });
  test('vm3 is pinged by vm1 (icmp from its address) and by no one else, and pings no one else', async () => {
    await assertPing('vm1', 'vm3');
    for (const u of UNFILTERED) {
      await assertNoPing('vm3', u);
      await assertNoPing(u, 'vm3');
    }
  });
});

describe('passthrough all', () => {
  test('vm4 (all ip from vm1) connects to vm1, takes udp and pings from it', async () => {
    await echo.assertProbes(
      [
        [tcp('vm4', 'vm1'), OPEN],
        [udp('vm1', 'vm4'), OPEN],
      ],
      report,
    );
    await assertPing('vm1', 'vm4');
  });
  test('vm4 blocks all else', async () => {
    await echo.assertProbes(
      UNFILTERED.flatMap((u) => [
        [tcp('vm4', u), BLOCKED],
        [tcp(u, 'vm4'), BLOCKED],
        [udp(u, 'vm4'), BLOCKED],
        [udp('vm4', u), BLOCKED],
      ]),
      report,
    );
    for (const u of UNFILTERED) {
      await assertNoPing(u, 'vm4');
      await assertNoPing('vm4', u);
    }
  });
});

describe('stateful connections', () => {
  test('vm5 (ip conn) blocks all incoming', async () => {
    await echo.assertProbes(
      UNFILTERED.flatMap((u) => [
        [tcp(u, 'vm5'), BLOCKED],
        [udp(u, 'vm5'), BLOCKED],
      ]),
      report,
    );
    for (const u of UNFILTERED) await assertNoPing(u, 'vm5');
  });
  test('vm5 makes all outgoing connections, and their answers come back', async () => {
    await echo.assertProbes(
      UNFILTERED.flatMap((u) => [
        [tcp('vm5', u), OPEN],
        [udp('vm5', u), OPEN],
      ]),
      report,
    );
    for (const u of UNFILTERED) await assertPing('vm5', u);
  });
});

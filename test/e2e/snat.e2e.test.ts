// Issue 17 item 4: router gateways with SNAT, centralised on a gateway datapath with failover. Two tenants use
// the same 10.0.0.0/24 behind their own routers (route links); each router has an interface on the external
// VLAN-10 network with a snat translation. h1 (priority 200) and h2 (100) are the gateway candidates with
// uplinks; h3 has VMs only. The internet host (behind the lab's upstream router, which does no NAT) must see
// each tenant's gateway address; killing the active gateway's agent, or cutting its uplink, hands over to the
// standby, and back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import type { LabInternetHandles } from '../../src/lab/lab.js';
import { waitFor } from '../lib/wait-for.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const HOSTS = ['h1', 'h2', 'h3'];
const EXT = { uuid: 'nw-ext', ipv4_network: '192.168.10.0', network_mode: 'physical', vlan_id: 10 };
const UPSTREAM = '192.168.10.1';
const TENANTS = [
  { t: 'a', gw: '192.168.10.11', extMac: '02:00:10:00:0a:01', inMac: '02:00:10:00:0a:02' },
  { t: 'b', gw: '192.168.10.12', extMac: '02:00:10:00:0b:01', inMac: '02:00:10:00:0b:02' },
];
const VMS = [
  { name: 'a1', host: 'h3', t: 'a', ip: '10.0.0.10', mac: '02:00:00:0a:00:10' },
  { name: 'b1', host: 'h3', t: 'b', ip: '10.0.0.10', mac: '02:00:00:0b:00:10' },
  { name: 'a2', host: 'h1', t: 'a', ip: '10.0.0.11', mac: '02:00:00:0a:00:11' },
];

let cluster: Cluster;
let net: LabInternetHandles;
const dpOf = new Map<string, string>();

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('snat'), hosts: HOSTS, startAgents: true });
  const lab = cluster.lab;
  for (const [host, dp] of await cluster.waitDatapaths()) dpOf.set(host, String(dp.uuid));
  for (const h of ['h1', 'h2']) await lab.addUplink(h);
  net = await lab.addInternet();

  await cluster.call('POST', '/networks', EXT);
  // The upstream router, registered as OpenVNet does (mode remote): the routes' next hop.
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-upstream',
    mode: 'remote',
    network_uuid: EXT.uuid,
    ipv4_address: UPSTREAM,
    mac_address: net.router.mac,
  });
  for (const [i, h] of ['h1', 'h2'].entries()) {
    await cluster.call('POST', '/interfaces', {
      uuid: `if-up${h}`,
      mode: 'host',
      port_name: 'ext0',
      owner_datapath_uuid: dpOf.get(h)!,
    });
    await cluster.call('POST', `/datapaths/${dpOf.get(h)}/networks/${EXT.uuid}`, {
      interface_uuid: `if-up${h}`,
      gateway_priority: 200 - 100 * i,
    });
  }
  for (const { t, gw, extMac, inMac } of TENANTS) {
    const rl = `rl-${t}`;
    await cluster.call('POST', '/route_links', { uuid: rl });
    await cluster.call('POST', '/networks', { uuid: `nw-${t}`, ipv4_network: '10.0.0.0' });
    await cluster.call('POST', '/interfaces', {
      uuid: `if-r${t}in`,
      mode: 'simulated',
      enable_routing: true,
      network_uuid: `nw-${t}`,
      ipv4_address: '10.0.0.1',
      mac_address: inMac,
    });
    await cluster.call('POST', '/interfaces', {
      uuid: `if-r${t}ext`,
      mode: 'simulated',
      enable_routing: true,
      network_uuid: EXT.uuid,
      ipv4_address: gw,
      mac_address: extMac,
    });
    for (const [iface, network, ipv4_network, ipv4_prefix, hop] of [
      [`if-r${t}in`, `nw-${t}`, '10.0.0.0', 24, null],
      [`if-r${t}ext`, EXT.uuid, '192.168.10.0', 24, null],
      [`if-r${t}ext`, EXT.uuid, '0.0.0.0', 0, UPSTREAM],
    ] as const)
      await cluster.call('POST', '/routes', {
        interface_uuid: iface,
        route_link_uuid: rl,
        network_uuid: network,
        ipv4_network,
        ipv4_prefix,
        ...(hop ? { gateway_ipv4_address: hop } : {}),
      });
    await cluster.call('POST', '/translations', { uuid: `tr-snat${t}`, interface_uuid: `if-r${t}ext`, mode: 'snat' });
  }
  for (const v of VMS) {
    const uuid = `if-${v.name}`;
    await cluster.call('POST', '/interfaces', {
      uuid,
      network_uuid: `nw-${v.t}`,
      ipv4_address: v.ip,
      mac_address: v.mac,
    });
    await lab.addVm({
      name: v.name,
      host: v.host,
      mac: v.mac,
      ip: `${v.ip}/24`,
      gateway: '10.0.0.1',
      port: uuid,
      mtu: 1450,
    });
  }
});

after(async () => {
  await cluster?.down();
});

const activeOf = async (t: string) =>
  (await cluster.call<{ active_datapath_uuid: string | null }>('GET', `/translations/tr-snat${t}`))
    .active_datapath_uuid;

async function seenByInternet(vm: string): Promise<string> {
  return (await cluster.lab.run(vm, ['curl', '-sS', '--max-time', '5', net.inet.url])).trim();
}

async function reachInternet(vm: string): Promise<void> {
  const r = await cluster.lab.waitPing(vm, net.inet.ip!, { timeoutMs: 15_000 });
  if (!r.ok) assert.fail(`${vm} -> internet failed\n${r.output}\n${await cluster.diagnostics()}`);
}

/**
 * Pings the internet host from `vm` 10 times a second for `seconds` while `disrupt` runs 1.5 s in; returns
 * how many went unanswered (the gap, in tenths of a second).
 */
async function lostDuring(vm: string, seconds: number, disrupt: () => Promise<void>): Promise<number> {
  const count = seconds * 10;
  const pinging = cluster.lab.exec(vm, ['ping', '-n', '-q', '-i', '0.1', '-c', String(count), '-W', '1', net.inet.ip!]);
  await new Promise((r) => setTimeout(r, 1500));
  await disrupt();
  const r = await pinging;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  return Number(m[1]) - Number(m[2]);
}

test('snat: agents converge, nothing reported wrong, h1 (highest priority) is the active gateway', async () => {
  try {
    await cluster.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, String(dp.last_error));
  for (const { t } of TENANTS)
    await waitFor(async () => (await activeOf(t)) === dpOf.get('h1'), `tr-snat${t} active at h1`, {
      timeoutMs: 10_000,
      everyMs: 100,
    });
});

test('snat: two tenants with the same 10.0.0.0/24 reach the internet host at once, each seen as its gateway address', async () => {
  await Promise.all(['a1', 'b1', 'a2'].map(reachInternet));
  const seen = await Promise.all(['a1', 'b1', 'a2'].map(seenByInternet));
  assert.deepEqual(seen, ['192.168.10.11', '192.168.10.12', '192.168.10.11'], await cluster.diagnostics());
  // The inside addresses never reach the segment.
  const cap = await cluster.lab.capture(net.router.name, 'eth0', 'icmp', () =>
    cluster.lab.ping('b1', net.inet.ip!, { count: 2, intervalS: 0.1 }),
  );
  assert.equal(cap.result.received, 2, cap.result.output);
  assert.ok(!cap.lines.some((l) => l.includes('10.0.0.')), `inside address on the segment:\n${cap.lines.join('\n')}`);
  // A connection from outside to the gateway address that nobody opened goes nowhere.
  const r = await cluster.lab.exec('inet', ['curl', '-sS', '--max-time', '2', 'http://192.168.10.11/']);
  assert.equal(r.ok, false);
});

test('snat: kill -9 of the active gateway agent hands over to the standby, and back when it returns', async () => {
  const gap = await lostDuring('a1', 8, async () => {
    await cluster.stopAgent('h1', 'SIGKILL');
    await waitFor(async () => (await activeOf('a')) === dpOf.get('h2'), 'tr-snata active at h2', {
      timeoutMs: 10_000,
      everyMs: 50,
    });
  });
  console.log(`# failover gap (agent killed): ${gap * 100} ms`);
  assert.equal(await seenByInternet('a1'), '192.168.10.11');
  assert.ok(gap <= 20, `lost ${gap} pings at the failover\n${await cluster.diagnostics()}`);

  const back = await lostDuring('b1', 8, async () => {
    await cluster.startAgent('h1');
    await waitFor(async () => (await activeOf('b')) === dpOf.get('h1'), 'tr-snatb active at h1 again', {
      timeoutMs: 15_000,
      everyMs: 50,
    });
  });
  console.log(`# failback gap (agent back): ${back * 100} ms`);
  assert.ok(back <= 20, `lost ${back} pings at the failback\n${await cluster.diagnostics()}`);
  await cluster.waitInSync(20_000);
});

test("snat: cutting the active gateway's uplink hands over to the standby, and back when restored", async () => {
  const gap = await lostDuring('a1', 8, async () => {
    await cluster.lab.cutUplink('h1');
    await waitFor(async () => (await activeOf('a')) === dpOf.get('h2'), 'tr-snata active at h2', {
      timeoutMs: 10_000,
      everyMs: 50,
    });
  });
  console.log(`# failover gap (uplink cut): ${gap * 100} ms`);
  assert.ok(gap <= 20, `lost ${gap} pings at the failover\n${await cluster.diagnostics()}`);
  const back = await lostDuring('a1', 8, async () => {
    await cluster.lab.restoreUplink('h1');
    await waitFor(async () => (await activeOf('a')) === dpOf.get('h1'), 'tr-snata active at h1 again', {
      timeoutMs: 10_000,
      everyMs: 50,
    });
  });
  console.log(`# failback gap (uplink restored): ${back * 100} ms`);
  assert.ok(back <= 20, `lost ${back} pings at the failback\n${await cluster.diagnostics()}`);
});

test('snat: bad input names the field', async () => {
  const bad = (path: string, body: Record<string, unknown>, re: RegExp) =>
    assert.rejects(cluster.call('POST', path, body), re, path);
  // Not a router interface on a physical network.
  await bad('/translations', { interface_uuid: 'if-a1', mode: 'snat' }, /interface_uuid/);
  await bad('/translations', { interface_uuid: 'if-rain', mode: 'snat' }, /interface_uuid/);
  // One snat per router interface.
  await bad('/translations', { interface_uuid: 'if-raext', mode: 'snat' }, /interface_uuid/);
  // A snat translation takes no static addresses.
  await bad(
    '/translations/tr-snata/static_address',
    { ingress_ipv4_address: '10.0.0.10', egress_ipv4_address: '192.168.10.60' },
    /mode/,
  );
  await bad(`/datapaths/${dpOf.get('h3')}/networks/${EXT.uuid}`, { gateway_priority: 0 }, /gateway_priority/);
});

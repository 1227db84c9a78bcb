// Issue 17 item 4: router gateways with SNAT, centralised on a gateway datapath with failover. Two tenants use
// the same 10.0.0.0/24 behind their own routers (route links); each router has an interface on the external
// VLAN-10 network with a snat translation. h1 (priority 200) and h2 (100) are the gateway candidates with
// uplinks; h3 has VMs only. The internet host (behind the lab's upstream router, which does no NAT) must see
// each tenant's gateway address; killing the active gateway's agent, or cutting its uplink, hands over to the
// standby, and back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { EXTERNAL, northSouthApiCalls, TENANTS } from '../../src/demo/north-south.js';
import type { LabInternetHandles } from '../../src/lab/lab.js';
import { waitFor } from '../lib/wait-for.js';
import { addInterfaceVm, assertE2eEnvironment, labPrefix } from './helpers.js';

const HOSTS = ['h1', 'h2', 'h3'];
const VMS = [
  { name: 'a1', host: 'h3', t: 'a', ip: '10.0.0.10', mac: '02:00:00:0a:00:10' },
  { name: 'b1', host: 'h3', t: 'b', ip: '10.0.0.10', mac: '02:00:00:0b:00:10' },
  { name: 'a2', host: 'h1', t: 'a', ip: '10.0.0.11', mac: '02:00:00:0a:00:11' },
  { name: 'a3', host: 'h2', t: 'a', ip: '10.0.0.12', mac: '02:00:00:0a:00:12' },
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

  // h1 (priority 200) and h2 (100) have uplinks and are the gateway candidates; h3 has VMs only.
  await cluster.apply(
    northSouthApiCalls({
      upstreamMac: net.router.mac,
      uplinks: ['h1', 'h2'].map((h, i) => ({ host: h, datapath: dpOf.get(h)!, gatewayPriority: 200 - 100 * i })),
    }),
  );
  for (const v of VMS) {
    await addInterfaceVm(cluster, { ...v, network: `nw-${v.t}`, gateway: '10.0.0.1', mtu: 1450 });
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

test('vnctl trace follows a VM on a host without an uplink to the gateway and out of its uplink, translated', async () => {
  const r = await cluster.client.trace({ interface_uuid: 'if-b1', dst: net.inet.ip! });
  const why = JSON.stringify(r, null, 2);
  assert.equal(r.result, 'left', why);
  assert.deepEqual(
    r.hops.map((h) => h.node_id),
    ['h3', 'h1'],
    why,
  );
  const out = r.hops[1]!.outcome;
  assert.equal(out.kind, 'uplink', why);
  if (out.kind === 'uplink') {
    assert.equal(out.vlan, 10, why);
    assert.equal(out.packet.ip_src, '192.168.10.12', `seen outside as tenant b's gateway address\n${why}`);
  }
  console.log(`# ${r.path.join(' → ')}\n# ${r.verdict}`);
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

test('a floating IP of a VM on a host without an uplink is served by the active gateway, and follows it', async () => {
  const FIP = '192.168.10.70';
  await cluster.call('POST', '/translations', { uuid: 'tr-a1', interface_uuid: 'if-a1' });
  await cluster.call('POST', '/translations/tr-a1/static_address', {
    ingress_ipv4_address: '10.0.0.10',
    egress_ipv4_address: FIP,
  });
  const inbound = await cluster.lab.waitPing('inet', FIP, { timeoutMs: 10_000 });
  if (!inbound.ok)
    assert.fail(`inet -> ${FIP} (a1 on h3, no uplink) failed\n${inbound.output}\n${await cluster.diagnostics()}`);
  assert.equal(await seenByInternet('a1'), FIP, 'a1 leaves from its floating address, not the gateway address');
  const activeAt = async (dp: string) =>
    (await cluster.call<{ active_datapath_uuid: string | null }>('GET', '/translations/tr-a1')).active_datapath_uuid ===
    dp;
  await waitFor(() => activeAt(dpOf.get('h1')!), 'tr-a1 active at the gateway h1', { timeoutMs: 5000, everyMs: 100 });
  // The gateway's uplink fails: the standby serves it.
  await cluster.lab.cutUplink('h1');
  try {
    await waitFor(() => activeAt(dpOf.get('h2')!), 'tr-a1 active at h2', { timeoutMs: 10_000, everyMs: 100 });
    const moved = await cluster.lab.waitPing('inet', FIP, { timeoutMs: 10_000 });
    if (!moved.ok) assert.fail(`inet -> ${FIP} through h2 failed\n${moved.output}\n${await cluster.diagnostics()}`);
    assert.equal(await seenByInternet('a1'), FIP);
  } finally {
    await cluster.lab.restoreUplink('h1');
  }
  await waitFor(() => activeAt(dpOf.get('h1')!), 'tr-a1 back at h1', { timeoutMs: 10_000, everyMs: 100 });
  await cluster.call('DELETE', '/translations/tr-a1');
  // Without it, a1 leaves through SNAT again.
  await waitFor(async () => (await seenByInternet('a1')) === '192.168.10.11', 'a1 seen as the gateway address again', {
    timeoutMs: 5000,
    everyMs: 200,
    retryErrors: true,
  });
});

test("hairpin through the segment: VMs reach a floating IP served on another host, their own, and another tenant's", async () => {
  // a3 (h2, which has an uplink and is not the active gateway) gets a floating IP, served on h2.
  const FIP = '192.168.10.80';
  await cluster.call('POST', '/translations', { uuid: 'tr-a3', interface_uuid: 'if-a3' });
  await cluster.call('POST', '/translations/tr-a3/static_address', {
    ingress_ipv4_address: '10.0.0.12',
    egress_ipv4_address: FIP,
  });
  const outside = await cluster.lab.waitPing('inet', FIP, { timeoutMs: 10_000 });
  if (!outside.ok) assert.fail(`inet -> ${FIP} failed\n${outside.output}\n${await cluster.diagnostics()}`);
  const failed: string[] = [];
  for (const vm of ['a1', 'a3', 'b1']) {
    const r = await cluster.lab.waitPing(vm, FIP, { timeoutMs: 10_000 });
    if (!r.ok) failed.push(`${vm} -> ${FIP}`);
  }
  if (failed.length > 0) assert.fail(`no hairpin: ${failed.join(', ')}\n${await cluster.diagnostics()}`);
  // a3 sees a1 as its tenant's gateway address (a1 has no floating IP: SNAT on the way out).
  const cap = await cluster.lab.capture('a3', 'eth0', 'icmp', () =>
    cluster.lab.ping('a1', FIP, { count: 2, intervalS: 0.1 }),
  );
  assert.equal(cap.result.received, 2, cap.result.output);
  assert.ok(
    cap.lines.some((l) => l.includes('192.168.10.11 > 10.0.0.12')),
    `a3 saw:\n${cap.lines.join('\n')}`,
  );
});

test('hairpin to floating IPs served on the active gateway itself: same host and across hosts, replies from the floating address', async () => {
  // h1 is the active gateway and has an uplink: a2's floating IP is served there (its own host); a1 is on h3, which
  // has no uplink, so its floating IP is served there too. b2, tenant b's VM on h1 without a floating IP, leaves
  // through b's SNAT on the same host.
  await addInterfaceVm(cluster, {
    name: 'b2',
    host: 'h1',
    network: 'nw-b',
    ip: '10.0.0.13',
    mac: '02:00:00:0b:00:13',
    gateway: '10.0.0.1',
    mtu: 1450,
  });
  const FIP_A2 = '192.168.10.90';
  const FIP_A1 = '192.168.10.91';
  for (const [t, i, fixed, fip] of [
    ['tr-a2gw', 'if-a2', '10.0.0.11', FIP_A2],
    ['tr-a1gw', 'if-a1', '10.0.0.10', FIP_A1],
  ] as const) {
    await cluster.call('POST', '/translations', { uuid: t, interface_uuid: i });
    await cluster.call('POST', `/translations/${t}/static_address`, {
      ingress_ipv4_address: fixed,
      egress_ipv4_address: fip,
    });
    await waitFor(
      async () =>
        (await cluster.call<{ active_datapath_uuid: string | null }>('GET', `/translations/${t}`))
          .active_datapath_uuid === dpOf.get('h1'),
      `${t} served by the gateway h1`,
      { timeoutMs: 10_000, everyMs: 100 },
    );
  }
  for (const fip of [FIP_A2, FIP_A1]) {
    const r = await cluster.lab.waitPing('inet', fip, { timeoutMs: 10_000 });
    if (!r.ok) assert.fail(`inet -> ${fip} failed\n${r.output}\n${await cluster.diagnostics()}`);
  }
  // Who reaches whom: [from, to the floating address, the source the target sees].
  const cases: [string, string, string, string][] = [
    ['a2', FIP_A2, 'a2', FIP_A2], // its own, on the gateway
    ['b2', FIP_A2, 'a2', '192.168.10.12'], // same host (the gateway), another tenant, through its SNAT
    ['a1', FIP_A2, 'a2', FIP_A1], // another host (no uplink), both served on the gateway
    ['a2', FIP_A1, 'a1', FIP_A2], // the other way
    ['a1', FIP_A1, 'a1', FIP_A1], // its own, served on the gateway for a host without an uplink
    ['b1', FIP_A1, 'a1', '192.168.10.12'], // another host, another tenant, through its SNAT
    ['a3', FIP_A2, 'a2', '192.168.10.80'], // from a floating IP served on another host with an uplink (h2)
  ];
  const failed: string[] = [];
  for (const [from, fip, target, seenAs] of cases) {
    const r = await cluster.lab.waitPing(from, fip, { timeoutMs: 10_000 });
    if (!r.ok) {
      failed.push(`${from} -> ${fip}: no reply`);
      continue;
    }
    // The target sees the sender's floating address (or its tenant's gateway address); the sender sees the
    // reply come from the floating address it pinged.
    const atTarget = await cluster.lab.capture(target, 'eth0', 'icmp', () =>
      cluster.lab.ping(from, fip, { count: 2, intervalS: 0.1 }),
    );
    const fixed = VMS.find((v) => v.name === target)?.ip;
    if (!atTarget.lines.some((l) => l.includes(`${seenAs} > ${fixed}: ICMP echo request`)))
      failed.push(`${from} -> ${fip}: ${target} did not see ${seenAs} > ${fixed}:\n${atTarget.lines.join('\n')}`);
    const atSender = await cluster.lab.capture(from, 'eth0', 'icmp', () =>
      cluster.lab.ping(from, fip, { count: 2, intervalS: 0.1 }),
    );
    if (!atSender.lines.some((l) => l.includes(`${fip} > `) && l.includes('ICMP echo reply')))
      failed.push(`${from} -> ${fip}: the reply did not come from ${fip}:\n${atSender.lines.join('\n')}`);
  }
  // Gone again, so the tests after this one find a2 and a1 without floating IPs.
  for (const t of ['tr-a2gw', 'tr-a1gw']) await cluster.call('DELETE', `/translations/${t}`);
  if (failed.length > 0) assert.fail(`${failed.join('\n')}\n${await cluster.diagnostics()}`);
});

test('a don\'t-fragment ping too big for the tunnelled networks gets "fragmentation needed" (mtu 1450) from the edge', async () => {
  // a2 (on h1, which has an uplink) gets a floating IP; the internet host pings it with DF set.
  const FIP = '192.168.10.60';
  await cluster.call('POST', '/translations', { uuid: 'tr-a2', interface_uuid: 'if-a2' });
  await cluster.call('POST', '/translations/tr-a2/static_address', {
    ingress_ipv4_address: '10.0.0.11',
    egress_ipv4_address: FIP,
  });
  const fits = await cluster.lab.waitPing('inet', FIP, { timeoutMs: 10_000 });
  if (!fits.ok) assert.fail(`inet -> ${FIP} failed\n${fits.output}\n${await cluster.diagnostics()}`);
  // 1,450 bytes of IP fit the VM's MTU; 1,500 do not.
  const ok = await cluster.lab.exec('inet', [
    'ping',
    '-n',
    '-c',
    '3',
    '-i',
    '0.3',
    '-W',
    '2',
    '-M',
    'do',
    '-s',
    '1422',
    FIP,
  ]);
  assert.match(ok.stdout, /3 received/, ok.stdout + ok.stderr);
  // One byte too many is answered (the boundary), and so is a full 1,500.
  const over = await cluster.lab.exec('inet', ['ping', '-n', '-c', '1', '-W', '2', '-M', 'do', '-s', '1423', FIP]);
  assert.match(over.stdout + over.stderr, /Frag needed and DF set \(mtu = 1450\)/, `${over.stdout}${over.stderr}`);
  await cluster.lab.run('inet', ['ip', 'route', 'flush', 'cache']);
  const big = await cluster.lab.exec('inet', [
    'ping',
    '-n',
    '-c',
    '2',
    '-i',
    '0.5',
    '-W',
    '2',
    '-M',
    'do',
    '-s',
    '1472',
    FIP,
  ]);
  assert.match(
    big.stdout + big.stderr,
    /Frag needed and DF set \(mtu = 1450\)|message too long, mtu=1450/,
    `${big.stdout}${big.stderr}\n${await cluster.diagnostics()}`,
  );
  // The sender's kernel learned the path MTU from it.
  assert.match(await cluster.lab.run('inet', ['ip', 'route', 'get', FIP]), /mtu 1450/);
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
  await bad(`/datapaths/${dpOf.get('h3')}/networks/${EXTERNAL.uuid}`, { gateway_priority: 0 }, /gateway_priority/);
});

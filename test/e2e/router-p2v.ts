// Issue 17 item 3, shared by the two orderings: OpenVNet's router_p2v — a router on a physical (VLAN 10)
// network joined by a route link to two virtual networks. VMs on the physical network, on the virtual
// networks, and a host beyond the uplink all reach each other. The router is pinned to h1
// (owner_datapath_uuid), the one host that answers ARP for it on the segment.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { waitFor } from '../lib/wait-for.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const HOSTS = ['h1', 'h2'];
const NETS = [
  { uuid: 'nw-p', ipv4_network: '192.168.10.0', network_mode: 'physical', vlan_id: 10, router: '192.168.10.254' },
  { uuid: 'nw-v1', ipv4_network: '10.1.0.0', router: '10.1.0.254' },
  { uuid: 'nw-v2', ipv4_network: '10.2.0.0', router: '10.2.0.254' },
];
const VMS = [
  { name: 'p1', host: 'h2', network: 'nw-p', ip: '192.168.10.1', mac: '02:00:00:0a:00:01' },
  { name: 'v1', host: 'h1', network: 'nw-v1', ip: '10.1.0.1', mac: '02:00:00:01:00:01' },
  { name: 'v2', host: 'h2', network: 'nw-v2', ip: '10.2.0.1', mac: '02:00:00:02:00:01' },
];
const X = { name: 'x', ip: '192.168.10.100', mac: '02:00:00:ee:00:64' };
/** Every pair that must reach each other (x is the host beyond the uplink). */
const PAIRS: [string, string][] = [
  ['p1', '10.1.0.1'],
  ['p1', '10.2.0.1'],
  ['v1', '192.168.10.1'],
  ['v2', '192.168.10.1'],
  ['v1', '10.2.0.1'],
  ['v1', X.ip],
  ['v2', X.ip],
  ['p1', X.ip],
  ['x', '10.1.0.1'],
  ['x', '10.2.0.1'],
  ['x', '192.168.10.1'],
  // The router address itself, answered in the switch with the tag kept.
  ['x', '192.168.10.254'],
];

export function routerP2vSuite(order: 'agents-first' | 'api-first'): void {
  let cluster: Cluster;

  before(async () => {
    assertE2eEnvironment();
    const agentsFirst = order === 'agents-first';
    cluster = await Cluster.start({
      prefix: labPrefix(agentsFirst ? 'pva' : 'pvb'),
      hosts: HOSTS,
      startAgents: agentsFirst,
    });
    const lab = cluster.lab;
    const dpOf = new Map<string, string>();
    if (agentsFirst) for (const [host, dp] of await cluster.waitDatapaths()) dpOf.set(host, String(dp.uuid));
    else
      for (const h of HOSTS) {
        const host = lab.host(h);
        const dp = await cluster.call<{ uuid: string }>('POST', '/datapaths', {
          uuid: `dp-${h}`,
          dpid: host.dpid!,
          node_id: h,
          ipv4_address: host.underlayIp,
        });
        dpOf.set(h, dp.uuid);
      }
    for (const h of HOSTS) await lab.addUplink(h);
    await lab.addExternal({ name: X.name, ip: `${X.ip}/24`, vlan: 10, mac: X.mac, gateway: '192.168.10.254' });

    await cluster.call('POST', '/route_links', { uuid: 'rl-p2v' });
    for (const [k, n] of NETS.entries()) {
      const { router, ...net } = n;
      await cluster.call('POST', '/networks', net);
      const rif = `if-r${k}`;
      await cluster.call('POST', '/interfaces', {
        uuid: rif,
        mode: 'simulated',
        enable_routing: true,
        network_uuid: n.uuid,
        ipv4_address: router,
        mac_address: `02:00:10:00:00:0${k + 1}`,
        // The physical network's router is pinned: h1 alone answers ARP for it on the segment.
        ...(n.network_mode === 'physical' ? { owner_datapath_uuid: dpOf.get('h1')! } : {}),
      });
      await cluster.call('POST', '/routes', {
        interface_uuid: rif,
        route_link_uuid: 'rl-p2v',
        network_uuid: n.uuid,
        ipv4_network: n.ipv4_network,
        ipv4_prefix: 24,
      });
    }
    for (const h of HOSTS) {
      await cluster.call('POST', '/interfaces', {
        uuid: `if-up${h}`,
        mode: 'host',
        port_name: 'ext0',
        owner_datapath_uuid: dpOf.get(h)!,
      });
      // Each host's own MAC on the physical network (OpenVNet's per-datapath MAC): routed packets leave from it.
      await cluster.call('POST', `/datapaths/${dpOf.get(h)}/networks/nw-p`, {
        interface_uuid: `if-up${h}`,
        mac_address: `02:00:40:00:00:0${HOSTS.indexOf(h) + 1}`,
      });
    }
    // The host beyond the uplink, registered as OpenVNet does (mode remote): routers know its MAC.
    await cluster.call('POST', '/interfaces', {
      uuid: 'if-x',
      mode: 'remote',
      network_uuid: 'nw-p',
      ipv4_address: X.ip,
      mac_address: X.mac,
    });
    for (const v of VMS) {
      const uuid = `if-${v.name}`;
      await cluster.call('POST', '/interfaces', {
        uuid,
        network_uuid: v.network,
        ipv4_address: v.ip,
        mac_address: v.mac,
      });
      const gw = NETS.find((n) => n.uuid === v.network)!.router;
      await lab.addVm({ name: v.name, host: v.host, mac: v.mac, ip: `${v.ip}/24`, gateway: gw, port: uuid, mtu: 1450 });
    }
    if (!agentsFirst) for (const h of HOSTS) await cluster.startAgent(h);
  });

  after(async () => {
    await cluster?.down();
  });

  test(`router_p2v (${order}): agents converge, nothing reported wrong`, async () => {
    try {
      await cluster.waitInSync(20_000);
    } catch (err) {
      assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
    }
    for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, String(dp.last_error));
  });

  test(`router_p2v (${order}): the physical network, both virtual networks and the host beyond the uplink reach each other`, async () => {
    const failed: string[] = [];
    for (const [from, ip] of PAIRS) {
      const r = await cluster.lab.waitPing(from, ip, { timeoutMs: 10_000 });
      if (!r.ok) failed.push(`${from} -> ${ip}`);
    }
    if (failed.length > 0) assert.fail(`unreachable: ${failed.join(', ')}\n${await cluster.diagnostics()}`);
  });

  test(`router_p2v (${order}): exactly one host answers ARP for the router on the segment`, async () => {
    const lab = cluster.lab;
    await lab.run('x', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    const cap = await lab.capture('x', 'eth0', 'arp and arp[6:2] == 2', () =>
      lab.ping('x', '192.168.10.254', { count: 1, timeoutS: 2 }),
    );
    const replies = cap.lines.filter((l) => /192\.168\.10\.254 is-at/.test(l));
    assert.equal(replies.length, 1, `ARP replies for the router:\n${cap.lines.join('\n')}`);
    assert.match(replies[0]!, /02:00:10:00:00:01/);
  });

  test(`router_p2v (${order}): the segment learns the router MAC only at its pinned host, routed packets come from each host's own MAC`, async () => {
    const lab = cluster.lab;
    // v2 (h2) routes to x: from h2's own MAC, so the router MAC never shows up on h2's uplink.
    const seen = await lab.capture('x', 'eth0', 'icmp', () => lab.ping('v2', X.ip, { count: 2, intervalS: 0.1 }));
    assert.equal(seen.result.received, 2, seen.result.output);
    const seg = lab.segmentOvs();
    const portOf = async (name: string) => (await seg.vsctl('get', 'Interface', name, 'ofport')).trim();
    const fdb = await seg.appctl('fdb/show', 'seg');
    const router = fdb.split('\n').filter((l) => l.includes('02:00:10:00:00:01'));
    assert.equal(router.length, 1, `router MAC in the segment's table:\n${fdb}`);
    assert.equal(router[0]!.trim().split(/\s+/)[0], await portOf('up-h1'), `router MAC not at h1's uplink:\n${fdb}`);
    const h2mac = fdb.split('\n').filter((l) => l.includes('02:00:40:00:00:02'));
    assert.equal(h2mac[0]?.trim().split(/\s+/)[0], await portOf('up-h2'), `h2's own MAC not at h2's uplink:\n${fdb}`);
  });

  test(`floating IP (${order}): the host beyond the uplink reaches v1 at it, and sees it as v1's source`, async () => {
    const lab = cluster.lab;
    const FIP = '192.168.10.50';
    // The floating IP is announced on the segment (gratuitous ARP from v1's MAC) once its flows are in.
    const v1mac = VMS.find((v) => v.name === 'v1')!.mac;
    const garp = await lab.capture('x', 'eth0', `arp and ether src ${v1mac} and arp[6:2] == 1`, async () => {
      await cluster.call('POST', '/translations', { uuid: 'tr-v1', interface_uuid: 'if-v1' });
      await cluster.call('POST', '/translations/tr-v1/static_address', {
        ingress_ipv4_address: '10.1.0.1',
        egress_ipv4_address: FIP,
      });
      await new Promise((r) => setTimeout(r, 1500));
    });
    assert.ok(
      garp.lines.some((l) => l.includes(FIP)),
      `no gratuitous ARP for ${FIP} seen at x:\n${garp.lines.join('\n')}\n${await cluster.diagnostics()}`,
    );
    const inbound = await lab.waitPing('x', FIP, { timeoutMs: 10_000 });
    if (!inbound.ok)
      assert.fail(`x -> ${FIP} (v1's floating IP) got no reply\n${inbound.output}\n${await cluster.diagnostics()}`);
    const seen = await lab.capture('x', 'eth0', 'icmp', () => lab.ping('v1', X.ip, { count: 2, intervalS: 0.1 }));
    assert.equal(seen.result.received, 2, seen.result.output);
    assert.ok(
      seen.lines.some((l) => l.includes(`${FIP} > ${X.ip}`)),
      `x saw:\n${seen.lines.join('\n')}`,
    );
    assert.ok(!seen.lines.some((l) => l.includes('10.1.0.1 >')), `v1's own address leaked:\n${seen.lines.join('\n')}`);

    // Removing the translation stops inbound at once; v1 goes out from its own address again (routed).
    await cluster.call('DELETE', '/translations/tr-v1');
    await waitFor(
      async () => (await lab.ping('x', FIP, { count: 1, timeoutS: 1 })).received === 0,
      `x to stop reaching ${FIP} after the translation was removed`,
      { timeoutMs: 5000 },
    );
    const after = await lab.capture('x', 'eth0', 'icmp', () => lab.waitPing('v1', X.ip, { timeoutMs: 5000 }));
    assert.ok(
      after.lines.some((l) => l.includes(`10.1.0.1 > ${X.ip}`)),
      `x saw:\n${after.lines.join('\n')}`,
    );
  });

  test(`floating IP (${order}): the internet host beyond the upstream router sees the floating address and reaches it`, async () => {
    const lab = cluster.lab;
    const FIP = '192.168.10.51';
    const { router, inet } = await lab.addInternet({ router: { ip: '192.168.10.2/24', vlan: 10 } });
    // The upstream router, registered as OpenVNet does (mode remote), and the default route through it.
    await cluster.call('POST', '/interfaces', {
      uuid: 'if-upstream',
      mode: 'remote',
      network_uuid: 'nw-p',
      ipv4_address: '192.168.10.2',
      mac_address: router.mac,
    });
    await cluster.call('POST', '/routes', {
      uuid: 'r-default',
      interface_uuid: 'if-r0',
      route_link_uuid: 'rl-p2v',
      network_uuid: 'nw-p',
      ipv4_network: '0.0.0.0',
      ipv4_prefix: 0,
      gateway_ipv4_address: '192.168.10.2',
    });
    await cluster.call('POST', '/translations', { uuid: 'tr-v2', interface_uuid: 'if-v2' });
    await cluster.call('POST', '/translations/tr-v2/static_address', {
      ingress_ipv4_address: '10.2.0.1',
      egress_ipv4_address: FIP,
    });
    const out = await lab.waitPing('v2', inet.ip!, { timeoutMs: 10_000 });
    if (!out.ok)
      assert.fail(
        `v2 -> ${inet.ip} (through the upstream router) failed\n${out.output}\n${await cluster.diagnostics()}`,
      );
    const seen = (await lab.run('v2', ['curl', '-s', '--max-time', '5', inet.url])).trim();
    assert.equal(seen, FIP, 'the internet host must see the floating address');
    const back = await lab.waitPing('inet', FIP, { timeoutMs: 10_000 });
    if (!back.ok) assert.fail(`inet -> ${FIP} failed\n${back.output}\n${await cluster.diagnostics()}`);
    // Where it is active: v2's host reported itself.
    const dpH2 = (await cluster.datapaths()).find((d) => d.node_id === 'h2' || d.reported_node_id === 'h2')!;
    await waitFor(
      async () =>
        (await cluster.call<{ active_datapath_uuid: string | null }>('GET', '/translations/tr-v2'))
          .active_datapath_uuid === dpH2.uuid,
      `tr-v2 to be reported active at ${dpH2.uuid}`,
      { timeoutMs: 5000, everyMs: 100 },
    );
  });

  test(`floating IP (${order}): kill -9 of the agent on the VM's host under traffic to its floating IP loses nothing`, async () => {
    // Continues the previous test's layout: v2 (h2) has 192.168.10.51. 10 pings per second from the internet
    // host for 6 s while h2's agent is killed and restarted: its flows stay in the switch meanwhile.
    const lab = cluster.lab;
    const pinging = lab.exec('inet', ['ping', '-n', '-q', '-i', '0.1', '-c', '60', '-W', '1', '192.168.10.51']);
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.stopAgent('h2', 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await cluster.startAgent('h2');
    const r = await pinging;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    if (m?.[1] !== '60' || m[2] !== '60')
      assert.fail(
        `ping to the floating IP lost packets across the restart: ${r.stdout}\n${await cluster.diagnostics()}`,
      );
    await cluster.waitInSync(20_000);
    for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, String(dp.last_error));
  });
}

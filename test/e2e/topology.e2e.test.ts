// Issue 19 item 3: topologies on two hosts with real OVS. OpenVNet's simple_nw (two networks with the same
// addresses, a VM of each on each host) is run first with hand-written datapath_networks rows, then provisioned
// through a simple_overlay on a simple_underlay (OpenVNet's base_topology + simple_nw_tp) with no row written by
// hand: the same matrix. Then OpenVNet's event_nw_tp: removing a network from the topology withdraws it (its VMs
// no longer reach each other, the other network's still do), re-adding it, deleting the topology and
// recreating it each converge. Last OpenVNet's router_v2v, with rows by hand and then as router_v2v_tp through
// the topology: the same routed matrix.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

interface NwVm {
  name: string;
  uuid: string;
  network: string;
  host: string;
  mac: string;
  ip: string;
}

const VMS: NwVm[] = [
  { name: 'v1', uuid: 'if-v1', network: 'nw-vnet1', host: 'h1', mac: '02:00:00:00:00:01', ip: '10.101.0.10' },
  { name: 'v2', uuid: 'if-v2', network: 'nw-vnet2', host: 'h1', mac: '02:00:00:00:00:02', ip: '10.101.0.10' },
  { name: 'v3', uuid: 'if-v3', network: 'nw-vnet1', host: 'h2', mac: '02:00:00:00:00:03', ip: '10.101.0.11' },
  { name: 'v4', uuid: 'if-v4', network: 'nw-vnet2', host: 'h2', mac: '02:00:00:00:00:04', ip: '10.101.0.11' },
];
const NETWORKS = ['nw-vnet1', 'nw-vnet2'];

let cluster: Cluster;
let dps: Map<string, Record<string, unknown>>;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('topo'), hosts: ['h1', 'h2'], encap: 'gre' });
  dps = await cluster.waitDatapaths();
  for (const uuid of NETWORKS) await cluster.call('POST', '/networks', { uuid, ipv4_network: '10.101.0.0' });
  // Each host's interface for the underlay (OpenVNet's if-dpNeth0): a host interface of its datapath, on a
  // port of its bridge (an internal port: the VMs' traffic crosses hosts through the tunnels, never through it).
  for (const [h, dp] of dps) {
    const host = cluster.lab.host(h);
    await host.vsctl('add-port', host.bridge, `${h}eth0`, '--', 'set', 'Interface', `${h}eth0`, 'type=internal');
    await host.run(['ip', 'link', 'set', `${h}eth0`, 'up']);
    await cluster.call('POST', '/interfaces', {
      uuid: `if-${h}eth0`,
      mode: 'host',
      owner_datapath_uuid: dp.uuid,
      port_name: `${h}eth0`,
    });
  }
  // simple_nw as OpenVNet's dataset has it: rows written by hand.
  for (const dp of dps.values())
    for (const nw of NETWORKS) await cluster.call('POST', `/datapaths/${dp.uuid}/networks/${nw}`, {});
  for (const v of VMS) await addNwVm(v, null);
});

/** A VM's interface (a vif on its network) through the API, and the VM with its address (and gateway) set. */
async function addNwVm(v: NwVm, gateway: string | null): Promise<void> {
  await cluster.call('POST', '/interfaces', {
    uuid: v.uuid,
    mode: 'vif',
    port_name: v.uuid,
    network_uuid: v.network,
    mac_address: v.mac,
    ipv4_address: v.ip,
  });
  await cluster.lab.addVm({ name: v.name, host: v.host, mac: v.mac, ip: `${v.ip}/24`, gateway, port: v.uuid });
}

after(async () => {
  await cluster?.down();
});

async function reaches(from: string, dstIp: string): Promise<boolean> {
  // Generous: a withdrawal or a re-provisioning is one feed change and one agent pass away, on a loaded machine.
  return (await cluster.lab.waitPing(from, dstIp, { timeoutMs: 20_000 })).ok;
}

async function unreachable(from: string, dstIp: string): Promise<boolean> {
  // Waits until a withdrawal took effect (no reply to 2 echoes in a row), up to 20 s.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await cluster.lab.ping(from, dstIp, { count: 2, intervalS: 0.2, timeoutS: 1 });
    if (r.received === 0) return true;
    if (Date.now() > deadline) return false;
  }
}

/** OpenVNet's simple examples: each network's VMs reach each other across hosts, never the other network's. */
async function matrix(): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const [from, to] of [
    ['v1', 'v3'],
    ['v2', 'v4'],
    ['v3', 'v1'],
    ['v4', 'v2'],
  ] as const) {
    const dst = VMS.find((v) => v.name === to)!;
    out[`${from}->${to}`] = await reaches(from, dst.ip);
    if (out[`${from}->${to}`]) {
      // Same address in both networks: the answer came from the sender's own network.
      const neigh = await cluster.lab.run(from, ['ip', 'neigh', 'show', dst.ip]);
      out[`${from}->${to} by ${to}'s MAC`] = neigh.includes(dst.mac);
    }
  }
  return out;
}

const ALL_OK = {
  'v1->v3': true,
  "v1->v3 by v3's MAC": true,
  'v2->v4': true,
  "v2->v4 by v4's MAC": true,
  'v3->v1': true,
  "v3->v1 by v1's MAC": true,
  'v4->v2': true,
  "v4->v2 by v2's MAC": true,
};

async function rowsOfTopology(topo: string): Promise<string[]> {
  const r = await cluster.call<{ items: Record<string, unknown>[] }>('GET', '/datapaths?limit=100');
  const out: string[] = [];
  for (const dp of r.items) {
    const rows = await cluster.call<{ items: Record<string, unknown>[] }>('GET', `/datapaths/${dp.uuid}/networks`);
    for (const row of rows.items) if (row.topology_uuid === topo) out.push(String(row.uuid));
  }
  return out.sort();
}

test('simple_nw with datapath rows written by hand: the matrix', async () => {
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  assert.deepEqual(await matrix(), ALL_OK, await cluster.diagnostics());
});

test('the same set-up provisioned through a topology (no row by hand) gives the same matrix', async () => {
  for (const dp of dps.values())
    for (const nw of NETWORKS) await cluster.call('DELETE', `/datapaths/${dp.uuid}/networks/${nw}`);
  await cluster.call('POST', '/topologies', { uuid: 'topo-physical', mode: 'simple_underlay' });
  await cluster.call('POST', '/topologies', { uuid: 'topo-vnet', mode: 'simple_overlay' });
  await cluster.call('POST', '/topologies/topo-vnet/underlays/topo-physical');
  for (const [h, dp] of dps)
    await cluster.call('POST', `/topologies/topo-physical/datapaths/${dp.uuid}`, { interface_uuid: `if-${h}eth0` });
  for (const nw of NETWORKS) await cluster.call('POST', `/topologies/topo-vnet/networks/${nw}`);
  const expected = [...dps.values()].flatMap((dp) => NETWORKS.map((nw) => `${dp.uuid}/${nw}`)).sort();
  assert.deepEqual(await rowsOfTopology('topo-vnet'), expected);
  assert.deepEqual(await matrix(), ALL_OK, await cluster.diagnostics());
});

test('event_nw_tp: removing nw-vnet1 from the topology withdraws it; nw-vnet2 keeps working', async () => {
  await cluster.call('DELETE', '/topologies/topo-vnet/networks/nw-vnet1');
  assert.ok(await unreachable('v1', '10.101.0.11'), `v1 still reaches v3\n${await cluster.diagnostics()}`);
  assert.ok(await unreachable('v3', '10.101.0.10'), 'v3 still reaches v1');
  assert.ok(await reaches('v2', '10.101.0.11'), `v2 no longer reaches v4\n${await cluster.diagnostics()}`);
});

test('event_nw_tp: re-adding it converges to the full matrix', async () => {
  await cluster.call('POST', '/topologies/topo-vnet/networks/nw-vnet1');
  assert.deepEqual(await matrix(), ALL_OK, await cluster.diagnostics());
});

test('event_nw_tp: deleting the topology withdraws both networks; recreating it restores them', async () => {
  await cluster.call('DELETE', '/topologies/topo-vnet');
  assert.deepEqual(await rowsOfTopology('topo-vnet'), []);
  assert.ok(await unreachable('v1', '10.101.0.11'), 'v1 still reaches v3');
  assert.ok(await unreachable('v2', '10.101.0.11'), 'v2 still reaches v4');
  for (const v of VMS) await cluster.lab.run(v.name, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  await cluster.call('POST', '/topologies', { uuid: 'topo-vnet', mode: 'simple_overlay' });
  await cluster.call('POST', '/topologies/topo-vnet/underlays/topo-physical');
  for (const nw of NETWORKS) await cluster.call('POST', `/topologies/topo-vnet/networks/${nw}`);
  assert.deepEqual(await matrix(), ALL_OK, await cluster.diagnostics());
  const dpList = await cluster.datapaths();
  for (const dp of dpList) assert.equal(dp.last_error, null, `${dp.node_id}: ${dp.last_error}`);
});

// OpenVNet's router_v2v and router_v2v_tp: two networks joined by a route link (a routing simulated interface and
// a route in each), a VM of each network on each host; every VM reaches every other, in its own network and
// routed into the other, on its host and across the tunnel. First with the datapath_networks and
// datapath_route_links rows written by hand (router_v2v), then with none: the networks and the route link put on
// the overlay topology (router_v2v_tp). The hosts are in topo-physical from the tests above, so a network is
// carried there only where it has a row.
const RT_NETWORKS = [
  { uuid: 'nw-rt1', net: '10.121.0', router: 'if-router1', mac: '02:00:00:00:02:01', route: 'r-1' },
  { uuid: 'nw-rt2', net: '10.122.0', router: 'if-router2', mac: '02:00:00:00:02:02', route: 'r-2' },
];
const RT_VMS: NwVm[] = [
  { name: 'w1', uuid: 'if-w1', network: 'nw-rt1', host: 'h1', mac: '02:00:00:00:01:11', ip: '10.121.0.10' },
  { name: 'w2', uuid: 'if-w2', network: 'nw-rt2', host: 'h1', mac: '02:00:00:00:01:12', ip: '10.122.0.10' },
  { name: 'w3', uuid: 'if-w3', network: 'nw-rt1', host: 'h2', mac: '02:00:00:00:01:13', ip: '10.121.0.11' },
  { name: 'w4', uuid: 'if-w4', network: 'nw-rt2', host: 'h2', mac: '02:00:00:00:01:14', ip: '10.122.0.11' },
];

/** Every ordered pair of the router VMs: reached or not (a ping, waiting for convergence). */
async function routerMatrix(): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const a of RT_VMS)
    for (const b of RT_VMS) if (a !== b) out[`${a.name}->${b.name}`] = await reaches(a.name, b.ip);
  return out;
}
const RT_ALL_OK = Object.fromEntries(
  RT_VMS.flatMap((a) => RT_VMS.filter((b) => b !== a).map((b) => [`${a.name}->${b.name}`, true])),
);

test('router_v2v with datapath_networks and datapath_route_links rows by hand: every VM reaches every other', async () => {
  await cluster.call('POST', '/route_links', { uuid: 'rl-1', mac_address: '02:00:31:00:00:01' });
  for (const n of RT_NETWORKS) {
    await cluster.call('POST', '/networks', { uuid: n.uuid, ipv4_network: `${n.net}.0`, ipv4_prefix: 24 });
    await cluster.call('POST', '/interfaces', {
      uuid: n.router,
      mode: 'simulated',
      network_uuid: n.uuid,
      mac_address: n.mac,
      ipv4_address: `${n.net}.1`,
      enable_routing: true,
    });
    await cluster.call('POST', '/routes', {
      uuid: n.route,
      interface_uuid: n.router,
      network_uuid: n.uuid,
      route_link_uuid: 'rl-1',
      ipv4_network: `${n.net}.0`,
    });
  }
  for (const dp of dps.values()) {
    for (const n of RT_NETWORKS) await cluster.call('POST', `/datapaths/${dp.uuid}/networks/${n.uuid}`, {});
    await cluster.call('POST', `/datapaths/${dp.uuid}/route_links/rl-1`, {});
  }
  for (const v of RT_VMS) await addNwVm(v, `${v.ip.slice(0, v.ip.lastIndexOf('.'))}.1`);
  assert.deepEqual(await routerMatrix(), RT_ALL_OK, await cluster.diagnostics());
});

test('router_v2v_tp: the same networks and route link through the overlay topology, no row by hand: the same matrix', async () => {
  for (const dp of dps.values()) {
    for (const n of RT_NETWORKS) await cluster.call('DELETE', `/datapaths/${dp.uuid}/networks/${n.uuid}`);
    await cluster.call('DELETE', `/datapaths/${dp.uuid}/route_links/rl-1`);
  }
  // Without rows, the hosts of the underlay carry neither network: no VM reaches one on the other host.
  assert.ok(await unreachable('w1', '10.121.0.11'), `w1 still reaches w3 with no row\n${await cluster.diagnostics()}`);
  for (const n of RT_NETWORKS) await cluster.call('POST', `/topologies/topo-vnet/networks/${n.uuid}`);
  await cluster.call('POST', '/topologies/topo-vnet/route_links/rl-1');
  const rows = async (kind: 'networks' | 'route_links') => {
    const out: string[] = [];
    for (const dp of dps.values()) {
      const r = await cluster.call<{ items: Record<string, unknown>[] }>('GET', `/datapaths/${dp.uuid}/${kind}`);
      for (const row of r.items) if (row.topology_uuid === 'topo-vnet') out.push(String(row.uuid));
    }
    return out.sort();
  };
  const uuids = [...dps.values()].map((dp) => String(dp.uuid));
  assert.deepEqual(
    await rows('networks'),
    uuids.flatMap((dp) => [...NETWORKS, ...RT_NETWORKS.map((n) => n.uuid)].map((nw) => `${dp}/${nw}`)).sort(),
  );
  assert.deepEqual(await rows('route_links'), uuids.map((dp) => `${dp}/rl-1`).sort());
  assert.deepEqual(await routerMatrix(), RT_ALL_OK, await cluster.diagnostics());
  for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, `${dp.node_id}: ${dp.last_error}`);
});

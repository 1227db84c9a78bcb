// A lab with OpenVNet's dataset loaded the way OpenVNet's harness loads it (src/openvnet/dataset.ts over our
// counterpart fixtures in test/fixtures/openvnet/): base, then base_dp or base_topology, then the dataset. The
// agents do not register: they wait for the datapaths the dataset declares with their bridges' dpids.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Cluster } from '../../src/demo/cluster.js';
import { applyDataset, loadDataset } from '../../src/openvnet/dataset.js';
import { labPrefix } from './helpers.js';

export const OPENVNET_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'openvnet');
const UPLINK_PORT = 'upl0';
/** base.yml's three hosts; a lab may run fewer (a datapath without its host then simply has no agent). */
const BASE_HOSTS = ['h1', 'h2', 'h3'];

/** The cluster's server wants the admin token (it listens on all addresses); applyDataset sends raw requests. */
export function authHeaders(cluster: Cluster): Record<string, string> {
  return cluster.adminToken ? { authorization: `Bearer ${cluster.adminToken}` } : {};
}

/** The values of base.yml's placeholders in this lab. */
export function labDatasetOptions(cluster: Cluster): Record<string, string> {
  const [underlay, prefix] = cluster.lab.underlay.split('/') as [string, string];
  const net = underlay.replace(/\.0$/, '');
  const address = (h: string, i: number) =>
    cluster.lab.hosts().some((x) => x.name === h) ? cluster.lab.host(h).underlayIp : `${net}.${240 + i}`;
  return {
    // Each host's uplink (a `host` interface) carries its underlay address, which is OpenVNet's tunnel endpoint.
    uplink_port: UPLINK_PORT,
    uplink_a_network: underlay,
    uplink_a_prefix: prefix,
    uplink_b_network: underlay,
    uplink_b_prefix: prefix,
    uplink_a_dhcp: `${net}.250`,
    uplink_b_dhcp: `${net}.251`,
    ...Object.fromEntries(BASE_HOSTS.map((h, i) => [`${h}_address`, address(h, i)])),
  };
}

/** Loads one dataset (with base and base_dp/base_topology) into the cluster; every call must be accepted. */
export async function applyFixtureDataset(cluster: Cluster, name: string): Promise<void> {
  const calls = loadDataset(OPENVNET_FIXTURES, name, labDatasetOptions(cluster));
  const replies = await applyDataset(cluster.api, calls, { headers: authHeaders(cluster) });
  assert.deepEqual(
    replies
      .filter((r) => r.status < 200 || r.status > 299)
      .map((r) => `${r.call.method} ${r.call.path} -> ${r.status} ${r.body}`),
    [],
    `every call of ${name} is accepted`,
  );
  assert.equal(replies.length, calls.length);
}

/** A lab of `hosts` (of base.yml's h1..h3) on GRE whose agents wait for the dataset, and the dataset loaded. */
export async function startOpenVnetLab(tag: string, hosts: string[], dataset: string): Promise<Cluster> {
  const cluster = await Cluster.start({ prefix: labPrefix(tag), hosts, encap: 'gre', register: false });
  try {
    // OpenVNet's hosts put their NIC on the bridge as the uplink; the lab's underlay is on br-phy, so each host's
    // uplink port is an internal port of the integration bridge that leads nowhere: bound, and carrying nothing.
    for (const h of hosts) {
      const host = cluster.lab.host(h);
      await host.vsctl('add-port', host.bridge, UPLINK_PORT, '--', 'set', 'Interface', UPLINK_PORT, 'type=internal');
      await cluster.lab.run(h, ['ip', 'link', 'set', UPLINK_PORT, 'up']);
    }
    await applyFixtureDataset(cluster, dataset);
    return cluster;
  } catch (err) {
    await cluster.down();
    throw err;
  }
}

/** Waits until a withdrawal took effect: two echoes in a row from `from` to `dst` unanswered, within 20 s. */
export async function assertWithdrawn(cluster: Cluster, from: string, dst: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await cluster.lab.ping(from, dst, { count: 2, intervalS: 0.2, timeoutS: 1 });
    if (r.received === 0) return;
    if (Date.now() > deadline) assert.fail(`${from} still reaches ${dst}\n${await cluster.diagnostics()}`);
  }
}

// OpenVNet's event_tp on real OVS: our routed_tp dataset (OpenVNet's router_v2v_tp/event_tp: two networks joined by
// a route link, both and the link placed through the overlay topology), loaded with base + base_topology through
// the converter into two hosts whose agents wait for the dataset's datapaths (no --register). A VM of each network,
// one per host, reach each other through the route link; then, as event_tp does, the first host's datapath is
// deleted: its VM reaches nothing any more, and nothing reaches it. (event_tp's second half, re-adding the host as
// a new datapath, is commented out in OpenVNet's own spec.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Cluster } from '../../src/demo/cluster.js';
import { assertE2eEnvironment } from './helpers.js';
import { assertWithdrawn, startOpenVnetLab } from './openvnet-lab.js';

const VMS = [
  { name: 'r1', uuid: 'if-r1', host: 'h1', mac: '52:54:00:72:01:01', ip: '10.61.0.31', gateway: '10.61.0.254' },
  { name: 'r2', uuid: 'if-r2', host: 'h2', mac: '52:54:00:72:02:02', ip: '10.62.0.31', gateway: '10.62.0.254' },
];

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await startOpenVnetLab('ortp', ['h1', 'h2'], 'routed_tp');
  for (const v of VMS)
    await cluster.lab.addVm({
      name: v.name,
      host: v.host,
      mac: v.mac,
      ip: `${v.ip}/24`,
      gateway: v.gateway,
      port: v.uuid,
    });
});

after(async () => {
  await cluster?.down();
});

async function assertReaches(from: string, dst: string): Promise<void> {
  const r = await cluster.lab.waitPing(from, dst, { timeoutMs: 20_000 });
  if (!r.ok) assert.fail(`${from} -> ${dst} got no reply\n${r.output}\n${await cluster.diagnostics()}`);
}

test('router_v2v_tp: the route link and both networks come from the topology; the VMs reach each other', async () => {
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  for (const dp of ['dp-h1', 'dp-h2']) {
    const rows = await cluster.call<{ items: Record<string, unknown>[] }>('GET', `/datapaths/${dp}/route_links`);
    assert.deepEqual(
      rows.items.map((r) => `${r.uuid} ${r.topology_uuid}`),
      [`${dp}/rl-ns topo-over`],
    );
  }
  await assertReaches('r1', VMS[1]!.ip);
  await assertReaches('r2', VMS[0]!.ip);
});

test("event_tp: deleting the first host's datapath cuts its VM off", async () => {
  await cluster.call('DELETE', '/datapaths/dp-h1');
  await assertWithdrawn(cluster, 'r1', VMS[1]!.ip);
  await assertWithdrawn(cluster, 'r2', VMS[0]!.ip);
  const dps = await cluster.datapaths();
  assert.equal(
    dps.find((d) => d.uuid === 'dp-h1'),
    undefined,
  );
  assert.equal(dps.find((d) => d.uuid === 'dp-h2')?.last_error, null);
});

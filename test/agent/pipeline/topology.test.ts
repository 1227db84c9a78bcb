// Topologies in the agent, packet by packet through simulated switches: a datapath an underlay lists carries exactly
// the networks its datapath_networks rows name (the rows the server derives from the topologies); a datapath no
// topology lists keeps vnet's rule (a network is wherever it has a port).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeFlows } from '../../../src/agent/pipeline/flows.js';
import { buildModelView } from '../../../src/agent/pipeline/model-view.js';
import { carries } from '../../../src/agent/pipeline/topology-placement.js';
import { Fabric, icmpEcho } from './fabric.js';
import { DP1, DP2, DP3, localFor, seedResources, seedVms } from './fixtures.js';

/** The seed spread over two hosts: veth1 (net1 .1) on dp-1, veth2 (net1 .2) on dp-2, and so on. */
const VMS = seedVms((n) => (n % 2 ? DP1 : DP2));
const vm = (uuid: string) => VMS.find((v) => v.uuid === uuid)!;
const ping = (a: string, b: string) => icmpEcho(vm(a).mac, vm(a).ip, vm(b).mac, vm(b).ip);
const to = (r: { deliveries: { to: string }[] }) => r.deliveries.map((d) => d.to).sort();

const underlay = (dps: string[]) => ({
  uuid: 'topo-u',
  mode: 'simple_underlay' as const,
  datapaths: dps.map((d) => ({ datapath_uuid: d, interface_uuid: `if-${d}eth0` })),
  networks: [],
  segments: [],
  route_links: [],
  mac_range_groups: [],
  underlays: [],
});
const row = (dp: string, nw: string) => ({
  uuid: `${dp}/${nw}`,
  datapath_uuid: dp,
  network_uuid: nw,
  topology_uuid: 'topo-o',
});

function fabric(topologyDps: string[], rows: [string, string][]) {
  const res = seedResources(VMS);
  res.topologies = topologyDps.length ? [underlay(topologyDps)] : [];
  res.datapath_networks = rows.map(([dp, nw]) => row(dp, nw));
  return new Fabric(res, VMS, [DP1, DP2, DP3]);
}

describe('topology placement', () => {
  test('no topology: a network is wherever it has a port (rows or not)', () => {
    const fab = fabric([], []);
    assert.deepEqual(to(fab.send('if-veth1', ping('if-veth1', 'if-veth2'))), ['if-veth2']);
  });

  test("datapaths an underlay lists, with the network's rows: delivered across hosts", () => {
    const fab = fabric(
      [DP1, DP2],
      [
        [DP1, 'nw-net1'],
        [DP2, 'nw-net1'],
      ],
    );
    assert.deepEqual(to(fab.send('if-veth1', ping('if-veth1', 'if-veth2'))), ['if-veth2']);
    assert.deepEqual(to(fab.send('if-veth2', ping('if-veth2', 'if-veth1'))), ['if-veth1']);
    // net3 (same addresses) has no rows: not carried on either host.
    assert.deepEqual(to(fab.send('if-veth5', ping('if-veth5', 'if-veth6'))), []);
  });

  test('without its rows (removed from the topology) the network is withdrawn from those hosts', () => {
    const fab = fabric([DP1, DP2], [[DP1, 'nw-net1']]);
    assert.deepEqual(to(fab.send('if-veth1', ping('if-veth1', 'if-veth2'))), [], 'dp-2 does not carry net1');
    const view = fab.view;
    assert.equal(carries(view, DP1, 'network', 'nw-net1'), true);
    assert.equal(carries(view, DP2, 'network', 'nw-net1'), false);
    assert.equal(carries(view, DP3, 'network', 'nw-net1'), true, 'dp-3 is in no topology');
    // No flow of net1's on dp-2 at all (its tunnel key is not mapped there).
    const flows = computeFlows(buildModelView(seedResources(VMS)), localFor(DP2, VMS));
    const placed = fab.flows.get(DP2)!;
    assert.ok(flows.length > placed.length, `${flows.length} flows without topology, ${placed.length} with`);
  });
});

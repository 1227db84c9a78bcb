// Promiscuous ports (OpenVNet's PROMISCUOUS_PORT) followed packet by packet through simulated switches: an outside
// L2 network behind port 31 of dp-1 bridged into nw-net1 (and, below, into a segment), VMs of net1 on dp-1 and dp-2,
// net3 reusing net1's addresses beside it. The outside machines' MACs are learned with learn() on dp-1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCookie, isLearned } from '../../../src/agent/pipeline/cookies.js';
import { diffFlows } from '../../../src/agent/pipeline/diff.js';
import { LEARNED_MAC_IDLE_TIMEOUT } from '../../../src/agent/pipeline/flows-promiscuous.js';
import { TABLE } from '../../../src/agent/pipeline/tables.js';
import { arpRequest, BCAST, Fabric, icmpEcho } from './fabric.js';
import { computeFlows } from '../../../src/agent/pipeline/flows.js';
import { buildModelView, type FeedResources } from '../../../src/agent/pipeline/model-view.js';
import { SimSwitch } from '../../../src/agent/pipeline/simulate.js';
import { datapathItems, DP1, DP2, DP3, iface, localFor, NET, seedResources, seedVms, type VmSpec } from './fixtures.js';

/** The promiscuous port: ofport 31 on dp-1 (a VmSpec only so the fabric gives it a port and names deliveries). */
const PROM: VmSpec = { uuid: 'if-p31', network: NET.net1.uuid, ip: '0.0.0.0', mac: '00:00:00:00:00:00', dp: DP1 };
/** Machines of the outside network: their frames enter on port 31. */
const OUT1 = { mac: '02:aa:00:00:00:01', ip: '172.16.1.101' };
const OUT2 = { mac: '02:aa:00:00:00:02', ip: '172.16.1.102' };

/** As the server stores one after POST mode=promiscuous and the static PUT: a network (or segment), no MAC, no IP. */
function promIface(into: { network?: string; segment?: string }, learn = true) {
  return {
    iface: {
      ...iface(PROM.uuid, 'promiscuous', into.network ?? '', '', null, { owner_datapath_uuid: DP1 }),
      network_uuid: into.network ?? null,
      segment_uuid: into.segment ?? null,
      mac_address: null,
      mac_leases: [],
    },
    learn,
  };
}

function fabric(opts: { learn?: boolean; extraVms?: VmSpec[] } = {}) {
  // veth1 (net1) and veth5 (net3, same address) on dp-1; veth2 (net1), veth6 (net3) on dp-2; the rest on dp-3.
  const place = (n: number) => (n === 1 || n === 5 ? DP1 : n === 2 || n === 6 ? DP2 : DP3);
  const vms = [...seedVms(place), ...(opts.extraVms ?? [])];
  const res = seedResources(vms);
  const p = promIface({ network: NET.net1.uuid }, opts.learn ?? true);
  (res.interfaces as unknown[]).push(p.iface);
  if (!p.learn)
    res.datapaths = (res.datapaths as Record<string, unknown>[]).map((d) =>
      d.uuid === DP1 ? { ...d, enable_ovs_learn_action: false } : d,
    );
  return new Fabric(res, [...vms, PROM], [DP1, DP2, DP3]);
}

const to = (r: { deliveries: { to: string }[] }) => r.deliveries.map((d) => d.to).sort();
const vm = (uuid: string) => seedVms().find((v) => v.uuid === uuid)!;
const fromOutside = (o: typeof OUT1, dst: string | bigint, dstIp: string) => icmpEcho(o.mac, o.ip, dst, dstIp);
const learned = (fab: Fabric) =>
  fab.switches
    .get(DP1)!
    .installed()
    .filter((f) => isLearned(f.cookie));

describe('a promiscuous port bridging an outside network into a virtual network', () => {
  test('ARP from a VM on either host reaches the outside (flooded to the port); the switch answers for VMs', () => {
    const fab = fabric();
    assert.deepEqual(to(fab.send('if-veth2', arpRequest(vm('if-veth2').mac, '172.16.1.2', OUT1.ip))), [
      'if-p31',
      'if-veth1',
    ]);
    assert.deepEqual(to(fab.send('if-veth1', arpRequest(vm('if-veth1').mac, '172.16.1.1', OUT1.ip))), [
      'if-p31',
      'if-veth2',
    ]);
    // An outside machine asking for a VM's address is answered from the model, out of the port it asked on.
    const r = fab.send('if-p31', arpRequest(OUT1.mac, OUT1.ip, '172.16.1.2'));
    assert.equal(r.deliveries.length, 1);
    assert.equal(r.deliveries[0]!.to, 'if-p31');
    assert.equal(r.deliveries[0]!.packet.arp_op, 2n);
  });

  test('frames from the outside reach VMs of the network here and over the tunnel, never another network', () => {
    const fab = fabric();
    assert.deepEqual(to(fab.send('if-p31', fromOutside(OUT1, vm('if-veth1').mac, '172.16.1.1'))), ['if-veth1']);
    assert.deepEqual(to(fab.send('if-p31', fromOutside(OUT1, vm('if-veth2').mac, '172.16.1.2'))), ['if-veth2']);
    // net3's VMs have net1's addresses: by their MACs nothing arrives, and an outside broadcast stays in net1.
    assert.deepEqual(to(fab.send('if-p31', fromOutside(OUT1, vm('if-veth5').mac, '172.16.1.1'))), []);
    assert.deepEqual(to(fab.send('if-p31', fromOutside(OUT1, vm('if-veth6').mac, '172.16.1.2'))), []);
    assert.deepEqual(to(fab.send('if-p31', arpRequest(OUT1.mac, OUT1.ip, '172.16.1.77'))), ['if-veth1', 'if-veth2']);
  });

  test('each outside source MAC is learned on its host (idle timeout) and is then switched to the port alone', () => {
    const fab = fabric();
    // Before any frame from OUT2: unknown unicast from dp-2 is tunnelled to the port's host and leaves on the port.
    const before = fab.send('if-veth2', icmpEcho(vm('if-veth2').mac, '172.16.1.2', OUT2.mac, OUT2.ip));
    assert.deepEqual(to(before), ['if-p31']);
    assert.equal(learned(fab).length, 0);
    fab.send('if-p31', fromOutside(OUT2, vm('if-veth2').mac, '172.16.1.2'));
    const l = learned(fab);
    assert.equal(l.length, 1);
    assert.equal(l[0]!.table, TABLE.l2_lookup);
    assert.equal(l[0]!.idleTimeout, LEARNED_MAC_IDLE_TIMEOUT);
    assert.equal(describeCookie(l[0]!.cookie).text, 'interface if-p31 (learned)');
    for (const from of ['if-veth1', 'if-veth2']) {
      const r = fab.send(from, icmpEcho(vm(from).mac, vm(from).ip, OUT2.mac, OUT2.ip));
      assert.deepEqual(to(r), ['if-p31'], from);
      const dp1 = r.traces.find((t) => t.dp === DP1)!;
      assert.ok(
        dp1.result.path.some((s) => s.owner === 'interface if-p31 (learned)'),
        `${from}: by the learned flow`,
      );
    }
    // Relearning the same MAC replaces the flow; a frame from a multicast source teaches nothing (and is dropped).
    fab.send('if-p31', fromOutside(OUT2, vm('if-veth1').mac, '172.16.1.1'));
    assert.equal(
      fab.send('if-p31', fromOutside({ ...OUT2, mac: '03:00:00:00:00:09' }, BCAST, OUT2.ip)).deliveries.length,
      0,
    );
    assert.equal(learned(fab).length, 1);
  });

  test('a VM of another network with the same addresses reaches nothing outside', () => {
    const fab = fabric();
    fab.send('if-p31', fromOutside(OUT1, vm('if-veth1').mac, '172.16.1.1'));
    for (const from of ['if-veth5', 'if-veth6']) {
      assert.deepEqual(to(fab.send(from, icmpEcho(vm(from).mac, vm(from).ip, OUT1.mac, OUT1.ip))), [], from);
      assert.ok(!to(fab.send(from, arpRequest(vm(from).mac, vm(from).ip, OUT1.ip))).includes('if-p31'), from);
    }
  });

  test("a VM's MAC sent from outside does not divert the VM's traffic (the model's MACs rank above learned ones)", () => {
    const fab = fabric();
    fab.send('if-p31', fromOutside({ mac: vm('if-veth1').mac, ip: OUT1.ip }, BCAST, '172.16.1.255'));
    assert.equal(learned(fab).length, 1, 'learned, as a switch would');
    assert.deepEqual(
      to(fab.send('if-veth2', icmpEcho(vm('if-veth2').mac, '172.16.1.2', vm('if-veth1').mac, '172.16.1.1'))),
      ['if-veth1'],
    );
  });

  test('a MAC moving from behind the port to a VM and back is never black-holed', () => {
    const moved: VmSpec = { uuid: 'if-veth9', network: NET.net1.uuid, ip: '172.16.1.9', mac: OUT1.mac, dp: DP2 };
    const fab = fabric();
    fab.send('if-p31', fromOutside(OUT1, vm('if-veth1').mac, '172.16.1.1'));
    assert.equal(learned(fab).length, 1);
    // It becomes a VM on dp-2 (the learned flow on dp-1 still there): the model's flow wins everywhere.
    const withVm = fabric({ extraVms: [moved] });
    withVm.switches.get(DP1)!.add(learned(fab)[0]!);
    assert.deepEqual(to(withVm.send('if-veth1', icmpEcho(vm('if-veth1').mac, '172.16.1.1', OUT1.mac, moved.ip))), [
      'if-veth9',
    ]);
    // Back behind the port (the VM deleted, the learned flow aged out): unknown unicast finds the port at once.
    const back = fabric();
    assert.deepEqual(to(back.send('if-veth2', icmpEcho(vm('if-veth2').mac, '172.16.1.2', OUT1.mac, OUT1.ip))), [
      'if-p31',
    ]);
  });

  test('without learn() (enable_ovs_learn_action false) unknown unicast alone reaches the port', () => {
    const fab = fabric({ learn: false });
    fab.send('if-p31', fromOutside(OUT1, vm('if-veth2').mac, '172.16.1.2'));
    assert.equal(learned(fab).length, 0);
    const flows = fab.flows.get(DP1)!;
    assert.ok(
      !flows.some((f) =>
        f.instructions.some((i) => i.type === 'apply_actions' && i.actions.some((a) => a.type === 'learn')),
      ),
    );
    assert.deepEqual(to(fab.send('if-veth2', icmpEcho(vm('if-veth2').mac, '172.16.1.2', OUT1.mac, OUT1.ip))), [
      'if-p31',
    ]);
    assert.deepEqual(to(fab.send('if-veth1', icmpEcho(vm('if-veth1').mac, '172.16.1.1', OUT1.mac, OUT1.ip))), [
      'if-p31',
    ]);
  });

  test("the agent's diff never deletes a learned flow (it ages out on the switch)", () => {
    const fab = fabric();
    fab.send('if-p31', fromOutside(OUT1, vm('if-veth1').mac, '172.16.1.1'));
    const desired = fab.flows.get(DP1)!;
    const mods = diffFlows([...desired, ...learned(fab)], desired);
    assert.deepEqual(mods, []);
  });
});

test('what a port learned goes when its learn() goes (the port left the network, was deleted, moved)', () => {
  const withPort = fabric();
  const res = seedResources(seedVms((n) => (n === 1 || n === 5 ? DP1 : n === 2 || n === 6 ? DP2 : DP3)));
  const without = new Fabric(res, seedVms(), [DP1]);
  const mods = diffFlows(withPort.flows.get(DP1)!, without.flows.get(DP1)!);
  const forget = mods.filter((m) => m.command === 'delete');
  assert.equal(forget.length, 1);
  assert.equal(forget[0]!.flow.table, TABLE.l2_lookup);
  assert.equal(describeCookie(forget[0]!.flow.cookie).text, 'interface if-p31 (learned)');
  // Unchanged, nothing is forgotten.
  assert.ok(!diffFlows(withPort.flows.get(DP1)!, fabric().flows.get(DP1)!).some((m) => m.command === 'delete'));
});

describe('a promiscuous port bridging an outside network into a segment', () => {
  const SEG = { uuid: 'seg-g', mode: 'virtual' as const, tunnel_key: 210, ct_zone: 30 };
  const SEG_VMS: VmSpec[] = [
    { uuid: 'if-s11', network: SEG.uuid, ip: '10.210.0.10', mac: '02:00:00:00:00:11', dp: DP1 },
    { uuid: 'if-s12', network: SEG.uuid, ip: '10.210.0.12', mac: '02:00:00:00:00:12', dp: DP2 },
  ];
  const res = seedResources(seedVms((n) => (n % 2 ? DP1 : DP2)));
  for (const v of SEG_VMS)
    (res.interfaces as unknown[]).push({
      ...iface(v.uuid, 'vif', v.network, v.mac, null, { active_datapath_uuid: v.dp }),
      network_uuid: null,
      segment_uuid: v.network,
    });
  (res.interfaces as unknown[]).push(promIface({ segment: SEG.uuid }).iface);
  res.segments = [SEG];
  const fab = new Fabric(
    res,
    [...seedVms((n) => (n % 2 ? DP1 : DP2)), ...SEG_VMS, { ...PROM, network: SEG.uuid }],
    [DP1, DP2],
  );
  const seg = (uuid: string) => SEG_VMS.find((v) => v.uuid === uuid)!;

  test('outside ↔ segment VMs on both hosts, ARP flooded both ways, learned, nothing into networks', () => {
    assert.deepEqual(to(fab.send('if-s12', arpRequest(seg('if-s12').mac, seg('if-s12').ip, OUT1.ip))), [
      'if-p31',
      'if-s11',
    ]);
    assert.deepEqual(to(fab.send('if-p31', arpRequest(OUT1.mac, OUT1.ip, seg('if-s12').ip))), ['if-s11', 'if-s12']);
    assert.deepEqual(to(fab.send('if-p31', fromOutside(OUT1, seg('if-s12').mac, seg('if-s12').ip))), ['if-s12']);
    assert.equal(learned(fab).length, 1);
    for (const from of ['if-s11', 'if-s12'])
      assert.deepEqual(to(fab.send(from, icmpEcho(seg(from).mac, seg(from).ip, OUT1.mac, OUT1.ip))), ['if-p31']);
    // The networks' VMs (same hosts) reach nothing outside the segment, nor does the outside reach them.
    assert.deepEqual(to(fab.send('if-veth1', icmpEcho(vm('if-veth1').mac, '172.16.1.1', OUT1.mac, OUT1.ip))), []);
    assert.deepEqual(to(fab.send('if-p31', fromOutside(OUT1, vm('if-veth2').mac, '172.16.1.2'))), []);
  });
});

describe('a promiscuous port bridging an outside network into a physical network (promiscuous_nw)', () => {
  const UPLINK = 50;
  const P10 = { uuid: 'nw-p10', ipv4_network: '192.168.10.0', ipv4_prefix: 24, tunnel_key: 201, ct_zone: 21 };
  const V1 = { uuid: 'if-veth1', network: P10.uuid, ip: '192.168.10.1', mac: '02:00:00:00:10:01', dp: DP1 };
  const V4 = { uuid: 'if-veth4', network: P10.uuid, ip: '192.168.10.4', mac: '02:00:00:00:10:04', dp: DP2 };
  const interfaces: unknown[] = [V1, V4].map((v) =>
    iface(v.uuid, 'vif', v.network, v.mac, v.ip, { active_datapath_uuid: v.dp }),
  );
  interfaces.push(
    { ...iface('if-eth1', 'host', '', '02:00:00:00:ee:01', null), owner_datapath_uuid: DP1, port_name: 'eth1' },
    { ...promIface({ network: P10.uuid }).iface },
  );
  const res = {
    datapaths: datapathItems(),
    networks: [{ ...P10, network_mode: 'physical' as const, vlan_id: 10 }],
    interfaces,
    datapath_networks: [
      { uuid: `${DP1}/${P10.uuid}`, datapath_uuid: DP1, network_uuid: P10.uuid, interface_uuid: 'if-eth1' },
    ],
  } as unknown as FeedResources;
  const local = localFor(DP1, [V1, PROM]);
  local.ports.set('eth1', { ofport: UPLINK });
  const sw = new SimSwitch(computeFlows(buildModelView(res), local));
  const ports = (r: { outputs: { port: number }[] }) => r.outputs.map((o) => o.port).sort((a, b) => a - b);
  const tagged = { vlan_vid: 0x1000 | 10 };

  test('unknown unicast from a VM leaves on the port (untagged) and the uplink (tagged); from the uplink, the port', () => {
    const r = sw.inject({ ...icmpEcho(V1.mac, V1.ip, OUT1.mac, OUT1.ip), in_port: 1 });
    assert.deepEqual(ports(r), [31, UPLINK]);
    assert.equal(r.outputs.find((o) => o.port === 31)!.packet.vlan_vid, undefined);
    assert.equal(r.outputs.find((o) => o.port === UPLINK)!.packet.vlan_vid, 0x1000n | 10n);
    const back = sw.inject({ ...icmpEcho(V4.mac, V4.ip, OUT2.mac, OUT2.ip), ...tagged, in_port: UPLINK });
    assert.deepEqual(ports(back), [31]);
  });

  test('from the port: to a local VM, to a VM behind the uplink (tagged), learned for the uplink side too', () => {
    assert.deepEqual(ports(sw.inject({ ...icmpEcho(OUT1.mac, OUT1.ip, V1.mac, V1.ip), in_port: 31 })), [1]);
    const r = sw.inject({ ...icmpEcho(OUT1.mac, OUT1.ip, V4.mac, V4.ip), in_port: 31 });
    assert.deepEqual(ports(r), [UPLINK]);
    const fromUplink = sw.inject({ ...icmpEcho(V4.mac, V4.ip, OUT1.mac, OUT1.ip), ...tagged, in_port: UPLINK });
    assert.deepEqual(ports(fromUplink), [31]);
    assert.ok(fromUplink.path.some((s) => s.owner === 'interface if-p31 (learned)'));
  });
});

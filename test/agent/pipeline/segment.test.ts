// Segments (OpenVNet's L2 without IP) followed packet by packet through simulated switches: two segments reusing
// the same addresses beside the seed's networks, spread over hosts, MAC anti-spoofing only, flooding inside each.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCookie } from '../../../src/agent/pipeline/cookies.js';
import { applyFlowMods, diffFlows } from '../../../src/agent/pipeline/diff.js';
import { computeFlows, FlowCompiler } from '../../../src/agent/pipeline/flows.js';
import { applyChange, buildModelView } from '../../../src/agent/pipeline/model-view.js';
import type { Interface } from '../../../src/model/types.js';
import type { Flow } from '../../../src/openflow/types.js';
import { arpRequest, BCAST, dhcpDiscover, Fabric, icmpEcho, ipNum, macNum, tcp } from './fabric.js';
import { DP1, DP2, DP3, GRE_PORT, iface, localFor, seedResources, seedVms, type VmSpec } from './fixtures.js';

const SEG = {
  a: { uuid: 'seg-a', mode: 'virtual', tunnel_key: 201, ct_zone: 21 },
  b: { uuid: 'seg-b', mode: 'virtual', tunnel_key: 202, ct_zone: 22 },
} as const;

/** Segment VMs, numbered 11.. so their ofports do not meet the seed's 1..6; a and b reuse each other's addresses. */
const SEG_VMS: VmSpec[] = [
  { uuid: 'if-s11', network: SEG.a.uuid, ip: '10.101.0.10', mac: '02:00:00:00:01:11', dp: DP1 },
  { uuid: 'if-s12', network: SEG.a.uuid, ip: '10.101.0.11', mac: '02:00:00:00:01:12', dp: DP2 },
  { uuid: 'if-s13', network: SEG.a.uuid, ip: '10.101.0.12', mac: '02:00:00:00:01:13', dp: DP1 },
  { uuid: 'if-s21', network: SEG.b.uuid, ip: '10.101.0.10', mac: '02:00:00:00:02:21', dp: DP1 },
  { uuid: 'if-s22', network: SEG.b.uuid, ip: '10.101.0.11', mac: '02:00:00:00:02:22', dp: DP2 },
];

/** An interface on a segment as the server stores it: segment_uuid, a MAC lease, no network and no IP. */
function segIface(v: VmSpec): ReturnType<typeof iface> {
  return {
    ...iface(v.uuid, 'vif', v.network, v.mac, null, { active_datapath_uuid: v.dp }),
    network_uuid: null,
    segment_uuid: v.network,
  };
}

function resources(segVms = SEG_VMS, netVms = seedVms((n) => (n % 2 ? DP1 : DP2))) {
  const res = seedResources(netVms);
  (res.interfaces as unknown[]).push(...segVms.map(segIface));
  res.segments = Object.values(SEG).map((s) => ({ ...s }));
  return { res, vms: [...netVms, ...segVms] };
}

const to = (r: { deliveries: { to: string }[] }) => r.deliveries.map((d) => d.to).sort();
const vm = (uuid: string) => SEG_VMS.find((v) => v.uuid === uuid)!;
/** An echo request from a segment VM to another's MAC (its addresses as the VMs configured them). */
const ping = (from: string, toVm: string) => icmpEcho(vm(from).mac, vm(from).ip, vm(toVm).mac, vm(toVm).ip);

describe('segments across two hosts', () => {
  const { res, vms } = resources();
  const fab = new Fabric(res, vms, [DP1, DP2, DP3]);

  test('unicast to a member on another host is tunnelled once with the segment key and delivered', () => {
    const r = fab.send('if-s11', ping('if-s11', 'if-s12'));
    assert.deepEqual(to(r), ['if-s12']);
    const tun = r.traces[0]!.result.outputs[0]!;
    assert.equal(tun.port, GRE_PORT);
    assert.equal(tun.packet.tunnel_id, BigInt(SEG.a.tunnel_key));
    const back = fab.send('if-s12', ping('if-s12', 'if-s11'));
    assert.deepEqual(to(back), ['if-s11']);
    assert.deepEqual(to(fab.send('if-s11', ping('if-s11', 'if-s13'))), ['if-s13']);
  });

  test('ARP is flooded in the segment (local members and each other host once), never answered by the switch', () => {
    const r = fab.send('if-s11', arpRequest(vm('if-s11').mac, '10.101.0.10', '10.101.0.11'));
    assert.deepEqual(to(r), ['if-s12', 'if-s13']);
    assert.equal(r.traces[0]!.result.outputs.filter((o) => o.port === GRE_PORT).length, 1);
    for (const d of r.deliveries) assert.equal(d.packet.arp_op, 1n, 'still the request');
    // The flood is the segment's own flow.
    const owners = r.traces[0]!.result.path.map((s) => describeCookie(s.cookie).text);
    assert.ok(owners.includes('segment seg-a (flood)'), `flooded by the segment's flow: ${owners.join(' → ')}`);
  });

  test('the same addresses in the other segment: its ARP and pings stay inside it', () => {
    const r = fab.send('if-s21', arpRequest(vm('if-s21').mac, '10.101.0.10', '10.101.0.11'));
    assert.deepEqual(to(r), ['if-s22']);
    assert.deepEqual(to(fab.send('if-s21', ping('if-s21', 'if-s22'))), ['if-s22']);
    // Addressed to the other segment's MACs (same IPs), nothing arrives anywhere.
    assert.deepEqual(to(fab.send('if-s21', ping('if-s21', 'if-s12'))), []);
    assert.deepEqual(to(fab.send('if-s11', ping('if-s11', 'if-s22'))), []);
    assert.deepEqual(to(fab.send('if-s11', icmpEcho(vm('if-s11').mac, '10.101.0.10', BCAST, '10.101.0.255'))), [
      'if-s12',
      'if-s13',
    ]);
  });

  test('segments and networks do not meet: a network VM cannot reach a segment MAC, nor the reverse', () => {
    const net1 = fab.vm('if-veth1');
    assert.deepEqual(to(fab.send('if-veth1', icmpEcho(net1.mac, net1.ip, vm('if-s13').mac, '10.101.0.12'))), []);
    assert.deepEqual(to(fab.send('if-s11', icmpEcho(vm('if-s11').mac, '10.101.0.10', net1.mac, net1.ip))), []);
    // The network's broadcast stays in the network.
    const b = fab.send('if-veth1', arpRequest(net1.mac, net1.ip, '10.101.0.12'));
    assert.ok(!to(b).some((d) => d.startsWith('if-s')), to(b).join());
  });

  test('no IP anti-spoofing (addresses are the VM’s own), but only the port’s own MAC may send', () => {
    const any = icmpEcho(vm('if-s11').mac, '192.0.2.77', vm('if-s13').mac, '198.51.100.1');
    assert.deepEqual(to(fab.send('if-s11', any)), ['if-s13']);
    const spoofed = fab.send('if-s11', icmpEcho(vm('if-s12').mac, '10.101.0.11', vm('if-s13').mac, '10.101.0.12'));
    assert.deepEqual(to(spoofed), []);
    assert.match(spoofed.traces[0]!.result.drops.join(), /port_security/);
  });

  test('no DHCP answer and no routing: a DISCOVER is only flooded, IPv6 passes as L2', () => {
    const d = fab.send('if-s11', dhcpDiscover(vm('if-s11').mac));
    assert.equal(d.packetIns.length, 0);
    assert.deepEqual(to(d), ['if-s12', 'if-s13']);
    const v6 = fab.send('if-s11', {
      eth_src: macNum(vm('if-s11').mac),
      eth_dst: macNum(vm('if-s12').mac),
      eth_type: 0x86dd,
    });
    assert.deepEqual(to(v6), ['if-s12']);
    // The network VMs' IPv6 is still dropped.
    const net1 = fab.vm('if-veth1');
    assert.deepEqual(to(fab.send('if-veth1', { eth_src: macNum(net1.mac), eth_dst: BCAST, eth_type: 0x86dd })), []);
  });

  test('a tunnelled frame is never tunnelled again, and a host without members has no segment flows', () => {
    const sw = fab.switches.get(DP2)!;
    const r = sw.inject({ in_port: GRE_PORT, tunnel_id: SEG.a.tunnel_key, ...ping('if-s12', 'if-s13') });
    assert.deepEqual(r.outputs, []);
    const onDp3 = fab.flows.get(DP3)!.filter((f) => describeCookie(f.cookie).kind === 'segment');
    assert.deepEqual(onDp3, []);
  });

  test('ARP for the other segment member comes back from it (a real answer, through the tunnel)', () => {
    const answer = {
      ...arpRequest(vm('if-s12').mac, '10.101.0.11', '10.101.0.10'),
      eth_dst: macNum(vm('if-s11').mac),
      arp_op: 2,
      arp_tha: macNum(vm('if-s11').mac),
    };
    const r = fab.send('if-s12', answer);
    assert.deepEqual(to(r), ['if-s11']);
    assert.equal(r.deliveries[0]!.packet.arp_spa, ipNum('10.101.0.11'));
  });
});

describe('a filtered interface on a segment', () => {
  const { res, vms } = resources();
  res.security_groups = [
    {
      uuid: 'sg-web',
      rules: [{ uuid: 'sgr-80', direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 }],
    },
  ];
  const s12 = (res.interfaces as { uuid: string; security_group_uuids: string[] }[]).find((i) => i.uuid === 'if-s12')!;
  s12.security_group_uuids = ['sg-web'];
  const fab = new Fabric(res, vms, [DP1, DP2]);
  const s11 = vm('if-s11');
  const s12v = vm('if-s12');

  test("its group's rules apply in the segment's zone: tcp/80 in, tcp/22 not; its replies go out", () => {
    assert.deepEqual(to(fab.send('if-s11', tcp(s11.mac, s11.ip, s12v.mac, s12v.ip, 40000, 80))), ['if-s12']);
    assert.deepEqual(to(fab.send('if-s11', tcp(s11.mac, s11.ip, s12v.mac, s12v.ip, 40000, 22))), []);
    assert.deepEqual(to(fab.send('if-s12', tcp(s12v.mac, s12v.ip, s11.mac, s11.ip, 80, 40000))), ['if-s11']);
    // ARP still reaches it (anti-spoofing vetted it; ARP is not filtered).
    assert.deepEqual(to(fab.send('if-s11', arpRequest(s11.mac, s11.ip, s12v.ip))), ['if-s12', 'if-s13']);
  });
});

describe('segments in the incremental compiler', () => {
  const sameSet = (a: readonly Flow[], b: readonly Flow[]) => assert.deepEqual(diffFlows(a, b), []);

  test('moving an interface to the other segment, unbinding the last member, deleting a segment: equal to a full computation', () => {
    const { res, vms } = resources();
    const view = buildModelView(res);
    const local = localFor(DP1, vms);
    const c = new FlowCompiler();
    c.update(view, local, []);
    const step = (resource: 'interfaces' | 'segments', uuid: string, item: Record<string, unknown> | null) => {
      const before = c.flows();
      const keys = applyChange(view, {
        revision: 10,
        resource,
        uuid,
        op: item ? 'upsert' : 'delete',
        item,
      });
      const r = c.update(view, local, keys);
      sameSet(applyFlowMods(before, r.mods), c.flows());
      sameSet(c.flows(), computeFlows(view, local));
      return r;
    };
    // if-s13 (dp1) moves from seg-a to seg-b.
    const moved = { ...(structuredClone(view.interfaces.get('if-s13')!) as Interface), segment_uuid: 'seg-b' };
    const r = step('interfaces', 'if-s13', moved);
    assert.ok(r.recomputed.includes('seg:seg-a') && r.recomputed.includes('seg:seg-b'), r.recomputed.join());
    assert.ok(!r.recomputed.some((o) => o.startsWith('nw:')), `no network recomputed: ${r.recomputed.join()}`);
    // seg-a's last member here goes: its owner goes with it.
    const gone = step('interfaces', 'if-s11', null);
    assert.ok(gone.removed.includes('seg:seg-a'), gone.removed.join());
    assert.equal(c.ownerFlows('seg:seg-a').length, 0);
    // A segment deleted under bound members takes its flows away; re-created, they come back.
    const seg = view.segments.get('seg-b')!;
    step('segments', 'seg-b', null);
    assert.equal(c.ownerFlows('seg:seg-b').length, 0);
    assert.equal(c.ownerFlows('if:if-s21').length, 0);
    step('segments', 'seg-b', { ...seg });
    assert.ok(c.ownerFlows('seg:seg-b').length > 0);
    assert.ok(c.ownerFlows('if:if-s21').length > 0);
  });
});

// VLAN trunk ports followed packet by packet through simulated switches: seed 000's router VM (port 7 on dp-1)
// carries sub-interfaces tagged 10 and 20 into two networks whose other VMs are on dp-2 (and one on dp-1); its
// untagged frames stay in its own network (net1). Tags in, tags out, unknown tags dropped, the router VM routes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowCompiler } from '../../../src/agent/pipeline/flows.js';
import { applyChange, buildModelView } from '../../../src/agent/pipeline/model-view.js';
import { arpRequest, dhcpDiscover, Fabric, icmpEcho, ipNum, macNum } from './fabric.js';
import { DP1, DP2, DP3, GRE_PORT, iface, localFor, seedResources, seedVms, type VmSpec } from './fixtures.js';

const V10 = { uuid: 'nw-v10', ipv4_network: '10.10.0.0', ipv4_prefix: 24, tunnel_key: 110, ct_zone: 31 };
const V20 = { uuid: 'nw-v20', ipv4_network: '10.20.0.0', ipv4_prefix: 24, tunnel_key: 120, ct_zone: 32 };

/** The router VM's trunk (a port, in net1 untagged) and its two sub-interfaces (no port of their own). */
const TRUNK: VmSpec = { uuid: 'if-veth7', network: 'nw-net1', ip: '172.16.1.7', mac: '02:00:00:00:00:07', dp: DP1 };
const SUB = {
  r10: { uuid: 'if-r10', vlan: 10, network: V10.uuid, ip: '10.10.0.1', mac: '02:00:00:00:10:01' },
  r20: { uuid: 'if-r20', vlan: 20, network: V20.uuid, ip: '10.20.0.1', mac: '02:00:00:00:20:01' },
} as const;
const VMS: VmSpec[] = [
  TRUNK,
  { uuid: 'if-veth8', network: V10.uuid, ip: '10.10.0.8', mac: '02:00:00:00:00:08', dp: DP2 },
  { uuid: 'if-veth9', network: V20.uuid, ip: '10.20.0.9', mac: '02:00:00:00:00:09', dp: DP2 },
  { uuid: 'if-veth11', network: V10.uuid, ip: '10.10.0.11', mac: '02:00:00:00:00:11', dp: DP1 },
];
const TAG = (vlan: number) => BigInt(0x1000 | vlan);

function resources(subExtra: Record<string, unknown> = {}) {
  const vms = [...seedVms((n) => (n % 2 ? DP1 : DP2)), ...VMS];
  const res = seedResources(vms);
  (res.networks as unknown[]).push({ ...V10, network_mode: 'virtual' }, { ...V20, network_mode: 'virtual' });
  for (const s of Object.values(SUB))
    (res.interfaces as unknown[]).push(
      iface(s.uuid, 'vif', s.network, s.mac, s.ip, {
        parent_interface_uuid: TRUNK.uuid,
        vlan_tag: s.vlan,
        enable_routing: true,
        active_datapath_uuid: DP1,
        ...subExtra,
      }),
    );
  return { res, vms };
}

const to = (r: { deliveries: { to: string }[] }) => r.deliveries.map((d) => d.to).sort();
const vm = (uuid: string) => VMS.find((v) => v.uuid === uuid)!;
/** A frame from the router VM's sub-interface: on the trunk, tagged. */
const tagged = (vlan: number, pkt: ReturnType<typeof icmpEcho>) => ({ ...pkt, vlan_vid: TAG(vlan) });

describe('a VLAN trunk port (seed 000 router VM)', () => {
  const { res, vms } = resources();
  const fab = new Fabric(res, vms, [DP1, DP2, DP3]);

  test('a tagged frame is its sub-interface: tag popped, its network, tunnelled to the VM on another host', () => {
    const r = fab.send(TRUNK.uuid, tagged(10, icmpEcho(SUB.r10.mac, SUB.r10.ip, vm('if-veth8').mac, '10.10.0.8')));
    assert.deepEqual(to(r), ['if-veth8']);
    const tun = r.traces[0]!.result.outputs.find((o) => o.port === GRE_PORT)!;
    assert.equal(tun.packet.tunnel_id, BigInt(V10.tunnel_key));
    assert.equal(r.deliveries[0]!.packet.vlan_vid ?? 0n, 0n, 'arrives untagged');
  });

  test('frames to a sub-interface leave on its parent port with its tag pushed', () => {
    const r = fab.send('if-veth8', icmpEcho(vm('if-veth8').mac, '10.10.0.8', SUB.r10.mac, SUB.r10.ip));
    assert.deepEqual(to(r), [TRUNK.uuid]);
    assert.equal(r.deliveries[0]!.packet.vlan_vid, TAG(10));
    const r20 = fab.send('if-veth9', icmpEcho(vm('if-veth9').mac, '10.20.0.9', SUB.r20.mac, SUB.r20.ip));
    assert.equal(r20.deliveries[0]!.packet.vlan_vid, TAG(20));
    // From a VM on the same host too.
    const local = fab.send('if-veth11', icmpEcho(vm('if-veth11').mac, '10.10.0.11', SUB.r10.mac, SUB.r10.ip));
    assert.deepEqual(to(local), [TRUNK.uuid]);
    assert.equal(local.deliveries[0]!.packet.vlan_vid, TAG(10));
  });

  test('untagged frames are the parent network’s; an unknown tag or another tag’s addresses are dropped', () => {
    const own = fab.send(TRUNK.uuid, icmpEcho(TRUNK.mac, TRUNK.ip, '02:00:00:00:00:01', '172.16.1.1'));
    assert.deepEqual(to(own), ['if-veth1']);
    assert.deepEqual(
      to(fab.send(TRUNK.uuid, tagged(30, icmpEcho(TRUNK.mac, TRUNK.ip, '02:00:00:00:00:01', '172.16.1.1')))),
      [],
    );
    // Tag 20 with the VLAN-10 sub-interface's MAC: anti-spoofing is the tag's interface's.
    assert.deepEqual(
      to(fab.send(TRUNK.uuid, tagged(20, icmpEcho(SUB.r10.mac, SUB.r10.ip, vm('if-veth9').mac, '10.20.0.9')))),
      [],
    );
    // A VM port that is no trunk: its tagged frames reach nothing.
    assert.deepEqual(
      to(
        fab.send('if-veth11', tagged(10, icmpEcho(vm('if-veth11').mac, '10.10.0.11', vm('if-veth8').mac, '10.10.0.8'))),
      ),
      [],
    );
  });

  test('ARP from a sub-interface is answered back on the trunk, tagged', () => {
    const r = fab.send(TRUNK.uuid, tagged(10, arpRequest(SUB.r10.mac, SUB.r10.ip, '10.10.0.8')));
    assert.deepEqual(to(r), [TRUNK.uuid]);
    const p = r.deliveries[0]!.packet;
    assert.equal(p.vlan_vid, TAG(10));
    assert.equal(p.arp_op, 2n);
    assert.equal(p.arp_sha, macNum(vm('if-veth8').mac));
    assert.equal(p.arp_tpa, ipNum(SUB.r10.ip));
  });

  test('broadcast: a sub-interface’s floods its network but not back to itself; others’ reach it tagged', () => {
    const r = fab.send(TRUNK.uuid, tagged(10, arpRequest(SUB.r10.mac, SUB.r10.ip, '10.10.0.77')));
    assert.deepEqual(to(r), ['if-veth11', 'if-veth8']);
    const back = fab.send('if-veth11', arpRequest(vm('if-veth11').mac, '10.10.0.11', '10.10.0.77'));
    assert.deepEqual(to(back), [TRUNK.uuid, 'if-veth8']);
    assert.equal(back.deliveries.find((d) => d.to === TRUNK.uuid)!.packet.vlan_vid, TAG(10));
  });

  test('the router VM routes: VLAN 10 → router VM → VLAN 20 with the first VM’s source address', () => {
    // veth8 → its gateway (r10) → the router VM forwards out of r20 from 10.10.0.8 (enable_routing allows it).
    const fwd = fab.send(TRUNK.uuid, tagged(20, icmpEcho(SUB.r20.mac, '10.10.0.8', vm('if-veth9').mac, '10.20.0.9')));
    assert.deepEqual(to(fwd), ['if-veth9']);
    const reply = fab.send('if-veth9', icmpEcho(vm('if-veth9').mac, '10.20.0.9', SUB.r20.mac, '10.10.0.8'));
    assert.deepEqual(to(reply), [TRUNK.uuid]);
    assert.equal(reply.deliveries[0]!.packet.vlan_vid, TAG(20));
  });

  test('DHCP from a sub-interface reaches the agent under its own port number', () => {
    const r = fab.send(TRUNK.uuid, tagged(10, dhcpDiscover(SUB.r10.mac)));
    // No DHCP service in V10: nothing punted; in net1 (the parent's) the parent's DISCOVER is.
    assert.equal(r.packetIns.length, 0);
    const p = fab.send(TRUNK.uuid, dhcpDiscover(TRUNK.mac));
    assert.equal(p.packetIns.length, 1);
    assert.equal(p.packetIns[0]!.packet.in_port, 7n);
  });
});

describe('sub-interface binding follows its parent', () => {
  test('bound where the parent is, under a number no port has; gone with the parent, back with it', () => {
    const { res, vms } = resources();
    const view = buildModelView(res);
    const c = new FlowCompiler();
    const local = localFor(DP1, vms);
    c.update(view, local, []);
    const b = c.currentBindings().get(SUB.r10.uuid)!;
    assert.ok(b, 'r10 bound on dp-1');
    assert.equal(b.portName, TRUNK.uuid);
    assert.deepEqual(b.trunk, { ofport: 7, vlan: 10 });
    assert.ok(b.ofport >= 0xf000 && b.ofport <= 0xfeff);
    assert.notEqual(c.currentBindings().get(SUB.r20.uuid)!.ofport, b.ofport);
    // Not on dp-2 (the parent's port is not there).
    const c2 = new FlowCompiler();
    c2.update(view, localFor(DP2, vms), []);
    assert.equal(c2.currentBindings().get(SUB.r10.uuid), undefined);
    // The parent's port goes: the sub-interfaces go with it; it comes back: so do they, same numbers.
    const ports = new Map(local.ports);
    ports.delete(TRUNK.uuid);
    const gone = c.update(view, { ...local, ports }, []);
    assert.ok(gone.bindingChanges.includes(SUB.r10.uuid));
    assert.equal(c.currentBindings().get(SUB.r10.uuid), undefined);
    c.update(view, local, []);
    assert.equal(c.currentBindings().get(SUB.r10.uuid)?.ofport, b.ofport);
    // The parent administratively down (a feed change, incremental path): its sub-interfaces unbind too.
    const parent = view.interfaces.get(TRUNK.uuid)!;
    const keys = applyChange(view, {
      revision: 2,
      resource: 'interfaces',
      uuid: TRUNK.uuid,
      op: 'upsert',
      item: { ...parent, admin_state_up: false } as unknown as Record<string, unknown>,
    });
    const down = c.update(view, local, keys);
    assert.ok(down.bindingChanges.includes(SUB.r20.uuid));
    assert.equal(c.currentBindings().get(SUB.r20.uuid), undefined);
    assert.equal(
      c.flows().filter((f) => f.match.vlan_vid !== undefined && f.match.in_port?.value === 7).length,
      0,
      'no trunk classification left',
    );
  });

  test('a broadcast from a sub-interface with no other local port in its network leaves only by tunnel', () => {
    const { res, vms } = resources();
    const fab = new Fabric(res, vms, [DP1]);
    const r = fab.send(TRUNK.uuid, tagged(20, arpRequest(SUB.r20.mac, SUB.r20.ip, '10.20.0.77')));
    // if-veth9 is on dp-2: tunnelled there (lost in a one-host fabric), nothing back on the trunk.
    assert.deepEqual(to(r), []);
    assert.equal(
      r.traces[0]!.result.outputs.filter((o) => o.port === 7).length,
      0,
      `outputs: ${JSON.stringify(r.traces[0]!.result.outputs.map((o) => o.port))}`,
    );
  });
});

// Behaviour of the generated pipeline, followed packet by packet through simulated switches (one and three hosts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCookie, isDhcpPunt } from '../../../src/agent/pipeline/cookies.js';
import { dhcpNetworkMeter, dhcpPortMeter } from '../../../src/agent/pipeline/meters.js';
import { OFPP } from '../../../src/openflow/types.js';
import { arpRequest, BCAST, dhcpDiscover, Fabric, icmpEcho, ipNum, macNum } from './fabric.js';
import { DHCP_IF, DP1, DP2, DP3, GRE_PORT, ROUTER, seedResources, seedVms, VXLAN_PORT } from './fixtures.js';

const MAC = (n: number) => `02:00:00:00:00:0${n}`;
const to = (r: { deliveries: { to: string }[] }) => r.deliveries.map((d) => d.to).sort();

describe('one host, the seed layout', () => {
  const vms = seedVms();
  const fab = new Fabric(seedResources(vms), vms, [DP1]);

  test('unicast inside net1 reaches only the destination VM', () => {
    const r = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', MAC(2), '172.16.1.2'));
    assert.deepEqual(to(r), ['if-veth2']);
  });

  test('ARP for a VM address is answered on IN_PORT with that VM MAC, no packet-in', () => {
    const r = fab.send('if-veth1', arpRequest(MAC(1), '172.16.1.1', '172.16.1.2'));
    assert.equal(r.packetIns.length, 0);
    assert.deepEqual(to(r), ['if-veth1']);
    const p = r.deliveries[0]!.packet;
    assert.equal(p.eth_src, macNum(MAC(2)));
    assert.equal(p.eth_dst, macNum(MAC(1)));
    assert.equal(p.arp_op, 2n);
    assert.equal(p.arp_sha, macNum(MAC(2)));
    assert.equal(p.arp_spa, ipNum('172.16.1.2'));
    assert.equal(p.arp_tha, macNum(MAC(1)));
    assert.equal(p.arp_tpa, ipNum('172.16.1.1'));
  });

  test('ARP for the router IP entering port 3 is answered on IN_PORT with the router MAC', () => {
    const r = fab.send('if-veth3', arpRequest(MAC(3), '172.16.2.3', ROUTER.net2.ip));
    assert.deepEqual(to(r), ['if-veth3']);
    assert.equal(r.deliveries[0]!.packet.eth_src, macNum(ROUTER.net2.mac));
    assert.equal(r.deliveries[0]!.packet.arp_sha, macNum(ROUTER.net2.mac));
    // Answered by the router interface's ARP flow, then sent back by reply_out's miss (out of in_port).
    assert.match(r.traces[0]!.result.path.at(-2)!.owner, /interface if-rt2 \(arp\)/);
    assert.equal(r.traces[0]!.result.path.at(-1)!.tableName, 'reply_out');
  });

  test('overlapping net3: ARP for .2 answers veth6, ping reaches veth6 and never veth2', () => {
    const a = fab.send('if-veth5', arpRequest(MAC(5), '172.16.1.1', '172.16.1.2'));
    assert.equal(a.deliveries[0]!.packet.arp_sha, macNum(MAC(6)));
    const r = fab.send('if-veth5', icmpEcho(MAC(5), '172.16.1.1', MAC(6), '172.16.1.2'));
    assert.deepEqual(to(r), ['if-veth6']);
    // Even addressed to net1's VM MAC, a net3 packet goes nowhere.
    const x = fab.send('if-veth5', icmpEcho(MAC(5), '172.16.1.1', MAC(2), '172.16.1.2'));
    assert.deepEqual(to(x), []);
    // And net3 cannot use net1's router.
    const y = fab.send('if-veth5', icmpEcho(MAC(5), '172.16.1.1', ROUTER.net1.mac, '172.16.2.3'));
    assert.deepEqual(to(y), []);
  });

  test('broadcast from veth1 reaches the other net1 VM only', () => {
    const r = fab.send('if-veth1', { ...icmpEcho(MAC(1), '172.16.1.1', BCAST, '172.16.1.255') });
    assert.deepEqual(to(r), ['if-veth2']);
  });

  test('unknown unicast is dropped', () => {
    const r = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', '02:aa:00:00:00:09', '172.16.1.9'));
    assert.deepEqual(to(r), []);
    assert.match(r.traces[0]!.result.drops.join(), /l2_lookup/);
  });

  test('routing: veth1 → 172.16.2.3 via the router MAC arrives with rewritten MACs and TTL-1', () => {
    const r = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', ROUTER.net1.mac, '172.16.2.3'));
    assert.deepEqual(to(r), ['if-veth3']);
    const p = r.deliveries[0]!.packet;
    assert.equal(p.eth_src, macNum(ROUTER.net2.mac));
    assert.equal(p.eth_dst, macNum(MAC(3)));
    assert.equal(p.nw_ttl, 63n);
    assert.equal(p.ipv4_src, ipNum('172.16.1.1'));
    const back = fab.send('if-veth4', icmpEcho(MAC(4), '172.16.2.4', ROUTER.net2.mac, '172.16.1.2'));
    assert.deepEqual(to(back), ['if-veth2']);
    assert.equal(back.deliveries[0]!.packet.eth_src, macNum(ROUTER.net1.mac));
  });

  test('routing to an address nobody holds is dropped; TTL 1 is dropped', () => {
    assert.deepEqual(to(fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', ROUTER.net1.mac, '172.16.2.99'))), []);
    const r = fab.send('if-veth1', { ...icmpEcho(MAC(1), '172.16.1.1', ROUTER.net1.mac, '172.16.2.3'), nw_ttl: 1 });
    assert.deepEqual(to(r), []);
  });

  test('ICMP echo to both router addresses is answered in the switch', () => {
    for (const ip of [ROUTER.net1.ip, ROUTER.net2.ip]) {
      const r = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', ROUTER.net1.mac, ip));
      assert.deepEqual(to(r), ['if-veth1'], ip);
      const p = r.deliveries[0]!.packet;
      assert.equal(p.icmpv4_type, 0n);
      assert.equal(p.ipv4_src, ipNum(ip));
      assert.equal(p.ipv4_dst, ipNum('172.16.1.1'));
      assert.equal(p.eth_src, macNum(ROUTER.net1.mac));
      assert.equal(p.eth_dst, macNum(MAC(1)));
      assert.equal(r.packetIns.length, 0);
    }
  });

  test('spoofed sources are dropped: other IP, other MAC, gratuitous ARP for another address, ARP sha≠eth_src', () => {
    const cases = [
      icmpEcho(MAC(1), '172.16.1.2', MAC(2), '172.16.1.2'),
      icmpEcho('02:00:00:00:00:09', '172.16.1.1', MAC(2), '172.16.1.2'),
      arpRequest(MAC(1), '172.16.1.2', '172.16.1.2'),
      { ...arpRequest(MAC(1), '172.16.1.1', '172.16.1.9'), arp_sha: macNum(MAC(2)) },
    ];
    for (const c of cases) {
      const r = fab.send('if-veth1', c);
      assert.deepEqual(to(r), []);
      assert.equal(r.packetIns.length, 0);
      assert.match(r.traces[0]!.result.drops.join(), /port_security/);
    }
  });

  test('IPv6 from a VM is dropped by its own counted flow', () => {
    const r = fab.send('if-veth1', { eth_src: macNum(MAC(1)), eth_dst: BCAST, eth_type: 0x86dd });
    assert.deepEqual(to(r), []);
    assert.equal(describeCookie(r.traces[0]!.result.path.at(-1)!.cookie).text, 'pipeline (ipv6)');
  });

  test("DHCP DISCOVER reaches the controller through its port's meter and its network's, and nobody else", () => {
    const r = fab.send('if-veth1', dhcpDiscover(MAC(1)));
    assert.deepEqual(to(r), []);
    assert.equal(r.packetIns.length, 1);
    assert.ok(isDhcpPunt(r.packetIns[0]!.cookie));
    const port = fab.port('if-veth1');
    const net1 = dhcpNetworkMeter(Number(fab.view.networks.get(fab.vm('if-veth1').network)!.tunnel_key)).id;
    assert.deepEqual(r.packetIns[0]!.meters, [dhcpPortMeter(port).id, net1]);
    const owners = r.traces[0]!.result.path.map((s) => describeCookie(s.cookie).uuid);
    assert.ok(owners.includes('ns-dhcp1'), `the network service's flow punts it: ${owners.join(' → ')}`);
    // Another VM's DHCP is metered by its own port's meter.
    const r2 = fab.send('if-veth2', dhcpDiscover(MAC(2)));
    assert.deepEqual(r2.packetIns[0]!.meters, [dhcpPortMeter(fab.port('if-veth2')).id, net1]);
    // net2 has no DHCP service: the broadcast is just flooded in net2.
    const n2 = fab.send('if-veth3', dhcpDiscover(MAC(3)));
    assert.equal(n2.packetIns.length, 0);
    assert.deepEqual(to(n2), ['if-veth4']);
  });

  test('the DHCP server address is answered by ARP too', () => {
    const r = fab.send('if-veth2', arpRequest(MAC(2), '172.16.1.2', DHCP_IF.ip));
    assert.equal(r.deliveries[0]!.packet.arp_sha, macNum(DHCP_IF.mac));
  });
});

describe('one host, a VM holding two IP leases on its MAC lease (a Neutron port with two fixed IPs)', () => {
  const vms = seedVms();
  const res = seedResources(vms);
  const SECOND = '172.16.1.11';
  res
    .interfaces!.find((i) => i.uuid === 'if-veth1')!
    .mac_leases![0]!.ip_leases!.push({
      uuid: 'il-veth1b',
      network_uuid: 'nw-net1',
      ipv4_address: SECOND,
    });
  const fab = new Fabric(res, vms, [DP1]);

  test('ARP for each address is answered with the one MAC; both are reached, locally and routed', () => {
    for (const ip of ['172.16.1.1', SECOND]) {
      const a = fab.send('if-veth2', arpRequest(MAC(2), '172.16.1.2', ip));
      assert.deepEqual(to(a), ['if-veth2'], ip);
      assert.equal(a.deliveries[0]!.packet.arp_sha, macNum(MAC(1)));
      assert.equal(a.deliveries[0]!.packet.arp_spa, ipNum(ip));
      assert.deepEqual(to(fab.send('if-veth2', icmpEcho(MAC(2), '172.16.1.2', MAC(1), ip))), ['if-veth1'], ip);
      const routed = fab.send('if-veth3', icmpEcho(MAC(3), '172.16.2.3', ROUTER.net2.mac, ip));
      assert.deepEqual(to(routed), ['if-veth1'], `routed to ${ip}`);
      assert.equal(routed.deliveries[0]!.packet.eth_dst, macNum(MAC(1)));
    }
  });

  test('the VM may send from either address (IP and ARP), from no third one', () => {
    for (const ip of ['172.16.1.1', SECOND]) {
      assert.deepEqual(to(fab.send('if-veth1', icmpEcho(MAC(1), ip, MAC(2), '172.16.1.2'))), ['if-veth2'], ip);
      assert.deepEqual(to(fab.send('if-veth1', arpRequest(MAC(1), ip, '172.16.1.9'))), ['if-veth2'], `ARP from ${ip}`);
    }
    for (const c of [
      icmpEcho(MAC(1), '172.16.1.12', MAC(2), '172.16.1.2'),
      arpRequest(MAC(1), '172.16.1.12', '172.16.1.2'),
    ]) {
      const r = fab.send('if-veth1', c);
      assert.deepEqual(to(r), []);
      assert.match(r.traces[0]!.result.drops.join(), /port_security/);
    }
  });
});
describe('three hosts', () => {
  // Each network's VMs on different hosts.
  const place: Record<number, string> = { 1: DP1, 2: DP2, 3: DP3, 4: DP1, 5: DP2, 6: DP3 };
  for (const encap of ['gre', 'vxlan'] as const) {
    const vms = seedVms((n) => place[n]!);
    const enc = { [DP1]: encap, [DP2]: encap, [DP3]: encap };
    const fab = new Fabric(seedResources(vms, { encap: enc }), vms, [DP1, DP2, DP3], { encap: enc });
    const tunnelPort = encap === 'gre' ? GRE_PORT : VXLAN_PORT;

    test(`${encap}: unicast to a remote VM is tunnelled once with the network key`, () => {
      const r = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', MAC(2), '172.16.1.2'));
      assert.deepEqual(to(r), ['if-veth2']);
      assert.equal(r.traces.length, 2);
      const tun = r.traces[0]!.result.outputs[0]!;
      assert.equal(tun.port, tunnelPort);
      assert.equal(tun.packet.tunnel_id, 101n);
      assert.equal(tun.packet.tun_ipv4_dst, ipNum('10.200.0.2'));
    });

    test(`${encap}: broadcast reaches each other host with ports once, no loop`, () => {
      const r = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', BCAST, '172.16.1.255'));
      assert.deepEqual(to(r), ['if-veth2']);
      // net1 lives on dp1 and dp2 only: one tunnel copy.
      assert.equal(r.traces[0]!.result.outputs.length, 1);
    });

    test(`${encap}: routed across hosts, delivered with the destination network key`, () => {
      const r = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', ROUTER.net1.mac, '172.16.2.3'));
      assert.deepEqual(to(r), ['if-veth3']);
      assert.equal(r.traces[0]!.result.outputs[0]!.packet.tunnel_id, 102n);
      assert.equal(r.deliveries[0]!.packet.eth_src, macNum(ROUTER.net2.mac));
      // veth4 (dp1) → veth2 (dp2)
      const b = fab.send('if-veth4', icmpEcho(MAC(4), '172.16.2.4', ROUTER.net2.mac, '172.16.1.2'));
      assert.deepEqual(to(b), ['if-veth2']);
    });

    test(`${encap}: net3 ping to 172.16.1.2 reaches veth6 and never veth2`, () => {
      const r = fab.send('if-veth5', icmpEcho(MAC(5), '172.16.1.1', MAC(6), '172.16.1.2'));
      assert.deepEqual(to(r), ['if-veth6']);
      const b = fab.send('if-veth5', icmpEcho(MAC(5), '172.16.1.1', BCAST, '172.16.1.255'));
      assert.deepEqual(to(b), ['if-veth6']);
    });

    test(`${encap}: a tunnelled packet is never tunnelled again (split horizon)`, () => {
      // A frame for veth2's MAC arriving at dp3 (which does not hold veth2) is dropped there, not forwarded.
      const sw = fab.switches.get(DP3)!;
      const r = sw.inject({
        in_port: tunnelPort,
        tunnel_id: 101,
        ...icmpEcho(MAC(1), '172.16.1.1', MAC(2), '172.16.1.2'),
      });
      assert.deepEqual(r.outputs, []);
    });
  }

  test('the sender uses the receiving datapath encap (dp2 vxlan, others gre)', () => {
    const vms = seedVms((n) => place[n]!);
    const enc = { [DP2]: 'vxlan' as const };
    const fab = new Fabric(seedResources(vms, { encap: enc }), vms, [DP1, DP2, DP3], { encap: enc });
    const toDp2 = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', MAC(2), '172.16.1.2'));
    assert.equal(toDp2.traces[0]!.result.outputs[0]!.port, VXLAN_PORT);
    assert.deepEqual(to(toDp2), ['if-veth2']);
    const toDp3 = fab.send('if-veth1', icmpEcho(MAC(1), '172.16.1.1', ROUTER.net1.mac, '172.16.2.3'));
    assert.equal(toDp3.traces[0]!.result.outputs[0]!.port, GRE_PORT);
  });
});

test('OFPP.IN_PORT is how answers leave', () => {
  assert.equal(OFPP.IN_PORT, 0xfffffff8);
});

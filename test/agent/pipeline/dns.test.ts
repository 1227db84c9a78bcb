// The DNS punt, followed through simulated switches: a VM's query to its network's DNS service address reaches the
// agent through the VM's DNS meter and its network's; other UDP to that address, queries to addresses that are no
// DNS service and queries in a network without one are not punted; an overlapping network's VM with the same
// address is punted from its own port (the agent tells the networks apart by the port).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCookie, isDhcpPunt, isDnsPunt } from '../../../src/agent/pipeline/cookies.js';
import { dnsNetworkMeter, dnsPortMeter, meterSpec } from '../../../src/agent/pipeline/meters.js';
import type { PacketInput } from '../../../src/agent/pipeline/simulate.js';
import { Fabric, ipNum, macNum } from './fabric.js';
import { DP1, DP2, iface, NET, seedResources, seedVms } from './fixtures.js';

const DNS_IF = { uuid: 'if-dns1', mac: '02:00:20:00:00:35', ip: '172.16.1.252' };
/** net3 overlaps net1: its DNS service has the same address. */
const DNS_IF3 = { uuid: 'if-dns3', mac: '02:00:20:00:03:35', ip: '172.16.1.252' };
const MAC = (n: number) => `02:00:00:00:00:0${n}`;

function query(srcMac: string, srcIp: string, dstMac: string, dstIp: string, udpDst = 53): PacketInput {
  return {
    eth_src: macNum(srcMac),
    eth_dst: macNum(dstMac),
    eth_type: 0x0800,
    ipv4_src: ipNum(srcIp),
    ipv4_dst: ipNum(dstIp),
    ip_proto: 17,
    udp_src: 40000,
    udp_dst: udpDst,
    nw_ttl: 64,
  };
}

function fabric(dps: string[], place?: (n: number) => string) {
  const vms = seedVms(place);
  const res = seedResources(vms);
  res.interfaces!.push(
    iface(DNS_IF.uuid, 'simulated', NET.net1.uuid, DNS_IF.mac, DNS_IF.ip),
    iface(DNS_IF3.uuid, 'simulated', NET.net3.uuid, DNS_IF3.mac, DNS_IF3.ip),
  );
  res.network_services!.push(
    { uuid: 'ns-dns1', mode: 'dns', interface_uuid: DNS_IF.uuid },
    { uuid: 'ns-dns3', mode: 'dns', interface_uuid: DNS_IF3.uuid },
  );
  return new Fabric(res, vms, dps);
}

describe('DNS punt', () => {
  const fab = fabric([DP1]);
  const keyOf = (vm: string) => Number(fab.view.networks.get(fab.vm(vm).network)!.tunnel_key);

  test("a query to the network's DNS service reaches the agent through the VM's DNS meter and its network's", () => {
    const r = fab.send('if-veth1', query(MAC(1), '172.16.1.1', DNS_IF.mac, DNS_IF.ip));
    assert.deepEqual(r.deliveries, []);
    assert.equal(r.packetIns.length, 1);
    assert.ok(isDnsPunt(r.packetIns[0]!.cookie));
    assert.ok(!isDhcpPunt(r.packetIns[0]!.cookie));
    assert.deepEqual(r.packetIns[0]!.meters, [
      dnsPortMeter(fab.port('if-veth1')).id,
      dnsNetworkMeter(keyOf('if-veth1')).id,
    ]);
    const owners = r.traces[0]!.result.path.map((s) => describeCookie(s.cookie).uuid);
    assert.ok(owners.includes('ns-dns1'), owners.join(' → '));
  });

  test('the overlapping network punts its own VM, with its own meters', () => {
    // veth5 is net3's 172.16.1.1: the same addresses as veth1's in net1.
    const r = fab.send('if-veth5', query(MAC(5), '172.16.1.1', DNS_IF3.mac, DNS_IF3.ip));
    assert.equal(r.packetIns.length, 1);
    assert.equal(r.packetIns[0]!.packet.in_port, BigInt(fab.port('if-veth5')));
    assert.deepEqual(r.packetIns[0]!.meters, [
      dnsPortMeter(fab.port('if-veth5')).id,
      dnsNetworkMeter(keyOf('if-veth5')).id,
    ]);
  });

  test('other UDP to the service, and port 53 elsewhere or in a network without DNS, is not punted', () => {
    assert.equal(fab.send('if-veth1', query(MAC(1), '172.16.1.1', DNS_IF.mac, DNS_IF.ip, 54)).packetIns.length, 0);
    assert.equal(fab.send('if-veth1', query(MAC(1), '172.16.1.1', MAC(2), '172.16.1.2')).packetIns.length, 0);
    // net2 has no DNS service.
    assert.equal(fab.send('if-veth3', query(MAC(3), '172.16.2.3', MAC(4), '172.16.1.252')).packetIns.length, 0);
  });

  test('the DNS address answers ARP like every simulated address', () => {
    const r = fab.send('if-veth2', {
      eth_src: macNum(MAC(2)),
      eth_dst: 0xffffffffffffn,
      eth_type: 0x0806,
      arp_op: 1,
      arp_spa: ipNum('172.16.1.2'),
      arp_tpa: ipNum(DNS_IF.ip),
      arp_sha: macNum(MAC(2)),
    });
    assert.equal(r.deliveries[0]!.packet.arp_sha, macNum(DNS_IF.mac));
  });

  test('every host punts its own VMs to its own agent', () => {
    const two = fabric([DP1, DP2], (n) => (n % 2 === 0 ? DP2 : DP1));
    const r = two.send('if-veth2', query(MAC(2), '172.16.1.2', DNS_IF.mac, DNS_IF.ip));
    assert.equal(r.packetIns.length, 1);
    assert.equal(r.packetIns[0]!.dp, DP2);
  });

  test('DNS meters have ids of their own that meterSpec reads back', () => {
    for (const m of [dnsPortMeter(1), dnsPortMeter(0xfeff), dnsNetworkMeter(7), dnsNetworkMeter(0xffff)])
      assert.deepEqual(meterSpec(m.id), m);
    assert.ok(dnsPortMeter(0xfeff).id < 0x10000 && dnsNetworkMeter(0xffff).id < 0x40000);
  });
});

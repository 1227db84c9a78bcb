// DNS over TCP in the generated pipeline, followed through a simulated switch: a VM's TCP to its network's DNS
// service address, port 53, reaches the metadata port (the agent's listener) from the address that names its port,
// overlapping VMs apart; the answer comes back to that VM alone, from the service's address and MAC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeFlows } from '../../../src/agent/pipeline/flows.js';
import { METADATA_PEER_MAC, METADATA_PORT_MAC } from '../../../src/agent/pipeline/metadata.js';
import { buildModelView } from '../../../src/agent/pipeline/model-view.js';
import { SimSwitch } from '../../../src/agent/pipeline/simulate.js';
import { ipNum, macNum, tcp } from './fabric.js';
import { DP1, iface, localFor, NET, seedResources, seedVms } from './fixtures.js';

const META_PORT = 50;
const MAC = (n: number) => `02:00:00:00:00:0${n}`;
/** net1 and net3 overlap: each has its DNS service at the same address, with its own MAC. */
const DNS = { 1: '02:00:20:00:00:35', 5: '02:00:20:00:03:35' } as const;
const DNS_IP = '172.16.1.252';

function switchWith(metadataPort: number | null): SimSwitch {
  const vms = seedVms();
  const res = seedResources(vms);
  res.interfaces!.push(
    iface('if-dns1', 'simulated', NET.net1.uuid, DNS[1], DNS_IP),
    iface('if-dns3', 'simulated', NET.net3.uuid, DNS[5], DNS_IP),
  );
  res.network_services!.push(
    { uuid: 'ns-dns1', mode: 'dns', interface_uuid: 'if-dns1' },
    { uuid: 'ns-dns3', mode: 'dns', interface_uuid: 'if-dns3' },
  );
  return new SimSwitch(computeFlows(buildModelView(res), { ...localFor(DP1, vms), metadataPort }));
}

const sw = switchWith(META_PORT);

test('veth1 (net1) and veth5 (net3) share an address; their TCP to the DNS service reaches the listener apart', () => {
  for (const n of [1, 5] as const) {
    const r = sw.inject({ ...tcp(MAC(n), '172.16.1.1', DNS[n], DNS_IP, 40000, 53), in_port: n });
    assert.deepEqual(
      r.outputs.map((o) => o.port),
      [META_PORT],
    );
    const p = r.outputs[0]!.packet;
    assert.equal(p.ipv4_src, ipNum(`169.254.0.${n}`));
    assert.equal(p.ipv4_dst, ipNum('169.254.169.254'));
    assert.equal(p.tcp_dst, 53n);
    assert.equal(p.eth_dst, macNum(METADATA_PORT_MAC));
  }
});

test("the listener's answer returns to the VM it names, from its network's DNS service", () => {
  for (const n of [1, 5] as const) {
    const r = sw.inject({
      ...tcp(METADATA_PORT_MAC, '169.254.169.254', METADATA_PEER_MAC, `169.254.0.${n}`, 53, 40000),
      in_port: META_PORT,
    });
    assert.deepEqual(
      r.outputs.map((o) => o.port),
      [n],
    );
    const p = r.outputs[0]!.packet;
    assert.equal(p.ipv4_src, ipNum(DNS_IP));
    assert.equal(p.ipv4_dst, ipNum('172.16.1.1'));
    assert.equal(p.eth_src, macNum(DNS[n]));
    assert.equal(p.eth_dst, macNum(MAC(n)));
  }
});

test('without a metadata port, TCP to the DNS service is not steered anywhere', () => {
  const r = switchWith(null).inject({ ...tcp(MAC(1), '172.16.1.1', DNS[1], DNS_IP, 40000, 53), in_port: 1 });
  assert.ok(!r.outputs.some((o) => o.port === META_PORT));
});

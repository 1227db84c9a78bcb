// The metadata path in the generated pipeline, followed through a simulated switch: a VM's request to
// 169.254.169.254:80 reaches the metadata port from the address that names its port, overlapping VMs apart, and
// the server's answer comes back to that VM alone with 169.254.169.254 as its source.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeFlows } from '../../../src/agent/pipeline/flows.js';
import {
  METADATA_PEER_MAC,
  METADATA_PORT_MAC,
  metadataSourceOf,
  ofportOfMetadataSource,
} from '../../../src/agent/pipeline/metadata.js';
import { buildModelView } from '../../../src/agent/pipeline/model-view.js';
import { SimSwitch } from '../../../src/agent/pipeline/simulate.js';
import { arpRequest, ipNum, macNum, tcp } from './fabric.js';
import { DP1, localFor, seedResources, seedVms } from './fixtures.js';

const META_PORT = 50;
const MAC = (n: number) => `02:00:00:00:00:0${n}`;
const vms = seedVms();
const sw = new SimSwitch(
  computeFlows(buildModelView(seedResources(vms)), { ...localFor(DP1, vms), metadataPort: META_PORT }),
);

test('a source address names one ofport, both ways; the one that would be 169.254.169.254 is never used', () => {
  assert.equal(metadataSourceOf(1), Number(ipNum('169.254.0.1')));
  assert.equal(metadataSourceOf(0x1234), Number(ipNum('169.254.18.52')));
  assert.equal(ofportOfMetadataSource('169.254.18.52'), 0x1234);
  assert.equal(ofportOfMetadataSource('::ffff:169.254.0.5'), 5);
  assert.equal(metadataSourceOf(169 * 256 + 254), null);
  assert.equal(ofportOfMetadataSource('169.254.169.254'), null);
  assert.equal(ofportOfMetadataSource('10.0.0.1'), null);
});

test('veth1 (net1) and veth5 (net3) share 172.16.1.1 and reach the metadata port from their own addresses', () => {
  for (const n of [1, 5]) {
    const r = sw.inject({
      ...tcp(MAC(n), '172.16.1.1', '02:00:10:00:00:01', '169.254.169.254', 40000, 80),
      in_port: n,
    });
    assert.equal(r.outputs.length, 1);
    const o = r.outputs[0]!;
    assert.equal(o.port, META_PORT);
    assert.equal(o.packet.ipv4_src, ipNum(`169.254.0.${n}`));
    assert.equal(o.packet.ipv4_dst, ipNum('169.254.169.254'));
    assert.equal(o.packet.eth_dst, macNum(METADATA_PORT_MAC));
  }
});

test("the server's answer returns to the VM it names, restored, and to no other", () => {
  for (const n of [1, 5]) {
    const r = sw.inject({
      ...tcp(METADATA_PORT_MAC, '169.254.169.254', METADATA_PEER_MAC, `169.254.0.${n}`, 80, 40000),
      in_port: META_PORT,
    });
    assert.deepEqual(
      r.outputs.map((o) => o.port),
      [n],
    );
    const p = r.outputs[0]!.packet;
    assert.equal(p.ipv4_src, ipNum('169.254.169.254'));
    assert.equal(p.ipv4_dst, ipNum('172.16.1.1'));
    assert.equal(p.eth_dst, macNum(MAC(n)));
  }
  // No interface has ofport 9: nothing goes anywhere.
  const stray = sw.inject({
    ...tcp(METADATA_PORT_MAC, '169.254.169.254', METADATA_PEER_MAC, '169.254.0.9', 80, 40000),
    in_port: META_PORT,
  });
  assert.equal(stray.outputs.length, 0);
});

test('ARP: the namespace asking for a source address, and a VM asking for 169.254.169.254, are answered in the switch', () => {
  const fromNs = sw.inject({ ...arpRequest(METADATA_PORT_MAC, '169.254.169.254', '169.254.0.5'), in_port: META_PORT });
  assert.equal(fromNs.outputs.length, 1);
  assert.equal(fromNs.outputs[0]!.port, META_PORT);
  assert.equal(fromNs.outputs[0]!.packet.arp_sha, macNum(METADATA_PEER_MAC));
  assert.equal(fromNs.outputs[0]!.packet.arp_spa, ipNum('169.254.0.5'));
  assert.equal(fromNs.outputs[0]!.packet.arp_tpa, ipNum('169.254.169.254'));
  const fromVm = sw.inject({ ...arpRequest(MAC(5), '172.16.1.1', '169.254.169.254'), in_port: 5 });
  assert.equal(fromVm.outputs[0]!.port, 5);
  assert.equal(fromVm.outputs[0]!.packet.arp_sha, macNum(METADATA_PORT_MAC));
});

test('without a metadata port nothing is steered: the request is routed like any other packet', () => {
  const plain = new SimSwitch(computeFlows(buildModelView(seedResources(vms)), localFor(DP1, vms)));
  const r = plain.inject({
    ...tcp(MAC(5), '172.16.1.1', '02:00:10:00:00:01', '169.254.169.254', 40000, 80),
    in_port: 5,
  });
  assert.ok(r.outputs.every((o) => o.port !== META_PORT));
});

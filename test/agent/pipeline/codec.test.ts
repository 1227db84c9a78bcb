// Every generated flow survives the OpenFlow codec: encoded as a FLOW_MOD and decoded back, it equals its
// normalized form (so the agent's diff against flow stats sees no phantom changes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffFlows } from '../../../src/agent/pipeline/diff.js';
import { decodeMessage, encodeMessage } from '../../../src/openflow/messages.js';
import { normalizeFlow } from '../../../src/openflow/normalize.js';
import type { Flow } from '../../../src/openflow/types.js';
import { Fabric } from './fabric.js';
import { DP1, DP2, DP3, iface, seedResources, seedVms } from './fixtures.js';

function scenarioFlows(): Flow[] {
  const place = [DP1, DP2, DP3];
  const vms = seedVms((n) => place[n % 3]!);
  const r = seedResources(vms, { encap: { [DP2]: 'vxlan' } });
  r.security_groups = [
    {
      uuid: 'sg-a',
      rules: [
        { uuid: 'sgr-1', direction: 'ingress', protocol: 'tcp', port_range_min: 1000, port_range_max: 1999 },
        { uuid: 'sgr-2', direction: 'ingress', protocol: 'udp', port_range_min: 53, remote_group_uuid: 'sg-a' },
        { uuid: 'sgr-3', direction: 'ingress', protocol: 'icmp', remote_ip_prefix: '10.0.0.0/8' },
        { uuid: 'sgr-4', direction: 'ingress', protocol: 'any' },
        {
          uuid: 'sgr-5',
          direction: 'egress',
          protocol: 'tcp',
          port_range_min: 8000,
          port_range_max: 8080,
          remote_group_uuid: 'sg-a',
        },
      ],
    },
  ];
  for (const i of r.interfaces!) if (i.uuid === 'if-veth1' || i.uuid === 'if-veth4') i.security_group_uuids = ['sg-a'];
  r.filters = [
    {
      uuid: 'fil-1',
      interface_uuid: 'if-veth5',
      ingress_passthrough: true,
      egress_passthrough: false,
      statics: [
        {
          protocol: 'udp',
          action: 'drop',
          src_address: '0.0.0.0/0',
          dst_address: '0.0.0.0/0',
          src_port: 7,
          dst_port: 9,
        },
      ],
    },
  ];
  // A promiscuous port on dp-1 in net1: its learn() must read back as built, or every agent restart rewrites it.
  r.interfaces!.push({
    ...iface('if-prom9', 'promiscuous', 'nw-net1', '', null, { owner_datapath_uuid: DP1 }),
    mac_address: null,
    mac_leases: [],
  });
  const prom = { uuid: 'if-prom9', network: 'nw-net1', ip: '0.0.0.0', mac: '00:00:00:00:00:00', dp: DP1 };
  const fab = new Fabric(r, [...vms, prom], place);
  assert.ok(
    fab.flows.get(DP1)!.some((f) => JSON.stringify(f, (_k, v) => (typeof v === 'bigint' ? 0 : v)).includes('"learn"')),
  );
  return place.flatMap((dp) => fab.flows.get(dp)!);
}

test('encode → decode of every generated flow gives its normalized form', () => {
  const flows = scenarioFlows();
  assert.ok(flows.length > 100);
  const back: Flow[] = [];
  for (const f of flows) {
    const bytes = encodeMessage({ type: 'flow_mod', xid: 1, command: 'add', flow: f });
    const m = decodeMessage(bytes);
    assert.equal(m.type, 'flow_mod');
    back.push((m as { flow: Flow }).flow);
  }
  for (let k = 0; k < flows.length; k++)
    assert.deepEqual(diffFlows([back[k]!], [normalizeFlow(flows[k]!)]), [], `flow ${k}`);
});

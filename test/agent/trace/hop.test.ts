// The agent's part of a trace: the packet as a flow for ofproto/trace, and real OVS 3.1 traces (the unixctl
// fixtures) read into hops — table names, cookie owners and how the packet left.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildModelView, type FeedResources } from '../../../src/agent/pipeline/model-view.js';
import { type HopContext, hopOf, natCtNext, TraceRefused, traceFlow } from '../../../src/agent/trace/hop.js';
import type { TraceAsk } from '../../../src/model/trace.js';
import { type OfprotoTrace, parseOfprotoTrace } from '../../../src/unixctl/index.js';

const fixture = (name: string) =>
  parseOfprotoTrace(readFileSync(new URL(`../../unixctl/fixtures/${name}.txt`, import.meta.url), 'utf8'));

const ctx: HopContext = {
  bridge: 'br0',
  datapathUuid: 'dp-1',
  nodeId: 'h1',
  tunnelPorts: { gre: 100, vxlan: null },
  ports: [
    { name: 'vnet-gre', ofport: 100, type: 'gre' },
    { name: 'if-a', ofport: 1, type: '' },
    { name: 'if-b', ofport: 2, type: '' },
  ],
  bound: [
    { interfaceUuid: 'if-a', portName: 'if-a', ofport: 1, via: 'port_name', networkUuid: 'nw-1' },
    { interfaceUuid: 'if-b', portName: 'if-b', ofport: 2, via: 'port_name', networkUuid: 'nw-1' },
  ],
  view: buildModelView(
    {
      datapaths: [
        { uuid: 'dp-1', dpid: '0x1', node_id: 'h1', ipv4_address: '192.168.100.1' },
        { uuid: 'dp-2', dpid: '0x2', node_id: 'h2', ipv4_address: '192.168.100.2' },
      ],
    } as unknown as FeedResources,
    1,
  ),
};

const packet = {
  eth_src: '52:54:00:00:00:01',
  eth_dst: '52:54:00:00:00:99',
  ip_src: '10.0.0.1',
  ip_dst: '10.0.0.9',
  proto: 'icmp' as const,
  ttl: 64,
};
const ask: TraceAsk = { datapath_uuid: 'dp-1', packet, from: { interface_uuid: 'if-a' } };

test('the packet enters at its interface port, or from a tunnel with its key and addresses', () => {
  assert.equal(
    traceFlow(ask, ctx),
    'in_port=1,icmp,dl_src=52:54:00:00:00:01,dl_dst=52:54:00:00:00:99,nw_src=10.0.0.1,nw_dst=10.0.0.9,nw_ttl=64,icmp_type=8,icmp_code=0',
  );
  const tcp = traceFlow({ ...ask, packet: { ...packet, proto: 'tcp', dport: 22 } }, ctx);
  assert.match(tcp, /^in_port=1,tcp,.*,tp_src=40000,tp_dst=22,tcp_flags=0x002$/);
  const tunnelled = traceFlow(
    { ...ask, from: { tunnel: { type: 'gre', src_ip: '192.168.100.2', dst_ip: '192.168.100.1', key: 7 } } },
    ctx,
  );
  assert.match(tunnelled, /^in_port=100,tun_id=7,tun_src=192\.168\.100\.2,tun_dst=192\.168\.100\.1,icmp,/);
  assert.throws(() => traceFlow({ ...ask, from: { interface_uuid: 'if-zz' } }, ctx), TraceRefused);
  assert.throws(
    () => traceFlow({ ...ask, from: { tunnel: { type: 'vxlan', src_ip: 'a', dst_ip: 'b', key: 1 } } }, ctx),
    /no vxlan tunnel port/,
  );
});

test('a native tunnel: the remote datapath from the model, the key, the packet as it left', () => {
  const h = hopOf(fixture('tunnel-gre'), ask, ctx);
  assert.deepEqual(h.outcome, {
    kind: 'tunnel',
    type: 'gre',
    local_ip: '192.168.100.1',
    remote_ip: '192.168.100.2',
    key: 0x1234,
    datapath_uuid: 'dp-2',
    packet: { ...packet, ttl: 0 },
  });
  assert.equal(h.flows[0]!.table_name, 'classifier');
  assert.equal(h.flows[0]!.cookie, '0x104000000001234');
  assert.deepEqual(h.flows[0]!.owner, { kind: 'pipeline', uuid: null, tag: 'icmp' });
  const phy = h.flows.find((f) => f.bridge === 'br-phy')!;
  assert.equal(phy.table_name, null, 'br-phy is not our pipeline');
  assert.match(h.datapath_actions, /ct\(zone=5\),recirc\(0x8\) \| tnl_push/);
});

test('delivered after a conntrack recirculation; a table miss; a packet-in', () => {
  assert.deepEqual(hopOf(fixture('ct-default'), ask, ctx).outcome, {
    kind: 'delivered',
    interface_uuid: 'if-b',
    port: 'if-b',
  });
  assert.deepEqual(hopOf(fixture('no-match'), ask, ctx).outcome, {
    kind: 'dropped',
    table: 0,
    table_name: 'classifier',
    owner: null,
  });
  assert.equal(hopOf(fixture('controller'), ask, ctx).outcome.kind, 'controller');
});

test('a tunnel OVS cannot send yet (no neighbour entry for the remote host) is reported as the pipeline chose it', () => {
  const text = readFileSync(new URL('../../unixctl/fixtures/tunnel-gre.txt', import.meta.url), 'utf8').replace(
    /Datapath actions: tnl_push\(.*$/m,
    'Datapath actions: drop',
  );
  const h = hopOf(parseOfprotoTrace(text), ask, ctx);
  assert.equal(h.outcome.kind, 'tunnel');
  if (h.outcome.kind === 'tunnel') {
    assert.equal(h.outcome.remote_ip, '192.168.100.2');
    assert.equal(h.outcome.key, 0x1234);
    assert.equal(h.outcome.datapath_uuid, 'dp-2');
    assert.equal(h.outcome.local_ip, '192.168.100.1');
  }
});

test('a conntrack resume that rewrote the source is traced again with +snat (ofproto/trace leaves it out)', () => {
  const rec = (ctState: string | null, nat: { initial: string; modified: string } | null) =>
    ({ ctState, nat }) as OfprotoTrace['recirculations'][number];
  const trace = (...recirculations: OfprotoTrace['recirculations']) => ({ recirculations }) as OfprotoTrace;
  const snat = {
    initial: 'icmp,nw_src=10.0.0.10,nw_dst=198.51.100.10',
    modified: 'icmp,nw_src=192.168.10.12,nw_dst=198.51.100.10',
  };
  assert.deepEqual(natCtNext(trace(rec('trk|new', null), rec('trk|new', snat))), ['trk,new', 'trk,new,snat']);
  // Already there (the second trace), no NAT, or a recirculation that is not conntrack's: nothing to add.
  assert.equal(natCtNext(trace(rec('trk|new|snat', snat))), null);
  assert.equal(
    natCtNext(trace(rec('est|rpl|trk', { initial: snat.initial, modified: snat.initial }), rec(null, null))),
    null,
  );
});

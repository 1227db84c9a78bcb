// The agent's metrics: read from its status() at each scrape (the account SIGUSR2 logs), served on a plain HTTP
// listener, in text promtool parses; --metrics-listen is off unless given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentStatus } from '../../../src/agent/runtime/agent-status.js';
import { AGENT_METRICS, AgentMetrics } from '../../../src/agent/runtime/metrics.js';
import { AgentConfigError } from '../../../src/agent/runtime/errors.js';
import { parseAgentOptions } from '../../../src/agent/runtime/options.js';
import { assertPromtoolAccepts, sampleValue } from '../../lib/prometheus-text.js';

function status(over: Partial<AgentStatus> = {}, counters: Partial<AgentStatus['counters']> = {}): AgentStatus {
  return {
    phase: 'running',
    dpid: '0x0000000000000001',
    datapathUuid: 'dp-1',
    switchConnected: true,
    ovsdbConnected: true,
    flowsInSync: true,
    installedFlows: 120,
    desiredFlows: 120,
    lastError: null,
    warnings: [],
    bound: [
      { interfaceUuid: 'if-a', portName: 'if-a', ofport: 3, via: 'port_name', networkUuid: 'nw-1' },
      { interfaceUuid: 'if-b', portName: 'if-b', ofport: 4, via: 'port_name', networkUuid: 'nw-1' },
    ],
    feedRevision: 42,
    feedServer: 'http://ctl2:9090',
    counters: {
      syncs: 5,
      flowModsSent: 130,
      openflowReconnects: 1,
      ovsdbReconnects: 0,
      packetIns: 9,
      packetInsByKind: { dhcp: 7, too_big: 1, other: 1 },
      dhcpReplies: 4,
      dhcpDropped: 3,
      fragNeededSent: 1,
      tooBigDropped: 0,
      dhcpEvents: { offer: 2, ack: 2, ignored: 3 },
      dnsReplies: 2,
      dnsDropped: 0,
      dnsEvents: { answered: 1, refused: 1 },
      reportsSent: 11,
      ...counters,
    },
    snat: {
      translations: {
        'tr-snata': { connections: 7, ports: 10, refusedPackets: 3 },
        'tr-unread': { connections: null, ports: 10, refusedPackets: 0 },
      },
      table: { connections: 9, max: 3_000_000 },
    },
    ...over,
  };
}

test('every metric is read from the status it is given; the sync histogram from what was observed', async (t) => {
  const m = new AgentMetrics();
  m.syncDuration(0.004);
  m.syncDuration(0.02);
  const text = await m.text(status());
  for (const s of AGENT_METRICS) assert.match(text, new RegExp(`^# TYPE ${s.name} ${s.type}$`, 'm'), s.name);
  const v = (name: string, labels?: Record<string, string>) => sampleValue(text, name, labels);
  assert.equal(v('vnet_agent_flows_installed'), 120);
  assert.equal(v('vnet_agent_flows_desired'), 120);
  assert.equal(v('vnet_agent_flows_in_sync'), 1);
  assert.equal(v('vnet_agent_flow_mods_total'), 130);
  assert.equal(v('vnet_agent_syncs_total'), 5);
  assert.equal(v('vnet_agent_sync_duration_seconds_count'), 2);
  assert.equal(v('vnet_agent_sync_duration_seconds_bucket', { le: '0.005' }), 1);
  assert.equal(v('vnet_agent_openflow_connected'), 1);
  assert.equal(v('vnet_agent_openflow_reconnects_total'), 1);
  assert.equal(v('vnet_agent_ovsdb_connected'), 1);
  assert.equal(v('vnet_agent_ovsdb_reconnects_total'), 0);
  assert.equal(v('vnet_agent_packet_ins_total', { kind: 'dhcp' }), 7);
  assert.equal(v('vnet_agent_packet_ins_total', { kind: 'too_big' }), 1);
  assert.equal(v('vnet_agent_dhcp_requests_total', { event: 'offer' }), 2);
  assert.equal(v('vnet_agent_dhcp_requests_total', { event: 'ignored' }), 3);
  assert.equal(v('vnet_agent_dhcp_replies_total'), 4);
  assert.equal(v('vnet_agent_dhcp_dropped_total'), 3);
  assert.equal(v('vnet_agent_frag_needed_sent_total'), 1);
  assert.equal(v('vnet_agent_bindings'), 2);
  assert.equal(v('vnet_agent_reports_sent_total'), 11);
  assert.equal(v('vnet_agent_feed_revision'), 42);
  assert.equal(v('vnet_agent_feed_server', { server: 'http://ctl2:9090' }), 1);
  assert.equal(v('vnet_agent_snat_connections', { translation: 'tr-snata' }), 7);
  assert.equal(v('vnet_agent_snat_connections', { translation: 'tr-unread' }), undefined, 'not read yet: no sample');
  assert.equal(v('vnet_agent_snat_ports', { translation: 'tr-snata' }), 10);
  assert.equal(v('vnet_agent_snat_refused_packets_total', { translation: 'tr-snata' }), 3);
  assert.equal(v('vnet_agent_conntrack_connections'), 9);
  assert.equal(v('vnet_agent_conntrack_max'), 3_000_000);
  assert.match(text, /^process_resident_memory_bytes /m);
  assertPromtoolAccepts(t, text);

  // The next scrape reads the status anew: a disconnected switch, counts that moved on.
  const later = await m.text(
    status(
      { switchConnected: false, flowsInSync: false, feedServer: null },
      { dhcpEvents: { offer: 5, ack: 2, ignored: 3 } },
    ),
  );
  assert.equal(sampleValue(later, 'vnet_agent_feed_server', { server: 'http://ctl2:9090' }), undefined, 'no stream');
  assert.equal(sampleValue(later, 'vnet_agent_openflow_connected'), 0);
  assert.equal(sampleValue(later, 'vnet_agent_flows_in_sync'), 0);
  assert.equal(sampleValue(later, 'vnet_agent_dhcp_requests_total', { event: 'offer' }), 5);
});

test('served on its own listener: GET /metrics, nothing else', async () => {
  const m = new AgentMetrics();
  let reads = 0;
  const { port } = await m.serve({ host: '127.0.0.1', port: 0 }, () => {
    reads++;
    return status();
  });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(sampleValue(await res.text(), 'vnet_agent_flows_installed'), 120);
    assert.equal(reads, 1, 'one status() per scrape');
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await m.close();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
});

test('a listener that cannot listen rejects (the agent then exits)', async () => {
  const a = new AgentMetrics();
  const { port } = await a.serve({ host: '127.0.0.1', port: 0 }, () => status());
  try {
    await assert.rejects(
      new AgentMetrics().serve({ host: '127.0.0.1', port }, () => status()),
      /EADDRINUSE/,
    );
  } finally {
    await a.close();
  }
});

test('--metrics-listen is off by default and checked like --listen', () => {
  assert.equal(parseAgentOptions({ nodeId: 'n1' }).metricsListen, null);
  assert.deepEqual(parseAgentOptions({ nodeId: 'n1', metricsListen: '127.0.0.1:9101' }).metricsListen, {
    host: '127.0.0.1',
    port: 9101,
  });
  for (const bad of ['9101', 'localhost:9101', '127.0.0.1:0', '127.0.0.1:70000'])
    assert.throws(
      () => parseAgentOptions({ nodeId: 'n1', metricsListen: bad }),
      (e: unknown) => e instanceof AgentConfigError && /metrics-listen/.test(e.message),
      bad,
    );
});

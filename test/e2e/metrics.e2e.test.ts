// Metrics end to end: agents run with --metrics-listen in two lab hosts; after a real DHCP exchange (busybox
// udhcpc) and pings across hosts, a scrape of the agent shows its flows installed and in sync, both connections
// up, the packet-ins and DHCP counters moved; the server's /metrics (admin token: the cluster requires tokens)
// shows the agents' change streams and their reports. Both texts pass promtool.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { freePort } from '../lib/free-port.js';
import { assertPromtoolAccepts, sampleValue } from '../lib/prometheus-text.js';
import { waitFor } from '../lib/wait-for.js';
import { addDhcpService, addSeedVm, assertE2eEnvironment, failureReport, labPrefix } from './helpers.js';

const METRICS_PORT = 9101;
const DHCP_IF = { uuid: 'if-dhcpm', ip: '172.16.1.250', mac: '52:54:00:74:00:fa' };
/** No address until DHCP gives it one; on h1, while ns2 (172.16.1.2) is on h2. */
const VM = { name: 'm1', host: 'h1', uuid: 'if-m1', ip: '172.16.1.31', mac: '52:54:00:0d:f1:01' };

let cluster: Cluster;
/** Each agent's /metrics as the root namespace reaches it. */
const agentMetrics = new Map<string, string>();

async function scrape(url: string, token?: string): Promise<string> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('emet'), hosts: ['h1', 'h2'], startAgents: false });
  for (const h of ['h1', 'h2']) {
    await cluster.startAgent(h, ['--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
    const port = await freePort();
    await cluster.lab.forward({ from: { node: 'root', port }, to: { node: h, port: METRICS_PORT } });
    agentMetrics.set(h, `http://127.0.0.1:${port}/metrics`);
  }
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addDhcpService(cluster, DHCP_IF, 'ns-dhcpm');
  await cluster.call('POST', '/interfaces', {
    uuid: VM.uuid,
    network_uuid: 'nw-net1',
    ipv4_address: VM.ip,
    mac_address: VM.mac,
  });
  await cluster.lab.addVm({ name: VM.name, host: VM.host, mac: VM.mac, ip: null, mtu: 1500, port: VM.uuid });
  await addSeedVm(cluster, 'ns2', 'h2');
  await cluster.waitInSync(20_000);
});

after(async () => {
  await cluster?.down();
});

test('after DHCP and pings, an agent’s metrics show its flows, connections, packet-ins and DHCP', async (t) => {
  const lease = await cluster.lab.dhcp(VM.name);
  if (!lease.ok) assert.fail(`udhcpc in ${VM.name}: ${lease.output}\n${await failureReport(cluster)}`);
  assert.equal(lease.ip, VM.ip);
  const ping = await cluster.lab.waitPing(VM.name, '172.16.1.2', { timeoutMs: 10_000 });
  assert.ok(ping.received > 0, ping.output);

  const text = await scrape(agentMetrics.get('h1')!);
  const v = (name: string, labels?: Record<string, string>) => sampleValue(text, name, labels) ?? 0;
  t.diagnostic(
    `h1: ${v('vnet_agent_flows_installed')} flows, ${v('vnet_agent_syncs_total')} syncs, packet-ins dhcp ${v('vnet_agent_packet_ins_total', { kind: 'dhcp' })}`,
  );
  assert.ok(v('vnet_agent_flows_installed') > 0, 'flows installed');
  assert.equal(v('vnet_agent_flows_installed'), v('vnet_agent_flows_desired'));
  assert.equal(v('vnet_agent_flows_in_sync'), 1);
  assert.equal(v('vnet_agent_openflow_connected'), 1);
  assert.equal(v('vnet_agent_ovsdb_connected'), 1);
  assert.ok(v('vnet_agent_flow_mods_total') >= v('vnet_agent_flows_installed'), 'a fresh bridge got every flow');
  assert.ok(v('vnet_agent_syncs_total') >= 1);
  assert.equal(v('vnet_agent_sync_duration_seconds_count'), v('vnet_agent_syncs_total'));
  // DISCOVER and REQUEST were punted, answered with an offer and an ack.
  assert.ok(v('vnet_agent_packet_ins_total', { kind: 'dhcp' }) >= 2, 'DHCP packet-ins');
  assert.ok(v('vnet_agent_dhcp_requests_total', { event: 'offer' }) >= 1, 'offers');
  assert.ok(v('vnet_agent_dhcp_requests_total', { event: 'ack' }) >= 1, 'acks');
  assert.ok(v('vnet_agent_dhcp_replies_total') >= 2, 'replies');
  assert.ok(v('vnet_agent_bindings') >= 1, 'the VM is bound');
  assert.ok(v('vnet_agent_reports_sent_total') >= 1);
  assertPromtoolAccepts(t, text);

  // h2 answered no DHCP: its counters stay at zero while its flows are in.
  const h2 = await scrape(agentMetrics.get('h2')!);
  assert.equal(sampleValue(h2, 'vnet_agent_dhcp_replies_total'), 0);
  assert.ok((sampleValue(h2, 'vnet_agent_flows_installed') ?? 0) > 0);
});

test('the server’s metrics show the agents’ streams and reports; the agents catch up with its revision', async (t) => {
  const base = `${cluster.api}/metrics`;
  const token = cluster.adminToken ?? undefined;
  const text = await scrape(base, token);
  assert.ok((sampleValue(text, 'vnet_feed_watchers') ?? 0) >= 2, 'both agents follow the feed');
  assert.ok(
    (sampleValue(text, 'vnet_http_requests_total', {
      method: 'PUT',
      route: '/api/1.0/datapaths/:uuid/status',
      status: '200',
    }) ?? 0) >= 2,
    'status reports counted by route pattern',
  );
  assert.ok((sampleValue(text, 'vnet_store_commit_duration_seconds_count') ?? 0) > 0);
  assertPromtoolAccepts(t, text);
  // No token: refused (the cluster's server listens on every address, so it requires tokens).
  assert.equal((await fetch(base)).status, 401);

  const revision = sampleValue(text, 'vnet_store_revision') ?? 0;
  assert.ok(revision > 0);
  for (const h of ['h1', 'h2'])
    await waitFor(
      async () => (sampleValue(await scrape(agentMetrics.get(h)!), 'vnet_agent_feed_revision') ?? 0) >= revision,
      `${h}'s vnet_agent_feed_revision to reach ${revision}`,
    );
});

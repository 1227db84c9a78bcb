// POST /traces relays each host's part to that host's agent down its own feed stream and follows the packet across
// tunnels; agents answer with PUT /agent_requests/:id. Here the agents are feed clients answering canned hops (the
// real switches' part is test/e2e/trace.e2e.test.ts): what is relayed, composed, refused and timed out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient, type AgentRequestEvent, FeedClient } from '../../src/client/index.js';
import { Forbidden, UnknownUUIDResource } from '../../src/model/errors.js';
import type { TraceAsk, TraceHop, TraceResult } from '../../src/model/trace.js';
import { AgentRequests } from '../../src/server/agent-requests.js';
import { call, fails, ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
const asked: { node: string; ask: TraceAsk }[] = [];
const agents = new Map<string, FeedClient>();

/** A fake agent of `node`: follows the feed and answers each trace with `answer(ask)` (or never, when null). */
async function fakeAgent(node: string, answer: ((ask: TraceAsk) => TraceHop) | null): Promise<void> {
  const api = new ApiClient({ baseUrl: s.base });
  const feed = new FeedClient({ baseUrl: s.base, nodeId: node, initialBackoffMs: 50 });
  feed.on('request', (r: AgentRequestEvent) => {
    const ask = r.body as TraceAsk;
    asked.push({ node, ask });
    if (answer) void api.answerAgentRequest(r.id, { result: JSON.stringify(answer(ask)) });
  });
  const connected = new Promise<void>((resolve) => feed.once('connected', () => resolve()));
  feed.start();
  agents.set(node, feed);
  await connected;
}

const hop = (datapath: string, node: string, outcome: TraceHop['outcome']): TraceHop => ({
  datapath_uuid: datapath,
  node_id: node,
  flows: [
    {
      bridge: 'br0',
      table: 14,
      table_name: 'l2_lookup',
      priority: 100,
      cookie: '0x406',
      owner: { kind: 'network', uuid: 'nw-t', tag: 'l2' },
      match: 'dl_dst=02:00:00:00:09:02',
      actions: ['output:4'],
    },
  ],
  outcome,
  datapath_actions: '4',
});

before(async () => {
  s = await startServer({ agentRequestTimeoutMs: 400 });
  await ok(s, 'POST', '/api/1.0/datapaths', {
    uuid: 'dp-h9',
    dpid: '0x9',
    node_id: 'h9',
    ipv4_address: '192.168.100.9',
  });
  await ok(s, 'POST', '/api/1.0/datapaths', {
    uuid: 'dp-h8',
    dpid: '0x8',
    node_id: 'h8',
    ipv4_address: '192.168.100.8',
  });
  await ok(s, 'POST', '/api/1.0/networks', { uuid: 'nw-t', ipv4_network: '10.9.0.0', ipv4_prefix: 24 });
  const ifaces = [
    ['if-a', '10.9.0.1', '02:00:00:00:09:01'],
    ['if-b', '10.9.0.2', '02:00:00:00:09:02'],
    ['if-c', '10.9.0.3', '02:00:00:00:09:03'],
  ];
  for (const [uuid, ip, mac] of ifaces)
    await ok(s, 'POST', '/api/1.0/interfaces', { uuid, network_uuid: 'nw-t', ipv4_address: ip, mac_address: mac });
  await ok(s, 'PUT', '/api/1.0/interfaces/if-a/binding', { status: 'up', active_datapath_uuid: 'dp-h9' });
  await fakeAgent('h9', (ask) =>
    hop('dp-h9', 'h9', {
      kind: 'tunnel',
      type: 'vxlan',
      local_ip: '192.168.100.9',
      remote_ip: '192.168.100.8',
      key: 7,
      datapath_uuid: 'dp-h8',
      packet: { ...ask.packet, ttl: 63 },
    }),
  );
  await fakeAgent('h8', () => hop('dp-h8', 'h8', { kind: 'delivered', interface_uuid: 'if-b', port: 'if-b' }));
});

after(async () => {
  for (const a of agents.values()) await a.stop();
  await s?.close();
});

test('the packet is traced on its host, then on the host its tunnel leads to', async () => {
  asked.length = 0;
  const r = (await ok(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-a', dst: '10.9.0.2' })) as TraceResult;
  assert.equal(r.result, 'delivered');
  assert.match(r.verdict, /delivered to if-b on dp-h8/);
  assert.deepEqual(
    asked.map((a) => a.node),
    ['h9', 'h8'],
  );
  // The first host gets the packet as the VM sends it (to its neighbour's MAC, looked up in the model) ...
  assert.deepEqual(asked[0]!.ask.from, { interface_uuid: 'if-a' });
  assert.equal(asked[0]!.ask.packet.eth_dst, '02:00:00:00:09:02');
  assert.equal(asked[0]!.ask.packet.proto, 'icmp');
  // ... the next one as the tunnel delivers it.
  assert.deepEqual(asked[1]!.ask.from, {
    tunnel: { type: 'vxlan', src_ip: '192.168.100.9', dst_ip: '192.168.100.8', key: 7 },
  });
  assert.equal(asked[1]!.ask.packet.ttl, 63);
  assert.ok(
    r.path.some((p) => /tunnel \(vxlan key 7\) from dp-h9 to dp-h8/.test(p)),
    r.path.join(' → '),
  );
  assert.equal(r.path.at(-1), 'interface if-b');
});

test("the source may be given by the VM's MAC or address; an address two networks have is refused", async () => {
  const byMac = (await ok(s, 'POST', '/api/1.0/traces', {
    src_mac: '02:00:00:00:09:01',
    dst: '10.9.0.2',
  })) as TraceResult;
  assert.equal(byMac.from_interface, 'if-a');
  const byIp = (await ok(s, 'POST', '/api/1.0/traces', { src_ip: '10.9.0.1', dst: '10.9.0.2' })) as TraceResult;
  assert.equal(byIp.from_interface, 'if-a');
  await fails(
    s,
    'POST',
    '/api/1.0/traces',
    { src_ip: '10.9.0.1', src_mac: '02:00:00:00:09:01', dst: '10.9.0.2' },
    400,
    '110',
    'src_ip',
  );
  await fails(s, 'POST', '/api/1.0/traces', { src_mac: '02:00:00:00:09:77', dst: '10.9.0.2' }, 404, '114');
  await ok(s, 'POST', '/api/1.0/networks', { uuid: 'nw-t2', ipv4_network: '10.9.0.0', ipv4_prefix: 24 });
  await ok(s, 'POST', '/api/1.0/interfaces', {
    uuid: 'if-a2',
    network_uuid: 'nw-t2',
    ipv4_address: '10.9.0.1',
    mac_address: '02:00:00:00:09:11',
  });
  const r = await call(s, 'POST', '/api/1.0/traces', { src_ip: '10.9.0.1', dst: '10.9.0.2' });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.field, 'src_ip');
  assert.match(r.body.message, /if-a \(nw-t\) and if-a2 \(nw-t2\)/);
});

test('an unbound interface is answered from the model, without asking any agent', async () => {
  asked.length = 0;
  const r = (await ok(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-c', dst: '10.9.0.2' })) as TraceResult;
  assert.equal(r.result, 'unbound');
  assert.match(r.verdict, /no binding for if-c/);
  assert.equal(asked.length, 0);
});

test('an address nothing in the network has: the ARP request would go unanswered', async () => {
  const r = (await ok(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-a', dst: '10.9.0.77' })) as TraceResult;
  assert.equal(r.result, 'unreachable');
  assert.match(r.verdict, /nothing on nw-t has 10\.9\.0\.77/);
});

test('bad input names the field', async () => {
  await fails(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-a', dst: 'x' }, 400, '110', 'dst');
  await fails(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-a' }, 400, '111', 'dst');
  await fails(
    s,
    'POST',
    '/api/1.0/traces',
    { interface_uuid: 'if-a', dst: '10.9.0.2', proto: 'sctp' },
    400,
    '110',
    'proto',
  );
  await fails(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-zz', dst: '10.9.0.2' }, 404, '100', 'interface_uuid');
  await fails(s, 'PUT', '/api/1.0/agent_requests/rq-0123456789abcdef', { result: '{}' }, 404, '100', 'id');
});

test('an agent that is gone: 503; one that does not answer: 504, naming the node', async () => {
  await agents.get('h8')!.stop();
  agents.delete('h8');
  const gone = await call(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-a', dst: '10.9.0.2' });
  assert.equal(gone.status, 503, gone.text);
  assert.match(gone.body.message, /no agent of node h8/);
  await fakeAgent('h8', null);
  const silent = await call(s, 'POST', '/api/1.0/traces', { interface_uuid: 'if-a', dst: '10.9.0.2' });
  assert.equal(silent.status, 504, silent.text);
  assert.equal(silent.body.code, '134');
  assert.match(silent.body.message, /node h8 did not answer/);
});

test('only the node a request went to may answer it, and only once', () => {
  const requests = new AgentRequests(1000);
  const written: string[] = [];
  const res = { writableEnded: false, write: (t: string) => written.push(t) } as never;
  requests.attach('n1', res);
  const pending = requests.ask('n1', 'trace', { x: 1 });
  const id = (JSON.parse(written[0]!.split('data: ')[1]!) as { id: string }).id;
  assert.throws(() => requests.answer('n2', id, { result: 1 }), Forbidden);
  requests.answer('n1', id, { result: 'done' });
  assert.throws(() => requests.answer('n1', id, { result: 'again' }), UnknownUUIDResource);
  return pending.then((v) => assert.equal(v, 'done'));
});

// Issue 23 item 8: the OpenFlow listener never drops a live switch for an impostor. The impostor here passes the
// program check (switch-identity.ts) — it is a real ovs-vswitchd of a second OVS instance, whose bridge claims the
// agent's datapath id and points at the agent's listener. The agent keeps the switch that still answers, closes
// the newcomer with a log line, and keeps programming its own bridge.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { Agent } from '../../../src/agent/runtime/agent.js';
import { parseAgentOptions } from '../../../src/agent/runtime/options.js';
import { buildAgentDeps } from '../../../src/agent/runtime/wire.js';
import { type OvsInstance, startOvs } from '../../../src/lab/ovs-instance.js';
import { freePort } from '../../lib/free-port.js';
import { waitFor } from '../../lib/wait-for.js';
import { startServer, type TestServer } from '../../server/helpers.js';

const BRIDGE = `imp${process.pid % 100000}`;
const lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
let server: TestServer;
let ours: OvsInstance;
let impostor: OvsInstance | undefined;
let agent: Agent | undefined;
let ofPort = 0;

before(async () => {
  server = await startServer();
  ours = await startOvs({ dir: `/tmp/vnet-imp-a-${process.pid}`, dummy: true });
  ofPort = await freePort();
  const config = parseAgentOptions({
    server: server.base,
    nodeId: 'imp1',
    bridge: BRIDGE,
    ovsdb: `unix:${ours.dbSock}`,
    listen: `127.0.0.1:${ofPort}`,
    // The listener path: an impostor can only come in where ovs-vswitchd dials the agent.
    switchSocket: 'none',
    createBridge: true,
    datapathType: 'netdev',
    register: true,
  });
  // The agent as `vnet agent` builds it, in this process (the metadata service is not under test here).
  const deps = Object.assign(await buildAgentDeps(config, log), { metadata: undefined });
  agent = new Agent(deps);
  agent.start();
  await waitFor(
    () => agent!.status().switchConnected && agent!.status().flowsInSync,
    () => `the agent in sync with its switch: ${JSON.stringify(agent!.status())}`,
    { timeoutMs: 30_000 },
  );
});
after(async () => {
  await agent?.stop();
  await impostor?.stop();
  await ours?.stop();
  await server?.close();
});

test('a second ovs-vswitchd claiming our dpid is closed; the live switch stays connected and programmed', async () => {
  const dpid = agent!.status().dpid!.replace(/^0x/, '').padStart(16, '0');
  const flowsBefore = agent!.status().installedFlows;
  impostor = await startOvs({ dir: `/tmp/vnet-imp-b-${process.pid}`, dummy: true });
  await impostor.vsctl(
    'add-br',
    'brimp',
    '--',
    'set',
    'bridge',
    'brimp',
    `other_config:datapath-id=${dpid}`,
    'protocols=OpenFlow13',
    'datapath_type=netdev',
  );
  await impostor.vsctl('set-controller', 'brimp', `tcp:127.0.0.1:${ofPort}`);
  await waitFor(
    () => lines.some((l) => String(l.msg).startsWith('a second connection claims our bridge while the switch answers')),
    () => `the newcomer to be closed: ${JSON.stringify(lines.slice(-5))}`,
    { timeoutMs: 30_000 },
  );
  const st = agent!.status();
  assert.equal(st.switchConnected, true);
  assert.equal(st.counters.openflowReconnects, 0, 'the live session was never replaced');
  assert.equal(st.installedFlows, flowsBefore);
  // The impostor got nothing; our bridge still has the agent's flows and its controller connection.
  assert.doesNotMatch(await impostor.ofctl('dump-flows', 'brimp'), /cookie=0x[1-9a-f]/);
  assert.ok((await ours.ofctl('dump-flows', BRIDGE)).split('\n').length > 5);
  await waitFor(async () => /true/.test(await ours.vsctl('get', 'controller', BRIDGE, 'is_connected')), 'connected', {
    timeoutMs: 20_000,
  });
  // And the agent still follows the model and keeps its switch in sync.
  const r = await fetch(`${server.base}/api/1.0/networks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uuid: 'nw-imp1', ipv4_network: '10.77.0.0', ipv4_prefix: 24 }),
  });
  assert.equal(r.status, 200, await r.text());
  const revision = await server.store.read((tx) => tx.revision());
  await waitFor(
    () => agent!.status().feedRevision >= revision && agent!.status().flowsInSync,
    () => `the agent to apply the new network: ${JSON.stringify(agent!.status())}`,
    { timeoutMs: 20_000 },
  );
  assert.equal(agent!.status().switchConnected, true);
});

// The agent's change spans (change-span.ts) through the whole Agent on fakes of deps.ts: a feed change stamped
// with its commit time comes out as one `flows reconciled` line with every stage, non-negative and in order, and
// in the metrics' stage histograms.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { pino } from 'pino';
import { Agent } from '../../../src/agent/runtime/agent.js';
import type { ChangeSpan } from '../../../src/agent/runtime/change-span.js';
import type {
  BridgeControl,
  BridgePort,
  FeedEvent,
  FlowModLike,
  SwitchLink,
  SwitchListener,
} from '../../../src/agent/runtime/deps.js';
import { AgentMetrics } from '../../../src/agent/runtime/metrics.js';
import { parseAgentOptions } from '../../../src/agent/runtime/options.js';
import { sampleValue } from '../../lib/prometheus-text.js';
import { waitFor } from '../../lib/wait-for.js';
import { DP1, iface, NET, seedResources } from '../pipeline/fixtures.js';

/** The fake switch's delays: writing the flow-mods, then the reply to the barrier and bundle commit. */
const WRITE_MS = 4;
const REPLY_MS = 6;

function fakes() {
  const ports: BridgePort[] = [
    { name: 'vnet-gre', ofport: 100, type: 'gre' },
    { name: 'vnet-vxlan', ofport: 101, type: 'vxlan' },
    { name: 'if-veth1', ofport: 1, type: '' },
    { name: 'if-new', ofport: 9, type: '' },
  ];
  const bridge: BridgeControl = {
    ready: async () => {},
    waitForBridge: async () => {},
    bridgeExists: () => true,
    createBridge: async () => {},
    takeOverBridge: async () => {},
    ensureTunnelPort: async () => {},
    bridgeDatapathId: async () => 1n,
    interfaces: () => ports,
    onBridgeChanged: () => {},
    onInterfacesChanged: () => {},
    onConnection: () => {},
    close: async () => {},
  };
  const sent: FlowModLike[][] = [];
  const link: SwitchLink = {
    dpid: 1n,
    ensureMeters: async () => {},
    deleteMeters: async () => {},
    dumpFlows: async () => [],
    async sendFlowMods(mods, opts) {
      await sleep(WRITE_MS);
      sent.push(mods);
      opts.onWritten?.();
      await sleep(REPLY_MS);
    },
    packetOut: async () => {},
    onPacketIn: () => {},
    onClose: () => {},
    close: () => {},
    isAlive: async () => true,
  };
  let onSwitch: ((l: SwitchLink) => void) | null = null;
  const switches: SwitchListener = {
    onSwitch: (l) => {
      onSwitch = l;
    },
    close: async () => {},
    controller: 'tcp:127.0.0.1:6633',
    describe: 'listen 127.0.0.1:6633',
  };
  let feed: ((ev: FeedEvent) => void) | null = null;
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const metrics = new AgentMetrics();
  const agent = new Agent({
    config: parseAgentOptions({ nodeId: 'host1', bridge: 'br-span' }),
    log,
    bridge,
    switches,
    feed: { start: (l) => void (feed = l), close: () => {} },
    api: {
      answerRequest: async () => ({}),
      reportDatapathStatus: async () => ({}),
      reportInterfaceBinding: async () => ({}),
      reportTranslationStatus: async () => ({}),
      createDatapath: async () => ({}),
    },
    observer: metrics,
  });
  return {
    agent,
    lines,
    sent,
    metrics,
    feed: (ev: FeedEvent) => feed!(ev),
    connect: () => onSwitch!(link),
    spans: () => lines.filter((l) => l.span === 'change') as unknown as ChangeSpan[],
  };
}

test('a feed change comes out as one span: every stage present, non-negative, in order, within the wall time', async (t) => {
  const f = fakes();
  f.agent.start();
  t.after(() => f.agent.stop());
  f.feed({ kind: 'snapshot', revision: 10, resources: seedResources([]) as never });
  f.connect();
  await waitFor(() => f.agent.status().flowsInSync, 'first sync', { timeoutMs: 5000, everyMs: 5 });
  const before = f.spans().length;

  const committedAt = Date.now() - 3;
  const item = iface('if-new', 'vif', NET.net1.uuid, '02:00:00:00:00:99', '172.16.1.99');
  f.feed({
    kind: 'change',
    change: { revision: 11, resource: 'interfaces', uuid: 'if-new', op: 'upsert', item, committed_at: committedAt },
  });
  await waitFor(() => f.spans().some((s) => s.revision === 11), 'the change span', { timeoutMs: 5000, everyMs: 5 });
  const end = Date.now();
  const mine = f.spans().slice(before);
  assert.equal(mine.length, 1, `one span for the change: ${JSON.stringify(mine)}`);
  const s = mine[0]!;
  assert.equal(s.revision, 11);
  assert.equal(s.first_revision, 11);
  assert.equal(s.changes, 1);
  assert.equal(s.committed_at, committedAt);
  assert.ok(s.flow_mods > 0, 'the new port got flows');
  assert.equal(s.flow_mods, f.sent.at(-1)!.length);
  const st = s.stages;
  const order = ['deliver_ms', 'apply_ms', 'wait_ms', 'compute_ms', 'meters_ms', 'send_ms', 'barrier_ms'] as const;
  for (const k of order) {
    assert.equal(typeof st[k], 'number', `${k} present`);
    assert.ok(st[k]! >= 0, `${k} = ${st[k]} is not negative`);
  }
  assert.ok(st.deliver_ms! >= 3, `delivery counts from the commit (${st.deliver_ms} ms)`);
  // The stages are consecutive: from the commit they cannot add up to more than the time that passed since.
  const sum = order.reduce((a, k) => a + st[k]!, 0);
  assert.ok(sum <= end - committedAt + 2, `stages ${sum} ms ≤ wall ${end - committedAt} ms`);
  // The switch's delays fall in the right stages: writing in send, the reply in barrier.
  assert.ok(st.send_ms >= WRITE_MS - 1, `send ${st.send_ms} ≥ ${WRITE_MS}`);
  assert.ok(st.barrier_ms >= REPLY_MS - 1, `barrier ${st.barrier_ms} ≥ ${REPLY_MS}`);

  const text = await f.metrics.text(f.agent.status());
  for (const stage of ['deliver', 'apply', 'wait', 'compute', 'meters', 'send', 'barrier'])
    assert.ok(
      (sampleValue(text, 'vnet_agent_change_stage_seconds_count', { stage }) ?? 0) >= 1,
      `stage ${stage} observed`,
    );
  assert.equal(sampleValue(text, 'vnet_agent_change_seconds_count'), 1);
});

test('a status-only change (a report echo) is a debug span with no flow-mods; a change without commit time has no deliver stage', async (t) => {
  const f = fakes();
  f.agent.start();
  t.after(() => f.agent.stop());
  f.feed({ kind: 'snapshot', revision: 10, resources: seedResources([]) as never });
  f.connect();
  await waitFor(() => f.agent.status().flowsInSync, 'first sync', { timeoutMs: 5000, everyMs: 5 });
  const dp = (seedResources([]).datapaths as Record<string, unknown>[]).find((d) => d.uuid === DP1)!;
  f.feed({
    kind: 'change',
    change: { revision: 11, resource: 'datapaths', uuid: DP1, op: 'upsert', item: { ...dp, is_connected: true } },
  });
  await waitFor(() => f.spans().some((s) => s.revision === 11), 'the echo span', { timeoutMs: 5000, everyMs: 5 });
  const line = f.lines.find((l) => l.span === 'change' && l.revision === 11)!;
  assert.equal(line.level, 20, 'debug');
  assert.equal(line.flow_mods, 0);
  const st = line.stages as ChangeSpan['stages'];
  assert.equal(st.deliver_ms, undefined);
  assert.equal(line.committed_at, undefined);
  assert.ok(st.apply_ms! >= 0 && st.compute_ms >= 0);
});

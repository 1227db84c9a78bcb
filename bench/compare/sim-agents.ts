// Simulated agents (issue 8, metric 7): a child process that runs many agents' control loops without OVS.
// Each one follows the server's change feed with the agent's own FeedSource, keeps the agent's ModelView and
// computes its desired flows with the agent's FlowCompiler for a fixed set of local ports; there is no switch.
// The parent sends {await: uuid}; the answer {done, at} comes once every agent here has applied the change to
// that uuid and recomputed its flows (at = wall-clock ms of the last one).
//   forked by bench/compare/simulated.ts with argv: BASE_URL JSON_AGENTS
import { FlowCompiler } from '../../src/agent/pipeline/flows.js';
import {
  applyChange,
  buildModelView,
  type ChangeKey,
  type FeedResources,
  type LocalContext,
  type ModelView,
} from '../../src/agent/pipeline/model-view.js';
import { ServerFeed } from '../../src/agent/runtime/feed-source.js';
import { ApiClient } from '../../src/client/index.js';

export interface SimAgentSpec {
  datapathUuid: string;
  dpid: string;
  tunnelIp: string;
  /** OVS port names of its local ports (interface uuids, OpenVNet's convention). */
  ports: string[];
  /** Its own agent token (the server limits the change streams of one credential). */
  token: string;
}

const wall = (): number => performance.timeOrigin + performance.now();

class SimAgent {
  private view: ModelView | undefined;
  private compiler = new FlowCompiler();
  readonly local: LocalContext;
  /** uuid → wall time it was applied and computed. */
  readonly seen = new Map<string, number>();
  ready = false;
  flows = 0;

  constructor(
    private readonly spec: SimAgentSpec,
    private readonly onProgress: () => void,
  ) {
    this.local = {
      datapathUuid: spec.datapathUuid,
      dpid: BigInt(spec.dpid),
      tunnelIp: spec.tunnelIp,
      encap: 'vxlan',
      tunnelPorts: { gre: 1, vxlan: 2 },
      ports: new Map(spec.ports.map((name, k) => [name, { ofport: 10 + k }])),
      underlayMtu: 1500,
    };
  }

  follow(base: string): ServerFeed {
    const feed = new ServerFeed(new ApiClient({ baseUrl: base, token: this.spec.token }));
    feed.start((ev) => {
      if (ev.kind === 'snapshot') {
        this.view = buildModelView(ev.resources as FeedResources, ev.revision);
        this.compiler = new FlowCompiler();
        this.compiler.update(this.view, this.local, []);
        this.flows = this.compiler.flows().length;
        this.ready = true;
      } else if (ev.kind === 'change' && this.view) {
        const keys: ChangeKey[] = applyChange(this.view, ev.change);
        this.compiler.update(this.view, this.local, keys);
        this.seen.set(ev.change.uuid, wall());
      }
      this.onProgress();
    });
    return feed;
  }
}

const [base, specsJson] = process.argv.slice(2);
const specs = JSON.parse(specsJson ?? '[]') as SimAgentSpec[];
let waiting: string | null = null;
const agents: SimAgent[] = [];
const check = (): void => {
  if (waiting === null) {
    if (agents.length === specs.length && agents.every((a) => a.ready)) {
      waiting = '';
      process.send?.({ ready: true, flows: agents.reduce((n, a) => n + a.flows, 0) });
    }
    return;
  }
  if (waiting === '') return;
  const u = waiting;
  if (agents.every((a) => a.seen.has(u))) {
    waiting = '';
    process.send?.({ done: u, at: Math.max(...agents.map((a) => a.seen.get(u)!)) });
  }
};
const feeds = specs.map((s) => {
  const a = new SimAgent(s, check);
  agents.push(a);
  return a.follow(base!);
});
process.on('message', (m: { await?: string; stop?: boolean }) => {
  if (m.await) {
    waiting = m.await;
    check();
  }
  if (m.stop) {
    for (const f of feeds) f.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

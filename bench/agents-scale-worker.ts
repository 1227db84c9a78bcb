// Simulated agents for bench/agents-scale.ts: a child process holding many agents' conversations with the servers,
// without OVS. Each agent is what a real one is to the server: its own token, the agent's FeedSource (ServerFeed:
// FeedClient with its node id, so the server counts it present; snapshot, then the change stream, failing over
// along its --server list), and the agent's Reporter sending its datapath status and its interfaces' bindings —
// the bodies StatusReports sends, and only when what the server shows differs (a switch connected and in sync,
// every one of its ports bound here). It keeps only its own datapath and interfaces of the model (no flow
// computation: bench/compare/simulated.ts measures that; nor a parse of the whole snapshot: docIn below); the load it
// puts on the servers is a real agent's.
//   forked by bench/agents-scale.ts, which sends {specs}; messages to the parent:
//   {loaded: {node, started, at}} (wall-clock ms) once an agent's own datapath and bindings show what it reported (echoed by the feed),
//   {marks: [[k, wallMs], …]} arrivals of the writer's marker changes, {stats, seq} on request {stats: seq}.
import { fileURLToPath } from 'node:url';
import { ServerFeed } from '../src/agent/runtime/feed-source.js';
import { type DatapathStatusReport, Reporter } from '../src/agent/runtime/reporter.js';
import { ApiClient, ApiUnreachableError, type Snapshot, VnetApiError } from '../src/client/index.js';
import { exchange } from '../src/client/transport.js';
import { createLogger } from '../src/util/log.js';

export interface ScaleAgentSpec {
  node: string;
  datapath: string;
  tunnelIp: string;
  token: string;
  /** Its servers, in the order it tries them (the agent's --server list). */
  servers: string[];
  /** Interfaces whose VMs are plugged on this host: uuid → OVS port name. */
  ports: Record<string, string>;
  /** When this agent starts after its process got the specs (ms): a fleet's hosts do not boot in one instant. */
  startDelayMs: number;
}

/** The network whose display_name the writer changes: `m<k>` is marker k. */
export const MARK_NETWORK = 'nw-mark';

type Doc = Record<string, unknown>;
const wall = (): number => performance.timeOrigin + performance.now();
const log = createLogger('sim-agent', 'error');
/** Why streams failed (numbers masked), with counts: the first thing to read when agents do not load. */
const streamErrors = new Map<string, number>();

/**
 * The document whose JSON text begins `{"uuid":"<uuid>",` (every snapshot document does), parsed alone. A real agent
 * parses the whole 2.6 MB snapshot on its own host; 1,000 simulated ones doing so on the server's two cores took
 * CPU the server is measured without. Quotes and escapes are skipped, so braces inside strings do not count.
 */
function docIn(text: string, uuid: string): Doc | undefined {
  const start = text.indexOf(`{"uuid":${JSON.stringify(uuid)},`);
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return JSON.parse(text.slice(start, i + 1)) as Doc;
  }
  return undefined;
}

/** The agent's ApiClient, whose snapshot() keeps only this host's datapath and interfaces (errors as the real one). */
class SimApiClient extends ApiClient {
  constructor(
    private readonly spec: ScaleAgentSpec,
    token: string,
  ) {
    super({ baseUrls: spec.servers, token });
  }

  override async snapshot(): Promise<Snapshot> {
    const info = this.resolve({ method: 'GET', path: '/feed/snapshot' });
    let reply: Awaited<ReturnType<typeof exchange>>;
    try {
      reply = await exchange(new URL(info.url), {
        method: 'GET',
        headers: { accept: 'application/json', ...this.auth },
        timeoutMs: 30_000,
        keepAlive: true,
      });
    } catch (e) {
      throw new ApiUnreachableError(info, e);
    }
    if (reply.status !== 200) throw new VnetApiError('status', info, reply);
    const revision = Number(/^\{"revision":(\d+)/.exec(reply.text)?.[1]);
    if (!Number.isSafeInteger(revision)) throw new VnetApiError('bad_reply', info, reply);
    const dp = docIn(reply.text, this.spec.datapath);
    const interfaces = Object.keys(this.spec.ports).flatMap((u) => docIn(reply.text, u) ?? []);
    return { revision, resources: { datapaths: dp ? [dp] : [], interfaces } } as unknown as Snapshot;
  }
}

class ScaleAgent {
  private dp: Doc | undefined;
  private readonly shown = new Map<string, Doc>();
  private readonly reporter: Reporter;
  private readonly feed: ServerFeed;
  private started = 0;
  loaded = false;
  disconnects = 0;

  constructor(
    private readonly spec: ScaleAgentSpec,
    private readonly onMark: (k: number, at: number) => void,
    private readonly onLoaded: (started: number, at: number) => void,
  ) {
    const api = new SimApiClient(spec, spec.token);
    this.reporter = new Reporter(api, log);
    this.feed = new ServerFeed(api, spec.node);
  }

  get reports() {
    return this.reporter.stats;
  }

  start(): void {
    this.started = wall();
    this.feed.start((ev) => {
      if (ev.kind === 'snapshot') {
        this.dp = ev.resources.datapaths?.find((d) => d.uuid === this.spec.datapath);
        this.shown.clear();
        for (const i of ev.resources.interfaces ?? [])
          if (this.spec.ports[i.uuid as string]) this.shown.set(i.uuid as string, i);
        this.reconcile();
      } else if (ev.kind === 'change') {
        const c = ev.change;
        if (c.resource === 'networks' && c.uuid === MARK_NETWORK && c.item) {
          const m = /^m(\d+)$/.exec(String(c.item.display_name));
          if (m) this.onMark(Number(m[1]), wall());
        } else if (c.resource === 'datapaths' && c.uuid === this.spec.datapath) {
          this.dp = c.item ?? undefined;
          this.reporter.invalidate('dp', c.uuid);
          this.reconcile();
        } else if (c.resource === 'interfaces' && this.spec.ports[c.uuid]) {
          if (c.item) this.shown.set(c.uuid, c.item);
          else this.shown.delete(c.uuid);
          this.reporter.invalidate('if', c.uuid);
          this.reconcile();
        }
      } else if (ev.kind === 'error') {
        this.disconnects++;
        const why = String((ev.error as Error).message)
          .replace(/\d+/g, 'N')
          .slice(0, 160);
        streamErrors.set(why, (streamErrors.get(why) ?? 0) + 1);
      }
    });
  }

  /** What StatusReports does for a healthy host: report what differs from what the server shows. */
  private reconcile(): void {
    const body: DatapathStatusReport = {
      is_connected: true,
      flows_in_sync: true,
      last_error: null,
      reported_node_id: this.spec.node,
      ipv4_address: this.spec.tunnelIp,
      encap: 'vxlan',
    };
    const dp = this.dp;
    const dpSame =
      dp !== undefined &&
      dp.is_connected === true &&
      dp.flows_in_sync === true &&
      (dp.last_error ?? null) === null &&
      dp.reported_node_id === this.spec.node &&
      dp.ipv4_address === this.spec.tunnelIp;
    if (dp && !dpSame) this.reporter.datapathStatus(this.spec.datapath, body);
    let bound = 0;
    for (const [uuid, port] of Object.entries(this.spec.ports)) {
      const i = this.shown.get(uuid);
      if (!i) continue;
      if (i.status === 'up' && i.active_datapath_uuid === this.spec.datapath && i.active_port_name === port) {
        bound++;
        continue;
      }
      this.reporter.binding(uuid, { status: 'up', active_datapath_uuid: this.spec.datapath, active_port_name: port });
    }
    if (!this.loaded && dpSame && bound === Object.keys(this.spec.ports).length) {
      this.loaded = true;
      this.onLoaded(this.started, wall());
    }
  }

  stop(): void {
    this.reporter.close();
    this.feed.close();
  }
}

/** The child process: the agents the parent sends ({specs}, over IPC: their tokens stay out of the process list). */
function runWorker(specs: ScaleAgentSpec[]): void {
  let marks: [number, number][] = [];
  const flush = setInterval(() => {
    if (marks.length === 0) return;
    process.send?.({ marks });
    marks = [];
  }, 200);
  const agents = specs.map(
    (s) =>
      new ScaleAgent(
        s,
        (k, at) => marks.push([k, at]),
        (started, at) => process.send?.({ loaded: { node: s.node, started, at } }),
      ),
  );
  const starts = agents.map((a, k) => setTimeout(() => a.start(), specs[k]!.startDelayMs));
  process.on('message', (m: { stats?: number; stop?: boolean }) => {
    if (m.stats)
      process.send?.({
        seq: m.stats,
        stats: {
          loaded: agents.filter((a) => a.loaded).length,
          disconnects: agents.reduce((n, a) => n + a.disconnects, 0),
          reportsSent: agents.reduce((n, a) => n + a.reports.sent, 0),
          reportsFailed: agents.reduce((n, a) => n + a.reports.failed, 0),
          errors: Object.fromEntries([...streamErrors].sort((a, b) => b[1] - a[1]).slice(0, 3)),
        },
      });
    if (m.stop) {
      clearInterval(flush);
      for (const t of starts) clearTimeout(t);
      for (const a of agents) a.stop();
      setTimeout(() => process.exit(0), 200);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  process.once('message', (m: { specs: ScaleAgentSpec[] }) => runWorker(m.specs));

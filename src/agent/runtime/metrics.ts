// The agent's Prometheus metrics, declared once in AGENT_METRICS (docs/metrics.md's table is generated from it),
// served by `--metrics-listen HOST:PORT` on a plain node:http server. Counts and gauges are read from
// Agent.status() at each scrape — the same account SIGUSR2 logs, so the two never disagree; the sync duration
// histogram is observed as passes happen (the AgentObserver seam of deps.ts).
import { createServer, type Server } from 'node:http';
import { createMetrics, type MetricSpec, mirror } from '../../util/metrics.js';
import type { AgentStatus } from './agent-status.js';
import type { ChangeSpan } from './change-span.js';
import type { AgentObserver } from './deps.js';

const STAGES = ['deliver', 'apply', 'wait', 'compute', 'meters', 'send', 'barrier'] as const;

type Reading = number | boolean | Readonly<Record<string, number>>;

/** A metric of the agent: its declaration and, unless it is observed as things happen, how status() gives it. */
interface AgentMetricSpec extends MetricSpec {
  readonly from?: (s: AgentStatus) => Reading;
}

/** A counter or gauge of the agent read from status() at each scrape; every name starts `vnet_agent_`. */
function fromStatus<const T extends 'counter' | 'gauge'>(type: T) {
  return <const N extends string>(
    name: N,
    help: string,
    from: (s: AgentStatus) => Reading,
    labels?: readonly string[],
  ) => ({
    name: `vnet_agent_${name}` as const,
    type,
    help,
    from,
    ...(labels ? { labels } : {}),
  });
}
const counter = fromStatus('counter');
const gauge = fromStatus('gauge');

/**
 * The counters of a service the agent answers from packet-ins (DHCP, DNS): what it made of each request (by
 * event), the answers sent, and the requests it did not answer.
 */
function answeringService<const S extends 'dhcp' | 'dns', const A extends string>(
  service: S,
  asked: A,
  help: { events: string; replies: string; dropped: string },
) {
  return [
    counter(`${service}_${asked}_total`, help.events, (s) => s.counters[`${service}Events`], ['event']),
    counter(`${service}_replies_total`, help.replies, (s) => s.counters[`${service}Replies`]),
    counter(`${service}_dropped_total`, help.dropped, (s) => s.counters[`${service}Dropped`]),
  ] as const;
}

/** A figure of every snat translation served here, by translation (those not read yet are left out). */
function snatFigure<const T extends 'counter' | 'gauge', const N extends string>(
  type: T,
  name: N,
  help: string,
  what: 'connections' | 'ports' | 'refusedPackets',
) {
  return fromStatus(type)(name, help, (s) => snatReading(s, what), ['translation']);
}

export const AGENT_METRICS = [
  gauge(
    'flows_installed',
    'Flows on the switch as far as the agent knows (0 until it has read them)',
    (s) => s.installedFlows,
  ),
  gauge('flows_desired', 'Flows the model asks of this host', (s) => s.desiredFlows),
  gauge(
    'flows_in_sync',
    '1 when the switch holds exactly the desired flows (last pass succeeded, switch connected), else 0',
    (s) => s.flowsInSync,
  ),
  counter('flow_mods_total', 'Flow-mods sent to the switch', (s) => s.counters.flowModsSent),
  counter('syncs_total', 'Reconciliation passes that reached the switch', (s) => s.counters.syncs),
  {
    name: 'vnet_agent_sync_duration_seconds',
    type: 'histogram',
    help: 'One reconciliation pass that reached the switch: compile, diff, meters and the bundle of flow-mods',
  },
  {
    name: 'vnet_agent_change_stage_seconds',
    type: 'histogram',
    help: 'A pass that applied feed changes or sent flow-mods, by stage: deliver (server commit → received), apply (→ in the model), wait (→ the pass started), compute, meters (→ the meters its flows name installed), send (→ flow-mods written), barrier (→ the switch’s reply)',
    labels: ['stage'],
  },
  {
    name: 'vnet_agent_change_seconds',
    type: 'histogram',
    help: 'A feed change from the server’s commit to the switch’s reply for its flow-mods (passes that sent some, of live changes)',
  },
  gauge('openflow_connected', '1 while the switch’s OpenFlow connection is up, else 0', (s) => s.switchConnected),
  counter(
    'openflow_reconnects_total',
    'OpenFlow connections of the switch after the first',
    (s) => s.counters.openflowReconnects,
  ),
  gauge('ovsdb_connected', '1 while the OVSDB connection is up, else 0', (s) => s.ovsdbConnected),
  counter('ovsdb_reconnects_total', 'OVSDB connections after the first', (s) => s.counters.ovsdbReconnects),
  counter(
    'packet_ins_total',
    'Packet-ins by what the pipeline punted them for: dhcp, dns, too_big (a frame from an uplink too big for a virtual network), other',
    (s) => s.counters.packetInsByKind,
    ['kind'],
  ),
  ...answeringService('dhcp', 'requests', {
    events: 'DHCP requests by what the responder made of them (offer, ack, nak, release, ignored, malformed, …)',
    replies: 'DHCP replies sent',
    dropped: 'DHCP requests not answered (no bound interface on the port, malformed, nothing to offer)',
  }),
  ...answeringService('dns', 'queries', {
    events:
      'DNS queries by what the DNS service made of them (answered, nodata, refused, forwarded, upstream_failed, formerr, …)',
    replies: 'DNS answers sent to VMs',
    dropped: 'DNS queries not answered (no bound interface on the port, no DNS service at the address, unreadable)',
  }),
  counter(
    'frag_needed_sent_total',
    'ICMP “fragmentation needed” replies to frames from an uplink too big for a virtual network',
    (s) => s.counters.fragNeededSent,
  ),
  counter(
    'too_big_dropped_total',
    'Frames from an uplink too big for a virtual network that got no ICMP reply (no DF, not IPv4)',
    (s) => s.counters.tooBigDropped,
  ),
  snatFigure(
    'gauge',
    'snat_connections',
    'Connections in the conntrack zone of each snat translation this host’s gateway serves (read from ovs-vswitchd every 5 s)',
    'connections',
  ),
  snatFigure(
    'gauge',
    'snat_ports',
    'Source ports of each snat translation served here: the most connections to one destination address and port at once (--snat-ports, else OVS’s 1024-65535)',
    'ports',
  ),
  snatFigure(
    'counter',
    'snat_refused_packets_total',
    'Packets of new connections a snat translation served here could not translate — no free source port for the destination, or conntrack’s limit — dropped, never sent untranslated',
    'refusedPackets',
  ),
  gauge(
    'conntrack_connections',
    'Connections in this host’s conntrack table, all zones (read with the snat figures, while a gateway is served here)',
    (s) => s.snat.table?.connections ?? 0,
  ),
  gauge(
    'conntrack_max',
    'The most connections this host’s conntrack table admits (0: not read)',
    (s) => s.snat.table?.max ?? 0,
  ),
  gauge('bindings', 'Interfaces bound to ports of this host’s bridge', (s) => s.bound.length),
  counter(
    'reports_sent_total',
    'Reports sent to the server (datapath status, bindings, translations)',
    (s) => s.counters.reportsSent,
  ),
  gauge(
    'feed_revision',
    'The model revision the agent has applied (compare with the server’s vnet_store_revision)',
    (s) => s.feedRevision,
  ),
  gauge(
    'feed_server',
    '1 for the server whose change feed the agent follows now and reports to (none while its stream is down)',
    (s) => (s.feedServer === null ? {} : { [s.feedServer]: 1 }),
    ['server'],
  ),
] as const satisfies readonly AgentMetricSpec[];

/** One figure of every snat translation served here, by translation (those not read yet are left out). */
function snatReading(s: AgentStatus, what: 'connections' | 'ports' | 'refusedPackets'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [uuid, r] of Object.entries(s.snat.translations)) {
    const v = r[what];
    if (v !== null) out[uuid] = v;
  }
  return out;
}

export class AgentMetrics implements AgentObserver {
  private readonly metrics;
  private server: Server | null = null;
  /** The agent's status for the scrape under way: read once, shared by every metric taken from it. */
  private scraped: AgentStatus | null = null;

  constructor() {
    const collect: Record<string, (metric: never) => void> = {};
    for (const spec of AGENT_METRICS as readonly AgentMetricSpec[]) {
      const from = spec.from;
      if (!from) continue;
      collect[spec.name] = (metric: Parameters<typeof mirror>[0]) => {
        const s = this.scraped;
        if (!s) return;
        const v = from(s);
        mirror(metric, typeof v === 'boolean' ? Number(v) : v, spec.labels?.[0]);
      };
    }
    this.metrics = createMetrics(AGENT_METRICS, { defaults: true, collect });
  }

  syncDuration(seconds: number): void {
    this.metrics.m.vnet_agent_sync_duration_seconds.observe(seconds);
  }

  changeSpan(span: ChangeSpan): void {
    const h = this.metrics.m.vnet_agent_change_stage_seconds;
    const st = span.stages;
    let total = 0;
    for (const stage of STAGES) {
      const v = st[`${stage}_ms`];
      if (v === undefined) continue;
      total += v;
      h.observe({ stage }, v / 1000);
    }
    if (span.flow_mods > 0 && st.deliver_ms !== undefined)
      this.metrics.m.vnet_agent_change_seconds.observe(total / 1000);
  }

  /** The metrics in Prometheus's text format, those of the agent read from `status` (one agent's status()). */
  async text(status: AgentStatus): Promise<string> {
    this.scraped = status;
    return this.metrics.text();
  }

  get contentType(): string {
    return this.metrics.contentType;
  }

  /** Serves `GET /metrics` on `listen`, each scrape reading `status`; resolves once listening (rejects if it cannot). */
  async serve(listen: { host: string; port: number }, status: () => AgentStatus): Promise<{ port: number }> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: GET /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end();
        return;
      }
      this.text(status()).then(
        (text) => {
          res.writeHead(200, { 'content-type': this.metrics.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${String(err)}\n`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address();
    return { port: typeof addr === 'object' && addr ? addr.port : listen.port };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

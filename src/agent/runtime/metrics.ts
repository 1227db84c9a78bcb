// The agent's Prometheus metrics, declared once in AGENT_METRICS (docs/metrics.md's table is generated from it),
// served by `--metrics-listen HOST:PORT` on a plain node:http server. Counts and gauges are read from
// Agent.status() at each scrape — the same account SIGUSR2 logs, so the two never disagree; the sync duration
// histogram is observed as passes happen (the AgentObserver seam of deps.ts).
import { createServer, type Server } from 'node:http';
import { createMetrics, type MetricSpec, mirror } from '../../util/metrics.js';
import type { AgentStatus } from './agent.js';
import type { AgentObserver } from './deps.js';

type Reading = number | boolean | Readonly<Record<string, number>>;

/** A metric of the agent: its declaration and, unless it is observed as things happen, how status() gives it. */
interface AgentMetricSpec extends MetricSpec {
  readonly from?: (s: AgentStatus) => Reading;
}

export const AGENT_METRICS = [
  {
    name: 'vnet_agent_flows_installed',
    type: 'gauge',
    help: 'Flows on the switch as far as the agent knows (0 until it has read them)',
    from: (s) => s.installedFlows,
  },
  {
    name: 'vnet_agent_flows_desired',
    type: 'gauge',
    help: 'Flows the model asks of this host',
    from: (s) => s.desiredFlows,
  },
  {
    name: 'vnet_agent_flows_in_sync',
    type: 'gauge',
    help: '1 when the switch holds exactly the desired flows (last pass succeeded, switch connected), else 0',
    from: (s) => s.flowsInSync,
  },
  {
    name: 'vnet_agent_flow_mods_total',
    type: 'counter',
    help: 'Flow-mods sent to the switch',
    from: (s) => s.counters.flowModsSent,
  },
  {
    name: 'vnet_agent_syncs_total',
    type: 'counter',
    help: 'Reconciliation passes that reached the switch',
    from: (s) => s.counters.syncs,
  },
  {
    name: 'vnet_agent_sync_duration_seconds',
    type: 'histogram',
    help: 'One reconciliation pass that reached the switch: compile, diff, meters and the bundle of flow-mods',
  },
  {
    name: 'vnet_agent_openflow_connected',
    type: 'gauge',
    help: '1 while the switch’s OpenFlow connection is up, else 0',
    from: (s) => s.switchConnected,
  },
  {
    name: 'vnet_agent_openflow_reconnects_total',
    type: 'counter',
    help: 'OpenFlow connections of the switch after the first',
    from: (s) => s.counters.openflowReconnects,
  },
  {
    name: 'vnet_agent_ovsdb_connected',
    type: 'gauge',
    help: '1 while the OVSDB connection is up, else 0',
    from: (s) => s.ovsdbConnected,
  },
  {
    name: 'vnet_agent_ovsdb_reconnects_total',
    type: 'counter',
    help: 'OVSDB connections after the first',
    from: (s) => s.counters.ovsdbReconnects,
  },
  {
    name: 'vnet_agent_packet_ins_total',
    type: 'counter',
    help: 'Packet-ins by what the pipeline punted them for: dhcp, too_big (a frame from an uplink too big for a virtual network), other',
    labels: ['kind'],
    from: (s) => s.counters.packetInsByKind,
  },
  {
    name: 'vnet_agent_dhcp_requests_total',
    type: 'counter',
    help: 'DHCP requests by what the responder made of them (offer, ack, nak, release, ignored, malformed, …)',
    labels: ['event'],
    from: (s) => s.counters.dhcpEvents,
  },
  {
    name: 'vnet_agent_dhcp_replies_total',
    type: 'counter',
    help: 'DHCP replies sent',
    from: (s) => s.counters.dhcpReplies,
  },
  {
    name: 'vnet_agent_dhcp_dropped_total',
    type: 'counter',
    help: 'DHCP requests not answered (no bound interface on the port, malformed, nothing to offer)',
    from: (s) => s.counters.dhcpDropped,
  },
  {
    name: 'vnet_agent_frag_needed_sent_total',
    type: 'counter',
    help: 'ICMP “fragmentation needed” replies to frames from an uplink too big for a virtual network',
    from: (s) => s.counters.fragNeededSent,
  },
  {
    name: 'vnet_agent_too_big_dropped_total',
    type: 'counter',
    help: 'Frames from an uplink too big for a virtual network that got no ICMP reply (no DF, not IPv4)',
    from: (s) => s.counters.tooBigDropped,
  },
  {
    name: 'vnet_agent_bindings',
    type: 'gauge',
    help: 'Interfaces bound to ports of this host’s bridge',
    from: (s) => s.bound.length,
  },
  {
    name: 'vnet_agent_reports_sent_total',
    type: 'counter',
    help: 'Reports sent to the server (datapath status, bindings, translations)',
    from: (s) => s.counters.reportsSent,
  },
  {
    name: 'vnet_agent_feed_revision',
    type: 'gauge',
    help: 'The model revision the agent has applied (compare with the server’s vnet_store_revision)',
    from: (s) => s.feedRevision,
  },
] as const satisfies readonly AgentMetricSpec[];

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

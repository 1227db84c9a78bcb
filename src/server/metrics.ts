// The server's Prometheus metrics, declared once in SERVER_METRICS (docs/metrics.md's table is generated from
// it): requests and their latency by route pattern, store commits, the revision, the change streams and how far
// behind the furthest one is, and the process. Served by GET /metrics (routes/metrics.ts), a declared route under
// the request guard like every other.
import type { FastifyInstance } from 'fastify';
import { createMetrics, LATENCY_BUCKETS, type MetricSpec } from '../util/metrics.js';
import type { Service } from './service.js';

export const SERVER_METRICS = [
  {
    name: 'vnet_http_requests_total',
    type: 'counter',
    help: 'API requests answered, by method, route pattern (`unmatched`: no route) and status code; a change stream counts when it ends',
    labels: ['method', 'route', 'status'],
  },
  {
    name: 'vnet_http_request_duration_seconds',
    type: 'histogram',
    help: 'Time from a request’s arrival to the end of its reply, by method and route pattern (change streams, which last as long as their watcher, are left out)',
    labels: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
  },
  {
    name: 'vnet_store_commit_duration_seconds',
    type: 'histogram',
    help: 'One store transaction, BEGIN to COMMIT with its fsync; concurrent writes share one (group commit)',
    buckets: LATENCY_BUCKETS,
  },
  {
    name: 'vnet_store_writes_total',
    type: 'counter',
    help: 'Writes committed (each in its own savepoint of a shared transaction)',
  },
  { name: 'vnet_store_revision', type: 'gauge', help: 'The last committed revision of the model' },
  { name: 'vnet_feed_watchers', type: 'gauge', help: 'Open change streams (GET /api/1.0/feed/changes)' },
  {
    name: 'vnet_feed_lag_revisions_max',
    type: 'gauge',
    help: 'Revisions committed but not yet written to the furthest-behind open change stream (a replaying watcher; 0: every stream is live)',
  },
  {
    name: 'vnet_feed_buffered_bytes_max',
    type: 'gauge',
    help: 'Bytes written to the slowest open change stream that its socket has not sent yet (past 16 MiB the stream is cut)',
  },
] as const satisfies readonly MetricSpec[];

/** One open change stream as the feed gauges see it. */
interface Watcher {
  /** The last revision written to it. */
  last: number;
  buffered(): number;
}

export class ServerMetrics {
  private readonly metrics;
  private readonly watchers = new Set<Watcher>();
  /** The last committed revision: read at start, then followed through the service's change events. */
  private revision = 0;

  constructor(private readonly service: Service) {
    this.metrics = createMetrics(SERVER_METRICS, {
      defaults: true,
      collect: {
        vnet_store_revision: (g) => g.set(this.revision),
        vnet_feed_watchers: (g) => g.set(this.watchers.size),
        vnet_feed_lag_revisions_max: (g) =>
          g.set(Math.max(0, ...[...this.watchers].map((w) => this.revision - w.last))),
        vnet_feed_buffered_bytes_max: (g) => g.set(Math.max(0, ...[...this.watchers].map((w) => w.buffered()))),
      },
    });
  }

  get contentType(): string {
    return this.metrics.contentType;
  }

  text(): Promise<string> {
    return this.metrics.text();
  }

  /**
   * Starts measuring `app`'s requests and the service's store: `isStream` tells the routes whose replies are
   * never-ending streams (no latency for them). Stops with the app.
   */
  async install(app: FastifyInstance, isStream: (method: string, routeUrl: string) => boolean): Promise<void> {
    const { m } = this.metrics;
    this.revision = await this.service.read((ctx) => ctx.tx.revision());
    const onChanges = (changes: readonly { revision: number }[]) => {
      this.revision = Math.max(this.revision, changes.at(-1)?.revision ?? 0);
    };
    this.service.on('changes', onChanges);
    const stopCommits = this.service.store.observeCommits(({ seconds, writes }) => {
      m.vnet_store_commit_duration_seconds.observe(seconds);
      m.vnet_store_writes_total.inc(writes);
    });
    app.addHook('onClose', async () => {
      this.service.off('changes', onChanges);
      stopCommits();
    });
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      m.vnet_http_requests_total.inc({ method: req.method, route, status: String(reply.statusCode) });
      if (!isStream(req.method, route))
        m.vnet_http_request_duration_seconds.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
  }

  /**
   * A change stream opened at revision `since`; `buffered` reads its socket's unsent bytes. Call `sent` with each
   * revision written to it and `close` when it ends.
   */
  watcherOpened(since: number, buffered: () => number): { sent(revision: number): void; close(): void } {
    const w: Watcher = { last: since, buffered };
    this.watchers.add(w);
    return {
      sent: (revision) => {
        w.last = revision;
      },
      close: () => {
        this.watchers.delete(w);
      },
    };
  }
}

// The change feed agents follow: a snapshot of every resource at one revision, then a stream of changes.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { int, str } from '../../model/params.js';
import { ownNode } from '../auth/policy.js';
import { TooManyRequests, Unavailable } from '../../model/errors.js';
import { acceptsGzip } from '../http/encoding.js';
import { wantsYaml } from '../http/openvnet.js';
import { FEED_DEFAULTS, streamChanges } from '../feed.js';
import { type RouteOptions, Routes } from './context.js';

const CHANGES = [
  int('since', 0, Number.MAX_SAFE_INTEGER, { required: true }),
  str('node_id', {
    doc: "the watching agent's node id: once none of its streams has been open for a grace period (3 s), its datapaths show disconnected",
  }),
];

/** Open change streams, in all and per credential, so one client cannot take every socket and page buffer. */
class WatcherCount {
  private total = 0;
  private readonly byCredential = new Map<string, number>();

  constructor(private readonly limits: { maxWatchers: number; maxWatchersPerCredential: number }) {}

  /** Counts one more stream of `who`, or 429 (retry in 5 s); returns the function that uncounts it. */
  open(who: string): () => void {
    const mine = this.byCredential.get(who) ?? 0;
    if (this.total >= this.limits.maxWatchers)
      throw new TooManyRequests(`the server already serves ${this.total} change streams (its limit)`, 5);
    if (mine >= this.limits.maxWatchersPerCredential)
      throw new TooManyRequests(
        `${who} already has ${mine} change streams open (limit ${this.limits.maxWatchersPerCredential})`,
        5,
      );
    this.total++;
    this.byCredential.set(who, mine + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.total--;
      const n = (this.byCredential.get(who) ?? 1) - 1;
      if (n === 0) this.byCredential.delete(who);
      else this.byCredential.set(who, n);
    };
  }
}

/** Snapshot replies being sent, so a fleet asking at once is served a few dozen at a time (503 beyond). */
class SnapshotAdmission {
  private inFlight = 0;

  constructor(private readonly limit: number) {}

  /** Counts one more reply until `res` closes (sent or cut off), or throws 503 with Retry-After. */
  admit(res: NodeJS.EventEmitter): void {
    if (this.inFlight >= this.limit)
      throw new Unavailable(
        `the server is already sending ${this.inFlight} snapshots (its limit); ask again later`,
        FEED_DEFAULTS.snapshotRetryAfterS,
      );
    this.inFlight++;
    res.once('close', () => this.inFlight--);
  }
}

export async function feedRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  const watchers = new WatcherCount({
    maxWatchers: opts.feed?.maxWatchers ?? FEED_DEFAULTS.maxWatchers,
    maxWatchersPerCredential: opts.feed?.maxWatchersPerCredential ?? FEED_DEFAULTS.maxWatchersPerCredential,
  });
  const snapshots = new SnapshotAdmission(opts.feed?.maxSnapshotsInFlight ?? FEED_DEFAULTS.maxSnapshotsInFlight);
  r.add({
    method: 'GET',
    url: '/feed/snapshot',
    tag: 'feed',
    summary: 'Every resource at one revision',
    // Kept in memory as byte chunks every reply at a revision shares: a reply copies nothing (1,000 agents slowly
    // reading a 2.5 MB snapshot once held a copy each).
    handler: async ({ reply }) => {
      snapshots.admit(reply.raw);
      const body = await r.service.snapshotBody();
      reply.type('application/json; charset=utf-8');
      // A .yml request is converted whole by the reply hook.
      if (wantsYaml(reply.request.raw)) return Buffer.concat(body.parts as Buffer[], body.length);
      reply.header('vary', 'accept-encoding');
      // Compressed once per chunk and shared the same way (JSON of uuids and addresses: ~8× fewer bytes).
      const sent = acceptsGzip(reply.request.raw) ? body.gzip() : body;
      if (sent !== body) reply.header('content-encoding', 'gzip');
      reply.header('content-length', sent.length);
      return Readable.from(sent.parts, { objectMode: false });
    },
  });
  r.add({
    method: 'GET',
    url: '/feed/changes',
    tag: 'feed',
    summary: 'Server-Sent Events: every change after ?since=R (event: change | resync)',
    params: CHANGES,
    stream: true,
    handler: async ({ p, reply, who }) => {
      // An agent's stream keeps its own datapaths connected, never another node's.
      if (typeof p.node_id === 'string' && who.role !== 'admin') ownNode(who, p.node_id, 'presence', 'node_id');
      const close = watchers.open(who.id);
      reply.raw.on('close', close);
      reply.hijack();
      if (typeof p.node_id === 'string' && opts.presence) reply.raw.on('close', opts.presence.opened(p.node_id));
      // The agent's own stream also carries the server's requests to it (traces): see agent-requests.ts.
      if (typeof p.node_id === 'string' && opts.requests)
        reply.raw.on('close', opts.requests.attach(p.node_id, reply.raw));
      const res = reply.raw;
      const watched = opts.metrics?.watcherOpened(p.since as number, () => res.writableLength);
      if (watched) res.on('close', watched.close);
      await streamChanges(r.service, res, p.since as number, opts.feed, watched?.sent);
    },
  });
}

// Change-feed client: snapshot, then SSE changes; resumes from the last revision after a disconnect, re-snapshots on resync.
import { EventEmitter } from 'node:events';
import { Backoff, sleep } from '../util/backoff.js';
import { fetchWithCa } from './transport.js';
import { ApiClient } from './api-client.js';
import { ApiUnreachableError, parseRetryAfter, VnetApiError } from './errors.js';
import type { Change, ResyncEvent, Snapshot } from './types.js';

export interface FeedClientOptions {
  baseUrl?: string;
  /**
   * The API client to follow the feed through, shared with the caller's other calls: with several servers
   * (ApiClientOptions.baseUrls), a failed or stalled stream moves it — and so the caller's reports — to the
   * next server, and the stream resumes there after the last revision it delivered (no snapshot, no resync).
   * Overrides baseUrl, token and ca.
   */
  api?: ApiClient;
  /** The fetch the change stream uses (tests); snapshots go through ApiClient. */
  fetch?: typeof fetch;
  /** First reconnect delay; doubles up to maxBackoffMs, with jitter; reset after a successful connect. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Each reconnect delay spread by ±this fraction (default 0.25), so clients cut off together do not return together. */
  jitter?: number;
  /** Reconnect when nothing (not even a `: ping`) arrived for this long; the server pings every 15 s. */
  idleTimeoutMs?: number;
  /** Start streaming after this revision without taking a snapshot first. */
  since?: number;
  /** The agent's node id, so the server knows it is alive while a stream is open. */
  nodeId?: string;
  /** API token (see ApiClientOptions.token). */
  token?: string | undefined;
  /** CA certificates for https (see ApiClientOptions.ca). */
  ca?: string | undefined;
}

export type FeedEvent =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'change'; change: Change }
  | { type: 'resync'; resync: ResyncEvent };

/** What the server asks an agent down its stream (server/agent-requests.ts). */
export interface AgentRequestEvent {
  id: string;
  kind: string;
  body: unknown;
}

interface FeedEvents {
  snapshot: [Snapshot];
  change: [Change];
  resync: [ResyncEvent];
  /** A request of the server's to this agent (a watcher with a node id): answer with PUT /agent_requests/:id. */
  request: [AgentRequestEvent];
  /** A stream opened: `server` is the server it follows (with several, the one the caller's reports go to now). */
  connected: [{ since: number; server: string }];
  /** `server`: where the next attempt goes (another server than the one that failed, when there are several). */
  disconnected: [{ error: Error | null; retryInMs: number; server: string }];
}

/** Thrown into a stream reader when the server says the revision is too old. */
class ResyncNeeded extends Error {
  constructor(readonly event: ResyncEvent) {
    super(event.reason);
  }
}

/** Parses an SSE byte stream into (event, id, data) records (WHATWG EventSource rules, minus retry). */
export class SseParser {
  private buf = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  constructor(private readonly onEvent: (e: { event: string; id: string | undefined; data: string }) => void) {}

  push(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buf);
      // A lone trailing \r may be the first half of \r\n: wait for more.
      if (!m || (m[0] === '\r' && m.index === this.buf.length - 1)) return;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0 || this.event)
        this.onEvent({ event: this.event || 'message', id: this.id, data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.id = value;
  }
}

/**
 * Watches the server: `start()` takes a snapshot (unless `since` was given), then streams changes. Every change
 * after the snapshot is delivered exactly once and in order, across reconnects. Use the events or `for await`.
 */
export class FeedClient extends EventEmitter<FeedEvents> {
  /** Last revision delivered (snapshot or change). */
  revision: number;
  readonly api: ApiClient;
  private readonly opts: Required<
    Omit<FeedClientOptions, 'since' | 'fetch' | 'baseUrl' | 'nodeId' | 'token' | 'ca' | 'api'>
  >;
  private readonly nodeId: string | undefined;
  private readonly fetchFn: typeof fetch;
  private abort: AbortController | null = null;
  private running = false;
  private needSnapshot: boolean;
  private loop: Promise<void> | null = null;
  /** Aborted by stop(): ends the current reconnect wait early. */
  private stopping = new AbortController();
  private queue: FeedEvent[] = [];
  private waiters: ((r: IteratorResult<FeedEvent>) => void)[] = [];

  constructor(opts: FeedClientOptions = {}) {
    super();
    const ca = opts.ca ?? opts.api?.ca;
    this.fetchFn = opts.fetch ?? (ca ? fetchWithCa(ca) : fetch);
    this.api =
      opts.api ??
      new ApiClient({
        ...(opts.baseUrl === undefined ? {} : { baseUrl: opts.baseUrl }),
        ...(opts.token ? { token: opts.token } : {}),
        ...(opts.ca ? { ca: opts.ca } : {}),
      });
    this.opts = {
      initialBackoffMs: opts.initialBackoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 45_000,
      jitter: opts.jitter ?? 0.25,
    };
    this.revision = opts.since ?? 0;
    this.nodeId = opts.nodeId;
    this.needSnapshot = opts.since === undefined;
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    this.stopping = new AbortController();
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort?.abort();
    this.stopping.abort();
    await this.loop;
    for (const w of this.waiters.splice(0)) w({ done: true, value: undefined });
  }

  private deliver(e: FeedEvent): void {
    if (e.type === 'snapshot') this.emit('snapshot', e.snapshot);
    else if (e.type === 'change') this.emit('change', e.change);
    else this.emit('resync', e.resync);
    const w = this.waiters.shift();
    if (w) w({ done: false, value: e });
    else if (this.listenerCount('change') === 0 && this.listenerCount('snapshot') === 0) this.queue.push(e);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<FeedEvent> {
    this.start();
    while (this.running || this.queue.length > 0) {
      const e = this.queue.shift();
      if (e) {
        yield e;
        continue;
      }
      const r = await new Promise<IteratorResult<FeedEvent>>((resolve) => this.waiters.push(resolve));
      if (r.done) return;
      yield r.value;
    }
  }

  private async run(): Promise<void> {
    const { initialBackoffMs: initialMs, maxBackoffMs: maxMs, jitter } = this.opts;
    const backoff = new Backoff({ initialMs, maxMs, jitter });
    while (this.running) {
      let error: Error | null = null;
      try {
        if (this.needSnapshot) {
          const snap = await this.api.snapshot();
          this.revision = snap.revision;
          this.needSnapshot = false;
          this.deliver({ type: 'snapshot', snapshot: snap });
        }
        await this.stream(() => backoff.reset());
      } catch (e) {
        if (e instanceof ResyncNeeded) {
          this.needSnapshot = true;
          this.deliver({ type: 'resync', resync: e.event });
          continue;
        }
        error = e as Error;
      }
      if (!this.running) break;
      // Several servers share one database and one revision sequence: the next one continues the same feed.
      const server = error && this.api.servers.length > 1 ? this.api.failover() : this.api.baseUrl;
      const wait = Math.max(backoff.next(), this.retryAfter(error));
      this.emit('disconnected', { error, retryInMs: wait, server });
      if (!this.running) break;
      await sleep(wait, this.stopping.signal);
    }
  }

  /**
   * A busy server's Retry-After (its 503 to one snapshot too many while a fleet restarts), never less, spread
   * upwards by twice the jitter so the clients it turned away do not all come back in the same second; 0 when it
   * gave none.
   */
  private retryAfter(error: Error | null): number {
    const ms = error instanceof VnetApiError ? error.retryAfterMs : undefined;
    if (!ms) return 0;
    return Math.round(ms * (1 + Math.random() * 2 * this.opts.jitter));
  }

  /** One SSE connection; returns when the server ends it, throws on errors and resync. */
  private async stream(onConnected: () => void): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    // A stream, not one reply: fetch reads it as it comes; ApiClient only names the call and its errors.
    const call = this.api.resolve({
      method: 'GET',
      path: '/feed/changes',
      query: { since: this.revision, ...(this.nodeId ? { node_id: this.nodeId } : {}) },
    });
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error('feed idle timeout')), this.opts.idleTimeoutMs);
    };
    try {
      arm();
      let res: Response;
      try {
        res = await this.fetchFn(call.url, {
          signal: abort.signal,
          headers: { accept: 'text/event-stream', ...this.api.auth },
        });
      } catch (e) {
        throw new ApiUnreachableError(call, e);
      }
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        throw new VnetApiError('status', call, {
          status: res.status,
          statusText: res.statusText,
          text,
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
        });
      }
      onConnected();
      this.emit('connected', { since: this.revision, server: this.api.baseUrl });
      let resync: ResyncEvent | null = null;
      const parser = new SseParser((ev) => {
        if (ev.event === 'change') {
          const c = JSON.parse(ev.data) as Change;
          // At-most-once across reconnects: the server resumes after `since`, anything older is a duplicate.
          if (c.revision <= this.revision) return;
          this.revision = c.revision;
          this.deliver({ type: 'change', change: c });
        } else if (ev.event === 'resync') resync = JSON.parse(ev.data) as ResyncEvent;
        // Not a change: no revision, not replayed after a reconnect (the server's caller waits for it now or never).
        else if (ev.event === 'request') this.emit('request', JSON.parse(ev.data) as AgentRequestEvent);
      });
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          arm();
          parser.push(decoder.decode(value, { stream: true }));
          if (resync) throw new ResyncNeeded(resync);
        }
      } catch (e) {
        if (e instanceof ResyncNeeded) throw e;
        if (!this.running) return;
        throw e;
      } finally {
        reader.releaseLock?.();
      }
      if (resync) throw new ResyncNeeded(resync);
    } finally {
      clearTimeout(idle);
      abort.abort();
    }
  }
}

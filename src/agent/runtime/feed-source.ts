// FeedSource on the change-feed client (src/client FeedClient): snapshot, changes, re-snapshots.
import { type ApiClient, FeedClient } from '../../client/index.js';
import type { FeedChange, FeedEvent, FeedSource } from './deps.js';

/**
 * The agent's reconnect delays: the first quick (a restarted server or the next one of several should not keep
 * agents blind for long), then doubling to 8 s, each spread ±50 %: a thousand agents whose server went away must
 * not come back in step, nor retry an overloaded server every 2 s each (the old cap).
 */
export const FEED_RECONNECT = { initialBackoffMs: 100, maxBackoffMs: 8000, jitter: 0.5 } as const;

export class ServerFeed implements FeedSource {
  private readonly client: FeedClient;

  /**
   * `api`: the agent's client (its servers, token and CA; a failover moves its reports too); `nodeId`: who is
   * watching — while its stream is open, the server counts the agent alive.
   */
  constructor(api: ApiClient, nodeId?: string) {
    this.client = new FeedClient({ api, ...FEED_RECONNECT, ...(nodeId ? { nodeId } : {}) });
  }

  start(listener: (ev: FeedEvent) => void): void {
    this.client.on('snapshot', (s) =>
      listener({
        kind: 'snapshot',
        revision: s.revision,
        resources: s.resources as unknown as Record<string, Record<string, unknown>[]>,
      }),
    );
    this.client.on('change', (c) => listener({ kind: 'change', change: c as unknown as FeedChange }));
    this.client.on('request', (request) => listener({ kind: 'request', request }));
    this.client.on('connected', ({ server, since }) => listener({ kind: 'connected', server, since }));
    this.client.on('disconnected', ({ error, retryInMs, server }) =>
      listener({
        kind: 'error',
        error: new Error(`${error?.message ?? 'stream ended'}; retry at ${server} in ${retryInMs} ms`),
      }),
    );
    this.client.start();
  }

  close(): void {
    void this.client.stop();
  }
}

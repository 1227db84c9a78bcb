// Which agents follow the change feed now. An agent's feed stream is its liveness as the server sees it: when
// the last stream of a node has stayed closed for a grace period (the agent died, or lost the server), its
// datapaths are marked disconnected — is_connected is what picks a network's active gateway, so a dead gateway's
// standby takes over without waiting for a report that will never come. A live agent that only lost the server
// reconnects, sees is_connected false in the feed and reports it true again.
//
// The grace period: a stream that drops and comes back at once (the agent's idle timeout on a busy machine, a
// proxy's reset) is not an agent gone. Marking it cost two writes that every stream of every agent receives (the
// server's `disconnected`, the agent's `connected` again): 1,000 agents starting on one loaded server dropped 656
// streams, ~1,300 changes to each of 1,000 streams. Within the grace period a reconnect writes nothing.
import type { Logger } from '../util/log.js';
import type { Service } from './service.js';

/** How long the last stream of a node may stay closed before its datapaths show disconnected (ms). */
export const DEFAULT_PRESENCE_GRACE_MS = 3000;

export class AgentPresence {
  private readonly streams = new Map<string, number>();
  /** Nodes whose last stream closed, waiting out the grace period. */
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly service: Service,
    private readonly log?: Logger,
    private readonly graceMs = DEFAULT_PRESENCE_GRACE_MS,
  ) {}

  /** A feed stream of `nodeId` opened; call the returned function when it closes. */
  opened(nodeId: string): () => void {
    this.streams.set(nodeId, (this.streams.get(nodeId) ?? 0) + 1);
    const pending = this.leaving.get(nodeId);
    if (pending) {
      clearTimeout(pending);
      this.leaving.delete(nodeId);
    }
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = (this.streams.get(nodeId) ?? 1) - 1;
      if (left > 0) {
        this.streams.set(nodeId, left);
        return;
      }
      this.streams.delete(nodeId);
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.leaving.delete(nodeId);
        void this.gone(nodeId);
      }, this.graceMs);
      // A closing server must not wait for it (stop() clears it anyway).
      timer.unref();
      this.leaving.set(nodeId, timer);
    };
  }

  /** The server is closing: the streams it ends say nothing about the agents (they reconnect elsewhere or later). */
  stop(): void {
    this.stopped = true;
    for (const t of this.leaving.values()) clearTimeout(t);
    this.leaving.clear();
  }

  private async gone(nodeId: string): Promise<void> {
    if (this.stopped) return;
    try {
      const { result } = await this.service.write(async (ctx) => {
        // A stream may have reopened while this write waited for the store.
        if (this.streams.has(nodeId)) return [];
        const marked: string[] = [];
        for (const dp of await ctx.find('datapaths', { node_id: nodeId })) {
          if (dp.is_connected !== true) continue;
          await ctx.update('datapaths', {
            ...dp,
            is_connected: false,
            flows_in_sync: false,
            last_error: `agent ${nodeId} stopped following the server's change feed`,
          });
          marked.push(dp.uuid as string);
        }
        return marked;
      });
      if (result.length > 0)
        this.log?.warn({ node: nodeId, datapaths: result }, 'agent gone: datapaths marked disconnected');
    } catch (err) {
      // A mark already under way when the server closed its store: the closing says nothing about the agent.
      if (this.stopped) return;
      this.log?.error({ err, node: nodeId }, 'could not mark the datapaths of a gone agent');
    }
  }
}

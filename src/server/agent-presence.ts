// Which agents follow the change feed now. An agent's feed stream is its liveness as the server sees it: when
// the last stream of a node closes (the agent died, or lost the server), its datapaths are marked disconnected
// — is_connected is what picks a network's active gateway, so a dead gateway's standby takes over at once
// instead of waiting for a report that will never come. A live agent that only lost the server reconnects,
// sees is_connected false in the feed and reports it true again.
import type { Logger } from '../util/log.js';
import type { Service } from './service.js';

export class AgentPresence {
  private readonly streams = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly service: Service,
    private readonly log?: Logger,
  ) {}

  /** A feed stream of `nodeId` opened; call the returned function when it closes. */
  opened(nodeId: string): () => void {
    this.streams.set(nodeId, (this.streams.get(nodeId) ?? 0) + 1);
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
      void this.gone(nodeId);
    };
  }

  /** The server is closing: the streams it ends say nothing about the agents (they reconnect elsewhere or later). */
  stop(): void {
    this.stopped = true;
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
      this.log?.error({ err, node: nodeId }, 'could not mark the datapaths of a gone agent');
    }
  }
}

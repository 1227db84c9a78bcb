// Requests the server relays to agents (a trace of a packet through a host's switch): sent down the agent's own
// change-feed stream as an `event: request` (the agent already holds that connection open, through NAT and TLS,
// with its token), answered by the agent with PUT /agent_requests/:id. Nothing is stored: a request lives as
// long as its caller waits.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { AgentFailed, AgentTimeout, Forbidden, UnknownUUIDResource, Unavailable } from '../model/errors.js';

export const AGENT_REQUEST_TIMEOUT_MS = 10_000;

/** What an agent is asked; `kind` picks its handler. */
export interface AgentRequest {
  id: string;
  kind: 'trace';
  body: unknown;
}

interface Pending {
  nodeId: string;
  resolve: (reply: AgentReply) => void;
  timer: NodeJS.Timeout;
}

/** An agent's answer: its result, or the error it met. */
export type AgentReply = { result: unknown; error?: undefined } | { error: string; result?: undefined };

export class AgentRequests {
  /** The open feed streams of each node (the newest answers). */
  private readonly streams = new Map<string, ServerResponse[]>();
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly timeoutMs = AGENT_REQUEST_TIMEOUT_MS) {}

  /** A feed stream of `nodeId` opened; call the returned function when it closes. */
  attach(nodeId: string, res: ServerResponse): () => void {
    const list = this.streams.get(nodeId) ?? [];
    list.push(res);
    this.streams.set(nodeId, list);
    return () => {
      const left = (this.streams.get(nodeId) ?? []).filter((r) => r !== res);
      if (left.length > 0) this.streams.set(nodeId, left);
      else this.streams.delete(nodeId);
    };
  }

  /** Asks the agent of `nodeId`; resolves with its reply, or fails with 503 (not connected) or 504 (no answer). */
  ask(nodeId: string, kind: AgentRequest['kind'], body: unknown, timeoutMs?: number): Promise<unknown> {
    const wait = timeoutMs ?? this.timeoutMs;
    const res = this.streams.get(nodeId)?.at(-1);
    if (!res || res.writableEnded)
      return Promise.reject(new Unavailable(`no agent of node ${nodeId} follows this server's change feed`));
    const id = `rq-${randomBytes(8).toString('hex')}`;
    const request: AgentRequest = { id, kind, body };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentTimeout(`the agent of node ${nodeId} did not answer ${kind} ${id} within ${wait} ms`));
      }, wait);
      this.pending.set(id, {
        nodeId,
        timer,
        resolve: (reply) =>
          reply.error !== undefined ? reject(new AgentFailed(nodeId, reply.error)) : resolve(reply.result),
      });
      res.write(`event: request\ndata: ${JSON.stringify(request)}\n\n`);
    });
  }

  /** The agent of `nodeId` answers request `id` (only the node asked may). */
  answer(nodeId: string | null, id: string, reply: AgentReply): void {
    const p = this.pending.get(id);
    if (!p) throw new UnknownUUIDResource(id, 'id');
    if (nodeId !== null && nodeId !== p.nodeId)
      throw new Forbidden(`request ${id} was not sent to node ${nodeId}`, 'id');
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(reply);
  }
}

// The change feed agents follow: a snapshot of every resource at one revision, then a stream of changes.
import type { FastifyInstance } from 'fastify';
import { int, str } from '../../model/params.js';
import { ownNode } from '../auth/policy.js';
import { streamChanges } from '../feed.js';
import { type RouteOptions, Routes } from './context.js';

const CHANGES = [
  int('since', 0, Number.MAX_SAFE_INTEGER, { required: true }),
  str('node_id', {
    doc: "the watching agent's node id: while none of its streams is open, its datapaths show disconnected",
  }),
];

export async function feedRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  r.add({
    method: 'GET',
    url: '/feed/snapshot',
    tag: 'feed',
    summary: 'Every resource at one revision',
    handler: async () => r.service.snapshot(),
  });
  r.add({
    method: 'GET',
    url: '/feed/changes',
    tag: 'feed',
    summary: 'Server-Sent Events: every change after ?since=R (event: change | resync)',
    params: CHANGES,
    handler: async ({ p, reply, who }) => {
      // An agent's stream keeps its own datapaths connected, never another node's.
      if (typeof p.node_id === 'string' && who.role !== 'admin') ownNode(who, p.node_id, 'presence', 'node_id');
      reply.hijack();
      if (typeof p.node_id === 'string' && opts.presence) reply.raw.on('close', opts.presence.opened(p.node_id));
      await streamChanges(r.service, reply.raw, p.since as number, opts.feed);
    },
  });
}

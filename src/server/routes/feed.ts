// The change feed agents follow: a snapshot of every resource at one revision, then a stream of changes.
import type { FastifyInstance } from 'fastify';
import { int } from '../../model/params.js';
import { streamChanges } from '../feed.js';
import { type RouteOptions, Routes } from './context.js';

const SINCE = [int('since', 0, Number.MAX_SAFE_INTEGER, { required: true })];

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
    params: SINCE,
    handler: async ({ p, reply }) => {
      reply.hijack();
      await streamChanges(r.service, reply.raw, p.since as number, opts.feed);
    },
  });
}

// Health probes for load balancers and orchestrators in front of several servers: /healthz says the process
// serves HTTP; /readyz that its store answers too (a server whose database is gone should get no traffic).
// They carry no data, so they need no token (access `probe`).
import type { FastifyInstance } from 'fastify';
import { type RouteOptions, Routes } from './context.js';

/** How long /readyz waits for the store before it says not ready. */
const READY_TIMEOUT_MS = 2000;

export async function healthRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  r.add({
    method: 'GET',
    url: '/healthz',
    root: true,
    tag: 'health',
    summary: 'Liveness: the server process answers HTTP',
    access: 'probe',
    handler: async () => ({ status: 'ok' }),
  });
  r.add({
    method: 'GET',
    url: '/readyz',
    root: true,
    tag: 'health',
    summary: 'Readiness: the store answers (503 when it does not, within 2 s)',
    access: 'probe',
    handler: async ({ reply }) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const revision = await Promise.race([
          r.service.read((ctx) => ctx.tx.revision()),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
          }),
        ]);
        return { status: 'ready', revision };
      } catch (err) {
        reply.code(503);
        return { status: 'unavailable', reason: `the store does not answer: ${(err as Error).message}` };
      } finally {
        clearTimeout(timer);
      }
    },
  });
}

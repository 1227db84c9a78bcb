// Who is making the current request, carried through the async calls of its handler (AsyncLocalStorage), so a
// write records its audit entry in its own transaction (Service.write) without every route passing it along.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';
import type { Change } from '../../model/types.js';
import type { StoreWriter } from '../../store/store.js';
import type { Access } from './policy.js';

export interface RequestActor {
  who: string;
  role: string;
  method: string;
  path: string;
}

const actors = new AsyncLocalStorage<RequestActor>();

/**
 * Runs the rest of every request inside its actor (after the guard has set `req.principal`). Agents' reports
 * are not audited: they are the agents' account of their hosts, every few seconds from every host.
 */
export function installActorContext(
  app: FastifyInstance,
  accessOf: (method: string, routeUrl: string | undefined) => Access,
): void {
  app.addHook('onRequest', (req, _reply, done) => {
    if (accessOf(req.method, req.routeOptions.url) === 'report') return done();
    const path = req.url.split('?')[0]!.slice(0, 2048);
    actors.run({ who: req.principal.id, role: req.principal.role, method: req.method, path }, done);
  });
}

/** Records the audit entry of a write that changed something, made on behalf of a request (none otherwise). */
export async function recordAudit(tx: StoreWriter, changes: readonly Change[], now: string): Promise<void> {
  const actor = actors.getStore();
  if (!actor || changes.length === 0) return;
  const first = changes[0]!.revision;
  const last = changes[changes.length - 1]!.revision;
  await tx.insert('audit_events', {
    uuid: `au-${last.toString(36)}`,
    ...actor,
    first_revision: first,
    revision: last,
    changes: changes.length,
    created_at: now,
    updated_at: now,
  });
}

// Who is making the current request, carried through the async calls of its handler (AsyncLocalStorage), so a
// write records its audit entry in its own transaction (Service.write) without every route passing it along.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';
import type { Change } from '../../model/types.js';
import type { Store, StoreWriter } from '../../store/store.js';
import type { Logger } from '../../util/log.js';
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

/** How long and how much of the trail is kept: entries older than `maxAgeDays` or beyond the newest `maxEntries` go. */
export interface AuditRetention {
  /** null: kept whatever their age. */
  maxAgeDays: number | null;
  /** null: no bound on their number. */
  maxEntries: number | null;
}

export const AUDIT_RETENTION_DEFAULTS: AuditRetention = { maxAgeDays: 90, maxEntries: 1_000_000 };
/** Entries removed per transaction: a sweep never holds the store's write lock for long. */
const PRUNE_BATCH = 500;

/**
 * Removes the entries beyond `bounds`, oldest first, a batch per transaction; returns how many went. Stateless
 * (the bounds are read from the entries themselves), so it survives restarts, and safe when several servers on
 * one PostgreSQL sweep at once: each batch is one serialisable transaction that removes only what is over the
 * bounds when it runs.
 */
export async function pruneAuditTrail(store: Store, bounds: AuditRetention, now = Date.now()): Promise<number> {
  const cutoff = bounds.maxAgeDays === null ? null : new Date(now - bounds.maxAgeDays * 86_400_000).toISOString();
  let removed = 0;
  for (;;) {
    const n = await store.write(async (tx) => {
      const excess = bounds.maxEntries === null ? 0 : Math.max(0, (await tx.count('audit_events')) - bounds.maxEntries);
      if (excess === 0 && cutoff === null) return 0;
      const oldest = await tx.find('audit_events', {}, { limit: PRUNE_BATCH, offset: 0 });
      let gone = 0;
      for (const doc of oldest) {
        if (gone >= excess && !(cutoff !== null && String(doc.created_at) < cutoff)) break;
        await tx.remove('audit_events', String(doc.uuid));
        gone++;
      }
      return gone;
    });
    removed += n;
    if (n < PRUNE_BATCH) return removed;
  }
}

/**
 * Sweeps the trail now and then (every `everyMs`, the first a few seconds after start). Returns the function that
 * stops it, resolving once a sweep under way has finished (before the store closes).
 */
export function startAuditPruning(
  store: Store,
  bounds: AuditRetention,
  log: Logger,
  everyMs = 10 * 60_000,
): () => Promise<void> {
  if (bounds.maxAgeDays === null && bounds.maxEntries === null) return async () => {};
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const sweep = async () => {
    try {
      const n = await pruneAuditTrail(store, bounds);
      if (n > 0) log.info({ removed: n, ...bounds }, 'audit trail pruned');
    } catch (err) {
      // Another server's sweep may have won a conflict, or the store is down: the next sweep tries again.
      log.warn({ err: String(err) }, 'audit trail pruning failed; retrying at the next sweep');
    }
    if (!stopped) schedule(everyMs);
  };
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      running = sweep();
    }, ms);
    timer.unref();
  };
  schedule(Math.min(5000, everyMs));
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}

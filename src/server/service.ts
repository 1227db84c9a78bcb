// The server's core: runs every write as one store transaction that records change events, then publishes them.
import { EventEmitter } from 'node:events';
import { Unavailable } from '../model/errors.js';
import { type Change, RESOURCE_KINDS, type ResourceKind, type Snapshot } from '../model/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { StoreUnavailableError } from '../store/store.js';
import { recordAudit } from './auth/audit.js';
import { buildLeaseIndex, representInterface } from './represent.js';
import { ReadContext, WriteContext } from './write-context.js';

/**
 * Emits 'changes' (Change[]) after each committed write, in revision order: this server's own writes and, over
 * a store several servers share (PostgreSQL), the other servers' as the store hands them on, one gapless
 * sequence.
 */
export class Service extends EventEmitter<{ changes: [Change[]] }> {
  constructor(
    readonly store: Store,
    private readonly log?: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    store.observeForeignChanges((changes) => this.publish(changes));
  }

  /** Announces committed changes: a failing listener must not turn a committed write into an error reply. */
  private publish(changes: Change[]): void {
    if (changes.length === 0) return;
    try {
      this.emit('changes', changes);
    } catch (err) {
      this.log?.error({ err }, 'change listener failed');
    }
  }

  /** One write transaction: `fn` may throw an ApiError to roll everything back. */
  async write<T>(fn: (ctx: WriteContext) => Promise<T>): Promise<{ result: T; changes: Change[] }> {
    let changes: Change[] = [];
    let result: T;
    try {
      result = await this.store.write(
        async (tx) => {
          const ctx = new WriteContext(tx);
          const r = await fn(ctx);
          changes = await ctx.flush();
          await recordAudit(tx, changes, ctx.now);
          return r;
        },
        // Emitted under the store's write lock, so watchers get batches in revision order. Stamped with the commit
        // time (live events only; the stored change has none): agents trace a change's delivery from it.
        () => {
          const committedAt = Date.now();
          changes = changes.map((c) => ({ ...c, committed_at: committedAt }));
          this.publish(changes);
        },
      );
    } catch (e) {
      if (e instanceof StoreUnavailableError) throw new Unavailable(e.message);
      throw e;
    }
    return { result, changes };
  }

  async read<T>(fn: (ctx: ReadContext) => Promise<T>): Promise<T> {
    try {
      return await this.store.read((tx) => fn(new ReadContext(tx)));
    } catch (e) {
      if (e instanceof StoreUnavailableError) throw new Unavailable(e.message);
      throw e;
    }
  }

  private snapshotCache: { revision: number; json: Promise<string> } | null = null;

  /**
   * The snapshot as JSON text, built once per revision and shared by every reader of that revision (and by
   * readers arriving while it is built): four clients reading a 9k-interface model used to serialise it four
   * times and stall every other request meanwhile.
   */
  async snapshotJson(): Promise<string> {
    const revision = await this.read((ctx) => ctx.tx.revision());
    const cached = this.snapshotCache;
    if (cached && cached.revision >= revision) return cached.json;
    const json = this.snapshot().then((s) => JSON.stringify(s));
    this.snapshotCache = { revision, json };
    // The snapshot may be newer than `revision` (a write in between): still correct, the watcher resumes from
    // the revision inside it. A failed build is not kept.
    json.catch(() => {
      if (this.snapshotCache?.json === json) this.snapshotCache = null;
    });
    return json;
  }

  /** Every resource at one revision (one read transaction). */
  snapshot(): Promise<Snapshot> {
    return this.read(async (ctx) => {
      const revision = await ctx.tx.revision();
      const resources = {} as Record<ResourceKind, unknown[]>;
      for (const k of RESOURCE_KINDS) resources[k] = await ctx.find(k);
      const idx = buildLeaseIndex(resources.mac_leases as never, resources.ip_leases as never);
      resources.interfaces = (resources.interfaces as never[]).map((d: { uuid: string } & Record<string, unknown>) =>
        representInterface(d, idx.macByIface.get(d.uuid) ?? [], (m) => idx.ipByMac.get(m.uuid) ?? []),
      );
      return { revision, resources } as unknown as Snapshot;
    });
  }
}

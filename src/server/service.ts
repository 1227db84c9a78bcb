// The server's core: runs every write as one store transaction that records change events, then publishes them.
import { EventEmitter } from 'node:events';
import { Unavailable } from '../model/errors.js';
import { type Change, RESOURCE_KINDS, type ResourceKind, type Snapshot } from '../model/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { StoreUnavailableError } from '../store/store.js';
import { recordAudit } from './auth/audit.js';
import { buildLeaseIndex, representInterface } from './represent.js';
import { type SnapshotBody, SnapshotView } from './snapshot-view.js';
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
    // `snapshot` late-bound: tests hold the store's build to commit writes while it runs.
    this.snapshots = new SnapshotView(this, () => this.snapshot(), log);
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

  /**
   * The feed snapshot, kept in memory and patched by every change this service announces. It used to be built
   * from the store per revision: 1,000 agents starting together moved the revision with their reports, so the
   * server rebuilt the whole model back to back (a build blocks the event loop on SQLite) and agents did not load.
   */
  readonly snapshots: SnapshotView;

  /** The snapshot at the newest revision this server announced: every write it acknowledged is in it. */
  snapshotBody(): Promise<SnapshotBody> {
    return this.snapshots.current();
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

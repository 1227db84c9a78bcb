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

  private snapshotCache: { revision: number; json: Promise<Buffer> } | null = null;
  /** The build in flight, if any. */
  private snapshotBuilding: Promise<Buffer> | null = null;
  /** The build that starts when the one in flight is done, shared by everyone who asked for newer meanwhile. */
  private snapshotNext: { revision: number; json: Promise<Buffer> } | null = null;

  /**
   * The snapshot as JSON (UTF-8 bytes), built once per revision and shared by every reader of that revision (and by
   * readers arriving while it is built): four clients reading a 9k-interface model used to serialise it four
   * times and stall every other request meanwhile. One build at a time: readers who need a newer revision than
   * the one being built wait for it to finish and share the next build, which then holds every write they could
   * have seen. With every reader building its own, 1,000 agents starting together while their reports moved the
   * revision built one each, concurrently: the server reached 2 GB and answered nothing for minutes. Bytes, not
   * a string: every reply's socket then holds the same buffer until it is sent, where a string was copied into
   * each (1,000 agents slowly reading a 2.5 MB snapshot held 2.5 GB).
   */
  async snapshotBody(): Promise<Buffer> {
    const revision = await this.read((ctx) => ctx.tx.revision());
    const cached = this.snapshotCache;
    if (cached && cached.revision >= revision) return cached.json;
    const building = this.snapshotBuilding;
    if (!building) return this.buildSnapshot(revision);
    if (this.snapshotNext) {
      this.snapshotNext.revision = Math.max(this.snapshotNext.revision, revision);
      return this.snapshotNext.json;
    }
    const start = (): Promise<Buffer> => {
      if (this.snapshotNext === next) this.snapshotNext = null;
      return this.buildSnapshot(next.revision);
    };
    const next: { revision: number; json: Promise<Buffer> } = {
      revision,
      json: building.then(start, start),
    };
    this.snapshotNext = next;
    return next.json;
  }

  /** Builds the snapshot (at `revision` or newer: a write may come in between) and caches it for that revision. */
  private buildSnapshot(revision: number): Promise<Buffer> {
    const json = this.snapshot().then((s) => Buffer.from(JSON.stringify(s)));
    this.snapshotCache = { revision, json };
    this.snapshotBuilding = json;
    // A snapshot newer than `revision` is still correct: the watcher resumes from the revision inside it. A
    // failed build is not kept.
    json.then(
      () => {
        if (this.snapshotBuilding === json) this.snapshotBuilding = null;
      },
      () => {
        if (this.snapshotBuilding === json) this.snapshotBuilding = null;
        if (this.snapshotCache?.json === json) this.snapshotCache = null;
      },
    );
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

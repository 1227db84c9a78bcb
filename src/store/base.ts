// What the SQLite and PostgreSQL stores are around their own SQL: the group-commit write queue and its lock, the
// closed state, the feed's retention rule (by count and by size) and the feed's pages made from change rows.
import type { Change } from '../model/types.js';
import { type ChangeRow, changeOfRow, Mutex, type Outcome, rawChangeJson, type WriteJob, WriteQueue } from './batch.js';
import {
  type ChangesPage,
  type CommitStats,
  type RawChangesPage,
  type Store,
  type StoreReader,
  StoreUnavailableError,
  type StoreWriter,
} from './store.js';

/** How much of the change log a store keeps for resuming watchers. */
export interface RetentionOptions {
  /** How many changes the feed keeps for resuming watchers (older ones are pruned). */
  retainChanges?: number;
  /** At most about this many bytes of change items are kept too (default 256 MiB): big items prune sooner. */
  retainBytes?: number;
}

/** Rows after a revision, read in one consistent view, with the oldest retained and the current revision. */
export interface ChangeRows {
  rows: ChangeRow[];
  oldest: number;
  current: number;
}

export abstract class BaseStore implements Store {
  /** Writes (and, on PostgreSQL, deliveries of other servers' changes) one at a time. */
  protected readonly mutex = new Mutex();
  protected closed = false;
  /** Group commit: the writes queued meanwhile share one transaction, each in its own savepoint. */
  private readonly queue = new WriteQueue(
    this.mutex,
    () => this.closed,
    (batch) => this.commitBatch(batch),
  );
  private readonly retain: number;
  private readonly retainBytes: number;
  /** Item bytes appended since retention was last checked by size. */
  private bytesSinceCheck = 0;

  constructor(opts: RetentionOptions) {
    this.retain = opts.retainChanges ?? 100_000;
    this.retainBytes = opts.retainBytes ?? 256 * 1024 * 1024;
  }

  /** Runs a batch in one transaction: each write's outcome, or null when the batch was rejected as a whole. */
  protected abstract commitBatch(batch: WriteJob[]): Promise<Outcome[] | null>;
  /** Rows after `since`, at most `limit`, and while the items before a row stay under `maxBytes` (at least one). */
  protected abstract changeRows(since: number, limit: number, maxBytes: number): Promise<ChangeRows>;
  abstract read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T>;
  abstract observeForeignChanges(fn: (changes: Change[]) => void): () => void;
  abstract close(): Promise<void>;

  protected check(): void {
    if (this.closed) throw new StoreUnavailableError('store is closed');
  }

  /**
   * After revision `rev` was appended with `item`: prunes in batches so the feed keeps at least `retainChanges`
   * changes without a delete per write, and by size once a sixteenth of the byte budget has been appended (900
   * rule writes to one big group used to keep 67 MB): a watcher further behind than that gets a resync instead.
   * `prune(r)` deletes the changes up to r; `overBudget(bytes)` is the newest revision below which the kept items
   * exceed `bytes`, if any.
   */
  protected async retainAfter(
    rev: number,
    item: string | null,
    prune: (upTo: number) => unknown,
    overBudget: (bytes: number) => Promise<number | undefined> | number | undefined,
  ): Promise<void> {
    if (rev % 1024 === 0 && rev > this.retain) await prune(rev - this.retain);
    this.bytesSinceCheck += item?.length ?? 0;
    if (this.bytesSinceCheck > this.retainBytes / 16) {
      this.bytesSinceCheck = 0;
      const cut = await overBudget(this.retainBytes);
      if (cut !== undefined) await prune(cut);
    }
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>, afterCommit?: (result: T) => void): Promise<T> {
    return this.queue.push(fn, afterCommit);
  }

  observeCommits(fn: (stats: CommitStats) => void): () => void {
    return this.queue.observeCommits(fn);
  }

  async changesSince(since: number, limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<ChangesPage> {
    const { rows, oldest, current } = await this.changeRows(since, limit, maxBytes);
    return { changes: rows.map(changeOfRow), oldest, current };
  }

  async changesSinceRaw(since: number, limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<RawChangesPage> {
    const { rows, oldest, current } = await this.changeRows(since, limit, maxBytes);
    return { changes: rows.map((r) => ({ revision: r.revision, json: rawChangeJson(r) })), oldest, current };
  }
}

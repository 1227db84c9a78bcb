// What the SQLite and PostgreSQL stores share: the write queue's jobs, their group commit's settling, the
// lock that serialises async sections, the field-name check of `Where`, and the feed's raw change text.
import type { Change } from '../model/types.js';
import { type CommitStats, StoreUnavailableError, type StoreWriter } from './store.js';

/** A `Where` key: a top-level field name, spliced into SQL, so nothing else is accepted. */
export const FIELD_RE = /^[a-z_][a-z0-9_]*$/;
/** Most writes sharing one transaction (one fsync). */
export const MAX_BATCH = 256;

export interface WriteJob {
  fn: (tx: StoreWriter) => Promise<unknown>;
  afterCommit: ((result: unknown) => void) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Serialises async sections: one transaction at a time. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * The group-commit queue: writes wait here while a transaction runs; then up to MAX_BATCH of them go to `commit` as
 * one batch (one transaction), under `mutex`, in the order they were asked for, and are settled once it is over.
 */
export class WriteQueue {
  private readonly pending: WriteJob[] = [];
  private scheduled = false;
  private readonly commitObservers = new Set<(stats: CommitStats) => void>();

  /**
   * `commit` runs a batch in one transaction and gives each write's outcome, or rejects the batch itself and gives
   * null when the transaction is lost; a batch that finds the store `closed` is refused without it.
   */
  constructor(
    private readonly mutex: Mutex,
    private readonly closed: () => boolean,
    private readonly commit: (batch: WriteJob[]) => Promise<Outcome[] | null>,
  ) {}

  push<T>(fn: (tx: StoreWriter) => Promise<T>, afterCommit?: (result: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, afterCommit, resolve, reject } as WriteJob);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    void this.mutex.run(async () => {
      this.scheduled = false;
      const batch = this.pending.splice(0, MAX_BATCH);
      if (this.pending.length > 0) this.schedule();
      await this.run(batch);
    });
  }

  /** `fn` hears of each group commit (the metrics); returns what stops it. */
  observeCommits(fn: (stats: CommitStats) => void): () => void {
    this.commitObservers.add(fn);
    return () => this.commitObservers.delete(fn);
  }

  private async run(batch: WriteJob[]): Promise<void> {
    if (this.closed()) {
      for (const j of batch) j.reject(new StoreUnavailableError('store is closed'));
      return;
    }
    const t0 = performance.now();
    const outcomes = await this.commit(batch);
    if (!outcomes) return;
    // Committed: announce in revision order, then answer; all before the next batch starts.
    settleBatch(batch, outcomes, this.commitObservers, {
      seconds: (performance.now() - t0) / 1000,
      writes: batch.length,
    });
  }
}

/**
 * Runs a batch's writes one after another inside the open transaction, each in its own savepoint: a failing one
 * rolls back alone (and `checkpoint`'s restore, taken before it, undoes what the store counted for it). SQL
 * errors of the savepoints themselves propagate: the whole transaction is then lost.
 */
export async function runInSavepoints(
  batch: readonly WriteJob[],
  w: StoreWriter,
  exec: (sql: string) => unknown,
  checkpoint: () => () => void = () => () => {},
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const job of batch) {
    await exec('SAVEPOINT w');
    const restore = checkpoint();
    try {
      const value = await job.fn(w);
      await exec('RELEASE w');
      outcomes.push({ ok: true, value });
    } catch (error) {
      restore();
      await exec('ROLLBACK TO w');
      await exec('RELEASE w');
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}

/**
 * After a group commit: tells the commit observers (metrics), then announces each successful write in revision
 * order (`afterCommit`) and answers it, and rejects the failed ones — all before the next batch starts.
 */
function settleBatch(
  batch: readonly WriteJob[],
  outcomes: readonly Outcome[],
  observers: Iterable<(stats: CommitStats) => void>,
  stats: CommitStats,
): void {
  for (const fn of observers) {
    try {
      fn(stats);
    } catch {
      // An observer (metrics) must never turn a committed write into a failure.
    }
  }
  batch.forEach((job, k) => {
    const o = outcomes[k]!;
    if (o.ok) {
      try {
        job.afterCommit?.(o.value);
      } finally {
        job.resolve(o.value);
      }
    } else job.reject(o.error);
  });
}

/** A stored change row, as the store keeps it (the item as JSON text). */
export interface ChangeRow {
  revision: number;
  resource: string;
  uuid: string;
  op: string;
  item: string | null;
}

/** A stored change row as a Change (its item parsed). */
export function changeOfRow(r: ChangeRow): Change {
  return {
    revision: r.revision,
    resource: r.resource,
    uuid: r.uuid,
    op: r.op,
    item: r.item === null ? null : JSON.parse(r.item),
  } as Change;
}

/** A stored change row as the feed's JSON text: the stored item is already JSON, spliced in as it is. */
export function rawChangeJson(r: ChangeRow): string {
  return `{"revision":${r.revision},"resource":${JSON.stringify(r.resource)},"uuid":${JSON.stringify(r.uuid)},"op":${JSON.stringify(r.op)},"item":${r.item ?? 'null'}}`;
}

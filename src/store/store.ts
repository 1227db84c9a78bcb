// The storage interface: revisioned JSON documents per kind plus a change log; SQLite (one server) or PostgreSQL
// (several servers sharing one database).
import type { Change, ResourceKind } from '../model/types.js';
import type { PRIVATE_DECLARATIONS } from '../model/resources/index.js';

/** Every kind the store keeps: the feed's resources and the private ones (tokens). */
export type StoredKind = ResourceKind | keyof typeof PRIVATE_DECLARATIONS;

/** A stored document: the resource's own fields (derived/embedded parts are computed by the service). */
export type Doc = { uuid: string } & Record<string, unknown>;

/** Equality filter on top-level document fields (null matches JSON null or absent). */
export type Where = Record<string, string | number | boolean | null>;

export interface Page {
  limit: number;
  offset: number;
}

/** A change as written by a transaction; the store assigns the revision. */
export type PendingChange = Omit<Change, 'revision'>;

/** Reads inside a transaction (or a consistent read). */
export interface StoreReader {
  get(kind: StoredKind, uuid: string): Promise<Doc | undefined>;
  /** Documents matching `where`, ordered by creation (insertion) order. */
  find(kind: StoredKind, where?: Where, page?: Page): Promise<Doc[]>;
  count(kind: StoredKind, where?: Where): Promise<number>;
  /** The last committed revision (0 for an empty store). */
  revision(): Promise<number>;
}

/** Writes inside one transaction; nothing is visible to others until the transaction commits. */
export interface StoreWriter extends StoreReader {
  insert(kind: StoredKind, doc: Doc): Promise<void>;
  update(kind: StoredKind, doc: Doc): Promise<void>;
  remove(kind: StoredKind, uuid: string): Promise<void>;
  /** Appends a change; returns its revision (each change gets the next revision, strictly increasing). */
  appendChange(change: PendingChange): Promise<number>;
}

/** A change as the feed sends it: its revision and its JSON text (never parsed on the way from the store). */
export interface RawChange {
  revision: number;
  json: string;
}

export interface RawChangesPage {
  changes: RawChange[];
  oldest: number;
  current: number;
}

export interface ChangesPage {
  changes: Change[];
  /** Lowest revision still retained (changes below it were pruned); `current + 1` when none are retained. */
  oldest: number;
  current: number;
}

/** What one committed transaction cost: BEGIN to COMMIT (fsync included), and how many writes it carried. */
export interface CommitStats {
  seconds: number;
  writes: number;
}

/**
 * The store every server process uses. Implementations must guarantee: every `write` is one atomic, durable
 * transaction (acknowledged = survives a crash); writes are serialisable with respect to each other, so a
 * check-then-insert inside one `write` is safe; revisions strictly increase and never go backwards.
 */
export interface Store {
  /**
   * Runs `fn` in one write transaction; commits when it resolves, rolls back when it throws. `afterCommit` runs
   * right after the commit, before any later write starts, so listeners see commits in revision order.
   */
  write<T>(fn: (tx: StoreWriter) => Promise<T>, afterCommit?: (result: T) => void): Promise<T>;
  /** Runs `fn` against one consistent view (snapshot isolation). */
  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T>;
  /**
   * Changes with revision > `since`, oldest first, at most `limit`, and (when `maxBytes` is given) no more than
   * about that many bytes of items: at least one change, then only while the page stays under it.
   */
  changesSince(since: number, limit: number, maxBytes?: number): Promise<ChangesPage>;
  /** The same page with each change as JSON text: the feed's backlog, without a parse and a re-serialisation. */
  changesSinceRaw(since: number, limit: number, maxBytes?: number): Promise<RawChangesPage>;
  /** Calls `fn` after every committed transaction (the server's metrics); returns the function that stops it. */
  observeCommits(fn: (stats: CommitStats) => void): () => void;
  /**
   * Calls `fn` with the changes other processes committed to this same storage (several servers on one
   * PostgreSQL), oldest first. Its calls and this store's own `afterCommit`s together follow the revisions in
   * order with no gap and no repeat: before a local write's `afterCommit` runs, every earlier foreign change
   * has been handed to `fn`. A store only one process writes to (SQLite) never calls it. Returns the function
   * that stops it.
   */
  observeForeignChanges(fn: (changes: Change[]) => void): () => void;
  close(): Promise<void>;
}

/** Thrown by a store that is closed or otherwise cannot serve. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
}

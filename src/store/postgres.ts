// PostgreSQL implementation of Store (pg): any number of vnet servers share one database. Every write transaction
// takes one transaction-level advisory lock before it reads the revision counter, so writes are serialised across
// servers and commit in revision order (a reader that sees revision 12 committed also sees 11); NOTIFY wakes the
// other servers, which read what they missed from the change table and hand it to their Service in order.
import pg from 'pg';
import type { Change } from '../model/types.js';
import type { Logger } from '../util/log.js';
import { type ChangeRow, changeOfRow, FIELD_RE, type Outcome, runInSavepoints, type WriteJob } from './batch.js';
import { BaseStore, type ChangeRows, type RetentionOptions } from './base.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import {
  type Doc,
  type PendingChange,
  type StoreReader,
  type StoredKind,
  StoreUnavailableError,
  type StoreWriter,
  type Where,
} from './store.js';

export interface PostgresStoreOptions extends RetentionOptions {
  /** `postgres://user[:password]@host[:port]/database` (libpq's URL form; `?host=/socket/dir` for a unix socket). */
  url: string;
  /** Connections in the pool (reads, feed pages and the write transaction share it; LISTEN has its own). */
  poolSize?: number;
  /**
   * Besides NOTIFY, the revision is polled this often (ms): a notification lost with the LISTEN connection
   * delays other servers' changes by at most this long instead of until the next write.
   */
  pollMs?: number;
  log?: Logger | undefined;
}

/** The advisory lock every write transaction holds until it commits ('vnet' in ASCII). */
const WRITE_LOCK = 0x766e6574;
/** The session lock under which a starting server migrates the schema ('vnmg'). */
const MIGRATE_LOCK = 0x766e6d67;
/** NOTIFY channel; the payload is the last revision of the committed transaction. */
export const CHANGES_CHANNEL = 'vnet_changes';
/** Foreign changes read per query when catching up. */
const CATCH_UP_PAGE = 1000;

/** Is `db` (a `--db` value) a PostgreSQL URL rather than a SQLite path? */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The URL with its password (and a `password=` parameter) masked, for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/** Errors that say the database cannot be reached (class 08, shutdown 57P0x, sockets) become StoreUnavailableError. */
function unavailable(e: unknown): unknown {
  if (e instanceof StoreUnavailableError) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (
    CONNECTION_CODES.has(code) ||
    code.startsWith('08') ||
    code.startsWith('57P') ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  )
    return new StoreUnavailableError(`database unavailable: ${message}`);
  return e;
}

/** bigint (int8) columns as numbers: revisions and counts stay far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

type Queryable = Pick<pg.PoolClient, 'query'>;

export class PostgresStore extends BaseStore {
  /** Connects, migrates the schema (serialised across servers by a lock) and starts following other servers. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const s = new PostgresStore(opts);
    try {
      await s.start();
    } catch (e) {
      await s.close();
      throw unavailable(e);
    }
    return s;
  }

  private readonly pool: pg.Pool;
  private readonly url: string;
  private readonly pollMs: number;
  private readonly log: Logger | undefined;
  // Writes, and deliveries of other servers' changes, take the base's mutex: together one ordered sequence.
  private followScheduled = false;
  /** The last revision announced (own afterCommit or foreign delivery): everything up to it has been. */
  private delivered = 0;
  private listener: pg.Client | null = null;
  private poll: NodeJS.Timeout | null = null;
  private relistenTimer: NodeJS.Timeout | null = null;
  private readonly foreignObservers = new Set<(changes: Change[]) => void>();

  private constructor(opts: PostgresStoreOptions) {
    super(opts);
    this.url = opts.url;
    this.pollMs = opts.pollMs ?? 1000;
    this.log = opts.log;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      types: TYPES,
    });
    // An idle connection the server dropped: the next query gets a new one (or fails as unavailable).
    this.pool.on('error', (err) => this.log?.warn({ err }, 'postgres: idle connection lost'));
    // One dropped while checked out also emits 'error' (besides failing its query): never an uncaught exception.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  private async start(): Promise<void> {
    await this.migrate();
    this.delivered = await this.currentRevision(this.pool);
    await this.listen();
    this.poll = setInterval(() => this.scheduleFollow(), this.pollMs);
    this.poll.unref();
  }

  private async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      // Servers starting together: one migrates, the others wait and then find nothing left to do.
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
      try {
        await c.query('CREATE TABLE IF NOT EXISTS vnet_schema (version integer NOT NULL)');
        const r = await c.query<{ version: number }>('SELECT version FROM vnet_schema');
        let version = r.rows[0]?.version ?? 0;
        if (r.rows.length === 0) await c.query('INSERT INTO vnet_schema(version) VALUES (0)');
        for (; version < POSTGRES_MIGRATIONS.length; version++) {
          await c.query('BEGIN');
          try {
            await c.query(POSTGRES_MIGRATIONS[version]!);
            await c.query('UPDATE vnet_schema SET version = $1', [version + 1]);
            await c.query('COMMIT');
          } catch (e) {
            await c.query('ROLLBACK');
            throw e;
          }
        }
        if (version > POSTGRES_MIGRATIONS.length)
          throw new Error(`the database's schema version ${version} is newer than this vnet's`);
      } finally {
        await c.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
      }
    } finally {
      c.release();
    }
  }

  /** LISTEN on a connection of its own; when it drops, it is made again (the poll covers the gap). */
  private async listen(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, types: TYPES });
    c.on('notification', (m) => {
      // Our own commits notify us too: already announced.
      if (Number(m.payload) > this.delivered) this.scheduleFollow();
    });
    c.on('error', (err) => {
      if (this.closed || this.listener !== c) return;
      this.log?.warn({ err }, 'postgres: LISTEN connection lost; reconnecting');
      this.listener = null;
      void c.end().catch(() => {});
      this.relisten();
    });
    await c.connect();
    await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    if (this.closed) {
      await c.end();
      return;
    }
    this.listener = c;
    this.scheduleFollow();
  }

  private relisten(): void {
    if (this.closed || this.relistenTimer) return;
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = null;
      this.listen().catch(() => this.relisten());
    }, this.pollMs);
    this.relistenTimer.unref();
  }

  private async currentRevision(q: Queryable): Promise<number> {
    const r = await q.query<{ value: number }>("SELECT value FROM vnet_meta WHERE key = 'revision'");
    return r.rows[0]!.value;
  }

  /** Other servers committed (a notification, or the poll): hand their changes on, in the write queue's order. */
  private scheduleFollow(): void {
    if (this.followScheduled || this.closed) return;
    this.followScheduled = true;
    void this.mutex
      .run(async () => {
        this.followScheduled = false;
        if (this.closed) return;
        const current = await this.currentRevision(this.pool);
        await this.deliverForeign(this.pool, current);
      })
      .catch((err) => this.log?.warn({ err }, 'postgres: reading other servers’ changes failed; retrying'));
  }

  /**
   * Hands the changes after `delivered` up to `upTo` (all committed: revisions commit in order) to the foreign
   * observers, oldest first — or into `held`, for the caller to hand on (a write batch: after its COMMIT, so the
   * global lock is not held while watchers are written to). Runs under the mutex: no local afterCommit interleaves.
   */
  private async deliverForeign(q: Queryable, upTo: number, held?: Change[][]): Promise<void> {
    if (upTo <= this.delivered) return;
    if (this.foreignObservers.size === 0) {
      this.delivered = upTo;
      return;
    }
    while (this.delivered < upTo) {
      const r = await q.query<ChangeRow>(
        'SELECT revision, resource, uuid, op, item FROM vnet_changes WHERE revision > $1 AND revision <= $2 ORDER BY revision LIMIT $3',
        [this.delivered, upTo, CATCH_UP_PAGE],
      );
      const first = r.rows[0];
      if (!first || first.revision !== this.delivered + 1) {
        // Pruned before this server read them (it was further behind than the retained history): its watchers
        // cannot be given them; they resync when they reconnect.
        this.log?.error(
          { from: this.delivered + 1, to: first ? first.revision - 1 : upTo },
          'postgres: other servers’ changes were pruned before this server read them',
        );
      }
      if (!first) {
        this.delivered = upTo;
        break;
      }
      const changes = r.rows.map(changeOfRow);
      this.delivered = changes[changes.length - 1]!.revision;
      if (held) held.push(changes);
      else this.emitForeign(changes);
    }
  }

  private emitForeign(changes: Change[]): void {
    for (const fn of this.foreignObservers) {
      try {
        fn(changes);
      } catch (err) {
        this.log?.error({ err }, 'postgres: foreign change observer failed');
      }
    }
  }

  private whereSql(kind: StoredKind, where: Where | undefined, args: unknown[]): string {
    args.push(kind);
    let sql = `kind = $${args.length}`;
    for (const [k, v] of Object.entries(where ?? {})) {
      if (!FIELD_RE.test(k)) throw new Error(`bad field name ${k}`);
      if (v === null) sql += ` AND data->>'${k}' IS NULL`;
      else {
        args.push(String(v));
        sql += ` AND data->>'${k}' = $${args.length}`;
        // ->> gives the same text for 3 and "3", true and "true": the JSON type must match too (as in SQLite).
        sql += ` AND json_typeof(data->'${k}') = '${typeof v}'`;
      }
    }
    return sql;
  }

  private reader(q: Queryable, revision: () => Promise<number>): StoreReader {
    return {
      get: async (kind, uuid) => {
        const r = await q.query<{ data: Doc }>('SELECT data FROM vnet_docs WHERE kind = $1 AND uuid = $2', [
          kind,
          uuid,
        ]);
        return r.rows[0]?.data;
      },
      find: async (kind, where, page) => {
        const args: unknown[] = [];
        let sql = `SELECT data FROM vnet_docs WHERE ${this.whereSql(kind, where, args)} ORDER BY seq`;
        if (page) {
          args.push(page.limit, page.offset);
          sql += ` LIMIT $${args.length - 1} OFFSET $${args.length}`;
        }
        const r = await q.query<{ data: Doc }>(sql, args);
        return r.rows.map((row) => row.data);
      },
      count: async (kind, where) => {
        const args: unknown[] = [];
        const r = await q.query<{ n: number }>(
          `SELECT count(*) AS n FROM vnet_docs WHERE ${this.whereSql(kind, where, args)}`,
          args,
        );
        return r.rows[0]!.n;
      },
      revision,
    };
  }

  /** The writer of one batch; `state.revision` is the counter, written back to vnet_meta before COMMIT. */
  private writer(q: Queryable, state: { revision: number }): StoreWriter {
    return {
      ...this.reader(q, async () => state.revision),
      insert: async (kind, doc) => {
        await q.query('INSERT INTO vnet_docs(kind, uuid, data) VALUES ($1, $2, $3)', [
          kind,
          doc.uuid,
          JSON.stringify(doc),
        ]);
      },
      update: async (kind, doc) => {
        const r = await q.query('UPDATE vnet_docs SET data = $1 WHERE kind = $2 AND uuid = $3', [
          JSON.stringify(doc),
          kind,
          doc.uuid,
        ]);
        if (r.rowCount !== 1) throw new Error(`update of missing ${kind} ${doc.uuid}`);
      },
      remove: async (kind, uuid) => {
        await q.query('DELETE FROM vnet_docs WHERE kind = $1 AND uuid = $2', [kind, uuid]);
      },
      appendChange: async (c: PendingChange) => {
        const rev = state.revision + 1;
        const item = c.item === null ? null : JSON.stringify(c.item);
        await q.query('INSERT INTO vnet_changes(revision, resource, uuid, op, item) VALUES ($1, $2, $3, $4, $5)', [
          rev,
          c.resource,
          c.uuid,
          c.op,
          item,
        ]);
        state.revision = rev;
        await this.retainAfter(
          rev,
          item,
          (upTo) => q.query('DELETE FROM vnet_changes WHERE revision <= $1', [upTo]),
          async (bytes) => {
            const cut = await q.query<{ revision: number }>(
              `SELECT revision FROM (SELECT revision, SUM(COALESCE(length(item), 0)) OVER (ORDER BY revision DESC) AS total
                 FROM vnet_changes) t WHERE total > $1 ORDER BY revision DESC LIMIT 1`,
              [bytes],
            );
            return cut.rows[0]?.revision;
          },
        );
        return rev;
      },
    };
  }

  protected async commitBatch(batch: WriteJob[]): Promise<Outcome[] | null> {
    let outcomes: Outcome[];
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      for (const j of batch) j.reject(unavailable(e));
      return null;
    }
    let broken = false;
    const held: Change[][] = [];
    try {
      // One round trip (the lock is held by every write of every server: its critical section is kept short).
      // The lock is held to COMMIT: the writes of every server are serialised, so revisions commit in order. The
      // revision is read by a statement of its own after the lock: it sees every commit of the lock's earlier holders.
      const begun = (await client.query(
        `BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK}); SELECT value FROM vnet_meta WHERE key = 'revision'`,
      )) as unknown as pg.QueryResult<{ value: number }>[];
      const base = begun[2]!.rows[0]!.value;
      // Other servers' changes up to here are committed: read now, announced after COMMIT before ours.
      await this.deliverForeign(client, base, held);
      const state = { revision: base };
      outcomes = await runInSavepoints(
        batch,
        this.writer(client, state),
        (sql) => client.query(sql),
        () => {
          const mark = state.revision;
          return () => {
            state.revision = mark;
          };
        },
      );
      // The revision (an integer: safe to splice), the notification (sent at COMMIT) and COMMIT: one round trip.
      const rev = state.revision;
      await client.query(
        rev > base
          ? `UPDATE vnet_meta SET value = ${rev} WHERE key = 'revision'; NOTIFY ${CHANGES_CHANNEL}, '${rev}'; COMMIT`
          : 'COMMIT',
      );
      this.delivered = state.revision;
    } catch (e) {
      broken = true;
      await client.query('ROLLBACK').catch(() => {});
      for (const changes of held) this.emitForeign(changes);
      for (const j of batch) j.reject(unavailable(e));
      return null;
    } finally {
      client.release(broken);
    }
    // Committed: the foreign changes read before ours are announced first; then the queue settles ours, all before
    // the next batch (or foreign delivery).
    for (const changes of held) this.emitForeign(changes);
    return outcomes;
  }

  observeForeignChanges(fn: (changes: Change[]) => void): () => void {
    this.foreignObservers.add(fn);
    return () => this.foreignObservers.delete(fn);
  }

  /** `fn` in one REPEATABLE READ, read-only transaction on a pooled connection: one consistent snapshot. */
  private async snapshot<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    this.check();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    let broken = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      broken = true;
      await client.query('ROLLBACK').catch(() => {});
      throw unavailable(e);
    } finally {
      client.release(broken);
    }
  }

  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T> {
    return this.snapshot((q) => fn(this.reader(q, () => this.currentRevision(q))));
  }

  protected changeRows(since: number, limit: number, maxBytes: number): Promise<ChangeRows> {
    return this.snapshot(async (q) => {
      const current = await this.currentRevision(q);
      const o = await q.query<{ m: number | null }>('SELECT min(revision) AS m FROM vnet_changes');
      const oldest = o.rows[0]?.m ?? current + 1;
      const r = await q.query<ChangeRow>(
        `SELECT revision, resource, uuid, op, item FROM (
           SELECT revision, resource, uuid, op, item,
             SUM(COALESCE(length(item), 0)) OVER (ORDER BY revision ROWS UNBOUNDED PRECEDING) AS total
           FROM vnet_changes WHERE revision > $1 ORDER BY revision LIMIT $2) t
         WHERE total - COALESCE(length(item), 0) < $3 ORDER BY revision`,
        [since, limit, Number.isFinite(maxBytes) ? maxBytes : Number.MAX_SAFE_INTEGER],
      );
      return { rows: r.rows, oldest, current };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    if (this.relistenTimer) clearTimeout(this.relistenTimer);
    // The batch in flight finishes; queued ones are refused by the write queue.
    await this.mutex.run(async () => {});
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }
}

// SQLite implementation of Store (better-sqlite3, WAL, synchronous=FULL so an acknowledged write survives kill -9).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Change } from '../model/types.js';
import { FIELD_RE, type Outcome, runInSavepoints, type WriteJob } from './batch.js';
import { BaseStore, type RetentionOptions } from './base.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import type { Doc, Page, PendingChange, StoreReader, StoredKind, StoreWriter, Where } from './store.js';

export interface SqliteStoreOptions extends RetentionOptions {
  /** File path, or ':memory:' for tests. */
  path: string;
}

function bindValue(v: string | number | boolean | null): string | number | null {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

export class SqliteStore extends BaseStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(opts: SqliteStoreOptions) {
    super(opts);
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so a reply sent after commit means the write is on disk.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.stmts = {
      get: this.db.prepare<[string, string], { data: string }>('SELECT data FROM docs WHERE kind = ? AND uuid = ?'),
      insert: this.db.prepare('INSERT INTO docs(kind, uuid, seq, data) VALUES (?, ?, ?, ?)'),
      update: this.db.prepare('UPDATE docs SET data = ? WHERE kind = ? AND uuid = ?'),
      remove: this.db.prepare('DELETE FROM docs WHERE kind = ? AND uuid = ?'),
      meta: this.db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
      addChange: this.db.prepare('INSERT INTO changes(revision, resource, uuid, op, item) VALUES (?, ?, ?, ?, ?)'),
      prune: this.db.prepare('DELETE FROM changes WHERE revision <= ?'),
      oldest: this.db.prepare<[], { m: number | null }>('SELECT MIN(revision) AS m FROM changes'),
      // The newest revision below which the kept items exceed the byte budget (everything up to it goes).
      overBudget: this.db.prepare<[number], { revision: number }>(
        `SELECT revision FROM (SELECT revision, SUM(COALESCE(length(item), 0)) OVER (ORDER BY revision DESC) AS total
           FROM changes) WHERE total > ? ORDER BY revision DESC LIMIT 1`,
      ),
      since: this.db.prepare<
        [number, number],
        { revision: number; resource: string; uuid: string; op: string; item: string | null }
      >('SELECT revision, resource, uuid, op, item FROM changes WHERE revision > ? ORDER BY revision LIMIT ?'),
    };
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < SQLITE_MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(SQLITE_MIGRATIONS[i]!);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  private readonly cache = new Map<string, Database.Statement>();
  /** Statements are built from a handful of shapes; prepare each once. */
  private prepared(sql: string): Database.Statement {
    let st = this.cache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.cache.set(sql, st);
    }
    return st;
  }

  private whereSql(kind: StoredKind, where: Where | undefined): { sql: string; args: (string | number | null)[] } {
    let sql = 'kind = ?';
    const args: (string | number | null)[] = [kind];
    for (const [k, v] of Object.entries(where ?? {})) {
      if (!FIELD_RE.test(k)) throw new Error(`bad field name ${k}`);
      if (v === null) sql += ` AND json_extract(data, '$.${k}') IS NULL`;
      else {
        sql += ` AND json_extract(data, '$.${k}') = ?`;
        args.push(bindValue(v));
      }
    }
    return { sql, args };
  }

  private reader(): StoreReader {
    return {
      get: async (kind, uuid) => {
        const row = this.stmts.get.get(kind, uuid);
        return row ? (JSON.parse(row.data) as Doc) : undefined;
      },
      find: async (kind, where, page?: Page) => {
        const { sql, args } = this.whereSql(kind, where);
        // With a filter, `+seq` keeps the planner on the field's index (then sorts the few matches) instead of
        // walking every document of the kind in seq order.
        let q = `SELECT data FROM docs WHERE ${sql} ORDER BY ${args.length > 1 ? '+seq' : 'seq'}`;
        if (page) {
          q += ' LIMIT ? OFFSET ?';
          args.push(page.limit, page.offset);
        }
        const rows = this.prepared(q).all(...args) as { data: string }[];
        return rows.map((r) => JSON.parse(r.data) as Doc);
      },
      count: async (kind, where) => {
        const { sql, args } = this.whereSql(kind, where);
        const row = this.prepared(`SELECT COUNT(*) AS n FROM docs WHERE ${sql}`).get(...args) as { n: number };
        return row.n;
      },
      revision: async () => this.stmts.meta.get('revision')!.value,
    };
  }

  private writer(): StoreWriter {
    const r = this.reader();
    return {
      ...r,
      insert: async (kind, doc) => {
        const seq = this.stmts.meta.get('seq')!.value + 1;
        this.stmts.setMeta.run(seq, 'seq');
        this.stmts.insert.run(kind, doc.uuid, seq, JSON.stringify(doc));
      },
      update: async (kind, doc) => {
        const res = this.stmts.update.run(JSON.stringify(doc), kind, doc.uuid);
        if (res.changes !== 1) throw new Error(`update of missing ${kind} ${doc.uuid}`);
      },
      remove: async (kind, uuid) => {
        this.stmts.remove.run(kind, uuid);
      },
      appendChange: async (c: PendingChange) => {
        const rev = this.stmts.meta.get('revision')!.value + 1;
        this.stmts.setMeta.run(rev, 'revision');
        const item = c.item === null ? null : JSON.stringify(c.item);
        this.stmts.addChange.run(rev, c.resource, c.uuid, c.op, item);
        await this.retainAfter(
          rev,
          item,
          (upTo) => this.stmts.prune.run(upTo),
          (bytes) => this.stmts.overBudget.get(bytes)?.revision,
        );
        return rev;
      },
    };
  }

  protected async commitBatch(batch: WriteJob[]): Promise<Outcome[] | null> {
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const outcomes = await runInSavepoints(batch, this.writer(), (sql) => this.db.exec(sql));
      this.db.exec('COMMIT');
      return outcomes;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const j of batch) j.reject(e);
      return null;
    }
  }

  /** One process owns a SQLite file (the lock is in this process): no change is ever someone else's. */
  observeForeignChanges(_fn: (changes: Change[]) => void): () => void {
    return () => {};
  }

  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.check();
      this.db.exec('BEGIN');
      try {
        return await fn(this.reader());
      } finally {
        if (this.db.inTransaction) this.db.exec('COMMIT');
      }
    });
  }

  /** Rows after `since`, bounded by count and item bytes (at least one), read under the lock; nothing parsed. */
  protected changeRows(since: number, limit: number, maxBytes: number) {
    return this.mutex.run(async () => {
      this.check();
      const current = this.stmts.meta.get('revision')!.value;
      const oldest = this.stmts.oldest.get()?.m ?? current + 1;
      const rows: { revision: number; resource: string; uuid: string; op: string; item: string | null }[] = [];
      let bytes = 0;
      for (const r of this.stmts.since.iterate(since, limit)) {
        rows.push(r);
        bytes += r.item?.length ?? 0;
        if (bytes >= maxBytes) break;
      }
      return { rows, oldest, current };
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.db.close();
    });
  }
}

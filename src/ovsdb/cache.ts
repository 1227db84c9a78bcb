// Local replica of monitored OVSDB tables (monitor_cond_since/update3), typed rows, change
// events, rebuilt (and diffed, so watchers see what changed while away) after every reconnect.
import { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';
import {
  type ColumnType,
  columnType,
  type DatabaseSchema,
  type OvsdbClient,
  type RowUpdate2,
  type TableUpdates2,
  ZERO_TXN_ID,
} from './client.js';
import { OvsdbDisconnectedError, OvsdbError, OvsdbProtocolError, OvsdbTimeoutError } from './errors.js';

/** Column values as the cache holds them: uuids as strings, sets as arrays, maps as Map. */
export type Scalar = string | number | boolean;
export type Value = Scalar | undefined | Scalar[] | Map<Scalar, Scalar>;
export interface CachedRow {
  readonly _uuid: string;
}

export type ChangeKind = 'insert' | 'delete' | 'modify';
export interface RowChange<R = CachedRow> {
  table: string;
  uuid: string;
  kind: ChangeKind;
  old: R | undefined;
  new: R | undefined;
}

export interface MonitorCacheEvents {
  /** One batch per notification (or per resync): apply them in order. */
  change: [changes: RowChange[]];
  /** The cache holds a consistent copy of the server (after the initial load / a rebuild). */
  synced: [];
  /** The connection dropped; the cache keeps its last contents until resynced. */
  unsynced: [];
  error: [err: Error];
}

export interface MonitorCacheOptions<T> {
  db: string;
  /** Table → monitored columns ('all' = every column of the schema). */
  tables: { [K in keyof T]: readonly string[] | 'all' };
  logger?: Logger;
}

type Table = Map<string, Record<string, Value> & CachedRow>;
type Types = Map<string, Map<string, ColumnType>>;

let monitorSeq = 0;

export class MonitorCache<T extends { [K in keyof T]: CachedRow }> extends EventEmitter<MonitorCacheEvents> {
  private readonly data = new Map<string, Table>();
  private types: Types = new Map();
  private monitorId: string | undefined;
  private lastTxnId = ZERO_TXN_ID;
  private isSynced = false;
  /** update3s that arrive before the monitor reply is processed (same chunk): applied after. */
  private early: Array<[string, TableUpdates2]> | undefined;
  private stopped = false;
  schema: DatabaseSchema | undefined;
  /** Number of completed (re)loads: tests and metrics. */
  loads = 0;

  constructor(
    readonly client: OvsdbClient,
    readonly options: MonitorCacheOptions<T>,
  ) {
    super();
    this.setMaxListeners(0); // every until() waits on 'change'; many may be pending at once
    for (const t of Object.keys(options.tables)) this.data.set(t, new Map());
    this.onConnected = this.onConnected.bind(this);
    this.onDisconnected = this.onDisconnected.bind(this);
    this.onUpdate3 = this.onUpdate3.bind(this);
  }

  /** Start following the server (now if connected, and after every reconnect). */
  start(): this {
    this.client.on('connected', this.onConnected);
    this.client.on('disconnected', this.onDisconnected);
    this.client.on('update3', this.onUpdate3);
    if (this.client.connected) this.onConnected();
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.client.off('connected', this.onConnected);
    this.client.off('disconnected', this.onDisconnected);
    this.client.off('update3', this.onUpdate3);
  }

  get synced(): boolean {
    return this.isSynced;
  }

  /** Resolves once the cache is synced (now or after the next load). */
  whenSynced(timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.isSynced || undefined, timeoutMs, 'ovsdb cache sync').then(() => {});
  }

  rows<K extends keyof T & string>(table: K): IterableIterator<T[K]> {
    return this.table(table).values() as unknown as IterableIterator<T[K]>;
  }

  get<K extends keyof T & string>(table: K, uuid: string): T[K] | undefined {
    return this.table(table).get(uuid) as unknown as T[K] | undefined;
  }

  find<K extends keyof T & string>(table: K, pred: (r: T[K]) => boolean): T[K] | undefined {
    for (const r of this.rows(table)) if (pred(r)) return r;
    return undefined;
  }

  count(table: keyof T & string): number {
    return this.table(table).size;
  }

  /**
   * Resolve with fn()'s first truthy result, checking now and after every change batch and
   * sync; reject with OvsdbTimeoutError naming `what` after timeoutMs.
   */
  until<R>(fn: () => R | undefined | null | false, timeoutMs: number, what: string): Promise<R> {
    const now = fn();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        let v: R | undefined | null | false;
        try {
          v = fn();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (v) {
          done();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new OvsdbTimeoutError(`${what}: not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.off('change', check);
        this.off('synced', check);
      };
      this.on('change', check);
      this.on('synced', check);
    });
  }

  private table(name: string): Table {
    const t = this.data.get(name);
    if (!t) throw new OvsdbError('OVSDB_NOT_MONITORED', `table ${name} is not monitored by this cache`);
    return t;
  }

  private onDisconnected(): void {
    this.monitorId = undefined;
    if (this.isSynced) {
      this.isSynced = false;
      this.emit('unsynced');
    }
  }

  private onConnected(): void {
    this.load().catch((err: Error) => {
      if (err instanceof OvsdbDisconnectedError || this.stopped) return; // the next connect retries
      this.options.logger?.error({ err: err.message }, 'ovsdb cache load failed; reconnecting');
      if (this.listenerCount('error')) this.emit('error', err);
      // A failed load leaves us blind: reconnecting retries it with backoff.
      this.client.disconnect(err);
    });
  }

  private async load(): Promise<void> {
    const { db } = this.options;
    const schema = await this.client.getSchema(db);
    const types: Types = new Map();
    const requests: Record<string, Array<{ columns: string[] }>> = {};
    for (const [table, cols] of Object.entries(this.options.tables) as Array<[string, readonly string[] | 'all']>) {
      const ts = schema.tables[table];
      if (!ts) throw new OvsdbProtocolError(`schema.tables.${table}`, `database ${db} has no table ${table}`);
      // Columns this schema version lacks are skipped, so an older ovsdb-server still works.
      const names = cols === 'all' ? Object.keys(ts.columns) : cols.filter((c) => c in ts.columns);
      const m = new Map<string, ColumnType>();
      for (const c of names) m.set(c, columnType(ts.columns[c]!));
      types.set(table, m);
      requests[table] = [{ columns: names }];
    }
    const id = `vnet-cache-${++monitorSeq}`;
    this.monitorId = id;
    this.early = [];
    const reply = await this.client.monitorCondSince(db, id, requests, this.lastTxnId);
    if (this.monitorId !== id || this.stopped) return;
    this.schema = schema;
    const schemaChanged = !sameTypes(this.types, types);
    this.types = types;
    if (reply.found && !schemaChanged && this.loads > 0) {
      // The server still had our history: the reply is just what we missed.
      this.apply(reply.updates);
    } else {
      this.rebuild(reply.updates);
    }
    this.lastTxnId = reply.lastTxnId;
    const early = this.early;
    this.early = undefined;
    for (const [txn, u] of early) {
      this.apply(u);
      this.lastTxnId = txn;
    }
    this.loads++;
    this.isSynced = true;
    this.emit('synced');
  }

  private onUpdate3(monitorId: unknown, lastTxnId: string, updates: TableUpdates2): void {
    if (monitorId !== this.monitorId) return;
    if (this.early) {
      this.early.push([lastTxnId, updates]);
      return;
    }
    try {
      this.apply(updates);
      this.lastTxnId = lastTxnId;
    } catch (err) {
      // A diff we cannot apply means our copy is wrong: resync from scratch.
      this.lastTxnId = ZERO_TXN_ID;
      this.client.disconnect(err as Error);
    }
  }

  /** Replace everything with a fresh initial load, emitting the difference to the old copy. */
  private rebuild(updates: TableUpdates2): void {
    const changes: RowChange[] = [];
    for (const [table, old] of this.data) {
      const fresh: Table = new Map();
      const tu = updates[table] ?? {};
      for (const [uuid, u] of Object.entries(tu)) {
        const row = 'initial' in u ? u.initial : 'insert' in u ? u.insert : undefined;
        if (!row) continue;
        fresh.set(uuid, this.decodeRow(table, uuid, row));
      }
      for (const [uuid, row] of fresh) {
        const before = old.get(uuid);
        if (!before) changes.push({ table, uuid, kind: 'insert', old: undefined, new: row });
        else if (!rowsEqual(before, row)) changes.push({ table, uuid, kind: 'modify', old: before, new: row });
      }
      for (const [uuid, row] of old) {
        if (!fresh.has(uuid)) changes.push({ table, uuid, kind: 'delete', old: row, new: undefined });
      }
      this.data.set(table, fresh);
    }
    this.emitChanges(changes);
  }

  /** A throwing listener must not leave the replica half-updated or trigger resync loops. */
  private emitChanges(changes: RowChange[]): void {
    if (!changes.length) return;
    try {
      this.emit('change', changes);
    } catch (err) {
      this.options.logger?.error({ err: (err as Error).message }, 'ovsdb cache change listener threw');
      if (this.listenerCount('error')) this.emit('error', err as Error);
    }
  }

  private apply(updates: TableUpdates2): void {
    const changes: RowChange[] = [];
    for (const [table, rows] of Object.entries(updates)) {
      const t = this.data.get(table);
      if (!t) continue;
      for (const [uuid, u] of Object.entries(rows) as Array<[string, RowUpdate2]>) {
        const old = t.get(uuid);
        if ('initial' in u || 'insert' in u) {
          const row = this.decodeRow(table, uuid, 'initial' in u ? u.initial : u.insert);
          t.set(uuid, row);
          changes.push({ table, uuid, kind: old ? 'modify' : 'insert', old, new: row });
        } else if ('delete' in u) {
          if (!old) continue;
          t.delete(uuid);
          changes.push({ table, uuid, kind: 'delete', old, new: undefined });
        } else if ('modify' in u) {
          if (!old) throw new OvsdbProtocolError(`update3.${table}.${uuid}`, 'modify of a row we do not have');
          const row = this.modifyRow(table, old, u.modify);
          t.set(uuid, row);
          changes.push({ table, uuid, kind: 'modify', old, new: row });
        } else {
          throw new OvsdbProtocolError(`update3.${table}.${uuid}`, 'row update without initial/insert/delete/modify');
        }
      }
    }
    this.emitChanges(changes);
  }

  private decodeRow(table: string, uuid: string, wire: Record<string, unknown>): Record<string, Value> & CachedRow {
    const types = this.types.get(table)!;
    const row: Record<string, Value> = { _uuid: uuid };
    // update2 rows omit columns holding their default value.
    for (const [col, ty] of types)
      row[col] = col in wire ? decodeValue(ty, wire[col], `${table}.${col}`) : defaultValue(ty);
    return row as Record<string, Value> & CachedRow;
  }

  /** Apply a monitor_cond `modify` diff (ovsdb-server(7) "update2"): sets by symmetric
   *  difference, maps by key (same value → removed, other value → replaced, new key → added).
   *  Optional (0..1) columns carry the new value, as ovsdb-server 3.1 sends them (checked). */
  private modifyRow(table: string, old: Record<string, Value> & CachedRow, diff: Record<string, unknown>) {
    const types = this.types.get(table)!;
    const row: Record<string, Value> = { ...old };
    for (const [col, wire] of Object.entries(diff)) {
      const ty = types.get(col);
      if (!ty) continue;
      const field = `${table}.${col}`;
      const d = decodeValue(ty, wire, field);
      if (ty.value) {
        const m = new Map(old[col] as Map<Scalar, Scalar>);
        for (const [k, v] of d as Map<Scalar, Scalar>) {
          if (m.has(k) && m.get(k) === v) m.delete(k);
          else m.set(k, v);
        }
        row[col] = m;
      } else if (isSetType(ty) && !isOptional(ty)) {
        const cur = [...((old[col] as Scalar[]) ?? [])];
        for (const a of d as Scalar[]) {
          const i = cur.indexOf(a);
          if (i >= 0) cur.splice(i, 1);
          else cur.push(a);
        }
        row[col] = cur;
      } else {
        row[col] = d;
      }
    }
    return row as Record<string, Value> & CachedRow;
  }
}

const isOptional = (t: ColumnType) => !t.value && t.min === 0 && t.max === 1;
const isSetType = (t: ColumnType) => !t.value && (t.max === 'unlimited' || t.max > 1 || t.min === 0);

/** Wire atom → plain value (uuids as their string), checked. */
function atom(v: unknown, field: string): Scalar {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.length === 2 && (v[0] === 'uuid' || v[0] === 'named-uuid') && typeof v[1] === 'string')
    return v[1];
  throw new OvsdbProtocolError(field, `not an OVSDB atom: ${JSON.stringify(v)?.slice(0, 80)}`);
}

/**
 * Wire datum → cache value for a column of type `t`. Decodes straight from the wire form,
 * without the tagged classes of data.ts: an initial load is tens of thousands of rows.
 */
export function decodeValue(t: ColumnType, wire: unknown, field: string): Value {
  const tagged = Array.isArray(wire) && wire.length === 2 && typeof wire[0] === 'string' ? wire[0] : undefined;
  if (t.value) {
    if (tagged !== 'map' || !Array.isArray((wire as unknown[])[1]))
      throw new OvsdbProtocolError(field, 'expected a map');
    const m = new Map<Scalar, Scalar>();
    for (const p of (wire as [string, unknown[]])[1]) {
      if (!Array.isArray(p) || p.length !== 2) throw new OvsdbProtocolError(field, 'map entry not a pair');
      m.set(atom(p[0], field), atom(p[1], field));
    }
    return m;
  }
  if (tagged === 'map') throw new OvsdbProtocolError(field, 'unexpected map');
  let values: Scalar[];
  if (tagged === 'set') {
    const items = (wire as unknown[])[1];
    if (!Array.isArray(items)) throw new OvsdbProtocolError(field, 'set without an array');
    values = items.map((a) => atom(a, field));
  } else values = [atom(wire, field)];
  if (isOptional(t)) {
    if (values.length > 1) throw new OvsdbProtocolError(field, 'more than one value in an optional column');
    return values[0];
  }
  if (isSetType(t)) return values;
  if (values.length !== 1) throw new OvsdbProtocolError(field, 'expected exactly one value');
  return values[0];
}

function defaultValue(t: ColumnType): Value {
  if (t.value) return new Map();
  if (isOptional(t)) return undefined;
  if (isSetType(t)) return [];
  switch (t.key.type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'uuid':
      return ZERO_TXN_ID;
    default:
      return '';
  }
}

function sameTypes(a: Types, b: Types): boolean {
  if (a.size !== b.size) return false;
  for (const [t, cols] of a) {
    const o = b.get(t);
    if (!o || o.size !== cols.size) return false;
    for (const c of cols.keys()) if (!o.has(c)) return false;
  }
  return true;
}

export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x) => b.includes(x));
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (b.get(k) !== v) return false;
    return true;
  }
  return false;
}

export function rowsEqual(a: object, b: object): boolean {
  const ra = a as Record<string, Value>;
  const rb = b as Record<string, Value>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) if (!valuesEqual(ra[k], rb[k])) return false;
  return true;
}

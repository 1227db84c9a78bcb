// OVSDB JSON-RPC 1.0 client (RFC 7047) over unix socket or TCP: framing, echo, requests,
// notifications, reconnect with backoff, and the protocol's methods with typed results.
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Backoff } from '../util/backoff.js';
import type { Logger } from '../util/log.js';
import {
  OvsdbCanceledError,
  OvsdbDisconnectedError,
  OvsdbError,
  OvsdbInputError,
  OvsdbProtocolError,
  OvsdbRpcError,
  OvsdbTimeoutError,
  OvsdbTransactionError,
} from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, JsonSplitter } from './framing.js';
import type { Condition, Operation, OpResult } from './ops.js';

/** `unix:/path/to/db.sock`, `tcp:host:port` or `ssl:host:port` (ovs-vsctl's `--db` syntax, active forms only). */
export type OvsdbTarget = string;

export interface OvsdbClientOptions {
  /** Largest single message accepted from the peer; bigger → connection dropped. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Default per-request timeout in ms (0 = none). Default 60 s. */
  requestTimeoutMs?: number;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean;
  /** Reconnect backoff: first delay and cap in ms (defaults 100 and 4000), doubling between. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Idle interval after which we send an echo; no traffic for two intervals drops the
   *  connection (a silent half-open TCP peer is otherwise never noticed). 0 disables. Default 5 s. */
  probeIntervalMs?: number;
  logger?: Logger;
  /**
   * For `ssl:` targets: our private key and certificate, and the CA certificate(s) the server's must be signed
   * by (PEM). As OVS itself does, the server is verified by its CA only, not by its name (ovs-pki certificates
   * carry no address).
   */
  tls?: { key: string; cert: string; ca: string };
}

/** RFC 7047 <monitor-request>. */
export interface MonitorRequest {
  columns?: readonly string[];
  select?: { initial?: boolean; insert?: boolean; delete?: boolean; modify?: boolean };
}
/** ovsdb-server's <monitor-cond-request>: a monitor request with a `where` clause. */
export interface MonitorCondRequest extends MonitorRequest {
  where?: readonly Condition[] | boolean[];
}

/** RFC 7047 <table-updates>: table → uuid → {old?, new?} with wire rows. */
export type RowUpdate = { old?: Record<string, unknown>; new?: Record<string, unknown> };
export type TableUpdates = Record<string, Record<string, RowUpdate>>;
/** <table-updates2> of monitor_cond: exactly one of the keys; `modify` carries a diff. */
export type RowUpdate2 =
  | { initial: Record<string, unknown> }
  | { insert: Record<string, unknown> }
  | { delete: Record<string, unknown> | null }
  | { modify: Record<string, unknown> };
export type TableUpdates2 = Record<string, Record<string, RowUpdate2>>;

/** The zero txn id: monitor_cond_since with it means "send me everything". */
export const ZERO_TXN_ID = '00000000-0000-0000-0000-000000000000';

export interface OvsdbClientEvents {
  connected: [];
  disconnected: [reason: Error | undefined];
  /** A malformed/oversized message: the connection is dropped (and re-established). */
  protocolError: [err: OvsdbError];
  /** RFC 7047 `update` notification. */
  update: [monitorId: unknown, updates: TableUpdates];
  /** monitor_cond `update2` notification. */
  update2: [monitorId: unknown, updates: TableUpdates2];
  /** monitor_cond_since `update3` notification. */
  update3: [monitorId: unknown, lastTxnId: string, updates: TableUpdates2];
  /** Any other notification (e.g. `locked`, `stolen`). */
  notification: [method: string, params: unknown];
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface RequestOptions {
  /** ms; 0 = wait forever. Defaults to the client's requestTimeoutMs. */
  timeoutMs?: number;
  /** Aborting sends a `cancel` for this request (RFC 7047 §4.1.4) and fails it with
   *  OvsdbCanceledError at once: ovsdb-server 3.x only answers a cancel with "canceled" for
   *  db_change_aware sessions, otherwise it silently drops the request. */
  signal?: AbortSignal;
}

type Endpoint = { path: string } | { host: string; port: number; ssl?: true };

/** Parse `unix:PATH` / `tcp:HOST:PORT` / `ssl:HOST:PORT` (IPv6 as `tcp:[::1]:6640`). */
export function parseTarget(target: OvsdbTarget): Endpoint {
  if (target.startsWith('unix:')) {
    const path = target.slice(5);
    if (!path) throw new OvsdbInputError('target', 'unix: needs a socket path');
    return { path };
  }
  if (target.startsWith('tcp:') || target.startsWith('ssl:')) {
    const m = /^(tcp|ssl):(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(target);
    const port = m ? Number(m[4]) : Number.NaN;
    if (!m || port < 1 || port > 65535)
      throw new OvsdbInputError('target', `expected ${target.slice(0, 3)}:HOST:PORT, got ${target}`);
    return { host: (m[2] ?? m[3])!, port, ...(m[1] === 'ssl' ? { ssl: true as const } : {}) };
  }
  throw new OvsdbInputError(
    'target',
    `expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT, got ${JSON.stringify(target)}`,
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class OvsdbClient extends EventEmitter<OvsdbClientEvents> {
  readonly endpoint: Endpoint;
  private readonly opts: Required<Omit<OvsdbClientOptions, 'logger' | 'tls'>>;
  private readonly log: Logger | undefined;
  private readonly tls: OvsdbClientOptions['tls'];
  private socket: Socket | undefined;
  private splitter: JsonSplitter | undefined;
  private isConnected = false;
  private started = false;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private lastRx = 0;
  private probeOutstanding = false;
  /** Counts of connections made (1 after the first connect): tests and metrics. */
  connects = 0;

  constructor(
    readonly target: OvsdbTarget,
    options: OvsdbClientOptions = {},
  ) {
    super();
    this.setMaxListeners(0); // caches and waiters attach per use; not a leak
    this.endpoint = parseTarget(target);
    this.opts = {
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      reconnect: options.reconnect ?? true,
      backoffMinMs: options.backoffMinMs ?? 100,
      backoffMaxMs: options.backoffMaxMs ?? 4000,
      probeIntervalMs: options.probeIntervalMs ?? 5000,
    };
    this.log = options.logger;
    this.tls = options.tls;
    if ('ssl' in this.endpoint && !this.tls)
      throw new OvsdbInputError('tls', `${target} needs a private key, a certificate and a CA certificate`);
    this.backoff = new Backoff({ initialMs: this.opts.backoffMinMs, maxMs: this.opts.backoffMaxMs });
  }

  /** Create, start and wait for the first connection (rejects after timeoutMs, default 10 s). */
  static async connect(target: OvsdbTarget, options: OvsdbClientOptions & { timeoutMs?: number } = {}) {
    const c = new OvsdbClient(target, options);
    c.start();
    try {
      await c.ready(options.timeoutMs ?? 10_000);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Begin connecting (and keep reconnecting unless `reconnect: false`). Idempotent. */
  start(): this {
    if (this.started || this.closed) return this;
    this.started = true;
    this.dial();
    return this;
  }

  /** Resolves when connected (now or next time). */
  ready(timeoutMs = 0): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.closed) return Promise.reject(new OvsdbDisconnectedError('client closed'));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onConn = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConn);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.off('connected', onConn);
          reject(new OvsdbTimeoutError(`no connection to ${this.target} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Close for good: no reconnect, outstanding requests fail with OvsdbDisconnectedError. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.socket?.destroy();
    this.teardown(new OvsdbDisconnectedError('client closed'));
  }

  /** Drop the current connection (it is re-established with backoff unless closed). */
  disconnect(reason?: Error): void {
    // Not connected from this moment: 'close' fires a tick later, and a request sent (or a
    // ready() answered) in between would ride a socket that is already going away.
    this.isConnected = false;
    this.socket?.destroy(reason);
  }

  private dial(): void {
    const ep = this.endpoint;
    const ssl = 'ssl' in ep && ep.ssl === true;
    const sock: Socket = ssl
      ? tlsConnect({
          host: (ep as { host: string }).host,
          port: (ep as { port: number }).port,
          key: this.tls!.key,
          cert: this.tls!.cert,
          ca: this.tls!.ca,
          checkServerIdentity: () => undefined,
        })
      : createConnection(ep);
    this.socket = sock;
    const splitter = new JsonSplitter(this.opts.maxMessageBytes);
    this.splitter = splitter;
    let failure: Error | undefined;
    let sockConnected = false;
    sock.setNoDelay?.(true);
    // Over TLS the session is usable once the handshake (and the server's certificate) checked out.
    sock.on(ssl ? 'secureConnect' : 'connect', () => {
      sockConnected = true;
      this.isConnected = true;
      this.connects++;
      this.backoff.reset();
      this.lastRx = Date.now();
      this.startProbe();
      this.log?.info({ target: this.target }, 'ovsdb connected');
      this.emit('connected');
    });
    sock.on('data', (chunk: Buffer) => {
      if (this.socket !== sock) return;
      this.lastRx = Date.now();
      this.probeOutstanding = false;
      let msgs: unknown[];
      try {
        msgs = splitter.push(chunk);
      } catch (err) {
        failure = err as Error;
        this.protocolFailure(err as OvsdbError);
        return;
      }
      for (const m of msgs) {
        try {
          this.dispatch(m);
        } catch (err) {
          failure = err as Error;
          if (err instanceof OvsdbError) this.protocolFailure(err);
          else throw err;
          return;
        }
      }
    });
    sock.on('error', (err) => {
      failure ??= err;
    });
    sock.on('close', () => {
      if (this.socket !== sock) return;
      const wasConnected = sockConnected;
      this.socket = undefined;
      this.teardown(
        new OvsdbDisconnectedError(`connection to ${this.target} lost${failure ? `: ${failure.message}` : ''}`),
      );
      if (wasConnected) {
        this.log?.warn({ target: this.target, err: failure?.message }, 'ovsdb disconnected');
        this.emit('disconnected', failure);
      }
      if (!this.closed && this.opts.reconnect) {
        this.reconnectTimer = setTimeout(() => {
          this.reconnectTimer = undefined;
          if (!this.closed) this.dial();
        }, this.backoff.next());
      }
    });
  }

  private protocolFailure(err: OvsdbError): void {
    this.log?.error({ target: this.target, err: err.message }, 'ovsdb protocol error; dropping connection');
    // Fail outstanding requests with the real reason, not just "disconnected".
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.emit('protocolError', err);
    this.isConnected = false;
    this.socket?.destroy(err);
  }

  private teardown(reason: Error): void {
    this.isConnected = false;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.probeOutstanding = false;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(reason);
    }
  }

  private startProbe(): void {
    const iv = this.opts.probeIntervalMs;
    if (!iv) return;
    this.probeTimer = setInterval(() => {
      if (Date.now() - this.lastRx < iv) return;
      if (this.probeOutstanding) {
        this.disconnect(new OvsdbTimeoutError(`no reply to echo within ${iv} ms`));
        return;
      }
      this.probeOutstanding = true;
      this.request('echo', [], { timeoutMs: 0 }).catch(() => {});
    }, iv);
    this.probeTimer.unref();
  }

  private send(msg: unknown): void {
    if (!this.socket || !this.isConnected) throw new OvsdbDisconnectedError();
    this.socket.write(JSON.stringify(msg));
  }

  private dispatch(m: unknown): void {
    if (!isObject(m)) throw new OvsdbProtocolError('message', 'JSON-RPC message is not an object');
    if ('method' in m) {
      if (typeof m.method !== 'string') throw new OvsdbProtocolError('method', 'not a string');
      const params = m.params;
      const id = m.id;
      if (m.method === 'echo' && id !== null && id !== undefined) {
        // RFC 7047 §4.1.11: reply with the same params, whoever asks.
        this.send({ id, result: params ?? [], error: null });
        return;
      }
      if (id !== null && id !== undefined) {
        this.send({ id, result: null, error: `unknown method ${m.method}` });
        return;
      }
      if (!Array.isArray(params)) throw new OvsdbProtocolError(`${m.method}.params`, 'not an array');
      if (m.method === 'update') {
        if (!isObject(params[1])) throw new OvsdbProtocolError('update.params[1]', 'table-updates is not an object');
        this.emit('update', params[0], params[1] as TableUpdates);
      } else if (m.method === 'update2') {
        if (!isObject(params[1])) throw new OvsdbProtocolError('update2.params[1]', 'table-updates2 is not an object');
        this.emit('update2', params[0], params[1] as TableUpdates2);
      } else if (m.method === 'update3') {
        if (typeof params[1] !== 'string') throw new OvsdbProtocolError('update3.params[1]', 'txn id is not a string');
        if (!isObject(params[2])) throw new OvsdbProtocolError('update3.params[2]', 'table-updates2 is not an object');
        this.emit('update3', params[0], params[1], params[2] as TableUpdates2);
      } else {
        this.emit('notification', m.method, params);
      }
      return;
    }
    if (!('id' in m) || !('result' in m || 'error' in m)) {
      throw new OvsdbProtocolError('message', 'neither a request nor a response');
    }
    if (typeof m.id !== 'number') {
      this.log?.warn({ id: m.id }, 'ovsdb response with an id we never use; ignored');
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) {
      this.log?.warn({ id: m.id }, 'ovsdb response to an unknown request; ignored');
      return;
    }
    this.pending.delete(m.id);
    if (p.timer) clearTimeout(p.timer);
    if (m.error !== null && m.error !== undefined) p.reject(new OvsdbRpcError(p.method, m.error));
    else p.resolve(m.result);
  }

  /** Send a request; resolves with `result`, rejects with OvsdbRpcError on `error`. */
  request(method: string, params: unknown[], options: RequestOptions = {}): Promise<unknown> {
    return this.requestWithId(method, params, options).result;
  }

  /** Like request() but also returns the id (for cancel()). */
  requestWithId(
    method: string,
    params: unknown[],
    options: RequestOptions = {},
  ): { id: number; result: Promise<unknown> } {
    const id = this.nextId++;
    const result = new Promise<unknown>((resolve, reject) => {
      if (this.closed) return reject(new OvsdbDisconnectedError('client closed'));
      if (!this.isConnected) return reject(new OvsdbDisconnectedError());
      if (options.signal?.aborted) return reject(new OvsdbError('OVSDB_ABORTED', `${method} aborted before sending`));
      const timeoutMs = options.timeoutMs ?? this.opts.requestTimeoutMs;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              const p = this.pending.get(id);
              this.pending.delete(id);
              const err = new OvsdbTimeoutError(`${method} got no reply within ${timeoutMs} ms`);
              p?.reject(err);
              // Half a message sitting in the buffer with no more bytes coming means the stream
              // is stuck (a truncated reply): whatever arrives next would be glued onto it.
              if (this.splitter && this.splitter.buffered > 0) this.disconnect(err);
            }, timeoutMs)
          : undefined;
      const signal = options.signal;
      const onAbort = () => {
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        if (p.timer) clearTimeout(p.timer);
        if (this.isConnected) this.cancel(id);
        p.reject(new OvsdbCanceledError(method));
      };
      // Detach from a long-lived signal once settled, however it settles.
      const settle =
        <A>(fn: (a: A) => void) =>
        (a: A) => {
          signal?.removeEventListener('abort', onAbort);
          fn(a);
        };
      this.pending.set(id, { method, resolve: settle(resolve), reject: settle(reject), timer });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ method, params, id });
    });
    return { id, result };
  }

  /** RFC 7047 §4.1.4: ask the server to abandon request `id` (prefer RequestOptions.signal). */
  cancel(id: number): void {
    if (this.isConnected) this.send({ method: 'cancel', params: [id], id: null });
  }

  /** RFC 7047 §4.1.1. */
  async listDbs(): Promise<string[]> {
    const r = await this.request('list_dbs', []);
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string')) {
      throw new OvsdbProtocolError('list_dbs.result', 'not an array of strings');
    }
    return r;
  }

  /** RFC 7047 §4.1.2. */
  async getSchema(db: string): Promise<DatabaseSchema> {
    const r = await this.request('get_schema', [db]);
    if (!isObject(r) || typeof r.name !== 'string' || !isObject(r.tables)) {
      throw new OvsdbProtocolError('get_schema.result', 'not a database schema');
    }
    return r as unknown as DatabaseSchema;
  }

  /** RFC 7047 §4.1.11. */
  async echo(...params: unknown[]): Promise<unknown[]> {
    const r = await this.request('echo', params);
    if (!Array.isArray(r)) throw new OvsdbProtocolError('echo.result', 'not an array');
    return r;
  }

  /**
   * RFC 7047 §4.1.3. Resolves with one decoded result per operation when the transaction
   * committed; throws OvsdbTransactionError naming the failing operation otherwise.
   */
  async transact(db: string, ops: readonly Operation[], options: RequestOptions = {}): Promise<OpResult[]> {
    const raw = await this.request('transact', [db, ...ops], options);
    if (!Array.isArray(raw)) throw new OvsdbProtocolError('transact.result', 'not an array');
    const comment = ops.find((o) => o.op === 'comment')?.comment;
    for (let i = 0; i < raw.length; i++) {
      const r = raw[i];
      if (isObject(r) && typeof r.error === 'string') {
        const details = typeof r.details === 'string' ? r.details : undefined;
        // A result past the last operation is the commit's own error (RFC 7047 §4.1.3).
        throw new OvsdbTransactionError(i < ops.length ? i : -1, ops[i], r.error, details, comment);
      }
    }
    if (raw.length < ops.length)
      throw new OvsdbProtocolError('transact.result', `${raw.length} results for ${ops.length} operations`);
    return ops.map((o, i) => decodeResult(o, raw[i], i));
  }

  /** RFC 7047 §4.1.5: initial contents as <table-updates>; later changes arrive as `update` events. */
  async monitor(db: string, monitorId: unknown, requests: Record<string, MonitorRequest | MonitorRequest[]>) {
    const r = await this.request('monitor', [db, monitorId, requests]);
    if (!isObject(r)) throw new OvsdbProtocolError('monitor.result', 'table-updates is not an object');
    return r as TableUpdates;
  }

  /** ovsdb-server `monitor_cond`: like monitor, with where clauses and update2 diffs. */
  async monitorCond(db: string, monitorId: unknown, requests: Record<string, MonitorCondRequest[]>) {
    const r = await this.request('monitor_cond', [db, monitorId, requests]);
    if (!isObject(r)) throw new OvsdbProtocolError('monitor_cond.result', 'table-updates2 is not an object');
    return r as TableUpdates2;
  }

  /**
   * ovsdb-server `monitor_cond_since`: `found` says whether the server still had history after
   * `lastTxnId` (then `updates` holds only the changes since); updates arrive as `update3`.
   */
  async monitorCondSince(
    db: string,
    monitorId: unknown,
    requests: Record<string, MonitorCondRequest[]>,
    lastTxnId: string = ZERO_TXN_ID,
  ): Promise<{ found: boolean; lastTxnId: string; updates: TableUpdates2 }> {
    const r = await this.request('monitor_cond_since', [db, monitorId, requests, lastTxnId]);
    if (!Array.isArray(r) || r.length !== 3) throw new OvsdbProtocolError('monitor_cond_since.result', 'not a triple');
    const [found, txn, updates] = r;
    if (typeof found !== 'boolean') throw new OvsdbProtocolError('monitor_cond_since.result[0]', 'not a boolean');
    if (typeof txn !== 'string') throw new OvsdbProtocolError('monitor_cond_since.result[1]', 'not a string');
    if (!isObject(updates)) throw new OvsdbProtocolError('monitor_cond_since.result[2]', 'not an object');
    return { found, lastTxnId: txn, updates: updates as TableUpdates2 };
  }

  /** RFC 7047 §4.1.7. */
  async monitorCancel(monitorId: unknown): Promise<void> {
    await this.request('monitor_cancel', [monitorId]);
  }
}

function decodeResult(o: Operation, r: unknown, i: number): OpResult {
  const field = `transact.result[${i}]`;
  switch (o.op) {
    case 'insert': {
      const u = isObject(r) ? r.uuid : undefined;
      if (!Array.isArray(u) || u[0] !== 'uuid' || typeof u[1] !== 'string')
        throw new OvsdbProtocolError(field, 'insert without uuid');
      return { op: 'insert', uuid: u[1] };
    }
    case 'select': {
      const rows = isObject(r) ? r.rows : undefined;
      if (!Array.isArray(rows)) throw new OvsdbProtocolError(field, 'select without rows');
      return { op: 'select', rows: rows as Array<Record<string, unknown>> };
    }
    case 'update':
    case 'mutate':
    case 'delete': {
      const count = isObject(r) ? r.count : undefined;
      if (typeof count !== 'number') throw new OvsdbProtocolError(field, `${o.op} without count`);
      return { op: o.op, count };
    }
    default:
      return { op: o.op };
  }
}

/** RFC 7047 §3.2 schema, as far as the client uses it. */
export interface ColumnType {
  key: BaseType;
  value?: BaseType;
  min: number;
  max: number | 'unlimited';
}
export interface BaseType {
  type: 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
  refTable?: string;
  refType?: 'strong' | 'weak';
  enum?: unknown;
}
export interface ColumnSchema {
  type: string | { key: string | BaseType; value?: string | BaseType; min?: number; max?: number | 'unlimited' };
  ephemeral?: boolean;
  mutable?: boolean;
}
export interface TableSchema {
  columns: Record<string, ColumnSchema>;
  isRoot?: boolean;
  indexes?: string[][];
  maxRows?: number;
}
export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Record<string, TableSchema>;
}

/** Normalise a column's type (the schema allows shorthand atomic-type strings). */
export function columnType(c: ColumnSchema): ColumnType {
  const base = (b: string | BaseType): BaseType => (typeof b === 'string' ? { type: b as BaseType['type'] } : b);
  if (typeof c.type === 'string') return { key: base(c.type), min: 1, max: 1 };
  const t: ColumnType = { key: base(c.type.key), min: c.type.min ?? 1, max: c.type.max ?? 1 };
  if (c.type.value !== undefined) t.value = base(c.type.value);
  return t;
}

// Test helpers: a real server on an ephemeral port over an in-memory or temp-file store, and request shorthands.
// VNET_TEST_DB=postgres: every server is on a fresh database of one private PostgreSQL cluster per test process
// (test/lib/postgres.ts; stopped and removed when the process exits), so the API suite runs on either store.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { bootstrapAdminToken } from '../../src/server/auth/token-rows.js';
import { buildApp } from '../../src/server/app.js';
import type { GuardOptions } from '../../src/server/auth/guard.js';
import type { FeedOptions } from '../../src/server/feed.js';
import type { Service } from '../../src/server/service.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { type PostgresCluster, startPostgres } from '../lib/postgres.js';

/** The store startServer puts servers on: VNET_TEST_DB=postgres, or SQLite (the default). */
export const TEST_DB: 'sqlite' | 'postgres' = process.env.VNET_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
let cluster: Promise<PostgresCluster> | null = null;
/** On PostgreSQL, a `path` names a database: a server started again on the same path finds its data. */
const databases = new Map<string, Promise<string>>();
/** PostgreSQL stores startServer opened: a test that fails before its close() leaves one (and its connections). */
const openStores = new Set<Store>();
/** A database migrated once, which every test database copies (CREATE DATABASE … TEMPLATE). */
let template: Promise<string> | null = null;

async function freshDatabase(c: PostgresCluster): Promise<string> {
  template ??= (async () => {
    const url = await c.createDatabase();
    await (await PostgresStore.open({ url })).close();
    return new URL(url).pathname.slice(1);
  })();
  return c.createDatabase({ template: await template });
}

async function openStore(opts: { path?: string; retainChanges?: number; retainBytes?: number }): Promise<Store> {
  const retain = {
    retainChanges: opts.retainChanges ?? 100_000,
    ...(opts.retainBytes ? { retainBytes: opts.retainBytes } : {}),
  };
  if (TEST_DB === 'sqlite') return new SqliteStore({ path: opts.path ?? ':memory:', ...retain });
  // A missing PostgreSQL fails here (asked for explicitly: never a skip).
  cluster ??= startPostgres();
  const c = await cluster;
  let url = opts.path === undefined ? undefined : databases.get(opts.path);
  if (!url) {
    url = freshDatabase(c);
    if (opts.path !== undefined) databases.set(opts.path, url);
  }
  const store = await PostgresStore.open({ url: await url, ...retain });
  openStores.add(store);
  return store;
}

/**
 * Closes every PostgreSQL store still open and stops the cluster (test/server/api-on-postgres.test.ts, after all
 * its files): an open pool or LISTEN connection would keep the process from ever exiting.
 */
export async function closePostgres(): Promise<void> {
  for (const s of openStores) await s.close().catch(() => {});
  openStores.clear();
  const c = cluster;
  cluster = null;
  template = null;
  databases.clear();
  await (await c?.catch(() => null))?.stop();
}

export interface TestServer {
  app: FastifyInstance;
  service: Service;
  store: Store;
  base: string;
  close(): Promise<void>;
}

export async function startServer(
  opts: {
    /** SQLite file (default in memory); on PostgreSQL, one database per path (a fresh one without). */
    path?: string;
    /** Listen on this port (default: any free one). */
    port?: number;
    retainChanges?: number;
    retainBytes?: number;
    heartbeatMs?: number;
    listen?: boolean;
    auth?: GuardOptions;
    feed?: FeedOptions;
    agentRequestTimeoutMs?: number;
    /** How often lease retentions are swept (ms; default the server's). */
    leaseSweepMs?: number;
    /** How long an agent's last stream may stay closed before it is marked gone (ms; default the server's). */
    presenceGraceMs?: number;
  } = {},
): Promise<TestServer> {
  const store = await openStore(opts);
  const { app, service } = await buildApp({
    store,
    feed: { heartbeatMs: opts.heartbeatMs ?? 15_000, ...opts.feed },
    ...(opts.auth ? { auth: opts.auth } : {}),
    ...(opts.agentRequestTimeoutMs ? { agentRequestTimeoutMs: opts.agentRequestTimeoutMs } : {}),
    ...(opts.leaseSweepMs !== undefined ? { leaseSweepMs: opts.leaseSweepMs } : {}),
    ...(opts.presenceGraceMs !== undefined ? { presenceGraceMs: opts.presenceGraceMs } : {}),
  });
  let base = '';
  if (opts.listen !== false) {
    await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  } else await app.ready();
  return {
    app,
    service,
    store,
    base,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** The first admin token of a server that requires tokens, as `vnet server` mints it (into a temp file). */
export async function adminToken(s: TestServer): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'vnet-admin-')), 'admin.token');
  await bootstrapAdminToken(s.service, file);
  return readFileSync(file, 'utf8').trim();
}

export interface Reply {
  status: number;
  body: any;
  text: string;
}

export type BodyMode = 'query' | 'form' | 'json' | 'wrapper';

/** Sends params the way a client would: in the query string, a form body, a JSON body or a wrapped JSON body. */
export async function call(
  s: TestServer,
  method: string,
  path: string,
  params: Record<string, unknown> = {},
  mode: BodyMode = 'json',
  wrapKey = 'x',
): Promise<Reply> {
  let url = path;
  const init: { method: string; headers?: Record<string, string>; payload?: string } = { method };
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  if (mode === 'query' || ((method === 'GET' || method === 'DELETE') && entries.length > 0 && mode !== 'form')) {
    const q = new URLSearchParams(entries.map(([k, v]): [string, string] => [k, v === null ? '' : String(v)]));
    if (entries.length) url += (url.includes('?') ? '&' : '?') + q.toString();
  } else if (mode === 'form') {
    init.headers = { 'content-type': 'application/x-www-form-urlencoded' };
    init.payload = new URLSearchParams(
      entries.map(([k, v]): [string, string] => [k, v === null ? '' : String(v)]),
    ).toString();
  } else if (entries.length > 0 || method === 'POST' || method === 'PUT') {
    init.headers = { 'content-type': 'application/json' };
    const obj = Object.fromEntries(entries);
    init.payload = JSON.stringify(mode === 'wrapper' ? { [wrapKey]: obj } : obj);
  }
  const res = await s.app.inject({ method: method as 'GET', url, headers: init.headers, payload: init.payload });
  let body: any;
  try {
    body = res.body === '' ? undefined : JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, text: res.body };
}

/** Asserts a 2xx and returns the body. */
export async function ok(
  s: TestServer,
  method: string,
  path: string,
  params: Record<string, unknown> = {},
  mode: BodyMode = 'json',
) {
  const r = await call(s, method, path, params, mode);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} → ${r.status} ${r.text}`);
  return r.body;
}

/** Asserts an error reply with OpenVNet's body shape, the status, the code and (when given) the field. */
export async function fails(
  s: TestServer,
  method: string,
  path: string,
  params: Record<string, unknown>,
  status: number,
  code: string,
  field?: string,
  mode: BodyMode = 'json',
) {
  const r = await call(s, method, path, params, mode);
  assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(params)} → ${r.status} ${r.text}`);
  assert.equal(r.body?.code, code, r.text);
  assert.match(r.body?.error, /^Vnet::Endpoints::Errors::\w+$/);
  assert.equal(typeof r.body?.message, 'string');
  if (field !== undefined) {
    assert.equal(r.body.field, field, r.text);
    assert.ok(r.body.message.includes(field), `message names ${field}: ${r.body.message}`);
  }
  return r.body;
}

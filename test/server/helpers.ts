// Test helpers: a real server on an ephemeral port over an in-memory or temp-file store, and request shorthands.
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
import { SqliteStore } from '../../src/store/sqlite.js';

export interface TestServer {
  app: FastifyInstance;
  service: Service;
  store: SqliteStore;
  base: string;
  close(): Promise<void>;
}

export async function startServer(
  opts: {
    path?: string;
    retainChanges?: number;
    retainBytes?: number;
    heartbeatMs?: number;
    listen?: boolean;
    auth?: GuardOptions;
    feed?: FeedOptions;
    agentRequestTimeoutMs?: number;
  } = {},
): Promise<TestServer> {
  const store = new SqliteStore({
    path: opts.path ?? ':memory:',
    retainChanges: opts.retainChanges ?? 100_000,
    ...(opts.retainBytes ? { retainBytes: opts.retainBytes } : {}),
  });
  const { app, service } = await buildApp({
    store,
    feed: { heartbeatMs: opts.heartbeatMs ?? 15_000, ...opts.feed },
    ...(opts.auth ? { auth: opts.auth } : {}),
    ...(opts.agentRequestTimeoutMs ? { agentRequestTimeoutMs: opts.agentRequestTimeoutMs } : {}),
  });
  let base = '';
  if (opts.listen !== false) {
    await app.listen({ host: '127.0.0.1', port: 0 });
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

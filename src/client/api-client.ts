// Typed HTTP client of the vnet API: the one used by the agent, vnctl, the demo and the benches.
import { type ApiCallInfo, ApiUnreachableError, type ApiReply, VnetApiError } from './errors.js';
import { exchange } from './transport.js';
import type { TraceResult } from '../model/trace.js';
import type {
  Datapath,
  DatapathStatusReport,
  Interface,
  InterfaceBindingReport,
  ListResult,
  ResourceKind,
  ResourceMap,
  Snapshot,
  Translation,
  TranslationStatusReport,
} from './types.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:9090';
export const API_PATH = '/api/1.0';

export type ParamValue = string | number | boolean | null | undefined | bigint;
export type RequestParams = Record<string, ParamValue>;

/** One call. `path` is relative to /api/1.0 (e.g. "/datapaths/dp-1") unless it starts with "/api/"; it may carry a query. */
export interface ApiCall {
  readonly method: string;
  readonly path: string;
  /** Added to the query string (undefined values left out, null as empty). */
  readonly query?: Readonly<Record<string, ParamValue>>;
  /** Sent as JSON. */
  readonly body?: unknown;
}

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:9090 (vnctl resolves it from --api, VNET_API, VNET_WEBAPI). */
  baseUrl?: string;
  /**
   * Several servers of one deployment (one database): calls go to one at a time, `failover()` moves to the
   * next (the agent's `--server URL1,URL2`). Overrides `baseUrl`.
   */
  baseUrls?: readonly string[];
  /** Per call, the longest wait for the next bytes of the answer (not for all of it; transport.ts). Default 30 s. */
  timeoutMs?: number;
  /** Reuse connections between calls (default true); vnctl makes one call per process and opts out. */
  keepAlive?: boolean;
  /** API token, sent as `Authorization: Bearer …` (a loopback-only server needs none). */
  token?: string | undefined;
  /** For https: the CA certificates (PEM) to verify the server with, instead of the system's. */
  ca?: string | undefined;
}

function toQuery(params: Readonly<Record<string, ParamValue>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    q.append(k, v === null ? '' : String(v));
  }
  return q.toString();
}

function jsonBody(params: RequestParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = typeof v === 'bigint' ? v.toString() : v;
  return out;
}

export class ApiClient {
  /** Every server this client may use, in order; calls go to `baseUrl`. */
  readonly servers: readonly string[];
  private current = 0;
  private readonly timeoutMs: number;
  private readonly keepAlive: boolean;

  constructor(opts: ApiClientOptions = {}) {
    const urls = opts.baseUrls && opts.baseUrls.length > 0 ? opts.baseUrls : [opts.baseUrl ?? DEFAULT_API_URL];
    this.servers = urls.map((u) => u.replace(/\/+$/, ''));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.keepAlive = opts.keepAlive ?? true;
    this.auth = opts.token ? { authorization: `Bearer ${opts.token.trim()}` } : {};
    this.ca = opts.ca;
  }

  /** The server calls go to now. */
  get baseUrl(): string {
    return this.servers[this.current]!;
  }

  /** Moves to the next server (round robin); returns it. With one server, that server. */
  failover(): string {
    this.current = (this.current + 1) % this.servers.length;
    return this.baseUrl;
  }

  /** The CA bundle this client trusts for https (undefined: the system's). */
  readonly ca: string | undefined;

  /** The headers that carry this client's credential (none without a token). */
  readonly auth: Readonly<Record<string, string>>;

  /** The full path (under /api/1.0 unless it already starts with /api/) with the call's query, and its URL. */
  resolve(call: Pick<ApiCall, 'method' | 'path' | 'query'>): ApiCallInfo {
    const full = call.path.startsWith('/api/')
      ? call.path
      : `${API_PATH}${call.path.startsWith('/') ? '' : '/'}${call.path}`;
    const q = call.query ? toQuery(call.query) : '';
    const withQuery = q ? `${full}${full.includes('?') ? '&' : '?'}${q}` : full;
    return { method: call.method.toUpperCase(), path: full.split('?')[0] as string, url: this.baseUrl + withQuery };
  }

  /**
   * Makes one call; resolves to the parsed JSON reply (undefined when the body is empty). Every failure is a
   * VnetApiError: `status` for a non-2xx answer, `bad_reply` for a 2xx that is not JSON, ApiUnreachableError
   * when there was no answer.
   */
  async send<T = unknown>(call: ApiCall): Promise<T> {
    const info = this.resolve(call);
    const headers: Record<string, string> = { accept: 'application/json', ...this.auth };
    let body: string | undefined;
    if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    let reply: ApiReply;
    try {
      reply = await exchange(new URL(info.url), {
        method: info.method,
        headers,
        body,
        timeoutMs: this.timeoutMs,
        keepAlive: this.keepAlive,
        ca: this.ca,
      });
    } catch (e) {
      throw new ApiUnreachableError(info, e);
    }
    if (reply.status < 200 || reply.status > 299) throw new VnetApiError('status', info, reply);
    if (reply.text.trim() === '') return undefined as T;
    try {
      return JSON.parse(reply.text) as T;
    } catch {
      throw new VnetApiError('bad_reply', info, reply);
    }
  }

  /** GET and DELETE send params in the query string; POST and PUT send them as a JSON body. */
  request<T = unknown>(method: string, path: string, params: RequestParams = {}): Promise<T> {
    const m = method.toUpperCase();
    return m === 'GET' || m === 'DELETE'
      ? this.send<T>({ method: m, path, query: params })
      : this.send<T>({ method: m, path, body: jsonBody(params) });
  }

  list<K extends ResourceKind>(kind: K, params: RequestParams = {}): Promise<ListResult<ResourceMap[K]>> {
    return this.request('GET', `/${kind}`, params);
  }

  /** Every item of a kind, following pages. */
  async listAll<K extends ResourceKind>(
    kind: K,
    params: RequestParams = {},
    pageSize = 1000,
  ): Promise<ResourceMap[K][]> {
    const out: ResourceMap[K][] = [];
    for (let offset = 0; ; offset += pageSize) {
      const page = await this.list(kind, { ...params, limit: pageSize, offset });
      out.push(...page.items);
      if (page.items.length < pageSize || out.length >= page.total_count) return out;
    }
  }

  show<K extends ResourceKind>(kind: K, uuid: string): Promise<ResourceMap[K]> {
    return this.request('GET', `/${kind}/${encodeURIComponent(uuid)}`);
  }

  create<K extends ResourceKind>(kind: K, params: RequestParams): Promise<ResourceMap[K]> {
    return this.request('POST', `/${kind}`, params);
  }

  update<K extends ResourceKind>(kind: K, uuid: string, params: RequestParams): Promise<ResourceMap[K]> {
    return this.request('PUT', `/${kind}/${encodeURIComponent(uuid)}`, params);
  }

  delete(kind: ResourceKind, uuid: string): Promise<string[]> {
    return this.request('DELETE', `/${kind}/${encodeURIComponent(uuid)}`);
  }

  /** The datapath registered with this dpid ("0x…" or bigint), or null. */
  async getDatapathByDpid(dpid: string | bigint): Promise<Datapath | null> {
    const d = typeof dpid === 'bigint' ? `0x${dpid.toString(16).padStart(16, '0')}` : dpid;
    const page = await this.list('datapaths', { dpid: d, limit: 1 });
    return page.items[0] ?? null;
  }

  /** `--register`: POST /datapaths. */
  createDatapath(p: {
    uuid?: string;
    display_name?: string;
    dpid: string | bigint;
    node_id: string;
    ipv4_address?: string | null;
  }): Promise<Datapath> {
    const dpid = typeof p.dpid === 'bigint' ? `0x${p.dpid.toString(16).padStart(16, '0')}` : p.dpid;
    return this.create('datapaths', { ...p, dpid });
  }

  reportDatapathStatus(uuid: string, report: DatapathStatusReport): Promise<Datapath> {
    return this.request('PUT', `/datapaths/${encodeURIComponent(uuid)}/status`, { ...report });
  }

  reportInterfaceBinding(uuid: string, report: InterfaceBindingReport): Promise<Interface> {
    return this.request('PUT', `/interfaces/${encodeURIComponent(uuid)}/binding`, { ...report });
  }

  reportTranslationStatus(uuid: string, report: TranslationStatusReport): Promise<Translation> {
    return this.request('PUT', `/translations/${encodeURIComponent(uuid)}/status`, { ...report });
  }

  /** An agent's answer to a request the server sent down its feed stream: a result (JSON text) or an error. */
  answerAgentRequest(id: string, answer: { result: string } | { error: string }): Promise<{ id: string }> {
    return this.request('PUT', `/agent_requests/${encodeURIComponent(id)}`, { ...answer });
  }

  /** A packet's way from an interface, traced host by host (vnctl trace). */
  trace(body: {
    interface_uuid: string;
    dst: string;
    proto?: string;
    dport?: number;
    sport?: number;
    ttl?: number;
    explain?: boolean;
  }): Promise<TraceResult> {
    return this.request('POST', '/traces', { ...body });
  }

  snapshot(): Promise<Snapshot> {
    return this.request('GET', '/feed/snapshot');
  }
}

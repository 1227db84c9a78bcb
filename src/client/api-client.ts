// Typed HTTP client of the vnet API (fetch-based), used by the agent and vnctl.
import { type FetchTextOptions, type FetchTextResult, fetchText } from '../util/fetch.js';
import type {
  Datapath,
  DatapathStatusReport,
  ErrorBodyLike,
  Interface,
  InterfaceBindingReport,
  ListResult,
  ResourceKind,
  ResourceMap,
  Snapshot,
} from './types.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:9090';
export const API_PATH = '/api/1.0';

export type ParamValue = string | number | boolean | null | undefined | bigint;
export type RequestParams = Record<string, ParamValue>;

/** The server answered with an error body: `code` is OpenVNet's code ("100", "110", …), `status` the HTTP status. */
export class VnetApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errorName: string;
  readonly field: string | undefined;
  constructor(status: number, body: ErrorBodyLike | undefined, fallback: string) {
    super(body?.message ?? fallback);
    this.name = 'VnetApiError';
    this.status = status;
    this.code = body?.code ?? String(status);
    this.errorName = body?.error ?? 'HTTPError';
    this.field = body?.field;
  }
}

/** The server could not be reached or the connection broke (code 'UNREACHABLE'). */
export class ApiUnreachableError extends Error {
  readonly code = 'UNREACHABLE';
  constructor(url: string, cause: unknown) {
    super(`cannot reach ${url}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'ApiUnreachableError';
  }
}

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:9090 (env VNET_API in vnctl). */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function toQuery(params: RequestParams): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    q.append(k, v === null ? '' : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function jsonBody(params: RequestParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = typeof v === 'bigint' ? v.toString() : v;
  return out;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: ApiClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchFn = opts.fetch ?? fetch;
  }

  /**
   * One API call. `path` is relative to /api/1.0 (e.g. "/datapaths/dp-1") unless it starts with "/api/".
   * GET and DELETE send params in the query string; POST and PUT send them as a JSON body.
   */
  async request<T = unknown>(method: string, path: string, params: RequestParams = {}): Promise<T> {
    const full = path.startsWith('/api/') ? path : `${API_PATH}${path.startsWith('/') ? '' : '/'}${path}`;
    const m = method.toUpperCase();
    const inQuery = m === 'GET' || m === 'DELETE';
    const url = this.baseUrl + full + (inQuery ? toQuery(params) : '');
    // fetchText, not AbortSignal.timeout: its unref'd timer cannot end a fetch undici leaves pending (a peer
    // that accepts and closes at once, e.g. a load balancer with no backend), and vnctl would exit with 13.
    const init: FetchTextOptions = { method: m, timeoutMs: this.timeoutMs, fetch: this.fetchFn };
    if (!inQuery) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(jsonBody(params));
    }
    let res: FetchTextResult;
    try {
      res = await fetchText(url, init);
    } catch (e) {
      throw new ApiUnreachableError(url, e);
    }
    const text = res.text;
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok)
      throw new VnetApiError(res.status, body as ErrorBodyLike | undefined, `HTTP ${res.status} ${text.slice(0, 200)}`);
    return body as T;
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

  snapshot(): Promise<Snapshot> {
    return this.request('GET', '/feed/snapshot');
  }
}

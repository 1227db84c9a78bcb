// vnctl's HTTP side: where the API is (--api, VNET_API, OpenVNet's VNET_WEBAPI) and one call to it with typed errors.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiError, BadReplyError, TransportError, UsageError } from './errors.js';
import type { ApiRequest } from './parse.js';

export const DEFAULT_API = 'http://127.0.0.1:9090';
/** Every path is under OpenVNet's versioned prefix. */
export const API_PREFIX = '/api/1.0';

/**
 * The API base URL: `--api`, else `VNET_API`, else OpenVNet's `VNET_WEBAPI=host:port`, else the
 * default. A bare `host:port` gets `http://`; a trailing `/api` or `/api/1.0` is dropped, so
 * copying a full API URL works too.
 */
export function resolveApiBase(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const candidates: [string | undefined, string][] = [
    [flag, '--api'],
    [env.VNET_API, 'VNET_API'],
    [env.VNET_WEBAPI, 'VNET_WEBAPI'],
  ];
  const [raw, source] = candidates.find(([v]) => v !== undefined && v.trim() !== '') ?? [DEFAULT_API, 'default'];
  const text = raw!.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`${source}: not a URL: "${text}" (expected http://HOST:PORT)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source}: only http and https are supported, got "${url.protocol}"`);
  }
  if (url.search || url.hash) throw new UsageError(`${source}: no query or fragment allowed in "${text}"`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api(\/1\.0)?$/, '');
  return `${url.origin}${path}`;
}

/** The full URL of a request. */
export function requestUrl(base: string, req: ApiRequest): string {
  const qs = new URLSearchParams(req.query).toString();
  return `${base}${API_PREFIX}${req.path}${qs ? `?${qs}` : ''}`;
}

/** Squeezes any text to one line, so every failure prints as exactly one line. */
export const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The last `::` part of OpenVNet's error class names (`Vnet::Endpoints::Errors::ArgumentError`). */
const shortErrorName = (name: string): string => name.split('::').pop() ?? name;

function describeApiError(req: ApiRequest, status: number, statusText: string, text: string): ApiError {
  const where = `${req.method} ${API_PREFIX}${req.path}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    const error = typeof o.error === 'string' ? o.error : undefined;
    const code = o.code === undefined || o.code === null ? undefined : String(o.code);
    const message =
      o.message === undefined ? undefined : typeof o.message === 'string' ? o.message : JSON.stringify(o.message);
    const head = `${where}: ${status}${error ? ` ${shortErrorName(error)}` : ''}${code ? ` (code ${code})` : ''}`;
    return new ApiError(oneLine(`${head}${message ? `: ${message}` : ''}`), status, error, code, message, parsed);
  }
  const snippet = oneLine(text).slice(0, 200);
  return new ApiError(
    `${where}: ${status} ${statusText}${snippet ? `: ${snippet}` : ''}`,
    status,
    undefined,
    undefined,
    snippet || undefined,
  );
}

/** Names a failed call by its cause (`ECONNREFUSED`, `ENOTFOUND`, reset, timeout). */
function describeTransport(base: string, err: unknown, timeoutSeconds: number): TransportError {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'TimeoutError')
    return new TransportError(`no answer from the API at ${base} within ${timeoutSeconds} s`);
  const code = e?.code;
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host not found'
        : code === 'ECONNRESET' || code === 'EPIPE'
          ? 'connection reset'
          : (e?.message ?? String(err));
  return new TransportError(
    oneLine(`cannot reach the API at ${base}: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`),
  );
}

export interface CallOptions {
  readonly base: string;
  readonly timeoutSeconds: number;
}

interface RawReply {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
}

/**
 * One HTTP exchange on its own connection. node:http rather than fetch: fetch loads undici (~150 ms)
 * and its pooled keep-alive socket holds the process open after the reply (~400 ms), which every
 * line of a vnctl script would pay.
 */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
) {
  return new Promise<RawReply>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method, headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text }));
      res.on('error', reject);
      // A peer that drops the connection mid-body must not leave the promise hanging.
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('connection closed mid-reply'), { code: 'ECONNRESET' }));
      });
    });
    const timer = setTimeout(() => {
      const e = new Error('timed out');
      e.name = 'TimeoutError';
      req.destroy(e);
    }, timeoutMs);
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    req.end(body);
  });
}

/** Makes one API call; resolves to the parsed JSON body (null when empty) or throws a VnctlError. */
export async function callApi(req: ApiRequest, opts: CallOptions): Promise<unknown> {
  const url = new URL(requestUrl(opts.base, req));
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (req.body !== undefined && (req.method === 'POST' || req.method === 'PUT')) {
    body = JSON.stringify(req.body);
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  let res: RawReply;
  try {
    res = await exchange(url, req.method, headers, body, opts.timeoutSeconds * 1000);
  } catch (err) {
    throw describeTransport(opts.base, err, opts.timeoutSeconds);
  }
  if (res.status < 200 || res.status > 299) throw describeApiError(req, res.status, res.statusText, res.text);
  if (res.text.trim() === '') return null;
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    throw new BadReplyError(
      `${req.method} ${API_PREFIX}${req.path}: ${res.status} but the reply is not JSON: ${oneLine(res.text).slice(0, 200)}`,
    );
  }
}

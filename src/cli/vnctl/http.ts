// vnctl's HTTP side: where the API is (--api, VNET_API, OpenVNet's VNET_WEBAPI), and how a failed call of
// the shared ApiClient reads as vnctl's one-line errors with their exit statuses.
// The client module itself, not client/index.js: the feed client is of no use to a one-shot CLI.
import { readFileSync } from 'node:fs';
import { ApiClient, DEFAULT_API_URL } from '../../client/api-client.js';
import { ApiUnreachableError, VnetApiError } from '../../client/errors.js';
import { ApiError, BadReplyError, TransportError, UsageError, type VnctlError } from './errors.js';
import type { ApiRequest } from './parse.js';
import type { OpenVNetConf } from './openvnet-conf.js';

export const DEFAULT_API = DEFAULT_API_URL;

/**
 * The API base URL: `--api`, else `VNET_API`, else OpenVNet's `VNET_WEBAPI=host:port`, else the
 * default. A bare `host:port` gets `http://`; a trailing `/api` or `/api/1.0` is dropped, so
 * copying a full API URL works too. With several servers (`URL1,URL2`), the first.
 */
export function resolveApiBase(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  conf: OpenVNetConf | null = null,
): string {
  return resolveApiBases(flag, env, conf)[0]!;
}

/** Every server the chosen source names (`URL1,URL2`: several servers of one deployment), in order. */
export function resolveApiBases(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  conf: OpenVNetConf | null = null,
): string[] {
  const candidates: [string | undefined, string][] = [
    [flag, '--api'],
    [env.VNET_API, 'VNET_API'],
    [env.VNET_WEBAPI, 'VNET_WEBAPI'],
    [conf?.api, conf?.path ?? 'vnctl.conf'],
  ];
  const [raw, source] = candidates.find(([v]) => v !== undefined && v.trim() !== '') ?? [DEFAULT_API, 'default'];
  const texts = raw!
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (texts.length === 0) throw new UsageError(`${source}: names no server`);
  return texts.map((t) => normalizeBase(t, source));
}

function normalizeBase(text: string, source: string): string {
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

/**
 * The API token: `--token`, else `VNET_TOKEN`, else the first line of the file `VNET_TOKEN_FILE` names; none
 * otherwise (a loopback-only server trusts its local users).
 */
export function resolveToken(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const given = flag ?? env.VNET_TOKEN;
  if (given !== undefined && given.trim() !== '') return given.trim();
  const file = env.VNET_TOKEN_FILE;
  if (file === undefined || file.trim() === '') return undefined;
  try {
    return readFileSync(file, 'utf8').split('\n')[0]!.trim() || undefined;
  } catch (e) {
    throw new UsageError(
      `VNET_TOKEN_FILE: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** The CA certificates to verify an https API with: `--ca-file`, else `VNET_CA_FILE`; none: the system's. */
export function resolveCa(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const [file, source] = flag !== undefined ? [flag, '--ca-file'] : [env.VNET_CA_FILE, 'VNET_CA_FILE'];
  if (file === undefined || file.trim() === '') return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `${source}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** Squeezes any text to one line, so every failure prints as exactly one line. */
export const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The last `::` part of OpenVNet's error class names (`Vnet::Endpoints::Errors::ArgumentError`). */
const shortErrorName = (name: string): string => name.split('::').pop() ?? name;

/** An error answer as vnctl prints it: call, status, OpenVNet's error name and code, and the message. */
function describeApiError(err: VnetApiError): ApiError {
  const where = `${err.method} ${err.path}`;
  const parsed = err.body;
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    const error = typeof o.error === 'string' ? o.error : undefined;
    const code = o.code === undefined || o.code === null ? undefined : String(o.code);
    const message = err.apiMessage;
    const head = `${where}: ${err.status}${error ? ` ${shortErrorName(error)}` : ''}${code ? ` (code ${code})` : ''}`;
    return new ApiError(oneLine(`${head}${message ? `: ${message}` : ''}`), err.status, error, code, message, parsed);
  }
  const snippet = oneLine(err.text).slice(0, 200);
  return new ApiError(
    `${where}: ${err.status} ${err.statusText}${snippet ? `: ${snippet}` : ''}`,
    err.status,
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

/** The VnctlError (with its exit status) for a failed call. */
function describeFailure(err: VnetApiError, opts: CallOptions): VnctlError {
  if (err instanceof ApiUnreachableError) return describeTransport(opts.base, err.cause, opts.timeoutSeconds);
  if (err.kind === 'bad_reply')
    return new BadReplyError(
      `${err.method} ${err.path}: ${err.status} but the reply is not JSON: ${oneLine(err.text).slice(0, 200)}`,
    );
  return describeApiError(err);
}

export interface CallOptions {
  /** The server, or the first of several (`bases`). */
  readonly base: string;
  /** Several servers of one deployment: a call that cannot reach one is tried on the next. */
  readonly bases?: readonly string[];
  readonly timeoutSeconds: number;
  readonly token?: string | undefined;
  readonly ca?: string | undefined;
}

/** Makes one API call; resolves to the parsed JSON body (null when empty) or throws a VnctlError. */
export async function callApi(req: ApiRequest, opts: CallOptions): Promise<unknown> {
  // One connection, closed after the reply: a pooled socket would only delay the process's exit.
  const api = new ApiClient({
    baseUrls: opts.bases ?? [opts.base],
    timeoutMs: opts.timeoutSeconds * 1000,
    keepAlive: false,
    token: opts.token,
    ca: opts.ca,
  });
  const withBody = req.body !== undefined && (req.method === 'POST' || req.method === 'PUT');
  for (let tried = 1; ; tried++) {
    try {
      const reply = await api.send({
        method: req.method,
        path: req.path,
        query: req.query,
        body: withBody ? req.body : undefined,
      });
      return reply ?? null;
    } catch (e) {
      if (e instanceof ApiUnreachableError && tried < api.servers.length && mayRetry(req.method, e.cause)) {
        api.failover();
        continue;
      }
      if (e instanceof VnetApiError) throw describeFailure(e, { ...opts, base: api.baseUrl });
      throw e;
    }
  }
}

/**
 * Whether a call that reached no server may go to the next one: always when it never left (refused, no such
 * host); a timed-out or reset write may have been done, so only reads and idempotent writes are repeated.
 */
function mayRetry(method: string, cause: unknown): boolean {
  const code = (cause as { code?: string })?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') return true;
  return method !== 'POST';
}

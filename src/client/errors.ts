// The one error type of the API client: every failed call is a VnetApiError whose `kind` says what went
// wrong; ApiUnreachableError is the kind callers most often single out (retry later, exit 3 in vnctl).
import type { ErrorBodyLike } from './types.js';

/** `status`: the API answered with an error status; `bad_reply`: 2xx but not JSON; `unreachable`: no answer. */
export type ApiErrorKind = 'status' | 'bad_reply' | 'unreachable';

/** What was asked: method, the full path without the query (`/api/1.0/networks`), and the URL. */
export interface ApiCallInfo {
  readonly method: string;
  readonly path: string;
  readonly url: string;
}

/** What came back (for `status` and `bad_reply`). */
export interface ApiReply {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
  /** The reply's Retry-After (a busy server's 503, a 429), in ms. */
  readonly retryAfterMs?: number | undefined;
}

/** A Retry-After header's value in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined if neither. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const snippet = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 200);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A failed API call. For `status` errors `code` is OpenVNet's code ("100", "110", …, else the HTTP status),
 * `errorName` the error class name, `field` the offending parameter and `body` the parsed error body.
 */
export class VnetApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly method: string;
  readonly path: string;
  readonly url: string;
  /** HTTP status; 0 when unreachable. */
  readonly status: number;
  readonly statusText: string;
  readonly code: string;
  readonly errorName: string;
  readonly field: string | undefined;
  /** The body's `message` (a structured one as JSON), when the body had one. */
  readonly apiMessage: string | undefined;
  /** The reply body parsed as JSON (undefined when it was not JSON), and as text. */
  readonly body: unknown;
  readonly text: string;
  /** How long the server asked to wait before asking again (its Retry-After, ms), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: ApiErrorKind, call: ApiCallInfo, reply: ApiReply, message?: string, options?: ErrorOptions) {
    const body = parseJson(reply.text);
    const o = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Partial<ErrorBodyLike>) : {};
    const m = o.message as unknown;
    const apiMessage = m === undefined ? undefined : typeof m === 'string' ? m : JSON.stringify(m);
    const detail =
      kind === 'bad_reply'
        ? `${reply.status} but the reply is not JSON: ${snippet(reply.text)}`
        : (apiMessage ?? `HTTP ${reply.status}${reply.text ? ` ${snippet(reply.text)}` : ''}`);
    super(message ?? `${call.method} ${call.path}: ${detail}`, options);
    this.name = 'VnetApiError';
    this.kind = kind;
    this.method = call.method;
    this.path = call.path;
    this.url = call.url;
    this.status = reply.status;
    this.statusText = reply.statusText;
    this.code = o.code === undefined || o.code === null ? String(reply.status) : String(o.code);
    this.errorName = typeof o.error === 'string' ? o.error : 'HTTPError';
    this.field = typeof o.field === 'string' ? o.field : undefined;
    this.apiMessage = apiMessage;
    this.body = body;
    this.text = reply.text;
    this.retryAfterMs = reply.retryAfterMs;
  }
}

/** The API could not be reached, did not answer in time, or the connection broke (code 'UNREACHABLE'). */
export class ApiUnreachableError extends VnetApiError {
  override readonly code = 'UNREACHABLE';
  constructor(call: ApiCallInfo, cause: unknown) {
    super(
      'unreachable',
      call,
      { status: 0, statusText: '', text: '' },
      `cannot reach ${call.url}: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    this.name = 'ApiUnreachableError';
  }
}

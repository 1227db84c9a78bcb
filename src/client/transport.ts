// One HTTP exchange with a deadline, on node:http. Not fetch: fetch loads undici (~150 ms, which every vnctl
// invocation would pay), and undici can leave a request pending with no socket left at all (on a process's
// first connection it awaits the lazy compile of its parser before listening for 'end'/'close', so a peer
// that closes at once goes unnoticed), which ends a CLI with status 13 instead of an error. Here every
// failure settles the promise, and the deadline timer is ref'd, so it keeps the process alive until then.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { gunzip } from 'node:zlib';
import { type ApiReply, parseRetryAfter } from './errors.js';

export interface ExchangeOptions {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  /**
   * The longest wait for the next bytes of the answer: connecting and the headers, then between body chunks. Not a
   * deadline for the whole reply: a big one (a 100 MB feed snapshot, or 1,000 agents reading one at once) that
   * keeps arriving is not cut off and asked again from the start.
   */
  readonly timeoutMs: number;
  /** Reuse connections (an agent's idle sockets do not hold the process open); false: one connection per call. */
  readonly keepAlive: boolean;
  /** For https: the certificates to trust (PEM) instead of the system's. */
  readonly ca?: string | undefined;
}

const keepAliveAgents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
/** One keep-alive https agent per trusted-CA bundle (a client with --ca-file reuses its connections too). */
const caAgents = new Map<string, HttpsAgent>();

function agentFor(https: boolean, keepAlive: boolean, ca: string | undefined): HttpAgent | HttpsAgent | false {
  if (https && ca !== undefined) {
    if (!keepAlive) return new HttpsAgent({ ca, keepAlive: false });
    let a = caAgents.get(ca);
    if (!a) caAgents.set(ca, (a = new HttpsAgent({ ca, keepAlive: true })));
    return a;
  }
  return keepAlive ? keepAliveAgents[https ? 'https' : 'http'] : false;
}

/** TLS verification failures, by OpenSSL/Node code: what to tell the user. */
const TLS_HINTS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted here',
  SELF_SIGNED_CERT_IN_CHAIN: "the server certificate's chain ends in an untrusted self-signed CA",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not signed by a trusted CA',
  CERT_SIGNATURE_FAILURE: 'the server certificate does not match the trusted one',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this address',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
};

/** The error with a hint when it is a certificate the client refused (so the log says what to do). */
export function explainTls(e: unknown): unknown {
  const code = (e as { code?: string })?.code;
  const hint = code ? TLS_HINTS[code] : undefined;
  if (!hint || !(e instanceof Error)) return e;
  return Object.assign(
    new Error(`TLS: ${hint} (${code}: ${e.message}); give the server's CA certificate with --ca-file`),
    { code },
  );
}

/** Sends one request and reads the whole reply as text; rejects on any transport failure (TimeoutError when it stalls). */
export function exchange(url: URL, opts: ExchangeOptions): Promise<ApiReply> {
  return new Promise<ApiReply>((resolve, reject) => {
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const agent = agentFor(https, opts.keepAlive, opts.ca);
    let timer: NodeJS.Timeout | undefined;
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(explainTls(e));
    };
    // gzip is asked for always: the server compresses what is worth it (the feed snapshot, ~8× smaller).
    const headers = { 'accept-encoding': 'gzip', ...opts.headers };
    const req = send(url, { method: opts.method, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        arm();
      });
      res.on('end', () => {
        clearTimeout(timer);
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        const reply = (text: string) =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            text,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          });
        if (res.headers['content-encoding'] !== 'gzip') return reply(Buffer.concat(parts).toString('utf8'));
        // Whole, not streamed: a stream's gunzip takes a cut-off body for a short one; this one fails it.
        gunzip(Buffer.concat(parts), (e, text) => (e ? fail(e) : reply(text.toString('utf8'))));
      });
      res.on('error', fail);
      // A peer that drops the connection mid-body must not leave the promise hanging.
      res.on('close', () => {
        if (!res.complete) fail(Object.assign(new Error('connection closed mid-reply'), { code: 'ECONNRESET' }));
      });
    });
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const e = new Error(`no answer within ${opts.timeoutMs} ms`);
        e.name = 'TimeoutError';
        reject(e); // first: destroying the request may also fail the reply with a plainer reason
        req.destroy(e);
      }, opts.timeoutMs);
    };
    arm();
    req.on('error', fail);
    req.end(opts.body);
  });
}

/**
 * fetch over node:http(s) with the same trusted CAs as `exchange` (Node's fetch cannot be given a CA without
 * undici's own API): a real Response whose body streams, for the change feed.
 */
export function fetchWithCa(ca: string): typeof fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const https = url.protocol === 'https:';
      const send = https ? httpsRequest : httpRequest;
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const req = send(url, { method: init?.method ?? 'GET', headers, agent: agentFor(https, false, ca) }, (res) => {
        const body = Readable.toWeb(res) as ReadableStream<Uint8Array>;
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve(new Response(body, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: h }));
      });
      const signal = init?.signal;
      const abort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal?.aborted) abort();
      signal?.addEventListener('abort', abort, { once: true });
      req.on('error', (e) => reject(explainTls(e)));
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    });
}

// One HTTP exchange with a deadline, on node:http. Not fetch: fetch loads undici (~150 ms, which every vnctl
// invocation would pay), and undici can leave a request pending with no socket left at all (on a process's
// first connection it awaits the lazy compile of its parser before listening for 'end'/'close', so a peer
// that closes at once goes unnoticed), which ends a CLI with status 13 instead of an error. Here every
// failure settles the promise, and the deadline timer is ref'd, so it keeps the process alive until then.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ApiReply } from './errors.js';

export interface ExchangeOptions {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  /** Connecting, headers and body together. */
  readonly timeoutMs: number;
  /** Reuse connections (an agent's idle sockets do not hold the process open); false: one connection per call. */
  readonly keepAlive: boolean;
}

const keepAliveAgents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/** Sends one request and reads the whole reply as text; rejects on any transport failure (TimeoutError on the deadline). */
export function exchange(url: URL, opts: ExchangeOptions): Promise<ApiReply> {
  return new Promise<ApiReply>((resolve, reject) => {
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const agent = opts.keepAlive ? keepAliveAgents[https ? 'https' : 'http'] : false;
    let timer: NodeJS.Timeout | undefined;
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    const req = send(url, { method: opts.method, headers: opts.headers, agent }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text });
      });
      res.on('error', fail);
      // A peer that drops the connection mid-body must not leave the promise hanging.
      res.on('close', () => {
        if (!res.complete) fail(Object.assign(new Error('connection closed mid-reply'), { code: 'ECONNRESET' }));
      });
    });
    timer = setTimeout(() => {
      const e = new Error(`no answer within ${opts.timeoutMs} ms`);
      e.name = 'TimeoutError';
      reject(e); // first: destroying the request may also fail the reply with a plainer reason
      req.destroy(e);
    }, opts.timeoutMs);
    req.on('error', fail);
    req.end(opts.body);
  });
}

// @ts-check
// The page's side of the API: requests with the page's token (if it has one), and the change feed read with
// fetch and a ReadableStream (EventSource cannot send an Authorization header): a snapshot, then every change
// after its revision; on a broken stream it resumes from the last revision it applied, on `resync` it takes a
// new snapshot.

export const API = '/api/1.0';
const TOKEN_KEY = 'vnet.token';

/** The token kept for this tab (sessionStorage), or null. */
export function savedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @param {string | null} token */
export function saveToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** A request the server refused for want of a (valid) token. */
export class NeedToken extends Error {}

/** @returns {Record<string, string>} */
function authHeaders() {
  const token = savedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * One API call; JSON in and out; a 401 is NeedToken, another failure an Error with the server's message.
 * @param {string} method
 * @param {string} path   below /api/1.0
 * @param {Record<string, unknown>} [body]
 * @param {AbortSignal} [signal]
 */
export async function api(method, path, body, signal) {
  const res = await fetch(API + path, {
    method,
    headers: { ...authHeaders(), ...(body ? { 'content-type': 'application/json' } : {}), accept: 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
    ...(signal ? { signal } : {}),
  });
  if (res.status === 401) throw new NeedToken((await res.json().catch(() => ({}))).message ?? 'a token is required');
  const text = await res.text();
  /** @type {any} */
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw new Error(json?.message ?? `${res.status} ${text.slice(0, 200)}`);
  return json;
}

/**
 * @typedef {object} FeedHandlers
 * @property {(snapshot: { revision: number, resources: Record<string, any[]> }) => void} snapshot
 * @property {(change: { revision: number, resource: string, uuid: string, op: 'upsert' | 'delete', item?: any }) => void} change
 * @property {(state: 'connecting' | 'live' | 'retrying' | 'need-token', detail?: string) => void} state
 * @property {() => number} revision  the last revision applied
 */

/** Nothing (not even the server's 15 s ping) for this long: the stream is dead, open another. */
const STALL_MS = 45_000;

/**
 * Follows the feed until `signal` aborts: snapshot, changes, reconnecting with backoff (0.5 s doubling to 10 s).
 * @param {FeedHandlers} on
 * @param {AbortSignal} signal
 */
export async function followFeed(on, signal) {
  let delay = 500;
  let needSnapshot = true;
  while (!signal.aborted) {
    on.state('connecting');
    try {
      if (needSnapshot) {
        on.snapshot(await api('GET', '/feed/snapshot', undefined, signal));
        needSnapshot = false;
      }
      const outcome = await readChanges(on, signal, () => {
        delay = 500;
      });
      if (outcome === 'resync') needSnapshot = true;
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof NeedToken) {
        on.state('need-token', err.message);
        return;
      }
      on.state('retrying', err instanceof Error ? err.message : String(err));
    }
    if (signal.aborted) return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}

/**
 * Reads one change stream to its end; 'resync' when the server says the revision is gone.
 * @param {FeedHandlers} on
 * @param {AbortSignal} signal
 * @param {() => void} opened
 * @returns {Promise<'ended' | 'resync'>}
 */
async function readChanges(on, signal, opened) {
  const stream = new AbortController();
  const abort = () => stream.abort();
  signal.addEventListener('abort', abort);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let stall;
  const alive = () => {
    clearTimeout(stall);
    stall = setTimeout(abort, STALL_MS);
  };
  try {
    alive();
    const res = await fetch(`${API}/feed/changes?since=${on.revision()}`, {
      headers: { ...authHeaders(), accept: 'text/event-stream' },
      signal: stream.signal,
    });
    if (res.status === 401) throw new NeedToken('a token is required');
    if (!res.ok || !res.body) throw new Error(`change feed: ${res.status}`);
    on.state('live');
    opened();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'ended';
      alive();
      buf += value;
      for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
        const event = parseEvent(buf.slice(0, end));
        buf = buf.slice(end + 2);
        if (event.type === 'change') on.change(JSON.parse(event.data));
        else if (event.type === 'resync') return 'resync';
      }
    }
  } finally {
    clearTimeout(stall);
    signal.removeEventListener('abort', abort);
  }
}

/**
 * One Server-Sent Events record: its event type (default `message`) and data lines; comments (`: ping`) skipped.
 * @param {string} block
 */
export function parseEvent(block) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  return { type: data.length || type !== 'message' ? type : 'comment', data: data.join('\n') };
}

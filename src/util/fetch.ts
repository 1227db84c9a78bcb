// fetch() with a deadline that keeps the process alive until it has passed.
//
// Why not `AbortSignal.timeout(ms)`: its timer is unref()'d, so it does not keep the event loop
// alive. undici's fetch (Node 20) can leave a request pending with no socket left at all: on the
// process's first HTTP connection it awaits the lazy compile of its parser before it listens for
// 'end'/'close', so a peer that closes at once (the lab forwarder, while the server behind it is not
// listening yet) goes unnoticed and the request is never sent nor failed. Then nothing is left in the
// loop, and a CLI whose only work is that await ends with status 13 ("unsettled top-level await")
// instead of timing out and retrying. A plain (ref'd) setTimeout always gets to abort it.

export interface FetchTextOptions extends Omit<RequestInit, 'signal'> {
  /** Abort after this many ms: connecting, headers and body together. */
  timeoutMs: number;
  /** The fetch to use (tests); default the global one. */
  fetch?: typeof fetch;
}

export interface FetchTextResult {
  status: number;
  ok: boolean;
  text: string;
}

/** fetch `url` and read the body as text; rejects (TimeoutError) once `timeoutMs` has passed. */
export async function fetchText(url: string, opts: FetchTextOptions): Promise<FetchTextResult> {
  const { timeoutMs, fetch: fetchFn = fetch, ...init } = opts;
  const ac = new AbortController();
  const reason = () =>
    new DOMException(`${init.method ?? 'GET'} ${url}: no answer within ${timeoutMs} ms`, 'TimeoutError');
  const timer = setTimeout(() => ac.abort(reason()), timeoutMs);
  try {
    const r = await fetchFn(url, { ...init, signal: ac.signal });
    return { status: r.status, ok: r.ok, text: await r.text() };
  } finally {
    clearTimeout(timer);
  }
}

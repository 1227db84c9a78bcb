// A raw change-feed watcher for tests: every `id:` it receives, duplicates and resyncs included (FeedClient would
// hide them), so a test can assert "every revision exactly once, in order".
import assert from 'node:assert/strict';
import { SseParser } from '../../src/client/index.js';

export interface RawWatcher {
  /** Revisions of the change events received, in arrival order; -1 for a resync event. */
  ids: number[];
  since: number;
  /** The first error of the stream other than our own abort (a server killed under it ends it: not an error). */
  error: () => unknown;
  stop(): Promise<void>;
}

/** Follows `GET /api/1.0/feed/changes?since=` of `base` until stopped or the stream ends; `headers`: e.g. a token. */
export function watchRaw(base: string, since: number, headers: Record<string, string> = {}): RawWatcher {
  const ids: number[] = [];
  const ac = new AbortController();
  let failure: unknown = null;
  const parser = new SseParser((e) => {
    if (e.event === 'change') ids.push(Number(e.id));
    if (e.event === 'resync') ids.push(-1);
  });
  const done = (async () => {
    const res = await fetch(`${base}/api/1.0/feed/changes?since=${since}`, { signal: ac.signal, headers });
    assert.equal(res.status, 200);
    const dec = new TextDecoder();
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.push(dec.decode(value, { stream: true }));
    }
  })().catch((e) => {
    if ((e as Error).name !== 'AbortError') failure = e;
  });
  return {
    ids,
    since,
    error: () => failure,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

/** [since + 1, since + 2, …, upTo]: what a watcher from `since` must have received once the store is at `upTo`. */
export function revisionsAfter(since: number, upTo: number): number[] {
  return Array.from({ length: upTo - since }, (_, i) => since + i + 1);
}

// Change feed over Server-Sent Events: backlog from the store's change log, then live changes, resync when too old.
import type { ServerResponse } from 'node:http';
import type { Change } from '../model/types.js';
import type { RawChange } from '../store/store.js';
import type { Service } from './service.js';

export interface FeedOptions {
  /** Interval of `: ping` comment lines, ms (15 s in the contract). */
  heartbeatMs?: number;
  /** A watcher whose socket buffers more than this many bytes is disconnected; it resumes from its last id. */
  maxBufferedBytes?: number;
  /** Changes read from the store per backlog page. */
  pageSize?: number;
  /** Item bytes per backlog page (a page is written, then the socket drained, before the next is read). */
  pageBytes?: number;
  /** Open streams at most, in all (429 beyond). */
  maxWatchers?: number;
  /** Open streams at most per credential (token, or the local user). */
  maxWatchersPerCredential?: number;
  /** Snapshot replies being sent at most at once (503 with Retry-After beyond). */
  maxSnapshotsInFlight?: number;
}

export const FEED_DEFAULTS = {
  heartbeatMs: 15_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  pageSize: 1000,
  pageBytes: 256 * 1024,
  // A server may have to take every agent of a 1,000-host deployment when the others are down, with vnctl and
  // topology pages besides: at 1,000 an agent reconnecting before its old stream was seen closed got 429.
  maxWatchers: 5000,
  maxWatchersPerCredential: 50,
  // A fleet restarting together asks for a snapshot each at the same moment: 1,000 agents reading one at once
  // were all too slow to finish (and their hosts too busy parsing), and asked again. Beyond this many the server
  // answers 503 with Retry-After, which the agent's feed client honours (with its own backoff and jitter), so
  // snapshots go out a few dozen at a time and each finishes quickly.
  maxSnapshotsInFlight: 32,
  /** Retry-After of a snapshot refused for being one too many (s): about how long a few dozen take to send. */
  snapshotRetryAfterS: 1,
} as const;

const frameOf = (revision: number, json: string) => `event: change\nid: ${revision}\ndata: ${json}\n\n`;

/** Live changes: serialised once per change, however many watchers send it. */
const frames = new WeakMap<Change, string>();
function frame(c: Change | RawChange): string {
  if ('json' in c) return frameOf(c.revision, c.json);
  let f = frames.get(c);
  if (f === undefined) {
    f = frameOf(c.revision, JSON.stringify(c));
    frames.set(c, f);
  }
  return f;
}

/** Most bytes a replaying stream writes per turn (one frame more when a single change is bigger). */
const SLICE_BYTES = 256 * 1024;

/**
 * One event-loop pass between a replaying stream's slices. Without it a stream whose reader kept up (its socket
 * taking each write at once, so 'drain' comes on the next tick) read and wrote its whole history in microtasks,
 * never letting the loop poll: at load ≥ 8 a GET waited 7 s, and streams whose sockets had once filled waited for
 * the others to finish (5 of 10 reading watchers got all 68 MB in 8 s, the rest nothing). setImmediate callbacks
 * run in the order they were queued, so the streams ready to write take turns, a slice each.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves when `res` drains or closes. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streams changes after `since` to `res` until the client goes away (or falls too far behind); `sent` hears the
 * last revision written after each write (the feed's lag metric).
 */
export async function streamChanges(
  service: Service,
  res: ServerResponse,
  since: number,
  opts: FeedOptions = {},
  sent?: (revision: number) => void,
): Promise<void> {
  const heartbeatMs = opts.heartbeatMs ?? FEED_DEFAULTS.heartbeatMs;
  const maxBuffered = opts.maxBufferedBytes ?? FEED_DEFAULTS.maxBufferedBytes;
  const pageSize = opts.pageSize ?? FEED_DEFAULTS.pageSize;
  const pageBytes = opts.pageBytes ?? FEED_DEFAULTS.pageBytes;
  let last = since;
  let closed = false;
  // Live changes that arrive while the backlog is read wait here; duplicates are dropped by revision.
  let pending: Change[] | null = [];

  const end = () => {
    if (closed) return;
    closed = true;
    service.off('changes', onChanges);
    clearInterval(ping);
    res.end();
  };
  const send = (changes: readonly (Change | RawChange)[]) => {
    let out = '';
    for (const c of changes) {
      if (c.revision <= last) continue;
      last = c.revision;
      out += frame(c);
    }
    if (out) {
      res.write(out);
      sent?.(last);
    }
    // A watcher that cannot keep up is cut off rather than buffering without bound; it resumes from `last`.
    if (res.writableLength > maxBuffered) end();
  };
  /** A backlog slice in its turn; then, if the socket is full, out of the rotation until it drains. */
  /** A backlog slice in its turn; then, if the socket is full, out of the rotation until it drains. */
  const replay = async (slice: RawChange[]) => {
    await nextTurn();
    if (closed) return;
    send(slice);
    if (!closed && res.writableNeedDrain) await drained(res);
  };
  // Live changes leave in one write per event-loop pass: the service announces each write of a group commit on
  // its own (a batch of 50 agent reports was 50 writes to each of 1,000 sockets).
  let queued: Change[] = [];
  const flush = () => {
    const changes = queued;
    queued = [];
    if (!closed) send(changes);
  };
  const onChanges = (changes: Change[]) => {
    if (closed) return;
    if (pending) pending.push(...changes);
    else {
      if (queued.length === 0) setImmediate(flush);
      queued.push(...changes);
    }
  };
  service.on('changes', onChanges);
  res.on('close', end);
  const ping = setInterval(() => {
    if (!closed) res.write(': ping\n\n');
  }, heartbeatMs);

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': vnet change feed\n\n');

  try {
    for (;;) {
      const page = await service.store.changesSinceRaw(last, pageSize, pageBytes);
      if (closed) return;
      if (last > page.current || (last + 1 < page.oldest && last < page.current)) {
        const reason =
          last > page.current
            ? `revision ${last} is newer than the server's ${page.current} (store replaced?)`
            : `revision ${last} is older than the retained history (oldest ${page.oldest})`;
        res.write(`event: resync\ndata: ${JSON.stringify({ revision: page.current, reason })}\n\n`);
        end();
        return;
      }
      // Back-pressure: each slice waits for the socket to drain and the next page is read only once this one has
      // left, so a replaying watcher holds about one page in memory however long the history (20 replays used to
      // take the server to 2 GB), and takes its turn with the others.
      let slice: RawChange[] = [];
      let bytes = 0;
      for (const c of page.changes) {
        slice.push(c);
        bytes += c.json.length;
        if (bytes < SLICE_BYTES) continue;
        await replay(slice);
        if (closed) return;
        slice = [];
        bytes = 0;
      }
      if (slice.length > 0) await replay(slice);
      if (closed) return;
      if (page.changes.length === 0 || page.current <= last) break;
    }
    const buffered = pending;
    pending = null;
    send(buffered);
  } catch {
    end();
  }
}

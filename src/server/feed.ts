// Change feed over Server-Sent Events: backlog from the store's change log, then live changes, resync when too old.
import type { ServerResponse } from 'node:http';
import type { Change } from '../model/types.js';
import type { Service } from './service.js';

export interface FeedOptions {
  /** Interval of `: ping` comment lines, ms (15 s in the contract). */
  heartbeatMs?: number;
  /** A watcher whose socket buffers more than this many bytes is disconnected; it resumes from its last id. */
  maxBufferedBytes?: number;
  /** Changes read from the store per backlog page. */
  pageSize?: number;
}

/** Serialised once per change, however many watchers send it. */
const frames = new WeakMap<Change, string>();
function frame(c: Change): string {
  let f = frames.get(c);
  if (f === undefined) {
    f = `event: change\nid: ${c.revision}\ndata: ${JSON.stringify(c)}\n\n`;
    frames.set(c, f);
  }
  return f;
}

/** Streams changes after `since` to `res` until the client goes away (or falls too far behind). */
export async function streamChanges(
  service: Service,
  res: ServerResponse,
  since: number,
  opts: FeedOptions = {},
): Promise<void> {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxBuffered = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
  const pageSize = opts.pageSize ?? 1000;
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
  const send = (changes: Change[]) => {
    let out = '';
    for (const c of changes) {
      if (c.revision <= last) continue;
      last = c.revision;
      out += frame(c);
    }
    if (out) res.write(out);
    // A watcher that cannot keep up is cut off rather than buffering without bound; it resumes from `last`.
    if (res.writableLength > maxBuffered) end();
  };
  const onChanges = (changes: Change[]) => {
    if (closed) return;
    if (pending) pending.push(...changes);
    else send(changes);
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
      const page = await service.store.changesSince(last, pageSize);
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
      send(page.changes);
      if (closed) return;
      if (page.changes.length < pageSize) break;
    }
    const buffered = pending;
    pending = null;
    send(buffered);
  } catch {
    end();
  }
}

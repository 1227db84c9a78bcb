// The feed snapshot kept in memory: every resource's representation as JSON text, patched by each committed
// change, so serving the newest revision costs a splice of cached bytes instead of a build from the store.
import type { Change, ResourceKind, Snapshot } from '../model/types.js';
import { gzipPieces } from '../util/gzip-pieces.js';
import type { Logger } from '../util/log.js';

/** Documents per cached byte chunk, about: a change re-encodes its chunk only, not its whole kind. */
const CHUNK_BYTES = 64 * 1024;

const COMMA = Buffer.from(',');
const END_LIST = Buffer.from(']');
const END = Buffer.from('}}');
/** `"kind":[` (with its leading comma after the first): the same Buffer each time, so its compressed run is kept. */
const kindOpenings = new Map<string, Buffer>();
const kindOpening = (kind: string, first: boolean): Buffer => {
  const text = `${first ? '' : ','}${JSON.stringify(kind)}:[`;
  let b = kindOpenings.get(text);
  if (!b) kindOpenings.set(text, (b = Buffer.from(text)));
  return b;
};

/** A snapshot's body as byte chunks shared by every reply at its revision (never modified: replaced). */
export interface SnapshotBody {
  revision: number;
  parts: readonly Buffer[];
  length: number;
  /** The same bytes gzip-encoded, made on the first call: unchanged chunks reuse their compressed run. */
  gzip(): { parts: readonly Buffer[]; length: number };
}

interface Chunk {
  docs: Map<string, string>;
  chars: number;
  /** The documents joined by commas; null when a change made it stale. */
  bytes: Buffer | null;
}

/** One kind's documents in creation order (as the store lists them), cut in chunks. */
class KindDocs {
  private readonly chunks: Chunk[] = [];
  private readonly chunkOf = new Map<string, Chunk>();

  set(uuid: string, json: string): void {
    let chunk = this.chunkOf.get(uuid);
    if (chunk) chunk.chars -= chunk.docs.get(uuid)!.length;
    else {
      chunk = this.chunks.at(-1);
      if (!chunk || chunk.chars >= CHUNK_BYTES) {
        chunk = { docs: new Map(), chars: 0, bytes: null };
        this.chunks.push(chunk);
      }
      this.chunkOf.set(uuid, chunk);
    }
    chunk.docs.set(uuid, json);
    chunk.chars += json.length;
    chunk.bytes = null;
  }

  delete(uuid: string): void {
    const chunk = this.chunkOf.get(uuid);
    if (!chunk) return;
    this.chunkOf.delete(uuid);
    chunk.chars -= chunk.docs.get(uuid)!.length;
    chunk.docs.delete(uuid);
    chunk.bytes = null;
    if (chunk.docs.size === 0) this.chunks.splice(this.chunks.indexOf(chunk), 1);
  }

  /** Appends the chunks' bytes, comma-separated, to `out`. */
  encode(out: Buffer[]): void {
    this.chunks.forEach((c, k) => {
      if (k > 0) out.push(COMMA);
      c.bytes ??= Buffer.from([...c.docs.values()].join(','));
      out.push(c.bytes);
    });
  }
}

/**
 * Follows the service's committed changes (its own writes and, on PostgreSQL, the other servers') from one store
 * snapshot on: a change replaces or removes one document, which is what every agent does with its copy. The body
 * claims exactly the revision of the last change it holds, so a watcher that streams after it misses nothing and
 * sees nothing twice. Loaded on the first request (a server nobody snapshots holds nothing); a gap in the
 * revisions (a PostgreSQL server that read another's changes after they were pruned) drops it, and the next
 * request loads it again from the store.
 */
export class SnapshotView {
  private state: { revision: number; kinds: Map<string, KindDocs> } | null = null;
  /** Changes heard while the store snapshot is read: those newer than it are applied on top. */
  private heard: Change[] | null = null;
  private loading: Promise<void> | null = null;
  private body: SnapshotBody | null = null;
  private readonly onChanges = (changes: Change[]) => this.hear(changes);
  /** Store snapshots taken (tests, metrics): one per server life unless a gap forced another. */
  loads = 0;

  constructor(
    private readonly feed: {
      on(event: 'changes', fn: (changes: Change[]) => void): unknown;
      off(event: 'changes', fn: (changes: Change[]) => void): unknown;
    },
    /** Every resource at one revision, read from the store. */
    private readonly build: () => Promise<Snapshot>,
    private readonly log?: Logger,
  ) {}

  /** The snapshot at the newest revision this server has announced (every write it acknowledged included). */
  async current(): Promise<SnapshotBody> {
    while (!this.state) await (this.loading ??= this.load());
    const { revision, kinds } = this.state;
    if (this.body?.revision === revision) return this.body;
    const parts: Buffer[] = [Buffer.from(`{"revision":${revision},"resources":{`)];
    let first = true;
    for (const [kind, docs] of kinds) {
      parts.push(kindOpening(kind, first));
      first = false;
      docs.encode(parts);
      parts.push(END_LIST);
    }
    parts.push(END);
    let gzip: ReturnType<SnapshotBody['gzip']> | undefined;
    this.body = {
      revision,
      parts,
      length: parts.reduce((n, b) => n + b.length, 0),
      gzip: () => (gzip ??= gzipPieces(parts)),
    };
    return this.body;
  }

  /** Stops following the feed (the server closes). */
  close(): void {
    this.feed.off('changes', this.onChanges);
    this.state = null;
    this.body = null;
  }

  private async load(): Promise<void> {
    this.heard = [];
    this.feed.on('changes', this.onChanges);
    try {
      this.loads++;
      // Changes committed after the store's read are heard (subscribed first) and are newer than its revision;
      // those heard before it are older or equal and already in it.
      const snap = await this.build();
      const kinds = new Map<string, KindDocs>();
      for (const [kind, docs] of Object.entries(snap.resources) as [ResourceKind, { uuid: string }[]][]) {
        const k = new KindDocs();
        for (const d of docs) k.set(d.uuid, JSON.stringify(d));
        kinds.set(kind, k);
      }
      this.state = { revision: snap.revision, kinds };
      const heard = this.heard;
      this.heard = null;
      this.apply(heard.filter((c) => c.revision > snap.revision));
    } catch (e) {
      this.feed.off('changes', this.onChanges);
      throw e;
    } finally {
      this.heard = null;
      this.loading = null;
    }
  }

  private hear(changes: Change[]): void {
    if (this.heard) this.heard.push(...changes);
    else this.apply(changes);
  }

  private apply(changes: readonly Change[]): void {
    const state = this.state;
    if (!state) return;
    for (const c of changes) {
      if (c.revision <= state.revision) continue;
      if (c.revision !== state.revision + 1) {
        this.log?.warn({ have: state.revision, got: c.revision }, 'snapshot: revisions missing; reloading it');
        this.close();
        return;
      }
      state.revision = c.revision;
      const docs = state.kinds.get(c.resource);
      if (!docs) continue;
      if (c.item) docs.set(c.uuid, JSON.stringify(c.item));
      else docs.delete(c.uuid);
    }
  }
}

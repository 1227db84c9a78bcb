// One write transaction as the service sees it: document writes, cascades, and the change events they produce.
import { randomBytes } from 'node:crypto';
import { DuplicateUUID, UnknownUUIDResource } from '../model/errors.js';
import type { Change, ResourceKind } from '../model/types.js';
import type { Doc, StoreReader, StoredKind, StoreWriter, Where } from '../store/store.js';
import { represent } from './represent.js';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 8 random characters of [a-z0-9], as OpenVNet generated them. */
export function randomId(): string {
  const b = randomBytes(8);
  let s = '';
  for (const x of b) s += ID_ALPHABET[x % ID_ALPHABET.length];
  return s;
}

/** Read helpers shared by reads and writes. */
export class ReadContext {
  constructor(readonly tx: StoreReader) {}

  get(kind: ResourceKind, uuid: string): Promise<Doc | undefined> {
    return this.tx.get(kind, uuid);
  }

  /** The document, or 404 naming `field` (the parameter that referenced it). */
  async must(kind: ResourceKind, uuid: string, field?: string): Promise<Doc> {
    const d = await this.tx.get(kind, uuid);
    if (!d) throw new UnknownUUIDResource(uuid, field);
    return d;
  }

  find(kind: ResourceKind, where?: Where): Promise<Doc[]> {
    return this.tx.find(kind, where);
  }

  async findOne(kind: ResourceKind, where: Where): Promise<Doc | undefined> {
    return (await this.tx.find(kind, where, { limit: 1, offset: 0 }))[0];
  }
}

export class WriteContext extends ReadContext {
  readonly now = new Date().toISOString();
  /** Objects whose representation changed, in the order of their last change (embedders after embedded). */
  private readonly touched = new Map<string, { kind: ResourceKind; uuid: string }>();

  constructor(readonly wtx: StoreWriter) {
    super(wtx);
  }

  /** A fresh uuid with `prefix`, or the client's one after checking it is free. */
  async newUuid(kind: StoredKind, prefix: string, given: unknown): Promise<string> {
    if (typeof given === 'string') {
      if (await this.wtx.get(kind, given)) throw new DuplicateUUID(given);
      return given;
    }
    for (;;) {
      const id = `${prefix}-${randomId()}`;
      if (!(await this.wtx.get(kind, id))) return id;
    }
  }

  touch(kind: ResourceKind, uuid: string | null | undefined): void {
    if (!uuid) return;
    const key = `${kind}\u0000${uuid}`;
    this.touched.delete(key);
    this.touched.set(key, { kind, uuid });
  }

  async insert(kind: ResourceKind, doc: Doc): Promise<Doc> {
    doc.created_at = this.now;
    doc.updated_at = this.now;
    await this.wtx.insert(kind, doc);
    this.touch(kind, doc.uuid);
    return doc;
  }

  async update(kind: ResourceKind, doc: Doc): Promise<Doc> {
    doc.updated_at = this.now;
    await this.wtx.update(kind, doc);
    this.touch(kind, doc.uuid);
    return doc;
  }

  async remove(kind: ResourceKind, uuid: string): Promise<void> {
    await this.wtx.remove(kind, uuid);
    this.touch(kind, uuid);
  }

  /** Appends one change per touched object with its final representation (or a delete); returns them. */
  async flush(): Promise<Change[]> {
    const out: Change[] = [];
    for (const { kind, uuid } of this.touched.values()) {
      const doc = await this.wtx.get(kind, uuid);
      const item = doc ? await represent(this, kind, doc) : null;
      const pending = { resource: kind, uuid, op: doc ? 'upsert' : 'delete', item } as Omit<Change, 'revision'>;
      const revision = await this.wtx.appendChange(pending);
      out.push({ ...pending, revision } as Change);
    }
    this.touched.clear();
    return out;
  }
}

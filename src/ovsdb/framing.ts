// Splits a byte stream of concatenated JSON texts (RFC 7047 framing: no delimiters) into values.
import { OvsdbFramingError } from './errors.js';

const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Incremental splitter. JSON-RPC messages are objects, so only `{…}` or `[…]` top-level texts
 * are accepted; a brace inside a string (escaped quotes included) does not count. It works on
 * bytes: UTF-8 continuation bytes are all >= 0x80, so they never look like a delimiter, and a
 * multi-byte character split across chunks is reassembled before JSON.parse sees it.
 * After an error the splitter is poisoned (the stream position is unknowable): callers drop the
 * connection.
 */
export class JsonSplitter {
  private depth = 0;
  private inString = false;
  private escape = false;
  private parts: Buffer[] = [];
  private partsLen = 0;
  private failed: OvsdbFramingError | undefined;

  constructor(readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Bytes of the message currently being assembled (for tests and diagnostics). */
  get buffered(): number {
    return this.partsLen;
  }

  /** Feed a chunk; returns every complete value it finished. Throws OvsdbFramingError. */
  push(chunk: Buffer): unknown[] {
    if (this.failed) throw this.failed;
    const out: unknown[] = [];
    let start = this.depth > 0 ? 0 : -1;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (b === BACKSLASH) this.escape = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (isSpace(b)) continue;
        if (b !== LBRACE && b !== LBRACKET) {
          this.fail('bad-top-level', `unexpected byte 0x${b.toString(16)} between messages`);
        }
        start = i;
        this.depth = 1;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === LBRACE || b === LBRACKET) this.depth++;
      else if (b === RBRACE || b === RBRACKET) {
        if (--this.depth === 0) {
          const len = this.partsLen + (i + 1 - start);
          if (len > this.maxMessageBytes) this.tooLarge(len);
          const piece = chunk.subarray(start, i + 1);
          const whole = this.parts.length ? Buffer.concat([...this.parts, piece], len) : piece;
          this.parts = [];
          this.partsLen = 0;
          start = -1;
          out.push(this.parse(whole));
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = chunk.subarray(start);
      if (this.partsLen + rest.length > this.maxMessageBytes) this.tooLarge(this.partsLen + rest.length);
      // Copy: the socket may reuse its chunk buffer.
      this.parts.push(Buffer.from(rest));
      this.partsLen += rest.length;
    }
    return out;
  }

  private parse(buf: Buffer): unknown {
    try {
      return JSON.parse(buf.toString('utf8'));
    } catch (err) {
      this.fail('bad-json', `invalid JSON message (${buf.length} bytes): ${(err as Error).message}`, err);
    }
  }

  private tooLarge(len: number): never {
    this.fail('too-large', `message exceeds ${this.maxMessageBytes} bytes (at least ${len})`);
  }

  private fail(reason: OvsdbFramingError['reason'], msg: string, cause?: unknown): never {
    this.parts = [];
    this.partsLen = 0;
    this.failed = new OvsdbFramingError(reason, msg, cause === undefined ? undefined : { cause });
    throw this.failed;
  }
}

// Bounds-checked binary Reader/Writer for the codec: short input raises OpenFlowDecodeError naming the field.
import { OpenFlowDecodeError } from './errors.js';

export class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;
  constructor(buf: Uint8Array, start = 0, end = buf.length, view?: DataView) {
    this.buf = buf;
    this.view = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
  need(n: number, field: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new OpenFlowDecodeError(field, `needs ${n} bytes, ${this.end - this.pos} left`, this.pos);
    }
  }
  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.pos++);
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** A copy of the next n bytes as a plain Uint8Array (never a view into the input). */
  copyBytes(n: number, field: string): Uint8Array {
    return new Uint8Array(this.bytes(n, field));
  }
  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }
  /** A sub-reader over the next n bytes; this reader moves past them. */
  sub(n: number, field: string): Reader {
    this.need(n, field);
    const r = new Reader(this.buf, this.pos, this.pos + n, this.view);
    this.pos += n;
    return r;
  }
}

/** Growable big-endian writer; `length` fields are patched from bytes written. */
export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }
  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }
  u8(v: number): this {
    this.grow(1);
    this.view.setUint8(this.pos++, v);
    return this;
  }
  u16(v: number): this {
    this.grow(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.grow(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }
  u64(v: bigint): this {
    this.grow(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v));
    this.pos += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  zeros(n: number): this {
    this.grow(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }
  /** Unsigned value of 1..8 bytes; numbers take the fast path, bigints the general one. */
  uint(v: number | bigint, width: number): this {
    if (typeof v === 'number' && width <= 4) {
      if (width === 4) return this.u32(v);
      if (width === 2) return this.u16(v);
      if (width === 1) return this.u8(v);
      return this.u8((v >>> 16) & 0xff).u16(v & 0xffff);
    }
    const b = BigInt.asUintN(width * 8, BigInt(v));
    if (width === 8) return this.u64(b);
    if (width === 16) return this.u64(b >> 64n).u64(b);
    if (width === 6) return this.u16(Number(b >> 32n)).u32(Number(b & 0xffffffffn));
    return this.bytes(bigintToBytes(b, width));
  }
  /** Zero-pad to a multiple of `align` counted from `from`. */
  pad(align: number, from = 0): this {
    const rem = (this.pos - from) % align;
    if (rem) this.zeros(align - rem);
    return this;
  }
  setU16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }
  setU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Unsigned big-endian integer of `width` bytes as a bigint. */
export function bytesToBigint(b: Uint8Array): bigint {
  // 48-bit (MAC) and 64/128-bit values without a BigInt operation per byte.
  if (b.length <= 6) {
    let v = 0;
    for (let i = 0; i < b.length; i++) v = v * 256 + (b[i] as number);
    return BigInt(v);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 8) return dv.getBigUint64(0);
  if (b.length === 16) return (dv.getBigUint64(0) << 64n) | dv.getBigUint64(8);
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function bigintToBytes(v: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let x = BigInt.asUintN(width * 8, v);
  if (width <= 6) {
    let n = Number(x);
    for (let i = width - 1; i >= 0; i--) {
      out[i] = n % 256;
      n = Math.floor(n / 256);
    }
    return out;
  }
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

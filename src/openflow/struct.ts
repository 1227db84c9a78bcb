// Fixed-layout wire structs as tables: one layout per struct drives both its encoder and its
// decoder, so the field order, widths and padding of a message are written down once.
import { bytesToBigint, type Reader, type Writer } from './buffer.js';

/** u8..u64 integers, a 48-bit MAC as a bigint, or NUL-padded text in a fixed number of bytes. */
type Kind = 'u8' | 'u16' | 'u32' | 'u64' | 'mac' | { text: number };

/** A model key with its wire kind and spec name (for errors), or a number of zero padding bytes. */
export type Slot<T> = number | readonly [key: keyof T & string, kind: Kind, wire: string];
export type Layout<T> = readonly Slot<T>[];

/**
 * A layout from its C-like description, in wire order, e.g.
 * `'u32 port_no, pad 4, mac hw_addr, pad 2, text16 name'`: kinds u8/u16/u32/u64, mac (6 bytes, a
 * bigint), textN (N bytes of NUL-padded text), pad N (zero bytes). The model key is the spec's name
 * in camelCase (`port_no` is `portNo`), or given first as `key=spec_name`.
 */
export function layout<T>(spec: string): Layout<T> {
  return spec.split(',').map((item): Slot<T> => {
    const [kind = '', name = ''] = item.trim().split(/\s+/);
    if (kind === 'pad') return Number(name);
    const [key, wire] = name.includes('=') ? name.split('=') : [camel(name), name];
    const text = /^text(\d+)$/.exec(kind);
    if (text) return [key as keyof T & string, { text: Number(text[1]) }, wire as string];
    if (!['u8', 'u16', 'u32', 'u64', 'mac'].includes(kind)) throw new Error(`layout: unknown kind in '${item}'`);
    return [key as keyof T & string, kind as Kind, wire as string];
  });
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Decodes one struct; a short read names `${what}.${wire}` (padding: `${what}.pad`). */
export function readStruct<T>(r: Reader, layout: Layout<T>, what: string): T {
  const out: Record<string, unknown> = {};
  for (const slot of layout) {
    if (typeof slot === 'number') {
      r.skip(slot, `${what}.pad`);
      continue;
    }
    const [key, kind, wire] = slot;
    const field = `${what}.${wire}`;
    if (kind === 'u8') out[key] = r.u8(field);
    else if (kind === 'u16') out[key] = r.u16(field);
    else if (kind === 'u32') out[key] = r.u32(field);
    else if (kind === 'u64') out[key] = r.u64(field);
    else if (kind === 'mac') out[key] = bytesToBigint(r.bytes(6, field));
    else out[key] = cstr(r.bytes(kind.text, field));
  }
  return out as T;
}

/**
 * Encodes one struct from `v`; an absent (optional) field goes out as zero. Values are not
 * range-checked here: callers check what a user can get wrong.
 */
export function writeStruct<T>(w: Writer, layout: Layout<T>, v: Partial<T>): void {
  const rec = v as Record<string, unknown>;
  for (const slot of layout) {
    if (typeof slot === 'number') {
      w.zeros(slot);
      continue;
    }
    const [key, kind] = slot;
    const x = rec[key];
    if (kind === 'u8') w.u8((x ?? 0) as number);
    else if (kind === 'u16') w.u16((x ?? 0) as number);
    else if (kind === 'u32') w.u32((x ?? 0) as number);
    else if (kind === 'u64') w.u64((x ?? 0n) as bigint);
    else if (kind === 'mac') w.uint((x ?? 0n) as bigint, 6);
    else {
      // Text is cut to leave room for the terminating NUL, as OVS does.
      const b = new Uint8Array(kind.text);
      b.set(new TextEncoder().encode((x ?? '') as string).subarray(0, kind.text - 1));
      w.bytes(b);
    }
  }
}

function cstr(b: Uint8Array): string {
  const z = b.indexOf(0);
  return new TextDecoder().decode(z < 0 ? b : b.subarray(0, z));
}

/** `v` without those of `keys` that are zero: the model leaves out what is zero on the wire. */
export function omitZeros<T extends object>(v: T, keys: readonly (keyof T)[]): T {
  for (const k of keys) if (v[k] === 0 || v[k] === 0n) delete v[k];
  return v;
}

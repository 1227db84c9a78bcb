// OXM match (ofp_match, OFPMT_OXM) and single OXM TLV encode/decode, driven by the field registry.
import { bytesToBigint, type Reader, type Writer } from './buffer.js';
import { OpenFlowDecodeError, OpenFlowEncodeError } from './errors.js';
import {
  canonicalMask,
  canonicalValue,
  checkValue,
  FIELD_BY_NAME,
  FIELDS,
  type FieldDef,
  fieldByHeader,
  type OxmHeader,
} from './fields.js';
import type { FieldName, FieldValue, Match, MatchEntry } from './types.js';

const OFPMT_OXM = 1;

export function oxmHeaderWord(h: OxmHeader, hasMask: boolean): number {
  const len = h.width * (hasMask ? 2 : 1) + (h.experimenter !== undefined ? 4 : 0);
  return ((h.cls << 16) | (h.field << 9) | (hasMask ? 0x100 : 0) | len) >>> 0;
}

/** Write one OXM TLV (header, experimenter id, value, mask) using header `h` of field `def`. */
export function writeOxm(w: Writer, def: FieldDef, h: OxmHeader, value: FieldValue, mask?: FieldValue): void {
  const bits = Math.min(def.bits, h.width * 8);
  // Fast path: narrow fields with number values (most of a flow table) never touch bigints.
  if (typeof value === 'number' && (mask === undefined || typeof mask === 'number') && h.width <= 4) {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) checkValue(def, value, 'value', bits);
    let m = mask;
    if (m !== undefined) {
      if (!def.maskable) throw new OpenFlowEncodeError(def.name, 'field is not maskable');
      if (!Number.isInteger(m) || m < 0 || m >= 2 ** (h.width * 8)) checkValue(def, m, 'mask', h.width * 8);
      if ((value & ~m) >>> 0 !== 0) throw new OpenFlowEncodeError(def.name, 'value has bits set outside the mask');
      if (m === 2 ** (h.width * 8) - 1) m = undefined;
    }
    w.u32(oxmHeaderWord(h, m !== undefined));
    if (h.experimenter !== undefined) w.u32(h.experimenter);
    w.uint(value, h.width);
    if (m !== undefined) w.uint(m, h.width);
    return;
  }
  const v = checkValue(def, value, 'value', bits);
  let m: bigint | undefined;
  if (mask !== undefined) {
    if (!def.maskable) throw new OpenFlowEncodeError(def.name, 'field is not maskable');
    m = checkValue(def, mask, 'mask', h.width * 8);
    if ((v & ~m) !== 0n) throw new OpenFlowEncodeError(def.name, 'value has bits set outside the mask');
    if (m === (1n << BigInt(h.width * 8)) - 1n) m = undefined;
  }
  w.u32(oxmHeaderWord(h, m !== undefined));
  if (h.experimenter !== undefined) w.u32(h.experimenter);
  w.uint(v, h.width);
  if (m !== undefined) w.uint(m, h.width);
}

export interface OxmTlv {
  def: FieldDef;
  hdr: OxmHeader;
  value: FieldValue;
  mask?: FieldValue;
}

/** A field value from bytes in the model's type; numbers without bigint arithmetic when narrow. */
function readUint(b: Uint8Array, at: number, width: number, def: FieldDef): FieldValue {
  if (def.width <= 4 && width <= 4) {
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + (b[at + i] as number);
    return v;
  }
  return canonicalValue(def, bytesToBigint(b.subarray(at, at + width)));
}

/** Read one OXM TLV. Unknown fields return undefined (caller decides); malformed ones throw. */
export function readOxm(r: Reader, what = 'oxm'): OxmTlv | { unknown: string } {
  const start = r.pos;
  const word = r.u32(`${what}.header`);
  const cls = word >>> 16;
  const field = (word >>> 9) & 0x7f;
  const hasMask = (word & 0x100) !== 0;
  let len = word & 0xff;
  let experimenter: number | undefined;
  if (cls === 0xffff) {
    experimenter = r.u32(`${what}.experimenter`);
    len -= 4;
    if (len < 0) throw new OpenFlowDecodeError(`${what}.length`, 'experimenter OXM shorter than its id', start);
  }
  const body = r.bytes(len, `${what}.value`);
  const found = fieldByHeader(cls, field, experimenter);
  if (!found) {
    return {
      unknown: `0x${cls.toString(16)}:${field}${experimenter !== undefined ? `@0x${experimenter.toString(16)}` : ''}`,
    };
  }
  const { def, hdr } = found;
  const expect = hdr.width * (hasMask ? 2 : 1);
  if (len !== expect) {
    throw new OpenFlowDecodeError(`${what}.${def.name}`, `length ${len}, expected ${expect}`, start);
  }
  if (hasMask && !def.maskable)
    throw new OpenFlowDecodeError(`${what}.${def.name}`, 'mask on a non-maskable field', start);
  const value = readUint(body, 0, hdr.width, def);
  if (!hasMask) return { def, hdr, value };
  return { def, hdr, value, mask: readUint(body, hdr.width, hdr.width, def) };
}

/** xregN is carried as reg(2N) (high 32 bits) and reg(2N+1) (low) in OF1.3 matches, as OVS does. */
function splitXregs(match: Match): Map<FieldName, MatchEntry> {
  const out = new Map<FieldName, MatchEntry>();
  for (const [k, e] of Object.entries(match) as [FieldName, MatchEntry | undefined][]) {
    if (!e) continue;
    if (!k.startsWith('xreg')) {
      if (out.has(k)) throw new OpenFlowEncodeError(k, 'given twice (directly and through an xreg)');
      out.set(k, e);
      continue;
    }
    const n = Number(k.slice(4));
    const v = BigInt(e.value);
    const m = e.mask === undefined ? 0xffffffffffffffffn : BigInt(e.mask);
    if (v < 0n || v >= 1n << 64n) throw new OpenFlowEncodeError(k, 'value does not fit in 64 bits');
    const halves: [FieldName, bigint, bigint][] = [
      [`reg${2 * n}` as FieldName, v >> 32n, m >> 32n],
      [`reg${2 * n + 1}` as FieldName, v & 0xffffffffn, m & 0xffffffffn],
    ];
    for (const [reg, hv, hm] of halves) {
      if (hm === 0n) {
        if (hv !== 0n) throw new OpenFlowEncodeError(k, 'value has bits set outside the mask');
        continue;
      }
      if (out.has(reg)) throw new OpenFlowEncodeError(k, `overlaps ${reg}`);
      out.set(reg, hm === 0xffffffffn ? { value: Number(hv) } : { value: Number(hv), mask: Number(hm) });
    }
  }
  return out;
}

/** Encode an ofp_match (OXM), padded to 8 bytes; fields in registry (OVS) order, masks as OVS writes them. */
export function encodeMatch(w: Writer, match: Match): void {
  const start = w.pos;
  w.u16(OFPMT_OXM).u16(0);
  let hasXreg = false;
  const keys: FieldName[] = [];
  for (const k in match) {
    if (match[k as FieldName] === undefined) continue;
    if (k.startsWith('xreg')) hasXreg = true;
    keys.push(k as FieldName);
  }
  const entries = hasXreg ? splitXregs(match) : undefined;
  const names = entries ? [...entries.keys()] : keys;
  for (const k of names) if (!FIELD_BY_NAME.has(k)) throw new OpenFlowEncodeError(k, 'unknown field');
  names.sort((a, b) => (FIELD_INDEX.get(a) as number) - (FIELD_INDEX.get(b) as number));
  for (const name of names) {
    const def = FIELD_BY_NAME.get(name) as FieldDef;
    const e = (entries ? entries.get(name) : match[name]) as MatchEntry;
    if (e.mask !== undefined && !def.maskable) throw new OpenFlowEncodeError(def.name, 'field is not maskable');
    if (def.oxm.width <= 4 && typeof e.value === 'number' && (e.mask === undefined || typeof e.mask === 'number')) {
      // Same canonical mask as canonicalMask(), in 32-bit arithmetic.
      const full = 2 ** (def.oxm.width * 8) - 1;
      const sig = 2 ** def.bits - 1;
      if (e.mask !== undefined && (!Number.isInteger(e.mask) || e.mask < 0 || e.mask > full))
        checkValue(def, e.mask, 'mask', def.oxm.width * 8);
      const m = def.maskable ? ((e.mask ?? full) & sig) >>> 0 : full;
      if (m === 0) {
        if (e.value !== 0) throw new OpenFlowEncodeError(def.name, 'value has bits set outside the mask');
        continue;
      }
      writeOxm(w, def, def.oxm, e.value, m === full || (def.exactWhenAllBits && m === sig) ? undefined : m);
      continue;
    }
    if (e.mask !== undefined) checkValue(def, e.mask, 'mask', def.oxm.width * 8);
    const m = canonicalMask(def, e.mask);
    if (m === 0n) {
      if (BigInt(e.value) !== 0n) throw new OpenFlowEncodeError(def.name, 'value has bits set outside the mask');
      continue;
    }
    writeOxm(w, def, def.oxm, e.value, m);
  }
  w.setU16(start + 2, w.pos - start);
  w.pad(8, start);
}

const FIELD_INDEX = new Map<FieldName, number>(FIELDS.map((f, i) => [f.name, i]));

export interface DecodedMatch {
  match: Match;
  /** OXM headers of fields this registry does not know (skipped). */
  unknown: string[];
}

/** Decode an ofp_match at the reader (consumes its padding too). */
export function decodeMatch(r: Reader, what = 'match'): DecodedMatch {
  const start = r.pos;
  const type = r.u16(`${what}.type`);
  const length = r.u16(`${what}.length`);
  if (type !== OFPMT_OXM) throw new OpenFlowDecodeError(`${what}.type`, `${type} is not OFPMT_OXM`, start);
  if (length < 4) throw new OpenFlowDecodeError(`${what}.length`, `${length} < 4`, start);
  const body = r.sub(length - 4, `${what}.oxm_fields`);
  r.skip((8 - (length % 8)) % 8, `${what}.pad`);
  const match: Match = {};
  const unknown: string[] = [];
  while (body.remaining > 0) {
    const t = readOxm(body, `${what}.oxm`);
    if ('unknown' in t) {
      unknown.push(t.unknown);
      continue;
    }
    if (match[t.def.name]) throw new OpenFlowDecodeError(`${what}.${t.def.name}`, 'field given twice', body.pos);
    match[t.def.name] = t.mask === undefined ? { value: t.value } : { value: t.value, mask: t.mask };
  }
  return { match, unknown };
}

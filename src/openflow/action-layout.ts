// Pieces action encode and decode share: field headers inside Nicira actions, 16-bit ports, value widths, the learn layout.
import type { Reader, Writer } from './buffer.js';
import { NX_LEARN_DST_LOAD, NX_LEARN_DST_OUTPUT, NX_LEARN_SRC_IMMEDIATE, OFPCML_NO_BUFFER, OFPR } from './constants.js';
import { OpenFlowDecodeError, OpenFlowEncodeError } from './errors.js';
import { type FieldDef, fieldByHeader, fieldDef, type OxmHeader } from './fields.js';
import { oxmHeaderWord } from './match.js';
import { layout } from './struct.js';
import { type Action, type FieldRange, type FieldValue, OFPP } from './types.js';

// ---------------------------------------------------------------- field headers inside NX actions

/** The header OVS writes for a field inside Nicira actions: NXM when the field has one, else OXM. */
export function nxHeader(def: FieldDef): OxmHeader {
  return def.nxm ?? def.oxm;
}

export function writeFieldHeader(w: Writer, def: FieldDef): void {
  const h = nxHeader(def);
  w.u32(oxmHeaderWord(h, false));
  if (h.experimenter !== undefined) w.u32(h.experimenter);
}

export function readFieldHeader(r: Reader, what: string): { def: FieldDef; hdr: OxmHeader } {
  const at = r.pos;
  const word = r.u32(what);
  const cls = word >>> 16;
  const field = (word >>> 9) & 0x7f;
  const exp = cls === 0xffff ? r.u32(`${what}.experimenter`) : undefined;
  const f = fieldByHeader(cls, field, exp);
  if (!f) throw new OpenFlowDecodeError(what, `unknown field header 0x${word.toString(16)}`, at);
  return f;
}

export function checkRange(fr: FieldRange, what: string): FieldDef {
  const def = fieldDef(fr.field);
  const width = nxHeader(def).width * 8;
  if (
    !Number.isInteger(fr.start) ||
    !Number.isInteger(fr.nBits) ||
    fr.start < 0 ||
    fr.nBits < 1 ||
    fr.start + fr.nBits > width
  ) {
    throw new OpenFlowEncodeError(
      `${what}.${fr.field}`,
      `bit range [${fr.start}, +${fr.nBits}) outside its ${width} bits`,
    );
  }
  return def;
}

export const ofsNbits = (start: number, nBits: number) => (start << 6) | (nBits - 1);

// ---------------------------------------------------------------- helpers

/** OF1.0-style 16-bit port numbers (used by NXAST_RESUBMIT) <-> OF1.3 32-bit ones. */
export function port16(p: number | undefined, what: string): number {
  if (p === undefined) return 0xfff8;
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p < 0 || p >= 0xff00 || !Number.isInteger(p))
    throw new OpenFlowEncodeError(what, `port ${p} does not fit in 16 bits`);
  return p;
}
export function port32(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

export function u64(v: FieldValue | undefined, what: string, bits = 64): bigint {
  if (v === undefined) return 0n;
  const b = BigInt(v);
  if (b < 0n || b >= 1n << BigInt(bits))
    throw new OpenFlowEncodeError(what, `0x${b.toString(16)} does not fit in ${bits} bits`);
  return b;
}

// ---------------------------------------------------------------- defaults the model leaves out

/** The max_len OVS writes for an output action: the whole packet to the controller, none elsewhere. */
export const outputMaxLen = (port: number): number => (port === OFPP.CONTROLLER ? OFPCML_NO_BUFFER : 0);

/** A controller action's max_len and reason when the model does not say: the whole packet, "action". */
export const CONTROLLER_DEFAULTS = { maxLen: OFPCML_NO_BUFFER, reason: OFPR.ACTION } as const;

/** Numbers for values up to 32 bits, bigints above, as the model wants. */
export const valueFor = (v: bigint, bits: number): FieldValue => (bits > 32 ? v : Number(v));

export type LearnAction = Extract<Action, { type: 'learn' }>;

/** nx_action_learn after the Nicira header, up to its specs. */
export const LEARN = layout<Omit<LearnAction, 'type' | 'specs'>>(
  'u16 idle_timeout, u16 hard_timeout, u16 priority, u64 cookie, u16 flags, u8 table=table_id, pad 1, ' +
    'u16 fin_idle_timeout, u16 fin_hard_timeout',
);

/** What a learn spec's 16-bit header says: an immediate or a field source, where it goes, its width in bits. */
export interface LearnSpecHeader {
  immediate: boolean;
  /** A destination type the header names but nx_action_learn does not define (3) comes back as its number. */
  dst: 'match' | 'load' | 'output' | number;
  nBits: number;
}

const LEARN_DST = { match: 0, load: NX_LEARN_DST_LOAD, output: NX_LEARN_DST_OUTPUT } as const;

export function learnSpecHeader(h: LearnSpecHeader & { dst: keyof typeof LEARN_DST }): number {
  return (h.immediate ? NX_LEARN_SRC_IMMEDIATE : 0) | LEARN_DST[h.dst] | h.nBits;
}

export function readLearnSpecHeader(word: number): LearnSpecHeader {
  const dstType = word & (3 << 11);
  const dst = (Object.keys(LEARN_DST) as (keyof typeof LEARN_DST)[]).find((k) => LEARN_DST[k] === dstType);
  return { immediate: (word & NX_LEARN_SRC_IMMEDIATE) !== 0, dst: dst ?? dstType >> 11, nBits: word & 0x3ff };
}

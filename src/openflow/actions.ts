// Actions (OF1.3 standard + Nicira extensions) and instructions: encode/decode between the Flow model and bytes.
// Encodings follow the choices OVS makes for OF1.3, so our bytes equal what `ovs-ofctl` would send
// and what flow stats give back; see normalizeActions() in normalize.ts for the canonical model.
import { bigintToBytes, bytesToBigint, type Reader, type Writer } from './buffer.js';
import {
  NX_CT_F,
  NX_LEARN_DST_LOAD,
  NX_LEARN_DST_OUTPUT,
  NX_LEARN_SRC_IMMEDIATE,
  NX_NAT_F,
  NX_NAT_RANGE,
  NX_VENDOR_ID,
  NXAC2PT,
  NXAST,
  OFPAT,
  OFPCML_NO_BUFFER,
  OFPIT,
  OFPR,
} from './constants.js';
import { OpenFlowDecodeError, OpenFlowEncodeError } from './errors.js';
import { checkValue, type FieldDef, fieldByHeader, fieldDef, type OxmHeader } from './fields.js';
import { oxmHeaderWord, readOxm, writeOxm } from './match.js';
import { layout, omitZeros, readStruct, writeStruct } from './struct.js';
import {
  OFPP,
  type Action,
  type FieldRange,
  type FieldValue,
  type Instruction,
  type LearnSpec,
  type NatSpec,
} from './types.js';

// ---------------------------------------------------------------- field headers inside NX actions

/** The header OVS writes for a field inside Nicira actions: NXM when the field has one, else OXM. */
function nxHeader(def: FieldDef): OxmHeader {
  return def.nxm ?? def.oxm;
}

function writeFieldHeader(w: Writer, def: FieldDef): void {
  const h = nxHeader(def);
  w.u32(oxmHeaderWord(h, false));
  if (h.experimenter !== undefined) w.u32(h.experimenter);
}

function readFieldHeader(r: Reader, what: string): { def: FieldDef; hdr: OxmHeader } {
  const at = r.pos;
  const word = r.u32(what);
  const cls = word >>> 16;
  const field = (word >>> 9) & 0x7f;
  const exp = cls === 0xffff ? r.u32(`${what}.experimenter`) : undefined;
  const f = fieldByHeader(cls, field, exp);
  if (!f) throw new OpenFlowDecodeError(what, `unknown field header 0x${word.toString(16)}`, at);
  return f;
}

function checkRange(fr: FieldRange, what: string): FieldDef {
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

const ofsNbits = (start: number, nBits: number) => (start << 6) | (nBits - 1);

// ---------------------------------------------------------------- helpers

function nxHeaderStart(w: Writer, subtype: number): number {
  const start = w.pos;
  w.u16(OFPAT.EXPERIMENTER).u16(0).u32(NX_VENDOR_ID).u16(subtype);
  return start;
}

function finishAction(w: Writer, start: number): void {
  w.pad(8, start);
  w.setU16(start + 2, w.pos - start);
}

/** OF1.0-style 16-bit port numbers (used by NXAST_RESUBMIT) <-> OF1.3 32-bit ones. */
function port16(p: number | undefined, what: string): number {
  if (p === undefined) return 0xfff8;
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p < 0 || p >= 0xff00 || !Number.isInteger(p))
    throw new OpenFlowEncodeError(what, `port ${p} does not fit in 16 bits`);
  return p;
}
function port32(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

function u64(v: FieldValue | undefined, what: string, bits = 64): bigint {
  if (v === undefined) return 0n;
  const b = BigInt(v);
  if (b < 0n || b >= 1n << BigInt(bits))
    throw new OpenFlowEncodeError(what, `0x${b.toString(16)} does not fit in ${bits} bits`);
  return b;
}

/** Contiguous runs of 1-bits in a mask, lowest first. */
export function maskRuns(m: bigint): { start: number; nBits: number }[] {
  const runs: { start: number; nBits: number }[] = [];
  let bit = 0;
  let x = m;
  while (x !== 0n) {
    if ((x & 1n) === 0n) {
      x >>= 1n;
      bit++;
      continue;
    }
    const start = bit;
    while ((x & 1n) === 1n) {
      x >>= 1n;
      bit++;
    }
    runs.push({ start, nBits: bit - start });
  }
  return runs;
}

/**
 * OVS writes a masked set_field as one NXAST_REG_LOAD per contiguous run of mask bits (they read
 * back as load actions); only when that is impossible (a run over 64 bits) does it use REG_LOAD2.
 */
export function splitMaskedSetField(a: Action): Action[] {
  if (a.type !== 'set_field' || a.mask === undefined) return [a];
  const def = fieldDef(a.field);
  const m = BigInt(a.mask);
  const v = BigInt(a.value);
  const h = nxHeader(def);
  if (m === 0n || m === (1n << BigInt(def.oxm.width * 8)) - 1n || (v & ~m) !== 0n) return [a];
  const runs = maskRuns(m);
  if (h.experimenter !== undefined || !runs.every((r) => r.nBits <= 64 && r.start + r.nBits <= h.width * 8)) return [a];
  return runs.map((r) => ({
    type: 'load',
    dst: { field: a.field, ...r },
    value: valueFor((v >> BigInt(r.start)) & ((1n << BigInt(r.nBits)) - 1n), r.nBits),
  }));
}

/** Numbers for values up to 32 bits, bigints above, as the model wants. */
const valueFor = (v: bigint, bits: number): FieldValue => (bits > 32 ? v : Number(v));

// ---------------------------------------------------------------- encode

export function encodeActions(w: Writer, actions: readonly Action[], what = 'actions'): void {
  for (const [i, a] of actions.entries()) for (const b of splitMaskedSetField(a)) encodeAction(w, b, `${what}[${i}]`);
}

function encodeAction(w: Writer, a: Action, what: string): void {
  const start = w.pos;
  encodeActionBody(w, a, what);
  // Every action's length comes from the bytes written (fixed-size ones included).
  w.setU16(start + 2, w.pos - start);
}

function encodeActionBody(w: Writer, a: Action, what: string): void {
  const start = w.pos;
  switch (a.type) {
    case 'output': {
      const dflt = a.port === OFPP.CONTROLLER ? OFPCML_NO_BUFFER : 0;
      w.u16(OFPAT.OUTPUT)
        .u16(16)
        .u32(a.port)
        .u16(a.maxLen ?? dflt)
        .zeros(6);
      return;
    }
    case 'group':
      w.u16(OFPAT.GROUP).u16(8).u32(a.groupId);
      return;
    case 'set_queue':
      w.u16(OFPAT.SET_QUEUE).u16(8).u32(a.queueId);
      return;
    case 'push_vlan':
      w.u16(OFPAT.PUSH_VLAN).u16(8).u16(a.ethertype).zeros(2);
      return;
    case 'pop_vlan':
      w.u16(OFPAT.POP_VLAN).u16(8).zeros(4);
      return;
    case 'dec_nw_ttl':
    case 'dec_ttl':
      // OVS writes dec_ttl without controller ids as the standard action in OF1.1+.
      w.u16(OFPAT.DEC_NW_TTL).u16(8).zeros(4);
      return;
    case 'copy_ttl_out':
      w.u16(OFPAT.COPY_TTL_OUT).u16(8).zeros(4);
      return;
    case 'copy_ttl_in':
      w.u16(OFPAT.COPY_TTL_IN).u16(8).zeros(4);
      return;
    case 'set_field': {
      const def = fieldDef(a.field);
      if (a.mask === undefined) {
        w.u16(OFPAT.SET_FIELD).u16(0);
        writeOxm(w, def, def.oxm, a.value);
        finishAction(w, start);
        return;
      }
      const m = checkValue(def, a.mask, 'mask', def.oxm.width * 8);
      const v = checkValue(def, a.value, 'value', def.oxm.width * 8);
      const full = (1n << BigInt(def.oxm.width * 8)) - 1n;
      if (m === full) {
        encodeAction(w, { type: 'set_field', field: a.field, value: a.value }, what);
        return;
      }
      if ((v & ~m) !== 0n) throw new OpenFlowEncodeError(`${what}.${a.field}`, 'value has bits set outside the mask');
      nxHeaderStart(w, NXAST.REG_LOAD2);
      writeOxm(w, def, def.oxm, a.value, a.mask);
      finishAction(w, start);
      return;
    }
    case 'resubmit': {
      nxHeaderStart(w, a.ct ? NXAST.RESUBMIT_TABLE_CT : NXAST.RESUBMIT_TABLE);
      const table = a.table ?? 0xff;
      if (!Number.isInteger(table) || table < 0 || table > 0xff)
        throw new OpenFlowEncodeError(`${what}.table`, `${table} is not 0..255`);
      w.u16(port16(a.port, `${what}.port`))
        .u8(table)
        .zeros(3);
      return;
    }
    case 'move': {
      checkRange(a.src, `${what}.src`);
      checkRange(a.dst, `${what}.dst`);
      if (a.src.nBits !== a.dst.nBits)
        throw new OpenFlowEncodeError(`${what}.dst`, 'source and destination widths differ');
      nxHeaderStart(w, NXAST.REG_MOVE);
      w.u16(a.src.nBits).u16(a.src.start).u16(a.dst.start);
      writeFieldHeader(w, fieldDef(a.src.field));
      writeFieldHeader(w, fieldDef(a.dst.field));
      finishAction(w, start);
      return;
    }
    case 'load': {
      const def = checkRange(a.dst, `${what}.dst`);
      const v = u64(a.value, `${what}.value`, a.dst.nBits);
      if (a.dst.nBits <= 64) {
        nxHeaderStart(w, NXAST.REG_LOAD);
        w.u16(ofsNbits(a.dst.start, a.dst.nBits));
        writeFieldHeader(w, def);
        w.u64(v);
        return;
      }
      const width = def.oxm.width * 8;
      const mask = ((1n << BigInt(a.dst.nBits)) - 1n) << BigInt(a.dst.start);
      if (mask === (1n << BigInt(width)) - 1n) {
        encodeAction(w, { type: 'set_field', field: a.dst.field, value: v }, what);
        return;
      }
      nxHeaderStart(w, NXAST.REG_LOAD2);
      writeOxm(w, def, def.oxm, v << BigInt(a.dst.start), mask);
      finishAction(w, start);
      return;
    }
    case 'ct': {
      nxHeaderStart(w, NXAST.CT);
      const flags = (a.commit ? NX_CT_F.COMMIT : 0) | (a.force ? NX_CT_F.FORCE : 0);
      w.u16(flags);
      if (typeof a.zone === 'object') {
        const def = checkRange(a.zone, `${what}.zone`);
        const h = nxHeader(def);
        if (h.experimenter !== undefined)
          throw new OpenFlowEncodeError(`${what}.zone`, 'experimenter fields cannot source a zone');
        w.u32(oxmHeaderWord(h, false)).u16(ofsNbits(a.zone.start, a.zone.nBits));
      } else {
        const z = a.zone ?? 0;
        if (!Number.isInteger(z) || z < 0 || z > 0xffff)
          throw new OpenFlowEncodeError(`${what}.zone`, `${z} is not 0..65535`);
        w.u32(0).u16(z);
      }
      const table = a.table ?? 0xff;
      if (!Number.isInteger(table) || table < 0 || table > 0xff)
        throw new OpenFlowEncodeError(`${what}.table`, `${table} is not 0..255`);
      w.u8(table)
        .zeros(3)
        .u16(a.alg ?? 0);
      if (a.exec) encodeActions(w, a.exec, `${what}.exec`);
      if (a.nat) encodeNat(w, a.nat, `${what}.nat`);
      w.setU16(start + 2, w.pos - start);
      return;
    }
    case 'ct_clear':
      nxHeaderStart(w, NXAST.CT_CLEAR);
      w.zeros(6);
      return;
    case 'conjunction': {
      if (a.nClauses < 2 || a.nClauses > 64 || a.clause < 1 || a.clause > a.nClauses) {
        throw new OpenFlowEncodeError(
          `${what}.clause`,
          `clause ${a.clause}/${a.nClauses} invalid (1 <= k <= n, 2 <= n <= 64)`,
        );
      }
      nxHeaderStart(w, NXAST.CONJUNCTION);
      w.u8(a.clause - 1)
        .u8(a.nClauses)
        .u32(a.id);
      return;
    }
    case 'note':
      nxHeaderStart(w, NXAST.NOTE);
      w.bytes(a.data);
      // OVS pads notes to 8 bytes with a minimum of 6 payload bytes in the first block.
      finishAction(w, start);
      if (w.pos - start < 16) {
        w.zeros(16 - (w.pos - start));
        w.setU16(start + 2, 16);
      }
      return;
    case 'controller':
      encodeController(w, a, what);
      return;
    case 'learn':
      encodeLearn(w, a, what);
      return;
    case 'multipath': {
      checkRange(a.dst, `${what}.dst`);
      nxHeaderStart(w, NXAST.MULTIPATH);
      w.u16(a.fields).u16(a.basis).zeros(2).u16(a.algorithm).u16(a.maxLink).u32(a.arg).zeros(2);
      w.u16(ofsNbits(a.dst.start, a.dst.nBits));
      writeFieldHeader(w, fieldDef(a.dst.field));
      finishAction(w, start);
      return;
    }
    case 'opaque': {
      const d = a.data;
      if (d.length < 8 || d.length % 8 !== 0 || ((d[2] as number) << 8) + (d[3] as number) !== d.length) {
        throw new OpenFlowEncodeError(
          `${what}.data`,
          'opaque action bytes must be one whole action (length field = size, multiple of 8)',
        );
      }
      w.bytes(d);
      return;
    }
    default: {
      const never: never = a;
      throw new OpenFlowEncodeError(what, `unknown action ${(never as { type: string }).type}`);
    }
  }
}

function encodeNat(w: Writer, nat: NatSpec | { kind: 'none' }, what: string): void {
  const start = nxHeaderStart(w, NXAST.NAT);
  w.zeros(2);
  if (nat.kind === 'none') {
    w.u16(0).u16(0);
    finishAction(w, start);
    return;
  }
  let flags = nat.kind === 'src' ? NX_NAT_F.SRC : NX_NAT_F.DST;
  if (nat.persistent) flags |= NX_NAT_F.PERSISTENT;
  if (nat.random) flags |= NX_NAT_F.PROTO_RANDOM;
  const { ipMax, portMax } = nat;
  if (nat.ipMin === undefined && (ipMax !== undefined || nat.portMin !== undefined)) {
    throw new OpenFlowEncodeError(`${what}.ipMin`, 'an address range or port needs ipMin');
  }
  if (nat.portMin === undefined && portMax !== undefined)
    throw new OpenFlowEncodeError(`${what}.portMin`, 'portMax needs portMin');
  if (nat.ipMin !== undefined && ipMax !== undefined && ipMax < nat.ipMin)
    throw new OpenFlowEncodeError(`${what}.ipMax`, 'below ipMin');
  if (nat.portMin !== undefined && portMax !== undefined && portMax < nat.portMin)
    throw new OpenFlowEncodeError(`${what}.portMax`, 'below portMin');
  let present = 0;
  if (nat.ipMin !== undefined) present |= NX_NAT_RANGE.IPV4_MIN;
  if (ipMax !== undefined) present |= NX_NAT_RANGE.IPV4_MAX;
  if (nat.portMin !== undefined) present |= NX_NAT_RANGE.PROTO_MIN;
  if (portMax !== undefined) present |= NX_NAT_RANGE.PROTO_MAX;
  w.u16(flags).u16(present);
  if (nat.ipMin !== undefined) w.u32(nat.ipMin);
  if (ipMax !== undefined) w.u32(ipMax);
  for (const [p, n] of [
    [nat.portMin, 'portMin'],
    [portMax, 'portMax'],
  ] as const) {
    if (p === undefined) continue;
    if (!Number.isInteger(p) || p < 0 || p > 0xffff)
      throw new OpenFlowEncodeError(`${what}.${n}`, `${p} is not a port`);
    w.u16(p);
  }
  finishAction(w, start);
}

function encodeController(w: Writer, a: Extract<Action, { type: 'controller' }>, what: string): void {
  const start = w.pos;
  const maxLen = a.maxLen ?? OFPCML_NO_BUFFER;
  const reason = a.reason ?? OFPR.ACTION;
  const id = a.controllerId ?? 0;
  // Empty userdata is no userdata (OVS drops it).
  const userdata = a.userdata?.length ? a.userdata : undefined;
  if (userdata === undefined && !a.pause && a.meterId === undefined) {
    if (reason === OFPR.ACTION && id === 0) {
      // Same bytes OVS writes for a plain controller action: output to CONTROLLER.
      encodeAction(w, { type: 'output', port: OFPP.CONTROLLER, maxLen }, what);
      return;
    }
    nxHeaderStart(w, NXAST.CONTROLLER);
    w.u16(maxLen).u16(id).u8(reason).u8(0);
    return;
  }
  nxHeaderStart(w, NXAST.CONTROLLER2);
  w.zeros(6);
  const prop = (type: number, body: (w: Writer) => void) => {
    const p = w.pos;
    w.u16(type).u16(0);
    body(w);
    w.setU16(p + 2, w.pos - p);
    w.pad(8, p);
  };
  if (maxLen !== OFPCML_NO_BUFFER) prop(NXAC2PT.MAX_LEN, (w) => w.u16(maxLen).zeros(2));
  if (id !== 0) prop(NXAC2PT.CONTROLLER_ID, (w) => w.u16(id).zeros(2));
  if (reason !== OFPR.ACTION) prop(NXAC2PT.REASON, (w) => w.u8(reason));
  if (userdata !== undefined) prop(NXAC2PT.USERDATA, (w) => w.bytes(userdata));
  if (a.pause) prop(NXAC2PT.PAUSE, () => {});
  if (a.meterId !== undefined) prop(NXAC2PT.METER_ID, (w) => w.u32(a.meterId as number));
  finishAction(w, start);
}

type LearnAction = Extract<Action, { type: 'learn' }>;

/** nx_action_learn after the Nicira header, up to its specs. */
const LEARN = layout<Omit<LearnAction, 'type' | 'specs'>>(
  'u16 idle_timeout, u16 hard_timeout, u16 priority, u64 cookie, u16 flags, u8 table=table_id, pad 1, ' +
    'u16 fin_idle_timeout, u16 fin_hard_timeout',
);

function encodeLearn(w: Writer, a: LearnAction, what: string): void {
  const start = nxHeaderStart(w, NXAST.LEARN);
  writeStruct(w, LEARN, a);
  a.specs.forEach((s, i) => {
    const sw = `${what}.specs[${i}]`;
    const dstRange = s.kind === 'output' ? undefined : s.dst;
    const nBits = s.kind === 'output' ? s.src.nBits : (dstRange as FieldRange).nBits;
    if (dstRange) checkRange(dstRange, `${sw}.dst`);
    if ('src' in s) {
      checkRange(s.src, `${sw}.src`);
      if (s.src.nBits !== nBits) throw new OpenFlowEncodeError(`${sw}.src`, 'source and destination widths differ');
    }
    const imm = s.kind === 'match-value' || s.kind === 'load-value';
    const dstType = s.kind === 'output' ? NX_LEARN_DST_OUTPUT : s.kind.startsWith('load') ? NX_LEARN_DST_LOAD : 0;
    w.u16((imm ? NX_LEARN_SRC_IMMEDIATE : 0) | dstType | nBits);
    if (imm) {
      const nBytes = 2 * Math.ceil(nBits / 16);
      w.bytes(bigintToBytes(u64(s.value as FieldValue, `${sw}.value`, nBits), nBytes));
    } else {
      const src = (s as { src: FieldRange }).src;
      writeFieldHeader(w, fieldDef(src.field));
      w.u16(src.start);
    }
    if (dstRange) {
      writeFieldHeader(w, fieldDef(dstRange.field));
      w.u16(dstRange.start);
    }
  });
  finishAction(w, start);
}

// ---------------------------------------------------------------- decode

export function decodeActions(r: Reader, what = 'actions'): Action[] {
  const out: Action[] = [];
  let i = 0;
  while (r.remaining > 0) {
    const a = decodeAction(r, `${what}[${i++}]`);
    if (a) out.push(a);
  }
  return out;
}

function decodeAction(r: Reader, what: string): Action | undefined {
  const at = r.pos;
  const type = r.u16(`${what}.type`);
  const len = r.u16(`${what}.len`);
  if (len < 8 || len % 8 !== 0)
    throw new OpenFlowDecodeError(`${what}.len`, `${len} is not a positive multiple of 8`, at);
  r.pos = at;
  const b = r.sub(len, `${what}.body`);
  b.skip(4, what);
  switch (type) {
    case OFPAT.OUTPUT: {
      if (len !== 16) throw new OpenFlowDecodeError(`${what}.len`, 'output must be 16 bytes', at);
      const port = b.u32(`${what}.port`);
      const maxLen = b.u16(`${what}.max_len`);
      const dflt = port === OFPP.CONTROLLER ? OFPCML_NO_BUFFER : 0;
      return maxLen === dflt ? { type: 'output', port } : { type: 'output', port, maxLen };
    }
    case OFPAT.GROUP:
      return { type: 'group', groupId: b.u32(`${what}.group_id`) };
    case OFPAT.SET_QUEUE:
      return { type: 'set_queue', queueId: b.u32(`${what}.queue_id`) };
    case OFPAT.PUSH_VLAN:
      return { type: 'push_vlan', ethertype: b.u16(`${what}.ethertype`) };
    case OFPAT.POP_VLAN:
      return { type: 'pop_vlan' };
    case OFPAT.DEC_NW_TTL:
      return { type: 'dec_nw_ttl' };
    case OFPAT.COPY_TTL_OUT:
      return { type: 'copy_ttl_out' };
    case OFPAT.COPY_TTL_IN:
      return { type: 'copy_ttl_in' };
    case OFPAT.SET_FIELD: {
      const t = readOxm(b, `${what}.field`);
      if ('unknown' in t) throw new OpenFlowDecodeError(`${what}.field`, `unknown field ${t.unknown}`, at);
      if (t.mask !== undefined) throw new OpenFlowDecodeError(`${what}.field`, 'set_field with a mask', at);
      return { type: 'set_field', field: t.def.name, value: t.value };
    }
    case OFPAT.EXPERIMENTER:
      return decodeNx(b, len, what, at);
    default:
      return opaque(r.buf, at, len);
  }
}

/** An action we do not model, kept byte for byte (see the 'opaque' Action). */
function opaque(buf: Uint8Array, at: number, len: number): Action {
  return { type: 'opaque', data: new Uint8Array(buf.subarray(at, at + len)) };
}

function readRange(b: Reader, what: string, start: number, nBits: number): FieldRange {
  const { def, hdr } = readFieldHeader(b, what);
  if (start + nBits > hdr.width * 8 || nBits < 1)
    throw new OpenFlowDecodeError(what, `bit range [${start}, +${nBits}) outside ${def.name}`);
  return { field: def.name, start, nBits };
}

function decodeNx(b: Reader, len: number, what: string, at: number): Action {
  const vendor = b.u32(`${what}.experimenter`);
  if (vendor !== NX_VENDOR_ID) return opaque(b.buf, at, len);
  const subtype = b.u16(`${what}.subtype`);
  switch (subtype) {
    case NXAST.RESUBMIT:
    case NXAST.RESUBMIT_TABLE:
    case NXAST.RESUBMIT_TABLE_CT: {
      const p = b.u16(`${what}.in_port`);
      const table = subtype === NXAST.RESUBMIT ? 0xff : b.u8(`${what}.table`);
      const a: Extract<Action, { type: 'resubmit' }> = { type: 'resubmit' };
      if (p !== 0xfff8) a.port = port32(p);
      if (table !== 0xff) a.table = table;
      if (subtype === NXAST.RESUBMIT_TABLE_CT) a.ct = true;
      return a;
    }
    case NXAST.REG_MOVE: {
      const nBits = b.u16(`${what}.n_bits`);
      const srcOfs = b.u16(`${what}.src_ofs`);
      const dstOfs = b.u16(`${what}.dst_ofs`);
      const src = readRange(b, `${what}.src`, srcOfs, nBits);
      const dst = readRange(b, `${what}.dst`, dstOfs, nBits);
      return { type: 'move', src, dst };
    }
    case NXAST.REG_LOAD: {
      const on = b.u16(`${what}.ofs_nbits`);
      const dst = readRange(b, `${what}.dst`, on >> 6, (on & 0x3f) + 1);
      const v = b.u64(`${what}.value`);
      if (dst.nBits < 64 && v >> BigInt(dst.nBits) !== 0n)
        throw new OpenFlowDecodeError(`${what}.value`, 'value wider than its bit range', at);
      return { type: 'load', dst, value: valueFor(v, dst.nBits) };
    }
    case NXAST.REG_LOAD2: {
      const t = readOxm(b, `${what}.field`);
      if ('unknown' in t) throw new OpenFlowDecodeError(`${what}.field`, `unknown field ${t.unknown}`, at);
      return t.mask === undefined
        ? { type: 'set_field', field: t.def.name, value: t.value }
        : { type: 'set_field', field: t.def.name, value: t.value, mask: t.mask };
    }
    case NXAST.NOTE:
      return { type: 'note', data: b.copyBytes(b.remaining, `${what}.note`) };
    case NXAST.CT_CLEAR:
      return { type: 'ct_clear' };
    case NXAST.DEC_TTL:
      return { type: 'dec_ttl' };
    case NXAST.CONJUNCTION: {
      const clause = b.u8(`${what}.clause`);
      const nClauses = b.u8(`${what}.n_clauses`);
      const id = b.u32(`${what}.id`);
      if (nClauses < 2 || clause >= nClauses)
        throw new OpenFlowDecodeError(`${what}.clause`, `${clause}/${nClauses} invalid`, at);
      return { type: 'conjunction', id, clause: clause + 1, nClauses };
    }
    case NXAST.CONTROLLER: {
      const maxLen = b.u16(`${what}.max_len`);
      const id = b.u16(`${what}.controller_id`);
      const reason = b.u8(`${what}.reason`);
      const a: Extract<Action, { type: 'controller' }> = { type: 'controller' };
      if (maxLen !== OFPCML_NO_BUFFER) a.maxLen = maxLen;
      if (reason !== OFPR.ACTION) a.reason = reason;
      if (id !== 0) a.controllerId = id;
      return a;
    }
    case NXAST.CONTROLLER2:
      return decodeController2(b, what);
    case NXAST.CT:
      return decodeCt(b, what, at);
    case NXAST.LEARN:
      return decodeLearn(b, what, at);
    case NXAST.MULTIPATH: {
      const fields = b.u16(`${what}.fields`);
      const basis = b.u16(`${what}.basis`);
      b.skip(2, what);
      const algorithm = b.u16(`${what}.algorithm`);
      const maxLink = b.u16(`${what}.max_link`);
      const arg = b.u32(`${what}.arg`);
      b.skip(2, what);
      const on = b.u16(`${what}.ofs_nbits`);
      const dst = readRange(b, `${what}.dst`, on >> 6, (on & 0x3f) + 1);
      return { type: 'multipath', fields, basis, algorithm, maxLink, arg, dst };
    }
    default:
      return opaque(b.buf, at, len);
  }
}

function decodeController2(b: Reader, what: string): Action {
  b.skip(6, what);
  const a: Extract<Action, { type: 'controller' }> = { type: 'controller' };
  while (b.remaining > 0) {
    const p = b.pos;
    const type = b.u16(`${what}.prop.type`);
    const len = b.u16(`${what}.prop.len`);
    if (len < 4) throw new OpenFlowDecodeError(`${what}.prop.len`, `${len} < 4`, p);
    b.pos = p;
    const body = b.sub(len, `${what}.prop`);
    body.skip(4, what);
    b.skip((8 - (len % 8)) % 8, `${what}.prop.pad`);
    switch (type) {
      case NXAC2PT.MAX_LEN:
        a.maxLen = body.u16(`${what}.max_len`);
        break;
      case NXAC2PT.CONTROLLER_ID:
        a.controllerId = body.u16(`${what}.controller_id`);
        break;
      case NXAC2PT.REASON:
        a.reason = body.u8(`${what}.reason`);
        break;
      case NXAC2PT.USERDATA:
        a.userdata = body.copyBytes(body.remaining, `${what}.userdata`);
        break;
      case NXAC2PT.PAUSE:
        a.pause = true;
        break;
      case NXAC2PT.METER_ID:
        a.meterId = body.u32(`${what}.meter_id`);
        break;
      default:
        throw new OpenFlowDecodeError(`${what}.prop.type`, `unknown controller property ${type}`, p);
    }
  }
  return a;
}

function decodeCt(b: Reader, what: string, at: number): Action {
  const flags = b.u16(`${what}.flags`);
  const zoneSrc = b.u32(`${what}.zone_src`);
  const zoneImm = b.u16(`${what}.zone`);
  const table = b.u8(`${what}.recirc_table`);
  b.skip(3, what);
  const alg = b.u16(`${what}.alg`);
  const a: Extract<Action, { type: 'ct' }> = { type: 'ct' };
  if (flags & NX_CT_F.COMMIT) a.commit = true;
  if (flags & NX_CT_F.FORCE) a.force = true;
  if (zoneSrc !== 0) {
    const f = fieldByHeader(zoneSrc >>> 16, (zoneSrc >>> 9) & 0x7f);
    if (!f) throw new OpenFlowDecodeError(`${what}.zone_src`, `unknown field header 0x${zoneSrc.toString(16)}`, at);
    a.zone = { field: f.def.name, start: zoneImm >> 6, nBits: (zoneImm & 0x3f) + 1 };
  } else if (zoneImm !== 0) {
    a.zone = zoneImm;
  }
  if (table !== 0xff) a.table = table;
  if (alg !== 0) a.alg = alg;
  // Nested actions: NXAST_NAT (only valid here) becomes ct.nat, the rest ct.exec.
  const exec: Action[] = [];
  while (b.remaining > 0) {
    const p = b.pos;
    const iw = `${what}.actions[${exec.length + (a.nat ? 1 : 0)}]`;
    if (
      b.remaining >= 10 &&
      b.view.getUint16(p) === OFPAT.EXPERIMENTER &&
      b.view.getUint32(p + 4) === NX_VENDOR_ID &&
      b.view.getUint16(p + 8) === NXAST.NAT
    ) {
      b.skip(2, iw);
      const len = b.u16(`${iw}.len`);
      if (len < 16 || len % 8 !== 0)
        throw new OpenFlowDecodeError(`${iw}.len`, `${len} is not a multiple of 8 >= 16`, p);
      b.pos = p;
      const nb = b.sub(len, iw);
      nb.skip(10, iw);
      if (a.nat) throw new OpenFlowDecodeError(iw, 'two nat actions in one ct', p);
      a.nat = decodeNat(nb, iw, p);
      continue;
    }
    const n = decodeAction(b, iw);
    if (n) exec.push(n);
  }
  if (exec.length) a.exec = exec;
  return a;
}

function decodeNat(b: Reader, what: string, at: number): NatSpec | { kind: 'none' } {
  b.skip(2, what);
  const flags = b.u16(`${what}.flags`);
  const present = b.u16(`${what}.range_present`);
  if (flags === 0) return { kind: 'none' };
  if ((flags & (NX_NAT_F.SRC | NX_NAT_F.DST)) === (NX_NAT_F.SRC | NX_NAT_F.DST)) {
    throw new OpenFlowDecodeError(`${what}.flags`, 'both src and dst NAT', at);
  }
  const nat: NatSpec = { kind: flags & NX_NAT_F.SRC ? 'src' : 'dst' };
  if (present & NX_NAT_RANGE.IPV4_MIN) nat.ipMin = b.u32(`${what}.ipv4_min`);
  if (present & NX_NAT_RANGE.IPV4_MAX) nat.ipMax = b.u32(`${what}.ipv4_max`);
  if (present & (NX_NAT_RANGE.IPV6_MIN | NX_NAT_RANGE.IPV6_MAX))
    throw new OpenFlowDecodeError(`${what}.range_present`, 'IPv6 NAT ranges are not supported', at);
  if (present & NX_NAT_RANGE.PROTO_MIN) nat.portMin = b.u16(`${what}.proto_min`);
  if (present & NX_NAT_RANGE.PROTO_MAX) nat.portMax = b.u16(`${what}.proto_max`);
  if (flags & NX_NAT_F.PERSISTENT) nat.persistent = true;
  if (flags & NX_NAT_F.PROTO_RANDOM) nat.random = true;
  return nat;
}

function decodeLearn(b: Reader, what: string, at: number): Action {
  const head = readStruct(b, LEARN, what);
  const specs: LearnSpec[] = [];
  while (b.remaining >= 2) {
    const hdr = b.u16(`${what}.spec`);
    if (hdr === 0) break;
    const nBits = hdr & 0x3ff;
    const imm = (hdr & NX_LEARN_SRC_IMMEDIATE) !== 0;
    const dstType = hdr & (3 << 11);
    const sw = `${what}.specs[${specs.length}]`;
    if (nBits === 0) throw new OpenFlowDecodeError(`${sw}.n_bits`, 'zero', at);
    let value: bigint | undefined;
    let src: FieldRange | undefined;
    if (imm) {
      value = bytesToBigint(b.bytes(2 * Math.ceil(nBits / 16), `${sw}.value`));
    } else {
      const h = readFieldHeader(b, `${sw}.src`);
      src = { field: h.def.name, start: b.u16(`${sw}.src_ofs`), nBits };
    }
    if (dstType === NX_LEARN_DST_OUTPUT) {
      if (!src) throw new OpenFlowDecodeError(sw, 'output spec with an immediate source', at);
      specs.push({ kind: 'output', src });
      continue;
    }
    if (dstType !== 0 && dstType !== NX_LEARN_DST_LOAD)
      throw new OpenFlowDecodeError(sw, `bad destination type ${dstType >> 11}`, at);
    const h = readFieldHeader(b, `${sw}.dst`);
    const dst = { field: h.def.name, start: b.u16(`${sw}.dst_ofs`), nBits };
    const load = dstType === NX_LEARN_DST_LOAD;
    if (value !== undefined)
      specs.push({ kind: load ? 'load-value' : 'match-value', dst, value: valueFor(value, nBits) });
    else specs.push({ kind: load ? 'load-field' : 'match-field', dst, src: src as FieldRange });
  }
  while (b.remaining > 0)
    if (b.u8(`${what}.pad`) !== 0) throw new OpenFlowDecodeError(`${what}.pad`, 'non-zero bytes after the specs', at);
  const a: LearnAction = { type: 'learn', ...head, specs };
  return omitZeros(a, ['cookie', 'idleTimeout', 'hardTimeout', 'finIdleTimeout', 'finHardTimeout', 'flags']);
}

// ---------------------------------------------------------------- instructions

/** OVS's instruction order; the instruction set is unordered by spec, so we write it this way. */
const INSTRUCTION_ORDER: Record<Instruction['type'], number> = {
  meter: 0,
  apply_actions: 1,
  clear_actions: 2,
  write_actions: 3,
  write_metadata: 4,
  goto_table: 5,
};

export function sortInstructions(ins: readonly Instruction[]): Instruction[] {
  let sorted = true;
  for (let i = 1; i < ins.length && sorted; i++) {
    sorted = INSTRUCTION_ORDER[(ins[i - 1] as Instruction).type] <= INSTRUCTION_ORDER[(ins[i] as Instruction).type];
  }
  return sorted
    ? (ins as Instruction[])
    : [...ins].sort((a, b) => INSTRUCTION_ORDER[a.type] - INSTRUCTION_ORDER[b.type]);
}

export function encodeInstructions(w: Writer, ins: readonly Instruction[], what = 'instructions'): void {
  const seen = new Set<string>();
  sortInstructions(ins).forEach((i, n) => {
    const iw = `${what}[${n}]`;
    if (seen.has(i.type)) throw new OpenFlowEncodeError(iw, `${i.type} given twice`);
    seen.add(i.type);
    const start = w.pos;
    switch (i.type) {
      case 'goto_table':
        if (!Number.isInteger(i.table) || i.table < 0 || i.table > 254)
          throw new OpenFlowEncodeError(`${iw}.table`, `${i.table} is not 0..254`);
        w.u16(OFPIT.GOTO_TABLE).u16(8).u8(i.table).zeros(3);
        return;
      case 'write_metadata':
        w.u16(OFPIT.WRITE_METADATA)
          .u16(24)
          .zeros(4)
          .u64(u64(i.value, `${iw}.value`))
          .u64(u64(i.mask, `${iw}.mask`));
        return;
      case 'apply_actions':
      case 'write_actions':
        // OVS drops an empty apply_actions (it means nothing); so do we, to stay byte-identical.
        if (i.type === 'apply_actions' && i.actions.length === 0) return;
        w.u16(i.type === 'apply_actions' ? OFPIT.APPLY_ACTIONS : OFPIT.WRITE_ACTIONS)
          .u16(0)
          .zeros(4);
        encodeActions(w, i.actions, `${iw}.actions`);
        w.setU16(start + 2, w.pos - start);
        return;
      case 'clear_actions':
        w.u16(OFPIT.CLEAR_ACTIONS).u16(8).zeros(4);
        return;
      case 'meter':
        w.u16(OFPIT.METER).u16(8).u32(i.meterId);
        return;
    }
  });
}

export function decodeInstructions(r: Reader, what = 'instructions'): Instruction[] {
  const out: Instruction[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const iw = `${what}[${out.length}]`;
    const type = r.u16(`${iw}.type`);
    const len = r.u16(`${iw}.len`);
    if (len < 8 || len % 8 !== 0)
      throw new OpenFlowDecodeError(`${iw}.len`, `${len} is not a positive multiple of 8`, at);
    r.pos = at;
    const b = r.sub(len, iw);
    b.skip(4, iw);
    switch (type) {
      case OFPIT.GOTO_TABLE:
        out.push({ type: 'goto_table', table: b.u8(`${iw}.table_id`) });
        break;
      case OFPIT.WRITE_METADATA:
        b.skip(4, iw);
        out.push({ type: 'write_metadata', value: b.u64(`${iw}.metadata`), mask: b.u64(`${iw}.metadata_mask`) });
        break;
      case OFPIT.APPLY_ACTIONS:
      case OFPIT.WRITE_ACTIONS:
        b.skip(4, iw);
        out.push({
          type: type === OFPIT.APPLY_ACTIONS ? 'apply_actions' : 'write_actions',
          actions: decodeActions(b, `${iw}.actions`),
        });
        break;
      case OFPIT.CLEAR_ACTIONS:
        out.push({ type: 'clear_actions' });
        break;
      case OFPIT.METER:
        out.push({ type: 'meter', meterId: b.u32(`${iw}.meter_id`) });
        break;
      default:
        throw new OpenFlowDecodeError(`${iw}.type`, `unsupported instruction ${type}`, at);
    }
  }
  return out;
}

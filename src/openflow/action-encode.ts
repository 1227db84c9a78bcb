// Action encoding (OF1.3 standard + Nicira extensions) in the bytes OVS writes for OF1.3.
import { bigintToBytes, type Writer } from './buffer.js';
import { NX_CT_F, NX_NAT_F, NX_NAT_RANGE, NX_VENDOR_ID, NXAC2PT, NXAST, OFPAT } from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import { checkValue, fieldDef } from './fields.js';
import {
  checkRange,
  CONTROLLER_DEFAULTS,
  LEARN,
  type LearnAction,
  learnSpecHeader,
  nxHeader,
  ofsNbits,
  outputMaxLen,
  port16,
  u64,
  valueFor,
  writeFieldHeader,
} from './action-layout.js';
import { oxmHeaderWord, writeOxm } from './match.js';
import { writeStruct } from './struct.js';
import { OFPP, type Action, type FieldRange, type FieldValue, type NatSpec } from './types.js';

function nxHeaderStart(w: Writer, subtype: number): number {
  const start = w.pos;
  w.u16(OFPAT.EXPERIMENTER).u16(0).u32(NX_VENDOR_ID).u16(subtype);
  return start;
}

function finishAction(w: Writer, start: number): void {
  w.pad(8, start);
  w.setU16(start + 2, w.pos - start);
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
      w.u16(OFPAT.OUTPUT)
        .u16(16)
        .u32(a.port)
        .u16(a.maxLen ?? outputMaxLen(a.port))
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
    case 'check_pkt_larger': {
      checkRange(a.dst, `${what}.dst`);
      if (a.dst.nBits !== 1) throw new OpenFlowEncodeError(`${what}.dst`, 'must be a 1-bit field');
      if (!Number.isInteger(a.pktLen) || a.pktLen < 0 || a.pktLen > 0xffff)
        throw new OpenFlowEncodeError(`${what}.pktLen`, `${a.pktLen} is not a 16-bit length`);
      nxHeaderStart(w, NXAST.CHECK_PKT_LARGER);
      w.u16(a.pktLen).u16(a.dst.start);
      writeFieldHeader(w, fieldDef(a.dst.field));
      finishAction(w, start);
      return;
    }
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
  const maxLen = a.maxLen ?? CONTROLLER_DEFAULTS.maxLen;
  const reason = a.reason ?? CONTROLLER_DEFAULTS.reason;
  const id = a.controllerId ?? 0;
  // Empty userdata is no userdata (OVS drops it).
  const userdata = a.userdata?.length ? a.userdata : undefined;
  if (userdata === undefined && !a.pause && a.meterId === undefined) {
    if (reason === CONTROLLER_DEFAULTS.reason && id === 0) {
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
  if (maxLen !== CONTROLLER_DEFAULTS.maxLen) prop(NXAC2PT.MAX_LEN, (w) => w.u16(maxLen).zeros(2));
  if (id !== 0) prop(NXAC2PT.CONTROLLER_ID, (w) => w.u16(id).zeros(2));
  if (reason !== CONTROLLER_DEFAULTS.reason) prop(NXAC2PT.REASON, (w) => w.u8(reason));
  if (userdata !== undefined) prop(NXAC2PT.USERDATA, (w) => w.bytes(userdata));
  if (a.pause) prop(NXAC2PT.PAUSE, () => {});
  if (a.meterId !== undefined) prop(NXAC2PT.METER_ID, (w) => w.u32(a.meterId as number));
  finishAction(w, start);
}

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
    const dst = s.kind === 'output' ? 'output' : s.kind.startsWith('load') ? 'load' : 'match';
    w.u16(learnSpecHeader({ immediate: imm, dst, nBits }));
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

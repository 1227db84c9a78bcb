// Action decoding (OF1.3 standard + Nicira extensions); actions outside the model come back as 'opaque'.
import { bytesToBigint, type Reader } from './buffer.js';
import { NX_CT_F, NX_NAT_F, NX_NAT_RANGE, NX_VENDOR_ID, NXAC2PT, NXAST, OFPAT } from './constants.js';
import { OpenFlowDecodeError } from './errors.js';
import { fieldByHeader } from './fields.js';
import {
  CONTROLLER_DEFAULTS,
  LEARN,
  type LearnAction,
  outputMaxLen,
  port32,
  readFieldHeader,
  readLearnSpecHeader,
  valueFor,
} from './action-layout.js';
import { readOxm } from './match.js';
import { omitZeros, readStruct } from './struct.js';
import type { Action, FieldRange, LearnSpec, NatSpec } from './types.js';

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
      return maxLen === outputMaxLen(port) ? { type: 'output', port } : { type: 'output', port, maxLen };
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
      if (maxLen !== CONTROLLER_DEFAULTS.maxLen) a.maxLen = maxLen;
      if (reason !== CONTROLLER_DEFAULTS.reason) a.reason = reason;
      if (id !== 0) a.controllerId = id;
      return a;
    }
    case NXAST.CONTROLLER2:
      return decodeController2(b, what);
    case NXAST.CT:
      return decodeCt(b, what, at);
    case NXAST.LEARN:
      return decodeLearn(b, what, at);
    case NXAST.CHECK_PKT_LARGER: {
      const pktLen = b.u16(`${what}.pkt_len`);
      const offset = b.u16(`${what}.offset`);
      return { type: 'check_pkt_larger', pktLen, dst: readRange(b, `${what}.dst`, offset, 1) };
    }
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
    const { immediate: imm, dst: dstType, nBits } = readLearnSpecHeader(hdr);
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
    if (dstType === 'output') {
      if (!src) throw new OpenFlowDecodeError(sw, 'output spec with an immediate source', at);
      specs.push({ kind: 'output', src });
      continue;
    }
    if (typeof dstType === 'number') throw new OpenFlowDecodeError(sw, `bad destination type ${dstType}`, at);
    const h = readFieldHeader(b, `${sw}.dst`);
    const dst = { field: h.def.name, start: b.u16(`${sw}.dst_ofs`), nBits };
    const load = dstType === 'load';
    if (value !== undefined)
      specs.push({ kind: load ? 'load-value' : 'match-value', dst, value: valueFor(value, nBits) });
    else specs.push({ kind: load ? 'load-field' : 'match-field', dst, src: src as FieldRange });
  }
  while (b.remaining > 0)
    if (b.u8(`${what}.pad`) !== 0) throw new OpenFlowDecodeError(`${what}.pad`, 'non-zero bytes after the specs', at);
  const a: LearnAction = { type: 'learn', ...head, specs };
  return omitZeros(a, ['cookie', 'idleTimeout', 'hardTimeout', 'finIdleTimeout', 'finHardTimeout', 'flags']);
}

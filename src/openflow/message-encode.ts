// Message encoding: encodeMessage/appendMessage, each OFMessage written after its 8-byte header.
import { Writer } from './buffer.js';
import { encodeActions } from './action-encode.js';
import {
  OFP_MAX_MSG_LEN,
  OFP_NO_BUFFER,
  OFPET_EXPERIMENTER,
  OFPG_ANY,
  OFPHET_VERSIONBITMAP,
  OFPMP,
  OFPTT_ALL,
} from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import { encodeInstructions } from './instructions.js';
import { encodeMatch } from './match.js';
import {
  AGGREGATE_STATS,
  BUNDLE_CONTROL,
  FLOW_MOD_COMMAND_CODE,
  FLOW_REMOVED,
  FLOW_STATS,
  FLOW_STATS_REQUEST,
  GROUP_TYPES,
  MESSAGE_CODE,
  MOD_COMMANDS,
  PACKET_IN,
  PORT_DESC,
  PORT_STATS,
  STRUCT_BODY,
  SWITCH_DESC,
  TABLE_STATS,
  writeExperimenter,
  writeHeader,
} from './message-layout.js';
import type {
  AsyncConfig,
  Bucket,
  FlowModMessage,
  FlowStatsRequest,
  MultipartReplyBody,
  OFMessage,
} from './message-model.js';
import { writeStruct } from './struct.js';
import { OFPP } from './types.js';

function u8(v: number | undefined, what: string, max = 0xff): number {
  const x = v ?? 0;
  if (!Number.isInteger(x) || x < 0 || x > max) throw new OpenFlowEncodeError(what, `${x} is not 0..${max}`);
  return x;
}
const u16 = (v: number | undefined, what: string) => u8(v, what, 0xffff);
const u32 = (v: number | undefined, what: string) => u8(v, what, 0xffffffff);

function writeFlowStatsRequest(w: Writer, q: FlowStatsRequest): void {
  writeStruct(w, FLOW_STATS_REQUEST, {
    table: u8(q.table ?? OFPTT_ALL, 'table'),
    outPort: q.outPort ?? OFPP.ANY,
    outGroup: q.outGroup ?? OFPG_ANY,
    cookie: q.cookie ?? 0n,
    cookieMask: q.cookieMask ?? 0n,
  });
  encodeMatch(w, q.match ?? {});
}

function writeBuckets(w: Writer, buckets: Bucket[], what: string): void {
  buckets.forEach((b, i) => {
    const s = w.pos;
    w.u16(0)
      .u16(u16(b.weight, `${what}[${i}].weight`))
      .u32(b.watchPort ?? OFPP.ANY)
      .u32(b.watchGroup ?? OFPG_ANY)
      .zeros(4);
    encodeActions(w, b.actions, `${what}[${i}].actions`);
    w.setU16(s, w.pos - s);
  });
}

/** Encode a FLOW_MOD body (after the header). */
function writeFlowMod(w: Writer, m: FlowModMessage): void {
  const f = m.flow;
  const cmd = FLOW_MOD_COMMAND_CODE[m.command];
  if (cmd === undefined) throw new OpenFlowEncodeError('command', `unknown flow-mod command ${m.command}`);
  const isDelete = m.command === 'delete' || m.command === 'delete_strict';
  if (typeof f.cookie !== 'bigint') throw new OpenFlowEncodeError('flow.cookie', 'must be a bigint');
  w.u64(f.cookie)
    .u64(m.cookieMask ?? 0n)
    .u8(u8(f.table, 'flow.table'))
    .u8(cmd)
    .u16(u16(f.idleTimeout, 'flow.idleTimeout'))
    .u16(u16(f.hardTimeout, 'flow.hardTimeout'))
    .u16(u16(f.priority, 'flow.priority'))
    .u32(m.bufferId ?? OFP_NO_BUFFER)
    .u32(m.outPort ?? OFPP.ANY)
    .u32(m.outGroup ?? OFPG_ANY)
    .u16(u16(f.flags, 'flow.flags'))
    .zeros(2);
  encodeMatch(w, f.match);
  if (!isDelete || f.instructions.length) encodeInstructions(w, f.instructions, 'flow.instructions');
}

function writeAsync(w: Writer, a: AsyncConfig): void {
  for (const pair of [a.packetInMask, a.portStatusMask, a.flowRemovedMask]) w.u32(pair[0]).u32(pair[1]);
}

/** Writes the header (length patched later by the caller) and the body; returns where the message starts. */
function writeBody(w: Writer, m: OFMessage, xid: number): number {
  const code = MESSAGE_CODE[m.type];
  if (code === undefined) throw new OpenFlowEncodeError('type', `unknown message type ${m.type}`);
  const s = writeHeader(w, code, xid);
  writeMessageBody(w, m, s, xid);
  return s;
}

/** The body after the 8-byte header that starts at `s`. */
function writeMessageBody(w: Writer, m: OFMessage, s: number, xid: number): void {
  const struct = STRUCT_BODY.get(MESSAGE_CODE[m.type]);
  if (struct?.type === m.type) {
    writeStruct(w, struct.layout, m);
    return;
  }
  switch (m.type) {
    case 'features_request':
    case 'get_config_request':
    case 'barrier_request':
    case 'barrier_reply':
    case 'get_async_request':
      return; // the header is all there is (HEADER_ONLY)
    case 'hello': {
      let bitmap = 0;
      for (const v of m.versions) {
        if (v < 1 || v > 31) throw new OpenFlowEncodeError('versions', `${v} is not a wire version 1..31`);
        bitmap |= 1 << v;
      }
      w.u16(OFPHET_VERSIONBITMAP)
        .u16(8)
        .u32(bitmap >>> 0);
      return;
    }
    case 'error': {
      w.u16(m.errType);
      if (m.errType === OFPET_EXPERIMENTER) w.u16(m.errCode).u32(m.experimenter ?? 0);
      else w.u16(m.errCode);
      w.bytes(m.data);
      return;
    }
    case 'echo_request':
    case 'echo_reply':
      w.bytes(m.data);
      return;
    case 'packet_in':
      writeStruct(w, PACKET_IN, m);
      encodeMatch(w, m.match);
      w.zeros(2).bytes(m.data);
      return;
    case 'flow_removed':
      writeStruct(w, FLOW_REMOVED, m);
      encodeMatch(w, m.match);
      return;
    case 'port_status':
      w.u8(m.reason).zeros(7);
      writeStruct(w, PORT_DESC, m.port);
      return;
    case 'packet_out': {
      w.u32(m.bufferId ?? OFP_NO_BUFFER)
        .u32(m.inPort)
        .u16(0)
        .zeros(6);
      const a0 = w.pos;
      encodeActions(w, m.actions, 'actions');
      w.setU16(s + 16, w.pos - a0);
      w.bytes(m.data);
      return;
    }
    case 'flow_mod':
      writeFlowMod(w, m);
      return;
    case 'group_mod': {
      const cmd = MOD_COMMANDS.indexOf(m.command);
      const gt = GROUP_TYPES.indexOf(m.groupType);
      if (cmd < 0) throw new OpenFlowEncodeError('command', `unknown group-mod command ${m.command}`);
      if (gt < 0) throw new OpenFlowEncodeError('groupType', `unknown group type ${m.groupType}`);
      w.u16(cmd).u8(gt).u8(0).u32(u32(m.groupId, 'groupId'));
      writeBuckets(w, m.buckets, 'buckets');
      return;
    }
    case 'meter_mod': {
      const cmd = MOD_COMMANDS.indexOf(m.command);
      if (cmd < 0) throw new OpenFlowEncodeError('command', `unknown meter-mod command ${m.command}`);
      w.u16(cmd).u16(u16(m.flags, 'flags')).u32(u32(m.meterId, 'meterId'));
      m.bands.forEach((b, i) => {
        if (b.type !== 'drop' && b.type !== 'dscp_remark')
          throw new OpenFlowEncodeError(`bands[${i}].type`, `unknown band ${b.type}`);
        w.u16(b.type === 'drop' ? 1 : 2)
          .u16(16)
          .u32(u32(b.rate, `bands[${i}].rate`))
          .u32(u32(b.burstSize, `bands[${i}].burstSize`));
        if (b.type === 'dscp_remark') w.u8(u8(b.precLevel, `bands[${i}].precLevel`)).zeros(3);
        else w.zeros(4);
      });
      return;
    }
    case 'multipart_request': {
      const t = OFPMP[m.mpType.toUpperCase() as keyof typeof OFPMP];
      w.u16(t)
        .u16(m.flags ?? 0)
        .zeros(4);
      if (m.mpType === 'flow' || m.mpType === 'aggregate') writeFlowStatsRequest(w, m.request);
      else if (m.mpType === 'port_stats') w.u32(m.portNo).zeros(4);
      return;
    }
    case 'multipart_reply': {
      const b = m.body;
      const t = b.mpType === 'other' ? b.rawType : OFPMP[b.mpType.toUpperCase() as keyof typeof OFPMP];
      w.u16(t).u16(m.flags).zeros(4);
      writeReplyBody(w, b);
      return;
    }
    case 'get_async_reply':
    case 'set_async':
      writeAsync(w, m);
      return;
    case 'bundle_control':
      writeExperimenter(w, 'bundle_control');
      writeStruct(w, BUNDLE_CONTROL, m);
      return;
    case 'bundle_add': {
      writeExperimenter(w, 'bundle_add').u32(m.bundleId).u16(0).u16(m.flags);
      // The embedded message carries the same xid as the bundle-add (OF1.4 §7.3.9.6).
      w.bytes(encodeMessage({ ...m.message, xid }));
      w.pad(8, s);
      return;
    }
    case 'nx_set_packet_in_format':
      writeExperimenter(w, 'nx_set_packet_in_format').u32(m.format);
      return;
    case 'experimenter':
      w.u32(m.experimenter).u32(m.expType).bytes(m.data);
      return;
  }
}

function writeReplyBody(w: Writer, b: MultipartReplyBody): void {
  switch (b.mpType) {
    case 'desc':
      writeStruct(w, SWITCH_DESC, b.desc);
      return;
    case 'flow':
      for (const fs of b.flows) {
        const s = w.pos;
        w.u16(0); // length, patched below
        writeStruct(w, FLOW_STATS, { ...fs, ...fs.flow });
        encodeMatch(w, fs.flow.match);
        encodeInstructions(w, fs.flow.instructions);
        w.setU16(s, w.pos - s);
      }
      return;
    case 'aggregate':
      writeStruct(w, AGGREGATE_STATS, b.stats);
      return;
    case 'table':
      for (const t of b.tables) writeStruct(w, TABLE_STATS, t);
      return;
    case 'port_stats':
      for (const p of b.ports) writeStruct(w, PORT_STATS, p);
      return;
    case 'group_desc':
      for (const g of b.groups) {
        const s = w.pos;
        w.u16(0).u8(GROUP_TYPES.indexOf(g.groupType)).u8(0).u32(g.groupId);
        writeBuckets(w, g.buckets, 'buckets');
        w.setU16(s, w.pos - s);
      }
      return;
    case 'port_desc':
      for (const p of b.ports) writeStruct(w, PORT_DESC, p);
      return;
    case 'other':
      w.bytes(b.body);
      return;
  }
}

/** Encode a message; `xid` defaults to 0. Throws OpenFlowEncodeError naming the bad field. */
let scratch: Writer | undefined = new Writer(64 * 1024);

export function encodeMessage(m: OFMessage, out?: Writer): Uint8Array {
  // Reuse one scratch buffer (not re-entrant: bundle_add encodes its inner message meanwhile).
  let w = out;
  let borrowed = false;
  if (!w) {
    if (scratch) {
      w = scratch;
      scratch = undefined;
      w.pos = 0;
      borrowed = true;
    } else w = new Writer(256);
  }
  try {
    return encodeInto(w, m);
  } finally {
    if (borrowed) scratch = w;
  }
}

function encodeInto(w: Writer, m: OFMessage): Uint8Array {
  const s = writeBody(w, m, m.xid ?? 0);
  const len = w.pos - s;
  if (len > OFP_MAX_MSG_LEN)
    throw new OpenFlowEncodeError(m.type, `message is ${len} bytes, more than ${OFP_MAX_MSG_LEN}`);
  w.setU16(s + 2, len);
  return w.buf.slice(s, w.pos);
}

/** Append an encoded message to `w` (for batching many into one buffer); returns its length. */
export function appendMessage(w: Writer, m: OFMessage): number {
  const s = writeBody(w, m, m.xid ?? 0);
  const len = w.pos - s;
  if (len > OFP_MAX_MSG_LEN) {
    w.pos = s;
    throw new OpenFlowEncodeError(m.type, `message is ${len} bytes, more than ${OFP_MAX_MSG_LEN}`);
  }
  w.setU16(s + 2, len);
  return len;
}

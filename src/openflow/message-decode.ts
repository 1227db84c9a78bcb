// Message decoding: decodeMessage, one complete message in, the OFMessage model out.
import { Reader, Writer } from './buffer.js';
import { decodeActions } from './action-decode.js';
import {
  NXPINT,
  OFP_HEADER_LEN,
  OFP_NO_BUFFER,
  OFP_VERSION,
  OFPET_EXPERIMENTER,
  OFPG_ANY,
  OFPHET_VERSIONBITMAP,
  OFPMP,
  OFPT,
} from './constants.js';
import { OpenFlowDecodeError } from './errors.js';
import { decodeInstructions } from './instructions.js';
import { decodeMatch } from './match.js';
import {
  AGGREGATE_STATS,
  BUNDLE_CONTROL,
  experimenterType,
  FLOW_MOD,
  FLOW_MOD_COMMANDS,
  FLOW_REMOVED,
  FLOW_STATS,
  FLOW_STATS_REQUEST,
  flowOf,
  GROUP_TYPES,
  HEADER_ONLY,
  MOD_COMMANDS,
  PACKET_IN,
  PORT_DESC,
  PORT_STATS,
  readHeader,
  STRUCT_BODY,
  SWITCH_DESC,
  TABLE_STATS,
} from './message-layout.js';
import type {
  AsyncConfig,
  Bucket,
  FlowModMessage,
  FlowStats,
  FlowStatsRequest,
  GroupDesc,
  MeterBand,
  MultipartReplyBody,
  OFMessage,
  PacketIn,
} from './message-model.js';
import { readStruct } from './struct.js';
import { OFPP } from './types.js';

function readFlowStatsRequest(r: Reader): FlowStatsRequest {
  const q = readStruct(r, FLOW_STATS_REQUEST, 'flow_stats_request');
  return { ...q, match: decodeMatch(r, 'flow_stats_request.match').match };
}

function readBuckets(r: Reader, what: string): Bucket[] {
  const out: Bucket[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const bw = `${what}[${out.length}]`;
    const len = r.u16(`${bw}.len`);
    if (len < 16 || len % 8) throw new OpenFlowDecodeError(`${bw}.len`, `${len} invalid`, at);
    r.pos = at;
    const b = r.sub(len, bw);
    b.skip(2, bw);
    const weight = b.u16(`${bw}.weight`);
    const watchPort = b.u32(`${bw}.watch_port`);
    const watchGroup = b.u32(`${bw}.watch_group`);
    b.skip(4, bw);
    const bucket: Bucket = { actions: decodeActions(b, `${bw}.actions`) };
    if (weight) bucket.weight = weight;
    if (watchPort !== OFPP.ANY) bucket.watchPort = watchPort;
    if (watchGroup !== OFPG_ANY) bucket.watchGroup = watchGroup;
    out.push(bucket);
  }
  return out;
}

function readFlowMod(r: Reader): FlowModMessage {
  const at = r.pos;
  const h = readStruct(r, FLOW_MOD, 'flow_mod');
  const command = FLOW_MOD_COMMANDS[h.command];
  if (!command) throw new OpenFlowDecodeError('flow_mod.command', `unknown command ${h.command}`, at + 17);
  const { match } = decodeMatch(r, 'flow_mod.match');
  const fm: FlowModMessage = { command, flow: flowOf(h, match, decodeInstructions(r, 'flow_mod.instructions')) };
  if (h.cookieMask) fm.cookieMask = h.cookieMask;
  if (h.outPort !== OFPP.ANY) fm.outPort = h.outPort;
  if (h.outGroup !== OFPG_ANY) fm.outGroup = h.outGroup;
  if (h.bufferId !== OFP_NO_BUFFER) fm.bufferId = h.bufferId;
  return fm;
}

function readFlowStats(r: Reader): FlowStats[] {
  const out: FlowStats[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const what = `flow_stats[${out.length}]`;
    const len = r.u16(`${what}.length`);
    if (len < 56) throw new OpenFlowDecodeError(`${what}.length`, `${len} < 56`, at);
    r.pos = at;
    const b = r.sub(len, what);
    b.skip(2, what);
    const h = readStruct(b, FLOW_STATS, what);
    const { match, unknown } = decodeMatch(b, `${what}.match`);
    const flow = flowOf(h, match, decodeInstructions(b, `${what}.instructions`));
    const { durationSec, durationNsec, packetCount, byteCount } = h;
    const fs: FlowStats = { flow, durationSec, durationNsec, packetCount, byteCount };
    if (unknown.length) fs.unknownMatch = unknown;
    out.push(fs);
  }
  return out;
}

function readReply(r: Reader, t: number): MultipartReplyBody {
  switch (t) {
    case OFPMP.DESC:
      return { mpType: 'desc', desc: readStruct(r, SWITCH_DESC, 'desc') };
    case OFPMP.FLOW:
      return { mpType: 'flow', flows: readFlowStats(r) };
    case OFPMP.AGGREGATE:
      return { mpType: 'aggregate', stats: readStruct(r, AGGREGATE_STATS, 'aggregate') };
    case OFPMP.TABLE:
      return { mpType: 'table', tables: readEach(r, () => readStruct(r, TABLE_STATS, 'table_stats')) };
    case OFPMP.PORT_STATS:
      return { mpType: 'port_stats', ports: readEach(r, () => readStruct(r, PORT_STATS, 'port_stats')) };
    case OFPMP.GROUP_DESC:
      return { mpType: 'group_desc', groups: readEach(r, () => readGroupDesc(r)) };
    case OFPMP.PORT_DESC:
      return { mpType: 'port_desc', ports: readEach(r, (i) => readStruct(r, PORT_DESC, `port_desc[${i}]`)) };
    default:
      return { mpType: 'other', rawType: t, body: r.copyBytes(r.remaining, 'multipart.body') };
  }
}

/** Reads entries with `one` until `r` is used up (multipart bodies are arrays without a count). */
function readEach<T>(r: Reader, one: (index: number) => T): T[] {
  const out: T[] = [];
  while (r.remaining > 0) out.push(one(out.length));
  return out;
}

function readGroupDesc(r: Reader): GroupDesc {
  const at = r.pos;
  const len = r.u16('group_desc.length');
  if (len < 8) throw new OpenFlowDecodeError('group_desc.length', `${len} < 8`, at);
  r.pos = at;
  const b = r.sub(len, 'group_desc');
  b.skip(2, 'group_desc');
  const gt = GROUP_TYPES[b.u8('group_desc.type')];
  if (!gt) throw new OpenFlowDecodeError('group_desc.type', 'unknown group type', at);
  b.skip(1, 'group_desc.pad');
  return { groupType: gt, groupId: b.u32('group_desc.group_id'), buckets: readBuckets(b, 'group_desc.buckets') };
}

function readAsync(r: Reader): AsyncConfig {
  const pair = (n: string): [number, number] => [r.u32(`${n}[0]`), r.u32(`${n}[1]`)];
  return {
    packetInMask: pair('packet_in_mask'),
    portStatusMask: pair('port_status_mask'),
    flowRemovedMask: pair('flow_removed_mask'),
  };
}

function readPacketIn2(r: Reader): PacketIn {
  const pi: PacketIn = {
    bufferId: OFP_NO_BUFFER,
    totalLen: 0,
    reason: 0,
    tableId: 0,
    cookie: 0n,
    match: {},
    data: new Uint8Array(),
  };
  let fullLen: number | undefined;
  while (r.remaining > 0) {
    const at = r.pos;
    const type = r.u16('packet_in2.prop.type');
    const len = r.u16('packet_in2.prop.len');
    if (len < 4) throw new OpenFlowDecodeError('packet_in2.prop.len', `${len} < 4`, at);
    r.pos = at;
    const b = r.sub(len, 'packet_in2.prop');
    b.skip(4, 'packet_in2.prop');
    r.skip(Math.min((8 - (len % 8)) % 8, r.remaining), 'packet_in2.prop.pad');
    switch (type) {
      case NXPINT.PACKET:
        pi.data = b.copyBytes(b.remaining, 'packet_in2.packet');
        break;
      case NXPINT.FULL_LEN:
        fullLen = b.u32('packet_in2.full_len');
        break;
      case NXPINT.BUFFER_ID:
        pi.bufferId = b.u32('packet_in2.buffer_id');
        break;
      case NXPINT.TABLE_ID:
        pi.tableId = b.u8('packet_in2.table_id');
        break;
      case NXPINT.COOKIE:
        b.skip(4, 'packet_in2.cookie.pad');
        pi.cookie = b.u64('packet_in2.cookie');
        break;
      case NXPINT.REASON:
        pi.reason = b.u8('packet_in2.reason');
        break;
      case NXPINT.METADATA: {
        // The metadata property is a bare sequence of OXM TLVs (no ofp_match header).
        const hdr = new Writer(8 + b.remaining);
        hdr
          .u16(1)
          .u16(4 + b.remaining)
          .bytes(b.bytes(b.remaining, 'packet_in2.metadata'))
          .pad(8);
        pi.match = decodeMatch(new Reader(hdr.finish()), 'packet_in2.metadata').match;
        break;
      }
      case NXPINT.USERDATA:
        pi.userdata = b.copyBytes(b.remaining, 'packet_in2.userdata');
        break;
      default:
        break; // continuation and future properties: not needed by vnet
    }
  }
  pi.totalLen = fullLen ?? pi.data.length;
  return pi;
}

function readExperimenter(r: Reader, xid: number): OFMessage {
  const experimenter = r.u32('experimenter.experimenter');
  const expType = r.u32('experimenter.exp_type');
  const type = experimenterType(experimenter, expType);
  if (type === 'bundle_control') {
    return { type: 'bundle_control', xid, ...readStruct(r, BUNDLE_CONTROL, 'bundle_control') };
  }
  if (type === 'bundle_add') {
    const bundleId = r.u32('bundle_add.bundle_id');
    r.skip(2, 'bundle_add.pad');
    const flags = r.u16('bundle_add.flags');
    const inner = readHeader(r.buf, r.pos);
    if (inner.length < OFP_HEADER_LEN || inner.length > r.remaining)
      throw new OpenFlowDecodeError('bundle_add.message.length', `${inner.length} invalid`, r.pos);
    const message = decodeMessage(r.bytes(inner.length, 'bundle_add.message'));
    return { type: 'bundle_add', xid, bundleId, flags, message };
  }
  if (type === 'packet_in') {
    return { type: 'packet_in', xid, ...readPacketIn2(r) };
  }
  if (type === 'nx_set_packet_in_format') {
    return { type: 'nx_set_packet_in_format', xid, format: r.u32('set_packet_in_format.format') };
  }
  return { type: 'experimenter', xid, experimenter, expType, data: r.copyBytes(r.remaining, 'experimenter.data') };
}

/**
 * Decode one complete message (exactly `length` bytes). Throws OpenFlowDecodeError naming the
 * field on short, oversized or malformed input; never returns a half-decoded message.
 */
export function decodeMessage(buf: Uint8Array): OFMessage {
  const h = readHeader(buf);
  if (h.version !== OFP_VERSION && h.type !== OFPT.HELLO && h.type !== OFPT.ERROR) {
    throw new OpenFlowDecodeError('header.version', `0x${h.version.toString(16)} is not OpenFlow 1.3`, 0);
  }
  if (h.length < OFP_HEADER_LEN) throw new OpenFlowDecodeError('header.length', `${h.length} < 8`, 2);
  if (h.length !== buf.length)
    throw new OpenFlowDecodeError('header.length', `says ${h.length}, have ${buf.length} bytes`, 2);
  const r = new Reader(buf, OFP_HEADER_LEN, h.length);
  const xid = h.xid;
  const done = <T extends OFMessage>(m: T): T => {
    if (r.remaining !== 0) throw new OpenFlowDecodeError(`${m.type}.length`, `${r.remaining} trailing bytes`, r.pos);
    return m;
  };
  const headerOnly = HEADER_ONLY.get(h.type);
  if (headerOnly) return done({ type: headerOnly, xid });
  const struct = STRUCT_BODY.get(h.type);
  if (struct) return done({ type: struct.type, xid, ...readStruct(r, struct.layout, struct.what) } as OFMessage);
  switch (h.type) {
    case OFPT.HELLO: {
      const versions: number[] = [];
      while (r.remaining >= 4) {
        const at = r.pos;
        const et = r.u16('hello.element.type');
        const el = r.u16('hello.element.length');
        if (el < 4) throw new OpenFlowDecodeError('hello.element.length', `${el} < 4`, at);
        const body = r.sub(el - 4, 'hello.element');
        r.skip(Math.min((8 - (el % 8)) % 8, r.remaining), 'hello.element.pad');
        if (et !== OFPHET_VERSIONBITMAP) continue;
        for (let word = 0; body.remaining >= 4; word++) {
          const bits = body.u32('hello.bitmap');
          for (let b = 0; b < 32; b++) if (bits & (1 << b)) versions.push(word * 32 + b);
        }
      }
      // No bitmap: the peer speaks every version up to its header's (OF1.3.1 §6.3.1; OVS sends a bare HELLO when its
      // versions are 1..n, e.g. a bridge with no `protocols` set answering on its mgmt socket: 0x06 = 1.0–1.5).
      if (versions.length === 0) for (let v = 1; v <= h.version; v++) versions.push(v);
      return { type: 'hello', xid, versions };
    }
    case OFPT.ERROR: {
      const errType = r.u16('error.type');
      const errCode = r.u16('error.code');
      if (errType === OFPET_EXPERIMENTER) {
        const experimenter = r.u32('error.experimenter');
        return { type: 'error', xid, errType, errCode, experimenter, data: r.copyBytes(r.remaining, 'error.data') };
      }
      return { type: 'error', xid, errType, errCode, data: r.copyBytes(r.remaining, 'error.data') };
    }
    case OFPT.ECHO_REQUEST:
      return { type: 'echo_request', xid, data: r.copyBytes(r.remaining, 'echo.data') };
    case OFPT.ECHO_REPLY:
      return { type: 'echo_reply', xid, data: r.copyBytes(r.remaining, 'echo.data') };
    case OFPT.PACKET_IN: {
      const head = readStruct(r, PACKET_IN, 'packet_in');
      const { match } = decodeMatch(r, 'packet_in.match');
      r.skip(2, 'packet_in.pad');
      return { type: 'packet_in', xid, ...head, match, data: r.copyBytes(r.remaining, 'packet_in.data') };
    }
    case OFPT.FLOW_REMOVED: {
      const head = readStruct(r, FLOW_REMOVED, 'flow_removed');
      return done({ type: 'flow_removed', xid, ...head, match: decodeMatch(r, 'flow_removed.match').match });
    }
    case OFPT.PORT_STATUS: {
      const reason = r.u8('port_status.reason');
      r.skip(7, 'port_status.pad');
      return done({ type: 'port_status', xid, reason, port: readStruct(r, PORT_DESC, 'port_status.desc') });
    }
    case OFPT.PACKET_OUT: {
      const bufferId = r.u32('packet_out.buffer_id');
      const inPort = r.u32('packet_out.in_port');
      const alen = r.u16('packet_out.actions_len');
      r.skip(6, 'packet_out.pad');
      const actions = decodeActions(r.sub(alen, 'packet_out.actions'), 'packet_out.actions');
      const data = r.copyBytes(r.remaining, 'packet_out.data');
      const m: OFMessage = { type: 'packet_out', xid, inPort, actions, data };
      if (bufferId !== OFP_NO_BUFFER) m.bufferId = bufferId;
      return m;
    }
    case OFPT.FLOW_MOD:
      return done({ type: 'flow_mod', xid, ...readFlowMod(r) });
    case OFPT.GROUP_MOD: {
      const cmd = MOD_COMMANDS[r.u16('group_mod.command')];
      const gt = GROUP_TYPES[r.u8('group_mod.type')];
      if (!cmd) throw new OpenFlowDecodeError('group_mod.command', 'unknown command', 8);
      if (!gt) throw new OpenFlowDecodeError('group_mod.type', 'unknown group type', 10);
      r.skip(1, 'group_mod.pad');
      const groupId = r.u32('group_mod.group_id');
      return {
        type: 'group_mod',
        xid,
        command: cmd,
        groupType: gt,
        groupId,
        buckets: readBuckets(r, 'group_mod.buckets'),
      };
    }
    case OFPT.METER_MOD: {
      const cmd = MOD_COMMANDS[r.u16('meter_mod.command')];
      if (!cmd) throw new OpenFlowDecodeError('meter_mod.command', 'unknown command', 8);
      const flags = r.u16('meter_mod.flags');
      const meterId = r.u32('meter_mod.meter_id');
      const bands: MeterBand[] = [];
      while (r.remaining > 0) {
        const at = r.pos;
        const bt = r.u16('meter_mod.band.type');
        const bl = r.u16('meter_mod.band.len');
        if (bl !== 16) throw new OpenFlowDecodeError('meter_mod.band.len', `${bl} is not 16`, at);
        const rate = r.u32('meter_mod.band.rate');
        const burstSize = r.u32('meter_mod.band.burst_size');
        if (bt === 1) {
          r.skip(4, 'meter_mod.band.pad');
          bands.push({ type: 'drop', rate, burstSize });
        } else if (bt === 2) {
          const precLevel = r.u8('meter_mod.band.prec_level');
          r.skip(3, 'meter_mod.band.pad');
          bands.push({ type: 'dscp_remark', rate, burstSize, precLevel });
        } else throw new OpenFlowDecodeError('meter_mod.band.type', `unsupported band ${bt}`, at);
      }
      return { type: 'meter_mod', xid, command: cmd, flags, meterId, bands };
    }
    case OFPT.MULTIPART_REQUEST: {
      const t = r.u16('multipart.type');
      const flags = r.u16('multipart.flags');
      r.skip(4, 'multipart.pad');
      switch (t) {
        case OFPMP.DESC:
          return done({ type: 'multipart_request', xid, flags, mpType: 'desc' });
        case OFPMP.FLOW:
          return done({ type: 'multipart_request', xid, flags, mpType: 'flow', request: readFlowStatsRequest(r) });
        case OFPMP.AGGREGATE:
          return done({ type: 'multipart_request', xid, flags, mpType: 'aggregate', request: readFlowStatsRequest(r) });
        case OFPMP.TABLE:
          return done({ type: 'multipart_request', xid, flags, mpType: 'table' });
        case OFPMP.PORT_STATS: {
          const portNo = r.u32('port_stats_request.port_no');
          r.skip(4, 'port_stats_request.pad');
          return done({ type: 'multipart_request', xid, flags, mpType: 'port_stats', portNo });
        }
        case OFPMP.GROUP_DESC:
          return done({ type: 'multipart_request', xid, flags, mpType: 'group_desc' });
        case OFPMP.PORT_DESC:
          return done({ type: 'multipart_request', xid, flags, mpType: 'port_desc' });
        default:
          throw new OpenFlowDecodeError('multipart.type', `unsupported multipart request ${t}`, 8);
      }
    }
    case OFPT.MULTIPART_REPLY: {
      const t = r.u16('multipart.type');
      const flags = r.u16('multipart.flags');
      r.skip(4, 'multipart.pad');
      return done({ type: 'multipart_reply', xid, flags, body: readReply(r, t) });
    }
    case OFPT.GET_ASYNC_REPLY:
      return done({ type: 'get_async_reply', xid, ...readAsync(r) });
    case OFPT.SET_ASYNC:
      return done({ type: 'set_async', xid, ...readAsync(r) });
    case OFPT.EXPERIMENTER:
      return readExperimenter(r, xid);
    default:
      throw new OpenFlowDecodeError('header.type', `unsupported message type ${h.type}`, 1);
  }
}

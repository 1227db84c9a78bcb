// OpenFlow 1.3 messages: the typed model and encodeMessage/decodeMessage for every message vnet sends or receives.
import { Reader, Writer } from './buffer.js';
import { decodeActions, decodeInstructions, encodeActions, encodeInstructions } from './actions.js';
import {
  NX_VENDOR_ID,
  NXPINT,
  NXT,
  OFP_HEADER_LEN,
  OFP_MAX_MSG_LEN,
  OFP_NO_BUFFER,
  OFP_VERSION,
  OFPET_EXPERIMENTER,
  OFPFC,
  OFPG_ANY,
  OFPHET_VERSIONBITMAP,
  OFPMP,
  OFPMPF_MORE,
  OFPT,
  OFPTT_ALL,
  ONF_VENDOR_ID,
  ONFT,
} from './constants.js';
import { OpenFlowDecodeError, OpenFlowEncodeError } from './errors.js';
import { decodeMatch, encodeMatch } from './match.js';
import { layout, omitZeros, readStruct, writeStruct } from './struct.js';
import { type Action, type Flow, type FlowMod, type Instruction, type Match, OFPP } from './types.js';

// ---------------------------------------------------------------- model

export type FlowModCommand = FlowMod['command'];

/** A FLOW_MOD on the wire: the shared FlowMod plus the rarely used buffer_id. */
export interface FlowModMessage extends FlowMod {
  bufferId?: number;
}

export interface PortDesc {
  portNo: number;
  hwAddr: bigint;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

export interface Bucket {
  weight?: number;
  watchPort?: number;
  watchGroup?: number;
  actions: Action[];
}

export type GroupType = 'all' | 'select' | 'indirect' | 'ff';
export interface GroupMod {
  command: 'add' | 'modify' | 'delete';
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}

export interface MeterBand {
  type: 'drop' | 'dscp_remark';
  rate: number;
  burstSize?: number;
  precLevel?: number;
}
export interface MeterMod {
  command: 'add' | 'modify' | 'delete';
  /** OFPMF_* flags (KBPS 1, PKTPS 2, BURST 4, STATS 8). */
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

/** A flow as flow stats report it: the flow plus counters. */
export interface FlowStats {
  flow: Flow;
  durationSec: number;
  durationNsec: number;
  packetCount: bigint;
  byteCount: bigint;
  /** Match fields this library does not know, skipped while decoding. */
  unknownMatch?: string[];
}

export interface FlowStatsRequest {
  table?: number;
  outPort?: number;
  outGroup?: number;
  cookie?: bigint;
  cookieMask?: bigint;
  match?: Match;
}

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface SwitchDesc {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

export interface GroupDesc {
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}

export interface AggregateStats {
  packetCount: bigint;
  byteCount: bigint;
  flowCount: number;
}

export type MultipartRequestBody =
  | { mpType: 'desc' }
  | { mpType: 'flow'; request: FlowStatsRequest }
  | { mpType: 'aggregate'; request: FlowStatsRequest }
  | { mpType: 'table' }
  | { mpType: 'port_stats'; portNo: number }
  | { mpType: 'group_desc' }
  | { mpType: 'port_desc' };

export type MultipartReplyBody =
  | { mpType: 'desc'; desc: SwitchDesc }
  | { mpType: 'flow'; flows: FlowStats[] }
  | { mpType: 'aggregate'; stats: AggregateStats }
  | { mpType: 'table'; tables: TableStats[] }
  | { mpType: 'port_stats'; ports: PortStats[] }
  | { mpType: 'group_desc'; groups: GroupDesc[] }
  | { mpType: 'port_desc'; ports: PortDesc[] }
  | { mpType: 'other'; rawType: number; body: Uint8Array };

export interface PacketIn {
  bufferId: number;
  totalLen: number;
  /** OFPR_* (NO_MATCH 0, ACTION 1, INVALID_TTL 2; OVS may send its own higher values). */
  reason: number;
  tableId: number;
  cookie: bigint;
  match: Match;
  data: Uint8Array;
  /** Present only for NXT_PACKET_IN2 (controller action userdata). */
  userdata?: Uint8Array;
}

export interface AsyncConfig {
  /** [master/equal, slave] bitmaps of OFPR_* reasons. */
  packetInMask: [number, number];
  portStatusMask: [number, number];
  flowRemovedMask: [number, number];
}

type WithXid<T> = T & { xid?: number };

export type OFMessage = WithXid<
  | { type: 'hello'; versions: number[] }
  | { type: 'error'; errType: number; errCode: number; experimenter?: number; data: Uint8Array }
  | { type: 'echo_request'; data: Uint8Array }
  | { type: 'echo_reply'; data: Uint8Array }
  | { type: 'features_request' }
  | {
      type: 'features_reply';
      datapathId: bigint;
      nBuffers: number;
      nTables: number;
      auxiliaryId: number;
      capabilities: number;
    }
  | { type: 'get_config_request' }
  | { type: 'get_config_reply'; flags: number; missSendLen: number }
  | { type: 'set_config'; flags: number; missSendLen: number }
  | ({ type: 'packet_in' } & PacketIn)
  | {
      type: 'flow_removed';
      cookie: bigint;
      priority: number;
      reason: number;
      tableId: number;
      durationSec: number;
      durationNsec: number;
      idleTimeout: number;
      hardTimeout: number;
      packetCount: bigint;
      byteCount: bigint;
      match: Match;
    }
  | { type: 'port_status'; reason: number; port: PortDesc }
  | { type: 'packet_out'; bufferId?: number; inPort: number; actions: Action[]; data: Uint8Array }
  | ({ type: 'flow_mod' } & FlowModMessage)
  | ({ type: 'group_mod' } & GroupMod)
  | { type: 'port_mod'; portNo: number; hwAddr: bigint; config: number; mask: number; advertise: number }
  | ({ type: 'meter_mod' } & MeterMod)
  | ({ type: 'multipart_request'; flags?: number } & MultipartRequestBody)
  | { type: 'multipart_reply'; flags: number; body: MultipartReplyBody }
  | { type: 'barrier_request' }
  | { type: 'barrier_reply' }
  | { type: 'role_request'; role: number; generationId: bigint }
  | { type: 'role_reply'; role: number; generationId: bigint }
  | { type: 'get_async_request' }
  | ({ type: 'get_async_reply' } & AsyncConfig)
  | ({ type: 'set_async' } & AsyncConfig)
  | { type: 'bundle_control'; bundleId: number; ctrlType: number; flags: number }
  | { type: 'bundle_add'; bundleId: number; flags: number; message: OFMessage }
  | { type: 'nx_set_packet_in_format'; format: number }
  | { type: 'experimenter'; experimenter: number; expType: number; data: Uint8Array }
>;

export type OFMessageType = OFMessage['type'];

// ---------------------------------------------------------------- framing helpers

export interface Header {
  version: number;
  type: number;
  length: number;
  xid: number;
}

export function readHeader(buf: Uint8Array, offset = 0): Header {
  const r = new Reader(buf, offset);
  return {
    version: r.u8('header.version'),
    type: r.u8('header.type'),
    length: r.u16('header.length'),
    xid: r.u32('header.xid'),
  };
}

const FLOW_MOD_COMMANDS: FlowModCommand[] = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'];
const FLOW_MOD_COMMAND_CODE: Record<string, number | undefined> = {
  add: OFPFC.ADD,
  modify: OFPFC.MODIFY,
  modify_strict: OFPFC.MODIFY_STRICT,
  delete: OFPFC.DELETE,
  delete_strict: OFPFC.DELETE_STRICT,
};
const GROUP_TYPES: GroupType[] = ['all', 'select', 'indirect', 'ff'];
const MOD_COMMANDS = ['add', 'modify', 'delete'] as const;

// ---------------------------------------------------------------- fixed-layout structs (OF1.3 §7)

/** The fields a FLOW_MOD and a flow-stats entry share, as they are on the wire. */
interface FlowHead {
  table: number;
  priority: number;
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
}
interface FlowModHead extends FlowHead {
  cookieMask: bigint;
  command: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
}
interface FlowStatsHead extends FlowHead {
  durationSec: number;
  durationNsec: number;
  packetCount: bigint;
  byteCount: bigint;
}

/** The Flow model of decoded flow fields: zero timeouts and flags are left out. */
function flowOf(h: FlowHead, match: Match, instructions: Instruction[]): Flow {
  const { table, priority, cookie, idleTimeout, hardTimeout, flags } = h;
  const flow: Flow = { table, priority, cookie, match, instructions, idleTimeout, hardTimeout, flags };
  return omitZeros(flow, ['idleTimeout', 'hardTimeout', 'flags']);
}

/** A message's fields without its type and xid. */
type Body<K extends OFMessageType> = Omit<Extract<OFMessage, { type: K }>, 'type' | 'xid'>;

const FEATURES_REPLY = layout<Body<'features_reply'>>(
  'u64 datapath_id, u32 n_buffers, u8 n_tables, u8 auxiliary_id, pad 2, u32 capabilities, pad 4',
);
const SWITCH_CONFIG = layout<Body<'set_config'>>('u16 flags, u16 miss_send_len');
/** ofp_packet_in up to its match. */
const PACKET_IN = layout<Omit<PacketIn, 'match' | 'data' | 'userdata'>>(
  'u32 buffer_id, u16 total_len, u8 reason, u8 table_id, u64 cookie',
);
/** ofp_flow_removed up to its match. */
const FLOW_REMOVED = layout<Omit<Body<'flow_removed'>, 'match'>>(
  'u64 cookie, u16 priority, u8 reason, u8 table_id, u32 duration_sec, u32 duration_nsec, ' +
    'u16 idle_timeout, u16 hard_timeout, u64 packet_count, u64 byte_count',
);
const PORT_DESC = layout<PortDesc>(
  'u32 port_no, pad 4, mac hw_addr, pad 2, text16 name, u32 config, u32 state, ' +
    'u32 curr, u32 advertised, u32 supported, u32 peer, u32 curr_speed, u32 max_speed',
);
const PORT_MOD = layout<Body<'port_mod'>>(
  'u32 port_no, pad 4, mac hw_addr, pad 2, u32 config, u32 mask, u32 advertise, pad 4',
);
const ROLE = layout<Body<'role_request'>>('u32 role, pad 4, u64 generation_id');
/** ofp_flow_stats_request (and aggregate) up to its match. */
const FLOW_STATS_REQUEST = layout<Required<Omit<FlowStatsRequest, 'match'>>>(
  'u8 table=table_id, pad 3, u32 out_port, u32 out_group, pad 4, u64 cookie, u64 cookie_mask',
);
const SWITCH_DESC = layout<SwitchDesc>(
  'text256 mfr_desc, text256 hw_desc, text256 sw_desc, text32 serial_num, text256 dp_desc',
);
const AGGREGATE_STATS = layout<AggregateStats>('u64 packet_count, u64 byte_count, u32 flow_count, pad 4');
const TABLE_STATS = layout<TableStats>('u8 table_id, pad 3, u32 active_count, u64 lookup_count, u64 matched_count');
const PORT_STATS = layout<PortStats>(
  'u32 port_no, pad 4, u64 rx_packets, u64 tx_packets, u64 rx_bytes, u64 tx_bytes, ' +
    'u64 rx_dropped, u64 tx_dropped, u64 rx_errors, u64 tx_errors, u64 rx_frame_err, u64 rx_over_err, ' +
    'u64 rx_crc_err, u64 collisions, u32 duration_sec, u32 duration_nsec',
);
/** ofp_flow_mod after the header, up to its match. */
const FLOW_MOD = layout<FlowModHead>(
  'u64 cookie, u64 cookie_mask, u8 table=table_id, u8 command, u16 idle_timeout, u16 hard_timeout, ' +
    'u16 priority, u32 buffer_id, u32 out_port, u32 out_group, u16 flags, pad 2',
);
/** ofp_flow_stats up to its match (the length before it is read by readFlowStats). */
const FLOW_STATS = layout<FlowStatsHead>(
  'u8 table=table_id, pad 1, u32 duration_sec, u32 duration_nsec, u16 priority, u16 idle_timeout, ' +
    'u16 hard_timeout, u16 flags, pad 4, u64 cookie, u64 packet_count, u64 byte_count',
);
/** ONF bundle control after the experimenter header. */
const BUNDLE_CONTROL = layout<Body<'bundle_control'>>('u32 bundle_id, u16 ctrlType=type, u16 flags');

function start(w: Writer, type: number, xid: number): number {
  const s = w.pos;
  w.u8(OFP_VERSION).u8(type).u16(0).u32(xid);
  return s;
}

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

function readFlowStatsRequest(r: Reader): FlowStatsRequest {
  const q = readStruct(r, FLOW_STATS_REQUEST, 'flow_stats_request');
  return { ...q, match: decodeMatch(r, 'flow_stats_request.match').match };
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

// ---------------------------------------------------------------- encode

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

/** The OFPT_* code each message type goes out with; the Nicira and ONF ones ride in EXPERIMENTER. */
const MESSAGE_CODE: Record<OFMessageType, number> = {
  hello: OFPT.HELLO,
  error: OFPT.ERROR,
  echo_request: OFPT.ECHO_REQUEST,
  echo_reply: OFPT.ECHO_REPLY,
  features_request: OFPT.FEATURES_REQUEST,
  features_reply: OFPT.FEATURES_REPLY,
  get_config_request: OFPT.GET_CONFIG_REQUEST,
  get_config_reply: OFPT.GET_CONFIG_REPLY,
  set_config: OFPT.SET_CONFIG,
  packet_in: OFPT.PACKET_IN,
  flow_removed: OFPT.FLOW_REMOVED,
  port_status: OFPT.PORT_STATUS,
  packet_out: OFPT.PACKET_OUT,
  flow_mod: OFPT.FLOW_MOD,
  group_mod: OFPT.GROUP_MOD,
  port_mod: OFPT.PORT_MOD,
  meter_mod: OFPT.METER_MOD,
  multipart_request: OFPT.MULTIPART_REQUEST,
  multipart_reply: OFPT.MULTIPART_REPLY,
  barrier_request: OFPT.BARRIER_REQUEST,
  barrier_reply: OFPT.BARRIER_REPLY,
  role_request: OFPT.ROLE_REQUEST,
  role_reply: OFPT.ROLE_REPLY,
  get_async_request: OFPT.GET_ASYNC_REQUEST,
  get_async_reply: OFPT.GET_ASYNC_REPLY,
  set_async: OFPT.SET_ASYNC,
  bundle_control: OFPT.EXPERIMENTER,
  bundle_add: OFPT.EXPERIMENTER,
  nx_set_packet_in_format: OFPT.EXPERIMENTER,
  experimenter: OFPT.EXPERIMENTER,
};

/** The messages that are only a header, by their OFPT_* code. */
const HEADER_ONLY = new Map(
  (['features_request', 'get_config_request', 'barrier_request', 'barrier_reply', 'get_async_request'] as const).map(
    (type) => [MESSAGE_CODE[type], type],
  ),
);

/** Writes the header (length patched later by the caller) and the body; returns where the message starts. */
function writeBody(w: Writer, m: OFMessage, xid: number): number {
  const code = MESSAGE_CODE[m.type];
  if (code === undefined) throw new OpenFlowEncodeError('type', `unknown message type ${m.type}`);
  const s = start(w, code, xid);
  writeMessageBody(w, m, s, xid);
  return s;
}

/** The body after the 8-byte header that starts at `s`. */
function writeMessageBody(w: Writer, m: OFMessage, s: number, xid: number): void {
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
    case 'features_reply':
      writeStruct(w, FEATURES_REPLY, m);
      return;
    case 'get_config_reply':
    case 'set_config':
      writeStruct(w, SWITCH_CONFIG, m);
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
    case 'port_mod':
      writeStruct(w, PORT_MOD, m);
      return;
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
    case 'role_request':
    case 'role_reply':
      writeStruct(w, ROLE, m);
      return;
    case 'get_async_reply':
    case 'set_async':
      writeAsync(w, m);
      return;
    case 'bundle_control':
      w.u32(ONF_VENDOR_ID).u32(ONFT.BUNDLE_CONTROL);
      writeStruct(w, BUNDLE_CONTROL, m);
      return;
    case 'bundle_add': {
      w.u32(ONF_VENDOR_ID).u32(ONFT.BUNDLE_ADD_MESSAGE).u32(m.bundleId).u16(0).u16(m.flags);
      // The embedded message carries the same xid as the bundle-add (OF1.4 §7.3.9.6).
      w.bytes(encodeMessage({ ...m.message, xid }));
      w.pad(8, s);
      return;
    }
    case 'nx_set_packet_in_format':
      w.u32(NX_VENDOR_ID).u32(NXT.SET_PACKET_IN_FORMAT).u32(m.format);
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

// ---------------------------------------------------------------- decode

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
  if (experimenter === ONF_VENDOR_ID && expType === ONFT.BUNDLE_CONTROL) {
    return { type: 'bundle_control', xid, ...readStruct(r, BUNDLE_CONTROL, 'bundle_control') };
  }
  if (experimenter === ONF_VENDOR_ID && expType === ONFT.BUNDLE_ADD_MESSAGE) {
    const bundleId = r.u32('bundle_add.bundle_id');
    r.skip(2, 'bundle_add.pad');
    const flags = r.u16('bundle_add.flags');
    const inner = readHeader(r.buf, r.pos);
    if (inner.length < OFP_HEADER_LEN || inner.length > r.remaining)
      throw new OpenFlowDecodeError('bundle_add.message.length', `${inner.length} invalid`, r.pos);
    const message = decodeMessage(r.bytes(inner.length, 'bundle_add.message'));
    return { type: 'bundle_add', xid, bundleId, flags, message };
  }
  if (experimenter === NX_VENDOR_ID && expType === NXT.PACKET_IN2) {
    return { type: 'packet_in', xid, ...readPacketIn2(r) };
  }
  if (experimenter === NX_VENDOR_ID && expType === NXT.SET_PACKET_IN_FORMAT) {
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
      if (versions.length === 0) versions.push(h.version);
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
    case OFPT.FEATURES_REPLY:
      return done({ type: 'features_reply', xid, ...readStruct(r, FEATURES_REPLY, 'features') });
    case OFPT.GET_CONFIG_REPLY:
    case OFPT.SET_CONFIG: {
      const type = h.type === OFPT.SET_CONFIG ? 'set_config' : 'get_config_reply';
      return done({ type, xid, ...readStruct(r, SWITCH_CONFIG, 'config') });
    }
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
    case OFPT.PORT_MOD:
      return done({ type: 'port_mod', xid, ...readStruct(r, PORT_MOD, 'port_mod') });
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
    case OFPT.ROLE_REQUEST:
    case OFPT.ROLE_REPLY: {
      const type = h.type === OFPT.ROLE_REQUEST ? 'role_request' : 'role_reply';
      return done({ type, xid, ...readStruct(r, ROLE, 'role') });
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

export const MORE_FLAG = OFPMPF_MORE;

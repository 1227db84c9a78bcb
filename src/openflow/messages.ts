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
import { type Action, type Flow, type FlowMod, type Match, OFPP } from './types.js';

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

function writePort(w: Writer, p: PortDesc): void {
  w.u32(p.portNo).zeros(4);
  const mac = new Uint8Array(6);
  let x = p.hwAddr;
  for (let i = 5; i >= 0; i--) {
    mac[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  w.bytes(mac).zeros(2);
  const name = new Uint8Array(16);
  name.set(new TextEncoder().encode(p.name).subarray(0, 15));
  w.bytes(name)
    .u32(p.config)
    .u32(p.state)
    .u32(p.curr)
    .u32(p.advertised)
    .u32(p.supported)
    .u32(p.peer)
    .u32(p.currSpeed)
    .u32(p.maxSpeed);
}

function cstr(b: Uint8Array): string {
  const z = b.indexOf(0);
  return new TextDecoder().decode(z < 0 ? b : b.subarray(0, z));
}

function mac48(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function readPort(r: Reader, what: string): PortDesc {
  const portNo = r.u32(`${what}.port_no`);
  r.skip(4, what);
  const hwAddr = mac48(r.bytes(6, `${what}.hw_addr`));
  r.skip(2, what);
  const name = cstr(r.bytes(16, `${what}.name`));
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32(`${what}.config`),
    state: r.u32(`${what}.state`),
    curr: r.u32(`${what}.curr`),
    advertised: r.u32(`${what}.advertised`),
    supported: r.u32(`${what}.supported`),
    peer: r.u32(`${what}.peer`),
    currSpeed: r.u32(`${what}.curr_speed`),
    maxSpeed: r.u32(`${what}.max_speed`),
  };
}

function writeFlowStatsRequest(w: Writer, q: FlowStatsRequest): void {
  w.u8(u8(q.table ?? OFPTT_ALL, 'table'))
    .zeros(3)
    .u32(q.outPort ?? OFPP.ANY)
    .u32(q.outGroup ?? OFPG_ANY)
    .zeros(4)
    .u64(q.cookie ?? 0n)
    .u64(q.cookieMask ?? 0n);
  encodeMatch(w, q.match ?? {});
}

function readFlowStatsRequest(r: Reader): FlowStatsRequest {
  const table = r.u8('flow_stats_request.table_id');
  r.skip(3, 'flow_stats_request');
  const outPort = r.u32('flow_stats_request.out_port');
  const outGroup = r.u32('flow_stats_request.out_group');
  r.skip(4, 'flow_stats_request');
  const cookie = r.u64('flow_stats_request.cookie');
  const cookieMask = r.u64('flow_stats_request.cookie_mask');
  const { match } = decodeMatch(r, 'flow_stats_request.match');
  return { table, outPort, outGroup, cookie, cookieMask, match };
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

function writeBody(w: Writer, m: OFMessage, xid: number): number {
  switch (m.type) {
    case 'hello': {
      const s = start(w, OFPT.HELLO, xid);
      let bitmap = 0;
      for (const v of m.versions) {
        if (v < 1 || v > 31) throw new OpenFlowEncodeError('versions', `${v} is not a wire version 1..31`);
        bitmap |= 1 << v;
      }
      w.u16(OFPHET_VERSIONBITMAP)
        .u16(8)
        .u32(bitmap >>> 0);
      return s;
    }
    case 'error': {
      const s = start(w, OFPT.ERROR, xid);
      w.u16(m.errType);
      if (m.errType === OFPET_EXPERIMENTER) w.u16(m.errCode).u32(m.experimenter ?? 0);
      else w.u16(m.errCode);
      w.bytes(m.data);
      return s;
    }
    case 'echo_request':
    case 'echo_reply': {
      const s = start(w, m.type === 'echo_request' ? OFPT.ECHO_REQUEST : OFPT.ECHO_REPLY, xid);
      w.bytes(m.data);
      return s;
    }
    case 'features_request':
      return start(w, OFPT.FEATURES_REQUEST, xid);
    case 'features_reply': {
      const s = start(w, OFPT.FEATURES_REPLY, xid);
      w.u64(m.datapathId).u32(m.nBuffers).u8(m.nTables).u8(m.auxiliaryId).zeros(2).u32(m.capabilities).u32(0);
      return s;
    }
    case 'get_config_request':
      return start(w, OFPT.GET_CONFIG_REQUEST, xid);
    case 'get_config_reply':
    case 'set_config': {
      const s = start(w, m.type === 'set_config' ? OFPT.SET_CONFIG : OFPT.GET_CONFIG_REPLY, xid);
      w.u16(m.flags).u16(m.missSendLen);
      return s;
    }
    case 'packet_in': {
      const s = start(w, OFPT.PACKET_IN, xid);
      w.u32(m.bufferId).u16(m.totalLen).u8(m.reason).u8(m.tableId).u64(m.cookie);
      encodeMatch(w, m.match);
      w.zeros(2).bytes(m.data);
      return s;
    }
    case 'flow_removed': {
      const s = start(w, OFPT.FLOW_REMOVED, xid);
      w.u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.tableId).u32(m.durationSec).u32(m.durationNsec);
      w.u16(m.idleTimeout).u16(m.hardTimeout).u64(m.packetCount).u64(m.byteCount);
      encodeMatch(w, m.match);
      return s;
    }
    case 'port_status': {
      const s = start(w, OFPT.PORT_STATUS, xid);
      w.u8(m.reason).zeros(7);
      writePort(w, m.port);
      return s;
    }
    case 'packet_out': {
      const s = start(w, OFPT.PACKET_OUT, xid);
      w.u32(m.bufferId ?? OFP_NO_BUFFER)
        .u32(m.inPort)
        .u16(0)
        .zeros(6);
      const a0 = w.pos;
      encodeActions(w, m.actions, 'actions');
      w.setU16(s + 16, w.pos - a0);
      w.bytes(m.data);
      return s;
    }
    case 'flow_mod': {
      const s = start(w, OFPT.FLOW_MOD, xid);
      writeFlowMod(w, m);
      return s;
    }
    case 'group_mod': {
      const s = start(w, OFPT.GROUP_MOD, xid);
      const cmd = MOD_COMMANDS.indexOf(m.command);
      const gt = GROUP_TYPES.indexOf(m.groupType);
      if (cmd < 0) throw new OpenFlowEncodeError('command', `unknown group-mod command ${m.command}`);
      if (gt < 0) throw new OpenFlowEncodeError('groupType', `unknown group type ${m.groupType}`);
      w.u16(cmd).u8(gt).u8(0).u32(u32(m.groupId, 'groupId'));
      writeBuckets(w, m.buckets, 'buckets');
      return s;
    }
    case 'port_mod': {
      const s = start(w, OFPT.PORT_MOD, xid);
      w.u32(m.portNo).zeros(4);
      for (let i = 5; i >= 0; i--) w.u8(Number((m.hwAddr >> BigInt(8 * i)) & 0xffn));
      w.zeros(2).u32(m.config).u32(m.mask).u32(m.advertise).zeros(4);
      return s;
    }
    case 'meter_mod': {
      const s = start(w, OFPT.METER_MOD, xid);
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
      return s;
    }
    case 'multipart_request': {
      const s = start(w, OFPT.MULTIPART_REQUEST, xid);
      const t = OFPMP[m.mpType.toUpperCase() as keyof typeof OFPMP];
      w.u16(t)
        .u16(m.flags ?? 0)
        .zeros(4);
      if (m.mpType === 'flow' || m.mpType === 'aggregate') writeFlowStatsRequest(w, m.request);
      else if (m.mpType === 'port_stats') w.u32(m.portNo).zeros(4);
      return s;
    }
    case 'multipart_reply': {
      const s = start(w, OFPT.MULTIPART_REPLY, xid);
      const b = m.body;
      const t = b.mpType === 'other' ? b.rawType : OFPMP[b.mpType.toUpperCase() as keyof typeof OFPMP];
      w.u16(t).u16(m.flags).zeros(4);
      writeReplyBody(w, b);
      return s;
    }
    case 'barrier_request':
      return start(w, OFPT.BARRIER_REQUEST, xid);
    case 'barrier_reply':
      return start(w, OFPT.BARRIER_REPLY, xid);
    case 'role_request':
    case 'role_reply': {
      const s = start(w, m.type === 'role_request' ? OFPT.ROLE_REQUEST : OFPT.ROLE_REPLY, xid);
      w.u32(m.role).zeros(4).u64(m.generationId);
      return s;
    }
    case 'get_async_request':
      return start(w, OFPT.GET_ASYNC_REQUEST, xid);
    case 'get_async_reply':
    case 'set_async': {
      const s = start(w, m.type === 'set_async' ? OFPT.SET_ASYNC : OFPT.GET_ASYNC_REPLY, xid);
      writeAsync(w, m);
      return s;
    }
    case 'bundle_control': {
      const s = start(w, OFPT.EXPERIMENTER, xid);
      w.u32(ONF_VENDOR_ID).u32(ONFT.BUNDLE_CONTROL).u32(m.bundleId).u16(m.ctrlType).u16(m.flags);
      return s;
    }
    case 'bundle_add': {
      const s = start(w, OFPT.EXPERIMENTER, xid);
      w.u32(ONF_VENDOR_ID).u32(ONFT.BUNDLE_ADD_MESSAGE).u32(m.bundleId).u16(0).u16(m.flags);
      // The embedded message carries the same xid as the bundle-add (OF1.4 §7.3.9.6).
      w.bytes(encodeMessage({ ...m.message, xid }));
      w.pad(8, s);
      return s;
    }
    case 'nx_set_packet_in_format': {
      const s = start(w, OFPT.EXPERIMENTER, xid);
      w.u32(NX_VENDOR_ID).u32(NXT.SET_PACKET_IN_FORMAT).u32(m.format);
      return s;
    }
    case 'experimenter': {
      const s = start(w, OFPT.EXPERIMENTER, xid);
      w.u32(m.experimenter).u32(m.expType).bytes(m.data);
      return s;
    }
  }
}

function writeReplyBody(w: Writer, b: MultipartReplyBody): void {
  const str = (s: string, n: number) => {
    const a = new Uint8Array(n);
    a.set(new TextEncoder().encode(s).subarray(0, n - 1));
    w.bytes(a);
  };
  switch (b.mpType) {
    case 'desc':
      str(b.desc.mfrDesc, 256);
      str(b.desc.hwDesc, 256);
      str(b.desc.swDesc, 256);
      str(b.desc.serialNum, 32);
      str(b.desc.dpDesc, 256);
      return;
    case 'flow':
      for (const fs of b.flows) {
        const s = w.pos;
        const f = fs.flow;
        w.u16(0).u8(f.table).u8(0).u32(fs.durationSec).u32(fs.durationNsec).u16(f.priority);
        w.u16(f.idleTimeout ?? 0)
          .u16(f.hardTimeout ?? 0)
          .u16(f.flags ?? 0)
          .zeros(4)
          .u64(f.cookie)
          .u64(fs.packetCount)
          .u64(fs.byteCount);
        encodeMatch(w, f.match);
        encodeInstructions(w, f.instructions);
        w.setU16(s, w.pos - s);
      }
      return;
    case 'aggregate':
      w.u64(b.stats.packetCount).u64(b.stats.byteCount).u32(b.stats.flowCount).zeros(4);
      return;
    case 'table':
      for (const t of b.tables) w.u8(t.tableId).zeros(3).u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount);
      return;
    case 'port_stats':
      for (const p of b.ports) {
        w.u32(p.portNo).zeros(4);
        for (const v of [
          p.rxPackets,
          p.txPackets,
          p.rxBytes,
          p.txBytes,
          p.rxDropped,
          p.txDropped,
          p.rxErrors,
          p.txErrors,
          p.rxFrameErr,
          p.rxOverErr,
          p.rxCrcErr,
          p.collisions,
        ])
          w.u64(v);
        w.u32(p.durationSec).u32(p.durationNsec);
      }
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
      for (const p of b.ports) writePort(w, p);
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
  const cookie = r.u64('flow_mod.cookie');
  const cookieMask = r.u64('flow_mod.cookie_mask');
  const table = r.u8('flow_mod.table_id');
  const cmd = r.u8('flow_mod.command');
  const command = FLOW_MOD_COMMANDS[cmd];
  if (!command) throw new OpenFlowDecodeError('flow_mod.command', `unknown command ${cmd}`, r.pos - 1);
  const idle = r.u16('flow_mod.idle_timeout');
  const hard = r.u16('flow_mod.hard_timeout');
  const priority = r.u16('flow_mod.priority');
  const bufferId = r.u32('flow_mod.buffer_id');
  const outPort = r.u32('flow_mod.out_port');
  const outGroup = r.u32('flow_mod.out_group');
  const flags = r.u16('flow_mod.flags');
  r.skip(2, 'flow_mod.pad');
  const { match } = decodeMatch(r, 'flow_mod.match');
  const instructions = decodeInstructions(r, 'flow_mod.instructions');
  const flow: Flow = { table, priority, cookie, match, instructions };
  if (idle) flow.idleTimeout = idle;
  if (hard) flow.hardTimeout = hard;
  if (flags) flow.flags = flags;
  const fm: FlowModMessage = { command, flow };
  if (cookieMask) fm.cookieMask = cookieMask;
  if (outPort !== OFPP.ANY) fm.outPort = outPort;
  if (outGroup !== OFPG_ANY) fm.outGroup = outGroup;
  if (bufferId !== OFP_NO_BUFFER) fm.bufferId = bufferId;
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
    const table = b.u8(`${what}.table_id`);
    b.skip(1, what);
    const durationSec = b.u32(`${what}.duration_sec`);
    const durationNsec = b.u32(`${what}.duration_nsec`);
    const priority = b.u16(`${what}.priority`);
    const idle = b.u16(`${what}.idle_timeout`);
    const hard = b.u16(`${what}.hard_timeout`);
    const flags = b.u16(`${what}.flags`);
    b.skip(4, what);
    const cookie = b.u64(`${what}.cookie`);
    const packetCount = b.u64(`${what}.packet_count`);
    const byteCount = b.u64(`${what}.byte_count`);
    const { match, unknown } = decodeMatch(b, `${what}.match`);
    const instructions = decodeInstructions(b, `${what}.instructions`);
    const flow: Flow = { table, priority, cookie, match, instructions };
    if (idle) flow.idleTimeout = idle;
    if (hard) flow.hardTimeout = hard;
    if (flags) flow.flags = flags;
    const fs: FlowStats = { flow, durationSec, durationNsec, packetCount, byteCount };
    if (unknown.length) fs.unknownMatch = unknown;
    out.push(fs);
  }
  return out;
}

function readReply(r: Reader, t: number): MultipartReplyBody {
  switch (t) {
    case OFPMP.DESC:
      return {
        mpType: 'desc',
        desc: {
          mfrDesc: cstr(r.bytes(256, 'desc.mfr_desc')),
          hwDesc: cstr(r.bytes(256, 'desc.hw_desc')),
          swDesc: cstr(r.bytes(256, 'desc.sw_desc')),
          serialNum: cstr(r.bytes(32, 'desc.serial_num')),
          dpDesc: cstr(r.bytes(256, 'desc.dp_desc')),
        },
      };
    case OFPMP.FLOW:
      return { mpType: 'flow', flows: readFlowStats(r) };
    case OFPMP.AGGREGATE: {
      const stats = {
        packetCount: r.u64('aggregate.packet_count'),
        byteCount: r.u64('aggregate.byte_count'),
        flowCount: r.u32('aggregate.flow_count'),
      };
      r.skip(4, 'aggregate.pad');
      return { mpType: 'aggregate', stats };
    }
    case OFPMP.TABLE: {
      const tables: TableStats[] = [];
      while (r.remaining > 0) {
        const tableId = r.u8('table_stats.table_id');
        r.skip(3, 'table_stats.pad');
        tables.push({
          tableId,
          activeCount: r.u32('table_stats.active_count'),
          lookupCount: r.u64('table_stats.lookup_count'),
          matchedCount: r.u64('table_stats.matched_count'),
        });
      }
      return { mpType: 'table', tables };
    }
    case OFPMP.PORT_STATS: {
      const ports: PortStats[] = [];
      while (r.remaining > 0) {
        const portNo = r.u32('port_stats.port_no');
        r.skip(4, 'port_stats.pad');
        const c = Array.from({ length: 12 }, (_, i) => r.u64(`port_stats.counter${i}`));
        ports.push({
          portNo,
          rxPackets: c[0] as bigint,
          txPackets: c[1] as bigint,
          rxBytes: c[2] as bigint,
          txBytes: c[3] as bigint,
          rxDropped: c[4] as bigint,
          txDropped: c[5] as bigint,
          rxErrors: c[6] as bigint,
          txErrors: c[7] as bigint,
          rxFrameErr: c[8] as bigint,
          rxOverErr: c[9] as bigint,
          rxCrcErr: c[10] as bigint,
          collisions: c[11] as bigint,
          durationSec: r.u32('port_stats.duration_sec'),
          durationNsec: r.u32('port_stats.duration_nsec'),
        });
      }
      return { mpType: 'port_stats', ports };
    }
    case OFPMP.GROUP_DESC: {
      const groups: GroupDesc[] = [];
      while (r.remaining > 0) {
        const at = r.pos;
        const len = r.u16('group_desc.length');
        if (len < 8) throw new OpenFlowDecodeError('group_desc.length', `${len} < 8`, at);
        r.pos = at;
        const b = r.sub(len, 'group_desc');
        b.skip(2, 'group_desc');
        const gt = GROUP_TYPES[b.u8('group_desc.type')];
        if (!gt) throw new OpenFlowDecodeError('group_desc.type', 'unknown group type', at);
        b.skip(1, 'group_desc.pad');
        groups.push({
          groupType: gt,
          groupId: b.u32('group_desc.group_id'),
          buckets: readBuckets(b, 'group_desc.buckets'),
        });
      }
      return { mpType: 'group_desc', groups };
    }
    case OFPMP.PORT_DESC: {
      const ports: PortDesc[] = [];
      while (r.remaining > 0) ports.push(readPort(r, `port_desc[${ports.length}]`));
      return { mpType: 'port_desc', ports };
    }
    default:
      return { mpType: 'other', rawType: t, body: r.copyBytes(r.remaining, 'multipart.body') };
  }
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
    const bundleId = r.u32('bundle_control.bundle_id');
    const ctrlType = r.u16('bundle_control.type');
    const flags = r.u16('bundle_control.flags');
    return { type: 'bundle_control', xid, bundleId, ctrlType, flags };
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
    case OFPT.FEATURES_REQUEST:
      return done({ type: 'features_request', xid });
    case OFPT.FEATURES_REPLY: {
      const datapathId = r.u64('features.datapath_id');
      const nBuffers = r.u32('features.n_buffers');
      const nTables = r.u8('features.n_tables');
      const auxiliaryId = r.u8('features.auxiliary_id');
      r.skip(2, 'features.pad');
      const capabilities = r.u32('features.capabilities');
      r.skip(4, 'features.reserved');
      return done({ type: 'features_reply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities });
    }
    case OFPT.GET_CONFIG_REQUEST:
      return done({ type: 'get_config_request', xid });
    case OFPT.GET_CONFIG_REPLY:
    case OFPT.SET_CONFIG: {
      const flags = r.u16('config.flags');
      const missSendLen = r.u16('config.miss_send_len');
      return done({ type: h.type === OFPT.SET_CONFIG ? 'set_config' : 'get_config_reply', xid, flags, missSendLen });
    }
    case OFPT.PACKET_IN: {
      const bufferId = r.u32('packet_in.buffer_id');
      const totalLen = r.u16('packet_in.total_len');
      const reason = r.u8('packet_in.reason');
      const tableId = r.u8('packet_in.table_id');
      const cookie = r.u64('packet_in.cookie');
      const { match } = decodeMatch(r, 'packet_in.match');
      r.skip(2, 'packet_in.pad');
      const data = r.copyBytes(r.remaining, 'packet_in.data');
      return { type: 'packet_in', xid, bufferId, totalLen, reason, tableId, cookie, match, data };
    }
    case OFPT.FLOW_REMOVED: {
      const cookie = r.u64('flow_removed.cookie');
      const priority = r.u16('flow_removed.priority');
      const reason = r.u8('flow_removed.reason');
      const tableId = r.u8('flow_removed.table_id');
      const durationSec = r.u32('flow_removed.duration_sec');
      const durationNsec = r.u32('flow_removed.duration_nsec');
      const idleTimeout = r.u16('flow_removed.idle_timeout');
      const hardTimeout = r.u16('flow_removed.hard_timeout');
      const packetCount = r.u64('flow_removed.packet_count');
      const byteCount = r.u64('flow_removed.byte_count');
      const { match } = decodeMatch(r, 'flow_removed.match');
      return done({
        type: 'flow_removed',
        xid,
        cookie,
        priority,
        reason,
        tableId,
        durationSec,
        durationNsec,
        idleTimeout,
        hardTimeout,
        packetCount,
        byteCount,
        match,
      });
    }
    case OFPT.PORT_STATUS: {
      const reason = r.u8('port_status.reason');
      r.skip(7, 'port_status.pad');
      return done({ type: 'port_status', xid, reason, port: readPort(r, 'port_status.desc') });
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
    case OFPT.PORT_MOD: {
      const portNo = r.u32('port_mod.port_no');
      r.skip(4, 'port_mod.pad');
      const hwAddr = mac48(r.bytes(6, 'port_mod.hw_addr'));
      r.skip(2, 'port_mod.pad2');
      const config = r.u32('port_mod.config');
      const mask = r.u32('port_mod.mask');
      const advertise = r.u32('port_mod.advertise');
      r.skip(4, 'port_mod.pad3');
      return done({ type: 'port_mod', xid, portNo, hwAddr, config, mask, advertise });
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
    case OFPT.BARRIER_REQUEST:
      return done({ type: 'barrier_request', xid });
    case OFPT.BARRIER_REPLY:
      return done({ type: 'barrier_reply', xid });
    case OFPT.ROLE_REQUEST:
    case OFPT.ROLE_REPLY: {
      const role = r.u32('role.role');
      r.skip(4, 'role.pad');
      const generationId = r.u64('role.generation_id');
      return done({ type: h.type === OFPT.ROLE_REQUEST ? 'role_request' : 'role_reply', xid, role, generationId });
    }
    case OFPT.GET_ASYNC_REQUEST:
      return done({ type: 'get_async_request', xid });
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

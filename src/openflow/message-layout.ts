// What message encode and decode share: the header, the OFPT_* codes, the command tables, the fixed-layout structs,
// which messages are one struct and the experimenter ids of the Nicira and ONF ones.
import { Reader, type Writer } from './buffer.js';
import { NX_VENDOR_ID, NXT, OFP_VERSION, OFPFC, OFPMPF_MORE, OFPT, ONF_VENDOR_ID, ONFT } from './constants.js';
import type {
  AggregateStats,
  FlowModCommand,
  FlowStatsRequest,
  GroupType,
  OFMessage,
  OFMessageType,
  PacketIn,
  PortDesc,
  PortStats,
  SwitchDesc,
  TableStats,
} from './message-model.js';
import { type Layout, layout, omitZeros } from './struct.js';
import type { Flow, Instruction, Match } from './types.js';

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

/** Writes an OpenFlow 1.3 header with length 0 (the caller patches it once the body is written); where it starts. */
export function writeHeader(w: Writer, type: number, xid: number): number {
  const s = w.pos;
  w.u8(OFP_VERSION).u8(type).u16(0).u32(xid);
  return s;
}

export const FLOW_MOD_COMMANDS: FlowModCommand[] = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'];
export const FLOW_MOD_COMMAND_CODE: Record<string, number | undefined> = {
  add: OFPFC.ADD,
  modify: OFPFC.MODIFY,
  modify_strict: OFPFC.MODIFY_STRICT,
  delete: OFPFC.DELETE,
  delete_strict: OFPFC.DELETE_STRICT,
};
export const GROUP_TYPES: GroupType[] = ['all', 'select', 'indirect', 'ff'];
export const MOD_COMMANDS = ['add', 'modify', 'delete'] as const;

// ---------------------------------------------------------------- fixed-layout structs (OF1.3 §7)

/** The fields a FLOW_MOD and a flow-stats entry share, as they are on the wire. */
export interface FlowHead {
  table: number;
  priority: number;
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
}
export interface FlowModHead extends FlowHead {
  cookieMask: bigint;
  command: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
}
export interface FlowStatsHead extends FlowHead {
  durationSec: number;
  durationNsec: number;
  packetCount: bigint;
  byteCount: bigint;
}

/** The Flow model of decoded flow fields: zero timeouts and flags are left out. */
export function flowOf(h: FlowHead, match: Match, instructions: Instruction[]): Flow {
  const { table, priority, cookie, idleTimeout, hardTimeout, flags } = h;
  const flow: Flow = { table, priority, cookie, match, instructions, idleTimeout, hardTimeout, flags };
  return omitZeros(flow, ['idleTimeout', 'hardTimeout', 'flags']);
}

/** A message's fields without its type and xid. */
export type Body<K extends OFMessageType> = Omit<Extract<OFMessage, { type: K }>, 'type' | 'xid'>;

export const FEATURES_REPLY = layout<Body<'features_reply'>>(
  'u64 datapath_id, u32 n_buffers, u8 n_tables, u8 auxiliary_id, pad 2, u32 capabilities, pad 4',
);
export const SWITCH_CONFIG = layout<Body<'set_config'>>('u16 flags, u16 miss_send_len');
/** ofp_packet_in up to its match. */
export const PACKET_IN = layout<Omit<PacketIn, 'match' | 'data' | 'userdata'>>(
  'u32 buffer_id, u16 total_len, u8 reason, u8 table_id, u64 cookie',
);
/** ofp_flow_removed up to its match. */
export const FLOW_REMOVED = layout<Omit<Body<'flow_removed'>, 'match'>>(
  'u64 cookie, u16 priority, u8 reason, u8 table_id, u32 duration_sec, u32 duration_nsec, ' +
    'u16 idle_timeout, u16 hard_timeout, u64 packet_count, u64 byte_count',
);
export const PORT_DESC = layout<PortDesc>(
  'u32 port_no, pad 4, mac hw_addr, pad 2, text16 name, u32 config, u32 state, ' +
    'u32 curr, u32 advertised, u32 supported, u32 peer, u32 curr_speed, u32 max_speed',
);
export const PORT_MOD = layout<Body<'port_mod'>>(
  'u32 port_no, pad 4, mac hw_addr, pad 2, u32 config, u32 mask, u32 advertise, pad 4',
);
export const ROLE = layout<Body<'role_request'>>('u32 role, pad 4, u64 generation_id');
/** ofp_flow_stats_request (and aggregate) up to its match. */
export const FLOW_STATS_REQUEST = layout<Required<Omit<FlowStatsRequest, 'match'>>>(
  'u8 table=table_id, pad 3, u32 out_port, u32 out_group, pad 4, u64 cookie, u64 cookie_mask',
);
export const SWITCH_DESC = layout<SwitchDesc>(
  'text256 mfr_desc, text256 hw_desc, text256 sw_desc, text32 serial_num, text256 dp_desc',
);
export const AGGREGATE_STATS = layout<AggregateStats>('u64 packet_count, u64 byte_count, u32 flow_count, pad 4');
export const TABLE_STATS = layout<TableStats>(
  'u8 table_id, pad 3, u32 active_count, u64 lookup_count, u64 matched_count',
);
export const PORT_STATS = layout<PortStats>(
  'u32 port_no, pad 4, u64 rx_packets, u64 tx_packets, u64 rx_bytes, u64 tx_bytes, ' +
    'u64 rx_dropped, u64 tx_dropped, u64 rx_errors, u64 tx_errors, u64 rx_frame_err, u64 rx_over_err, ' +
    'u64 rx_crc_err, u64 collisions, u32 duration_sec, u32 duration_nsec',
);
/** ofp_flow_mod after the header, up to its match. */
export const FLOW_MOD = layout<FlowModHead>(
  'u64 cookie, u64 cookie_mask, u8 table=table_id, u8 command, u16 idle_timeout, u16 hard_timeout, ' +
    'u16 priority, u32 buffer_id, u32 out_port, u32 out_group, u16 flags, pad 2',
);
/** ofp_flow_stats up to its match (the length before it is read by readFlowStats). */
export const FLOW_STATS = layout<FlowStatsHead>(
  'u8 table=table_id, pad 1, u32 duration_sec, u32 duration_nsec, u16 priority, u16 idle_timeout, ' +
    'u16 hard_timeout, u16 flags, pad 4, u64 cookie, u64 packet_count, u64 byte_count',
);
/** ONF bundle control after the experimenter header. */
export const BUNDLE_CONTROL = layout<Body<'bundle_control'>>('u32 bundle_id, u16 ctrlType=type, u16 flags');

// ---------------------------------------------------------------- message codes

/** The OFPT_* code each message type goes out with; the Nicira and ONF ones ride in EXPERIMENTER. */
export const MESSAGE_CODE: Record<OFMessageType, number> = {
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
export const HEADER_ONLY = new Map(
  (['features_request', 'get_config_request', 'barrier_request', 'barrier_reply', 'get_async_request'] as const).map(
    (type) => [MESSAGE_CODE[type], type],
  ),
);

/**
 * The messages whose body is one fixed struct, by their OFPT_* code: the model's type, the struct, and the name
 * a decode error gives its fields. Encode and decode both go by this table.
 */
export const STRUCT_BODY = new Map(
  (
    [
      ['features_reply', FEATURES_REPLY, 'features'],
      ['get_config_reply', SWITCH_CONFIG, 'config'],
      ['set_config', SWITCH_CONFIG, 'config'],
      ['port_mod', PORT_MOD, 'port_mod'],
      ['role_request', ROLE, 'role'],
      ['role_reply', ROLE, 'role'],
    ] as const
  ).map(([type, body, what]) => [MESSAGE_CODE[type], { type, layout: body as Layout<object>, what }]),
);

/**
 * The Nicira and ONF messages of the model, each as the experimenter (vendor) id and the vendor's message type
 * it rides in an OFPT_EXPERIMENTER with. packet_in comes this way only from the switch (NXT_PACKET_IN2).
 */
export const EXPERIMENTER_CODE = {
  bundle_control: [ONF_VENDOR_ID, ONFT.BUNDLE_CONTROL],
  bundle_add: [ONF_VENDOR_ID, ONFT.BUNDLE_ADD_MESSAGE],
  nx_set_packet_in_format: [NX_VENDOR_ID, NXT.SET_PACKET_IN_FORMAT],
  packet_in: [NX_VENDOR_ID, NXT.PACKET_IN2],
} as const;
export type ExperimenterType = keyof typeof EXPERIMENTER_CODE;

/** The model's type for an experimenter message, or undefined when it is not one vnet reads. */
export function experimenterType(experimenter: number, expType: number): ExperimenterType | undefined {
  return (Object.keys(EXPERIMENTER_CODE) as ExperimenterType[]).find(
    (t) => EXPERIMENTER_CODE[t][0] === experimenter && EXPERIMENTER_CODE[t][1] === expType,
  );
}

/** Writes the experimenter id and message type of `type` (the start of its body after the OpenFlow header). */
export function writeExperimenter(w: Writer, type: ExperimenterType): Writer {
  const [experimenter, expType] = EXPERIMENTER_CODE[type];
  return w.u32(experimenter).u32(expType);
}

export const MORE_FLAG = OFPMPF_MORE;

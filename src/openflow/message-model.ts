// The OpenFlow 1.3 message model: the OFMessage union and the bodies it carries (no wire code here).
import type { Action, Flow, FlowMod, Match } from './types.js';

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

// Small builders for pipeline flows: tables by name, EtherType/IP protocol constants, common action shapes.
import type { Action, FieldName, FieldRange, FieldValue, Flow, Instruction, Match } from '../../openflow/types.js';
import { CT_ZONE, FROM_TUNNEL, NETWORK_KEY_MASK, OUT_PORT } from './registers.js';
import { TABLE, type TableName } from './tables.js';

/** EtherTypes (IEEE 802 numbers). */
export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_IPV6 = 0x86dd;
/** IP protocol numbers (IANA). */
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** ARP opcodes (RFC 826). */
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
/** ICMP types (RFC 792). */
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
/** BOOTP/DHCP ports (RFC 2131). */
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** OFPCML_NO_BUFFER: send the whole packet to the controller. */
export const OFPCML_NO_BUFFER = 0xffff;

/** Conntrack state bits (ovs-fields(7) ct_state). */
export const CS = {
  new: 0x01,
  est: 0x02,
  rel: 0x04,
  rpl: 0x08,
  inv: 0x10,
  trk: 0x20,
} as const;

export function flow(
  table: TableName,
  priority: number,
  cookie: bigint,
  match: Match,
  instructions: Instruction[],
): Flow {
  return { table: TABLE[table], priority, cookie, match, instructions };
}

export function exact(value: FieldValue): { value: FieldValue } {
  return { value };
}

export function goto(t: TableName): Instruction {
  return { type: 'goto_table', table: TABLE[t] };
}

export function apply(...actions: Action[]): Instruction {
  return { type: 'apply_actions', actions };
}

export function setField(field: FieldName, value: FieldValue): Action {
  return { type: 'set_field', field, value };
}

export function output(port: number): Action {
  return { type: 'output', port };
}

export function range(r: FieldRange): FieldRange {
  return { field: r.field, start: r.start, nBits: r.nBits };
}

export function move(src: FieldRange, dst: FieldRange): Action {
  return { type: 'move', src, dst };
}

export function whole(field: FieldName, nBits: number): FieldRange {
  return { field, start: 0, nBits };
}

/** write_metadata of a network key into NETWORK_KEY. */
export function writeNetwork(key: number): Instruction {
  return { type: 'write_metadata', value: BigInt(key), mask: NETWORK_KEY_MASK };
}

export function loadZone(zone: number): Action {
  return { type: 'load', dst: range(CT_ZONE), value: zone };
}

export function loadFromTunnel(): Action {
  return { type: 'load', dst: range(FROM_TUNNEL), value: 1 };
}

export function loadOutPort(port: number): Action {
  return { type: 'load', dst: range(OUT_PORT), value: port };
}

/** resubmit(,table): same in_port, another (later) table. */
export function resubmit(t: TableName): Action {
  return { type: 'resubmit', table: TABLE[t] };
}

/** load:value->field[bits] of a declared register/ct_mark field. */
export function load(r: FieldRange, value: number): Action {
  return { type: 'load', dst: range(r), value };
}

/** ct() in the current network's zone; `exec` runs on the entry when committing (e.g. ct_mark loads). */
export function ct(opts: { commit?: boolean; table?: TableName; exec?: Action[] }): Action {
  const a: Action = { type: 'ct', zone: range(CT_ZONE) };
  if (opts.commit) a.commit = true;
  if (opts.table) a.table = TABLE[opts.table];
  if (opts.exec?.length) a.exec = opts.exec;
  return a;
}

/** Priority of a flow with no match: table-miss. */
export const PRIO_MISS = 0;

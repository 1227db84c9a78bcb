// Small builders for pipeline flows: tables by name, EtherType/IP protocol constants, common action shapes.
import type { Action, FieldName, FieldRange, FieldValue, Flow, Instruction, Match } from '../../openflow/types.js';
import { ARPOP, DHCP_PORT, ETH_P_8021Q, ICMP_TYPE, IPPROTO } from '../../packet/index.js';
import { CT_ZONE, FROM_TUNNEL, NETWORK_KEY_MASK, OUT_PORT } from './registers.js';
import { TABLE, type TableName } from './tables.js';

// The protocol numbers flows match on, under the names the flow builders use; the codecs own the values.
export { OFPCML_NO_BUFFER } from '../../openflow/index.js';
export {
  ETH_P_ARP as ETH_TYPE_ARP,
  ETH_P_IP as ETH_TYPE_IP,
  ETH_P_IPV6 as ETH_TYPE_IPV6,
} from '../../packet/index.js';
export const { SERVER: DHCP_SERVER_PORT, CLIENT: DHCP_CLIENT_PORT } = DHCP_PORT;
export const { REQUEST: ARPOP_REQUEST, REPLY: ARPOP_REPLY } = ARPOP;
export const { ECHO: ICMP_ECHO_REQUEST, ECHO_REPLY: ICMP_ECHO_REPLY } = ICMP_TYPE;
export const { ICMP: IPPROTO_ICMP, TCP: IPPROTO_TCP, UDP: IPPROTO_UDP } = IPPROTO;

/** Conntrack state bits (ovs-fields(7) ct_state). */
export const CS = {
  new: 0x01,
  est: 0x02,
  rel: 0x04,
  rpl: 0x08,
  inv: 0x10,
  trk: 0x20,
  /** The packet's source was translated by this ct action's nat (or an earlier one of its connection). */
  snat: 0x40,
  dnat: 0x80,
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

/**
 * ct() in the current network's zone (or `zone`, e.g. a gateway's); `exec` runs on the entry when committing
 * (e.g. ct_mark loads); `nat` translates (src: a new connection from that address; none: as the connection was).
 */
export function ct(opts: {
  commit?: boolean;
  table?: TableName;
  exec?: Action[];
  zone?: number;
  /** Source NAT to `src`, its source ports from `ports` (both ends included) when given, else OVS's choice. */
  nat?: { src: number; ports?: { min: number; max: number } | undefined } | 'reverse';
}): Action {
  const a: Action = { type: 'ct', zone: opts.zone ?? range(CT_ZONE) };
  if (opts.commit) a.commit = true;
  if (opts.nat === 'reverse') a.nat = { kind: 'none' };
  else if (opts.nat) {
    const ports = opts.nat.ports;
    a.nat = { kind: 'src', ipMin: opts.nat.src, ...(ports ? { portMin: ports.min, portMax: ports.max } : {}) };
  }
  if (opts.table) a.table = TABLE[opts.table];
  if (opts.exec?.length) a.exec = opts.exec;
  return a;
}

/** OFPVID_PRESENT: the vlan_vid bit saying a tag is there (OpenFlow 1.3 §7.2.3.7). */
export const VLAN_PRESENT = 0x1000;

/** Push an 802.1Q tag with VLAN id `vlan` (the uplink's physical networks, a sub-interface's trunk). */
export function pushVlan(vlan: number): Action[] {
  return [
    { type: 'push_vlan', ethertype: ETH_P_8021Q },
    { type: 'set_field', field: 'vlan_vid', value: VLAN_PRESENT | vlan },
  ];
}

/** Priority of a flow with no match: table-miss. */
export const PRIO_MISS = 0;

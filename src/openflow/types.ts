// The structured flow model shared by the codec (src/openflow) and flow generation (src/agent).
// Values are numbers (<= 32 bits) or bigints (wider fields, MACs as 48-bit ints, cookies);
// the field registry (fields.ts) knows each field's width and how to print it.

/** Match and set-field names, spelled as in ovs-fields(7). The registry lists every one. */
export type FieldName =
  | 'in_port'
  | 'in_phy_port'
  | 'metadata'
  | 'eth_dst'
  | 'eth_src'
  | 'eth_type'
  | 'vlan_vid'
  | 'vlan_pcp'
  | 'ip_dscp'
  | 'ip_ecn'
  | 'ip_proto'
  | 'ipv4_src'
  | 'ipv4_dst'
  | 'tcp_src'
  | 'tcp_dst'
  | 'udp_src'
  | 'udp_dst'
  | 'sctp_src'
  | 'sctp_dst'
  | 'icmpv4_type'
  | 'icmpv4_code'
  | 'arp_op'
  | 'arp_spa'
  | 'arp_tpa'
  | 'arp_sha'
  | 'arp_tha'
  | 'ipv6_src'
  | 'ipv6_dst'
  | 'ipv6_flabel'
  | 'icmpv6_type'
  | 'icmpv6_code'
  | 'ipv6_nd_target'
  | 'ipv6_nd_sll'
  | 'ipv6_nd_tll'
  | 'mpls_label'
  | 'mpls_tc'
  | 'mpls_bos'
  | 'pbb_isid'
  | 'tunnel_id'
  | 'ipv6_exthdr'
  | 'tcp_flags'
  | 'nw_ttl'
  | 'reg0'
  | 'reg1'
  | 'reg2'
  | 'reg3'
  | 'reg4'
  | 'reg5'
  | 'reg6'
  | 'reg7'
  | 'reg8'
  | 'reg9'
  | 'reg10'
  | 'reg11'
  | 'reg12'
  | 'reg13'
  | 'reg14'
  | 'reg15'
  | 'xreg0'
  | 'xreg1'
  | 'xreg2'
  | 'xreg3'
  | 'xreg4'
  | 'xreg5'
  | 'xreg6'
  | 'xreg7'
  | 'tun_ipv4_src'
  | 'tun_ipv4_dst'
  | 'tun_flags'
  | 'ct_state'
  | 'ct_zone'
  | 'ct_mark'
  | 'ct_label'
  | 'ct_nw_proto'
  | 'ct_ipv4_src'
  | 'ct_ipv4_dst'
  | 'ct_tp_src'
  | 'ct_tp_dst'
  | 'pkt_mark'
  | 'conj_id';

export type FieldValue = number | bigint;

/** One match entry; `mask` absent means exact match. */
export interface MatchEntry {
  value: FieldValue;
  mask?: FieldValue;
}

/** A match: field name -> value (+mask). Prerequisites (eth_type for ipv4_*, ...) must be present. */
export type Match = Partial<Record<FieldName, MatchEntry>>;

/** A bit range of a field, as used by move/load/learn (ovs-actions(7) `field[start..end]`). */
export interface FieldRange {
  field: FieldName;
  start: number;
  nBits: number;
}

export interface NatSpec {
  kind: 'src' | 'dst';
  ipMin?: number;
  ipMax?: number;
  portMin?: number;
  portMax?: number;
  persistent?: boolean;
  random?: boolean;
}

/** learn() spec entry (NXAST_LEARN flow_mod_spec), see ovs-actions(7) "learn". */
export type LearnSpec =
  | { kind: 'match-field'; dst: FieldRange; src: FieldRange }
  | { kind: 'match-value'; dst: FieldRange; value: FieldValue }
  | { kind: 'load-field'; dst: FieldRange; src: FieldRange }
  | { kind: 'load-value'; dst: FieldRange; value: FieldValue }
  | { kind: 'output'; src: FieldRange };

export type Action =
  | { type: 'output'; port: number; maxLen?: number }
  | { type: 'group'; groupId: number }
  | { type: 'set_field'; field: FieldName; value: FieldValue; mask?: FieldValue }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'pop_vlan' }
  | { type: 'dec_nw_ttl' }
  | { type: 'copy_ttl_out' }
  | { type: 'copy_ttl_in' }
  | { type: 'set_queue'; queueId: number }
  // Nicira / OVS extensions
  | { type: 'resubmit'; port?: number; table?: number; ct?: boolean }
  | { type: 'move'; src: FieldRange; dst: FieldRange }
  | { type: 'load'; dst: FieldRange; value: FieldValue }
  | {
      type: 'ct';
      commit?: boolean;
      force?: boolean;
      zone?: number | FieldRange;
      table?: number;
      alg?: number;
      nat?: NatSpec | { kind: 'none' };
      exec?: Action[];
    }
  | { type: 'ct_clear' }
  /** check_pkt_larger(pktLen)->dst: 1 in the 1-bit `dst` when the frame (without VLAN tag) is longer than pktLen. */
  | { type: 'check_pkt_larger'; pktLen: number; dst: FieldRange }
  // clause is 1-based as in ovs-ofctl `conjunction(id,k/n)` (the wire carries k-1).
  | { type: 'conjunction'; id: number; clause: number; nClauses: number }
  | {
      type: 'learn';
      table: number;
      priority: number;
      cookie?: bigint;
      idleTimeout?: number;
      hardTimeout?: number;
      finIdleTimeout?: number;
      finHardTimeout?: number;
      flags?: number;
      specs: LearnSpec[];
    }
  | { type: 'note'; data: Uint8Array }
  | {
      type: 'controller';
      maxLen?: number;
      reason?: number;
      controllerId?: number;
      userdata?: Uint8Array;
      pause?: boolean;
      meterId?: number;
    }
  | { type: 'dec_ttl' }
  | {
      type: 'multipath';
      fields: number;
      basis: number;
      algorithm: number;
      maxLink: number;
      arg: number;
      dst: FieldRange;
    }
  /**
   * An action this library does not model (e.g. output_trunc, fin_timeout, sample), kept as its
   * wire bytes, header included: flows installed by others survive dumpFlows and re-encode as is.
   */
  | { type: 'opaque'; data: Uint8Array };

export type Instruction =
  | { type: 'goto_table'; table: number }
  | { type: 'write_metadata'; value: bigint; mask: bigint }
  | { type: 'apply_actions'; actions: Action[] }
  | { type: 'write_actions'; actions: Action[] }
  | { type: 'clear_actions' }
  | { type: 'meter'; meterId: number };

/** A flow entry as the agent wants it installed (and as flow-stats read it back). */
export interface Flow {
  table: number;
  priority: number;
  cookie: bigint;
  match: Match;
  instructions: Instruction[];
  idleTimeout?: number;
  hardTimeout?: number;
  /** OFPFF_* flags (send_flow_rem, check_overlap, reset_counts, no_pkt_counts, no_byt_counts). */
  flags?: number;
  importance?: number;
}

/** Reserved port numbers (OpenFlow 1.3 §7.2.1, enum ofp_port_no). */
export const OFPP = {
  MAX: 0xffffff00,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

/** A flow-table change as flow sync produces it (OFPT_FLOW_MOD; OF 1.3 §7.3.4.1). */
export interface FlowMod {
  command: 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';
  flow: Flow;
  /** Restricts modify/delete to flows whose cookie matches flow.cookie under this mask (0/absent: no restriction). */
  cookieMask?: bigint;
  /** Restricts delete to flows that output to this port (OFPP_ANY/absent: no restriction). */
  outPort?: number;
  /** Restricts delete to flows that output to this group (OFPG_ANY/absent: no restriction). */
  outGroup?: number;
}

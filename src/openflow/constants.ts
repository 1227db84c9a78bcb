// OpenFlow 1.3 protocol constants with the spec's names (plus the Nicira/ONF extension numbers OVS uses).

export const OFP_VERSION = 0x04; // OpenFlow 1.3
export const OFP_HEADER_LEN = 8;
/** OVS accepts messages up to 64 KiB; anything claiming more is garbage. */
export const OFP_MAX_MSG_LEN = 0xffff;
export const OFP_NO_BUFFER = 0xffffffff;
export const OFPCML_NO_BUFFER = 0xffff;
export const OFPG_ANY = 0xffffffff;
export const OFPG_ALL = 0xfffffffc;
export const OFPM_CONTROLLER = 0xfffffffd;
export const OFPTT_ALL = 0xff;
export const OFPVID_PRESENT = 0x1000;

export const NX_VENDOR_ID = 0x00002320;
export const ONF_VENDOR_ID = 0x4f4e4600;

export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
} as const;

export const OFPHET_VERSIONBITMAP = 1;

export const OFPFC = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;

export const OFPFF = {
  SEND_FLOW_REM: 1 << 0,
  CHECK_OVERLAP: 1 << 1,
  RESET_COUNTS: 1 << 2,
  NO_PKT_COUNTS: 1 << 3,
  NO_BYT_COUNTS: 1 << 4,
} as const;

export const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

export const OFPAT = {
  OUTPUT: 0,
  COPY_TTL_OUT: 11,
  COPY_TTL_IN: 12,
  SET_MPLS_TTL: 15,
  DEC_MPLS_TTL: 16,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  PUSH_PBB: 26,
  POP_PBB: 27,
  EXPERIMENTER: 0xffff,
} as const;

/** Nicira action subtypes (OVS lib/ofp-actions.c, enum ofp_raw_action_type). */
export const NXAST = {
  RESUBMIT: 1,
  REG_MOVE: 6,
  REG_LOAD: 7,
  NOTE: 8,
  MULTIPATH: 10,
  RESUBMIT_TABLE: 14,
  LEARN: 16,
  DEC_TTL: 18,
  CONTROLLER: 20,
  DEC_TTL_CNT_IDS: 21,
  REG_LOAD2: 33,
  CONJUNCTION: 34,
  CT: 35,
  NAT: 36,
  CONTROLLER2: 37,
  OUTPUT_TRUNC: 39,
  CT_CLEAR: 43,
  RESUBMIT_TABLE_CT: 44,
  CHECK_PKT_LARGER: 49,
} as const;

/** NXAST_CONTROLLER2 property types. */
export const NXAC2PT = { MAX_LEN: 0, CONTROLLER_ID: 1, REASON: 2, USERDATA: 3, PAUSE: 4, METER_ID: 5 } as const;

export const NX_CT_F = { COMMIT: 1, FORCE: 2 } as const;
export const NX_NAT_F = { SRC: 1, DST: 2, PERSISTENT: 4, PROTO_HASH: 8, PROTO_RANDOM: 16 } as const;
export const NX_NAT_RANGE = {
  IPV4_MIN: 1,
  IPV4_MAX: 2,
  IPV6_MIN: 4,
  IPV6_MAX: 8,
  PROTO_MIN: 16,
  PROTO_MAX: 32,
} as const;
export const NX_LEARN_SRC_IMMEDIATE = 1 << 13;
export const NX_LEARN_DST_MATCH = 0 << 11;
export const NX_LEARN_DST_LOAD = 1 << 11;
export const NX_LEARN_DST_OUTPUT = 2 << 11;
export const NX_LEARN_F = { SEND_FLOW_REM: 1, DELETE_LEARNED: 2, WRITE_RESULT: 4 } as const;

/** Nicira messages (experimenter NX_VENDOR_ID) we use. */
export const NXT = { SET_PACKET_IN_FORMAT: 16, SET_CONTROLLER_ID: 20, RESUME: 28, PACKET_IN2: 30 } as const;
export const NXPIF = { STANDARD: 0, NXT_PACKET_IN: 1, NXT_PACKET_IN2: 2 } as const;
export const NXPINT = {
  PACKET: 0,
  FULL_LEN: 1,
  BUFFER_ID: 2,
  TABLE_ID: 3,
  COOKIE: 4,
  REASON: 5,
  METADATA: 6,
  USERDATA: 7,
  CONTINUATION: 8,
} as const;

/** ONF bundle extension for OpenFlow 1.3 (EXT-230), as OVS implements it. */
export const ONFT = { BUNDLE_CONTROL: 2300, BUNDLE_ADD_MESSAGE: 2301 } as const;
export const OFPBCT = {
  OPEN_REQUEST: 0,
  OPEN_REPLY: 1,
  CLOSE_REQUEST: 2,
  CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4,
  COMMIT_REPLY: 5,
  DISCARD_REQUEST: 6,
  DISCARD_REPLY: 7,
} as const;
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;

export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  QUEUE: 5,
  GROUP: 6,
  GROUP_DESC: 7,
  GROUP_FEATURES: 8,
  METER: 9,
  METER_CONFIG: 10,
  METER_FEATURES: 11,
  TABLE_FEATURES: 12,
  PORT_DESC: 13,
  EXPERIMENTER: 0xffff,
} as const;
export const OFPMPF_MORE = 1;

export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
export const OFPGT = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 } as const;
export const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
export const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;
export const OFPMBT = { DROP: 1, DSCP_REMARK: 2, EXPERIMENTER: 0xffff } as const;
export const OFPCR_ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;
export const OFPRR = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3 } as const;
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;
export const OFPPC = { PORT_DOWN: 1, NO_RECV: 4, NO_FWD: 32, NO_PACKET_IN: 64 } as const;
export const OFPPS = { LINK_DOWN: 1, BLOCKED: 2, LIVE: 4 } as const;

/** OFPET_* error types and their codes, by number, for naming decoded errors. */
export const OFPET_NAMES: Record<number, { name: string; codes: string[] }> = {
  0: { name: 'OFPET_HELLO_FAILED', codes: ['OFPHFC_INCOMPATIBLE', 'OFPHFC_EPERM'] },
  1: {
    name: 'OFPET_BAD_REQUEST',
    codes: [
      'OFPBRC_BAD_VERSION',
      'OFPBRC_BAD_TYPE',
      'OFPBRC_BAD_MULTIPART',
      'OFPBRC_BAD_EXPERIMENTER',
      'OFPBRC_BAD_EXP_TYPE',
      'OFPBRC_EPERM',
      'OFPBRC_BAD_LEN',
      'OFPBRC_BUFFER_EMPTY',
      'OFPBRC_BUFFER_UNKNOWN',
      'OFPBRC_BAD_TABLE_ID',
      'OFPBRC_IS_SLAVE',
      'OFPBRC_BAD_PORT',
      'OFPBRC_BAD_PACKET',
      'OFPBRC_MULTIPART_BUFFER_OVERFLOW',
    ],
  },
  2: {
    name: 'OFPET_BAD_ACTION',
    codes: [
      'OFPBAC_BAD_TYPE',
      'OFPBAC_BAD_LEN',
      'OFPBAC_BAD_EXPERIMENTER',
      'OFPBAC_BAD_EXP_TYPE',
      'OFPBAC_BAD_OUT_PORT',
      'OFPBAC_BAD_ARGUMENT',
      'OFPBAC_EPERM',
      'OFPBAC_TOO_MANY',
      'OFPBAC_BAD_QUEUE',
      'OFPBAC_BAD_OUT_GROUP',
      'OFPBAC_MATCH_INCONSISTENT',
      'OFPBAC_UNSUPPORTED_ORDER',
      'OFPBAC_BAD_TAG',
      'OFPBAC_BAD_SET_TYPE',
      'OFPBAC_BAD_SET_LEN',
      'OFPBAC_BAD_SET_ARGUMENT',
    ],
  },
  3: {
    name: 'OFPET_BAD_INSTRUCTION',
    codes: [
      'OFPBIC_UNKNOWN_INST',
      'OFPBIC_UNSUP_INST',
      'OFPBIC_BAD_TABLE_ID',
      'OFPBIC_UNSUP_METADATA',
      'OFPBIC_UNSUP_METADATA_MASK',
      'OFPBIC_BAD_EXPERIMENTER',
      'OFPBIC_BAD_EXP_TYPE',
      'OFPBIC_BAD_LEN',
      'OFPBIC_EPERM',
    ],
  },
  4: {
    name: 'OFPET_BAD_MATCH',
    codes: [
      'OFPBMC_BAD_TYPE',
      'OFPBMC_BAD_LEN',
      'OFPBMC_BAD_TAG',
      'OFPBMC_BAD_DL_ADDR_MASK',
      'OFPBMC_BAD_NW_ADDR_MASK',
      'OFPBMC_BAD_WILDCARDS',
      'OFPBMC_BAD_FIELD',
      'OFPBMC_BAD_VALUE',
      'OFPBMC_BAD_MASK',
      'OFPBMC_BAD_PREREQ',
      'OFPBMC_DUP_FIELD',
      'OFPBMC_EPERM',
    ],
  },
  5: {
    name: 'OFPET_FLOW_MOD_FAILED',
    codes: [
      'OFPFMFC_UNKNOWN',
      'OFPFMFC_TABLE_FULL',
      'OFPFMFC_BAD_TABLE_ID',
      'OFPFMFC_OVERLAP',
      'OFPFMFC_EPERM',
      'OFPFMFC_BAD_TIMEOUT',
      'OFPFMFC_BAD_COMMAND',
      'OFPFMFC_BAD_FLAGS',
    ],
  },
  6: {
    name: 'OFPET_GROUP_MOD_FAILED',
    codes: [
      'OFPGMFC_GROUP_EXISTS',
      'OFPGMFC_INVALID_GROUP',
      'OFPGMFC_WEIGHT_UNSUPPORTED',
      'OFPGMFC_OUT_OF_GROUPS',
      'OFPGMFC_OUT_OF_BUCKETS',
      'OFPGMFC_CHAINING_UNSUPPORTED',
      'OFPGMFC_WATCH_UNSUPPORTED',
      'OFPGMFC_LOOP',
      'OFPGMFC_UNKNOWN_GROUP',
      'OFPGMFC_CHAINED_GROUP',
      'OFPGMFC_BAD_TYPE',
      'OFPGMFC_BAD_COMMAND',
      'OFPGMFC_BAD_BUCKET',
      'OFPGMFC_BAD_WATCH',
      'OFPGMFC_EPERM',
    ],
  },
  7: {
    name: 'OFPET_PORT_MOD_FAILED',
    codes: ['OFPPMFC_BAD_PORT', 'OFPPMFC_BAD_HW_ADDR', 'OFPPMFC_BAD_CONFIG', 'OFPPMFC_BAD_ADVERTISE', 'OFPPMFC_EPERM'],
  },
  8: { name: 'OFPET_TABLE_MOD_FAILED', codes: ['OFPTMFC_BAD_TABLE', 'OFPTMFC_BAD_CONFIG', 'OFPTMFC_EPERM'] },
  9: { name: 'OFPET_QUEUE_OP_FAILED', codes: ['OFPQOFC_BAD_PORT', 'OFPQOFC_BAD_QUEUE', 'OFPQOFC_EPERM'] },
  10: { name: 'OFPET_SWITCH_CONFIG_FAILED', codes: ['OFPSCFC_BAD_FLAGS', 'OFPSCFC_BAD_LEN', 'OFPSCFC_EPERM'] },
  11: { name: 'OFPET_ROLE_REQUEST_FAILED', codes: ['OFPRRFC_STALE', 'OFPRRFC_UNSUP', 'OFPRRFC_BAD_ROLE'] },
  12: {
    name: 'OFPET_METER_MOD_FAILED',
    codes: [
      'OFPMMFC_UNKNOWN',
      'OFPMMFC_METER_EXISTS',
      'OFPMMFC_INVALID_METER',
      'OFPMMFC_UNKNOWN_METER',
      'OFPMMFC_BAD_COMMAND',
      'OFPMMFC_BAD_FLAGS',
      'OFPMMFC_BAD_RATE',
      'OFPMMFC_BAD_BURST',
      'OFPMMFC_BAD_BAND',
      'OFPMMFC_BAD_BAND_VALUE',
      'OFPMMFC_OUT_OF_METERS',
      'OFPMMFC_OUT_OF_BANDS',
    ],
  },
  13: {
    name: 'OFPET_TABLE_FEATURES_FAILED',
    codes: [
      'OFPTFFC_BAD_TABLE',
      'OFPTFFC_BAD_METADATA',
      'OFPTFFC_BAD_TYPE',
      'OFPTFFC_BAD_LEN',
      'OFPTFFC_BAD_ARGUMENT',
      'OFPTFFC_EPERM',
    ],
  },
};
export const OFPET_EXPERIMENTER = 0xffff;

/** Bundle failure codes; in OF1.3 OVS sends them as ONF experimenter errors numbered 2300 + code. */
export const OFPBFC_NAMES = [
  'OFPBFC_UNKNOWN',
  'OFPBFC_EPERM',
  'OFPBFC_BAD_ID',
  'OFPBFC_BUNDLE_EXIST',
  'OFPBFC_BUNDLE_CLOSED',
  'OFPBFC_OUT_OF_BUNDLES',
  'OFPBFC_BAD_TYPE',
  'OFPBFC_BAD_FLAGS',
  'OFPBFC_MSG_BAD_LEN',
  'OFPBFC_MSG_BAD_XID',
  'OFPBFC_MSG_UNSUP',
  'OFPBFC_MSG_CONFLICT',
  'OFPBFC_MSG_TOO_MANY',
  'OFPBFC_MSG_FAILED',
  'OFPBFC_TIMEOUT',
  'OFPBFC_BUNDLE_IN_PROGRESS',
];

/** Names of an error's type and code, for OpenFlowError and logs. */
export function errorNames(type: number, code: number, experimenter?: number): { typeName: string; codeName: string } {
  if (type === OFPET_EXPERIMENTER) {
    if (experimenter === ONF_VENDOR_ID && code >= 2300 && code < 2300 + OFPBFC_NAMES.length) {
      return { typeName: 'OFPET_BUNDLE_FAILED', codeName: OFPBFC_NAMES[code - 2300] ?? `ONF_${code}` };
    }
    const who =
      experimenter === NX_VENDOR_ID
        ? 'NX'
        : experimenter === ONF_VENDOR_ID
          ? 'ONF'
          : `0x${(experimenter ?? 0).toString(16)}`;
    return { typeName: `OFPET_EXPERIMENTER(${who})`, codeName: `exp_type_${code}` };
  }
  const t = OFPET_NAMES[type];
  if (!t) return { typeName: `OFPET_${type}`, codeName: `code_${code}` };
  return { typeName: t.name, codeName: t.codes[code] ?? `code_${code}` };
}

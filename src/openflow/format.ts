// formatFlow(): a Flow in ovs-ofctl syntax (ovs-fields(7)/ovs-actions(7)), readable and parseable by ovs-ofctl.
import { canonicalMask, fieldDef, FIELDS, type FieldDef } from './fields.js';
import { OFPCML_NO_BUFFER } from './constants.js';
import {
  type Action,
  type FieldRange,
  type FieldValue,
  type Flow,
  type Instruction,
  type LearnSpec,
  type Match,
  OFPP,
} from './types.js';

const PORT_NAMES: Record<number, string> = {
  [OFPP.IN_PORT]: 'IN_PORT',
  [OFPP.TABLE]: 'TABLE',
  [OFPP.NORMAL]: 'NORMAL',
  [OFPP.FLOOD]: 'FLOOD',
  [OFPP.ALL]: 'ALL',
  [OFPP.CONTROLLER]: 'CONTROLLER',
  [OFPP.LOCAL]: 'LOCAL',
  [OFPP.ANY]: 'ANY',
};

export function formatPort(p: number): string {
  return PORT_NAMES[p] ?? String(p);
}

const hex = (v: FieldValue): string => `0x${BigInt(v).toString(16)}`;

export function formatMac(v: FieldValue): string {
  return BigInt(v)
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:');
}

export function formatIpv4(v: FieldValue): string {
  const n = Number(v);
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

export function formatIpv6(v: FieldValue): string {
  const b = BigInt(v);
  const words = Array.from({ length: 8 }, (_, i) => Number((b >> BigInt(16 * (7 - i))) & 0xffffn));
  // Compress the longest run of zero words (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const h = words.map((w) => w.toString(16));
  if (best < 0) return h.join(':');
  return `${h.slice(0, best).join(':')}::${h.slice(best + bestLen).join(':')}`;
}

const CT_STATE_BITS: [string, number][] = [
  ['new', 0x01],
  ['est', 0x02],
  ['rel', 0x04],
  ['rpl', 0x08],
  ['inv', 0x10],
  ['trk', 0x20],
  ['snat', 0x40],
  ['dnat', 0x80],
];
const TCP_FLAG_BITS: [string, number][] = [
  ['fin', 0x001],
  ['syn', 0x002],
  ['rst', 0x004],
  ['psh', 0x008],
  ['ack', 0x010],
  ['urg', 0x020],
  ['ece', 0x040],
  ['cwr', 0x080],
  ['ns', 0x100],
];
const TUN_FLAG_BITS: [string, number][] = [['oam', 0x1]];

function formatFlags(bits: [string, number][], value: number, mask: number | undefined): string {
  const all = bits.reduce((a, [, b]) => a | b, 0);
  if (mask === undefined || (mask & ~all) !== 0 || (value & ~mask) !== 0)
    return mask === undefined ? hex(value) : `${hex(value)}/${hex(mask)}`;
  let s = '';
  for (const [name, b] of bits) if (mask & b) s += `${value & b ? '+' : '-'}${name}`;
  return s;
}

/** ovs-ofctl reads IPv6 masks only as prefix lengths. */
function ipv6Prefix(mask: FieldValue): number | undefined {
  const m = BigInt(mask);
  for (let n = 0; n <= 128; n++) if (m === ((1n << BigInt(n)) - 1n) << BigInt(128 - n)) return n;
  return undefined;
}

/** A match value (and mask) printed the way ovs-ofctl parses it for this field. */
export function formatFieldValue(def: FieldDef, value: FieldValue, mask?: FieldValue): string {
  const m =
    mask === undefined
      ? ''
      : def.format === 'mac'
        ? `/${formatMac(mask)}`
        : def.format === 'ipv4'
          ? `/${formatIpv4(mask)}`
          : def.format === 'ipv6'
            ? `/${ipv6Prefix(mask) ?? formatIpv6(mask)}`
            : `/${hex(mask)}`;
  switch (def.format) {
    case 'mac':
      return formatMac(value) + m;
    case 'ipv4':
      return formatIpv4(value) + m;
    case 'ipv6':
      return formatIpv6(value) + m;
    case 'port':
      return formatPort(Number(value)) + m;
    case 'ct_state':
      return formatFlags(CT_STATE_BITS, Number(value), mask === undefined ? undefined : Number(mask));
    case 'tcp_flags':
      return formatFlags(TCP_FLAG_BITS, Number(value), mask === undefined ? undefined : Number(mask));
    case 'tun_flags':
      return formatFlags(TUN_FLAG_BITS, Number(value), mask === undefined ? undefined : Number(mask));
    case 'dec':
      return mask === undefined ? String(value) : hex(value) + m;
    case 'hex':
      return hex(value) + m;
  }
}

export function formatMatch(match: Match): string {
  const parts: string[] = [];
  for (const def of FIELDS) {
    const e = match[def.name];
    if (!e) continue;
    // Print what goes on the wire: mask cut to the significant bits, wildcards left out.
    const m = canonicalMask(def, e.mask);
    if (m === 0n) continue;
    parts.push(`${def.ovsName}=${formatFieldValue(def, e.value, m)}`);
  }
  return parts.join(',');
}

export function formatRange(r: FieldRange): string {
  const def = fieldDef(r.field);
  const width = (def.nxm ?? def.oxm).width * 8;
  if (r.start === 0 && r.nBits === width) return `${def.ovsName}[]`;
  return `${def.ovsName}[${r.start}..${r.start + r.nBits - 1}]`;
}

const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('.');

function formatNat(nat: NonNullable<Extract<Action, { type: 'ct' }>['nat']>): string {
  if (nat.kind === 'none') return 'nat';
  let s = `nat(${nat.kind}`;
  if (nat.ipMin !== undefined) {
    s += `=${formatIpv4(nat.ipMin)}`;
    if (nat.ipMax !== undefined) s += `-${formatIpv4(nat.ipMax)}`;
    if (nat.portMin !== undefined) {
      s += `:${nat.portMin}`;
      if (nat.portMax !== undefined) s += `-${nat.portMax}`;
    }
  }
  if (nat.persistent) s += ',persistent';
  if (nat.random) s += ',random';
  return `${s})`;
}

function formatLearnSpec(s: LearnSpec): string {
  switch (s.kind) {
    case 'match-field':
      return `${formatRange(s.dst)}=${formatRange(s.src)}`;
    case 'match-value':
      return `${formatRange(s.dst)}=${hex(s.value)}`;
    case 'load-field':
      return `load:${formatRange(s.src)}->${formatRange(s.dst)}`;
    case 'load-value':
      return `load:${hex(s.value)}->${formatRange(s.dst)}`;
    case 'output':
      return `output:${formatRange(s.src)}`;
  }
}

export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      if (a.port === OFPP.CONTROLLER) return `CONTROLLER:${a.maxLen ?? OFPCML_NO_BUFFER}`;
      return a.maxLen ? `output(port=${formatPort(a.port)},max_len=${a.maxLen})` : `output:${formatPort(a.port)}`;
    case 'group':
      return `group:${a.groupId}`;
    case 'set_field': {
      const def = fieldDef(a.field);
      return `set_field:${formatFieldValue({ ...def, format: def.format === 'dec' || def.format === 'port' ? 'hex' : def.format }, a.value, a.mask)}->${def.ovsName}`;
    }
    case 'push_vlan':
      return `push_vlan:${hex(a.ethertype)}`;
    case 'pop_vlan':
      return 'pop_vlan';
    case 'dec_nw_ttl':
    case 'dec_ttl':
      return 'dec_ttl';
    case 'copy_ttl_out':
      return 'copy_ttl_out';
    case 'copy_ttl_in':
      return 'copy_ttl_in';
    case 'set_queue':
      return `set_queue:${a.queueId}`;
    case 'resubmit':
      return `resubmit(${a.port === undefined ? '' : formatPort(a.port)},${a.table ?? ''}${a.ct ? ',ct' : ''})`;
    case 'move':
      return `move:${formatRange(a.src)}->${formatRange(a.dst)}`;
    case 'load':
      return `load:${hex(a.value)}->${formatRange(a.dst)}`;
    case 'ct': {
      const p: string[] = [];
      if (a.commit) p.push('commit');
      if (a.force) p.push('force');
      if (a.table !== undefined) p.push(`table=${a.table}`);
      if (a.zone !== undefined) p.push(`zone=${typeof a.zone === 'number' ? a.zone : formatRange(a.zone)}`);
      const inner = [...(a.exec ?? []).map(formatAction)];
      if (inner.length) p.push(`exec(${inner.join(',')})`);
      if (a.nat) p.push(formatNat(a.nat));
      if (a.alg !== undefined) p.push(`alg=${a.alg === 21 ? 'ftp' : a.alg === 69 ? 'tftp' : a.alg}`);
      return p.length ? `ct(${p.join(',')})` : 'ct';
    }
    case 'ct_clear':
      return 'ct_clear';
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
    case 'learn': {
      const p = [`table=${a.table}`];
      if (a.idleTimeout) p.push(`idle_timeout=${a.idleTimeout}`);
      if (a.hardTimeout) p.push(`hard_timeout=${a.hardTimeout}`);
      if (a.finIdleTimeout) p.push(`fin_idle_timeout=${a.finIdleTimeout}`);
      if (a.finHardTimeout) p.push(`fin_hard_timeout=${a.finHardTimeout}`);
      p.push(`priority=${a.priority}`);
      if ((a.flags ?? 0) & 1) p.push('send_flow_rem');
      if ((a.flags ?? 0) & 2) p.push('delete_learned');
      if ((a.flags ?? 0) & 4) p.push('write_result');
      if (a.cookie) p.push(`cookie=${hex(a.cookie)}`);
      for (const s of a.specs) p.push(formatLearnSpec(s));
      return `learn(${p.join(',')})`;
    }
    case 'note':
      return `note:${hexBytes(a.data)}`;
    case 'controller': {
      const p: string[] = [];
      if (a.reason !== undefined)
        p.push(
          `reason=${['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'][a.reason] ?? a.reason}`,
        );
      if (a.maxLen !== undefined) p.push(`max_len=${a.maxLen}`);
      if (a.controllerId !== undefined) p.push(`id=${a.controllerId}`);
      if (a.userdata !== undefined) p.push(`userdata=${hexBytes(a.userdata)}`);
      if (a.pause) p.push('pause');
      if (a.meterId !== undefined) p.push(`meter_id=${a.meterId}`);
      return p.length ? `controller(${p.join(',')})` : 'controller';
    }
    case 'opaque':
      return `opaque(${Array.from(a.data, (x) => x.toString(16).padStart(2, '0')).join('')})`;
    case 'check_pkt_larger':
      return `check_pkt_larger(${a.pktLen})->${formatRange(a.dst)}`;
    case 'multipath': {
      const fields =
        ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3'][
          a.fields
        ] ?? a.fields;
      const alg = ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'][a.algorithm] ?? a.algorithm;
      return `multipath(${fields},${a.basis},${alg},${a.maxLink + 1},${a.arg},${formatRange(a.dst)})`;
    }
  }
}

export function formatActions(actions: readonly Action[]): string {
  return actions.length ? actions.map(formatAction).join(',') : 'drop';
}

export function formatInstructions(ins: readonly Instruction[]): string {
  const parts: string[] = [];
  for (const i of ins) {
    switch (i.type) {
      case 'meter':
        parts.push(`meter:${i.meterId}`);
        break;
      case 'apply_actions':
        if (i.actions.length) parts.push(i.actions.map(formatAction).join(','));
        break;
      case 'clear_actions':
        parts.push('clear_actions');
        break;
      case 'write_actions':
        parts.push(`write_actions(${i.actions.map(formatAction).join(',')})`);
        break;
      case 'write_metadata':
        parts.push(`write_metadata:${hex(i.value)}/${hex(i.mask)}`);
        break;
      case 'goto_table':
        parts.push(`goto_table:${i.table}`);
        break;
    }
  }
  return parts.length ? parts.join(',') : 'drop';
}

/**
 * One flow in ovs-ofctl add-flow syntax, e.g.
 * `table=3,priority=100,cookie=0x1,eth_type=0x800,nw_src=10.0.0.1,actions=resubmit(,4)`.
 */
export function formatFlow(flow: Flow): string {
  const p = [`table=${flow.table}`, `priority=${flow.priority}`];
  if (flow.cookie) p.push(`cookie=${hex(flow.cookie)}`);
  if (flow.idleTimeout) p.push(`idle_timeout=${flow.idleTimeout}`);
  if (flow.hardTimeout) p.push(`hard_timeout=${flow.hardTimeout}`);
  if (flow.importance) p.push(`importance=${flow.importance}`);
  const f = flow.flags ?? 0;
  if (f & 1) p.push('send_flow_rem');
  if (f & 2) p.push('check_overlap');
  if (f & 4) p.push('reset_counts');
  if (f & 8) p.push('no_packet_counts');
  if (f & 16) p.push('no_byte_counts');
  const m = formatMatch(flow.match);
  if (m) p.push(m);
  return `${p.join(',')},actions=${formatInstructions(flow.instructions)}`;
}

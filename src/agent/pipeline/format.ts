// Flows as ovs-ofctl text (ovs-fields(7)/ovs-actions(7) syntax): for docs, traces, and feeding a real switch in tests.
import type { Action, FieldName, FieldRange, FieldValue, Flow, Instruction, NatSpec } from '../../openflow/types.js';
import { OFPP } from '../../openflow/types.js';
import { formatIpv4, formatMac } from './addr.js';
import { TABLES, tableName } from './tables.js';

/** ovs-ofctl names of the fields the pipeline uses (OXM names differ for some). */
const OFCTL_NAME: Partial<Record<FieldName, string>> = {
  ip_proto: 'nw_proto',
  ipv4_src: 'nw_src',
  ipv4_dst: 'nw_dst',
  icmpv4_type: 'icmp_type',
  icmpv4_code: 'icmp_code',
  tunnel_id: 'tun_id',
  tun_ipv4_dst: 'tun_dst',
  tun_ipv4_src: 'tun_src',
};

const MAC_FIELDS = new Set<FieldName>(['eth_src', 'eth_dst', 'arp_sha', 'arp_tha']);
const IP_FIELDS = new Set<FieldName>(['ipv4_src', 'ipv4_dst', 'arp_spa', 'arp_tpa', 'tun_ipv4_dst', 'tun_ipv4_src']);

const CT_FLAGS: [number, string][] = [
  [0x01, 'new'],
  [0x02, 'est'],
  [0x04, 'rel'],
  [0x08, 'rpl'],
  [0x10, 'inv'],
  [0x20, 'trk'],
  [0x40, 'snat'],
  [0x80, 'dnat'],
];

function ofName(f: FieldName): string {
  return OFCTL_NAME[f] ?? f;
}

function value(f: FieldName, v: FieldValue): string {
  if (MAC_FIELDS.has(f)) return formatMac(BigInt(v));
  if (IP_FIELDS.has(f)) return formatIpv4(Number(v));
  return `0x${BigInt(v).toString(16)}`;
}

function matchText(f: FieldName, v: FieldValue, mask: FieldValue | undefined): string {
  if (f === 'ct_state') {
    const m = Number(mask ?? 0xff);
    return `ct_state=${CT_FLAGS.filter(([b]) => m & b)
      .map(([b, n]) => `${Number(v) & b ? '+' : '-'}${n}`)
      .join('')}`;
  }
  if (f === 'in_port' || f === 'conj_id' || f === 'ip_proto' || f === 'eth_type' || f.startsWith('icmpv4'))
    return `${ofName(f)}=${f === 'eth_type' ? `0x${Number(v).toString(16).padStart(4, '0')}` : Number(v)}`;
  if (mask === undefined) return `${ofName(f)}=${value(f, v)}`;
  return `${ofName(f)}=${value(f, v)}/${value(f, mask)}`;
}

function rangeText(r: FieldRange): string {
  return `${ofName(r.field)}[${r.start}..${r.start + r.nBits - 1}]`;
}

function portText(p: number): string {
  if (p === OFPP.IN_PORT) return 'in_port';
  if (p === OFPP.CONTROLLER) return 'controller';
  if (p === OFPP.LOCAL) return 'LOCAL';
  return `output:${p}`;
}

export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      return portText(a.port);
    case 'set_field':
      return `set_field:${value(a.field, a.value)}->${ofName(a.field)}`;
    case 'move':
      return `move:${rangeText(a.src)}->${rangeText(a.dst)}`;
    case 'load':
      return `load:0x${BigInt(a.value).toString(16)}->${rangeText(a.dst)}`;
    case 'dec_ttl':
      return 'dec_ttl';
    case 'resubmit':
      return `resubmit(${a.port !== undefined && a.port !== OFPP.IN_PORT ? a.port : ''},${a.table ?? ''})`;
    case 'ct': {
      const parts: string[] = [];
      if (a.commit) parts.push('commit');
      if (a.zone !== undefined) parts.push(`zone=${typeof a.zone === 'number' ? a.zone : rangeText(a.zone)}`);
      if (a.table !== undefined) parts.push(`table=${a.table}`);
      if (a.exec?.length) parts.push(`exec(${a.exec.map(formatAction).join(',')})`);
      if (a.nat) parts.push(natText(a.nat));
      return `ct(${parts.join(',')})`;
    }
    case 'check_pkt_larger':
      return `check_pkt_larger(${a.pktLen})->${rangeText(a.dst)}`;
    case 'controller':
      return `controller(max_len=${a.maxLen ?? 65535})`;
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
    case 'learn': {
      const specs = a.specs.map((s) =>
        s.kind === 'match-field'
          ? `${rangeText(s.dst)}=${rangeText(s.src)}`
          : s.kind === 'match-value'
            ? `${rangeText(s.dst)}=0x${BigInt(s.value).toString(16)}`
            : s.kind === 'output'
              ? `output:${rangeText(s.src)}`
              : s.kind === 'load-field'
                ? `load:${rangeText(s.src)}->${rangeText(s.dst)}`
                : `load:0x${BigInt(s.value).toString(16)}->${rangeText(s.dst)}`,
      );
      const idle = a.idleTimeout ? `idle_timeout=${a.idleTimeout},` : '';
      return `learn(table=${a.table},${idle}priority=${a.priority},${specs.join(',')})`;
    }
    default:
      return a.type;
  }
}

function instructionText(i: Instruction): string[] {
  switch (i.type) {
    case 'apply_actions':
      return i.actions.map(formatAction);
    case 'goto_table':
      return [`goto_table:${i.table}`];
    case 'write_metadata':
      return [`write_metadata:0x${i.value.toString(16)}/0x${i.mask.toString(16)}`];
    case 'meter':
      return [`meter:${i.meterId}`];
    case 'clear_actions':
      return ['clear_actions'];
    case 'write_actions':
      return [`write_actions(${i.actions.map(formatAction).join(',')})`];
    default:
      return [];
  }
}

/** OF 1.3 instruction order (§5.9): meter, apply, clear, write, write_metadata, goto. */
const INS_ORDER = ['meter', 'apply_actions', 'clear_actions', 'write_actions', 'write_metadata', 'goto_table'];

/**
 * One flow as an `ovs-ofctl -O OpenFlow13 add-flow` line. With `names`, table numbers print as names (for
 * docs and reviews: stable when tables are inserted), otherwise as numbers (for a real switch).
 */
export function formatFlow(f: Flow, opts: { names?: boolean; cookie?: boolean } = {}): string {
  const t = (n: number) => (opts.names ? (tableName(n) ?? String(n)) : String(n));
  const head = [`table=${t(f.table)}`, `priority=${f.priority}`];
  if (opts.cookie !== false) head.unshift(`cookie=0x${f.cookie.toString(16)}`);
  for (const [k, e] of Object.entries(f.match)) if (e) head.push(matchText(k as FieldName, e.value, e.mask));
  const ins = [...f.instructions].sort((a, b) => INS_ORDER.indexOf(a.type) - INS_ORDER.indexOf(b.type));
  let acts = ins.flatMap(instructionText);
  if (opts.names)
    acts = acts.map((s) =>
      s.replace(/(goto_table:|table=|resubmit\(,)(\d+)/g, (_m, p: string, n: string) => `${p}${t(Number(n))}`),
    );
  return `${head.join(',')} actions=${acts.length ? acts.join(',') : 'drop'}`;
}

/** The pipeline's table list as Markdown (docs/pipeline.md embeds it; a test checks it against tables.ts). */
export function tableListMarkdown(): string {
  const rows = TABLES.map((t, i) => {
    const miss = t.miss === 'next' ? `next → ${t.missTo ?? TABLES[i + 1]?.name}` : t.miss;
    const next = [
      ...t.next,
      ...(t.reenters ?? []).map((r) => `${r} (re-entry)`),
      ...(t.learnsInto ?? []).map((l) => `${l} (learns into)`),
    ];
    return `| ${i} | ${t.name} | ${t.matches.join(', ')} | ${next.join(', ') || '—'} | ${miss} |`;
  });
  return ['| # | table | matches | continues to | miss |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** A ct action's nat as ovs-ofctl prints it: bare `nat` (reverse), or `nat(src=a[-b][:p[-q]])`. */
function natText(n: NatSpec | { kind: 'none' }): string {
  if (n.kind === 'none') return 'nat';
  const ip =
    n.ipMin === undefined
      ? ''
      : formatIpv4(n.ipMin) + (n.ipMax !== undefined && n.ipMax !== n.ipMin ? `-${formatIpv4(n.ipMax)}` : '');
  const ports =
    n.portMin === undefined
      ? ''
      : `:${n.portMin}${n.portMax !== undefined && n.portMax !== n.portMin ? `-${n.portMax}` : ''}`;
  return `nat(${n.kind}=${ip}${ports})`;
}

// A small OpenFlow table simulator: walks goto/resubmit/apply-actions/ct for a packet description (tests, traces).
//
// It models what the pipeline uses: priority lookup with masks, conjunctive matches, write_metadata, goto,
// set_field/move/load, dec_ttl, resubmit, output (IN_PORT rules), controller, meter, a conntrack table
// (new/established/reply by 5-tuple and zone; commit; ct_mark) and learn() (the learned flow is added to its table,
// replacing one of the same identity; timeouts are not modelled: `forget` stands in for ageing). It is not a
// general switch: unknown actions throw.
import type { Action, FieldName, FieldRange, Flow, Instruction } from '../../openflow/types.js';
import { OFPP } from '../../openflow/types.js';
import { describeCookie } from './cookies.js';
import { flowKey } from './diff.js';
import { tableName } from './tables.js';

/** A packet as field values (absent field = header not present). MACs and 64-bit fields as bigint. */
/** `frame_len`: the frame's length as the switch counts it for check_pkt_larger (default 64). */
export type Packet = Partial<Record<FieldName | 'nw_ttl' | 'frame_len', bigint>>;

/** Convenience input: numbers accepted and converted. */
export type PacketInput = Partial<Record<FieldName | 'nw_ttl' | 'frame_len', number | bigint>>;

export interface SimOutput {
  port: number;
  packet: Packet;
}
export interface SimPacketIn {
  cookie: bigint;
  table: number;
  /** Meters the packet passed on its way to the controller, in order. */
  meters: number[];
  packet: Packet;
}
export interface SimStep {
  table: number;
  tableName: string;
  priority: number;
  cookie: bigint;
  owner: string;
}
export interface SimResult {
  outputs: SimOutput[];
  packetIns: SimPacketIn[];
  path: SimStep[];
  /** Why processing ended without output, when it did (e.g. "miss in port_security"). */
  drops: string[];
}

const CT_FIELDS = { new: 0x01n, est: 0x02n, rel: 0x04n, rpl: 0x08n, inv: 0x10n, trk: 0x20n };

function big(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

function toPacket(p: PacketInput): Packet {
  const out: Packet = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k as FieldName] = big(v);
  return out;
}

const WIDTHS: Partial<Record<string, number>> = {
  eth_src: 48,
  eth_dst: 48,
  arp_sha: 48,
  arp_tha: 48,
  metadata: 64,
  tunnel_id: 64,
};

function width(f: string): number {
  return WIDTHS[f] ?? 32;
}

function readRange(p: Packet, r: FieldRange): bigint {
  const v = p[r.field] ?? 0n;
  return (v >> BigInt(r.start)) & ((1n << BigInt(r.nBits)) - 1n);
}

function writeRange(p: Packet, r: FieldRange, value: bigint): void {
  const mask = ((1n << BigInt(r.nBits)) - 1n) << BigInt(r.start);
  const old = p[r.field] ?? 0n;
  p[r.field] = (old & ~mask) | ((value << BigInt(r.start)) & mask);
}

/** Fields that live in the pipeline, not in the packet: every packet starts with them zero. */
const PIPELINE_FIELDS = ['metadata', 'reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7'] as const;

/**
 * Conntrack entries by "zone|proto|src|dst|sport|dport" of the original direction, as OVS keeps them: a
 * committed connection is +new until a reply has been seen, then +est; replies are +est+rpl; the entry holds
 * a ct_mark that commits may change (ct(commit,exec(load:...->ct_mark))).
 */
export class SimConntrack {
  readonly entries = new Map<string, { replied: boolean; mark: bigint }>();
  private key(zone: bigint, p: Packet, reverse: boolean): string | null {
    if (p.eth_type !== 0x0800n) return null;
    const proto = p.ip_proto ?? 0n;
    const sport = proto === 6n ? p.tcp_src : proto === 17n ? p.udp_src : 0n;
    const dport = proto === 6n ? p.tcp_dst : proto === 17n ? p.udp_dst : 0n;
    const a = [p.ipv4_src, sport];
    const b = [p.ipv4_dst, dport];
    const [s, d] = reverse ? [b, a] : [a, b];
    return `${zone}|${proto}|${s[0]}|${d[0]}|${s[1] ?? 0n}|${d[1] ?? 0n}`;
  }
  /** The entry a packet belongs to, in either direction. */
  private find(zone: bigint, p: Packet): { entry: { replied: boolean; mark: bigint }; reply: boolean } | null {
    const k = this.key(zone, p, false);
    const e = k === null ? undefined : this.entries.get(k);
    if (e) return { entry: e, reply: false };
    const r = this.key(zone, p, true);
    const re = r === null ? undefined : this.entries.get(r);
    return re ? { entry: re, reply: true } : null;
  }
  /** ct_state and ct_mark of a lookup; a reply seen by the lookup establishes the connection. */
  lookup(zone: bigint, p: Packet): { state: bigint; mark: bigint } {
    if (this.key(zone, p, false) === null) return { state: CT_FIELDS.trk | CT_FIELDS.inv, mark: 0n };
    const f = this.find(zone, p);
    // As OVS's conntrack: an ICMP echo reply cannot start a connection (nor a TCP segment other than a SYN,
    // not modelled: the simulated packets carry no flags).
    if (!f && p.ip_proto === 1n && p.icmpv4_type === 0n) return { state: CT_FIELDS.trk | CT_FIELDS.inv, mark: 0n };
    if (!f) return { state: CT_FIELDS.trk | CT_FIELDS.new, mark: 0n };
    if (f.reply) {
      f.entry.replied = true;
      return { state: CT_FIELDS.trk | CT_FIELDS.est | CT_FIELDS.rpl, mark: f.entry.mark };
    }
    return { state: CT_FIELDS.trk | (f.entry.replied ? CT_FIELDS.est : CT_FIELDS.new), mark: f.entry.mark };
  }
  /** ct(commit): creates the entry if needed, then runs the exec loads on its mark. */
  commit(zone: bigint, p: Packet, markLoads: readonly { range: FieldRange; value: bigint }[] = []): void {
    let f = this.find(zone, p);
    if (!f) {
      const k = this.key(zone, p, false);
      if (k === null) return;
      const entry = { replied: false, mark: 0n };
      this.entries.set(k, entry);
      f = { entry, reply: false };
    }
    const holder: Packet = { ct_mark: f.entry.mark };
    for (const l of markLoads) writeRange(holder, l.range, l.value);
    f.entry.mark = holder.ct_mark ?? 0n;
  }
}

/** One switch's flow table, with lookup and execution. */
export class SimSwitch {
  private readonly byTable = new Map<number, Flow[]>();
  /** Guards against loops (resubmit chains): OVS's limit is similar in spirit. */
  private depth = 0;

  /** `conntrack` may come from another SimSwitch: new flows over the same connections, as after a rule change. */
  constructor(
    flows: readonly Flow[],
    readonly conntrack = new SimConntrack(),
  ) {
    for (const f of flows) {
      let t = this.byTable.get(f.table);
      if (!t) this.byTable.set(f.table, (t = []));
      t.push(f);
    }
    for (const t of this.byTable.values()) t.sort((a, b) => b.priority - a.priority);
  }

  /** Adds a flow (as learn() does): one of the same identity is replaced. */
  add(f: Flow): void {
    let t = this.byTable.get(f.table);
    if (!t) this.byTable.set(f.table, (t = []));
    const k = flowKey(f);
    const i = t.findIndex((x) => flowKey(x) === k);
    if (i >= 0) t.splice(i, 1);
    t.push(f);
    t.sort((a, b) => b.priority - a.priority);
  }

  /** Every flow in the switch now, learned ones included. */
  installed(): Flow[] {
    return [...this.byTable.values()].flat();
  }

  /** Removes every flow `which` selects (a learned flow's idle timeout, in a test). Returns how many went. */
  forget(which: (f: Flow) => boolean): number {
    let n = 0;
    for (const [table, t] of this.byTable) {
      const keep = t.filter((f) => !which(f));
      n += t.length - keep.length;
      this.byTable.set(table, keep);
    }
    return n;
  }

  /** Run a packet entering on in_port (must be in `packet`) from table 0. */
  inject(packet: PacketInput): SimResult {
    const p = toPacket(packet);
    for (const f of PIPELINE_FIELDS) p[f] = 0n;
    const res: SimResult = { outputs: [], packetIns: [], path: [], drops: [] };
    this.depth = 0;
    this.runTable(0, p, res);
    return res;
  }

  private matches(f: Flow, p: Packet, conj: Set<bigint>): boolean {
    for (const [name, e] of Object.entries(f.match)) {
      if (!e) continue;
      if (name === 'conj_id') {
        if (!conj.has(big(e.value))) return false;
        continue;
      }
      // vlan_vid is always defined in OpenFlow: 0 (OFPVID_NONE) on an untagged frame.
      const v = p[name as FieldName] ?? (name === 'vlan_vid' ? 0n : undefined);
      if (v === undefined) return false;
      const mask = e.mask === undefined ? (1n << BigInt(width(name))) - 1n : big(e.mask);
      if ((v & mask) !== (big(e.value) & mask)) return false;
    }
    return true;
  }

  private lookup(table: number, p: Packet): Flow | undefined {
    const flows = this.byTable.get(table) ?? [];
    // Conjunctive matches: a conj id is satisfied when every clause has a matching flow (ovs-fields(7)).
    const clauses = new Map<bigint, { n: number; seen: Set<number> }>();
    for (const f of flows) {
      const cj = conjunctions(f);
      if (cj.length === 0 || !this.matches(f, p, new Set())) continue;
      for (const c of cj) {
        const id = BigInt(c.id);
        let s = clauses.get(id);
        if (!s) clauses.set(id, (s = { n: c.nClauses, seen: new Set() }));
        s.seen.add(c.clause);
      }
    }
    const sat = new Set<bigint>();
    for (const [id, s] of clauses) if (s.seen.size >= s.n) sat.add(id);
    for (const f of flows) {
      if (conjunctions(f).length > 0) continue;
      if (this.matches(f, p, sat)) return f;
    }
    return undefined;
  }

  private runTable(table: number, p: Packet, res: SimResult, metered: readonly number[] = []): void {
    if (++this.depth > 64) throw new Error('simulator: resubmit/goto depth exceeded (loop?)');
    const f = this.lookup(table, p);
    if (!f) {
      res.drops.push(`no flow in ${tableName(table) ?? table}`);
      return;
    }
    res.path.push({
      table,
      tableName: tableName(table) ?? String(table),
      priority: f.priority,
      cookie: f.cookie,
      owner: describeCookie(f.cookie).text,
    });
    let next: number | null = null;
    const meters = [...metered];
    let acted = false;
    for (const ins of f.instructions) {
      switch (ins.type) {
        case 'apply_actions':
          acted = true;
          if (!this.execute(ins.actions, p, res, table, meters, f.cookie)) return;
          break;
        case 'write_metadata':
          p.metadata = ((p.metadata ?? 0n) & ~ins.mask) | (ins.value & ins.mask);
          break;
        case 'goto_table':
          next = ins.table;
          break;
        case 'meter':
          meters.push(ins.meterId);
          break;
        default:
          throw new Error(`simulator: unsupported instruction ${(ins as Instruction).type}`);
      }
    }
    if (next !== null) this.runTable(next, p, res, meters);
    else if (!acted) res.drops.push(`dropped in ${tableName(table) ?? table} (priority ${f.priority})`);
  }

  /** Returns false when the packet is dropped mid-list (dec_ttl to zero). */
  private execute(
    actions: readonly Action[],
    p: Packet,
    res: SimResult,
    table: number,
    meters: readonly number[],
    cookie: bigint,
  ): boolean {
    for (const a of actions) {
      switch (a.type) {
        case 'output': {
          const inPort = p.in_port ?? 0n;
          if (a.port === OFPP.IN_PORT) res.outputs.push({ port: Number(inPort), packet: { ...p } });
          else if (a.port === OFPP.CONTROLLER)
            res.packetIns.push({ cookie, table, meters: [...meters], packet: { ...p } });
          else if (BigInt(a.port) === inPort)
            break; // OpenFlow never sends a packet back out of its in_port
          else res.outputs.push({ port: a.port, packet: { ...p } });
          break;
        }
        case 'controller':
          res.packetIns.push({ cookie, table, meters: [...meters], packet: { ...p } });
          break;
        case 'set_field':
          p[a.field] = big(a.value);
          break;
        case 'move':
          writeRange(p, a.dst, readRange(p, a.src));
          break;
        case 'load':
          writeRange(p, a.dst, big(a.value));
          break;
        case 'dec_ttl':
        case 'dec_nw_ttl': {
          const ttl = p.nw_ttl ?? 64n;
          if (ttl <= 1n) {
            res.drops.push('ttl expired');
            return false;
          }
          p.nw_ttl = ttl - 1n;
          break;
        }
        case 'resubmit': {
          if (a.table === undefined) throw new Error('simulator: resubmit without table');
          const saved = this.depth;
          this.runTable(a.table, p, res, meters);
          this.depth = saved;
          break;
        }
        case 'ct': {
          const zone = a.zone === undefined ? 0n : typeof a.zone === 'number' ? BigInt(a.zone) : readRange(p, a.zone);
          if (a.commit) {
            const loads = (a.exec ?? []).map((x) => {
              if (x.type !== 'load' || x.dst.field !== 'ct_mark')
                throw new Error(`simulator: ct exec supports ct_mark loads only, not ${x.type}`);
              return { range: x.dst, value: big(x.value) };
            });
            this.conntrack.commit(zone, p, loads);
          }
          if (a.table !== undefined) {
            // ct(table=N) forks: a copy continues in table N with ct_state set; this copy goes on untracked.
            const ct = this.conntrack.lookup(zone, p);
            const copy: Packet = { ...p, ct_state: ct.state, ct_mark: ct.mark, ct_zone: zone };
            const saved = this.depth;
            this.runTable(a.table, copy, res, meters);
            this.depth = saved;
          }
          break;
        }
        case 'check_pkt_larger':
          writeRange(p, a.dst, (p.frame_len ?? 64n) > BigInt(a.pktLen) ? 1n : 0n);
          break;
        case 'conjunction':
          break;
        case 'push_vlan':
          // A new tag: VID 0 with OFPVID_PRESENT, until a set_field names the VID.
          p.vlan_vid = 0x1000n;
          break;
        case 'pop_vlan':
          delete p.vlan_vid;
          break;
        case 'learn':
          this.add(learnedFlow(a, p));
          break;
        default:
          throw new Error(`simulator: unsupported action ${a.type}`);
      }
    }
    return true;
  }
}

/** The flow learn() writes for packet `p`: its match and output taken from the packet as the specs say. */
function learnedFlow(a: Extract<Action, { type: 'learn' }>, p: Packet): Flow {
  const m: Packet = {};
  const masks: Partial<Record<FieldName, bigint>> = {};
  const actions: Action[] = [];
  for (const s of a.specs) {
    if (s.kind === 'match-field' || s.kind === 'match-value') {
      const v = s.kind === 'match-field' ? readRange(p, s.src) : big(s.value);
      writeRange(m, s.dst, v);
      const bits = ((1n << BigInt(s.dst.nBits)) - 1n) << BigInt(s.dst.start);
      masks[s.dst.field] = (masks[s.dst.field] ?? 0n) | bits;
    } else if (s.kind === 'output') actions.push({ type: 'output', port: Number(readRange(p, s.src)) });
    else throw new Error(`simulator: learn ${s.kind} not modelled`);
  }
  const match: Flow['match'] = {};
  for (const [f, v] of Object.entries(m) as [FieldName, bigint][]) {
    const mask = masks[f]!;
    const full = (1n << BigInt(width(f))) - 1n;
    const num = width(f) <= 32;
    match[f] =
      mask === full ? { value: num ? Number(v) : v } : { value: num ? Number(v) : v, mask: num ? Number(mask) : mask };
  }
  return {
    table: a.table,
    priority: a.priority,
    cookie: a.cookie ?? 0n,
    match,
    instructions: actions.length > 0 ? [{ type: 'apply_actions', actions }] : [],
    ...(a.idleTimeout ? { idleTimeout: a.idleTimeout } : {}),
  };
}

function conjunctions(f: Flow): { id: number; clause: number; nClauses: number }[] {
  const out: { id: number; clause: number; nClauses: number }[] = [];
  for (const ins of f.instructions)
    if (ins.type === 'apply_actions') for (const a of ins.actions) if (a.type === 'conjunction') out.push(a);
  return out;
}

// Flow identity and the desired-vs-installed diff: the ordered FlowMods that move a switch from one set to another.
import type { FieldName, FieldValue, Flow, FlowMod, Match, MatchEntry } from '../../openflow/types.js';
import type { Action } from '../../openflow/types.js';
import { COOKIE_MASK_EXACT, isLearned } from './cookies.js';
import { TABLE } from './tables.js';

/** Widths of the fields the pipeline matches, so a full mask reads the same as an exact match. */
const WIDTH: Partial<Record<FieldName, number>> = {
  in_port: 32,
  metadata: 64,
  eth_dst: 48,
  eth_src: 48,
  eth_type: 16,
  ip_proto: 8,
  ipv4_src: 32,
  ipv4_dst: 32,
  arp_spa: 32,
  arp_tpa: 32,
  arp_sha: 48,
  arp_tha: 48,
  arp_op: 16,
  tcp_src: 16,
  tcp_dst: 16,
  udp_src: 16,
  udp_dst: 16,
  icmpv4_type: 8,
  icmpv4_code: 8,
  tunnel_id: 64,
  ct_state: 32,
  ct_mark: 32,
  conj_id: 32,
  reg0: 32,
  reg1: 32,
  reg2: 32,
  reg3: 32,
  reg4: 32,
  reg5: 32,
  reg6: 32,
  reg7: 32,
};

function hex(v: FieldValue): string {
  return v.toString(16);
}

/** Canonical text of a match: fields sorted, masked values reduced, full masks dropped. */
export function matchKey(match: Match): string {
  const names = Object.keys(match) as FieldName[];
  if (names.length > 1) names.sort();
  let out = '';
  for (const f of names) {
    const e = match[f];
    if (!e) continue;
    let part: string;
    if (e.mask === undefined) part = `${f}=${hex(e.value)}`;
    else if (typeof e.value === 'number' && typeof e.mask === 'number') {
      // 32-bit and narrower fields: plain number arithmetic (BigInt is slow on the hot path).
      const w = WIDTH[f] ?? 32;
      const full = w >= 32 ? 0xffffffff : 2 ** w - 1;
      const m = e.mask >>> 0;
      if (m === full) part = `${f}=${hex(e.value >>> 0)}`;
      else if (m === 0)
        continue; // a zero mask matches everything: OVS stores no match at all
      else part = `${f}=${hex((e.value & m) >>> 0)}/${hex(m)}`;
    } else {
      const v = BigInt(e.value);
      const m = BigInt(e.mask);
      const w = WIDTH[f];
      const full = w !== undefined ? (1n << BigInt(w)) - 1n : -1n;
      if (m === full) part = `${f}=${hex(v)}`;
      else if (m === 0n) continue;
      else part = `${f}=${hex(v & m)}/${hex(m)}`;
    }
    out = out ? `${out},${part}` : part;
  }
  return out;
}

// Flows are immutable once built, and an owner's flows meet the diff twice (new, then old on its next
// recompute): each key is computed once per flow object.
const identityKeys = new WeakMap<Flow, string>();

/** A flow's identity in its table: (table, priority, match). Two flows with one identity cannot coexist. */
export function flowKey(f: Flow): string {
  let k = identityKeys.get(f);
  if (k === undefined) {
    k = `${f.table}/${f.priority}/${matchKey(f.match)}`;
    identityKeys.set(f, k);
  }
  return k;
}

/** Canonical text of a value: like JSON, with bigints and byte arrays spelled out. */
function stable(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      return JSON.stringify(v);
    default:
      break;
  }
  if (v instanceof Uint8Array) return `x${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + stable(v[i]);
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    out += `${first ? '' : ','}${k}:${stable(x)}`;
    first = false;
  }
  return `${out}}`;
}

/** What a flow does (everything but its identity and cookie): instructions and timeouts, as one value. */
function body(f: Flow): unknown[] {
  return [f.instructions, f.idleTimeout ?? 0, f.hardTimeout ?? 0, f.flags ?? 0, f.importance ?? 0];
}

/** What a flow does, as text (flowKey's counterpart for the body): two flows do the same iff their texts are equal. */
export function flowBodyKey(f: Flow): string {
  return stable(body(f));
}

// ---------------------------------------------------------------- hashed keys for the diff
// The diff pairs thousands of flows (a restart: the whole table, 7,000 flows at 1,000 ports, twice). Building
// flowKey's and flowBodyKey's text for each cost more than everything else in the diff (strings built piece by
// piece, then flattened to be hashed: 0.4–0.8 s of 5,054 flows at load 16, and most of the garbage). The diff
// keys each flow by two 32-bit numbers instead, made by walking the flow once without allocating: the identity's
// hash and the body's. Equal hashes are then confirmed field by field (sameIdentity, sameBody), so a collision
// costs a comparison, never a wrong answer. Both hashes and both comparisons follow flowKey's and flowBodyKey's
// rules exactly (test/agent/pipeline/diff.test.ts checks that they agree).

const idHashes = new WeakMap<Flow, number>();
const bodyHashes = new WeakMap<Flow, number>();

const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193) >>> 0;
/** Spreads a hash's bits (murmur3's finaliser): sums of per-field hashes stay well distributed. */
function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
function mixString(h: number, s: string): number {
  let x = mix(h, s.length);
  for (let i = 0; i < s.length; i++) x = mix(x, s.charCodeAt(i));
  return x;
}
/** An integer, a number or a bigint of the same value hashing alike (matchKey spells both in hex). */
function mixInt(h: number, v: number | bigint): number {
  if (typeof v === 'number') {
    if (v >= 0 && v <= 0xffffffff && Number.isInteger(v)) return mix(h, v);
    return mixString(h, String(v));
  }
  if (v >= 0n && v <= 0xffffffffn) return mix(h, Number(v));
  let x = mix(h, v < 0n ? 1 : 2);
  for (let r = v < 0n ? -v : v; r > 0n; r >>= 32n) x = mix(x, Number(r & 0xffffffffn));
  return x;
}

const nameHashes = new Map<string, number>();
function nameHash(name: string): number {
  let h = nameHashes.get(name);
  if (h === undefined) {
    h = mixString(0x811c9dc5, name);
    nameHashes.set(name, h);
  }
  return h;
}

// reduce()'s answer, in two variables rather than a new object per field.
let rValue: number | bigint = 0;
let rMask: number | bigint | undefined;
/** One match entry as matchKey reads it: false when its mask is zero (it matches everything, OVS stores nothing). */
function reduce(f: FieldName, e: MatchEntry): boolean {
  if (e.mask === undefined) {
    rValue = e.value;
    rMask = undefined;
    return true;
  }
  if (typeof e.value === 'number' && typeof e.mask === 'number') {
    const w = WIDTH[f] ?? 32;
    const full = w >= 32 ? 0xffffffff : 2 ** w - 1;
    const m = e.mask >>> 0;
    if (m === 0) return false;
    rValue = m === full ? e.value >>> 0 : (e.value & m) >>> 0;
    rMask = m === full ? undefined : m;
    return true;
  }
  const v = BigInt(e.value);
  const m = BigInt(e.mask);
  const w = WIDTH[f];
  const full = w !== undefined ? (1n << BigInt(w)) - 1n : -1n;
  if (m === 0n) return false;
  rValue = m === full ? v : v & m;
  rMask = m === full ? undefined : m;
  return true;
}

const sameInt = (a: number | bigint, b: number | bigint): boolean =>
  typeof a === typeof b ? a === b : BigInt(a) === BigInt(b);

/** flowKey as a number (exported for tests): table, priority and the match's fields, summed so that their order does not matter. */
export function identityHash(f: Flow): number {
  let h = idHashes.get(f);
  if (h !== undefined) return h;
  let fields = 0;
  const m = f.match;
  for (const name in m) {
    const e = m[name as FieldName];
    if (!e || !reduce(name as FieldName, e)) continue;
    let x = mixInt(nameHash(name), rValue);
    x = rMask === undefined ? mix(x, 0) : mixInt(mix(x, 1), rMask);
    fields = (fields + fmix(x)) >>> 0;
  }
  h = fmix(mix(mix(mix(0x811c9dc5, f.table), f.priority >>> 0), fields));
  idHashes.set(f, h);
  return h;
}

/** Whether two flows have one identity (flowKey(a) === flowKey(b)), field by field. */
export function sameIdentity(a: Flow, b: Flow): boolean {
  if (a.table !== b.table || a.priority !== b.priority) return false;
  let n = 0;
  for (const name in a.match) {
    const e = a.match[name as FieldName];
    if (!e || !reduce(name as FieldName, e)) continue;
    n++;
    const o = b.match[name as FieldName];
    const av = rValue;
    const am = rMask;
    if (!o || !reduce(name as FieldName, o)) return false;
    if (!sameInt(av, rValue)) return false;
    if (am === undefined ? rMask !== undefined : rMask === undefined || !sameInt(am, rMask)) return false;
  }
  for (const name in b.match) {
    const e = b.match[name as FieldName];
    if (e && reduce(name as FieldName, e)) n--;
  }
  return n === 0;
}

const T_NULL = 1;
const T_NUM = 2;
const T_BOOL = 3;
const T_BIG = 4;
const T_STR = 5;
const T_BYTES = 6;
const T_ARR = 7;
const T_OBJ = 8;

/** stable()'s text as a number: the same walk, no string built. */
function mixValue(h: number, v: unknown): number {
  if (v === null || v === undefined) return mix(h, T_NULL);
  switch (typeof v) {
    case 'number':
      // String(v) is what stable compares: -0 reads as 0.
      return Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff
        ? mix(mix(h, T_NUM), v | 0)
        : mixString(mix(h, T_NUM), String(v));
    case 'boolean':
      return mix(mix(h, T_BOOL), v ? 1 : 0);
    case 'bigint':
      return mixInt(mix(h, T_BIG), v);
    case 'string':
      return mixString(mix(h, T_STR), v);
    default:
      break;
  }
  if (v instanceof Uint8Array) {
    let x = mix(mix(h, T_BYTES), v.length);
    for (let i = 0; i < v.length; i++) x = mix(x, v[i]!);
    return x;
  }
  if (Array.isArray(v)) {
    let x = mix(mix(h, T_ARR), v.length);
    for (let i = 0; i < v.length; i++) x = mixValue(x, v[i]);
    return x;
  }
  let x = mix(h, T_OBJ);
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const y = o[k];
    if (y === undefined) continue;
    x = mixValue(mixString(x, k), y);
  }
  return mix(x, T_OBJ);
}

/** Whether stable(a) === stable(b), without building either. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined) return b === null || b === undefined;
  const t = typeof a;
  if (t !== 'object') {
    if (typeof b !== t) return false;
    // Numbers as stable spells them (NaN = NaN, -0 = 0); the rest are primitives compared by value already.
    return t === 'number' && String(a) === String(b);
  }
  if (typeof b !== 'object' || b === null) return false;
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (b instanceof Uint8Array) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // The same keys with a defined value, each with the same value (counted rather than listed: no array per
  // object). Their order is not compared: the codec writes each kind of object's keys in one order.
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  let n = 0;
  for (const k in oa) {
    const x = oa[k];
    if (x === undefined) continue;
    n++;
    if (!sameValue(x, ob[k])) return false;
  }
  for (const k in ob) if (ob[k] !== undefined) n--;
  return n === 0;
}

function bodyHash(f: Flow): number {
  let h = bodyHashes.get(f);
  if (h === undefined) {
    h = mixValue(mixValue(0x811c9dc5, f.instructions), [
      f.idleTimeout ?? 0,
      f.hardTimeout ?? 0,
      f.flags ?? 0,
      f.importance ?? 0,
    ]);
    bodyHashes.set(f, h);
  }
  return h;
}

/** Whether two flows do the same (flowBodyKey(a) === flowBodyKey(b)): their hashes first, then field by field. */
export function sameBody(a: Flow, b: Flow): boolean {
  return a === b || (bodyHash(a) === bodyHash(b) && sameValue(body(a), body(b)));
}

/** Computes the flows' identity and body hashes now (both kept per flow): a later diff hashes only the other side. */
export function keyFlows(flows: readonly Flow[]): void {
  for (const f of flows) {
    identityHash(f);
    bodyHash(f);
  }
}

/** Flows by identity: one per identity, the first added; found by hash, confirmed by sameIdentity. */
class FlowIndex {
  private readonly first = new Map<number, Flow>();
  /** Further flows whose identity hash collides with another identity's (rare). */
  private more: Map<number, Flow[]> | null = null;

  get(f: Flow): Flow | undefined {
    const h = identityHash(f);
    const a = this.first.get(h);
    if (a === undefined) return undefined;
    if (sameIdentity(a, f)) return a;
    for (const b of this.more?.get(h) ?? []) if (sameIdentity(b, f)) return b;
    return undefined;
  }

  /** Adds `f` unless a flow of its identity is there already (then false). */
  add(f: Flow): boolean {
    const h = identityHash(f);
    const a = this.first.get(h);
    if (a === undefined) {
      this.first.set(h, f);
      return true;
    }
    if (this.get(f) !== undefined) return false;
    this.more ??= new Map();
    const list = this.more.get(h);
    if (list) list.push(f);
    else this.more.set(h, [f]);
    return true;
  }

  *values(): IterableIterator<Flow> {
    yield* this.first.values();
    if (this.more) for (const list of this.more.values()) yield* list;
  }
}

/**
 * Ordered FlowMods turning `installed` into `desired`:
 *   1. adds (new identities, and changed cookies — an add replaces the flow whole, cookie included, while
 *      OF 1.3 modify keeps the old cookie),
 *   2. modify_strict (same identity and cookie, new instructions: counters survive),
 *   3. delete_strict of identities no longer desired.
 * Adds and modifies precede deletes so no packet meets a hole between the old flow and its replacement.
 * Identical sets give an empty list. Duplicate identities in `desired`: the first wins. Flows the switch learned
 * (a MAC behind a promiscuous port) are not the agent's: they are left to age out, so a restart keeps them.
 * Linear: each flow is hashed once (keyFlows may have done it already) and looked up once.
 *
 * `canonical` (the codec's normalizeFlow, when `installed` is a flow dump): a desired flow the switch holds exactly
 * as built is settled as it is; only the others are put in canonical form and compared again. The compiler builds
 * nearly every flow in canonical form already (5,048 of 5,054 at 1,000 ports), so a restart no longer makes a
 * canonical copy of the whole table (150–470 ms of 5,054 flows at load 14–25) before it can diff.
 */
export function diffFlows(
  installed: readonly Flow[],
  desired: readonly Flow[],
  canonical?: (f: Flow) => Flow,
): FlowMod[] {
  const have = new FlowIndex();
  for (const f of installed) if (!isLearned(f.cookie)) have.add(f);
  const adds: FlowMod[] = [];
  const mods: FlowMod[] = [];
  const seen = new FlowIndex();
  // The learn() flows as compared: forgetLearned must read them in the dump's (canonical) form, or a learn built
  // in another spelling looks gone and a restart would delete what the switch learned.
  const promiscuous: Flow[] = [];
  for (const d of desired) {
    let f = d;
    if (canonical) {
      const held = have.get(d);
      if (!held || held.cookie !== d.cookie || !sameBody(held, d)) f = canonical(d);
    }
    if (f.table === TABLE.promiscuous_port) promiscuous.push(f);
    if (!seen.add(f)) continue;
    const old = have.get(f);
    if (!old) adds.push({ command: 'add', flow: f });
    else if (old.cookie !== f.cookie) adds.push({ command: 'add', flow: f });
    else if (!sameBody(old, f)) mods.push({ command: 'modify_strict', flow: f });
  }
  const dels: FlowMod[] = [];
  for (const f of have.values()) if (seen.get(f) === undefined) dels.push({ command: 'delete_strict', flow: f });
  return [...adds, ...mods, ...dels, ...forgetLearned(installed, promiscuous)];
}

/** The learn() actions of promiscuous_port flows, by their canonical text. */
function learnActions(flows: readonly Flow[]): Map<string, Extract<Action, { type: 'learn' }>> {
  const out = new Map<string, Extract<Action, { type: 'learn' }>>();
  for (const f of flows) {
    if (f.table !== TABLE.promiscuous_port) continue;
    for (const i of f.instructions)
      if (i.type === 'apply_actions') for (const a of i.actions) if (a.type === 'learn') out.set(stable(a), a);
  }
  return out;
}

/**
 * What a learn() that goes away (its port left the network, was deleted, moved to another ofport) had learned
 * must go with it, or a MAC would stay switched to the port in a network it no longer bridges until it ages out:
 * one delete by the learned flows' cookie (they are the switch's, so nothing else names them).
 */
function forgetLearned(installed: readonly Flow[], desired: readonly Flow[]): FlowMod[] {
  const before = learnActions(installed);
  if (before.size === 0) return [];
  const after = learnActions(desired);
  const mods: FlowMod[] = [];
  for (const [k, a] of before)
    if (!after.has(k) && a.cookie !== undefined)
      mods.push({
        command: 'delete',
        flow: { table: a.table, priority: 0, cookie: a.cookie, match: {}, instructions: [] },
        cookieMask: COOKIE_MASK_EXACT,
      });
  return mods;
}

/** Apply FlowMods to a flow list the way a switch would (identity-keyed); used by tests and the simulator. */
export function applyFlowMods(installed: readonly Flow[], mods: readonly FlowMod[]): Flow[] {
  const table = new Map<string, Flow>();
  for (const f of installed) table.set(flowKey(f), f);
  for (const m of mods) {
    const k = flowKey(m.flow);
    switch (m.command) {
      case 'add':
        table.set(k, m.flow);
        break;
      case 'modify_strict': {
        const old = table.get(k);
        if (old) table.set(k, { ...old, instructions: m.flow.instructions });
        break;
      }
      case 'delete_strict':
        table.delete(k);
        break;
      case 'delete': {
        // By cookie (forgetLearned): every flow of the table whose cookie matches under the mask.
        const mask = m.cookieMask ?? 0n;
        for (const [key, f] of table)
          if (f.table === m.flow.table && (f.cookie & mask) === (m.flow.cookie & mask)) table.delete(key);
        break;
      }
      default:
        throw new Error(`applyFlowMods: ${m.command} is not used by flow sync`);
    }
  }
  return [...table.values()];
}

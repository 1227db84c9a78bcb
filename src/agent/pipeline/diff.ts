// Flow identity and the desired-vs-installed diff: the ordered FlowMods that move a switch from one set to another.
import type { FieldName, FieldValue, Flow, FlowMod, Match } from '../../openflow/types.js';
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
const bodyKeys = new WeakMap<Flow, string>();

/** A flow's identity in its table: (table, priority, match). Two flows with one identity cannot coexist. */
export function flowKey(f: Flow): string {
  let k = identityKeys.get(f);
  if (k === undefined) {
    k = `${f.table}/${f.priority}/${matchKey(f.match)}`;
    identityKeys.set(f, k);
  }
  return k;
}

/** Canonical text of a value: like JSON, with bigints and byte arrays spelled out; fast on the diff's hot path. */
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

/** What a flow does (everything but its identity and cookie): instructions and timeouts. */
export function flowBodyKey(f: Flow): string {
  let k = bodyKeys.get(f);
  if (k === undefined) {
    k = stable([f.instructions, f.idleTimeout ?? 0, f.hardTimeout ?? 0, f.flags ?? 0, f.importance ?? 0]);
    bodyKeys.set(f, k);
  }
  return k;
}

/** Computes the flows' identity and body keys now (both are cached per flow): a later diff keys only the other side. */
export function keyFlows(flows: readonly Flow[]): void {
  for (const f of flows) {
    flowKey(f);
    flowBodyKey(f);
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
 */
export function diffFlows(installed: readonly Flow[], desired: readonly Flow[]): FlowMod[] {
  const have = new Map<string, Flow>();
  for (const f of installed) {
    if (isLearned(f.cookie)) continue;
    const k = flowKey(f);
    if (!have.has(k)) have.set(k, f);
  }
  const adds: FlowMod[] = [];
  const mods: FlowMod[] = [];
  const seen = new Set<string>();
  for (const f of desired) {
    const k = flowKey(f);
    if (seen.has(k)) continue;
    seen.add(k);
    const old = have.get(k);
    if (!old) adds.push({ command: 'add', flow: f });
    else if (old.cookie !== f.cookie) adds.push({ command: 'add', flow: f });
    else if (old !== f && flowBodyKey(old) !== flowBodyKey(f)) mods.push({ command: 'modify_strict', flow: f });
  }
  const dels: FlowMod[] = [];
  for (const [k, f] of have) if (!seen.has(k)) dels.push({ command: 'delete_strict', flow: f });
  return [...adds, ...mods, ...dels, ...forgetLearned(installed, desired)];
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

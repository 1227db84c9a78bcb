// normalizeFlow(): the canonical form of a Flow, i.e. exactly what decoding our encoding (or OVS's flow stats) yields.
// The agent compares normalizeFlow(desired) with dumpFlows() results to find what to change.
import { sortInstructions, splitMaskedSetField } from './actions.js';
import { OFPCML_NO_BUFFER, OFPR } from './constants.js';
import { canonicalMask, canonicalValue, FIELDS, fieldDef } from './fields.js';
import {
  type Action,
  type FieldName,
  type Flow,
  type Instruction,
  type LearnSpec,
  type Match,
  type MatchEntry,
  OFPP,
  type FieldRange,
} from './types.js';

const valueFor = (v: bigint, bits: number) => (bits > 32 ? v : Number(v));

export function normalizeMatch(match: Match): Match {
  const flat = new Map<FieldName, MatchEntry>();
  for (const [k, e] of Object.entries(match) as [FieldName, MatchEntry | undefined][]) {
    if (!e) continue;
    if (!k.startsWith('xreg')) {
      flat.set(k, e);
      continue;
    }
    const n = Number(k.slice(4));
    const v = BigInt(e.value);
    const m = e.mask === undefined ? (1n << 64n) - 1n : BigInt(e.mask);
    const hi = { value: Number(v >> 32n), mask: Number(m >> 32n) };
    const lo = { value: Number(v & 0xffffffffn), mask: Number(m & 0xffffffffn) };
    if (hi.mask) flat.set(`reg${2 * n}` as FieldName, hi);
    if (lo.mask) flat.set(`reg${2 * n + 1}` as FieldName, lo);
  }
  const out: Match = {};
  for (const def of FIELDS) {
    const e = flat.get(def.name);
    if (!e) continue;
    const m = canonicalMask(def, e.mask);
    if (m === 0n) continue;
    const value = canonicalValue(def, e.value);
    out[def.name] = m === undefined ? { value } : { value, mask: canonicalValue(def, m) };
  }
  return out;
}

/** Canonical form of one action; a masked set_field may become several loads, hence maybe a list. */
export function normalizeAction(a: Action): Action | Action[] {
  switch (a.type) {
    case 'output': {
      const dflt = a.port === OFPP.CONTROLLER ? OFPCML_NO_BUFFER : 0;
      return a.maxLen === undefined || a.maxLen === dflt
        ? { type: 'output', port: a.port }
        : { type: 'output', port: a.port, maxLen: a.maxLen };
    }
    case 'dec_ttl':
      return { type: 'dec_nw_ttl' };
    case 'set_field': {
      const def = fieldDef(a.field);
      const full = (1n << BigInt(def.oxm.width * 8)) - 1n;
      const value = canonicalValue(def, a.value);
      if (a.mask === undefined || BigInt(a.mask) === full) return { type: 'set_field', field: a.field, value };
      const split = splitMaskedSetField(a);
      if (split.length > 1 || split[0]?.type === 'load') return split.map((x) => normalizeAction(x) as Action);
      return { type: 'set_field', field: a.field, value, mask: canonicalValue(def, a.mask) };
    }
    case 'load': {
      if (a.dst.nBits > 64) {
        const def = fieldDef(a.dst.field);
        const mask = ((1n << BigInt(a.dst.nBits)) - 1n) << BigInt(a.dst.start);
        const value = BigInt(a.value) << BigInt(a.dst.start);
        if (mask === (1n << BigInt(def.oxm.width * 8)) - 1n)
          return { type: 'set_field', field: a.dst.field, value: canonicalValue(def, value) };
        return {
          type: 'set_field',
          field: a.dst.field,
          value: canonicalValue(def, value),
          mask: canonicalValue(def, mask),
        };
      }
      return { type: 'load', dst: { ...a.dst }, value: valueFor(BigInt(a.value), a.dst.nBits) };
    }
    case 'resubmit': {
      const r: Extract<Action, { type: 'resubmit' }> = { type: 'resubmit' };
      if (a.port !== undefined && a.port !== OFPP.IN_PORT) r.port = a.port;
      if (a.table !== undefined && a.table !== 0xff) r.table = a.table;
      if (a.ct) r.ct = true;
      return r;
    }
    case 'ct': {
      const c: Extract<Action, { type: 'ct' }> = { type: 'ct' };
      if (a.commit) c.commit = true;
      if (a.force) c.force = true;
      if (typeof a.zone === 'object') c.zone = { ...a.zone };
      else if (a.zone) c.zone = a.zone;
      if (a.table !== undefined && a.table !== 0xff) c.table = a.table;
      if (a.alg) c.alg = a.alg;
      if (a.exec?.length) c.exec = normalizeActions(a.exec);
      if (a.nat) {
        if (a.nat.kind === 'none') c.nat = { kind: 'none' };
        else {
          const n: typeof a.nat = { kind: a.nat.kind };
          if (a.nat.ipMin !== undefined) n.ipMin = a.nat.ipMin;
          if (a.nat.ipMax !== undefined) n.ipMax = a.nat.ipMax;
          if (a.nat.portMin !== undefined) n.portMin = a.nat.portMin;
          if (a.nat.portMax !== undefined) n.portMax = a.nat.portMax;
          if (a.nat.persistent) n.persistent = true;
          if (a.nat.random) n.random = true;
          c.nat = n;
        }
      }
      return c;
    }
    case 'note': {
      // The wire pads a note to 8 bytes (6 payload bytes at least); decoding returns the padding.
      const total = Math.max(16, Math.ceil((10 + a.data.length) / 8) * 8);
      const data = new Uint8Array(total - 10);
      data.set(a.data);
      return { type: 'note', data };
    }
    case 'controller': {
      const reason = a.reason ?? OFPR.ACTION;
      const id = a.controllerId ?? 0;
      const maxLen = a.maxLen ?? OFPCML_NO_BUFFER;
      const userdata = a.userdata?.length ? a.userdata : undefined;
      if (userdata === undefined && !a.pause && a.meterId === undefined && reason === OFPR.ACTION && id === 0) {
        return normalizeAction({ type: 'output', port: OFPP.CONTROLLER, maxLen }) as Action;
      }
      const c: Extract<Action, { type: 'controller' }> = { type: 'controller' };
      if (maxLen !== OFPCML_NO_BUFFER) c.maxLen = maxLen;
      if (reason !== OFPR.ACTION) c.reason = reason;
      if (id !== 0) c.controllerId = id;
      if (userdata !== undefined) c.userdata = new Uint8Array(userdata);
      if (a.pause) c.pause = true;
      if (a.meterId !== undefined) c.meterId = a.meterId;
      return c;
    }
    case 'learn': {
      // Keys in the decoder's order (the wire's: nx_action_learn's fields, then the specs), zeros left out as it
      // does: the diff compares flows by their canonical text, so a learn() read back from the switch must read
      // the same as the one built.
      const l = { type: 'learn' } as Extract<Action, { type: 'learn' }>;
      if (a.idleTimeout) l.idleTimeout = a.idleTimeout;
      if (a.hardTimeout) l.hardTimeout = a.hardTimeout;
      l.priority = a.priority;
      if (a.cookie) l.cookie = a.cookie;
      if (a.flags) l.flags = a.flags;
      l.table = a.table;
      if (a.finIdleTimeout) l.finIdleTimeout = a.finIdleTimeout;
      if (a.finHardTimeout) l.finHardTimeout = a.finHardTimeout;
      const r = (x: FieldRange): FieldRange => ({ field: x.field, start: x.start, nBits: x.nBits });
      l.specs = a.specs.map((s): LearnSpec => {
        if (s.kind === 'match-value' || s.kind === 'load-value')
          return { kind: s.kind, dst: r(s.dst), value: valueFor(BigInt(s.value), s.dst.nBits) };
        return s.kind === 'output' ? { kind: 'output', src: r(s.src) } : { kind: s.kind, dst: r(s.dst), src: r(s.src) };
      });
      return l;
    }
    case 'opaque':
      return { type: 'opaque', data: new Uint8Array(a.data) };
    default:
      return { ...a };
  }
}

export function normalizeActions(actions: readonly Action[]): Action[] {
  return actions.flatMap((a) => normalizeAction(a));
}

export function normalizeInstructions(ins: readonly Instruction[]): Instruction[] {
  return sortInstructions(ins.filter((i) => !(i.type === 'apply_actions' && i.actions.length === 0))).map(
    (i): Instruction => {
      if (i.type === 'apply_actions' || i.type === 'write_actions')
        return { type: i.type, actions: normalizeActions(i.actions) };
      if (i.type === 'write_metadata') return { type: 'write_metadata', value: BigInt(i.value), mask: BigInt(i.mask) };
      return { ...i };
    },
  );
}

/** The canonical form of a flow: what decodeMessage(encodeMessage(flow_mod)) and OVS flow stats return. */
export function normalizeFlow(flow: Flow): Flow {
  const out: Flow = {
    table: flow.table,
    priority: flow.priority,
    cookie: flow.cookie,
    match: normalizeMatch(flow.match),
    instructions: normalizeInstructions(flow.instructions),
  };
  if (flow.idleTimeout) out.idleTimeout = flow.idleTimeout;
  if (flow.hardTimeout) out.hardTimeout = flow.hardTimeout;
  if (flow.flags) out.flags = flow.flags;
  return out;
}

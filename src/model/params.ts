// Declarative request parameters: coercion from query/form strings or JSON values, validation naming the field.
import ipaddr from 'ipaddr.js';
import { ArgumentError, InvalidUUID, MissingArgument } from './errors.js';
import { inSubnet, intToIp, ipToInt, isAligned, maskOf } from './ipv4.js';

/** Where no VM, host, next hop or tenant network can be: packets there are never forwarded as unicast. */
export const UNUSABLE_IPV4: readonly { network: string; prefix: number; what: string }[] = [
  { network: '0.0.0.0', prefix: 8, what: '"this network" (0.0.0.0/8)' },
  { network: '127.0.0.0', prefix: 8, what: 'loopback (127.0.0.0/8)' },
  { network: '224.0.0.0', prefix: 4, what: 'multicast (224.0.0.0/4)' },
  { network: '240.0.0.0', prefix: 4, what: 'reserved or broadcast (240.0.0.0/4)' },
];

function usableIpv4(field: string, addr: string): void {
  const bad = UNUSABLE_IPV4.find((r) => inSubnet(addr, r.network, r.prefix));
  if (bad) throw new ArgumentError(field, `${addr} is ${bad.what}, which no endpoint or network can use`);
}

export type ParamType =
  | { t: 'string'; max?: number; pattern?: RegExp; patternText?: string }
  | { t: 'int'; min: number; max: number }
  | { t: 'bool' }
  /** An address of something (a VM, a host, a next hop, a network): not in UNUSABLE_IPV4; `any`: a route destination. */
  | { t: 'ipv4'; any?: true }
  /** Comma-separated IPv4 list. */
  | { t: 'ipv4list' }
  /** "a.b.c.d/n" or a bare address (= /32). */
  | { t: 'cidr' }
  | { t: 'mac' }
  | { t: 'dpid' }
  | { t: 'uuid'; prefix: string }
  | { t: 'enum'; values: readonly string[] }
  /**
   * A list of objects, each with exactly the `item` fields (all required), at most `max` of them; no two may agree
   * on every `key` field. A JSON list, or its JSON text (form bodies and query strings carry only strings).
   */
  | { t: 'records'; item: Readonly<Record<string, ParamType>>; max: number; key: readonly string[] };

export interface ParamSpec {
  name: string;
  type: ParamType;
  required?: boolean;
  /** Accepts "" and JSON null as null (clears an optional field). */
  nullable?: boolean;
  /** OpenAPI description. */
  doc?: string;
}

export type ParamValue = string | number | boolean | null | ParamRecord[];
/** One entry of a `records` parameter: its item fields, coerced. */
export type ParamRecord = Record<string, ParamValue>;
export type Params = Record<string, ParamValue>;

/** Length limit of free-text parameters; longer values are refused instead of stored. */
export const MAX_STRING = 255;
const UUID_TAIL = /^[a-z0-9]{1,16}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;
const DPID_RE = /^(?:0x)?[0-9a-fA-F]{1,16}$/;
const INT_RE = /^[+-]?\d{1,16}$/;

const TRUE = new Set(['true', 't', '1', 'yes', 'y', 'on']);
const FALSE = new Set(['false', 'f', '0', 'no', 'n', 'off']);

export function isUuid(value: string, prefix: string): boolean {
  return value.startsWith(`${prefix}-`) && UUID_TAIL.test(value.slice(prefix.length + 1));
}

export function checkUuid(field: string, value: string, prefix: string): string {
  if (!isUuid(value, prefix)) throw new InvalidUUID(field, value, prefix);
  return value;
}

export function isIpv4(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

/** Canonical lower-case colon form. */
export function normalizeMac(s: string): string {
  return s.toLowerCase();
}

/** 64-bit datapath id as bigint from "0x..." or bare hex. */
export function parseDpid(s: string): bigint {
  return BigInt(s.startsWith('0x') || s.startsWith('0X') ? s : `0x${s}`);
}

export function formatDpid(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

function describe(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

/** A `records` value: each entry's fields coerced under the name `list[i].field`, entries unique by their key. */
function coerceRecords(f: string, ty: Extract<ParamType, { t: 'records' }>, raw: unknown): ParamRecord[] {
  let list = raw;
  if (typeof raw === 'string') {
    try {
      list = JSON.parse(raw);
    } catch {
      throw new ArgumentError(f, `must be a list of objects (JSON), got ${describe(raw)}`);
    }
  }
  if (!Array.isArray(list)) throw new ArgumentError(f, `must be a list of objects, got ${describe(raw)}`);
  if (list.length > ty.max) throw new ArgumentError(f, `at most ${ty.max} entries, got ${list.length}`);
  const names = Object.keys(ty.item);
  const seen = new Map<string, number>();
  return list.map((entry, i) => {
    const at = `${f}[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new ArgumentError(at, `must be an object with ${names.join(', ')}, got ${describe(entry)}`);
    const extra = Object.keys(entry).filter((k) => !(k in ty.item));
    if (extra.length > 0)
      throw new ArgumentError(at, `unknown field '${describe(extra[0])}' (expected ${names.join(', ')})`);
    const out: ParamRecord = {};
    for (const [name, type] of Object.entries(ty.item)) {
      const v = (entry as Record<string, unknown>)[name];
      if (v === undefined) throw new ArgumentError(`${at}.${name}`, 'missing');
      out[name] = coerce({ name: `${at}.${name}`, type }, v);
    }
    const key = JSON.stringify(ty.key.map((k) => out[k]));
    const first = seen.get(key);
    if (first !== undefined)
      throw new ArgumentError(at, `${describe(out)} repeats ${f}[${first}] (same ${ty.key.join(' and ')})`);
    seen.set(key, i);
    return out;
  });
}

/** Coerces one raw value (string from query/form, or a JSON scalar) to the declared type. */
export function coerce(spec: ParamSpec, raw: unknown): ParamValue {
  const f = spec.name;
  if (raw === null || raw === '') {
    if (spec.nullable) return null;
    if (raw === null) throw new ArgumentError(f, 'must not be null');
  }
  if (spec.type.t === 'records') return coerceRecords(f, spec.type, raw);
  if (Array.isArray(raw)) throw new ArgumentError(f, 'must be given once (got a list)');
  if (typeof raw === 'object' || raw === undefined) throw new ArgumentError(f, 'must be a scalar value');
  const ty = spec.type;
  switch (ty.t) {
    case 'string': {
      if (typeof raw !== 'string') throw new ArgumentError(f, `must be a string, got ${describe(raw)}`);
      const max = ty.max ?? MAX_STRING;
      if (raw.length > max) throw new ArgumentError(f, `longer than ${max} characters`);
      if (ty.pattern && !ty.pattern.test(raw))
        throw new ArgumentError(f, `'${describe(raw)}' is not ${ty.patternText ?? `matching ${ty.pattern}`}`);
      return raw;
    }
    case 'int': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && INT_RE.test(raw.trim())) n = Number(raw.trim());
      else throw new ArgumentError(f, `must be an integer, got ${describe(raw)}`);
      if (!Number.isSafeInteger(n)) throw new ArgumentError(f, `must be an integer, got ${describe(raw)}`);
      if (n < ty.min || n > ty.max) throw new ArgumentError(f, `must be between ${ty.min} and ${ty.max}, got ${n}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      throw new ArgumentError(f, `must be true or false, got ${describe(raw)}`);
    }
    case 'ipv4': {
      if (typeof raw !== 'string' || !isIpv4(raw))
        throw new ArgumentError(f, `'${describe(raw)}' is not an IPv4 address (a.b.c.d)`);
      const addr = ipaddr.IPv4.parse(raw).toString();
      if (!ty.any) usableIpv4(f, addr);
      return addr;
    }
    case 'ipv4list': {
      if (typeof raw !== 'string') throw new ArgumentError(f, `must be a comma-separated IPv4 list`);
      const parts = raw.split(',').map((p) => p.trim());
      if (parts.length > 16) throw new ArgumentError(f, 'at most 16 addresses');
      for (const p of parts) {
        if (!isIpv4(p)) throw new ArgumentError(f, `'${describe(p)}' is not an IPv4 address (a.b.c.d)`);
        usableIpv4(f, ipaddr.IPv4.parse(p).toString());
      }
      return parts.map((p) => ipaddr.IPv4.parse(p).toString()).join(',');
    }
    case 'cidr': {
      if (typeof raw !== 'string') throw new ArgumentError(f, 'must be an IPv4 prefix a.b.c.d/n');
      const [addr, len, ...rest] = raw.split('/');
      const n = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : -1;
      if (rest.length > 0 || addr === undefined || !isIpv4(addr) || n < 0 || n > 32)
        throw new ArgumentError(f, `'${describe(raw)}' is not an IPv4 prefix a.b.c.d/n`);
      const net = ipaddr.IPv4.parse(addr).toString();
      // 10.0.0.5/24 is ambiguous (a host, or 10.0.0.0/24?): refused rather than guessed.
      if (!isAligned(net, n)) {
        const aligned = intToIp((ipToInt(net) & maskOf(n)) >>> 0);
        throw new ArgumentError(f, `'${net}/${n}' has host bits set (the network is ${aligned}/${n})`);
      }
      return `${net}/${n}`;
    }
    case 'mac': {
      if (typeof raw !== 'string' || !MAC_RE.test(raw))
        throw new ArgumentError(f, `'${describe(raw)}' is not a MAC address (xx:xx:xx:xx:xx:xx)`);
      const m = normalizeMac(raw);
      // Every MAC in the model is an endpoint's: a group MAC would capture its network's broadcasts (its unicast
      // flow outranks flooding), and 00:00:00:00:00:00 is no one's.
      if (Number.parseInt(m.slice(0, 2), 16) & 1)
        throw new ArgumentError(f, `'${m}' is a multicast or broadcast MAC; an endpoint needs a unicast one`);
      if (m === '00:00:00:00:00:00') throw new ArgumentError(f, `'${m}' is not a usable MAC`);
      return m;
    }
    case 'dpid': {
      const s = typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0 ? raw.toString(16) : raw;
      if (typeof s !== 'string' || !DPID_RE.test(s))
        throw new ArgumentError(f, `'${describe(raw)}' is not a datapath id (up to 16 hex digits, optional 0x)`);
      return formatDpid(parseDpid(s));
    }
    case 'uuid': {
      if (typeof raw !== 'string') throw new InvalidUUID(f, describe(raw), ty.prefix);
      return checkUuid(f, raw, ty.prefix);
    }
    case 'enum': {
      if (typeof raw !== 'string' || !ty.values.includes(raw))
        throw new ArgumentError(f, `must be one of ${ty.values.join(', ')}, got ${describe(raw)}`);
      return raw;
    }
  }
}

/**
 * Validates a raw parameter bag against the declared specs: unknown names are refused (400 naming them),
 * required ones must be present, each value is coerced. `allowEqual` lists extra names that are accepted
 * only when equal to the given value (a body parameter repeating a path segment).
 */
export function parseParams(
  specs: readonly ParamSpec[],
  raw: Record<string, unknown>,
  allowEqual: Record<string, string> = {},
): Params {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const out: Params = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k in allowEqual && !byName.has(k)) {
      if (v !== allowEqual[k])
        throw new ArgumentError(k, `must equal the path's ${describe(allowEqual[k])} when given`);
      continue;
    }
    const spec = byName.get(k);
    if (!spec) {
      unknown.push(k);
      continue;
    }
    out[k] = coerce(spec, v);
  }
  if (unknown.length > 0) {
    const names = unknown.map((n) => describe(n)).join(', ');
    throw new ArgumentError(unknown[0]!.slice(0, 64), `unknown parameter${unknown.length > 1 ? 's' : ''}: ${names}`);
  }
  for (const s of specs)
    if (s.required && (out[s.name] === undefined || out[s.name] === null)) {
      throw new MissingArgument(s.name);
    }
  return out;
}

/** JSON Schema of a parameter (OpenAPI only; validation is parseParams's job, with OpenVNet's error shape). */
export function paramJsonSchema(spec: ParamSpec): Record<string, unknown> {
  const ty = spec.type;
  const base: Record<string, unknown> = {};
  switch (ty.t) {
    case 'string':
      Object.assign(base, { type: 'string', maxLength: ty.max ?? MAX_STRING });
      break;
    case 'int':
      Object.assign(base, { type: 'integer', minimum: ty.min, maximum: ty.max });
      break;
    case 'bool':
      base.type = 'boolean';
      break;
    case 'ipv4':
      Object.assign(base, { type: 'string', format: 'ipv4' });
      break;
    case 'ipv4list':
      Object.assign(base, { type: 'string', description: 'comma-separated IPv4 addresses' });
      break;
    case 'cidr':
      Object.assign(base, { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+(/\\d{1,2})?$' });
      break;
    case 'mac':
      Object.assign(base, { type: 'string', pattern: MAC_RE.source });
      break;
    case 'dpid':
      Object.assign(base, { type: 'string', pattern: DPID_RE.source });
      break;
    case 'uuid':
      Object.assign(base, { type: 'string', pattern: `^${ty.prefix}-[a-z0-9]{1,16}$` });
      break;
    case 'enum':
      Object.assign(base, { type: 'string', enum: [...ty.values] });
      break;
    case 'records': {
      const names = Object.keys(ty.item);
      const properties = Object.fromEntries(names.map((n) => [n, paramJsonSchema({ name: n, type: ty.item[n]! })]));
      const items = { type: 'object', properties, required: names, additionalProperties: false };
      Object.assign(base, { type: 'array', maxItems: ty.max, items });
      break;
    }
  }
  if (spec.doc) base.description = spec.doc;
  if (spec.nullable) base.nullable = true;
  return base;
}

// Shorthands for the resource declarations.
/** A shorthand for a parameter whose type is only its kind (no bounds, prefix or values). */
const plain =
  (t: 'string' | 'bool' | 'ipv4' | 'mac' | 'cidr') =>
  (name: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({ name, type: { t }, ...extra });
export const str = plain('string');
export const int = (name: string, min: number, max: number, extra: Partial<ParamSpec> = {}): ParamSpec => ({
  name,
  type: { t: 'int', min, max },
  ...extra,
});
export const bool = plain('bool');
export const ipv4 = plain('ipv4');
export const mac = plain('mac');
export const cidr = plain('cidr');
export const uuid = (name: string, prefix: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({
  name,
  type: { t: 'uuid', prefix },
  ...extra,
});
export const oneOf = (name: string, values: readonly string[], extra: Partial<ParamSpec> = {}): ParamSpec => ({
  name,
  type: { t: 'enum', values },
  ...extra,
});

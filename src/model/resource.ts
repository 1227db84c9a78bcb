// The vocabulary every resource is declared in (src/model/resources/): one entry per field says its stored type,
// how a request spells it, where users may set it, whether an agent reports it, what it points to, and its doc.
// Request parameters, OpenAPI, the TypeScript document types, vnctl's options and docs/api.md derive from it.
import type { Static, TSchema, TUnsafe } from 'typebox';
import { Type } from './schema.js';
import { MAX_STRING, type ParamSpec, type ParamType } from './params.js';

/** Where a field may be given: `nullable` also accepts "" or null (clears it). */
export type Settable = 'required' | 'optional' | 'nullable';

/** What deleting the referenced object does to the objects whose field points at it. */
export type OnDelete = 'cascade' | 'restrict' | 'nullify';

export interface FieldOptions {
  /** One line, shown by OpenAPI, vnctl --help and docs/api.md. */
  doc: string;
  /** Settable on create (absent: the server sets it). */
  create?: Settable;
  /** Settable on update (absent and not status: immutable, a PUT naming it is refused). */
  update?: Exclude<Settable, 'required'>;
  /** Lists may filter on it (`GET /networks?network_mode=virtual`). */
  filter?: boolean;
  /** Reported by agents (status, not spec); a status-only change never makes an agent recompute flows. */
  status?: boolean;
  /** The stored value may be null. */
  nullable?: boolean;
  /** A request parameter that is not stored as such (an alias, or an input the server turns into other fields). */
  paramOnly?: boolean;
  /** Settable by the agent's report route (`PUT /datapaths/:uuid/status`, `PUT /interfaces/:uuid/binding`). */
  report?: Settable;
  /** A PUT naming it is refused as immutable (for fields not set on create: server-allocated, reported, lists). */
  immutable?: true;
  /** For references (`f.ref`): the uuid prefix of the kind it names, and what deleting that object does here. */
  ref?: { prefix: string; onDelete: OnDelete };
  /** Stored when a create leaves it out (otherwise null; lists start empty). */
  default?: string | number | boolean;
  /** An old spelling of another field (`mode` for `network_mode`): sets that field; both given must agree. */
  aliasOf?: string;
  /** Set by the store on every write (created_at, updated_at). */
  timestamp?: true;
  /** Stored, never in a reply (a token's hash). */
  secret?: true;
}

/** The usual settability combinations, spread into a field's options (`{ ...SET.editable, doc }`). */
export const SET = {
  /** Given on create, never changed. */
  fixed: { create: 'required' },
  /** Given on create, changeable. */
  required: { create: 'required', update: 'optional' },
  /** Optional on create, changeable. */
  editable: { create: 'optional', update: 'optional' },
  /** Optional, and "" or null clears it. */
  clearable: { create: 'nullable', update: 'nullable', nullable: true },
} as const;

export interface Field<S extends TSchema = TSchema> extends FieldOptions {
  /** The stored value's type (without null; `nullable` adds it). */
  schema: S;
  /** How a request value (query/form string or JSON scalar) is coerced and checked; null: not a parameter. */
  param: ParamType | null;
}

export type Fields = Record<string, Field>;

// ---------- field builders ----------

function field<S extends TSchema, const O extends FieldOptions>(
  schema: S,
  param: ParamType | null,
  o: O,
): Field<S> & O {
  return { ...o, schema, param };
}

export const f = {
  string: <const O extends FieldOptions>(o: O, max = MAX_STRING, pattern?: { re: RegExp; text: string }) =>
    field(
      Type.String({ maxLength: max, ...(pattern ? { pattern: pattern.re.source } : {}) }),
      { t: 'string', max, ...(pattern ? { pattern: pattern.re, patternText: pattern.text } : {}) },
      o,
    ),
  int: <const O extends FieldOptions>(min: number, max: number, o: O) =>
    field(Type.Integer({ minimum: min, maximum: max }), { t: 'int', min, max }, o),
  bool: <const O extends FieldOptions>(o: O) => field(Type.Boolean(), { t: 'bool' }, o),
  /** An address of something (not loopback, multicast, 0/8, 240/4: params.ts UNUSABLE_IPV4). */
  ipv4: <const O extends FieldOptions>(o: O) => field(Type.String({ format: 'ipv4' }), { t: 'ipv4' }, o),
  /** A route destination: any address (0.0.0.0 with prefix 0 is the default route). */
  destination: <const O extends FieldOptions>(o: O) =>
    field(Type.String({ format: 'ipv4' }), { t: 'ipv4', any: true }, o),
  /** Comma-separated IPv4 list ("8.8.8.8,1.1.1.1"). */
  ipv4list: <const O extends FieldOptions>(o: O) => field(Type.String(), { t: 'ipv4list' }, o),
  /** "a.b.c.d/n" or a bare address (= /32). */
  cidr: <const O extends FieldOptions>(o: O) => field(Type.String(), { t: 'cidr' }, o),
  mac: <const O extends FieldOptions>(o: O) => field(Type.String(), { t: 'mac' }, o),
  /** "0x" + 16 hex digits. */
  dpid: <const O extends FieldOptions>(o: O) => field(Type.String(), { t: 'dpid' }, o),
  /** A uuid of this prefix ("nw-…"); a reference when `ref` is given. */
  uuid: <const O extends FieldOptions>(prefix: string, o: O) =>
    field(Type.String({ pattern: `^${prefix}-[a-z0-9]{1,16}$` }), { t: 'uuid', prefix }, o),
  /** A uuid naming an object of another kind (by its prefix), with what deleting that object does here. */
  ref: <const O extends FieldOptions>(prefix: string, onDelete: OnDelete, o: O) =>
    field(
      Type.String({ pattern: `^${prefix}-[a-z0-9]{1,16}$` }),
      { t: 'uuid', prefix },
      { ...o, ref: { prefix, onDelete } },
    ),
  enum: <const V extends string[], const O extends FieldOptions>(values: readonly [...V], o: O) =>
    field(Type.Enum(values), { t: 'enum', values }, o),
  /**
   * A list of small objects set as a whole (a subnet's host routes): each entry has every one of `item`'s fields,
   * checked as those fields' own parameters; at most `max` entries, no two alike on `key` (default: all fields).
   */
  records: <I extends Fields, const O extends FieldOptions>(
    item: I,
    limits: { max: number; key?: readonly (keyof I & string)[] },
    o: O,
  ) => {
    const types: Record<string, ParamType> = {};
    for (const [name, fl] of Object.entries(item)) {
      if (!fl.param) throw new Error(`records item field ${name} is not a parameter`);
      types[name] = fl.param;
    }
    const key = limits.key ?? Object.keys(item);
    return field(
      Type.Array(docSchema(item), { maxItems: limits.max }),
      { t: 'records', item: types, max: limits.max, key },
      o,
    );
  },
  /** An embedded list (leases, rules, ranges): never a request parameter of its owner. */
  list: <S extends TSchema, const O extends FieldOptions>(item: S, o: O) => field(Type.Array(item), null, o),
  /** Server-set timestamps, ISO 8601. */
  time: <const O extends FieldOptions>(o: O) =>
    field(Type.String({ format: 'date-time' }), null, { ...o, timestamp: true as const }),
};

// ---------- the stored document type of a field set ----------

type ValueOf<F> = F extends Field<infer S> ? (F extends { nullable: true } ? Static<S> | null : Static<S>) : never;
/** The stored (and API) document of a resource: every field that is not request-only. */
export type DocOf<F extends Fields> = {
  -readonly [K in keyof F as F[K] extends { paramOnly: true } ? never : K]: ValueOf<F[K]>;
};

/** TypeBox object of the stored document (for embedded lists and conformance checks). */
export function docSchema<F extends Fields>(fields: F): TUnsafe<DocOf<F>> {
  const props: Record<string, TSchema> = {};
  for (const [name, fl] of Object.entries(fields)) {
    if (fl.paramOnly) continue;
    props[name] = fl.nullable ? Type.Union([fl.schema, Type.Null()]) : fl.schema;
  }
  return Type.Unsafe<DocOf<F>>(Type.Object(props));
}

// ---------- a resource ----------

export interface ResourceDecl<F extends Fields = Fields> {
  /** Plural, as in the URL (`/api/1.0/networks`); the singular (OpenAPI, the body wrapper) drops its "s". */
  kind: string;
  /** The singular when dropping the "s" does not make it (`lease_policy`). */
  singular?: string;
  /** uuid prefix ("nw"). */
  prefix: string;
  /** One line: what the resource is. */
  doc: string;
  fields: F;
  /** What deleting one does beyond the references declared on other resources (one line each). */
  deleteNotes?: readonly string[];
}

/** A declaration as the rest of the code sees it: with its singular name and its document schema. */
export type Declared<F extends Fields = Fields> = ResourceDecl<F> & { singular: string; schema: TUnsafe<DocOf<F>> };

export function resource<const F extends Fields>(decl: ResourceDecl<F>): Declared<F> {
  return { ...decl, singular: decl.singular ?? decl.kind.slice(0, -1), schema: docSchema(decl.fields) };
}

/** An item embedded in another object's list (rules, ranges, records, statics, static addresses). */
export interface ItemDecl<F extends Fields = Fields> {
  /** Path segment under the parent (`rules`). */
  segment: string;
  /** Field of the parent holding the list. */
  field: string;
  /** uuid prefix of items that have their own uuid; null: items are named by their fields. */
  prefix: string | null;
  doc: string;
  fields: F;
  /**
   * At most this many per parent (409, code 133, beyond): every change of one item carries the parent with its
   * whole list, so an unbounded list makes every write, the feed and the agents' work grow without bound.
   */
  max: number;
}

export function item<const F extends Fields>(decl: ItemDecl<F>): ItemDecl<F> & { schema: TUnsafe<DocOf<F>> } {
  return { ...decl, schema: docSchema(decl.fields) };
}

// ---------- derived request parameters ----------

export type Operation = 'create' | 'update' | 'report' | 'filter';

function paramOf(name: string, fl: Field, settable: Settable | 'filter'): ParamSpec {
  if (!fl.param) throw new Error(`field ${name} is not a request parameter`);
  const spec: ParamSpec = { name, type: fl.param };
  if (settable === 'required') spec.required = true;
  if (settable === 'nullable') spec.nullable = true;
  if (fl.doc) spec.doc = fl.doc;
  return spec;
}

/** The parameters an operation takes, in declaration order. */
export function paramsFor(fields: Fields, op: Operation): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const [name, fl] of Object.entries(fields)) {
    if (op === 'filter') {
      if (fl.filter) out.push(paramOf(name, fl, 'filter'));
      continue;
    }
    const s = fl[op];
    if (s) out.push(paramOf(name, fl, s));
  }
  return out;
}

/** Fields a PUT naming them is refused for (400 "immutable"): set on create but not on update, or marked. */
export function immutableOf(fields: Fields): string[] {
  return Object.entries(fields)
    .filter(([, fl]) => fl.immutable || (fl.create && !fl.update))
    .map(([name]) => name);
}

/** What a create stores for a field the request left out: its declared default, else null (lists: empty). */
export function defaultOf(fl: Field): unknown {
  if (fl.default !== undefined) return fl.default;
  return (fl.schema as { type?: unknown }).type === 'array' ? [] : null;
}

/** Fields agents report, per resource: an agent ignores changes confined to them. */
export function statusOf(fields: Fields): string[] {
  return Object.entries(fields)
    .filter(([, fl]) => fl.status)
    .map(([name]) => name);
}

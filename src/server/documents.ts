// What the server does with a resource's declaration by itself: the request parameters it takes, the document a
// create stores (request values, old spellings, declared defaults), what an update changes, and that references
// name existing objects. resources.ts adds each resource's own rules through `define`.
import { ArgumentError } from '../model/errors.js';
import type { ParamSpec, Params } from '../model/params.js';
import { type Declared, defaultOf, immutableOf, paramsFor } from '../model/resource.js';
import { type ResourceKind, UUID_PREFIX } from '../model/types.js';
import type { Doc } from '../store/store.js';
import type { WriteContext } from './write-context.js';

/** What the declaration (src/model/resources) says about a resource's requests, derived once. */
export interface DeclaredParams {
  kind: ResourceKind;
  prefix: string;
  /** Singular name, used in OpenAPI and in OpenVNet's single-key body wrapper. */
  singular: string;
  createParams: ParamSpec[];
  updateParams: ParamSpec[];
  /** Fields that exist but cannot be changed with PUT (answered with a 400 "immutable"). */
  immutable: string[];
  /** Fields a list may filter on (`GET /datapaths?dpid=...`). */
  filters: ParamSpec[];
  decl: Declared;
}

/** A top-level resource: its declared parameters and its behaviour (create/update rules, delete cascades). */
export interface ResourceDef extends DeclaredParams {
  create(ctx: WriteContext, p: Params): Promise<Doc>;
  update(ctx: WriteContext, doc: Doc, p: Params): Promise<Doc>;
  /** Cascades or refuses (409), then removes the document. */
  remove(ctx: WriteContext, doc: Doc): Promise<void>;
}

/** A resource's rules beyond its declaration; each is optional. */
export interface Rules {
  /** Checks needing the store, after references were checked; `doc` is the stored document on update. */
  check?(ctx: WriteContext, p: Params, doc?: Doc): Promise<void>;
  /** Fields the server computes for a new document (allocations, generated values). */
  computed?(ctx: WriteContext, p: Params): Promise<Record<string, unknown>>;
  /** Checks over the whole document about to be stored, on create and update. */
  validate?(doc: Doc, ctx: WriteContext): void | Promise<void>;
  /** What goes with it or forbids its removal (409), before the document itself is removed. */
  cascade?(ctx: WriteContext, doc: Doc): Promise<void>;
}

/** Kinds by the prefix of their own uuids. */
const KIND_OF_PREFIX = new Map(Object.entries(UUID_PREFIX).map(([kind, prefix]) => [prefix, kind as ResourceKind]));

export function kindOfPrefix(prefix: string): ResourceKind {
  const kind = KIND_OF_PREFIX.get(prefix);
  if (!kind) throw new Error(`no resource has the uuid prefix ${prefix}`);
  return kind;
}

function declared(decl: Declared): DeclaredParams {
  return {
    kind: decl.kind as ResourceKind,
    prefix: decl.prefix,
    singular: decl.singular,
    createParams: paramsFor(decl.fields, 'create'),
    updateParams: paramsFor(decl.fields, 'update'),
    immutable: immutableOf(decl.fields),
    filters: paramsFor(decl.fields, 'filter'),
    decl,
  };
}

/** References given in the request must name existing objects (404 naming the parameter). */
export async function checkRefs(ctx: WriteContext, decl: Declared, p: Params): Promise<void> {
  for (const [name, fl] of Object.entries(decl.fields)) {
    const v = p[name];
    if (fl.ref && typeof v === 'string') await ctx.must(kindOfPrefix(fl.ref.prefix), v, name);
  }
}

/** An old spelling given with the field it spells must agree with it. */
function checkAliases(decl: Declared, p: Params): void {
  for (const [name, fl] of Object.entries(decl.fields))
    if (fl.aliasOf && p[name] !== undefined && p[fl.aliasOf] !== undefined && p[name] !== p[fl.aliasOf])
      throw new ArgumentError(name, `${name} and ${fl.aliasOf} disagree`);
}

/** The document a create stores: each stored field from `computed`, else the request (or its alias), else its default. */
export function newDoc(decl: Declared, p: Params, computed: Record<string, unknown>): Doc {
  const aliasOf = new Map(
    Object.entries(decl.fields)
      .filter(([, fl]) => fl.aliasOf)
      .map(([name, fl]) => [fl.aliasOf!, name]),
  );
  const doc: Record<string, unknown> = {};
  for (const [name, fl] of Object.entries(decl.fields)) {
    if (fl.paramOnly || fl.timestamp) continue;
    const alias = aliasOf.get(name);
    doc[name] = name in computed ? computed[name] : (p[name] ?? (alias ? p[alias] : undefined) ?? defaultOf(fl));
  }
  return doc as Doc;
}

/** An update: the given update-settable fields (and old spellings) onto the stored document. */
export function applyUpdate(decl: Declared, doc: Doc, p: Params): void {
  for (const [name, fl] of Object.entries(decl.fields)) {
    if (p[name] === undefined) continue;
    if (fl.aliasOf) doc[fl.aliasOf] = p[name];
    else if (fl.update && !fl.paramOnly) doc[name] = p[name];
  }
}

/** A resource from its declaration and its rules. */
export function define(decl: Declared, rules: Rules = {}): ResourceDef {
  const def = declared(decl);
  return {
    ...def,
    async create(ctx, p) {
      checkAliases(decl, p);
      await checkRefs(ctx, decl, p);
      await rules.check?.(ctx, p);
      const computed = (await rules.computed?.(ctx, p)) ?? {};
      const uuid = await ctx.newUuid(def.kind, def.prefix, p.uuid);
      const doc = newDoc(decl, p, { ...computed, uuid });
      await rules.validate?.(doc, ctx);
      return ctx.insert(def.kind, doc);
    },
    async update(ctx, doc, p) {
      checkAliases(decl, p);
      await checkRefs(ctx, decl, p);
      await rules.check?.(ctx, p, doc);
      applyUpdate(decl, doc, p);
      await rules.validate?.(doc, ctx);
      return ctx.update(def.kind, doc);
    },
    async remove(ctx, doc) {
      await rules.cascade?.(ctx, doc);
      await ctx.remove(def.kind, doc.uuid);
    },
  };
}

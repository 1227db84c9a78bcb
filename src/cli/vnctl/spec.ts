// Types of vnctl's command table (the data lives in table.ts) and name lookups into it.

/** How an option's text becomes a request parameter. */
export type OptionType = 'string' | 'integer' | 'boolean' | 'array';

/** One declared `--option` (snake_case, as the API names the parameter). */
export interface OptionSpec {
  readonly name: string;
  readonly type: OptionType;
  /** The API requires it; shown in help only: the server is the judge and names what is missing. */
  readonly required?: boolean;
  readonly help: string;
  /**
   * `array` options (a list of objects, as OpenAPI types it): each entry's fields in order. `--host-route A,B` (the singular, repeatable)
   * adds one entry; `--host-routes '[…]'` gives the list as JSON, `--host-routes ''` an empty one.
   */
  readonly item?: readonly string[];
}

/** The repeatable one-entry spelling of a list option (`host_route` for `host_routes`). */
export const entryName = (o: OptionSpec): string | undefined =>
  o.type === 'array' && o.name.endsWith('s') ? o.name.slice(0, -1) : undefined;

/** Verbs on a resource itself: `vnctl <resource> add|show|modify|del`. */
export type Verb = 'add' | 'show' | 'modify' | 'del';

/**
 * A sub-collection of a resource, addressed as `/<resource>/:uuid/<name>[/:item]`.
 * `item` names what the second positional is (help text); relations without items
 * (interface ports, filter statics) address their rows by parameters instead.
 */
export interface RelationSpec {
  /** The API path segment (snake_case, plural). */
  readonly name: string;
  /** Accepted singular spelling (`vnctl datapath network add …`). */
  readonly singular: string;
  readonly help: string;
  /** Help placeholder for the item positional, e.g. `NW`; absent when rows have no path id. */
  readonly item?: string;
  /**
   * `add`: `path` puts the item uuid in the path (`POST /datapaths/DP/networks/NW`), `none` creates
   * under the collection (`POST /security_groups/SG/rules`, an optional `--uuid` picks the id).
   */
  readonly add?: {
    readonly target: 'path' | 'none';
    readonly method: 'POST' | 'PUT';
    readonly options: readonly OptionSpec[];
  };
  /** `del`: `path` deletes `/…/<name>/ITEM` for each item given; `params` sends the options as the row's key. */
  readonly del?: { readonly target: 'path' | 'params'; readonly options: readonly OptionSpec[] };
  /** `show BASE` lists; `show BASE ITEM` gets one row unless `showItem` is false (no such endpoint). */
  readonly show?: boolean;
  readonly showItem?: boolean;
  /** `modify BASE ITEM` → PUT on the item. */
  readonly modify?: { readonly options: readonly OptionSpec[] };
  /** Key columns of the human table for a list of this relation. */
  readonly columns: readonly string[];
}

/** A verb-like operation on one object: `vnctl ip_leases attach IL …` → PUT /ip_leases/IL/attach. */
export interface ActionSpec {
  readonly name: string;
  readonly method: 'PUT' | 'POST';
  readonly help: string;
  readonly options: readonly OptionSpec[];
}

/** One API resource: `/api/1.0/<name>`. */
export interface ResourceSpec {
  /** Plural snake_case, also the API path segment. */
  readonly name: string;
  readonly singular: string;
  /** uuid prefix, for help (`dp` → `dp-…`). */
  readonly prefix: string;
  readonly help: string;
  readonly add: readonly OptionSpec[];
  /** Options of `modify`; the server says which fields are immutable. */
  readonly modify: readonly OptionSpec[];
  /** Key columns of the human table for a list. */
  readonly columns: readonly string[];
  /** Fields the server filters a list by (`vnctl interfaces show --owner-datapath-uuid dp-1`). */
  readonly filters: readonly OptionSpec[];
  readonly relations: readonly RelationSpec[];
  readonly actions: readonly ActionSpec[];
}

/** `network-Services` → `network_services`: dashes and underscores are the same letter to vnctl. */
export function normalizeName(raw: string): string {
  return raw.toLowerCase().replaceAll('-', '_');
}

/** Finds a resource by plural or singular name, any dash/underscore spelling. */
export function findResource(table: readonly ResourceSpec[], raw: string): ResourceSpec | undefined {
  const n = normalizeName(raw);
  return table.find((r) => r.name === n || r.singular === n);
}

export function findRelation(resource: ResourceSpec, raw: string): RelationSpec | undefined {
  const n = normalizeName(raw);
  return resource.relations.find((r) => r.name === n || r.singular === n);
}

export function findAction(resource: ResourceSpec, raw: string): ActionSpec | undefined {
  const n = normalizeName(raw);
  return resource.actions.find((a) => a.name === n);
}

/** Verb spellings: OpenVNet's four plus the obvious synonyms. */
const VERB_ALIASES: Readonly<Record<string, Verb>> = {
  add: 'add',
  create: 'add',
  show: 'show',
  list: 'show',
  get: 'show',
  modify: 'modify',
  update: 'modify',
  set: 'modify',
  del: 'del',
  delete: 'del',
  destroy: 'del',
  rm: 'del',
};

export function findVerb(raw: string): Verb | undefined {
  return VERB_ALIASES[normalizeName(raw)];
}

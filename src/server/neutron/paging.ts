// Neutron's sorting and pagination on lists (the `sorting` and `pagination` extensions): `sort_key`/`sort_dir`
// (repeated, paired), `limit`, `marker` (the id of the last object seen) and `page_reverse`, answered with
// `<collection>_links` (rel next/previous) as Neutron does, so openstacksdk can walk a long list page by page.
import { NeutronError } from './errors.js';

type Obj = Record<string, unknown>;
type Query = Record<string, string | string[] | undefined>;

const badRequest = (message: string) => new NeutronError(400, 'HTTPBadRequest', message);
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const one = (q: Query, key: string): string | undefined => list(q[key]).at(-1);

/** Orders two attribute values as Neutron's database would: numbers and booleans by value, the rest as text. */
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'object' ? JSON.stringify(a) : String(a);
  const sb = typeof b === 'object' ? JSON.stringify(b) : String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

interface SortKey {
  readonly key: string;
  readonly desc: boolean;
}

/** `sort_key`/`sort_dir` checked against the resource's attributes; `id` ends every order, as in Neutron. */
function sortKeys(q: Query, attrs: readonly string[]): SortKey[] {
  const keys = list(q.sort_key);
  const dirs = list(q.sort_dir);
  if (dirs.length > 0 && dirs.length !== keys.length)
    throw badRequest('The number of sort_keys and sort_dirs must be same');
  const out = keys.map((key, i) => {
    if (!attrs.includes(key)) throw badRequest(`${key} is an invalid attribute for sort_keys`);
    const dir = (dirs[i] ?? 'asc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc')
      throw badRequest(`${dirs[i]} is an invalid value for sort_dirs, valid values are 'asc' and 'desc'`);
    return { key, desc: dir === 'desc' };
  });
  if (!out.some((k) => k.key === 'id')) out.push({ key: 'id', desc: false });
  return out;
}

function limitOf(q: Query): number | undefined {
  const raw = one(q, 'limit');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`Bad limit request: Limit must be an integer 0 or greater and not '${raw}'`);
  const n = Number(raw);
  return n === 0 ? undefined : n;
}

export interface Page {
  readonly items: readonly Obj[];
  /** `<collection>_links`, present only when paging was asked for. */
  readonly links?: { rel: 'next' | 'previous'; href: string }[];
}

/**
 * Sorts and pages `items` (already filtered) as the query asks. `selfUrl` is the list's URL as the client
 * called it (scheme, host, path); links keep the client's other query parameters.
 */
export function sortAndPage(
  items: readonly Obj[],
  q: Query,
  attrs: readonly string[],
  selfUrl: URL,
  what: string,
): Page {
  const keys = sortKeys(q, attrs);
  const limit = limitOf(q);
  const marker = one(q, 'marker');
  const reverse = /^(true|1|yes)$/i.test(one(q, 'page_reverse') ?? '');
  const order = (a: Obj, b: Obj) => {
    for (const k of keys) {
      const c = compare(a[k.key], b[k.key]);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
  const paged = limit !== undefined || marker !== undefined;
  // A plain list keeps the store's order (as before sorting was served): nothing to sort, nothing to copy.
  if (!paged && q.sort_key === undefined) return { items };
  const sorted = [...items].sort(order);
  if (!paged) return { items: sorted };

  // page_reverse walks backwards from the marker: the page before it, still in the asked order.
  const walk = reverse ? sorted.reverse() : sorted;
  let start = 0;
  if (marker !== undefined) {
    const at = walk.findIndex((o) => o.id === marker);
    if (at < 0) throw new NeutronError(404, `${what}NotFound`, `${what} ${marker} could not be found.`);
    start = at + 1;
  }
  const page = walk.slice(start, limit === undefined ? undefined : start + limit);
  const more = limit !== undefined && start + limit < walk.length;
  const link = (rel: 'next' | 'previous', from: Obj | undefined, backwards: boolean) => {
    const u = new URL(selfUrl);
    u.searchParams.delete('marker');
    u.searchParams.delete('page_reverse');
    if (from) u.searchParams.set('marker', String(from.id));
    if (backwards) u.searchParams.set('page_reverse', 'True');
    return { rel, href: u.toString() };
  };
  const links: { rel: 'next' | 'previous'; href: string }[] = [];
  // Forward: next after the page's last, previous before its first (when a marker brought us here).
  if (more) links.push(link(reverse ? 'previous' : 'next', page.at(-1), reverse));
  if (marker !== undefined && page.length > 0) links.push(link(reverse ? 'next' : 'previous', page[0], !reverse));
  return { items: reverse ? page.reverse() : page, links };
}

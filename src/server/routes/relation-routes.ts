// OpenVNet's relation routes, one shape for every parent: GET /<parent>/:uuid/<segment> lists the related rows, and
// /<parent>/:uuid/<segment>/:<other field> adds, changes, shows or removes one. Datapaths, topologies, lease
// policies and their containers declare theirs through this one builder.
import { UUID_PREFIX, type UuidKind } from '../../model/types.js';
import type { PathValues, RouteSpec } from '../http/route-table.js';
import { LIST_PARAMS, type Routes } from './context.js';

/** The object relations hang off. */
export interface RelationParent {
  kind: UuidKind;
  /** Its singular, as summaries name it ("datapath", "lease policy"). */
  singular: string;
  /** OpenVNet clients repeat the path in the body: the parent's uuid under this name too (datapath_uuid, …). */
  echoedAs?: string;
}

/** A relation: its path segment, and (for one row's routes) the field and uuid prefix naming the other object. */
export interface Relation {
  segment: string;
  otherField: string;
  otherPrefix: string;
}

/** One route of a relation's row: the builder adds its URL, tag, path and echoes. */
export type RowRoute = Pick<RouteSpec, 'method' | 'summary' | 'params' | 'handler'>;

/** The list route's handler, and its summary when not "List <segment> of a <parent>". */
type ListRoute = RouteSpec['handler'] | Pick<RouteSpec, 'summary' | 'handler'>;

/** A list of related objects only (what a container holds). */
export function addRelationRoutes(r: Routes, parent: RelationParent, rel: { segment: string }, list: ListRoute): void;
/** A relation's list and the routes of one of its rows, in `row`'s order. */
export function addRelationRoutes(
  r: Routes,
  parent: RelationParent,
  rel: Relation,
  list: ListRoute,
  row: readonly RowRoute[],
): void;
export function addRelationRoutes(
  r: Routes,
  parent: RelationParent,
  rel: { segment: string } | Relation,
  list: ListRoute,
  row: readonly RowRoute[] = [],
): void {
  const base = `/${parent.kind}/:uuid/${rel.segment}`;
  const parentPath = { uuid: UUID_PREFIX[parent.kind] };
  const parentEchoes = (v: PathValues): Record<string, string> => ({
    uuid: v.uuid!,
    ...(parent.echoedAs ? { [parent.echoedAs]: v.uuid! } : {}),
  });
  r.add({
    method: 'GET',
    url: base,
    tag: parent.kind,
    summary: `List ${rel.segment} of a ${parent.singular}`,
    path: parentPath,
    params: LIST_PARAMS,
    echoes: parentEchoes,
    ...(typeof list === 'function' ? { handler: list } : list),
  });
  if (!('otherField' in rel)) return;
  const path = { ...parentPath, [rel.otherField]: rel.otherPrefix };
  const echoes = (v: PathValues) => ({ ...parentEchoes(v), [rel.otherField]: v[rel.otherField]! });
  for (const route of row) r.add({ url: `${base}/:${rel.otherField}`, tag: parent.kind, path, echoes, ...route });
}

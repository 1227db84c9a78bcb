// OpenVNet's relation routes, one shape for every parent: GET /<parent>/:uuid/<segment> lists the related rows, and
// /<parent>/:uuid/<segment>/:<other field> adds, changes, shows or removes one. Datapaths, topologies, lease
// policies and their containers declare theirs through this one builder.
import { UUID_PREFIX, type UuidKind } from '../../model/types.js';
import type { PathValues, RouteSpec } from '../http/route-table.js';
import { LIST_PARAMS, type Routes } from './context.js';

/** One route of a relation's row: the builder adds its URL, tag, path and echoes. */
export type RowRoute = Pick<RouteSpec, 'method' | 'summary' | 'params' | 'handler'>;

export interface RelationRoutes {
  parent: UuidKind;
  segment: string;
  /** OpenVNet clients repeat the path in the body: the parent's uuid under this name too (datapath_uuid, …). */
  parentField?: string;
  /** The list route: its summary and handler. */
  list: Pick<RouteSpec, 'summary' | 'handler'>;
  /** The routes of one row, named by `otherField` (an object with uuid prefix `otherPrefix`), in this order. */
  row?: {
    otherField: string;
    otherPrefix: string;
    routes: readonly RowRoute[];
  };
}

export function addRelationRoutes(r: Routes, rel: RelationRoutes): void {
  const base = `/${rel.parent}/:uuid/${rel.segment}`;
  const parentPath = { uuid: UUID_PREFIX[rel.parent] };
  const parentEchoes = (v: PathValues): Record<string, string> => ({
    uuid: v.uuid!,
    ...(rel.parentField ? { [rel.parentField]: v.uuid! } : {}),
  });
  r.add({
    method: 'GET',
    url: base,
    tag: rel.parent,
    path: parentPath,
    params: LIST_PARAMS,
    echoes: parentEchoes,
    ...rel.list,
  });
  if (!rel.row) return;
  const { otherField, otherPrefix, routes } = rel.row;
  const path = { ...parentPath, [otherField]: otherPrefix };
  const echoes = (v: PathValues) => ({ ...parentEchoes(v), [otherField]: v[otherField]! });
  for (const route of routes) r.add({ url: `${base}/:${otherField}`, tag: rel.parent, path, echoes, ...route });
}

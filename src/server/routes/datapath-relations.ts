// Per-datapath relation rows: /datapaths/:uuid/{networks,route_links,segments}[/:other_uuid].
import type { FastifyInstance } from 'fastify';
import { ArgumentError, DeleteRestrictionError } from '../../model/errors.js';
import { DATAPATH_RELATIONS, datapathRelationPut } from '../relations.js';
import { type RouteOptions, Routes } from './context.js';
import { addRelationRoutes, type RelationParent, type RowRoute } from './relation-routes.js';

const DATAPATH: RelationParent = { kind: 'datapaths', singular: 'datapath', echoedAs: 'datapath_uuid' };

export async function datapathRelationRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  for (const rel of DATAPATH_RELATIONS) {
    const other = rel.otherField;
    const rowId = (v: Record<string, string>) => `${v.uuid}/${v[other]}`;
    const put = (method: 'POST' | 'PUT'): RowRoute => ({
      method,
      summary: `${method === 'POST' ? 'Add' : 'Update'} a datapath's ${rel.segment} row`,
      params: rel.params,
      handler: async ({ path, p }) =>
        r.write(async (ctx) => {
          // A topology's row: its host interface and MAC are the topology's (its next sync would undo a change).
          const owner = (await ctx.get(rel.kind, rowId(path)))?.topology_uuid;
          if (owner)
            for (const f of ['interface_uuid', 'mac_address'])
              if (p[f] !== undefined) throw new ArgumentError(f, `set by topology ${owner}, which provisioned the row`);
          return datapathRelationPut(ctx, rel, path.uuid!, path[other]!, p, method === 'POST');
        }),
    });
    addRelationRoutes(
      r,
      DATAPATH,
      rel,
      async ({ path, p }) => {
        await r.service.read((ctx) => ctx.must('datapaths', path.uuid!));
        return r.list(rel.kind, { datapath_uuid: path.uuid! }, p);
      },
      [
        put('POST'),
        put('PUT'),
        {
          method: 'GET',
          summary: `Show a datapath's ${rel.segment} row`,
          handler: async ({ path }) => r.service.read((ctx) => ctx.must(rel.kind, rowId(path))),
        },
        {
          method: 'DELETE',
          summary: `Remove a datapath's ${rel.segment} row`,
          handler: async ({ path }) => {
            await r.write(async (ctx) => {
              const row = await ctx.must(rel.kind, rowId(path));
              // A topology's row goes when its network (segment, route link) leaves the topology, not by hand.
              if (row.topology_uuid)
                throw new DeleteRestrictionError(row.uuid, [`${row.topology_uuid} (topology_uuid)`]);
              await ctx.remove(rel.kind, rowId(path));
            });
            return [path[other]];
          },
        },
      ],
    );
  }
}

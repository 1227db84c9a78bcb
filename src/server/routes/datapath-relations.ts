// Per-datapath relation rows: /datapaths/:uuid/{networks,route_links,segments}[/:other_uuid].
import type { FastifyInstance } from 'fastify';
import { ArgumentError, DeleteRestrictionError } from '../../model/errors.js';
import { UUID_PREFIX } from '../../model/types.js';
import { DATAPATH_RELATIONS, datapathRelationPut } from '../relations.js';
import { LIST_PARAMS, type RouteOptions, Routes } from './context.js';

export async function datapathRelationRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  for (const rel of DATAPATH_RELATIONS) {
    const base = `/datapaths/:uuid/${rel.segment}`;
    const other = rel.otherField;
    const path = { uuid: UUID_PREFIX.datapaths, [other]: rel.otherPrefix };
    // OpenVNet clients repeat the path in the body: the datapath as uuid or datapath_uuid, the other by its field.
    const echoes = (v: Record<string, string>) => ({ uuid: v.uuid!, datapath_uuid: v.uuid!, [other]: v[other]! });
    const rowId = (v: Record<string, string>) => `${v.uuid}/${v[other]}`;
    const oneRow = { url: `${base}/:${other}`, tag: 'datapaths', path, echoes };
    r.add({
      method: 'GET',
      url: base,
      tag: 'datapaths',
      summary: `List ${rel.segment} of a datapath`,
      path: { uuid: UUID_PREFIX.datapaths },
      params: LIST_PARAMS,
      echoes: (v) => ({ uuid: v.uuid!, datapath_uuid: v.uuid! }),
      handler: async ({ path, p }) => {
        await r.service.read((ctx) => ctx.must('datapaths', path.uuid!));
        return r.list(rel.kind, { datapath_uuid: path.uuid! }, p);
      },
    });
    for (const method of ['POST', 'PUT'] as const)
      r.add({
        ...oneRow,
        method,
        summary: `${method === 'POST' ? 'Add' : 'Update'} a datapath's ${rel.segment} row`,
        params: rel.params,
        handler: async ({ path, p }) =>
          r.write(async (ctx) => {
            // A topology's row: its host interface and MAC are the topology's (its next sync would undo a change).
            const owner = (await ctx.get(rel.kind, rowId(path)))?.topology_uuid;
            if (owner)
              for (const f of ['interface_uuid', 'mac_address'])
                if (p[f] !== undefined)
                  throw new ArgumentError(f, `set by topology ${owner}, which provisioned the row`);
            return datapathRelationPut(ctx, rel, path.uuid!, path[other]!, p, method === 'POST');
          }),
      });
    r.add({
      ...oneRow,
      method: 'GET',
      summary: `Show a datapath's ${rel.segment} row`,
      handler: async ({ path }) => r.service.read((ctx) => ctx.must(rel.kind, rowId(path))),
    });
    r.add({
      ...oneRow,
      method: 'DELETE',
      summary: `Remove a datapath's ${rel.segment} row`,
      handler: async ({ path }) => {
        await r.write(async (ctx) => {
          const row = await ctx.must(rel.kind, rowId(path));
          // A topology's row goes when its network (segment, route link) leaves the topology, not by hand.
          if (row.topology_uuid) throw new DeleteRestrictionError(row.uuid, [`${row.topology_uuid} (topology_uuid)`]);
          await ctx.remove(rel.kind, rowId(path));
        });
        return [path[other]];
      },
    });
  }
}

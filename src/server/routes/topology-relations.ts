// Topology relations: /topologies/:uuid/{datapaths,networks,segments,route_links,mac_range_groups,underlays}[/:other],
// as OpenVNet has them (POST adds, DELETE removes and answers [other uuid], GET lists the rows).
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../model/resource.js';
import { TOPOLOGY_RELATIONS } from '../../model/resources/index.js';
import { UUID_PREFIX } from '../../model/types.js';
import { addToTopology, relationRow, removeFromTopology } from '../topologies.js';
import { LIST_PARAMS, type RouteOptions, Routes } from './context.js';

export async function topologyRelationRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  for (const rel of TOPOLOGY_RELATIONS) {
    const base = `/topologies/:uuid/${rel.segment}`;
    const other = rel.otherField;
    const path = { uuid: UUID_PREFIX.topologies, [other]: rel.otherPrefix };
    // OpenVNet clients repeat the path in the body: the topology as uuid or topology_uuid, the other by its field.
    const echoes = (v: Record<string, string>) => ({ uuid: v.uuid!, topology_uuid: v.uuid!, [other]: v[other]! });
    const oneRow = { url: `${base}/:${other}`, tag: 'topologies', path, echoes };
    r.add({
      method: 'GET',
      url: base,
      tag: 'topologies',
      summary: `List ${rel.segment} of a topology`,
      path: { uuid: UUID_PREFIX.topologies },
      params: LIST_PARAMS,
      echoes: (v) => ({ uuid: v.uuid!, topology_uuid: v.uuid! }),
      handler: async ({ path, p }) => {
        const topo = await r.service.read((ctx) => ctx.must('topologies', path.uuid!));
        const rows = ((topo[rel.segment] ?? []) as Record<string, string>[]).map((x) => relationRow(topo.uuid, x, rel));
        return r.page(rows, p);
      },
    });
    r.add({
      ...oneRow,
      method: 'POST',
      summary: `Add a ${rel.singular} to a topology (${rel.doc})`,
      params: paramsFor(rel.fields, 'create'),
      handler: async ({ path, p }) => r.write((ctx) => addToTopology(ctx, rel, path.uuid!, path[other]!, p)),
    });
    r.add({
      ...oneRow,
      method: 'DELETE',
      summary: `Remove a ${rel.singular} from a topology (what it provisioned through it is withdrawn)`,
      handler: async ({ path }) => {
        await r.write((ctx) => removeFromTopology(ctx, rel, path.uuid!, path[other]!));
        return [path[other]];
      },
    });
  }
}

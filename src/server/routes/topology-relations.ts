// Topology relations: /topologies/:uuid/{datapaths,networks,segments,route_links,mac_range_groups,underlays}[/:other],
// as OpenVNet has them (POST adds, DELETE removes and answers [other uuid], GET lists the rows).
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../model/resource.js';
import { TOPOLOGY_RELATIONS } from '../../model/resources/index.js';
import { addToTopology, relationRow, removeFromTopology } from '../topologies.js';
import { type RouteOptions, Routes } from './context.js';
import { addRelationRoutes, type RelationParent } from './relation-routes.js';

const TOPOLOGY: RelationParent = { kind: 'topologies', singular: 'topology', echoedAs: 'topology_uuid' };

export async function topologyRelationRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  for (const rel of TOPOLOGY_RELATIONS) {
    const other = rel.otherField;
    const rows = async (uuid: string) => {
      const topo = await r.service.read((ctx) => ctx.must('topologies', uuid));
      return ((topo[rel.segment] ?? []) as Record<string, string>[]).map((x) => relationRow(topo.uuid, x, rel));
    };
    addRelationRoutes(r, TOPOLOGY, rel, async ({ path, p }) => r.page(await rows(path.uuid!), p), [
      {
        method: 'POST',
        summary: `Add a ${rel.singular} to a topology (${rel.doc})`,
        params: paramsFor(rel.fields, 'create'),
        handler: async ({ path, p }) => r.write((ctx) => addToTopology(ctx, rel, path.uuid!, path[other]!, p)),
      },
      {
        method: 'DELETE',
        summary: `Remove a ${rel.singular} from a topology (what it provisioned through it is withdrawn)`,
        handler: async ({ path }) => {
          await r.write((ctx) => removeFromTopology(ctx, rel, path.uuid!, path[other]!));
          return [path[other]];
        },
      },
    ]);
  }
}

// Top-level resources: list, create, show, update, delete — one set of five routes per declared resource.
import type { FastifyInstance } from 'fastify';
import { ownNode } from '../auth/policy.js';
import { represent } from '../represent.js';
import { RESOURCES, rejectImmutable } from '../resources.js';
import { type RouteOptions, Routes } from './context.js';

export async function resourceRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  for (const def of RESOURCES) {
    // The collection's routes, and one object's (by its uuid).
    const all = { url: `/${def.kind}`, tag: def.kind };
    const one = { url: `/${def.kind}/:uuid`, tag: def.kind, path: { uuid: def.prefix } };
    const echoUuid = ({ uuid }: Record<string, string>) => ({ uuid: uuid! });
    r.addList(def.kind, def.filters, { summary: `List ${def.kind}` });
    r.add({
      ...all,
      method: 'POST',
      summary: `Create a ${def.singular}`,
      params: def.createParams,
      // Agents with --register create their own datapath row (node_id = theirs); everything else is an admin's.
      ...(def.kind === 'datapaths' ? { access: 'register' as const } : {}),
      handler: async ({ p, who }) => {
        if (def.kind === 'datapaths') ownNode(who, p.node_id, 'a datapath of another node', 'node_id');
        return r.write(async (ctx) => represent(ctx, def.kind, await def.create(ctx, p)));
      },
    });
    r.add({
      ...one,
      method: 'GET',
      summary: `Show a ${def.singular}`,
      echoes: echoUuid,
      handler: async ({ path }) =>
        r.service.read(async (ctx) => represent(ctx, def.kind, await ctx.must(def.kind, path.uuid!))),
    });
    r.add({
      ...one,
      method: 'PUT',
      summary: `Update a ${def.singular}`,
      params: def.updateParams,
      prepare: (raw, path) => rejectImmutable(def, raw, path.uuid!),
      handler: async ({ path, p }) =>
        r.write(async (ctx) =>
          represent(ctx, def.kind, await def.update(ctx, await ctx.must(def.kind, path.uuid!), p)),
        ),
    });
    r.add({
      ...one,
      method: 'DELETE',
      summary: `Delete a ${def.singular} (see docs/api.md for cascades)`,
      echoes: echoUuid,
      handler: async ({ path }) => {
        const id = path.uuid!;
        await r.write(async (ctx) => def.remove(ctx, await ctx.must(def.kind, id)));
        return [id];
      },
    });
  }
}

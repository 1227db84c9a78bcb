// The audit trail (admin only): every API request that changed the model, oldest first, filterable by who,
// role and method, paged by the store (the trail only grows).
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../model/resource.js';
import { auditEvents } from '../../model/resources/audit.js';
import { LIST_PARAMS, type RouteOptions, Routes } from './context.js';

const FILTERS = paramsFor(auditEvents.fields, 'filter');

export async function auditRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  r.add({
    method: 'GET',
    url: '/audit_events',
    tag: 'audit_events',
    summary: 'Who changed what, when, at which revision (oldest first)',
    access: 'admin',
    params: [...LIST_PARAMS, ...FILTERS],
    handler: async ({ p }) => {
      const where: Record<string, string> = {};
      for (const f of FILTERS) if (p[f.name] !== undefined) where[f.name] = p[f.name] as string;
      const limit = (p.limit as number | undefined) ?? opts.defaultLimit;
      const offset = (p.offset as number | undefined) ?? 0;
      return r.service.read(async (ctx) => ({
        total_count: await ctx.tx.count('audit_events', where),
        offset,
        limit,
        items: await ctx.tx.find('audit_events', where, { limit, offset }),
      }));
    },
  });
}

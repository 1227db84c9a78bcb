// The audit trail (admin only): every API request that changed the model, oldest first, filterable by who,
// role and method, paged by the store (the trail only grows).
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../model/resource.js';
import { auditEvents } from '../../model/resources/audit.js';
import { LIST_PARAMS, type RouteOptions, Routes, whereOf } from './context.js';

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
    handler: async ({ p }) => r.list('audit_events', whereOf(FILTERS, p), p),
  });
}

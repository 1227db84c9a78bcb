// The audit trail (admin only): every API request that changed the model, oldest first, filterable by who,
// role and method, paged by the store (the trail only grows).
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../model/resource.js';
import { auditEvents } from '../../model/resources/audit.js';
import { type RouteOptions, Routes } from './context.js';

export async function auditRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  new Routes(app, opts).addList('audit_events', paramsFor(auditEvents.fields, 'filter'), {
    summary: 'Who changed what, when, at which revision (oldest first)',
    access: 'admin',
  });
}

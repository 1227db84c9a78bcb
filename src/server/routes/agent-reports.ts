// Agent reports: a datapath's health and an interface's binding. Their parameters are the fields the
// declarations mark `report`; these routes are the only writers of those status fields.
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../model/resource.js';
import { datapaths, interfaces, translations } from '../../model/resources/index.js';
import { UUID_PREFIX } from '../../model/types.js';
import { represent } from '../represent.js';
import type { RouteOptions } from './context.js';
import { Routes } from './context.js';

const STATUS_PARAMS = paramsFor(datapaths.fields, 'report');
const BINDING_PARAMS = paramsFor(interfaces.fields, 'report');
const TRANSLATION_PARAMS = paramsFor(translations.fields, 'report');

export async function agentReportRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  r.add({
    method: 'PUT',
    url: '/datapaths/:uuid/status',
    tag: 'agent',
    summary: 'Agent report: datapath health',
    path: { uuid: UUID_PREFIX.datapaths },
    params: STATUS_PARAMS,
    echoes: ({ uuid }) => ({ uuid: uuid! }),
    handler: async ({ path, p }) =>
      r.write(async (ctx) => {
        const doc = await ctx.must('datapaths', path.uuid!);
        for (const s of STATUS_PARAMS) if (p[s.name] !== undefined) doc[s.name] = p[s.name];
        // A report without an error means healthy: the last one is cleared.
        if (p.last_error === undefined) doc.last_error = null;
        return ctx.update('datapaths', doc);
      }),
  });
  r.add({
    method: 'PUT',
    url: '/interfaces/:uuid/binding',
    tag: 'agent',
    summary: 'Agent report: interface bound to an OVS port',
    path: { uuid: UUID_PREFIX.interfaces },
    params: BINDING_PARAMS,
    echoes: ({ uuid }) => ({ uuid: uuid! }),
    handler: async ({ path, p }) =>
      r.write(async (ctx) => {
        const doc = await ctx.must('interfaces', path.uuid!);
        if (p.active_datapath_uuid)
          await ctx.must('datapaths', p.active_datapath_uuid as string, 'active_datapath_uuid');
        // A binding report is whole: what it leaves out is no longer true.
        for (const s of BINDING_PARAMS) doc[s.name] = p[s.name] ?? null;
        return represent(ctx, 'interfaces', await ctx.update('interfaces', doc));
      }),
  });
  r.add({
    method: 'PUT',
    url: '/translations/:uuid/status',
    tag: 'agent',
    summary: "Agent report: where a translation's floating addresses are active",
    path: { uuid: UUID_PREFIX.translations },
    params: TRANSLATION_PARAMS,
    echoes: ({ uuid }) => ({ uuid: uuid! }),
    handler: async ({ path, p }) =>
      r.write(async (ctx) => {
        const doc = await ctx.must('translations', path.uuid!);
        if (p.active_datapath_uuid)
          await ctx.must('datapaths', p.active_datapath_uuid as string, 'active_datapath_uuid');
        for (const s of TRANSLATION_PARAMS) doc[s.name] = p[s.name] ?? null;
        return ctx.update('translations', doc);
      }),
  });
}

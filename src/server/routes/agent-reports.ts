// Agent reports: a datapath's health, an interface's binding, where a translation is active. Their parameters are
// the fields the declarations mark `report`; these routes are the only writers of those status fields.
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../model/resource.js';
import { DECLARATIONS, datapaths } from '../../model/resources/index.js';
import { UUID_PREFIX } from '../../model/types.js';
import { mayWriteNode, ownNode } from '../auth/policy.js';
import { represent } from '../represent.js';
import { type RouteOptions, Routes } from './context.js';

const STATUS_PARAMS = paramsFor(datapaths.fields, 'report');

export async function agentReportRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  r.add({
    method: 'PUT',
    url: '/datapaths/:uuid/status',
    tag: 'agent',
    summary: 'Agent report: datapath health',
    path: { uuid: UUID_PREFIX.datapaths },
    params: STATUS_PARAMS,
    access: 'report',
    echoes: ({ uuid }) => ({ uuid: uuid! }),
    handler: async ({ path, p, who }) =>
      r.write(async (ctx) => {
        const doc = await ctx.must('datapaths', path.uuid!);
        ownNode(who, doc.node_id, `the status of datapath ${doc.uuid}`);
        for (const s of STATUS_PARAMS) if (p[s.name] !== undefined) doc[s.name] = p[s.name];
        // A report without an error means healthy: the last one is cleared.
        if (p.last_error === undefined) doc.last_error = null;
        return ctx.update('datapaths', doc);
      }),
  });
  // Where an interface is bound, where a translation's floating addresses are answered: each report states the
  // whole reported part of its object (what it leaves out is no longer true), naming an existing datapath.
  const wholeReport = (kind: 'interfaces' | 'translations', url: string, summary: string) => {
    const params = paramsFor(DECLARATIONS[kind].fields, 'report');
    r.add({
      method: 'PUT',
      url,
      tag: 'agent',
      summary,
      path: { uuid: UUID_PREFIX[kind] },
      params,
      access: 'report',
      echoes: ({ uuid }) => ({ uuid: uuid! }),
      handler: async ({ path, p, who }) =>
        r.write(async (ctx) => {
          const doc = await ctx.must(kind, path.uuid!);
          // An agent may claim the object for its own datapath (a VM moved here) or release it from there;
          // never point it at, or take it from, another host.
          const target = p.active_datapath_uuid
            ? await ctx.must('datapaths', p.active_datapath_uuid as string, 'active_datapath_uuid')
            : doc.active_datapath_uuid
              ? await ctx.get('datapaths', doc.active_datapath_uuid as string)
              : undefined;
          // Releasing what another host already claimed (the report crossed that host's claim) changes nothing:
          // answered with the object as it is, so the releasing agent does not retry a refusal forever.
          if (!p.active_datapath_uuid && target && !mayWriteNode(who, target.node_id)) return represent(ctx, kind, doc);
          if (target) ownNode(who, target.node_id, `${doc.uuid} bound to ${target.uuid}`, 'active_datapath_uuid');
          for (const s of params) doc[s.name] = p[s.name] ?? null;
          return represent(ctx, kind, await ctx.update(kind, doc));
        }),
    });
  };
  wholeReport('interfaces', '/interfaces/:uuid/binding', 'Agent report: interface bound to an OVS port');
  wholeReport(
    'translations',
    '/translations/:uuid/status',
    "Agent report: where a translation's floating addresses are active",
  );
}

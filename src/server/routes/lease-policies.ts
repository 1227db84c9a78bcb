// Lease policy relations (/lease_policies/:uuid/{networks,interfaces,ip_lease_containers,ip_retention_containers}),
// leasing from a policy, and the containers' contents (/ip_lease_containers/:uuid/ip_leases, …/ip_retentions).
import type { FastifyInstance } from 'fastify';
import { type ParamSpec, type Params, str, uuid } from '../../model/params.js';
import { UUID_PREFIX as P, type ResourceKind } from '../../model/types.js';
import type { Doc } from '../../store/store.js';
import { represent } from '../represent.js';
import {
  addPolicyContainer,
  addPolicyInterface,
  addPolicyNetwork,
  leaseFromPolicy,
  removeFromPolicy,
} from '../resources/lease-policies.js';
import type { ReadContext, WriteContext } from '../write-context.js';
import { type RouteOptions, Routes } from './context.js';
import { addRelationRoutes } from './relation-routes.js';

type PathOf = Record<string, string>;

/** The related objects a policy lists, in its order (ones gone meanwhile left out). */
async function related(ctx: ReadContext, kind: ResourceKind, uuids: string[]): Promise<Doc[]> {
  const out = [];
  for (const u of uuids) {
    const d = await ctx.get(kind, u);
    if (d) out.push(await represent(ctx, kind, d));
  }
  return out;
}

export async function leasePolicyRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);

  /** One relation: its list, add and remove routes; `add` returns what OpenVNet answered. */
  const relation = (
    segment: string,
    otherField: string,
    otherPrefix: string,
    list: (lp: Doc) => { kind: ResourceKind; uuids: string[] },
    add: { params?: ParamSpec[]; run: (path: PathOf, p: Params) => (ctx: WriteContext) => Promise<unknown> },
    removeList: 'networks' | 'interfaces' | 'ip_lease_container_uuids' | 'ip_retention_container_uuids',
    answer: (ctx: ReadContext, path: PathOf) => Promise<unknown>,
  ) =>
    addRelationRoutes(
      r,
      { kind: 'lease_policies', singular: 'lease policy' },
      { segment, otherField, otherPrefix },
      {
        summary: `List the ${segment} of a lease policy`,
        handler: async ({ path, p }) =>
          r.page(
            await r.service.read(async (ctx) => {
              const { kind, uuids } = list(await ctx.must('lease_policies', path.uuid!));
              return related(ctx, kind, uuids);
            }),
            p,
          ),
      },
      [
        {
          method: 'POST',
          summary: `Add to the ${segment} of a lease policy`,
          params: add.params ?? [],
          handler: async ({ path, p }) =>
            r.write(async (ctx) => {
              await add.run(path, p)(ctx);
              return answer(ctx, path);
            }),
        },
        {
          method: 'DELETE',
          summary: `Remove from the ${segment} of a lease policy`,
          handler: async ({ path }) =>
            r.write(async (ctx) => {
              await removeFromPolicy(ctx, path.uuid!, removeList, otherField, path[otherField]!);
              return answer(ctx, path);
            }),
        },
      ],
    );

  // OpenVNet answered the policy's uuid for networks and interfaces, the container for containers.
  const policyAnswer = async (_ctx: ReadContext, path: Record<string, string>) => ({ uuid: path.uuid! });
  relation(
    'networks',
    'network_uuid',
    P.networks,
    (d) => ({ kind: 'networks', uuids: (d.networks as { network_uuid: string }[]).map((n) => n.network_uuid) }),
    {
      params: [
        uuid('ip_range_group_uuid', P.ip_range_groups, { required: true, doc: 'range group its addresses come from' }),
      ],
      run: (path, p) => (ctx) => addPolicyNetwork(ctx, path.uuid!, path.network_uuid!, p.ip_range_group_uuid as string),
    },
    'networks',
    policyAnswer,
  );
  relation(
    'interfaces',
    'interface_uuid',
    P.interfaces,
    (d) => ({ kind: 'interfaces', uuids: (d.interfaces as { interface_uuid: string }[]).map((n) => n.interface_uuid) }),
    {
      params: [str('label', { nullable: true, doc: 'a label for the relation (stored)' })],
      run: (path, p) => (ctx) =>
        addPolicyInterface(ctx, path.uuid!, path.interface_uuid!, (p.label as string | null | undefined) ?? null),
    },
    'interfaces',
    policyAnswer,
  );
  for (const kind of ['ip_lease_containers', 'ip_retention_containers'] as const) {
    const field = kind === 'ip_lease_containers' ? 'ip_lease_container_uuid' : 'ip_retention_container_uuid';
    relation(
      kind,
      field,
      P[kind],
      (d) => ({ kind, uuids: d[`${field}s`] as string[] }),
      { run: (path) => (ctx) => addPolicyContainer(ctx, path.uuid!, kind, path[field]!) },
      `${field}s` as 'ip_lease_container_uuids' | 'ip_retention_container_uuids',
      async (ctx, path) => represent(ctx, kind, await ctx.must(kind, path[field]!)),
    );
  }

  r.add({
    method: 'POST',
    url: '/lease_policies/:uuid/ip_leases',
    tag: 'lease_policies',
    summary: 'Lease an address from the policy, attached to no interface',
    path: { uuid: P.lease_policies },
    params: [uuid('ip_lease_uuid', P.ip_leases, { doc: "the new lease's uuid; generated when omitted" }), str('label')],
    echoes: ({ uuid }) => ({ uuid: uuid! }),
    handler: async ({ path, p }) =>
      r.write(async (ctx) =>
        represent(ctx, 'ip_leases', await leaseFromPolicy(ctx, path.uuid!, null, { ip_lease_uuid: p.ip_lease_uuid })),
      ),
  });
  // What the containers hold, listed as OpenVNet did: a lease container its leases, a retention container its timings.
  const contents = [
    {
      kind: 'ip_lease_containers',
      singular: 'IP lease container',
      segment: 'ip_leases',
      summary: 'List the IP leases of a container',
      items: (ctx: ReadContext, c: Doc) => related(ctx, 'ip_leases', c.ip_lease_uuids as string[]),
    },
    {
      kind: 'ip_retention_containers',
      singular: 'IP retention container',
      segment: 'ip_retentions',
      summary: 'List the leases a retention container times (leased_at, released_at)',
      items: async (_ctx: ReadContext, c: Doc) => c.ip_retentions as Doc[],
    },
  ] as const;
  for (const c of contents)
    addRelationRoutes(r, c, c, {
      summary: c.summary,
      handler: async ({ path, p }) =>
        r.page(await r.service.read(async (ctx) => c.items(ctx, await ctx.must(c.kind, path.uuid!))), p),
    });
}

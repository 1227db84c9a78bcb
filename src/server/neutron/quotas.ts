// Per-project quotas (Neutron's defaults): how many objects of each kind one project may hold. A create beyond
// its project's quota is a 409 OverQuota, as Neutron answers; admins' objects count against their project too.
import type { Doc } from '../../store/store.js';
import { ConfigError } from '../config.js';
import type { ReadContext } from '../write-context.js';
import { NEUTRON, type NeutronKind } from './dialect.js';
import { NeutronError } from './errors.js';

export type Quotas = Record<NeutronKind, number>;

/** Neutron's own defaults (neutron.conf [quotas]). */
export const DEFAULT_QUOTAS: Quotas = {
  networks: 100,
  subnets: 100,
  ports: 500,
  routers: 10,
  floatingips: 50,
  security_groups: 10,
  security_group_rules: 100,
};

/** Where each Neutron kind is stored (rules live inside their groups and are counted there). */
const STORED = {
  networks: 'networks',
  subnets: 'subnets',
  ports: 'interfaces',
  routers: 'route_links',
  floatingips: 'floating_ips',
  security_groups: 'security_groups',
} as const satisfies Partial<Record<NeutronKind, string>>;

/** How many objects of a kind a project holds now. */
async function held(ctx: ReadContext, kind: NeutronKind, project: string): Promise<number> {
  const mine = { project_id: project };
  if (kind === 'security_group_rules')
    return (await ctx.find('security_groups', mine)).reduce((n, g: Doc) => n + (g.rules as unknown[]).length, 0);
  return (await ctx.find(STORED[kind], mine)).length;
}

/** 409 OverQuota when `project` already holds its quota of `kind` (`adding` more would be created). */
export async function checkQuota(
  ctx: ReadContext,
  quotas: Quotas,
  kind: NeutronKind,
  project: string,
  adding = 1,
): Promise<void> {
  const limit = quotas[kind];
  if (limit < 0) return; // -1: unlimited, as in Neutron
  if ((await held(ctx, kind, project)) + adding > limit)
    throw new NeutronError(409, 'OverQuota', `Quota exceeded for resources: ['${NEUTRON[kind].singular}'].`);
}

/** `KIND=N` (repeatable server option) over the defaults; a bad one is a start-up error naming it. */
export function parseQuotas(specs: readonly string[]): Quotas {
  const q = { ...DEFAULT_QUOTAS };
  for (const s of specs) {
    const m = /^([a-z_]+)=(-1|\d+)$/.exec(s);
    if (!m || !(m[1]! in q))
      throw new ConfigError(`--neutron-quota: '${s}' is not KIND=N (KIND: ${Object.keys(q).join(', ')})`);
    q[m[1] as NeutronKind] = Number(m[2]);
  }
  return q;
}

/** The project a create counts against: a rule's group's, else the one asked for, else the caller's. */
export async function projectOfCreate(
  ctx: ReadContext,
  kind: NeutronKind,
  o: Record<string, unknown>,
  callerProject: string,
): Promise<string> {
  if (kind === 'security_group_rules') {
    const g = await ctx.get('security_groups', String(o.security_group_id));
    return (g?.project_id as string | null | undefined) ?? callerProject;
  }
  return ((o.project_id ?? o.tenant_id) as string | undefined) ?? callerProject;
}

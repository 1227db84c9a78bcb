// Neutron v2.0 on its own listener (`vnet server --neutron-listen`, 9696 by custom): the `openstack` CLI and
// Tempest drive it. Same Service (store, transactions, change feed) as the OpenVNet API; its own URL layout, error
// body, and callers (X-Auth-Token: a vnet admin token, or a member token of one project).
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from '../../util/log.js';
import { installActorContext } from '../auth/audit.js';
import { isLoopbackHost, type AuthMode, verifyToken } from '../auth/guard.js';
import { PAGE_VISITOR, type Principal } from '../auth/policy.js';
import type { Service } from '../service.js';
import { type Body, listFilters, matches, NEUTRON, type NeutronKind, pick, requestObject } from './dialect.js';
import { NeutronError, neutronErrorOf } from './errors.js';
import { isPublicIdentityRoute, type KeystoneUser, keystoneRoutes, type LOGIN_RATES } from './keystone.js';
import { sortAndPage } from './paging.js';
import { createOf, defaultGroup, listOf, removeOf, showOf, updateOf } from './resources.js';
import { checkQuota, DEFAULT_QUOTAS, projectOfCreate, type Quotas } from './quotas.js';
import { addRouterInterface, removeRouterInterface } from './routers.js';
import { type Caller, NeutronView } from './views.js';

/** The project of callers that name none: local trust, --insecure, an admin token without a project. */
export const ADMIN_PROJECT = 'admin';

/** keystoneauth's `none` plugin sends this placeholder: it means "no credential", not a bad one. */
const NO_TOKEN = 'notused';

/** Extensions served (what Tempest reads to decide what to test); everything else is absent, so it skips. */
const EXTENSION_ROWS: readonly (readonly [alias: string, name: string, description: string])[] = [
  ['external-net', 'Neutron external network', 'router:external on networks'],
  ['security-group', 'security-group', 'Security groups and their rules (IPv4)'],
  ['router', 'Neutron L3 Router', 'routers (route links), their interfaces and gateways; floating IPs'],
  ['ext-gw-mode', 'Neutron L3 Configurable external gateway mode', 'enable_snat'],
  ['port-security', 'Port Security', 'port_security_enabled on ports'],
  ['provider', 'Provider Network', 'flat and VLAN physical networks; tunnel keys'],
  ['binding', 'Port Binding', 'binding:host_id names the datapath node'],
  ['project-id', 'project_id field enabled', 'project_id beside tenant_id'],
  ['standard-attr-description', 'standard-attr-description', 'description on every resource'],
  ['sorting', 'Sorting support', 'sort_key and sort_dir on every list'],
  ['pagination', 'Pagination support', 'limit, marker and page_reverse on every list'],
  ['ip-substring-filtering', 'IP address substring filtering', 'fixed_ips=ip_address_substr=… on ports'],
];
export const EXTENSIONS: readonly { alias: string; name: string; description: string }[] = EXTENSION_ROWS.map(
  ([alias, name, description]) => ({ alias, name, description }),
);

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The Neutron resource a route serves (its errors are named after it). */
    kind?: NeutronKind;
  }
}

export interface NeutronAppOptions {
  service: Service;
  /** As the OpenVNet listener's: local (loopback: no token needed), tokens, insecure. */
  mode: AuthMode;
  logger?: Logger;
  tls?: { key: string; cert: string };
  /** Per-project quotas (default: Neutron's, quotas.ts). */
  quotas?: Quotas;
  /** Users of the minimal Keystone v3 under /identity/v3 (keystone.ts); none: every login fails. */
  keystoneUsers?: readonly KeystoneUser[];
  /** Login attempts allowed per user name and per source address (default LOGIN_RATES; tests slow the refill). */
  loginRates?: typeof LOGIN_RATES;
}

function callerOf(p: Principal): Caller {
  if (p.role === 'admin') return { admin: true, projectId: p.projectId ?? ADMIN_PROJECT };
  if (p.role === 'member' && p.projectId) return { admin: false, projectId: p.projectId };
  throw new NeutronError(403, 'PolicyNotAuthorized', `a ${p.role} token has no access to the Neutron API`);
}

async function authenticate(req: FastifyRequest, opts: NeutronAppOptions): Promise<Principal> {
  const header = req.headers['x-auth-token'];
  const token = typeof header === 'string' && header !== NO_TOKEN ? header : null;
  if (token) return verifyToken(opts.service, token);
  if (opts.mode === 'local') {
    // DNS rebinding: local trust only for requests addressed to a loopback name.
    if (req.headers.host !== undefined && !isLoopbackHost(req.headers.host))
      throw new NeutronError(403, 'PolicyNotAuthorized', `Host '${req.headers.host.slice(0, 100)}' is not served here`);
    return { id: 'local', role: 'admin', nodeId: null };
  }
  if (opts.mode === 'insecure') return { id: 'insecure', role: 'admin', nodeId: null };
  throw new NeutronError(401, 'Unauthorized', 'a token is required (X-Auth-Token)');
}

function send(reply: FastifyReply, err: NeutronError) {
  return reply.status(err.status).send(err.body());
}

export async function buildNeutronApp(opts: NeutronAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.tls ? { https: { key: opts.tls.key, cert: opts.tls.cert } } : {}),
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // Tempest and the CLI send bodies of a few KB; a bulk create is not served.
    bodyLimit: 1024 * 1024,
  }) as unknown as FastifyInstance;
  const service = opts.service;
  const quotas = opts.quotas ?? DEFAULT_QUOTAS;

  // Tempest sends Content-Type: application/json on every request, DELETEs and GETs without a body included.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    body === '' ? done(null, undefined) : json(req, body as string, done),
  );
  app.decorateRequest('caller', null as unknown as Caller);
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req) => {
    if (req.url === '/' || req.url.startsWith('/?') || isPublicIdentityRoute(req.method, req.url)) {
      req.principal = PAGE_VISITOR; // version discovery and login need no credential and show no data
      return;
    }
    req.principal = await authenticate(req, opts);
    req.caller = callerOf(req.principal);
    // A browser can post a form cross-site, never JSON without a CORS preflight (which nothing here answers).
    if (
      (req.method === 'POST' || req.method === 'PUT') &&
      !/^application\/json\b/i.test(req.headers['content-type'] ?? '')
    )
      throw new NeutronError(415, 'HTTPUnsupportedMediaType', 'request bodies must be application/json');
  });
  installActorContext(app, () => 'write');

  app.setErrorHandler((err, req, reply) => {
    const kind = req.routeOptions.config?.kind;
    const mapped = neutronErrorOf(err, kind ? NEUTRON[kind].type : 'Resource');
    if (mapped) return send(reply, mapped);
    const e = err as { statusCode?: number; message?: string };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
      return send(reply, new NeutronError(e.statusCode, 'HTTPBadRequest', e.message ?? 'bad request'));
    req.log.error({ err }, 'neutron: internal error');
    return send(
      reply,
      new NeutronError(
        500,
        'HTTPInternalServerError',
        'Request Failed: internal server error while processing your request.',
      ),
    );
  });
  app.setNotFoundHandler((req, reply) =>
    send(
      reply,
      new NeutronError(
        404,
        'HTTPNotFound',
        `The resource could not be found: ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`,
      ),
    ),
  );

  const versions = {
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: '/v2.0/' }] }],
  };
  app.get('/', async () => versions);
  const resources = {
    resources: Object.values(NEUTRON).map((r) => ({
      name: r.singular,
      collection: r.collection.replaceAll('-', '_'),
      links: [{ rel: 'self', href: `/v2.0/${r.collection}` }],
    })),
  };
  app.get('/v2.0', async () => resources);
  app.get('/v2.0/', async () => resources);
  keystoneRoutes(app, service, opts.keystoneUsers ?? [], opts.loginRates);
  const ext = (e: (typeof EXTENSIONS)[number]) => ({ ...e, links: [], updated: '2026-12-07T00:00:00-00:00' });
  app.get('/v2.0/extensions', async () => ({ extensions: EXTENSIONS.map(ext) }));
  app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', async (req) => {
    const e = EXTENSIONS.find((x) => x.alias === req.params.alias);
    if (!e) throw new NeutronError(404, 'ExtensionNotFound', `Extension with alias ${req.params.alias} does not exist`);
    return { extension: ext(e) };
  });

  const read = <T>(
    caller: Caller,
    fn: (view: NeutronView, ctx: Parameters<Parameters<Service['read']>[0]>[0]) => Promise<T>,
  ) => service.read(async (ctx) => fn(await NeutronView.load(ctx, caller), ctx));

  for (const kind of Object.keys(NEUTRON) as NeutronKind[]) {
    const res = NEUTRON[kind];
    const listKey = res.collection.replaceAll('-', '_');
    const base = `/v2.0/${res.collection}`;
    const config = { kind };
    type Q = { Querystring: Record<string, string | string[]>; Params: { id: string } };

    app.get<Q>(base, { config }, async (req) => {
      // A project's default group exists from its first look at its groups, as in Neutron.
      if (kind === 'security_groups' || kind === 'security_group_rules') await ensureDefaultGroup(service, req.caller);
      const filters = listFilters(kind, req.query);
      const all = await read(req.caller, (view, ctx) => listOf(view, ctx, kind));
      const hits = all.filter((o) => [...filters].every(([k, want]) => matches(o[k], want)));
      const self = new URL(req.url, `${req.protocol}://${req.headers.host ?? req.hostname}`);
      const page = sortAndPage(hits, req.query, Object.keys(res.attrs), self, res.type);
      return {
        [listKey]: page.items.map((o) => pick(o, req.query.fields)),
        ...(page.links ? { [`${listKey}_links`]: page.links } : {}),
      };
    });
    app.get<Q>(`${base}/:id`, { config }, async (req) => ({
      [res.singular]: pick(
        await read(req.caller, (view, ctx) => showOf(view, ctx, kind, req.params.id)),
        req.query.fields,
      ),
    }));
    app.post<Q>(base, { config }, async (req, reply) => {
      // Bulk: {"networks": [{...}, ...]} makes every one in one transaction (all or none), as Neutron's bulk create.
      const bulk = (req.body as Body | null)?.[listKey];
      const objects = Array.isArray(bulk)
        ? bulk.map((b) => requestObject(kind, { [res.singular]: b }, 'post', req.caller.admin, req.caller.projectId))
        : [requestObject(kind, req.body, 'post', req.caller.admin, req.caller.projectId)];
      const { result } = await service.write(async (ctx) => {
        const made: Body[] = [];
        for (const o of objects) {
          const view = await NeutronView.load(ctx, req.caller);
          await checkQuota(ctx, quotas, kind, await projectOfCreate(ctx, kind, o, req.caller.projectId));
          const id = await createOf(ctx, view, kind, o);
          made.push(await showOf(await NeutronView.load(ctx, req.caller), ctx, kind, id));
        }
        return made;
      });
      return reply.status(201).send(Array.isArray(bulk) ? { [listKey]: result } : { [res.singular]: result[0] });
    });
    app.put<Q>(`${base}/:id`, { config }, async (req) => {
      const o = requestObject(kind, req.body, 'put', req.caller.admin);
      const { result } = await service.write(async (ctx) => {
        await updateOf(ctx, await NeutronView.load(ctx, req.caller), kind, req.params.id, o);
        return showOf(await NeutronView.load(ctx, req.caller), ctx, kind, req.params.id);
      });
      return { [res.singular]: result };
    });
    if (kind === 'routers')
      for (const [action, fn] of [
        ['add_router_interface', addRouterInterface],
        ['remove_router_interface', removeRouterInterface],
      ] as const)
        app.put<Q>(`${base}/:id/${action}`, { config }, async (req) => {
          const body = (req.body ?? {}) as Body;
          const { result } = await service.write(async (ctx) =>
            fn(ctx, await NeutronView.load(ctx, req.caller), req.params.id, body),
          );
          return result;
        });
    app.delete<Q>(`${base}/:id`, { config }, async (req, reply) => {
      await service.write(async (ctx) => removeOf(ctx, await NeutronView.load(ctx, req.caller), kind, req.params.id));
      return reply.status(204).send();
    });
  }
  return app;
}

/** Makes the caller's project's default security group when it has none (one write, only the first time). */
async function ensureDefaultGroup(service: Service, caller: Caller): Promise<void> {
  const has = await service.read(async (ctx) =>
    (await ctx.find('security_groups', { project_id: caller.projectId })).some((g) => g.display_name === 'default'),
  );
  if (!has) await service.write((ctx) => defaultGroup(ctx, caller.projectId));
}

export type { Body };

// The HTTP API (fastify): OpenVNet 1.0 paths and parameter conventions, our additions, the change feed, OpenAPI.
// Routes live in routes/ (one fastify plugin per resource family); OpenVNet's request conventions and the
// declared-routes validator in http/.
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { ApiError, MalformedRequest, RouteNotFound, TooManyRequests, Unavailable } from '../model/errors.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { VERSION } from '../util/version.js';
import type { FeedOptions } from './feed.js';
import { API_PREFIX, rewriteOpenVNetUrl, yamlReply } from './http/openvnet.js';
import { RouteTable } from './http/route-table.js';
import { agentReportRoutes } from './routes/agent-reports.js';
import type { RouteOptions } from './routes/context.js';
import { datapathRelationRoutes } from './routes/datapath-relations.js';
import { topologyRelationRoutes } from './routes/topology-relations.js';
import { feedRoutes } from './routes/feed.js';
import { interfaceRoutes } from './routes/interfaces.js';
import { interfaceAssociationRoutes } from './routes/interface-associations.js';
import { ipLeaseRoutes } from './routes/ip-leases.js';
import { leasePolicyRoutes } from './routes/lease-policies.js';
import { itemRoutes } from './routes/items.js';
import { metricsRoutes } from './routes/metrics.js';
import { resourceRoutes } from './routes/resources.js';
import { Service } from './service.js';
import { DEFAULT_LEASE_SWEEP_MS, LeaseSweeper } from './lease-sweeper.js';
import { AgentPresence } from './agent-presence.js';
import { AgentRequests } from './agent-requests.js';
import { installActorContext } from './auth/audit.js';
import { type GuardOptions, RequestGuard } from './auth/guard.js';
import { ServerMetrics } from './metrics.js';
import { auditRoutes } from './routes/audit.js';
import { healthRoutes } from './routes/health.js';
import { tokenRoutes } from './routes/tokens.js';
import { traceRoutes } from './routes/traces.js';
import { uiRoutes } from './routes/ui.js';

export interface AppDeps {
  store: Store;
  logger?: Logger | false;
  feed?: FeedOptions;
  /** Default page size of lists (OpenVNet's pagination_limit). */
  defaultLimit?: number;
  /** Who may call (default: local trust, for a loopback-only server). */
  auth?: GuardOptions;
  /** How long a request relayed to an agent (a trace's hop) may wait for its answer (default 10 s). */
  agentRequestTimeoutMs?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** How often lease policies' retentions are expired (ms; 0: never; default DEFAULT_LEASE_SWEEP_MS). */
  leaseSweepMs?: number;
  /** How long an agent's last feed stream may stay closed before its datapaths show disconnected (ms). */
  presenceGraceMs?: number;
}

/** Route plugins in registration order (the OpenAPI document lists them so). */
const ROUTE_PLUGINS = [
  resourceRoutes,
  datapathRelationRoutes,
  topologyRelationRoutes,
  agentReportRoutes,
  interfaceRoutes,
  interfaceAssociationRoutes,
  ipLeaseRoutes,
  leasePolicyRoutes,
  itemRoutes,
  feedRoutes,
  tokenRoutes,
  traceRoutes,
  auditRoutes,
  metricsRoutes,
  uiRoutes,
  healthRoutes,
];

export async function buildApp(deps: AppDeps): Promise<{ app: FastifyInstance; service: Service }> {
  const service = new Service(deps.store, deps.logger || undefined);
  const app = Fastify({
    ...(deps.tls ? { https: { key: deps.tls.key, cert: deps.tls.cert } } : {}),
    loggerInstance: deps.logger || undefined,
    logger: deps.logger === undefined ? false : undefined,
    // Per-request lines would dominate the log (agents report often); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // OpenVNet mounts the API at /api/1.0 and /api, and accepts a .json/.yml format suffix.
    rewriteUrl: rewriteOpenVNetUrl,
    // Feed streams never end on their own; close() must not wait for them.
    forceCloseConnections: true,
  });
  const table = new RouteTable();
  app.setValidatorCompiler(table.validatorCompiler);
  app.addHook('preValidation', table.openVNetRequest);
  app.addHook('onSend', yamlReply);

  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      info: { title: 'vnet API (OpenVNet 1.0 compatible)', version: VERSION },
      servers: [{ url: '/' }],
    },
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if ((err instanceof TooManyRequests || err instanceof Unavailable) && err.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(err.retryAfterSeconds));
    if (err instanceof ApiError) return reply.status(err.status).send(err.toBody());
    const e = err as { statusCode?: number; message?: string; code?: string };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
      return reply.status(e.statusCode).send(new MalformedRequest(e.message ?? 'bad request', e.statusCode).toBody());
    req.log.error({ err }, 'internal error');
    return reply
      .status(500)
      .send({ error: 'Vnet::Endpoints::Errors::InternalError', message: 'internal error', code: '500' });
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new RouteNotFound(req.method, req.url.split('?')[0]!.slice(0, 200));
    return reply.status(404).send(e.toBody());
  });

  new RequestGuard(service, deps.auth ?? { mode: 'local' }, table.accessOf, deps.logger || undefined).install(
    app as unknown as FastifyInstance,
  );
  // After the guard: the request's actor follows its handler into Service.write (the audit entry).
  installActorContext(app as unknown as FastifyInstance, table.accessOf);

  const presence = new AgentPresence(service, deps.logger || undefined, deps.presenceGraceMs);
  // Closing the server closes every feed stream: that says nothing about the agents.
  app.addHook('preClose', async () => presence.stop());
  const sweeper = new LeaseSweeper(service, deps.leaseSweepMs ?? DEFAULT_LEASE_SWEEP_MS, deps.logger || undefined);
  app.addHook('onReady', async () => sweeper.start());
  app.addHook('preClose', async () => sweeper.stop());
  // One registry per app: several servers in one (test) process keep their own counts.
  const metrics = new ServerMetrics(service);
  await metrics.install(app as unknown as FastifyInstance, table.isStream);
  const opts: RouteOptions = {
    table,
    service,
    defaultLimit: deps.defaultLimit ?? 30,
    feed: deps.feed,
    presence,
    requests: new AgentRequests(deps.agentRequestTimeoutMs),
    metrics,
  };
  for (const plugin of ROUTE_PLUGINS) await app.register(plugin, opts);

  app.get('/api/openapi.json', async () => app.swagger());
  app.get(`${API_PREFIX}/version`, async () => ({ version: VERSION }));

  return { app: app as unknown as FastifyInstance, service };
}

// The HTTP API (fastify): OpenVNet 1.0 paths and parameter conventions, our additions, the change feed, OpenAPI.
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import YAML from 'yaml';
import { ApiError, ArgumentError, MalformedRequest, RouteNotFound, UnknownUUIDResource } from '../model/errors.js';
import {
  bool,
  checkUuid,
  int,
  ipv4,
  oneOf,
  type ParamSpec,
  type Params,
  paramJsonSchema,
  parseParams,
  str,
  uuid,
} from '../model/params.js';
import { UUID_PREFIX } from '../model/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { VERSION } from '../util/version.js';
import { type FeedOptions, streamChanges } from './feed.js';
import {
  addKeyedItem,
  addPort,
  addSubItem,
  DATAPATH_RELATIONS,
  datapathRelationPut,
  KEYED_ITEMS,
  PORT_PARAMS,
  portsOf,
  removeKeyedItem,
  removePorts,
  removeSubItem,
  SUB_ITEMS,
  setMembership,
} from './relations.js';
import { buildLeaseIndex, represent, representInterface } from './represent.js';
import { RESOURCES, type ResourceDef, rejectImmutable } from './resources.js';
import { Service } from './service.js';
import type { WriteContext } from './write-context.js';

export interface AppDeps {
  store: Store;
  logger?: Logger | false;
  feed?: FeedOptions;
  /** Default page size of lists (OpenVNet's pagination_limit). */
  defaultLimit?: number;
}

export const API_PREFIX = '/api/1.0';
export const MAX_LIMIT = 100_000;
const P = UUID_PREFIX;

type Raw = Record<string, unknown>;

/** Query string + body, OpenVNet style: form or JSON body, a single-key JSON wrapper object is unwrapped. */
export function requestParams(req: FastifyRequest): Raw {
  const out: Raw = {};
  const q = req.query as Raw | undefined;
  if (q && typeof q === 'object') for (const [k, v] of Object.entries(q)) out[k] = v;
  let body = req.body as unknown;
  if (body === undefined || body === null || body === '') return out;
  if (typeof body !== 'object' || Array.isArray(body))
    throw new MalformedRequest('body must be an object of parameters');
  const keys = Object.keys(body);
  const only = keys.length === 1 ? (body as Raw)[keys[0]!] : undefined;
  if (only !== null && typeof only === 'object' && !Array.isArray(only)) body = only;
  for (const [k, v] of Object.entries(body as Raw)) {
    if (k in out && out[k] !== v)
      throw new ArgumentError(k, 'given in both the query string and the body, differently');
    out[k] = v;
  }
  return out;
}

function pathParam(req: FastifyRequest, name: string, prefix: string): string {
  const v = (req.params as Record<string, string>)[name] ?? '';
  return checkUuid(name, v, prefix);
}

const LIST_PARAMS: ParamSpec[] = [int('limit', 0, MAX_LIMIT), int('offset', 0, Number.MAX_SAFE_INTEGER)];

function objectSchema(specs: ParamSpec[]) {
  const properties: Record<string, unknown> = {};
  for (const s of specs) properties[s.name] = paramJsonSchema(s);
  const required = specs.filter((s) => s.required).map((s) => s.name);
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  tag: string;
  summary: string;
  params?: ParamSpec[];
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export async function buildApp(deps: AppDeps): Promise<{ app: FastifyInstance; service: Service }> {
  const service = new Service(deps.store, deps.logger || undefined);
  const defaultLimit = deps.defaultLimit ?? 30;
  const app = Fastify({
    loggerInstance: deps.logger || undefined,
    logger: deps.logger === undefined ? false : undefined,
    // Per-request lines would dominate the log (agents report often); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // OpenVNet mounts the API at /api/1.0 and /api, and accepts a .json/.yml format suffix.
    rewriteUrl: (req) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      let path = q < 0 ? url : url.slice(0, q);
      const rest = q < 0 ? '' : url.slice(q);
      if (path === '/api/openapi.json') return url;
      const m = /\.(json|ya?ml)$/.exec(path);
      if (m) {
        path = path.slice(0, -m[0].length);
        if (m[1] !== 'json') (req as { vnetYaml?: boolean }).vnetYaml = true;
      }
      if (path.startsWith('/api/') && !path.startsWith(`${API_PREFIX}/`) && path !== API_PREFIX)
        path = API_PREFIX + path.slice(4);
      return path + rest;
    },
    ajv: { customOptions: { strict: false } },
    // Feed streams never end on their own; close() must not wait for them.
    forceCloseConnections: true,
  });
  // Validation is parseParams's job (OpenVNet's error shape, coercion from strings); schemas only feed OpenAPI.
  app.setValidatorCompiler(() => (data) => ({ value: data }));

  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      info: { title: 'vnet API (OpenVNet 1.0 compatible)', version: VERSION },
      servers: [{ url: '/' }],
    },
  });

  app.setErrorHandler((err: unknown, req, reply) => {
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
  app.addHook('onSend', async (req, reply, payload) => {
    if (!(req.raw as { vnetYaml?: boolean }).vnetYaml || typeof payload !== 'string') return payload;
    try {
      reply.header('content-type', 'application/x-yaml; charset=utf-8');
      return YAML.stringify(JSON.parse(payload));
    } catch {
      return payload;
    }
  });

  const route = (r: RouteSpec) => {
    const schema: Record<string, unknown> = { tags: [r.tag], summary: r.summary };
    if (r.params && r.params.length > 0) {
      if (r.method === 'GET' || r.method === 'DELETE') schema.querystring = objectSchema(r.params);
      else schema.body = objectSchema(r.params);
    }
    // HEAD on the never-ending change stream would hold a connection open for nothing.
    const exposeHeadRoute = r.url !== '/feed/changes';
    app.route({ method: r.method, url: API_PREFIX + r.url, schema, handler: r.handler, exposeHeadRoute });
  };

  const write = async <T>(fn: (ctx: WriteContext) => Promise<T>): Promise<T> => (await service.write(fn)).result;

  async function listOf(kind: ResourceDef['kind'], where: Record<string, string | number | boolean | null>, p: Params) {
    const limit = (p.limit as number | undefined) ?? defaultLimit;
    const offset = (p.offset as number | undefined) ?? 0;
    return service.read(async (ctx) => {
      const total_count = await ctx.tx.count(kind, where);
      let items = await ctx.tx.find(kind, where, { limit, offset });
      if (kind === 'interfaces' && items.length > 100) {
        // Big pages: one pass over all leases beats two indexed queries per interface.
        const idx = buildLeaseIndex(await ctx.find('mac_leases'), await ctx.find('ip_leases'));
        items = items.map((d) =>
          representInterface(d, idx.macByIface.get(d.uuid) ?? [], (m) => idx.ipByMac.get(m.uuid) ?? []),
        );
      } else if (kind === 'interfaces') {
        const withLeases = [];
        for (const d of items) withLeases.push(await represent(ctx, kind, d));
        items = withLeases;
      }
      return { total_count, offset, limit, items };
    });
  }

  // ---- top-level resources ----
  for (const def of RESOURCES) {
    const base = `/${def.kind}`;
    route({
      method: 'GET',
      url: base,
      tag: def.kind,
      summary: `List ${def.kind}`,
      params: [...LIST_PARAMS, ...def.filters],
      handler: async (req) => {
        const p = parseParams([...LIST_PARAMS, ...def.filters], requestParams(req));
        const where: Record<string, string | number | boolean | null> = {};
        for (const f of def.filters) if (p[f.name] !== undefined) where[f.name] = p[f.name]!;
        return listOf(def.kind, where, p);
      },
    });
    route({
      method: 'POST',
      url: base,
      tag: def.kind,
      summary: `Create a ${def.singular}`,
      params: def.createParams,
      handler: async (req) => {
        const p = parseParams(def.createParams, requestParams(req));
        return write(async (ctx) => represent(ctx, def.kind, await def.create(ctx, p)));
      },
    });
    route({
      method: 'GET',
      url: `${base}/:uuid`,
      tag: def.kind,
      summary: `Show a ${def.singular}`,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', def.prefix);
        parseParams([], requestParams(req), { uuid: id });
        return service.read(async (ctx) => represent(ctx, def.kind, await ctx.must(def.kind, id)));
      },
    });
    route({
      method: 'PUT',
      url: `${base}/:uuid`,
      tag: def.kind,
      summary: `Update a ${def.singular}`,
      params: def.updateParams,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', def.prefix);
        const raw = requestParams(req);
        rejectImmutable(def, raw, id);
        const p = parseParams(def.updateParams, raw);
        return write(async (ctx) => represent(ctx, def.kind, await def.update(ctx, await ctx.must(def.kind, id), p)));
      },
    });
    route({
      method: 'DELETE',
      url: `${base}/:uuid`,
      tag: def.kind,
      summary: `Delete a ${def.singular} (see docs/api.md for cascades)`,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', def.prefix);
        parseParams([], requestParams(req), { uuid: id });
        await write(async (ctx) => def.remove(ctx, await ctx.must(def.kind, id)));
        return [id];
      },
    });
  }

  // ---- datapath relations ----
  for (const rel of DATAPATH_RELATIONS) {
    const base = `/datapaths/:uuid/${rel.segment}`;
    const other = rel.otherField;
    const ids = (req: FastifyRequest) =>
      [pathParam(req, 'uuid', P.datapaths), pathParam(req, other, rel.otherPrefix)] as const;
    const equal = (dp: string, o: string) => ({ uuid: dp, datapath_uuid: dp, [other]: o });
    route({
      method: 'GET',
      url: base,
      tag: 'datapaths',
      summary: `List ${rel.segment} of a datapath`,
      params: LIST_PARAMS,
      handler: async (req) => {
        const dp = pathParam(req, 'uuid', P.datapaths);
        const p = parseParams(LIST_PARAMS, requestParams(req), { uuid: dp, datapath_uuid: dp });
        await service.read((ctx) => ctx.must('datapaths', dp));
        return listOf(rel.kind, { datapath_uuid: dp }, p);
      },
    });
    for (const method of ['POST', 'PUT'] as const)
      route({
        method,
        url: `${base}/:${other}`,
        tag: 'datapaths',
        summary: `${method === 'POST' ? 'Add' : 'Update'} a datapath's ${rel.segment} row`,
        params: rel.params,
        handler: async (req) => {
          const [dp, o] = ids(req);
          const p = parseParams(rel.params, requestParams(req), equal(dp, o));
          return write((ctx) => datapathRelationPut(ctx, rel, dp, o, p, method === 'POST'));
        },
      });
    route({
      method: 'GET',
      url: `${base}/:${other}`,
      tag: 'datapaths',
      summary: `Show a datapath's ${rel.segment} row`,
      handler: async (req) => {
        const [dp, o] = ids(req);
        parseParams([], requestParams(req), equal(dp, o));
        return service.read((ctx) => ctx.must(rel.kind, `${dp}/${o}`));
      },
    });
    route({
      method: 'DELETE',
      url: `${base}/:${other}`,
      tag: 'datapaths',
      summary: `Remove a datapath's ${rel.segment} row`,
      handler: async (req) => {
        const [dp, o] = ids(req);
        parseParams([], requestParams(req), equal(dp, o));
        await write(async (ctx) => {
          await ctx.must(rel.kind, `${dp}/${o}`);
          await ctx.remove(rel.kind, `${dp}/${o}`);
        });
        return [o];
      },
    });
  }

  // ---- agent reports ----
  const STATUS_PARAMS: ParamSpec[] = [
    bool('is_connected', { required: true }),
    bool('flows_in_sync', { required: true }),
    str('last_error', { nullable: true, type: { t: 'string', max: 4096 } }),
    str('reported_node_id', { required: true }),
    ipv4('ipv4_address'),
    // How other hosts must tunnel to this one (the agent's --encap); senders follow it.
    oneOf('encap', ['gre', 'vxlan']),
  ];
  route({
    method: 'PUT',
    url: '/datapaths/:uuid/status',
    tag: 'agent',
    summary: 'Agent report: datapath health',
    params: STATUS_PARAMS,
    handler: async (req) => {
      const dp = pathParam(req, 'uuid', P.datapaths);
      const p = parseParams(STATUS_PARAMS, requestParams(req), { uuid: dp });
      return write(async (ctx) => {
        const doc = await ctx.must('datapaths', dp);
        for (const k of ['is_connected', 'flows_in_sync', 'last_error', 'reported_node_id', 'ipv4_address', 'encap'])
          if (p[k] !== undefined) doc[k] = p[k];
        if (p.last_error === undefined) doc.last_error = null;
        return ctx.update('datapaths', doc);
      });
    },
  });
  const BINDING_PARAMS: ParamSpec[] = [
    oneOf('status', ['up', 'down'], { required: true }),
    uuid('active_datapath_uuid', P.datapaths, { nullable: true }),
    str('active_port_name', { nullable: true }),
  ];
  route({
    method: 'PUT',
    url: '/interfaces/:uuid/binding',
    tag: 'agent',
    summary: 'Agent report: interface bound to an OVS port',
    params: BINDING_PARAMS,
    handler: async (req) => {
      const id = pathParam(req, 'uuid', P.interfaces);
      const p = parseParams(BINDING_PARAMS, requestParams(req), { uuid: id });
      return write(async (ctx) => {
        const doc = await ctx.must('interfaces', id);
        if (p.active_datapath_uuid)
          await ctx.must('datapaths', p.active_datapath_uuid as string, 'active_datapath_uuid');
        doc.status = p.status;
        doc.active_datapath_uuid = p.active_datapath_uuid ?? null;
        doc.active_port_name = p.active_port_name ?? null;
        return represent(ctx, 'interfaces', await ctx.update('interfaces', doc));
      });
    },
  });

  // ---- interface ports and security group membership ----
  route({
    method: 'POST',
    url: '/interfaces/:uuid/ports',
    tag: 'interfaces',
    summary: "Set the interface's port (owner datapath + OVS port name)",
    params: PORT_PARAMS,
    handler: async (req) => {
      const id = pathParam(req, 'uuid', P.interfaces);
      const p = parseParams(PORT_PARAMS, requestParams(req), { uuid: id, interface_uuid: id });
      return write((ctx) => addPort(ctx, id, p));
    },
  });
  route({
    method: 'GET',
    url: '/interfaces/:uuid/ports',
    tag: 'interfaces',
    summary: "List the interface's ports",
    params: LIST_PARAMS,
    handler: async (req) => {
      const id = pathParam(req, 'uuid', P.interfaces);
      const p = parseParams(LIST_PARAMS, requestParams(req), { uuid: id });
      const items = portsOf(await service.read((ctx) => ctx.must('interfaces', id)));
      return page(items, p);
    },
  });
  route({
    method: 'DELETE',
    url: '/interfaces/:uuid/ports',
    tag: 'interfaces',
    summary: "Remove the interface's port",
    params: PORT_PARAMS,
    handler: async (req) => {
      const id = pathParam(req, 'uuid', P.interfaces);
      const p = parseParams(PORT_PARAMS, requestParams(req), { uuid: id, interface_uuid: id });
      return write((ctx) => removePorts(ctx, id, p));
    },
  });
  route({
    method: 'GET',
    url: '/interfaces/:uuid/security_groups',
    tag: 'interfaces',
    summary: 'List the security groups of an interface',
    params: LIST_PARAMS,
    handler: async (req) => {
      const id = pathParam(req, 'uuid', P.interfaces);
      const p = parseParams(LIST_PARAMS, requestParams(req), { uuid: id });
      const items = await service.read(async (ctx) => {
        const iface = await ctx.must('interfaces', id);
        const out = [];
        for (const sg of iface.security_group_uuids as string[]) {
          const d = await ctx.get('security_groups', sg);
          if (d) out.push(d);
        }
        return out;
      });
      return page(items, p);
    },
  });
  for (const method of ['PUT', 'POST', 'DELETE'] as const)
    route({
      method,
      url: '/interfaces/:uuid/security_groups/:security_group_uuid',
      tag: 'interfaces',
      summary:
        method === 'DELETE' ? 'Remove an interface from a security group' : 'Add an interface to a security group',
      handler: async (req) => {
        const id = pathParam(req, 'uuid', P.interfaces);
        const sg = pathParam(req, 'security_group_uuid', P.security_groups);
        parseParams([], requestParams(req), { uuid: id, interface_uuid: id, security_group_uuid: sg });
        const doc = await write(async (ctx) =>
          represent(ctx, 'interfaces', await setMembership(ctx, id, sg, method !== 'DELETE')),
        );
        return method === 'DELETE' ? [sg] : doc;
      },
    });

  // ---- ip lease attach/release (OpenVNet) ----
  const ATTACH_PARAMS = [uuid('interface_uuid', P.interfaces), uuid('mac_lease_uuid', P.mac_leases)];
  const ipLeaseDef = RESOURCES.find((r) => r.kind === 'ip_leases')!;
  route({
    method: 'PUT',
    url: '/ip_leases/:uuid/attach',
    tag: 'ip_leases',
    summary: 'Attach an IP lease to an interface / MAC lease',
    params: ATTACH_PARAMS,
    handler: async (req) => {
      const id = pathParam(req, 'uuid', P.ip_leases);
      const p = parseParams(ATTACH_PARAMS, requestParams(req), { uuid: id });
      if (p.interface_uuid === undefined && p.mac_lease_uuid === undefined)
        throw new ArgumentError('interface_uuid', 'give interface_uuid or mac_lease_uuid');
      return write(async (ctx) => ipLeaseDef.update(ctx, await ctx.must('ip_leases', id), p));
    },
  });
  route({
    method: 'PUT',
    url: '/ip_leases/:uuid/release',
    tag: 'ip_leases',
    summary: 'Detach an IP lease from its interface',
    handler: async (req) => {
      const id = pathParam(req, 'uuid', P.ip_leases);
      parseParams([], requestParams(req), { uuid: id });
      return write(async (ctx) =>
        ipLeaseDef.update(ctx, await ctx.must('ip_leases', id), { interface_uuid: null, mac_lease_uuid: null }),
      );
    },
  });

  // ---- sub-items with uuids: rules, ranges, records ----
  for (const sub of SUB_ITEMS) {
    const parentDef = RESOURCES.find((r) => r.kind === sub.parentKind)!;
    const base = `/${sub.parentKind}/:uuid/${sub.segment}`;
    route({
      method: 'POST',
      url: base,
      tag: sub.parentKind,
      summary: `Add to ${sub.segment}`,
      params: sub.params,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', parentDef.prefix);
        const p = parseParams(sub.params, requestParams(req));
        return write((ctx) => addSubItem(ctx, sub, id, p));
      },
    });
    route({
      method: 'GET',
      url: base,
      tag: sub.parentKind,
      summary: `List ${sub.segment}`,
      params: LIST_PARAMS,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', parentDef.prefix);
        const p = parseParams(LIST_PARAMS, requestParams(req), { uuid: id });
        const parent = await service.read((ctx) => ctx.must(sub.parentKind, id));
        return page(parent[sub.field] as unknown[], p);
      },
    });
    route({
      method: 'GET',
      url: `${base}/:item_uuid`,
      tag: sub.parentKind,
      summary: `Show one of ${sub.segment}`,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', parentDef.prefix);
        const item = pathParam(req, 'item_uuid', sub.prefix);
        parseParams([], requestParams(req), { uuid: item });
        const parent = await service.read((ctx) => ctx.must(sub.parentKind, id));
        const found = (parent[sub.field] as { uuid: string }[]).find((i) => i.uuid === item);
        if (!found) throw new UnknownUUIDResource(item);
        return found;
      },
    });
    route({
      method: 'DELETE',
      url: `${base}/:item_uuid`,
      tag: sub.parentKind,
      summary: `Remove one of ${sub.segment}`,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', parentDef.prefix);
        const item = pathParam(req, 'item_uuid', sub.prefix);
        parseParams([], requestParams(req), { uuid: item });
        await write((ctx) => removeSubItem(ctx, sub, id, item));
        return [item];
      },
    });
  }

  // ---- sub-items identified by their fields: filter statics, translation static addresses ----
  for (const k of KEYED_ITEMS) {
    const parentDef = RESOURCES.find((r) => r.kind === k.parentKind)!;
    const base = `/${k.parentKind}/:uuid/${k.segment}`;
    route({
      method: 'POST',
      url: base,
      tag: k.parentKind,
      summary: `Add a ${k.segment} entry`,
      params: k.params,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', parentDef.prefix);
        const p = parseParams(k.params, requestParams(req));
        return write((ctx) => addKeyedItem(ctx, k, id, p));
      },
    });
    route({
      method: 'GET',
      url: base,
      tag: k.parentKind,
      summary: `List ${k.segment} entries`,
      params: LIST_PARAMS,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', parentDef.prefix);
        const p = parseParams(LIST_PARAMS, requestParams(req), { uuid: id });
        const parent = await service.read((ctx) => ctx.must(k.parentKind, id));
        return page(parent[k.field] as unknown[], p);
      },
    });
    route({
      method: 'DELETE',
      url: base,
      tag: k.parentKind,
      summary: `Remove ${k.segment} entries matching the given fields`,
      params: k.params,
      handler: async (req) => {
        const id = pathParam(req, 'uuid', parentDef.prefix);
        const p = parseParams(k.params, requestParams(req));
        await write((ctx) => removeKeyedItem(ctx, k, id, p));
        return k.parentKind === 'translations' ? { uuid: id } : [id];
      },
    });
  }

  function page(items: unknown[], p: Params) {
    const limit = (p.limit as number | undefined) ?? defaultLimit;
    const offset = (p.offset as number | undefined) ?? 0;
    return { total_count: items.length, offset, limit, items: items.slice(offset, offset + limit) };
  }

  // ---- change feed ----
  route({
    method: 'GET',
    url: '/feed/snapshot',
    tag: 'feed',
    summary: 'Every resource at one revision',
    handler: async (req) => {
      parseParams([], requestParams(req));
      return service.snapshot();
    },
  });
  const SINCE = [int('since', 0, Number.MAX_SAFE_INTEGER, { required: true })];
  route({
    method: 'GET',
    url: '/feed/changes',
    tag: 'feed',
    summary: 'Server-Sent Events: every change after ?since=R (event: change | resync)',
    params: SINCE,
    handler: async (req, reply) => {
      const p = parseParams(SINCE, requestParams(req));
      reply.hijack();
      await streamChanges(service, reply.raw, p.since as number, deps.feed);
    },
  });

  app.get('/api/openapi.json', async () => app.swagger());
  app.get(`${API_PREFIX}/version`, async () => ({ version: VERSION }));

  return { app: app as unknown as FastifyInstance, service };
}

// Routes declared as data: method, URL, the parameters a request may carry, each path parameter's uuid prefix
// and which request keys may repeat the path. A RouteTable turns each into a fastify route whose schema is the
// OpenAPI entry and whose fastify validator is compiled from the same ParamSpecs (coercion from form strings,
// errors naming the field in OpenVNet's shape). OpenVNet's conventions run first, in a preValidation hook.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { checkUuid, type ParamSpec, type Params, paramJsonSchema, parseParams } from '../../model/params.js';
import { type Access, defaultAccess, type Principal } from '../auth/policy.js';
import { API_PREFIX, requestParams } from './openvnet.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
/** Path parameters by name, already checked against their uuid prefixes. */
export type PathValues = Record<string, string>;

export interface RouteSpec {
  method: Method;
  /** Below the API prefix, e.g. '/datapaths/:uuid/networks/:network_uuid' (with `root`, the URL itself). */
  url: string;
  /** Served at `url` itself, not below the API prefix (/metrics, where Prometheus scrapers look). */
  root?: boolean;
  /** Its reply is a stream that lasts as long as the client (the change feed): no HEAD route, no latency metric. */
  stream?: boolean;
  tag: string;
  summary: string;
  /** Each path parameter's uuid prefix; checked in this order, before anything else about the request. */
  path?: Record<string, string>;
  /** What the request may carry, in the body or the query string (OpenVNet merges them); anything else is a 400. */
  params?: readonly ParamSpec[];
  /** Request keys that may repeat a path value (OpenVNet clients send them): accepted only when equal. */
  echoes?: (path: PathValues) => Record<string, string>;
  /** Runs on the merged request before validation, for checks with their own error (immutable fields). */
  prepare?: (raw: Record<string, unknown>, path: PathValues) => void;
  /** What it does as far as rights go (auth/policy.ts); default: read for GET, write otherwise. */
  access?: Access;
  handler: (req: { path: PathValues; p: Params; reply: FastifyReply; who: Principal }) => Promise<unknown>;
}

/** Where a method's parameters are validated: GET and DELETE have no body in OpenVNet's clients. */
const partOf = (m: Method) => (m === 'GET' || m === 'DELETE' ? 'querystring' : 'body');
const ECHOES = Symbol('echoes');
type Bag = Record<string, unknown> & { [ECHOES]?: Record<string, string> };

function objectSchema(properties: Record<string, unknown>, required: string[] = []) {
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

export class RouteTable {
  private readonly specs = new Map<string, RouteSpec>();

  private lookup(method: string, url: string): RouteSpec | undefined {
    return this.specs.get(`${method === 'HEAD' ? 'GET' : method} ${url}`);
  }

  /** The access a request to `routeUrl` (fastify's route pattern, absent when nothing matched) needs. */
  readonly accessOf = (method: string, routeUrl: string | undefined): Access =>
    (routeUrl === undefined ? undefined : this.lookup(method, routeUrl)?.access) ?? defaultAccess(method);

  /** Whether the route `routeUrl` (fastify's route pattern) answers with a never-ending stream. */
  readonly isStream = (method: string, routeUrl: string): boolean => this.lookup(method, routeUrl)?.stream === true;

  /** fastify's validatorCompiler: a route's body/querystring is checked by parseParams against its specs. */
  readonly validatorCompiler: FastifySchemaCompiler<unknown> = ({ method, url, httpPart }) => {
    const spec = this.lookup(method, url);
    // Path parameters were checked by openVNetRequest (their own error, first); other routes have no schema.
    if (!spec || httpPart !== partOf(spec.method)) return (data) => ({ value: data });
    const params = spec.params ?? [];
    return (data) => {
      try {
        return { value: parseParams(params, data as Bag, (data as Bag)[ECHOES]) };
      } catch (err) {
        return { error: err as Error };
      }
    };
  };

  /** fastify preValidation hook: path uuids checked, query and body merged into the part the validator reads. */
  readonly openVNetRequest = async (req: FastifyRequest): Promise<void> => {
    const spec = this.lookup(req.routeOptions.method as string, req.routeOptions.url ?? '');
    if (!spec) return;
    const path = req.params as PathValues;
    for (const [name, prefix] of Object.entries(spec.path ?? {})) checkUuid(name, path[name] ?? '', prefix);
    const bag: Bag = requestParams(req);
    spec.prepare?.(bag, path);
    if (spec.echoes) bag[ECHOES] = spec.echoes(path);
    if (partOf(spec.method) === 'querystring') req.query = bag;
    else req.body = bag;
  };

  /** Registers the route on `app` (a route plugin's instance). */
  add(app: FastifyInstance, spec: RouteSpec): void {
    const url = spec.root ? spec.url : API_PREFIX + spec.url;
    this.specs.set(`${spec.method} ${url}`, spec);
    const params = spec.params ?? [];
    const schema: Record<string, unknown> = {
      tags: [spec.tag],
      summary: spec.summary,
      // Always a schema, so that a route taking nothing still refuses unknown parameters.
      [partOf(spec.method)]: objectSchema(
        Object.fromEntries(params.map((s) => [s.name, paramJsonSchema(s)])),
        params.filter((s) => s.required).map((s) => s.name),
      ),
    };
    if (spec.path)
      schema.params = objectSchema(
        Object.fromEntries(
          Object.entries(spec.path).map(([n, prefix]) => [
            n,
            { type: 'string', pattern: `^${prefix}-[a-z0-9]{1,16}$` },
          ]),
        ),
        Object.keys(spec.path),
      );
    const bodyPart = partOf(spec.method) === 'body';
    app.route({
      method: spec.method,
      url,
      schema,
      // HEAD on the never-ending change stream would hold a connection open for nothing.
      exposeHeadRoute: !spec.stream,
      handler: (req, reply) =>
        spec.handler({
          path: req.params as PathValues,
          p: (bodyPart ? req.body : req.query) as Params,
          reply,
          who: req.principal,
        }),
    });
  }
}

// OpenVNet's HTTP conventions, kept as explicit pre-processing in front of fastify: the /api and .json/.yml
// URL forms, query string and body merged into one parameter bag (form or JSON body, a single-key JSON
// wrapper unwrapped), and YAML replies for a .yml suffix.
import type { FastifyReply, FastifyRequest, RawRequestDefaultExpression } from 'fastify';
import YAML from 'yaml';
import { ArgumentError, MalformedRequest } from '../../model/errors.js';

export const API_PREFIX = '/api/1.0';

type Raw = Record<string, unknown>;
type YamlFlag = { vnetYaml?: boolean };

/** fastify's rewriteUrl: /api/x → /api/1.0/x, a .json/.yml suffix dropped (.yml marks the reply as YAML). */
export function rewriteOpenVNetUrl(req: RawRequestDefaultExpression): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  const rest = q < 0 ? '' : url.slice(q);
  if (path === '/api/openapi.json') return url;
  const m = /\.(json|ya?ml)$/.exec(path);
  if (m) {
    path = path.slice(0, -m[0].length);
    if (m[1] !== 'json') (req as YamlFlag).vnetYaml = true;
  }
  if (path.startsWith('/api/') && !path.startsWith(`${API_PREFIX}/`) && path !== API_PREFIX)
    path = API_PREFIX + path.slice(4);
  return path + rest;
}

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

/** Did the URL end in .yml/.yaml (the reply is to be YAML)? */
export function wantsYaml(raw: RawRequestDefaultExpression): boolean {
  return (raw as YamlFlag).vnetYaml === true;
}

/** fastify onSend hook: the JSON reply as YAML when the URL ended in .yml/.yaml. */
export async function yamlReply(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  // A Buffer: a reply served from a cache as bytes (the feed snapshot).
  if (!wantsYaml(req.raw) || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return payload;
  try {
    reply.header('content-type', 'application/x-yaml; charset=utf-8');
    return YAML.stringify(JSON.parse(String(payload)));
  } catch {
    return payload;
  }
}

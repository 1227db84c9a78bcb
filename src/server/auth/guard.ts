// The request guard (fastify onRequest, before any body is parsed): the Host and Origin checks, then who is
// calling (a bearer token, or local trust on a loopback-only server), then whether their role has the route's
// access (policy.ts). Object-level rules (an agent's own node) are checked by the routes with `ownNode`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Forbidden, TooManyRequests, Unauthenticated } from '../../model/errors.js';
import type { TokenRole } from '../../model/resources/tokens.js';
import type { Logger } from '../../util/log.js';
import type { Service } from '../service.js';
import { bearerOf, parseToken, secretMatches } from './credentials.js';
import {
  ACCESS,
  type Access,
  ANONYMOUS_ACCESS,
  LOCAL_ADMIN,
  mayAccess,
  PAGE_VISITOR,
  type Principal,
  ROLES,
} from './policy.js';
import { TokenBuckets } from './rate.js';

/**
 * local: loopback-only server — a request without a token is the local admin (OpenVNet's one-box trust), but
 *        only with a loopback Host header (DNS rebinding); a token, when given, is checked.
 * tokens: every request needs a valid token (any non-loopback listener, or --require-auth).
 * insecure: no token needed anywhere (--insecure, said loudly in the log).
 */
export type AuthMode = 'local' | 'tokens' | 'insecure';

export interface GuardOptions {
  mode: AuthMode;
  /** Host header names served besides loopback ones (local mode), or the only ones served (when given). */
  allowedHosts?: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the guard before routing. */
    principal: Principal;
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The host name of a Host header (without the port); lower case. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

export function isLoopbackHost(host: string): boolean {
  const h = hostName(host);
  return LOOPBACK_HOSTS.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Is the listen address one only this machine can reach? */
export function isLoopbackListen(host: string): boolean {
  return isLoopbackHost(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
}

export class RequestGuard {
  private readonly allowed: Set<string>;

  constructor(
    private readonly service: Service,
    private readonly opts: GuardOptions,
    private readonly accessOf: (method: string, routeUrl: string | undefined) => Access,
    private readonly log?: Logger,
  ) {
    this.allowed = new Set((opts.allowedHosts ?? []).map(hostName));
  }

  install(app: FastifyInstance): void {
    app.decorateRequest('principal', null as unknown as Principal);
    app.addHook('onRequest', async (req) => {
      this.checkHost(req);
      this.checkOrigin(req);
      const access = this.accessOf(req.method, req.routeOptions.url);
      req.principal = await this.authenticate(req, access);
      this.checkRate(req.principal);
      if (!mayAccess(req.principal, access))
        throw new Forbidden(
          `a ${req.principal.role} token may not do this (${access}: ${ACCESS[access]}; ${req.principal.role}: ${ROLES[req.principal.role].doc})`,
        );
    });
    // The audit trail: every write, who made it and how it ended (reads and agent reports are not logged here:
    // reports arrive every few seconds from every host).
    app.addHook('onResponse', async (req, reply) => {
      if (SAFE_METHODS.has(req.method)) return;
      const access = this.accessOf(req.method, req.routeOptions.url);
      if (access === 'report') return;
      this.log?.info(
        {
          audit: true,
          who: req.principal.id,
          role: req.principal.role,
          method: req.method,
          url: req.url,
          status: reply.statusCode,
        },
        'write',
      );
    });
  }

  /** Token buckets per credential, one set per role with a rate (see policy.ts). */
  private readonly buckets = new Map<TokenRole, TokenBuckets>();

  private checkRate(who: Principal): void {
    const rate = ROLES[who.role].rate;
    if (!rate) return;
    let buckets = this.buckets.get(who.role);
    if (!buckets) this.buckets.set(who.role, (buckets = new TokenBuckets(rate)));
    const wait = buckets.take(who.id);
    if (wait > 0)
      throw new TooManyRequests(`${who.id} makes more than ${rate.perSecond} requests/s (its role's limit)`, wait);
  }

  /** DNS rebinding: a browser page whose name resolves to 127.0.0.1 would otherwise be served with local trust. */
  private checkHost(req: FastifyRequest): void {
    const host = req.headers.host;
    if (host === undefined) return;
    if (this.allowed.size > 0 && this.allowed.has(hostName(host))) return;
    if (this.opts.mode === 'local' ? isLoopbackHost(host) : this.allowed.size === 0) return;
    throw new Forbidden(
      `Host '${host.slice(0, 100)}' is not served here (allowed: loopback names${this.allowed.size ? `, ${[...this.allowed].join(', ')}` : ''}; server option --allowed-host)`,
    );
  }

  /** CSRF: a browser sends Origin (and Sec-Fetch-Site) with cross-site form posts; only same-origin writes pass. */
  private checkOrigin(req: FastifyRequest): void {
    if (SAFE_METHODS.has(req.method)) return;
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site')
      throw new Forbidden(`cross-site request refused (Sec-Fetch-Site: ${site})`);
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new Forbidden(`cross-origin request refused (Origin: ${origin.slice(0, 100)})`);
    }
    if (req.headers.host !== undefined && originHost.toLowerCase() === req.headers.host.toLowerCase()) return;
    throw new Forbidden(`cross-origin request refused (Origin: ${origin.slice(0, 100)})`);
  }

  private async authenticate(req: FastifyRequest, access: Access): Promise<Principal> {
    const given = bearerOf(req.headers);
    if (given === null) {
      if (this.opts.mode === 'local') return LOCAL_ADMIN;
      if (ANONYMOUS_ACCESS.includes(access)) return PAGE_VISITOR;
      if (this.opts.mode === 'insecure') return { id: 'insecure', role: 'admin', nodeId: null };
      throw new Unauthenticated('a token is required (Authorization: Bearer TOKEN or X-Auth-Token: TOKEN)');
    }
    return this.verify(given);
  }

  /** The principal of a token string, or 401 saying why not (never which part of a secret was wrong). */
  verify(token: string): Promise<Principal> {
    return verifyToken(this.service, token);
  }
}

/** The principal of a token string, or 401 saying why not (never which part of a secret was wrong). */
export async function verifyToken(service: Service, token: string): Promise<Principal> {
  const parsed = parseToken(token);
  if (!parsed) throw new Unauthenticated('malformed token (expected tk-….SECRET)');
  const row = await service.read((ctx) => ctx.tx.get('tokens', parsed.uuid));
  if (!row || !secretMatches(parsed.secret, String(row.secret_sha256)))
    throw new Unauthenticated(`token ${parsed.uuid} is unknown or revoked`);
  if (typeof row.expires_at === 'string' && Date.parse(row.expires_at) <= Date.now())
    throw new Unauthenticated(`token ${parsed.uuid} expired at ${row.expires_at}`);
  return {
    id: parsed.uuid,
    role: row.role as TokenRole,
    nodeId: (row.node_id as string | null) ?? null,
    projectId: (row.project_id as string | null) ?? null,
  };
}

// A minimal Keystone v3 on the Neutron listener (/identity/v3): what Tempest's pre-provisioned accounts and the
// `openstack` CLI's password mode call. Users, projects and roles come from a YAML file (--keystone-users); a
// login mints a vnet token (token-rows.ts) of role admin or member in the user's project, so every Neutron route
// keeps checking tokens with verifyToken. No admin API: users are configuration, not objects.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import YAML from 'yaml';
import { verifyToken } from '../auth/guard.js';
import type { RateLimit } from '../auth/policy.js';
import { TokenBuckets } from '../auth/rate.js';
import { insertToken } from '../auth/token-rows.js';
import type { Service } from '../service.js';

/** Keystone's roles vnet maps to a token role: `admin` → an admin token, `member` → a member token. */
export const KEYSTONE_ROLES = ['admin', 'member'] as const;
export type KeystoneRole = (typeof KEYSTONE_ROLES)[number];

export interface KeystoneUser {
  id: string;
  name: string;
  /** SHA-256 of the password: compared in constant time, the plain text is not kept. */
  passwordSha256: Buffer;
  project: { id: string; name: string };
  roles: KeystoneRole[];
}

/** How long a token from a login lasts (Keystone's default is an hour too). */
export const TOKEN_TTL_S = 3600;
/** Tokens minted here are named so (display_name), which is how a login finds expired ones to prune. */
const TOKEN_NAME_PREFIX = 'keystone login: ';
const DOMAIN = { id: 'default', name: 'Default' } as const;

/**
 * Login attempts (right or wrong) allowed per user name tried and per source address: enough for the `openstack`
 * CLI, which logs in at every command, and for Tempest's parallel workers; a password guesser gets 30 tries and
 * then one every 2 s per name, 60 and then one a second per address. Beyond: 429 with Retry-After, logged.
 */
export const LOGIN_RATES: { perUser: RateLimit; perSource: RateLimit } = {
  perUser: { perSecond: 0.5, burst: 30 },
  perSource: { perSecond: 1, burst: 60 },
};

const sha256 = (s: string) => createHash('sha256').update(s).digest();
/** A stable Keystone-style id (32 hex digits) for a name: the same file gives the same ids on every start. */
export const stableId = (kind: 'project' | 'user', name: string) =>
  createHash('sha256').update(`vnet-keystone-${kind}:${name}`).digest('hex').slice(0, 32);

export class KeystoneConfigError extends Error {}

/**
 * The users of a YAML file: a list of `{name, password, project, project_id?, roles: [admin|member]}` (also
 * accepted under a top-level `users:` key). The project id is `project_id` when given, else derived from its name.
 */
export function parseKeystoneUsers(text: string, source = 'keystone users'): KeystoneUser[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new KeystoneConfigError(`${source}: ${(e as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { users?: unknown } | null)?.users;
  if (!Array.isArray(list)) throw new KeystoneConfigError(`${source}: expected a list of users`);
  const seen = new Set<string>();
  return list.map((u, i) => {
    const at = `${source}: user ${i + 1}`;
    if (typeof u !== 'object' || u === null) throw new KeystoneConfigError(`${at}: not a mapping`);
    const o = u as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!['name', 'password', 'project', 'project_id', 'roles'].includes(k))
        throw new KeystoneConfigError(`${at}: unknown key ${k}`);
    const str = (k: string) => {
      if (typeof o[k] !== 'string' || o[k] === '') throw new KeystoneConfigError(`${at}: ${k} must be a string`);
      return o[k] as string;
    };
    const name = str('name');
    if (seen.has(name)) throw new KeystoneConfigError(`${at}: user ${name} appears twice`);
    seen.add(name);
    const project = str('project');
    const projectId = o.project_id === undefined ? stableId('project', project) : str('project_id');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(projectId))
      throw new KeystoneConfigError(`${at}: project_id must be 1-64 letters, digits, - or _`);
    const roles = o.roles ?? ['member'];
    if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => !KEYSTONE_ROLES.includes(r)))
      throw new KeystoneConfigError(`${at}: roles must be a non-empty list of ${KEYSTONE_ROLES.join(', ')}`);
    return {
      id: stableId('user', name),
      name,
      passwordSha256: sha256(str('password')),
      project: { id: projectId, name: project },
      roles: [...new Set(roles as KeystoneRole[])],
    };
  });
}

export function loadKeystoneUsers(file: string): KeystoneUser[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KeystoneConfigError(`keystone users file ${file}: ${(e as Error).message}`);
  }
  return parseKeystoneUsers(text, `keystone users file ${file}`);
}

/** Requests the Neutron listener's auth hook lets through without a token: discovery and login. */
export function isPublicIdentityRoute(method: string, url: string): boolean {
  const path = url.split('?')[0]!;
  if (path === '/identity/v3' || path === '/identity/v3/') return method === 'GET' || method === 'HEAD';
  return path === '/identity/v3/auth/tokens' && method === 'POST';
}

/** Keystone's error body. */
function fail(reply: FastifyReply, code: number, title: string, message: string) {
  return reply.status(code).send({ error: { code, title, message } });
}
const unauthorized = (reply: FastifyReply) =>
  fail(reply, 401, 'Unauthorized', 'The request you have made requires authentication.');

/** This listener's URL as the client reached it (the catalog points back at it). */
function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? `${req.hostname}`}`;
}

/** The domain a request names (by id or name): only Keystone's default domain exists here. */
function isDefaultDomain(d: unknown): boolean {
  if (d === undefined) return true;
  if (typeof d !== 'object' || d === null) return false;
  const { id, name } = d as { id?: unknown; name?: unknown };
  return (id === undefined || id === DOMAIN.id) && (name === undefined || name === DOMAIN.name);
}

/** Keystone's timestamps have microseconds. */
const keystoneTime = (iso: string) => iso.replace(/\.(\d{3})Z$/, '.$1000Z');

function tokenBody(user: KeystoneUser, base: string, expiresAt: string, issuedAt: string, auditId: string) {
  const endpoint = (id: string, url: string) => ({
    id,
    interface: 'public',
    region: 'RegionOne',
    region_id: 'RegionOne',
    url,
  });
  return {
    token: {
      methods: ['password'],
      expires_at: keystoneTime(expiresAt),
      issued_at: keystoneTime(issuedAt),
      audit_ids: [auditId],
      user: { id: user.id, name: user.name, domain: DOMAIN, password_expires_at: null },
      project: { id: user.project.id, name: user.project.name, domain: DOMAIN },
      roles: user.roles.map((r) => ({ id: stableId('user', `role:${r}`), name: r })),
      is_domain: false,
      catalog: [
        { type: 'network', name: 'neutron', id: 'neutron', endpoints: [endpoint('neutron-public', base)] },
        {
          type: 'identity',
          name: 'keystone',
          id: 'keystone',
          endpoints: [endpoint('keystone-public', `${base}/identity`)],
        },
      ],
    },
  };
}

/** The user a password login names, or null: the password is compared even for an unknown user (same time). */
function checkPassword(users: readonly KeystoneUser[], given: Record<string, unknown>): KeystoneUser | null {
  const user = users.find((u) => (given.id !== undefined ? u.id === given.id : u.name === given.name)) ?? null;
  const password = typeof given.password === 'string' ? given.password : '';
  const ok = timingSafeEqual(sha256(password), user?.passwordSha256 ?? sha256(`\0${password}`));
  return ok && user && isDefaultDomain(given.domain) ? user : null;
}

/** Whether a login's scope (none: the user's project) names the user's project. */
function scopeMatches(user: KeystoneUser, scope: unknown): boolean {
  if (scope === undefined || scope === null) return true;
  const project = (scope as { project?: Record<string, unknown> }).project;
  if (typeof project !== 'object' || project === null) return false; // domain and system scopes: not served
  if (project.id !== undefined) return project.id === user.project.id;
  return project.name === user.project.name && isDefaultDomain(project.domain);
}

export function keystoneRoutes(
  app: FastifyInstance,
  service: Service,
  users: readonly KeystoneUser[],
  rates = LOGIN_RATES,
): void {
  const perUser = new TokenBuckets(rates.perUser);
  const perSource = new TokenBuckets(rates.perSource);
  const version = (req: FastifyRequest) => ({
    version: {
      id: 'v3.14',
      status: 'stable',
      updated: '2020-04-07T00:00:00Z',
      links: [{ rel: 'self', href: `${baseUrl(req)}/identity/v3/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
    },
  });
  app.get('/identity/v3', async (req) => version(req));
  app.get('/identity/v3/', async (req) => version(req));

  app.post('/identity/v3/auth/tokens', async (req, reply) => {
    const identity = (req.body as { auth?: { identity?: Record<string, unknown>; scope?: unknown } } | null)?.auth;
    const methods = identity?.identity?.methods;
    const password = (identity?.identity?.password as { user?: Record<string, unknown> } | undefined)?.user;
    if (!Array.isArray(methods) || !methods.includes('password') || typeof password !== 'object' || password === null)
      return fail(reply, 400, 'Bad Request', 'Only the password method is served: auth.identity.password.user');
    // Before the password is looked at: a guesser learns nothing more once over the limit.
    const name = String(password.id ?? password.name ?? '').slice(0, 255);
    const wait = Math.max(perSource.take(req.ip), perUser.take(name));
    if (wait > 0) {
      req.log.warn({ user: name, source: req.ip, retryAfter: wait }, 'keystone login refused: too many attempts');
      reply.header('retry-after', String(wait));
      return fail(reply, 429, 'Too Many Requests', `Too many login attempts; retry after ${wait} s.`);
    }
    const user = checkPassword(users, password);
    if (!user || !scopeMatches(user, identity?.scope)) return unauthorized(reply);
    const { result } = await service.write(async (ctx) => {
      // Logins accumulate rows: the expired ones of earlier logins go now.
      for (const t of await ctx.wtx.find('tokens'))
        if (
          String(t.display_name).startsWith(TOKEN_NAME_PREFIX) &&
          typeof t.expires_at === 'string' &&
          Date.parse(t.expires_at) <= Date.now()
        )
          await ctx.wtx.remove('tokens', t.uuid);
      const minted = await insertToken(ctx, {
        role: user.roles.includes('admin') ? 'admin' : 'member',
        project_id: user.project.id,
        expires_in: TOKEN_TTL_S,
        display_name: `${TOKEN_NAME_PREFIX}${user.name}`,
      });
      return { minted, now: ctx.now };
    });
    const { minted, now } = result;
    return reply
      .status(201)
      .header('x-subject-token', minted.token)
      .send(tokenBody(user, baseUrl(req), minted.expires_at as string, now, minted.uuid as string));
  });

  // A service validating a token (X-Auth-Token: the caller's own, already checked by the listener's hook).
  const validate = async (req: FastifyRequest, reply: FastifyReply) => {
    const subject = req.headers['x-subject-token'];
    if (typeof subject !== 'string') return fail(reply, 400, 'Bad Request', 'X-Subject-Token is required');
    try {
      const p = await verifyToken(service, subject);
      const row = await service.read((ctx) => ctx.tx.get('tokens', p.id));
      const name = String(row?.display_name ?? '');
      const user = name.startsWith(TOKEN_NAME_PREFIX)
        ? users.find((u) => u.name === name.slice(TOKEN_NAME_PREFIX.length) && u.project.id === p.projectId)
        : undefined;
      if (!user || !row) return fail(reply, 404, 'Not Found', `Could not find token: ${p.id}.`);
      return reply
        .header('x-subject-token', subject)
        .send(tokenBody(user, baseUrl(req), row.expires_at as string, row.created_at as string, p.id));
    } catch {
      return fail(reply, 404, 'Not Found', 'Could not find token.');
    }
  };
  app.get('/identity/v3/auth/tokens', validate); // HEAD too (fastify answers it from the GET route)
}

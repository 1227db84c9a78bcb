// Who may do what, declared once: each route names its access (routes/*.ts, default by method) and each role the
// accesses it has. The guard (guard.ts) checks the pair before a request is parsed; `ownNode` is the one
// object-level rule (OVN's southbound RBAC): an agent writes only rows of its own node.
import { Forbidden } from '../../model/errors.js';
import type { TokenRole } from '../../model/resources/tokens.js';

/** What a route does, as far as rights go. */
export const ACCESS = {
  read: 'reads the model or the feed',
  write: 'changes the model',
  report: "an agent's report about its own datapath (status, bindings, where translations are active)",
  register: 'registers a datapath (agents: only one with their own node_id)',
  admin: 'manages tokens',
  enroll: 'exchanges an enrollment token for an agent token',
  page: "the topology page's static files (they hold no data: the page reads the API with its own token)",
  probe: "a load balancer's health probe: whether the process is up and its store answers (no data)",
} as const;

/** Accesses a request without a token may have on a server that requires tokens: they reveal no data. */
export const ANONYMOUS_ACCESS: readonly Access[] = ['page', 'probe'];
export type Access = keyof typeof ACCESS;

/** Requests per second a credential may make (a token bucket: `burst` at once, refilled at `perSecond`). */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/**
 * Each role with the accesses it has, its request rate (null: unlimited — admins are the operators), and one
 * line for docs. Agents' rate covers binding a thousand VMs at start-up in one burst.
 */
export const ROLES: Record<TokenRole, { may: readonly Access[]; rate: RateLimit | null; doc: string }> = {
  admin: {
    may: ['read', 'write', 'report', 'register', 'admin', 'page', 'probe'],
    rate: null,
    doc: 'everything, including tokens',
  },
  reader: {
    may: ['read', 'page', 'probe'],
    rate: { perSecond: 50, burst: 200 },
    doc: 'reads the model and follows the feed (monitoring, UIs)',
  },
  agent: {
    may: ['read', 'report', 'register', 'page', 'probe'],
    rate: { perSecond: 200, burst: 2000 },
    doc: "a host's agent: reads everything, writes only the status and bindings of datapaths with its node_id",
  },
  member: {
    may: ['page', 'probe'],
    rate: { perSecond: 50, burst: 200 },
    doc: "a Neutron project's user: the Neutron API only, and there only its project's objects (and shared ones)",
  },
  enrollment: {
    may: ['enroll', 'page', 'probe'],
    rate: { perSecond: 1, burst: 10 },
    doc: 'one-time: an agent exchanges it for an agent token of the same node',
  },
};

/** Who is calling: a token's holder, or the local user of a loopback-only server without tokens. */
export interface Principal {
  /** The token's uuid, or 'local' / 'insecure' when no token is needed. */
  readonly id: string;
  readonly role: TokenRole;
  /** Agent and enrollment tokens: the node they act for. */
  readonly nodeId: string | null;
  /** Neutron's project of the caller (member tokens; admins' objects are made in theirs); null: none given. */
  readonly projectId?: string | null;
}

export const LOCAL_ADMIN: Principal = { id: 'local', role: 'admin', nodeId: null };

/**
 * A browser loading the page's files without a token (a browser cannot send one with a navigation), or a load
 * balancer's probe: the guard lets it reach only routes whose access is in ANONYMOUS_ACCESS, at a reader's rate
 * (one bucket for all of them).
 */
export const PAGE_VISITOR: Principal = { id: 'page-visitor', role: 'reader', nodeId: null };

export function mayAccess(who: Principal, access: Access): boolean {
  return ROLES[who.role].may.includes(access);
}

/** The route's default access when it names none: reads for GET, writes otherwise. */
export const defaultAccess = (method: string): Access => (method === 'GET' || method === 'HEAD' ? 'read' : 'write');

/** Whether `who` may write an object of node `nodeId`: admins any, agents their own. */
export function mayWriteNode(who: Principal, nodeId: unknown): boolean {
  return who.role === 'admin' || (who.role === 'agent' && who.nodeId !== null && nodeId === who.nodeId);
}

/**
 * 403 unless `who` may write an object of node `nodeId` (a datapath's node_id): admins may write any, agents only
 * their own. `field` names the request parameter that pointed there.
 */
export function ownNode(who: Principal, nodeId: unknown, what: string, field?: string): void {
  if (mayWriteNode(who, nodeId)) return;
  throw new Forbidden(`${who.role} token ${who.id} (node ${who.nodeId ?? '-'}) may not write ${what}`, field);
}

// What every route plugin gets: the route table to declare its routes in, the service, and the list helpers
// (OpenVNet's {total_count, offset, limit, items} pages).
import type { AgentPresence } from '../agent-presence.js';
import type { AgentRequests } from '../agent-requests.js';
import type { FastifyInstance } from 'fastify';
import { int, type ParamSpec, type Params } from '../../model/params.js';
import type { Doc, StoredKind, Where } from '../../store/store.js';
import type { FeedOptions } from '../feed.js';
import type { ServerMetrics } from '../metrics.js';
import type { RouteSpec, RouteTable } from '../http/route-table.js';
import { buildLeaseIndex, represent, representInterface } from '../represent.js';
import type { Service } from '../service.js';
import type { WriteContext } from '../write-context.js';

export const MAX_LIMIT = 100_000;
/** `limit` and `offset` of every list. */
export const LIST_PARAMS: readonly ParamSpec[] = [
  int('limit', 0, MAX_LIMIT),
  int('offset', 0, Number.MAX_SAFE_INTEGER),
];

export interface RouteOptions {
  table: RouteTable;
  service: Service;
  /** Default page size of lists (OpenVNet's pagination_limit). */
  defaultLimit: number;
  feed?: FeedOptions;
  /** Agents following the feed (their liveness); absent: a feed stream's end means nothing. */
  presence?: AgentPresence;
  /** Requests relayed to agents down their feed streams (traces); absent: none can be. */
  requests?: AgentRequests;
  /** The server's Prometheus metrics (GET /metrics, the feed's gauges); absent: none. */
  metrics?: ServerMetrics;
}

/**
 * The route plugin of a family that exists only when the server was given `key` (its metrics, the agents' request
 * relay): without it, no route of the family is declared (a request for one is a 404).
 */
export function pluginWith<K extends 'metrics' | 'requests'>(
  key: K,
  declare: (r: Routes, given: NonNullable<RouteOptions[K]>) => void,
): (app: FastifyInstance, opts: RouteOptions) => Promise<void> {
  return async (app, opts) => {
    const given = opts[key];
    if (given) declare(new Routes(app, opts), given);
  };
}

/** The equality filter a list request asks for: the declared filters it carries. */
export function whereOf(filters: readonly ParamSpec[], p: Params): Where {
  const where: Where = {};
  for (const f of filters) if (p[f.name] !== undefined) where[f.name] = p[f.name] as Where[string];
  return where;
}

export interface Page<T> {
  total_count: number;
  offset: number;
  limit: number;
  items: T[];
}

/** The helpers a route plugin's handlers share, bound to one app. */
export class Routes {
  constructor(
    private readonly app: FastifyInstance,
    readonly opts: RouteOptions,
  ) {}

  get service(): Service {
    return this.opts.service;
  }

  add(spec: RouteSpec): void {
    this.opts.table.add(this.app, spec);
  }

  /** GET /<kind>: a page of a stored kind, filtered by its declared `filters` (`show`: how an item is shown). */
  addList(
    kind: StoredKind,
    filters: readonly ParamSpec[],
    spec: Pick<RouteSpec, 'summary' | 'access'> & { show?: (d: Doc) => Doc },
  ): void {
    const { show, ...rest } = spec;
    this.add({
      method: 'GET',
      url: `/${kind}`,
      tag: kind,
      ...rest,
      params: [...LIST_PARAMS, ...filters],
      handler: async ({ p }) => this.list(kind, whereOf(filters, p), p, show),
    });
  }

  /** One transaction; the result without the revision. */
  async write<T>(fn: (ctx: WriteContext) => Promise<T>): Promise<T> {
    return (await this.opts.service.write(fn)).result;
  }

  private window(p: Params) {
    return {
      limit: (p.limit as number | undefined) ?? this.opts.defaultLimit,
      offset: (p.offset as number | undefined) ?? 0,
    };
  }

  /** A page of an in-memory list (a parent's embedded items). */
  page<T>(items: T[], p: Params): Page<T> {
    const { limit, offset } = this.window(p);
    return { total_count: items.length, offset, limit, items: items.slice(offset, offset + limit) };
  }

  /** A page of stored documents matching `where`; interfaces come with their leases, tokens through `show`. */
  list(kind: StoredKind, where: Where, p: Params, show?: (d: Doc) => Doc) {
    const { limit, offset } = this.window(p);
    return this.opts.service.read(async (ctx) => {
      const total_count = await ctx.tx.count(kind, where);
      let items = await ctx.tx.find(kind, where, { limit, offset });
      if (show) items = items.map(show);
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
}

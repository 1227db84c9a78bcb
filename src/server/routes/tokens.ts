// API tokens (admin only): create (the token string is in that reply and nowhere else), list, show, revoke; and
// enrollment, where an agent trades a one-time enrollment token for an agent token of the same node. Token rows
// are written to the store directly, never through the change feed (watchers must not see credentials).
import type { FastifyInstance } from 'fastify';
import { Unauthenticated, UnknownUUIDResource } from '../../model/errors.js';
import { immutableOf, paramsFor } from '../../model/resource.js';
import { rejectImmutable } from '../resources.js';
import { tokens } from '../../model/resources/tokens.js';
import { insertToken, shown } from '../auth/token-rows.js';
import { type RouteOptions, Routes } from './context.js';

const CREATE = paramsFor(tokens.fields, 'create');
const UPDATE = paramsFor(tokens.fields, 'update');
const IMMUTABLE = { immutable: immutableOf(tokens.fields) };
const ENROLL = CREATE.filter((s) => s.name === 'display_name');

export async function tokenRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  const path = { uuid: tokens.prefix };
  const echoes = ({ uuid }: Record<string, string>) => ({ uuid: uuid! });
  r.addList('tokens', paramsFor(tokens.fields, 'filter'), {
    summary: 'List tokens (without their secrets)',
    access: 'admin',
    show: shown,
  });
  r.add({
    method: 'POST',
    url: '/tokens',
    tag: 'tokens',
    summary: 'Create a token; the reply’s `token` is the only time its secret is shown',
    access: 'admin',
    params: CREATE,
    handler: async ({ p }) => r.write((ctx) => insertToken(ctx, p)),
  });
  r.add({
    method: 'GET',
    url: '/tokens/:uuid',
    tag: 'tokens',
    summary: 'Show a token (without its secret)',
    access: 'admin',
    path,
    echoes,
    handler: async ({ path }) =>
      r.service.read(async (ctx) => {
        const doc = await ctx.tx.get('tokens', path.uuid!);
        if (!doc) throw new UnknownUUIDResource(path.uuid!);
        return shown(doc);
      }),
  });
  r.add({
    method: 'PUT',
    url: '/tokens/:uuid',
    tag: 'tokens',
    summary: 'Rename a token (its role, node and secret never change: revoke and create another)',
    access: 'admin',
    path,
    params: UPDATE,
    prepare: (raw, path) => rejectImmutable(IMMUTABLE, raw, path.uuid!),
    handler: async ({ path, p }) =>
      r.write(async (ctx) => {
        const doc = await ctx.wtx.get('tokens', path.uuid!);
        if (!doc) throw new UnknownUUIDResource(path.uuid!);
        if (p.display_name !== undefined) doc.display_name = p.display_name;
        doc.updated_at = ctx.now;
        await ctx.wtx.update('tokens', doc);
        return shown(doc);
      }),
  });
  r.add({
    method: 'DELETE',
    url: '/tokens/:uuid',
    tag: 'tokens',
    summary: 'Revoke a token (requests with it answer 401 from then on)',
    access: 'admin',
    path,
    echoes,
    handler: async ({ path }) => {
      await r.write(async (ctx) => {
        if (!(await ctx.wtx.get('tokens', path.uuid!))) throw new UnknownUUIDResource(path.uuid!);
        await ctx.wtx.remove('tokens', path.uuid!);
      });
      return [path.uuid!];
    },
  });
  r.add({
    method: 'POST',
    url: '/tokens/enroll',
    tag: 'tokens',
    summary: "An agent trades its one-time enrollment token (the request's credential) for an agent token",
    access: 'enroll',
    params: ENROLL,
    handler: async ({ p, who }) =>
      r.write(async (ctx) => {
        // Used once: gone in the same transaction that creates the agent token.
        if (!(await ctx.wtx.get('tokens', who.id))) throw new Unauthenticated(`token ${who.id} was already used`);
        await ctx.wtx.remove('tokens', who.id);
        return insertToken(ctx, {
          role: 'agent',
          node_id: who.nodeId,
          display_name: (p.display_name as string | undefined) ?? `agent ${who.nodeId} (enrolled with ${who.id})`,
        });
      }),
  });
}

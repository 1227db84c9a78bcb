// Token rows in the store: created with a fresh secret (returned once, as the token string) and shown without
// their hash. Written with the store's writer directly, never through the change feed.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ArgumentError, MissingArgument } from '../../model/errors.js';
import type { Params } from '../../model/params.js';
import { tokens } from '../../model/resources/tokens.js';
import type { Doc } from '../../store/store.js';
import type { Service } from '../service.js';
import type { WriteContext } from '../write-context.js';
import { mintSecret, secretSha256, tokenString } from './credentials.js';

const HIDDEN = Object.entries(tokens.fields)
  .filter(([, fl]) => fl.secret || fl.paramOnly)
  .map(([name]) => name);
/** Enrollment tokens are meant to be used soon: they expire after an hour unless told otherwise. */
const ENROLLMENT_TTL_S = 3600;

/** A token row as replies show it: without its hash. */
export function shown(doc: Doc): Doc {
  const out = { ...doc };
  for (const name of HIDDEN) delete out[name];
  return out;
}

export async function insertToken(ctx: WriteContext, p: Params): Promise<Doc & { token: string }> {
  const role = p.role as string;
  const needsNode = role === 'agent' || role === 'enrollment';
  if (needsNode && (p.node_id === undefined || p.node_id === null)) throw new MissingArgument('node_id');
  if (!needsNode && p.node_id != null) throw new ArgumentError('node_id', `a ${role} token names no node`);
  // A Neutron project's member acts only in that project; admins may name one (their objects are made there).
  if (role === 'member' && p.project_id == null) throw new MissingArgument('project_id');
  if (role !== 'member' && role !== 'admin' && p.project_id != null)
    throw new ArgumentError('project_id', `a ${role} token names no project`);
  const uuid = await ctx.newUuid('tokens', tokens.prefix, p.uuid);
  const ttl = (p.expires_in as number | undefined) ?? (role === 'enrollment' ? ENROLLMENT_TTL_S : undefined);
  const secret = mintSecret();
  const doc: Doc = {
    uuid,
    display_name: (p.display_name as string | undefined) ?? '',
    role,
    node_id: (p.node_id as string | null | undefined) ?? null,
    project_id: (p.project_id as string | null | undefined) ?? null,
    expires_at: ttl === undefined ? null : new Date(Date.now() + ttl * 1000).toISOString(),
    secret_sha256: secretSha256(secret),
    created_at: ctx.now,
    updated_at: ctx.now,
  };
  await ctx.wtx.insert('tokens', doc);
  return { ...shown(doc), token: tokenString(uuid, secret) };
}

/**
 * The first admin token of a server that requires tokens: minted when the store has no admin token, and
 * written to `file` (mode 0600) for the operator. Returns the file written, or null when an admin token existed.
 */
export async function bootstrapAdminToken(service: Service, file: string): Promise<string | null> {
  const { result } = await service.write(async (ctx) => {
    if ((await ctx.wtx.find('tokens', { role: 'admin' }, { limit: 1, offset: 0 })).length > 0) return null;
    const { token } = await insertToken(ctx, { role: 'admin', display_name: 'bootstrap admin (vnet server)' });
    // Written before the commit: a file that cannot be written rolls the token back, so the next start retries.
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600); // an existing file keeps its mode on write
    return file;
  });
  return result;
}

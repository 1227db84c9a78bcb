// Token strings: `<uuid>.<secret>` — the uuid finds the stored row, the secret (32 random bytes, base64url) is
// compared with its stored SHA-256 in constant time. Only the hash is stored; the string is shown once.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_RE = /^(tk-[a-z0-9]{1,16})\.([A-Za-z0-9_-]{43})$/;

export interface ParsedToken {
  uuid: string;
  secret: string;
}

export function mintSecret(): string {
  return randomBytes(32).toString('base64url');
}

export const tokenString = (uuid: string, secret: string) => `${uuid}.${secret}`;

export function parseToken(s: string): ParsedToken | null {
  const m = TOKEN_RE.exec(s.trim());
  return m ? { uuid: m[1]!, secret: m[2]! } : null;
}

export function secretSha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedSha256: string): boolean {
  const a = Buffer.from(secretSha256(secret), 'hex');
  const b = Buffer.from(storedSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The bearer token of a request: `Authorization: Bearer T` or Keystone's `X-Auth-Token: T`; null when neither. */
export function bearerOf(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : auth; // a malformed header is still a (bad) credential, not "no credential"
  }
  const x = headers['x-auth-token'];
  return typeof x === 'string' ? x : null;
}

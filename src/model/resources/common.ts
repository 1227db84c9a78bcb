// Fields every resource shares: its uuid, a display name and the server's timestamps.
import { f } from '../resource.js';

/** The object's uuid: given on create (idempotent retries) or generated. */
export const uuidField = (prefix: string) =>
  f.uuid(prefix, { create: 'optional', doc: `the object's uuid (${prefix}-…); generated when omitted` });

export const displayName = f.string({ create: 'optional', update: 'optional', doc: 'a human-readable name' });

export const timestamps = {
  created_at: f.time({ doc: 'when it was created (server time, ISO 8601)' }),
  updated_at: f.time({ doc: 'when it last changed (server time, ISO 8601)' }),
};

// Fields every resource shares: its uuid, a display name and the server's timestamps.
import { f, SET } from '../resource.js';

/** The object's uuid: given on create (idempotent retries) or generated. */
export const uuidField = (prefix: string, what = "the object's") =>
  f.uuid(prefix, { create: 'optional', doc: `${what} uuid (${prefix}-…); generated when omitted` });

export const displayName = f.string({ ...SET.editable, default: '', doc: 'a human-readable name' });

/** OpenVNet's topology reference, stored as given (no topology resource yet). */
export const topologyUuid = f.string({ ...SET.clearable, doc: 'topology (topo-…)' });

export const timestamps = {
  created_at: f.time({ doc: 'when it was created (server time, ISO 8601)' }),
  updated_at: f.time({ doc: 'when it last changed (server time, ISO 8601)' }),
};

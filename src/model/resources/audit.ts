// The audit trail: one entry per API request that changed the model — who, what, when, at which revision.
// Written in the same transaction as the change (no change is without its entry); kept in the store, never in
// the change feed; read by admins (GET /audit_events).
import { f, resource } from '../resource.js';
import { timestamps } from './common.js';

export const auditEvents = resource({
  kind: 'audit_events',
  prefix: 'au',
  doc: 'who changed what, when, and at which revision (admin only)',
  fields: {
    uuid: f.uuid('au', { doc: "the entry's uuid (au- and its revision in base 36)" }),
    who: f.string({ filter: true, doc: "the token's uuid, or local (loopback trust) / insecure" }),
    role: f.string({ filter: true, doc: 'the role the request was made with' }),
    method: f.string({ filter: true, doc: 'HTTP method' }),
    path: f.string({ doc: 'the request path (without its query)' }, 2048),
    first_revision: f.int(0, Number.MAX_SAFE_INTEGER, { doc: 'the first revision the request wrote' }),
    revision: f.int(0, Number.MAX_SAFE_INTEGER, { doc: 'the last revision the request wrote' }),
    changes: f.int(0, Number.MAX_SAFE_INTEGER, { doc: 'how many objects changed' }),
    ...timestamps,
  },
});

// API tokens: who may call the API and what their role lets them do (src/server/auth/policy.ts). Stored hashed
// and never carried by the change feed; the secret is shown once, in the create (or enroll) reply.
import { f, resource } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

/** Roles, in the order docs list them; what each may do is declared in src/server/auth/policy.ts. */
export const TOKEN_ROLES = ['admin', 'reader', 'agent', 'enrollment', 'member'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export const tokens = resource({
  kind: 'tokens',
  prefix: 'tk',
  doc: 'API tokens (bearer credentials), stored hashed; admin only',
  fields: {
    uuid: uuidField('tk'),
    display_name: displayName,
    role: f.enum(TOKEN_ROLES, {
      create: 'required',
      filter: true,
      doc: 'what it may do (src/server/auth/policy.ts, docs/security.md)',
    }),
    node_id: f.string(
      {
        create: 'optional',
        nullable: true,
        filter: true,
        doc: 'agent and enrollment tokens (required there): the node id of the agent; it may write only datapaths with this node_id',
      },
      64,
    ),
    project_id: f.string(
      {
        create: 'optional',
        nullable: true,
        filter: true,
        doc: "Neutron's project of the holder: a member token (required there) sees and changes only that project's objects through the Neutron API; an admin token's objects are made in it",
      },
      64,
    ),
    expires_in: f.int(60, 10 * 365 * 86_400, {
      create: 'optional',
      paramOnly: true,
      doc: 'seconds until it expires (enrollment tokens: default 3600; others: never)',
    }),
    expires_at: f.string({ nullable: true, doc: 'when it stops being accepted (ISO 8601), null: never' }),
    secret_sha256: f.string({ secret: true, doc: "SHA-256 of the token's secret part (never shown)" }),
    ...timestamps,
  },
});

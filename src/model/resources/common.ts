// Fields every resource shares: its uuid, a display name and the server's timestamps.
import { f, SET } from '../resource.js';

/** The object's uuid: given on create (idempotent retries) or generated. */
export const uuidField = (prefix: string, what = "the object's") =>
  f.uuid(prefix, { create: 'optional', doc: `${what} uuid (${prefix}-…); generated when omitted` });

export const displayName = f.string({ ...SET.editable, default: '', doc: 'a human-readable name' });

/**
 * OpenVNet's `topology_uuid` on create of a network, segment or route link: adds it to that topology (as
 * POST /topologies/:uuid/<kind>/:uuid would); not stored on the object — the topology's list is the one record.
 */
export const topologyUuid = f.uuid('topo', {
  create: 'optional',
  paramOnly: true,
  doc: 'add it to this topology on create (topo-…; see /topologies/:uuid/…)',
});

/**
 * The Neutron project owning the object (`project_id`/`tenant_id`): a non-admin Neutron caller sees and changes
 * only its project's objects. null: the operator's (objects made through the OpenVNet API). Fixed at create.
 */
export const projectId = f.string(
  {
    create: 'nullable',
    nullable: true,
    filter: true,
    doc: "owning project (Neutron's project_id); null: the operator's",
  },
  64,
);

/** Free text (Neutron's description). */
export const description = f.string({ ...SET.editable, default: '', doc: 'free text' }, 1024);

export const timestamps = {
  created_at: f.time({ doc: 'when it was created (server time, ISO 8601)' }),
  updated_at: f.time({ doc: 'when it last changed (server time, ISO 8601)' }),
};

/** A DNS name in ASCII (IDNs in their xn-- form): labels of letters, digits, '-' and '_', 253 characters in all. */
export const DNS_NAME = {
  re: /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/,
  text: 'a DNS name (ASCII letters, digits, - and _; IDNs as xn--)',
};

/** A name a port can have on Linux (IFNAMSIZ): OVS binds system and internal ports to a device of that name. */
export const LINUX_IFNAME = {
  re: /^(?!\.\.?$)[^/\s:]{1,15}$/,
  text: 'a Linux interface name (1-15 characters, no "/", ":" or spaces, not "." or "..")',
};

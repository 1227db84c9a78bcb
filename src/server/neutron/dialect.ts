// Neutron v2.0's resources as its clients see them, declared once as data: each attribute's type, whether a POST
// may (or must) carry it, whether a PUT may change it, and whether only an admin may set it. Request checking
// (400 naming the attribute, Neutron's own messages), list filters and `fields=` derive from these tables; views.ts
// builds the objects from vnet's documents, resources.ts turns requests into vnet writes.
import { coerce as coerceParam } from '../../model/params.js';
import { invalid, NeutronError } from './errors.js';

export type AttrType =
  | 'string'
  | 'bool'
  | 'int'
  | 'id'
  | 'ipv4'
  | 'cidr'
  | 'mac'
  | 'list'
  | 'object'
  | 'any'
  /** An IP protocol by name or number (a JSON number or a string), as Neutron's convert_protocol. */
  | 'protocol';

export interface Attr {
  type: AttrType;
  /** POST: required / optional; absent: read-only. */
  post?: 'required' | 'optional';
  /** PUT may change it. */
  put?: true;
  /** Only an admin may set it (Neutron's default policy); 'put': anyone may give it on create, only admins change it. */
  admin?: true | 'put';
  /** Accepted values (strings). */
  values?: readonly string[];
  /** May be null in a request. */
  nullable?: true;
}

export interface NeutronResource {
  /** URL segment and list key (`security-groups` → list key `security_groups`). */
  collection: string;
  /** The single-object key (`security_group`). */
  singular: string;
  /** The Neutron exception name stem (`SecurityGroup` → SecurityGroupNotFound, SecurityGroupInUse). */
  type: string;
  attrs: Record<string, Attr>;
}

const ro: Attr = { type: 'any' };
const name: Attr = { type: 'string', post: 'optional', put: true };
const project: Attr = { type: 'string', post: 'optional', admin: true };
/** Attributes every resource has (Neutron's standard attributes). */
const standard = {
  id: ro,
  name,
  description: name,
  project_id: project,
  tenant_id: project,
  tags: ro,
  created_at: ro,
  updated_at: ro,
  revision_number: ro,
} satisfies Record<string, Attr>;

export const NEUTRON = {
  networks: {
    collection: 'networks',
    singular: 'network',
    type: 'Network',
    attrs: {
      ...standard,
      admin_state_up: { type: 'bool', post: 'optional', put: true },
      status: ro,
      subnets: ro,
      shared: { type: 'bool', post: 'optional', put: true, admin: true },
      'router:external': { type: 'bool', post: 'optional', put: true, admin: true },
      mtu: { type: 'int', post: 'optional', put: true, nullable: true },
      port_security_enabled: { type: 'bool', post: 'optional', put: true },
      'provider:network_type': {
        type: 'string',
        post: 'optional',
        admin: true,
        values: ['flat', 'vlan', 'vxlan', 'gre'],
        nullable: true,
      },
      'provider:physical_network': { type: 'string', post: 'optional', admin: true, nullable: true },
      'provider:segmentation_id': { type: 'int', post: 'optional', admin: true, nullable: true },
      availability_zones: ro,
      availability_zone_hints: { type: 'list', post: 'optional' },
      ipv4_address_scope: ro,
      ipv6_address_scope: ro,
    },
  },
  subnets: {
    collection: 'subnets',
    singular: 'subnet',
    type: 'Subnet',
    attrs: {
      ...standard,
      network_id: { type: 'id', post: 'required' },
      ip_version: { type: 'int', post: 'required', values: ['4', '6'] },
      cidr: { type: 'cidr', post: 'required' },
      gateway_ip: { type: 'ipv4', post: 'optional', put: true, nullable: true },
      allocation_pools: { type: 'list', post: 'optional' },
      enable_dhcp: { type: 'bool', post: 'optional', put: true },
      dns_nameservers: { type: 'list', post: 'optional', put: true },
      host_routes: { type: 'list', post: 'optional', put: true },
      ipv6_ra_mode: { type: 'string', post: 'optional', nullable: true },
      ipv6_address_mode: { type: 'string', post: 'optional', nullable: true },
      subnetpool_id: { type: 'string', post: 'optional', nullable: true },
      segment_id: ro,
      service_types: ro,
    },
  },
  ports: {
    collection: 'ports',
    singular: 'port',
    type: 'Port',
    attrs: {
      ...standard,
      network_id: { type: 'id', post: 'required' },
      admin_state_up: { type: 'bool', post: 'optional', put: true },
      // Neutron lets the network's owner choose a port's MAC (resources.ts checks that); changing it is admin-only.
      mac_address: { type: 'mac', post: 'optional', put: true, admin: 'put' },
      fixed_ips: { type: 'list', post: 'optional', put: true },
      device_id: { type: 'string', post: 'optional', put: true },
      device_owner: { type: 'string', post: 'optional', put: true },
      status: ro,
      security_groups: { type: 'list', post: 'optional', put: true },
      port_security_enabled: { type: 'bool', post: 'optional', put: true },
      allowed_address_pairs: { type: 'list', post: 'optional', put: true },
      extra_dhcp_opts: { type: 'list', post: 'optional', put: true },
      'binding:host_id': { type: 'string', post: 'optional', put: true, admin: true },
      'binding:vnic_type': { type: 'string', post: 'optional', put: true, values: ['normal'] },
      'binding:profile': { type: 'object', post: 'optional', put: true, admin: true },
      'binding:vif_type': ro,
      'binding:vif_details': ro,
    },
  },
  routers: {
    collection: 'routers',
    singular: 'router',
    type: 'Router',
    attrs: {
      ...standard,
      admin_state_up: { type: 'bool', post: 'optional', put: true },
      status: ro,
      external_gateway_info: { type: 'object', post: 'optional', put: true, nullable: true },
      routes: ro,
      distributed: ro,
      ha: ro,
      flavor_id: ro,
      availability_zones: ro,
      availability_zone_hints: { type: 'list', post: 'optional' },
    },
  },
  floatingips: {
    collection: 'floatingips',
    singular: 'floatingip',
    type: 'FloatingIP',
    attrs: {
      ...standard,
      name: ro,
      floating_network_id: { type: 'id', post: 'required' },
      floating_ip_address: { type: 'ipv4', post: 'optional', admin: true },
      subnet_id: { type: 'id', post: 'optional', nullable: true },
      port_id: { type: 'id', post: 'optional', put: true, nullable: true },
      fixed_ip_address: { type: 'ipv4', post: 'optional', put: true, nullable: true },
      router_id: ro,
      status: ro,
      port_details: ro,
      dns_domain: ro,
      dns_name: ro,
      port_forwardings: ro,
    },
  },
  security_groups: {
    collection: 'security-groups',
    singular: 'security_group',
    type: 'SecurityGroup',
    attrs: {
      ...standard,
      security_group_rules: ro,
      stateful: { type: 'bool', post: 'optional', put: true },
      shared: ro,
    },
  },
  security_group_rules: {
    collection: 'security-group-rules',
    singular: 'security_group_rule',
    type: 'SecurityGroupRule',
    attrs: {
      id: ro,
      description: name,
      project_id: project,
      tenant_id: project,
      security_group_id: { type: 'id', post: 'required' },
      direction: { type: 'string', post: 'required', values: ['ingress', 'egress'] },
      ethertype: { type: 'string', post: 'optional' },
      protocol: { type: 'protocol', post: 'optional', nullable: true },
      port_range_min: { type: 'int', post: 'optional', nullable: true },
      port_range_max: { type: 'int', post: 'optional', nullable: true },
      remote_ip_prefix: { type: 'cidr', post: 'optional', nullable: true },
      remote_group_id: { type: 'id', post: 'optional', nullable: true },
      remote_address_group_id: { type: 'id', post: 'optional', nullable: true },
      belongs_to_default_sg: ro,
      created_at: ro,
      updated_at: ro,
      revision_number: ro,
    },
  },
} as const satisfies Record<string, NeutronResource>;

export type NeutronKind = keyof typeof NEUTRON;
export type Body = Record<string, unknown>;

const badRequest = (message: string) => new NeutronError(400, 'HTTPBadRequest', message);

/** A request value in the attribute's type (Neutron converts "1400" and "True" as its clients send them). */
function coerce(attr: string, a: Attr, v: unknown): unknown {
  if (v === null) {
    if (a.nullable || a.type === 'any') return null;
    throw invalid(attr, "'None' is not allowed");
  }
  switch (a.type) {
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
      throw invalid(attr, `'${String(v)}' cannot be converted to boolean`);
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isInteger(n)) throw invalid(attr, `'${String(v)}' is not an integer`);
      if (a.values && !a.values.includes(String(n))) throw invalid(attr, `${n} is not in ${a.values.join(', ')}`);
      return n;
    }
    case 'protocol': {
      const text = typeof v === 'number' || typeof v === 'string' ? String(v).toLowerCase() : '';
      if (/^\d+$/.test(text) && Number(text) <= 255) return String(Number(text));
      if (/^[a-z][a-z0-9-]*$/.test(text)) return text;
      throw new NeutronError(
        400,
        'SecurityGroupRuleInvalidProtocol',
        `Security group rule protocol ${JSON.stringify(v)} not supported. Only protocol values tcp, udp, icmp and integer representations [0 to 255] are supported.`,
      );
    }
    case 'list':
      if (!Array.isArray(v)) throw invalid(attr, `'${JSON.stringify(v)}' is not a list`);
      return v;
    case 'object':
      if (typeof v !== 'object' || Array.isArray(v)) throw invalid(attr, `'${JSON.stringify(v)}' is not a dictionary`);
      return v;
    case 'any':
      return v;
    default:
      if (typeof v !== 'string') throw invalid(attr, `'${JSON.stringify(v)}' is not a valid string`);
      if (v.length > 255 && attr !== 'description') throw invalid(attr, `'${v.slice(0, 20)}…' exceeds 255 characters`);
      if (a.values && !a.values.includes(v)) throw invalid(attr, `'${v}' is not in ${a.values.join(', ')}`);
      // Addresses as vnet's own API checks them (a 400 naming the attribute; see errors.ts).
      if (a.type === 'ipv4' || a.type === 'cidr' || a.type === 'mac')
        return coerceParam({ name: attr, type: { t: a.type } }, v);
      return v;
  }
}

/**
 * The request body's object (`{"network": {...}}`), each attribute checked against the table: unknown ones,
 * read-only ones, ones a PUT may not change and admin-only ones set by a member are refused with Neutron's 400/403.
 * A member may name its own `project` as project_id/tenant_id (Neutron's populate_project_info), no other.
 */
export function requestObject(
  kind: NeutronKind,
  body: unknown,
  op: 'post' | 'put',
  admin: boolean,
  project?: string,
): Body {
  const res: NeutronResource = NEUTRON[kind];
  const obj = (body as Body | null)?.[res.singular];
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw badRequest(`Resource body required: ${JSON.stringify({ [res.singular]: {} })}`);
  const unknown = Object.keys(obj).filter((k) => !(k in res.attrs));
  if (unknown.length > 0) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const out: Body = {};
  for (const [k, v] of Object.entries(obj as Body)) {
    const a = res.attrs[k] as Attr;
    if (op === 'post' && !a.post) throw badRequest(`Attribute '${k}' not allowed in POST`);
    if (op === 'put' && !a.put) throw badRequest(`Cannot update read-only attribute ${k}`);
    const own = (k === 'project_id' || k === 'tenant_id') && project !== undefined && v === project;
    if ((a.admin === true || (a.admin === 'put' && op === 'put')) && !admin && v !== undefined && !own)
      throw new NeutronError(
        403,
        'PolicyNotAuthorized',
        `(rule:${op === 'post' ? 'create' : 'update'}_${res.singular}:${k}) is disallowed by policy`,
      );
    out[k] = coerce(k, a, v);
  }
  if (op === 'post')
    for (const [k, a] of Object.entries(res.attrs))
      if (a.post === 'required' && out[k] === undefined)
        throw badRequest(`Failed to parse request. Required attribute '${k}' not specified`);
  return out;
}

/** A list's filters: every query key that names an attribute (repeated = any of), minus paging and fields. */
export function listFilters(
  kind: NeutronKind,
  query: Record<string, string | string[] | undefined>,
): Map<string, string[]> {
  const attrs = NEUTRON[kind].attrs;
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || !(k in attrs)) continue;
    out.set(k, Array.isArray(v) ? v : [v]);
  }
  return out;
}

/** Whether an object's attribute matches one of the filter's values (as Neutron compares: "True" is true). */
export function matches(value: unknown, wanted: readonly string[]): boolean {
  if (Array.isArray(value)) return value.some((x) => matches(x, wanted));
  // A list of objects is filtered by their keys, as Neutron's `fixed_ips=ip_address=10.0.0.5` or `subnet_id=…`.
  if (typeof value === 'object' && value !== null)
    return wanted.some((w) => {
      const eq = w.indexOf('=');
      if (eq <= 0) return false;
      const key = w.slice(0, eq);
      const want = w.slice(eq + 1);
      // `ip_address_substr=…` (ip-substring-filtering): part of the address, as Neutron's LIKE '%…%'.
      if (key === 'ip_address_substr') return String((value as Body).ip_address ?? '').includes(want);
      return String((value as Body)[key] ?? '') === want;
    });
  if (typeof value === 'boolean') return wanted.some((w) => w.toLowerCase() === String(value));
  return wanted.some((w) => String(value ?? '') === w);
}

/** `fields=a&fields=b`: only those attributes (none given: all). */
export function pick(obj: Body, fields: string | string[] | undefined): Body {
  if (fields === undefined) return obj;
  const keep = Array.isArray(fields) ? fields : [fields];
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keep.includes(k)));
}

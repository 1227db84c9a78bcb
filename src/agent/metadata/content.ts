// What the metadata service answers a VM, from its interface in the agent's model: OpenStack's
// openstack/<version>/{meta_data.json,user_data,...} and EC2's <version>/{meta-data/...,user-data}, the minimal set
// cloud-init reads (Nova's metadata-service document). Pure: an interface and a path in, an HTTP answer out.
import type { Interface } from '../../model/types.js';
import { interfaceAddresses } from '../pipeline/flows-interface.js';

export interface MetadataAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** OpenStack's dated versions cloud-init may ask for; every one serves the same documents as `latest`. */
const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2018-08-27'];
/** EC2 versions: `latest`, `1.0` or any date (cloud-init probes several); all serve the same tree. */
const EC2_VERSION = /^(?:latest|1\.0|\d{4}-\d{2}-\d{2})$/;
const OPENSTACK_VERSION = /^(?:latest|\d{4}-\d{2}-\d{2})$/;

const text = (body: string, status = 200): MetadataAnswer => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body,
});
const json = (v: unknown): MetadataAnswer => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(v),
});
export const NOT_FOUND: MetadataAnswer = text('404 Not Found\n', 404);

/** An SSH public key of the interface's `public_keys`: its name is the key's comment, else key-<n>. */
export interface PublicKey {
  name: string;
  key: string;
}

export function publicKeysOf(i: Interface): PublicKey[] {
  const out: PublicKey[] = [];
  for (const line of (i.public_keys ?? '').split('\n')) {
    const key = line.trim();
    if (!key) continue;
    const comment = key.split(/\s+/).slice(2).join(' ');
    let name = comment || `key-${out.length}`;
    if (out.some((k) => k.name === name)) name = `${name}-${out.length}`;
    out.push({ name, key });
  }
  return out;
}

/** The instance id: the VM's (Neutron's device_id) when set, else the interface's uuid. */
export function instanceIdOf(i: Interface): string {
  return i.device_id ? i.device_id : i.uuid;
}

/** The host name: `hostname`, else display_name made a DNS label, else the uuid. */
export function hostnameOf(i: Interface): string {
  if (i.hostname) return i.hostname;
  const fromName = (i.display_name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return fromName || i.uuid;
}

/** The address the VM asked from (its first leased address in its network). */
function localIpv4(i: Interface, networkUuid: string | null): string | null {
  if (!networkUuid) return null;
  return interfaceAddresses(i, networkUuid)[0]?.ip ?? null;
}

/** OpenStack's meta_data.json (the fields cloud-init reads). */
export function openstackMetaData(i: Interface): Record<string, unknown> {
  const keys = publicKeysOf(i);
  return {
    uuid: instanceIdOf(i),
    name: i.display_name || hostnameOf(i),
    hostname: hostnameOf(i),
    launch_index: 0,
    availability_zone: 'nova',
    project_id: i.project_id ?? null,
    public_keys: Object.fromEntries(keys.map((k) => [k.name, k.key])),
    keys: keys.map((k) => ({ name: k.name, type: 'ssh', data: k.key })),
    meta: {},
    devices: [],
  };
}

/**
 * The answer to GET `path` (query string removed) from the VM behind interface `i`, bound in `networkUuid`.
 * Trailing slashes are as EC2's: a listing answers with and without one.
 */
export function metadataAnswer(i: Interface, networkUuid: string | null, path: string): MetadataAnswer {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return text(['latest', 'openstack'].join('\n'));
  if (parts[0] === 'openstack') return openstack(i, parts.slice(1));
  if (!EC2_VERSION.test(parts[0]!)) return NOT_FOUND;
  const rest = parts.slice(1);
  if (rest.length === 0) return text(i.user_data ? 'meta-data/\nuser-data' : 'meta-data/');
  if (rest[0] === 'user-data') return rest.length === 1 && i.user_data ? text(i.user_data) : NOT_FOUND;
  if (rest[0] !== 'meta-data') return NOT_FOUND;
  return ec2MetaData(i, networkUuid, rest.slice(1));
}

function openstack(i: Interface, parts: string[]): MetadataAnswer {
  if (parts.length === 0) return text([...OPENSTACK_VERSIONS, 'latest'].join('\n'));
  if (!OPENSTACK_VERSION.test(parts[0]!)) return NOT_FOUND;
  const file = parts.slice(1).join('/');
  switch (file) {
    case '':
      return text(
        ['meta_data.json', 'network_data.json', 'vendor_data.json', 'vendor_data2.json']
          .concat(i.user_data ? ['user_data'] : [])
          .join('\n'),
      );
    case 'meta_data.json':
      return json(openstackMetaData(i));
    case 'user_data':
      return i.user_data ? text(i.user_data) : NOT_FOUND;
    case 'network_data.json':
      // No network description: the VM configures itself by DHCP, as before.
      return json({ links: [], networks: [], services: [] });
    case 'vendor_data.json':
    case 'vendor_data2.json':
      return json({});
    default:
      return NOT_FOUND;
  }
}

function ec2MetaData(i: Interface, networkUuid: string | null, parts: string[]): MetadataAnswer {
  const ip = localIpv4(i, networkUuid);
  const keys = publicKeysOf(i);
  const leaves: Record<string, string | null> = {
    'instance-id': instanceIdOf(i),
    hostname: hostnameOf(i),
    'local-hostname': hostnameOf(i),
    'local-ipv4': ip,
  };
  if (parts.length === 0)
    return text(
      Object.keys(leaves)
        .filter((k) => leaves[k] !== null)
        .concat(keys.length > 0 ? ['public-keys/'] : [])
        .join('\n'),
    );
  const [head, ...rest] = parts as [string, ...string[]];
  if (head !== 'public-keys') {
    const v = rest.length === 0 ? leaves[head] : undefined;
    return v ? text(v) : NOT_FOUND;
  }
  if (keys.length === 0) return NOT_FOUND;
  if (rest.length === 0) return text(keys.map((k, n) => `${n}=${k.name}`).join('\n'));
  const n = /^\d+$/.test(rest[0]!) ? Number(rest[0]) : -1;
  const key = keys[n];
  if (!key) return NOT_FOUND;
  if (rest.length === 1) return text('openssh-key');
  if (rest.length === 2 && rest[1] === 'openssh-key') return text(`${key.key}\n`);
  return NOT_FOUND;
}

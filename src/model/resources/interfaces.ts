// Interfaces: VM/container ports, router and service ports, host ports; their addresses live in MAC/IP leases.
import { Type } from '../schema.js';
import { f, resource, SET } from '../resource.js';
import { DNS_NAME, description, displayName, projectId, timestamps, uuidField, LINUX_IFNAME } from './common.js';

export const INTERFACE_MODES = ['vif', 'simulated', 'host', 'internal', 'patch', 'promiscuous', 'remote'] as const;
export type InterfaceMode = (typeof INTERFACE_MODES)[number];

/** An interface's MAC lease as the interface embeds it, with that MAC's IP leases. */
export const embeddedIpLease = Type.Object({
  uuid: Type.String(),
  network_uuid: Type.String(),
  ipv4_address: Type.String(),
});
export const embeddedMacLease = Type.Object({
  uuid: Type.String(),
  mac_address: Type.String(),
  ip_leases: Type.Array(embeddedIpLease),
});

/**
 * What the metadata service (169.254.169.254) hands a VM, bounded: every change of an interface carries the
 * whole document to every agent through the feed, so these stay far below Nova's 64 KiB of user data.
 */
export const METADATA_LIMITS = { user_data: 16_384, public_keys: 8192 } as const;

/** OpenSSH public keys, one a line: `<type> <base64> [comment]` (the comment names the key in the metadata). */
const PUBLIC_KEYS = {
  re: /^(?:(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+={0,3}(?: [^\n]*)?(?:\n|$))+$/,
  text: 'OpenSSH public keys, one a line (<type> <base64 key> [name])',
};

/** Agent-reported (status) fields that only the report route sets. */
const reported = { status: true, nullable: true, immutable: true, report: 'nullable' } as const;

export const interfaces = resource({
  kind: 'interfaces',
  prefix: 'if',
  doc: 'VM/container ports, router and service ports, host ports',
  fields: {
    uuid: uuidField('if'),
    display_name: displayName,
    mode: f.enum([...INTERFACE_MODES], {
      ...SET.editable,
      default: 'vif',
      filter: true,
      doc: 'vif (default) | simulated | host | internal | patch | remote | promiscuous (a port bridging an outside L2 network into its network or segment)',
    }),
    owner_datapath_uuid: f.ref('dp', 'nullify', { ...SET.clearable, filter: true, doc: 'datapath it belongs to' }),
    port_name: f.string(
      { ...SET.clearable, filter: true, doc: 'OVS port name the agent binds it to' },
      15,
      LINUX_IFNAME,
    ),
    mac_address: f.mac({
      create: 'optional',
      update: 'nullable',
      nullable: true,
      doc: 'MAC address (first MAC lease; null removes it)',
    }),
    mac_range_group_uuid: f.uuid('mrg', {
      create: 'optional',
      paramOnly: true,
      doc: 'MAC range group (mrg-…) to allocate the MAC from',
    }),
    network_uuid: f.ref('nw', 'nullify', {
      create: 'optional',
      update: 'nullable',
      nullable: true,
      doc: 'network of the first IP lease',
    }),
    ipv4_address: f.ipv4({
      create: 'optional',
      update: 'nullable',
      nullable: true,
      doc: 'IPv4 address of the first IP lease (null removes it)',
    }),
    segment_uuid: f.ref('seg', 'restrict', { ...SET.clearable, doc: 'segment' }),
    // A VLAN sub-interface (OVN's parent_name + tag, Neutron's trunk subport): its own interface in its own network,
    // carried tagged on its parent's port. Fixed at creation: another parent or tag is another sub-interface.
    parent_interface_uuid: f.ref('if', 'restrict', {
      create: 'nullable',
      nullable: true,
      filter: true,
      doc: "makes it a VLAN sub-interface of this vif (its trunk port): no port of its own, bound wherever the parent is, its frames carried on the parent's port tagged vlan_tag (deleting the parent is refused while it has sub-interfaces)",
    }),
    vlan_tag: f.int(1, 4094, {
      create: 'nullable',
      nullable: true,
      filter: true,
      doc: "the sub-interface's 802.1Q VLAN id on its parent's port (only with parent_interface_uuid; one sub-interface per parent and tag); untagged frames stay the parent's",
    }),
    enable_routing: f.bool({
      ...SET.editable,
      default: false,
      doc: 'the interface routes (router port); a vif that routes (a router VM) may send IPv4 from any source address, anti-spoofed by its MACs only',
    }),
    enable_route_translation: f.bool({ ...SET.editable, default: false, doc: 'apply translations when routing' }),
    enable_filtering: f.bool({ ...SET.editable, default: false, doc: 'apply filters and security groups' }),
    admin_state_up: f.bool({
      ...SET.editable,
      default: true,
      doc: "false: the port carries nothing — it is not bound (no flows; reported down) until set true again (Neutron's port admin state)",
    }),
    project_id: projectId,
    description,
    device_owner: f.string(
      {
        ...SET.editable,
        default: '',
        filter: true,
        doc: "what uses it (Neutron's device_owner: compute:nova, network:dhcp, network:router_interface, ...)",
      },
      255,
    ),
    device_id: f.string(
      { ...SET.editable, default: '', filter: true, doc: "the VM or router using it (Neutron's device_id)" },
      255,
    ),
    hostname: f.string(
      { ...SET.clearable, doc: "the VM's host name its metadata gives (default: display_name, else the uuid)" },
      253,
      DNS_NAME,
    ),
    user_data: f.string(
      {
        ...SET.clearable,
        doc: `what the VM reads as user-data from 169.254.169.254 (cloud-init's #cloud-config or a script; at most ${METADATA_LIMITS.user_data} characters)`,
      },
      METADATA_LIMITS.user_data,
    ),
    public_keys: f.string(
      {
        ...SET.clearable,
        doc: "the VM's SSH public keys in its metadata: one OpenSSH key a line, the comment names it",
      },
      METADATA_LIMITS.public_keys,
      PUBLIC_KEYS,
    ),
    mac_leases: f.list(embeddedMacLease, { doc: 'its MAC leases, each with its IP leases' }),
    // OpenVNet's interface_route_links rows with static=true: kept and shown, placing nothing (its agent's
    // InterfaceRouteLinks#install is commented out); the routes of a router interface do the routing.
    static_route_link_uuids: f.list(Type.String(), {
      doc: 'route links it is statically associated with (PUT /interfaces/:uuid/route_links/:rl static=true); stored and listed, no effect on forwarding (as in OpenVNet)',
    }),
    security_group_uuids: f.list(Type.String(), {
      doc: 'security groups it belongs to (interfaces security_groups add)',
    }),
    status: f.enum(['up', 'down'], {
      status: true,
      immutable: true,
      report: 'required',
      default: 'down',
      doc: 'up while bound',
    }),
    active_datapath_uuid: f.uuid('dp', { ...reported, filter: true, doc: 'the datapath whose agent bound it' }),
    active_port_name: f.string({ ...reported, doc: 'the OVS port it is bound to (reported)' }),
    ...timestamps,
  },
  deleteNotes: [
    'refused (409) while sub-interfaces name it as their parent_interface_uuid: delete them first',
    'its MAC and IP leases, filters, translations, routes and network services go with it',
    'datapath relation rows naming it as their host interface forget it (interface_uuid becomes null)',
  ],
});
